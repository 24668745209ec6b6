/* POST /enclave/keygen (docs/API.md, docs/PROTOCOL.md "Enclave-made API
 * keys"): the enclave makes the key, the host stores its public half and
 * its sealed private half. The key's part in submit and request_aggregates
 * is keygen_attach.c's. */
#include "handler_keygen.h"

#include <stdlib.h>
#include <string.h>

#include "enclave_answer.h"
#include "enclave_client.h"
#include "json_strict.h"
#include "keygen_db.h"
#include "log.h"
#include "timeutil.h"
#include "validate.h"

typedef struct {
    char *nonce; /* canonical base64, or NULL */
} keygen_req;

static void keygen_req_clear(void *p)
{
    free(((keygen_req *)p)->nonce);
}

int pa_keygen_prepare(pa_job *job, struct MHD_Connection *conn)
{
    (void)conn;
    static const char *const allowed[] = {"exchange", "nonce", NULL};
    keygen_req *req = pa_job_req_new(job, sizeof *req, keygen_req_clear);
    if (req == NULL)
        return -1;
    pa_http_error err;
    if (pa_validate_known_fields(job->body, allowed, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    const char *exchange = pa_json_str(job->body, "exchange");
    if (exchange == NULL || strcmp(exchange, "binance") != 0) {
        pa_reply_error(&job->reply, 400, "unsupported_exchange",
                       "exchange must be \"binance\", the only supported exchange.");
        return -1;
    }
    const json_t *nonce = json_object_get(job->body, "nonce");
    if (nonce != NULL && !json_is_null(nonce)) {
        const char *n = json_string_value(nonce);
        /* no form decoding here: a space is simply not base64 */
        if (n == NULL || strlen(n) != json_string_length(nonce) || strchr(n, ' ') != NULL) {
            pa_reply_error(&job->reply, 400, "invalid_nonce",
                           "nonce must be base64 of 1 to %d bytes.", PA_IPC_NONCE_MAX);
            return -1;
        }
        if (pa_validate_nonce(n, &req->nonce, &err) != 0) {
            pa_reply_from_error(&job->reply, &err);
            return -1;
        }
    }
    return 0;
}

void pa_keygen_run(pa_job *job)
{
    const keygen_req *req = job->req;
    const char *exchange = pa_json_str(job->body, "exchange");
    json_t *answer = pa_enclave_call_reply(job->app->cfg.enclave_socket, PA_IPC_OP_KEYGEN,
                                           pa_ipc_request_keygen(exchange, req->nonce),
                                           &job->reply);
    if (answer == NULL)
        return;
    pa_attest_answer att;
    pa_keygen_new k = {
        .key_id = pa_json_str(answer, "key_id"),
        .exchange = pa_json_str(answer, "exchange"),
        .public_key = pa_json_str(answer, "public_key"),
        .sealed_key = pa_json_str(answer, "sealed_key"),
        .expires_at_ms = pa_now_ms() + (int64_t)PA_KEYGEN_TTL_S * 1000,
    };
    /* the contract checked every field; the exchange must be the one asked */
    if (pa_answer_attest(json_object_get(answer, "attestation"), &att) != 0 ||
        k.exchange == NULL || strcmp(k.exchange, exchange) != 0) {
        pa_log_error("keygen: the enclave's keygen answer does not fit the request");
        pa_reply_error(&job->reply, 500, "internal_error", "The enclave gave an unexpected answer.");
        goto cleanup;
    }
    k.enclave_pubkey = att.enclave_pubkey;
    if (pa_reply_db(&job->reply, pa_keygen_db_insert(job->app->db, &k), NULL,
                    "The key could not be stored.") != 0)
        goto cleanup;
    char expires[PA_TIME_STR_LEN];
    pa_time_format(k.expires_at_ms, expires);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s}", "key_id", k.key_id, "exchange",
                             k.exchange, "public_key", k.public_key, "public_key_pem",
                             pa_json_str(answer, "public_key_pem"), "attestation",
                             json_object_get(answer, "attestation"), "expires_at", expires);
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL)
        pa_reply_error(&job->reply, 500, "internal_error", "Out of memory.");
    else
        pa_reply_ok(&job->reply, text);
cleanup:
    json_decref(answer);
}
