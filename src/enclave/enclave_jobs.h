/* Aggregate jobs (docs/IPC.md, "Jobs"): the aggregate run on a runner thread
 * (4 run at once: enclave_jobs.c), with minutes of waiting allowed
 * (PA_IPC_JOB_MAX_WAIT_MS) instead of a synchronous run's 20 s, so an "all" scan paced inside the exchange's
 * weight budget can finish. At most PA_IPC_JOBS_MAX jobs are held (running,
 * or finished and not yet asked for); a finished job is handed over once
 * (aggregate_job) and forgotten, or dropped PA_IPC_JOB_KEEP_MS after it ended.
 * Jobs live in this process's memory only: after a restart every job id is
 * job_not_found. A job id is a capability (random UUID v4), never logged. */
#ifndef PA_ENCLAVE_JOBS_H
#define PA_ENCLAVE_JOBS_H

#include "enclave_only.h"

#include <jansson.h>
#include <stdint.h>

#include "enclave_ops.h"
#include "result.h"

/* Each takes a request that passed the op's contract shape and returns the
 * answer frame (malloc'd; NULL only when out of memory). */
char *pa_enclave_job_start(pa_enclave *e, const json_t *req);  /* aggregate_start */
char *pa_enclave_job_status(const json_t *req);                /* aggregate_job */
char *pa_enclave_job_cancel(const json_t *req);                /* aggregate_cancel */

/* At stop: cancels every running job (each stops at its next page),
 * waits up to grace_ms for them to end and joins their threads (so
 * OpenSSL's per-thread state is freed before exit). -1 when some still
 * run: the caller must then exit without tearing down what they use. */
PA_MUST_USE int pa_enclave_jobs_stop(int64_t grace_ms);

#endif
