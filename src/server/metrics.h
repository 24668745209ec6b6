/* Process-wide counters for GET /metrics (Prometheus text exposition 0.0.4).
 * Plain relaxed atomics: every update is one instruction, from any thread. */
#ifndef PA_METRICS_H
#define PA_METRICS_H

#include <stdint.h>

#include "ipc_contract.h"
#include "router.h"

void pa_metrics_request(pa_route_id route, unsigned status);
void pa_metrics_enclave_call(pa_ipc_op op, int64_t duration_us, int failed);
void pa_metrics_db_error(void);
void pa_metrics_rate_limited(void);
void pa_metrics_server_busy(void);
void pa_metrics_enclave_restart(void);
/* A new connection to the enclave (one a call could not reuse). */
void pa_metrics_enclave_connect(void);
void pa_metrics_session_created(void);
void pa_metrics_session_revoked(void);
void pa_metrics_sweep(long deleted, int failed);

/* The exposition text (malloc'd), NULL on allocation failure. */
char *pa_metrics_render(void);

#define PA_CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

#endif
