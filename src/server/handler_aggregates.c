/* POST /enclave/request_aggregates: session checks, the enclave's signed
 * aggregation over the stored envelope, and storage of the result. */
#include <string.h>

#include "enclave_answer.h"
#include "enclave_client.h"
#include "handlers.h"
#include "json_strict.h"
#include "log.h"
#include "responses.h"
#include "timeutil.h"

int pa_aggregates_prepare(pa_job *job)
{
    pa_http_error err;
    if (pa_validate_aggregates(job->body, pa_now_ms(), &job->agg, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    return 0;
}

static void result_limit_reply(pa_job *job)
{
    pa_reply_error(&job->reply, 429, "result_limit_reached",
                   "This session holds the most results allowed (%ld); revoke it and submit "
                   "the credentials again for more.",
                   job->app->cfg.max_results);
}

/* The session must be active, unexpired at this moment, and still hold its
 * credentials; -1 with the reply filled otherwise. */
static int check_session(pa_job *job, pa_db_session *s)
{
    switch (pa_db_session_get(job->app->db, job->agg.session_id, s)) {
    case PA_DB_OK:
        break;
    case PA_DB_NOT_FOUND:
        pa_reply_error(&job->reply, 404, "session_not_found", "No such session.");
        return -1;
    case PA_DB_UNAVAILABLE:
        pa_reply_db_unavailable(&job->reply);
        return -1;
    default:
        pa_reply_error(&job->reply, 500, "internal_error", "The session could not be read.");
        return -1;
    }
    if (strcmp(s->status, "revoked") == 0) {
        pa_reply_error(&job->reply, 410, "session_revoked", "The session was revoked.");
        return -1;
    }
    if (strcmp(s->status, "active") != 0 || s->expires_at_ms <= pa_now_ms() ||
        s->ciphertext == NULL) {
        pa_reply_error(&job->reply, 410, "session_expired", "The session has expired.");
        return -1;
    }
    if (s->ephemeral_pub == NULL || s->nonce == NULL || s->tag == NULL ||
        s->metadata_jcs == NULL || s->enclave_pubkey == NULL) {
        pa_log_error("request_aggregates: an active session lacks stored envelope fields");
        pa_reply_error(&job->reply, 500, "internal_error", "The stored session is incomplete.");
        return -1;
    }
    /* Checked here so a full session costs no enclave or exchange call;
     * result_store checks again, exactly, under the session's lock. */
    if (s->results >= job->app->cfg.max_results) {
        result_limit_reply(job);
        return -1;
    }
    return 0;
}

/* The result was refused because the session stopped being active while
 * the enclave worked: say which way, as check_session would have. A session
 * never comes back to life, so reading it again tells revoked from expired
 * (an expiry the sweeper has not recorded yet shows as an active row past
 * expires_at). */
static void gone_reply(pa_job *job)
{
    pa_db_session s;
    switch (pa_db_session_get(job->app->db, job->agg.session_id, &s)) {
    case PA_DB_OK:
        if (strcmp(s.status, "revoked") == 0)
            pa_reply_error(&job->reply, 410, "session_revoked",
                           "The session was revoked while the aggregates were computed.");
        else
            pa_reply_error(&job->reply, 410, "session_expired",
                           "The session expired while the aggregates were computed.");
        break;
    case PA_DB_NOT_FOUND:
        pa_reply_error(&job->reply, 404, "session_not_found", "No such session.");
        break;
    default:
        /* Revoked or expired, but which cannot be read now; a retry tells. */
        pa_reply_db_unavailable(&job->reply);
        break;
    }
    pa_db_session_free(&s);
}

/* The contract's aggregate request, with the envelope rebuilt from the
 * stored columns. */
static json_t *aggregate_request(const pa_job *job, const pa_db_session *s)
{
    json_t *metadata = pa_json_parse(s->metadata_jcs, strlen(s->metadata_jcs), PA_BODY_MAX);
    if (!json_is_object(metadata)) {
        json_decref(metadata);
        return NULL;
    }
    json_t *envelope =
        json_pack("{s:s, s:s, s:s, s:s, s:o}", "ephemeral_pub", s->ephemeral_pub, "nonce", s->nonce,
                  "ciphertext", s->ciphertext, "tag", s->tag, "metadata", metadata);
    char from[PA_TIME_STR_LEN], to[PA_TIME_STR_LEN];
    pa_time_format(job->agg.from_ms, from);
    pa_time_format(job->agg.to_ms, to);
    json_t *req = envelope != NULL ? pa_ipc_request_aggregate(envelope, s->enclave_pubkey, from, to,
                                                              job->agg.challenge)
                                   : NULL;
    json_decref(envelope);
    return req;
}

void pa_aggregates_run(pa_job *job)
{
    pa_db_session s;
    memset(&s, 0, sizeof s);
    json_t *req = NULL;
    json_t *answer = NULL;
    pa_aggregate_answer res;
    memset(&res, 0, sizeof res);

    if (check_session(job, &s) != 0)
        goto cleanup;
    req = aggregate_request(job, &s);
    if (req == NULL) {
        pa_log_error("request_aggregates: the stored session makes no valid enclave request");
        pa_reply_error(&job->reply, 500, "internal_error", "The stored session is unreadable.");
        goto cleanup;
    }
    if (pa_keygen_aggregate_attach(job, s.metadata_jcs, req) != 0)
        goto cleanup;
    answer =
        pa_enclave_call_reply(job->app->cfg.enclave_socket, PA_IPC_OP_AGGREGATE, req, &job->reply);
    req = NULL; /* taken by the call */
    if (answer == NULL)
        goto cleanup;
    if (pa_answer_aggregate(answer, &res) != 0) {
        pa_log_error("request_aggregates: the enclave's aggregate answer has the wrong shape");
        pa_reply_error(&job->reply, 500, "internal_error", "The enclave gave an unexpected answer.");
        goto cleanup;
    }

    pa_db_result r = {
        .result_id = res.result_id,
        .session_id = job->agg.session_id,
        .payload_jcs = res.payload_jcs,
        .signature = res.signature,
        .merkle_root = res.merkle_root,
        .attestation = res.attestation_json,
        .entries = res.entries,
        .leaf_hashes = res.leaf_hashes,
        .nentries = res.n,
        .max_results = job->app->cfg.max_results,
    };
    switch (pa_db_result_store(job->app->db, &r)) {
    case PA_DB_OK:
        pa_reply_ok(&job->reply, pa_body_aggregates(&res));
        break;
    case PA_DB_GONE:
        /* revoked or expired while the enclave was working: serve nothing */
        gone_reply(job);
        break;
    case PA_DB_LIMIT:
        result_limit_reply(job);
        break;
    case PA_DB_NOT_FOUND:
        pa_reply_error(&job->reply, 404, "session_not_found", "No such session.");
        break;
    case PA_DB_UNAVAILABLE:
        pa_reply_db_unavailable(&job->reply);
        break;
    default:
        pa_reply_error(&job->reply, 500, "internal_error", "The result could not be stored.");
        break;
    }

cleanup:
    pa_aggregate_answer_free(&res);
    json_decref(answer);
    json_decref(req);
    pa_db_session_free(&s);
}
