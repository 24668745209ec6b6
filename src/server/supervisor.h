/* The enclave's supervisor (PERFAGG_ENCLAVE_EXEC): the server starts the
 * enclave program as its child, and when it exits for any reason starts it
 * again after a bounded, growing back-off (0.1 s doubling to 5 s, back to
 * 0.1 s after a run of 30 s). Requests in between get 503
 * enclave_unavailable at once (the socket refuses connections), and the
 * server recovers without a restart. The restarted enclave has new keys:
 * sessions sealed before answer 410 enclave_key_lost (docs/API.md). */
#ifndef PA_SUPERVISOR_H
#define PA_SUPERVISOR_H

#include <stdint.h>

#include "result.h"

typedef struct pa_supervisor pa_supervisor;

#define PA_SUPERVISOR_BACKOFF_MIN_MS 100
#define PA_SUPERVISOR_BACKOFF_MAX_MS 5000
#define PA_SUPERVISOR_HEALTHY_RUN_MS 30000

/* Starts `path` (no arguments; it inherits the environment, so secrets are
 * never on a command line) and keeps it running. NULL on failure. */
pa_supervisor *pa_supervisor_start(const char *path);

/* SIGTERM to the enclave, SIGKILL if it is still there after timeout_ms,
 * then frees. NULL is fine. */
void pa_supervisor_stop(pa_supervisor *s, int64_t timeout_ms);

/* The next back-off after a run of ran_ms that followed a back-off of prev_ms. */
int64_t pa_supervisor_backoff(int64_t prev_ms, int64_t ran_ms);

#endif
