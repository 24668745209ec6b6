/* POST /enclave/request_aggregates and POST /enclave/aggregate_jobs:
 * session checks, the enclave's signed aggregation over the stored envelope
 * as a job (jobs.h), and storage of the result. */
#include "handler_aggregates.h"

#include <string.h>

#include <openssl/crypto.h>

#include "aggregate_store.h"
#include "enclave_client.h"
#include "jobs.h"
#include "json_strict.h"
#include "keygen_attach.h"
#include "log.h"
#include "timeutil.h"
#include "validate.h"

int pa_aggregates_prepare(pa_job *job, struct MHD_Connection *conn)
{
    (void)conn;
    pa_aggregates_request *agg = pa_job_req_new(job, sizeof *agg, NULL);
    if (agg == NULL)
        return -1;
    pa_http_error err;
    if (pa_validate_aggregates(job->body, pa_now_ms(), agg, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    return 0;
}

/* The session must be active, unexpired at this moment, and still hold its
 * credentials; -1 with the reply filled otherwise. */
static int check_session(pa_job *job, const pa_aggregates_request *agg, pa_db_session *s)
{
    static const pa_db_answer answers[] = {PA_DB_ANSWER_SESSION_NOT_FOUND, PA_DB_ANSWERS_END};
    if (pa_reply_db(&job->reply, pa_db_session_get(job->app->db, agg->session_id, s), answers,
                    "The session could not be read.") != 0)
        return -1;
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
        pa_aggregate_limit_reply(&job->reply, job->app->cfg.max_results);
        return -1;
    }
    return 0;
}

/* The contract's aggregate request, with the envelope rebuilt from the
 * stored columns. */
static json_t *aggregate_request(const pa_aggregates_request *agg, const pa_db_session *s)
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
    pa_time_format(agg->from_ms, from);
    pa_time_format(agg->to_ms, to);
    json_t *req = envelope != NULL ? pa_ipc_request_aggregate_start(envelope, s->enclave_pubkey,
                                                                    from, to, agg->challenge)
                                   : NULL;
    json_decref(envelope);
    return req;
}

/* Checks the session and queues the run as a job (jobs.h); 0 with job_id. */
static int start_job(pa_job *job, char job_id[PA_UUID_STR_LEN])
{
    const pa_aggregates_request *agg = job->req;
    pa_db_session s;
    memset(&s, 0, sizeof s);
    int rc = -1;
    if (check_session(job, agg, &s) != 0)
        goto cleanup;
    json_t *req = aggregate_request(agg, &s);
    if (req == NULL) {
        pa_log_error("request_aggregates: the stored session makes no valid enclave request");
        pa_reply_error(&job->reply, 500, "internal_error", "The stored session is unreadable.");
        goto cleanup;
    }
    /* an enclave-made key: its sealed half goes along */
    if (pa_keygen_aggregate_attach(job->app->db, agg->session_id, s.metadata_jcs, req,
                                   &job->reply) != 0) {
        json_decref(req);
        goto cleanup;
    }
    rc = pa_jobs_submit(job->app->jobs, agg->session_id, req, job_id, &job->reply);
cleanup:
    pa_db_session_free(&s);
    return rc;
}

static int client_gone(const void *job)
{
    return pa_job_client_gone(job);
}

/* POST /enclave/request_aggregates: the job's outcome when it finishes
 * within PERFAGG_AGGREGATE_SYNC_TIMEOUT_MS, else 202 with the job to poll
 * (the run goes on: docs/API.md, "Aggregate jobs"). A client that leaves
 * before either never learns the job's id: nobody could ever read its
 * result, so the job is cancelled (jobs.h). */
void pa_aggregates_run(pa_job *job)
{
    char job_id[PA_UUID_STR_LEN];
    if (start_job(job, job_id) != 0)
        return;
    if (pa_jobs_wait(job->app->jobs, job_id, job->app->cfg.aggregate_sync_timeout_ms,
                     client_gone, job, &job->reply) < 0)
        job->abandoned = 1;
    OPENSSL_cleanse(job_id, sizeof job_id);
}

/* POST /enclave/aggregate_jobs: 202 with the job at once; the job goes on
 * whether its client stays or not. */
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
