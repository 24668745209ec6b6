/* Aggregate jobs on the host (docs/API.md, "Aggregate jobs"): every
 * aggregate run is one, so a run that outlasts POST
 * /enclave/request_aggregates' wait goes on and is polled at
 * GET /enclave/aggregate_jobs/{job_id} instead of being thrown away.
 *
 * A job runs on a pool of its own (PA_JOBS_THREADS threads, apart from the
 * request workers, so jobs never hold the workers other routes need): it
 * starts the enclave's job (aggregate_start), polls it (aggregate_job) for
 * progress, and stores the signed result exactly as the synchronous route
 * did. The job table is in this process's memory: a job id is a capability
 * (random UUID v4, never logged), a finished job answers for
 * PA_JOBS_KEEP_MS, and a server restart forgets every job (the enclave's
 * run, which the server supervises, ends with it). */
#ifndef PA_SERVER_JOBS_H
#define PA_SERVER_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "reply.h"
#include "result.h"

#define PA_JOBS_THREADS 16 /* jobs running at once (PA_IPC_JOBS_MAX: as many as the enclave holds) */
#define PA_JOBS_MAX 256            /* jobs held: queued, running or finished */
#define PA_JOBS_KEEP_MS (60LL * 60 * 1000) /* a finished job answers this long */
#define PA_JOBS_POLL_MS 250        /* the enclave is asked for progress at least this often */
#define PA_JOBS_POLL_FIRST_MS 10   /* and at most this often (jobs.c, follow) */
#define PA_JOBS_RETRY_AFTER_S 2    /* Retry-After of a 202: when to poll again */

typedef struct pa_jobs pa_jobs;

typedef struct {
    const char *enclave_socket;
    pa_db *db;
    long max_results; /* MAX_RESULTS_PER_SESSION, checked again when storing */
} pa_jobs_config;

pa_jobs *pa_jobs_new(const pa_jobs_config *cfg);
/* The first step of a stop, without waiting: no new job, and every job
 * fails with server_stopping as soon as its runner looks (a queued one when
 * a runner takes it, a running one at its next poll, cancelled in the
 * enclave), so requests waiting on jobs get their answers. */
void pa_jobs_stopping(pa_jobs *j);
/* pa_jobs_stopping, then waits for the runners: 0 when every one ended by
 * timeout_ms. */
PA_MUST_USE int pa_jobs_stop(pa_jobs *j, int64_t timeout_ms);
void pa_jobs_free(pa_jobs *j);

/* Queues a job for session_id running enclave_req (an aggregate_start
 * request; taken, also on failure). 0 with job_id set; -1 with reply
 * filled (503 too_many_jobs or server_busy). */
PA_MUST_USE int pa_jobs_submit(pa_jobs *j, const char *session_id, json_t *enclave_req,
                               char job_id[37], pa_reply *reply);

/* Asked by pa_jobs_wait whether whoever waits has left (1) or not (0). */
typedef int (*pa_jobs_gone_fn)(const void *ctx);

/* Waits up to timeout_ms for the job to finish: then 1 with reply the
 * job's outcome exactly as request_aggregates answers it (200 with the
 * result, or the error); else 0 with reply the 202 job body. gone (may be
 * NULL) is asked every PA_JOBS_POLL_MS meanwhile; once it says the waiter
 * left, the job is abandoned (a queued one never starts, a running one is
 * cancelled in the enclave at its next poll, nothing is stored) and the
 * wait returns -1 with reply untouched. Only for a job whose id nobody was
 * told yet. */
int pa_jobs_wait(pa_jobs *j, const char *job_id, int64_t timeout_ms, pa_jobs_gone_fn gone,
                 const void *ctx, pa_reply *reply);

/* GET /enclave/aggregate_jobs/{job_id}: 200 with the job's state, 404 job_not_found. */
void pa_jobs_status(pa_jobs *j, const char *job_id, pa_reply *reply);

/* The session was revoked: its jobs stop (cancelled in the enclave) and
 * fail with session_revoked, and a finished job's result is forgotten. */
void pa_jobs_session_revoked(pa_jobs *j, const char *session_id);

#endif
