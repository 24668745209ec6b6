/* POST /enclave/revoke: purge the session's credentials, results and logs. */
#include "handler_revoke.h"

#include "metrics.h"
#include "responses.h"
#include "validate.h"

typedef struct {
    char session_id[PA_UUID_STR_LEN];
} revoke_req;

int pa_revoke_prepare(pa_job *job, struct MHD_Connection *conn)
{
    (void)conn;
    revoke_req *req = pa_job_req_new(job, sizeof *req, NULL);
    if (req == NULL)
        return -1;
    pa_http_error err;
    if (pa_validate_revoke(job->body, req->session_id, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    return 0;
}

void pa_revoke_run(pa_job *job)
{
    static const pa_db_answer answers[] = {
        PA_DB_ANSWER_SESSION_NOT_FOUND,
        {PA_DB_GONE, 410, "session_revoked", "The session was already revoked."},
        PA_DB_ANSWERS_END,
    };
    const revoke_req *req = job->req;
    if (pa_reply_db(&job->reply, pa_db_session_revoke(job->app->db, req->session_id), answers,
                    "The session could not be revoked.") != 0)
        return;
    pa_metrics_session_revoked();
    pa_jobs_session_revoked(job->app->jobs, req->session_id); /* running jobs stop, store nothing */
    pa_reply_ok(&job->reply, pa_body_revoked());
}
