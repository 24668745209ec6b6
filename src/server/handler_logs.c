/* GET /api/logs/{result_id}: the audit log of one stored result. */
#include "handler_logs.h"

#include <string.h>

#include "log.h"
#include "responses.h"
#include "validate.h"

typedef struct {
    char result_id[PA_UUID_STR_LEN];
} logs_req;

int pa_logs_prepare(pa_job *job, struct MHD_Connection *conn)
{
    (void)conn;
    logs_req *req = pa_job_req_new(job, sizeof *req, NULL);
    if (req == NULL)
        return -1;
    pa_http_error err;
    if (pa_validate_result_id(job->param, req->result_id, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    return 0;
}

void pa_logs_run(pa_job *job)
{
    static const pa_db_answer answers[] = {
        {PA_DB_NOT_FOUND, 404, "result_not_found", "No such result."},
        PA_DB_ANSWERS_END,
    };
    const logs_req *req = job->req;
    pa_db_logs logs;
    memset(&logs, 0, sizeof logs);
    if (pa_reply_db(&job->reply, pa_db_logs_get(job->app->db, req->result_id, &logs), answers,
                    "The logs could not be read.") == 0) {
        char *body = pa_body_logs(req->result_id, &logs);
        if (body == NULL)
            pa_log_error("logs: stored audit entries are not well-formed");
        pa_reply_ok(&job->reply, body);
    }
    pa_db_logs_free(&logs);
}
