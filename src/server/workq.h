/* A bounded job queue served by a fixed pool of threads: where the HTTP
 * layer sends everything that may block (database, enclave), so MHD's poll
 * threads never wait. A full queue refuses new work at once (the caller
 * answers 503 server_busy) rather than queueing without bound. */
#ifndef PA_WORKQ_H
#define PA_WORKQ_H

#include <stddef.h>

#include "result.h"

typedef struct pa_workq pa_workq;
typedef void (*pa_job_fn)(void *arg);

pa_workq *pa_workq_new(int nthreads, size_t capacity);

/* Queues fn(arg). -1 when the queue is full or shutting down (fn not run). */
PA_MUST_USE int pa_workq_submit(pa_workq *q, pa_job_fn fn, void *arg);

/* Refuses new jobs, runs every job already queued, joins the threads. */
void pa_workq_drain(pa_workq *q);
/* Drains if still needed, then frees. */
void pa_workq_free(pa_workq *q);

/* Jobs queued or running right now. */
size_t pa_workq_pending(pa_workq *q);

#endif
