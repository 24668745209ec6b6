/* GET /attestation/quote and GET /attestation/root: forwarded to the
 * enclave, which alone holds the attestation platform. */
#include "handler_attest.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "enclave_answer.h"
#include "enclave_client.h"
#include "log.h"
#include "responses.h"
#include "validate.h"

typedef struct {
    char *nonce; /* canonical base64, or NULL */
} quote_req;

static void quote_req_clear(void *p)
{
    free(((quote_req *)p)->nonce);
}

/* Collects ?nonce=, refusing other or repeated keys. */
typedef struct {
    const char *nonce;
    int count;
    int unknown;
} query_scan;

static enum MHD_Result scan_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    query_scan *q = cls;
    if (key != NULL && strcmp(key, "nonce") == 0) {
        /* "?nonce" without "=" comes with a NULL value: it is an empty nonce
         * (refused like "?nonce="), not an absent one */
        q->nonce = value != NULL ? value : "";
        q->count++;
    } else {
        q->unknown = 1;
    }
    return MHD_YES;
}

int pa_quote_prepare(pa_job *job, struct MHD_Connection *conn)
{
    query_scan q = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, scan_query, &q);
    if (q.unknown) {
        pa_reply_error(&job->reply, 400, "invalid_request", "The only query parameter is nonce.");
        return -1;
    }
    if (q.count > 1) {
        pa_reply_error(&job->reply, 400, "invalid_nonce", "nonce may be given once.");
        return -1;
    }
    if (q.nonce == NULL) {
        /* No nonce: the prober's document, from memory (quote_cache.h). */
        char *cached = pa_quote_cache_get(job->app->quotes, PA_QUOTE_CACHE_MAX_AGE_MS);
        if (cached != NULL) {
            pa_reply_json(&job->reply, 200, cached);
            return -1;
        }
    }
    quote_req *req = pa_job_req_new(job, sizeof *req, quote_req_clear);
    if (req == NULL)
        return -1;
    pa_http_error err;
    if (pa_validate_nonce(q.nonce, &req->nonce, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    return 0;
}

void pa_quote_run(pa_job *job)
{
    const quote_req *req = job->req;
    json_t *answer = pa_enclave_call_reply(job->app->cfg.enclave_socket, PA_IPC_OP_ATTEST,
                                           pa_ipc_request_attest(req->nonce), &job->reply);
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

int pa_root_prepare(pa_job *job, struct MHD_Connection *conn)
{
    (void)job;
    (void)conn;
    return 0; /* nothing to check: no body, no parameter, the query ignored */
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
