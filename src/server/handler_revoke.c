/* POST /enclave/revoke: purge the session's credentials, results and logs. */
#include "handlers.h"
#include "metrics.h"
#include "responses.h"

int pa_revoke_prepare(pa_job *job)
{
    pa_http_error err;
    if (pa_validate_revoke(job->body, job->id, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    return 0;
}

void pa_revoke_run(pa_job *job)
{
    switch (pa_db_session_revoke(job->app->db, job->id)) {
    case PA_DB_OK:
        pa_metrics_session_revoked();
        pa_jobs_session_revoked(job->app->jobs, job->id); /* running jobs stop, store nothing */
        pa_reply_ok(&job->reply, pa_body_revoked());
        break;
    case PA_DB_NOT_FOUND:
        pa_reply_error(&job->reply, 404, "session_not_found", "No such session.");
        break;
    case PA_DB_GONE:
        pa_reply_error(&job->reply, 410, "session_revoked", "The session was already revoked.");
        break;
    case PA_DB_UNAVAILABLE:
        pa_reply_db_unavailable(&job->reply);
        break;
    default:
        pa_reply_error(&job->reply, 500, "internal_error", "The session could not be revoked.");
        break;
    }
}
