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

void pa_quote_run(pa_job *job)
{
    json_t *answer = pa_enclave_call_reply(job->app->cfg.enclave_socket, PA_IPC_OP_ATTEST,
                                           pa_ipc_request_attest(job->nonce), &job->reply);
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
    json_t *answer = pa_enclave_call_reply(job->app->cfg.enclave_socket, PA_IPC_OP_INFO,
                                           pa_ipc_request_info(), &job->reply);
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
