/* POST /enclave/submit_key: shape and policy checks here, then the enclave
 * must open the envelope before anything is stored. */
#include <string.h>

#include "enclave_answer.h"
#include "enclave_client.h"
#include "handlers.h"
#include "jcs.h"
#include "json_strict.h"
#include "log.h"
#include "metrics.h"
#include "responses.h"
#include "timeutil.h"

int pa_submit_prepare(pa_job *job)
{
    const char *why = NULL;
    if (pa_envelope_parse(job->body, &job->env, &why) != 0) {
        pa_reply_error(&job->reply, 400, "invalid_envelope", "The envelope is malformed: %s.",
                       why != NULL ? why : "bad shape");
        return -1;
    }
    job->has_env = 1;
    pa_http_error err;
    if (pa_validate_submit_policy(job->env.metadata, pa_now_ms(), job->app->cfg.max_ttl_s,
                                  &job->expires_at_ms, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    /* the AAD the envelope was sealed with, and what the database keeps */
    job->metadata_jcs = pa_jcs_dumps(job->env.metadata);
    if (job->metadata_jcs == NULL) {
        pa_reply_error(&job->reply, 400, "invalid_envelope",
                       "The envelope is malformed: metadata cannot be canonicalised.");
        return -1;
    }
    return 0;
}

static void reply_replayed(pa_reply *r)
{
    pa_reply_error(r, 409, "envelope_replayed",
                   "This envelope was already submitted; seal the credentials again.");
}

/* The enclave could not open the envelope. A replay is still 409, also when
 * opening fails first (the enclave restarted, or not_after passed): only on
 * this path is "was it used?" a question of its own; on the path that stores,
 * the insert's unique constraint answers it in the same round trip. */
static void refused_or_replayed(pa_job *job)
{
    switch (pa_db_envelope_seen(job->app->db, pa_json_str(job->body, "ephemeral_pub"))) {
    case PA_DB_CONFLICT:
        pa_reply_free(&job->reply);
        reply_replayed(&job->reply);
        break;
    case PA_DB_OK:
        break; /* the enclave's refusal stands */
    default:
        pa_reply_free(&job->reply);
        pa_reply_db_unavailable(&job->reply);
        break;
    }
}

void pa_submit_run(pa_job *job)
{
    json_t *answer = NULL;

    /* the envelope exactly as sent: parse checked it has only the five keys */
    json_t *open_request = pa_ipc_request_open(job->body);
    /* an enclave-made key: checked and its sealed half sent along */
    if (open_request != NULL && pa_keygen_submit_attach(job, open_request) != 0) {
        json_decref(open_request);
        goto cleanup;
    }
    answer = pa_enclave_call_reply(job->app->cfg.enclave_socket, PA_IPC_OP_OPEN, open_request,
                                   &job->reply);
    if (answer == NULL) {
        refused_or_replayed(job);
        goto cleanup;
    }
    pa_open_answer opened;
    if (pa_answer_open(answer, &opened) != 0) {
        pa_log_error("submit_key: the enclave's open answer has the wrong shape");
        pa_reply_error(&job->reply, 500, "internal_error", "The enclave gave an unexpected answer.");
        goto cleanup;
    }

    char session_id[PA_UUID_STR_LEN];
    if (pa_uuid_v4(session_id) != 0) {
        pa_reply_error(&job->reply, 500, "internal_error", "No randomness available.");
        goto cleanup;
    }
    const json_t *meta = job->env.metadata;
    pa_db_new_session s = {
        .session_id = session_id,
        .exchange = pa_json_str(meta, "exchange"),
        .label = pa_json_str(meta, "label"),
        .expires_at_ms = job->expires_at_ms,
        .ephemeral_pub = pa_json_str(job->body, "ephemeral_pub"),
        .nonce = pa_json_str(job->body, "nonce"),
        .ciphertext = pa_json_str(job->body, "ciphertext"),
        .tag = pa_json_str(job->body, "tag"),
        .metadata_jcs = job->metadata_jcs,
        .enclave_pubkey = opened.enclave_pubkey,
        .enclave_key_id = pa_json_str(meta, "enclave_key_id"),
    };
    /* group commit: one transaction for this and the submits beside it */
    switch (pa_submit_batch_create(job->app->submits, &s)) {
    case PA_DB_OK:
        pa_metrics_session_created();
        pa_reply_ok(&job->reply, pa_body_submit(session_id, job->expires_at_ms));
        break;
    case PA_DB_CONFLICT:
        reply_replayed(&job->reply);
        break;
    case PA_DB_KEY_USED: /* claimed (or expired) since the check above */
        pa_reply_error(&job->reply, 409, "enclave_key_used",
                       "This enclave-made key already serves a session, or has expired; make a "
                       "new one.");
        break;
    case PA_DB_UNAVAILABLE:
        pa_reply_db_unavailable(&job->reply);
        break;
    default:
        pa_reply_error(&job->reply, 500, "internal_error", "The session could not be stored.");
        break;
    }

cleanup:
    json_decref(answer);
}
