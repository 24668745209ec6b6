/* GET /enclave/aggregate_jobs/{job_id}: a job's state (jobs.h). */
#include "handler_jobs.h"

#include "jobs.h"
#include "uuid.h"

int pa_job_status_prepare(pa_job *job, struct MHD_Connection *conn)
{
    (void)conn;
    /* the raw segment: anything but a canonical UUID v4 is refused as such */
    if (!pa_uuid_valid(job->param)) {
        pa_reply_error(&job->reply, 400, "invalid_job_id", "job_id must be a UUID v4.");
        return -1;
    }
    pa_jobs_status(job->app->jobs, job->param, &job->reply);
    return -1;
}
