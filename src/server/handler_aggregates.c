/* POST /enclave/request_aggregates and POST /enclave/aggregate_jobs:
 * session checks, the enclave's signed aggregation over the stored envelope
 * as a job (jobs.h), and storage of the result. */
#include <string.h>

#include <openssl/crypto.h>

#include "enclave_answer.h"
#include "enclave_client.h"
#include "handlers.h"
#include "jobs.h"
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

static void result_limit_reply(pa_reply *reply, long max_results)
{
    pa_reply_error(reply, 429, "result_limit_reached",
                   "This session holds the most results allowed (%ld); revoke it and submit "
                   "the credentials again for more.",
                   max_results);
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
        result_limit_reply(&job->reply, job->app->cfg.max_results);
        return -1;
    }
    return 0;
}

/* The result was refused because the session stopped being active while
 * the enclave worked: say which way, as check_session would have. A session
 * never comes back to life, so reading it again tells revoked from expired
 * (an expiry the sweeper has not recorded yet shows as an active row past
 * expires_at). */
static void gone_reply(pa_db *db, const char *session_id, pa_reply *reply)
{
    pa_db_session s;
    switch (pa_db_session_get(db, session_id, &s)) {
    case PA_DB_OK:
        if (strcmp(s.status, "revoked") == 0)
            pa_reply_error(reply, 410, "session_revoked",
                           "The session was revoked while the aggregates were computed.");
        else
            pa_reply_error(reply, 410, "session_expired",
                           "The session expired while the aggregates were computed.");
        break;
    case PA_DB_NOT_FOUND:
        pa_reply_error(reply, 404, "session_not_found", "No such session.");
        break;
    default:
        /* Revoked or expired, but which cannot be read now; a retry tells. */
        pa_reply_db_unavailable(reply);
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
    json_t *req = envelope != NULL ? pa_ipc_request_aggregate_start(envelope, s->enclave_pubkey,
                                                                    from, to, job->agg.challenge)
                                   : NULL;
    json_decref(envelope);
    return req;
}

void pa_aggregates_store(pa_db *db, long max_results, const char *session_id,
                         const json_t *result, pa_reply *reply)
{
    pa_aggregate_answer res;
    memset(&res, 0, sizeof res);
    if (pa_answer_aggregate(result, &res) != 0) {
        pa_log_error("request_aggregates: the enclave's aggregate answer has the wrong shape");
        pa_reply_error(reply, 500, "internal_error", "The enclave gave an unexpected answer.");
        goto cleanup;
    }
    pa_db_result r = {
        .result_id = res.result_id,
        .session_id = session_id,
        .payload_jcs = res.payload_jcs,
        .signature = res.signature,
        .merkle_root = res.merkle_root,
        .attestation = res.attestation_json,
        .entries = res.entries,
        .leaf_hashes = res.leaf_hashes,
        .nentries = res.n,
        .max_results = max_results,
    };
    switch (pa_db_result_store(db, &r)) {
    case PA_DB_OK:
        pa_reply_ok(reply, pa_body_aggregates(&res));
        break;
    case PA_DB_GONE:
        /* revoked or expired while the enclave was working: serve nothing */
        gone_reply(db, session_id, reply);
        break;
    case PA_DB_LIMIT:
        result_limit_reply(reply, max_results);
        break;
    case PA_DB_NOT_FOUND:
        pa_reply_error(reply, 404, "session_not_found", "No such session.");
        break;
    case PA_DB_UNAVAILABLE:
        pa_reply_db_unavailable(reply);
        break;
    default:
        pa_reply_error(reply, 500, "internal_error", "The result could not be stored.");
        break;
    }
cleanup:
    pa_aggregate_answer_free(&res);
}

/* Checks the session and queues the run as a job (jobs.h); 0 with job_id. */
static int start_job(pa_job *job, char job_id[PA_UUID_STR_LEN])
{
    pa_db_session s;
    memset(&s, 0, sizeof s);
    int rc = -1;
    if (check_session(job, &s) != 0)
        goto cleanup;
    json_t *req = aggregate_request(job, &s);
    if (req == NULL) {
        pa_log_error("request_aggregates: the stored session makes no valid enclave request");
        pa_reply_error(&job->reply, 500, "internal_error", "The stored session is unreadable.");
        goto cleanup;
    }
    /* an enclave-made key: its sealed half goes along (handler_keygen.c) */
    if (pa_keygen_aggregate_attach(job, s.metadata_jcs, req) != 0) {
        json_decref(req);
        goto cleanup;
    }
    rc = pa_jobs_submit(job->app->jobs, job->agg.session_id, req, job_id, &job->reply);
cleanup:
    pa_db_session_free(&s);
    return rc;
}

/* POST /enclave/request_aggregates: the job's outcome when it finishes
 * within PERFAGG_AGGREGATE_SYNC_TIMEOUT_MS, else 202 with the job to poll
 * (the run goes on: docs/API.md, "Aggregate jobs"). */
void pa_aggregates_run(pa_job *job)
{
    char job_id[PA_UUID_STR_LEN];
    if (start_job(job, job_id) != 0)
        return;
    (void)pa_jobs_wait(job->app->jobs, job_id, job->app->cfg.aggregate_sync_timeout_ms,
                       &job->reply);
    OPENSSL_cleanse(job_id, sizeof job_id);
}

/* POST /enclave/aggregate_jobs: 202 with the job at once. */
void pa_aggregate_jobs_run(pa_job *job)
{
    char job_id[PA_UUID_STR_LEN];
    if (start_job(job, job_id) != 0)
        return;
    pa_jobs_status(job->app->jobs, job_id, &job->reply);
    if (job->reply.status == 200)
        job->reply.status = 202;
    OPENSSL_cleanse(job_id, sizeof job_id);
}
