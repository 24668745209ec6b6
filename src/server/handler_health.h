/* GET /health, answered from the prober's cache (health.h) on the HTTP poll
 * thread: no worker, no database connection, no enclave call per request. */
#ifndef PA_HANDLER_HEALTH_H
#define PA_HANDLER_HEALTH_H

#include "app.h"
#include "handlers.h"
#include "health.h"
#include "reply.h"

/* Probes for pa_health_config, with a pa_app as ud: a database ping (its wait
 * bounded by the pool's timeouts, db.h) and the enclave's `info` (bounded by
 * PA_ENCLAVE_TIMEOUT_MS). 1 when the dependency answered. */
int pa_health_probe_database(void *app);
int pa_health_probe_enclave(void *app);

/* GET /health's prepare, from the cache: 200 {"status":"ok",...} when both
 * parts are up, else 503 "degraded". Always -1 (answered). */
PA_MUST_USE int pa_health_prepare(pa_job *job, struct MHD_Connection *conn);

#endif
