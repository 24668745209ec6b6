/* GET /health, answered from the prober's cache (health.h) on the HTTP poll
 * thread: no worker, no database connection, no enclave call per request. */
#ifndef PA_HANDLER_HEALTH_H
#define PA_HANDLER_HEALTH_H

#include "app.h"
#include "health.h"
#include "reply.h"

/* Probes for pa_health_config, with a pa_app as ud: a database ping (its wait
 * bounded by the pool's timeouts, db.h) and the enclave's `info` (bounded by
 * PA_ENCLAVE_TIMEOUT_MS). 1 when the dependency answered. */
int pa_health_probe_database(void *app);
int pa_health_probe_enclave(void *app);

/* 200 {"status":"ok",...} when both parts are up, else 503 "degraded". */
void pa_health_reply(pa_health *h, pa_reply *r);

#endif
