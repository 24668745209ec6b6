/* A bounded job queue served by a fixed pool of threads: where the HTTP
 * layer sends everything that may block (database, enclave), so MHD's poll
 * threads never wait. A full queue refuses new work at once (the caller
 * answers 503 server_busy) rather than queueing without bound. */
#ifndef PA_WORKQ_H
#define PA_WORKQ_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

typedef struct pa_workq pa_workq;
typedef void (*pa_job_fn)(void *arg);

pa_workq *pa_workq_new(int nthreads, size_t capacity);

/* Queues fn(arg). -1 when the queue is full or shutting down (fn not run). */
PA_MUST_USE int pa_workq_submit(pa_workq *q, pa_job_fn fn, void *arg);

/* Refuses new jobs, runs every job already queued, joins the threads. */
void pa_workq_drain(pa_workq *q);

/* A stop that cannot be held up by a queue of slow jobs: refuses new jobs,
 * takes every queued job that has not started off the queue and calls
 * cancel(arg) for it instead (on the calling thread, once per job, so its
 * owner can answer at once), then waits up to timeout_ms for the jobs
 * already running. 0 when they all finished (the threads are joined); -1
 * when some still run at the deadline: they are left running, and
 * pa_workq_free would wait for them (a process that cannot wait exits). */
PA_MUST_USE int pa_workq_shutdown(pa_workq *q, pa_job_fn cancel, int64_t timeout_ms);

/* Drains if still needed (waiting for running jobs), then frees. */
void pa_workq_free(pa_workq *q);

/* Jobs queued or running right now. */
size_t pa_workq_pending(pa_workq *q);

#endif
