/* POST /enclave/request_aggregates and POST /enclave/aggregate_jobs
 * (handler_aggregates.c): the same request, run as an aggregate job
 * (jobs.h). */
#ifndef PA_HANDLER_AGGREGATES_H
#define PA_HANDLER_AGGREGATES_H

#include "handlers.h"

PA_MUST_USE int pa_aggregates_prepare(pa_job *job, struct MHD_Connection *conn);
/* Waits for the job up to PERFAGG_AGGREGATE_SYNC_TIMEOUT_MS; a client that
 * leaves meanwhile never learns the job's id, so the job is cancelled. */
void pa_aggregates_run(pa_job *job);
/* 202 with the job at once: the job outlives the request. */
void pa_aggregate_jobs_run(pa_job *job);

#endif
