/* Process-wide counters for GET /metrics (Prometheus text exposition 0.0.4).
 * Plain relaxed atomics: every update is one instruction, from any thread. */
#ifndef PA_METRICS_H
#define PA_METRICS_H

#include <stdint.h>

#include "router.h"

typedef enum {
    PA_OP_INFO,
    PA_OP_ATTEST,
    PA_OP_OPEN,
    PA_OP_AGGREGATE,
    PA_OP_COUNT
} pa_enclave_op;

const char *pa_enclave_op_name(pa_enclave_op op);

void pa_metrics_request(pa_route_id route, unsigned status);
void pa_metrics_enclave_call(pa_enclave_op op, int64_t duration_us, int failed);
void pa_metrics_db_error(void);
void pa_metrics_rate_limited(void);
void pa_metrics_server_busy(void);
void pa_metrics_enclave_restart(void);
void pa_metrics_session_created(void);
void pa_metrics_session_revoked(void);
void pa_metrics_sweep(long deleted, int failed);

/* The exposition text (malloc'd), NULL on allocation failure. */
char *pa_metrics_render(void);

#define PA_CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

#endif
