/* The cached answer of GET /health. Background threads probe each
 * dependency (the database, the enclave) every interval_ms and publish the
 * outcome through atomics, so the route is answered on the HTTP poll thread
 * without a worker, a database connection or an enclave call: a flood of
 * /health costs the dependencies nothing and cannot crowd out real work.
 *
 * A dependency counts as up when its last probe succeeded and finished at
 * most stale_ms ago; a probe that hangs therefore turns its dependency
 * "down" after stale_ms even before the probe gives up. */
#ifndef PA_HEALTH_H
#define PA_HEALTH_H

#include <stdint.h>

#include "result.h"

#define PA_HEALTH_INTERVAL_MS 1000
#define PA_HEALTH_STALE_MS 5000

typedef enum { PA_HEALTH_DATABASE, PA_HEALTH_ENCLAVE, PA_HEALTH_PARTS } pa_health_part;

/* One probe: 1 when the dependency answered, 0 otherwise. Runs on the
 * prober's own thread and should bound its own wait. */
typedef int (*pa_health_probe)(void *ud);

typedef struct {
    pa_health_probe probe[PA_HEALTH_PARTS];
    void *ud;
    int interval_ms; /* pause between the end of a probe and the next */
    int stale_ms;
} pa_health_config;

typedef struct pa_health pa_health;

/* Starts one thread per part and waits up to first_wait_ms for every part's
 * first probe, so the first answers already reflect the dependencies (a part
 * not probed yet is down). NULL on failure. */
pa_health *pa_health_start(const pa_health_config *cfg, int first_wait_ms);

/* The current status; lock-free, callable from any thread. */
void pa_health_get(pa_health *h, int *database_ok, int *enclave_ok);

/* Stops the probers. 0 when they ended within timeout_ms (everything is
 * freed); -1 when a probe is still running at the deadline (nothing is
 * freed: the process is expected to exit, or to call this again later).
 * h may be NULL. */
PA_MUST_USE int pa_health_stop(pa_health *h, int64_t timeout_ms);

#endif
