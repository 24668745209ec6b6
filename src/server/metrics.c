#include "metrics.h"

#include <stdatomic.h>

#include "buf.h"

#define NCLASS 5 /* 1xx .. 5xx */

static atomic_ullong requests[PA_ROUTE_COUNT][NCLASS];
static atomic_ullong enclave_us_sum[PA_IPC_OP_COUNT];
static atomic_ullong enclave_count[PA_IPC_OP_COUNT];
static atomic_ullong enclave_failures[PA_IPC_OP_COUNT];
static atomic_ullong db_errors;
static atomic_ullong rate_limited;
static atomic_ullong server_busy;
static atomic_ullong enclave_restarts;
static atomic_ullong enclave_connects;
static atomic_ullong sessions_created;
static atomic_ullong sessions_revoked;
static atomic_ullong sweeper_runs;
static atomic_ullong sweeper_failures;
static atomic_ullong sweeper_deleted;

#define INC(c, n) atomic_fetch_add_explicit(&(c), (unsigned long long)(n), memory_order_relaxed)
#define GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

void pa_metrics_request(pa_route_id route, unsigned status)
{
    if ((unsigned)route >= PA_ROUTE_COUNT || status < 100 || status > 599)
        return;
    INC(requests[route][status / 100 - 1], 1);
}

void pa_metrics_enclave_call(pa_ipc_op op, int64_t duration_us, int failed)
{
    if ((unsigned)op >= PA_IPC_OP_COUNT)
        return;
    INC(enclave_us_sum[op], duration_us > 0 ? duration_us : 0);
    INC(enclave_count[op], 1);
    if (failed)
        INC(enclave_failures[op], 1);
}

void pa_metrics_db_error(void)
{
    INC(db_errors, 1);
}

void pa_metrics_rate_limited(void)
{
    INC(rate_limited, 1);
}

void pa_metrics_enclave_restart(void)
{
    INC(enclave_restarts, 1);
}

void pa_metrics_enclave_connect(void)
{
    INC(enclave_connects, 1);
}

void pa_metrics_server_busy(void)
{
    INC(server_busy, 1);
}

void pa_metrics_session_created(void)
{
    INC(sessions_created, 1);
}

void pa_metrics_session_revoked(void)
{
    INC(sessions_revoked, 1);
}

void pa_metrics_sweep(long deleted, int failed)
{
    INC(sweeper_runs, 1);
    if (failed)
        INC(sweeper_failures, 1);
    else if (deleted > 0)
        INC(sweeper_deleted, deleted);
}

static int counter(pa_buf *b, const char *name, const char *help, unsigned long long v)
{
    return pa_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

char *pa_metrics_render(void)
{
    pa_buf b;
    pa_buf_init(&b, 1 << 20);
    PA_GUARD_GOTO(pa_buf_append_str(&b, "# HELP perfagg_http_requests_total HTTP requests answered, "
                                        "by route template and status class.\n"
                                        "# TYPE perfagg_http_requests_total counter\n"),
                  fail);
    for (int r = 0; r < PA_ROUTE_COUNT; r++)
        for (int c = 1; c < NCLASS; c++)
            PA_GUARD_GOTO(pa_buf_printf(&b,
                                        "perfagg_http_requests_total{route=\"%s\",status=\"%dxx\"} "
                                        "%llu\n",
                                        pa_router_template((pa_route_id)r), c + 1,
                                        GET(requests[r][c])),
                          fail);

    PA_GUARD_GOTO(pa_buf_append_str(&b,
                                    "# HELP perfagg_enclave_call_duration_seconds Time spent in "
                                    "enclave calls, by operation.\n"
                                    "# TYPE perfagg_enclave_call_duration_seconds summary\n"),
                  fail);
    for (int op = 0; op < PA_IPC_OP_COUNT; op++) {
        unsigned long long us = GET(enclave_us_sum[op]);
        PA_GUARD_GOTO(pa_buf_printf(&b,
                                    "perfagg_enclave_call_duration_seconds_sum{op=\"%s\"} "
                                    "%llu.%06llu\n"
                                    "perfagg_enclave_call_duration_seconds_count{op=\"%s\"} %llu\n",
                                    pa_ipc_op_name((pa_ipc_op)op), us / 1000000, us % 1000000,
                                    pa_ipc_op_name((pa_ipc_op)op), GET(enclave_count[op])),
                      fail);
    }
    PA_GUARD_GOTO(pa_buf_append_str(&b, "# HELP perfagg_enclave_call_failures_total Enclave calls "
                                        "that got no usable answer or an error.\n"
                                        "# TYPE perfagg_enclave_call_failures_total counter\n"),
                  fail);
    for (int op = 0; op < PA_IPC_OP_COUNT; op++)
        PA_GUARD_GOTO(pa_buf_printf(&b, "perfagg_enclave_call_failures_total{op=\"%s\"} %llu\n",
                                    pa_ipc_op_name((pa_ipc_op)op), GET(enclave_failures[op])),
                      fail);

    PA_GUARD_GOTO(counter(&b, "perfagg_db_errors_total",
                          "Database calls that failed for lack of a working database.",
                          GET(db_errors)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_rate_limited_total", "Requests refused with 429.",
                          GET(rate_limited)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_server_busy_total",
                          "Requests refused with 503 because the work queue was full.",
                          GET(server_busy)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_enclave_restarts_total",
                          "Times the supervised enclave ended and was started again.",
                          GET(enclave_restarts)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_enclave_connections_opened_total",
                          "Connections opened to the enclave (calls reuse open ones).",
                          GET(enclave_connects)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_sessions_created_total", "Sessions stored by submit_key.",
                          GET(sessions_created)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_sessions_revoked_total", "Sessions revoked.",
                          GET(sessions_revoked)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_sweeper_runs_total", "Runs of the expired-credentials sweeper.",
                          GET(sweeper_runs)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_sweeper_failures_total", "Sweeper runs that failed.",
                          GET(sweeper_failures)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_sweeper_deleted_total",
                          "Expired credentials deleted by the sweeper.", GET(sweeper_deleted)),
                  fail);
    return pa_buf_steal(&b);

fail:
    pa_buf_free(&b);
    return NULL;
}
