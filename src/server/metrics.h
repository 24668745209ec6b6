/* Process-wide counters for GET /metrics (Prometheus text exposition 0.0.4).
 * Plain relaxed atomics: every update is one instruction, from any thread
 * (the error-code table takes a mutex, on error replies only). Series and
 * what to alert on: docs/API.md "GET /metrics", docs/OPERATIONS.md. */
#ifndef PA_METRICS_H
#define PA_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc_contract.h"
#include "router.h"

void pa_metrics_request(pa_route_id route, unsigned status);
/* Every error reply (4xx/5xx) by its stable code; code is a static string.
 * Distinct codes past PA_METRICS_CODES_MAX are counted under "other". */
#define PA_METRICS_CODES_MAX 96
void pa_metrics_error_code(unsigned status, const char *code);
/* One enclave call: its latency (histogram per op) and, when failed, why:
 * an IPC error code, or PA_IPC_E_COUNT for "unavailable" (no answer). */
void pa_metrics_enclave_call(pa_ipc_op op, int64_t duration_us, int failed);
void pa_metrics_enclave_error(pa_ipc_op op, int reason);
/* A refused operator request (/metrics, /operator/...): outcome is the
 * audit row's (missing, malformed, unknown_token, wrong_secret, expired,
 * revoked). */
void pa_metrics_operator_refused(const char *outcome);
/* A request whose client left and whose work was dropped: skipped while
 * still queued (cancelled 0), or stopped while it ran (cancelled 1). */
void pa_metrics_abandoned(pa_route_id route, int cancelled);
void pa_metrics_db_error(void);
void pa_metrics_rate_limited(void);
void pa_metrics_server_busy(void);
void pa_metrics_enclave_restart(void);
/* A new connection to the enclave (one a call could not reuse). */
void pa_metrics_enclave_connect(void);
void pa_metrics_session_created(void);
void pa_metrics_session_revoked(void);
/* One group-commit statement of submit_key and how many submits it wrote. */
void pa_metrics_submit_batch(size_t rows);
/* One sweeper run; now_s (Unix time) is recorded when it succeeded. */
void pa_metrics_sweep(long deleted, int failed);
void pa_metrics_sweep_at(long deleted, int failed, int64_t now_s);

/* What a scrape reads at scrape time (handler_operator.c). */
typedef struct {
    long long active_sessions;    /* < 0: not known (series left out) */
    const json_t *exchange_calls; /* the enclave's stats rows; NULL: enclave not answering */
} pa_metrics_scrape;

/* The exposition text (malloc'd), NULL on allocation failure. */
char *pa_metrics_render(void);
char *pa_metrics_render_scrape(const pa_metrics_scrape *s);

#define PA_CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

#endif
