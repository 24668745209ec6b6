/* GET /attestation/quote and GET /attestation/root: forwarded to the
 * enclave, which alone holds the attestation platform. */
#include <stdlib.h>
#include <string.h>

#include "enclave_answer.h"
#include "enclave_client.h"
#include "handlers.h"
#include "log.h"
#include "responses.h"

int pa_quote_prepare(pa_job *job)
{
    pa_http_error err;
    if (pa_validate_nonce(job->query_nonce, &job->nonce, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    return 0;
}

/* One enclave call with the usual error mapping; NULL with the reply filled
 * on failure. */
static json_t *call(pa_job *job, pa_enclave_op op, json_t *req)
{
    json_t *answer = NULL;
    char code[PA_ENCLAVE_CODE_MAX];
    pa_http_error err;
    if (req == NULL) {
        pa_reply_error(&job->reply, 500, "internal_error", "Out of memory.");
        return NULL;
    }
    pa_enclave_status st = pa_enclave_call(job->app->cfg.enclave_socket, op, req, &answer, code);
    json_decref(req);
    if (st == PA_ENCLAVE_OK)
        return answer;
    if (st == PA_ENCLAVE_REFUSED)
        pa_enclave_error(code, &err);
    else
        pa_enclave_unavailable(&err);
    pa_reply_from_error(&job->reply, &err);
    return NULL;
}

void pa_quote_run(pa_job *job)
{
    json_t *answer = call(job, PA_OP_ATTEST, json_pack("{s:s, s:s?}", "op", "attest", "nonce",
                                                       job->nonce));
    if (answer == NULL)
        return;
    pa_attest_answer a;
    if (pa_answer_attest(answer, &a) != 0) {
        pa_log_error("quote: the enclave's attest answer has the wrong shape");
        pa_reply_error(&job->reply, 500, "internal_error", "The enclave gave an unexpected answer.");
    } else {
        pa_reply_ok(&job->reply, pa_body_quote(&a));
    }
    json_decref(answer);
}

void pa_root_run(pa_job *job)
{
    json_t *answer = call(job, PA_OP_INFO, json_pack("{s:s}", "op", "info"));
    if (answer == NULL)
        return;
    pa_info_answer info;
    if (pa_answer_info(answer, &info) != 0) {
        pa_log_error("root: the enclave's info answer has the wrong shape");
        pa_reply_error(&job->reply, 500, "internal_error", "The enclave gave an unexpected answer.");
    } else if (info.dev_root_pem == NULL) {
        pa_reply_error(&job->reply, 404, "not_available",
                       "No development root: this enclave runs in production mode; verify "
                       "against the AWS Nitro root.");
    } else {
        char *pem = strdup(info.dev_root_pem);
        if (pem == NULL)
            pa_reply_error(&job->reply, 500, "internal_error", "Out of memory.");
        else
            pa_reply_body(&job->reply, 200, "application/x-pem-file", pem);
    }
    json_decref(answer);
}
