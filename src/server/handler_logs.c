/* GET /api/logs/{result_id}: the audit log of one stored result. */
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "responses.h"

int pa_logs_prepare(pa_job *job)
{
    pa_http_error err;
    if (pa_validate_result_id(job->param, job->id, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    return 0;
}

void pa_logs_run(pa_job *job)
{
    pa_db_logs logs;
    memset(&logs, 0, sizeof logs);
    switch (pa_db_logs_get(job->app->db, job->id, &logs)) {
    case PA_DB_OK: {
        char *body = pa_body_logs(job->id, &logs);
        if (body == NULL)
            pa_log_error("logs: stored audit entries are not well-formed");
        pa_reply_ok(&job->reply, body);
        break;
    }
    case PA_DB_NOT_FOUND:
        pa_reply_error(&job->reply, 404, "result_not_found", "No such result.");
        break;
    case PA_DB_UNAVAILABLE:
        pa_reply_db_unavailable(&job->reply);
        break;
    default:
        pa_reply_error(&job->reply, 500, "internal_error", "The logs could not be read.");
        break;
    }
    pa_db_logs_free(&logs);
}
