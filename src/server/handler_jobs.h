/* GET /enclave/aggregate_jobs/{job_id} (handler_jobs.c); the POST that
 * starts a job is request_aggregates' sibling (handler_aggregates.h). */
#ifndef PA_HANDLER_JOBS_H
#define PA_HANDLER_JOBS_H

#include "handlers.h"

/* Answered by prepare itself, from memory on the poll thread: always -1
 * with the reply. */
PA_MUST_USE int pa_job_status_prepare(pa_job *job, struct MHD_Connection *conn);

#endif
