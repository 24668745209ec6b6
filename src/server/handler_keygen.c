/* POST /enclave/keygen, and the enclave-made key's part in submit and
 * request_aggregates (docs/API.md, docs/PROTOCOL.md "Enclave-made API
 * keys"). The host only ever holds the key's public half and its sealed
 * private half; it picks which sealed key goes with a request, and the
 * enclave checks it against the envelope's authenticated metadata. */
#include <string.h>

#include "enclave_answer.h"
#include "enclave_client.h"
#include "handlers.h"
#include "json_strict.h"
#include "keygen_db.h"
#include "log.h"
#include "timeutil.h"

int pa_keygen_prepare(pa_job *job)
{
    static const char *const allowed[] = {"exchange", "nonce", NULL};
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
        if (pa_validate_nonce(n, &job->nonce, &err) != 0) {
            pa_reply_from_error(&job->reply, &err);
            return -1;
        }
    }
    return 0;
}

void pa_keygen_run(pa_job *job)
{
    const char *exchange = pa_json_str(job->body, "exchange");
    json_t *answer = pa_enclave_call_reply(job->app->cfg.enclave_socket, PA_IPC_OP_KEYGEN,
                                           pa_ipc_request_keygen(exchange, job->nonce),
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
    switch (pa_keygen_db_insert(job->app->db, &k)) {
    case PA_DB_OK:
        break;
    case PA_DB_UNAVAILABLE:
        pa_reply_db_unavailable(&job->reply);
        goto cleanup;
    default:
        pa_reply_error(&job->reply, 500, "internal_error", "The key could not be stored.");
        goto cleanup;
    }
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

/* The key's row; -1 with the reply filled when the key cannot serve. */
static int key_row(pa_job *job, const char *key_id, pa_keygen_row *row)
{
    switch (pa_keygen_db_get(job->app->db, key_id, row)) {
    case PA_DB_OK:
        break;
    case PA_DB_NOT_FOUND:
        pa_reply_error(&job->reply, 404, "enclave_key_not_found",
                       "No enclave-made key has this key_id (never made, expired and removed, "
                       "or deleted with its revoked session).");
        return -1;
    case PA_DB_UNAVAILABLE:
        pa_reply_db_unavailable(&job->reply);
        return -1;
    default:
        pa_reply_error(&job->reply, 500, "internal_error", "The key could not be read.");
        return -1;
    }
    if (row->expired) {
        pa_reply_error(&job->reply, 410, "enclave_key_expired",
                       "This enclave-made key has expired; make a new one with POST "
                       "/enclave/keygen.");
        return -1;
    }
    return 0;
}

int pa_keygen_submit_attach(pa_job *job, json_t *open_request)
{
    const char *key_id = pa_json_str(job->env.metadata, "enclave_key_id");
    if (key_id == NULL)
        return 0;
    pa_keygen_row row;
    if (key_row(job, key_id, &row) != 0)
        return -1;
    if (row.session_id[0] != '\0') {
        pa_reply_error(&job->reply, 409, "enclave_key_used",
                       "This enclave-made key already serves a session; a key serves one "
                       "session only: make a new one.");
        return -1;
    }
    if (strcmp(row.exchange, pa_json_str(job->env.metadata, "exchange")) != 0) {
        pa_reply_error(&job->reply, 400, "enclave_key_mismatch",
                       "This enclave-made key was made for another exchange.");
        return -1;
    }
    if (pa_ipc_request_set_sealed_key(open_request, PA_IPC_OP_OPEN, row.sealed_key) != 0) {
        pa_reply_error(&job->reply, 500, "internal_error", "The stored key is unreadable.");
        return -1;
    }
    return 0;
}

int pa_keygen_aggregate_attach(pa_job *job, const char *metadata_jcs, json_t *request)
{
    json_t *metadata = pa_json_parse(metadata_jcs, strlen(metadata_jcs), PA_BODY_MAX);
    const char *key_id = pa_json_str(metadata, "enclave_key_id");
    int rc = key_id == NULL ? 0 : -1;
    pa_keygen_row row;
    if (key_id == NULL || key_row(job, key_id, &row) != 0) {
        /* no enclave-made key (rc 0), or the reply says why it cannot serve */
    } else if (strcmp(row.session_id, job->agg.session_id) != 0) {
        /* the key is claimed at submit in the session's own transaction */
        pa_log_error("request_aggregates: the session's enclave-made key is not bound to it");
        pa_reply_error(&job->reply, 500, "internal_error", "The stored session is inconsistent.");
    } else if (pa_ipc_request_set_sealed_key(request, PA_IPC_OP_AGGREGATE, row.sealed_key) != 0) {
        pa_reply_error(&job->reply, 500, "internal_error", "The stored key is unreadable.");
    } else {
        rc = 0;
    }
    json_decref(metadata);
    return rc;
}
