#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "buf.h"

#define NCLASS 5 /* 1xx .. 5xx */

/* Upper bounds of the enclave latency buckets, in microseconds and as
 * Prometheus writes them: from an info call (~1 ms) to an aggregate over a
 * year of paged history (minutes, PA_ENCLAVE_AGGREGATE_TIMEOUT_MS). */
static const struct {
    int64_t us;
    const char *le;
} buckets[] = {
    {1000, "0.001"},  {2500, "0.0025"}, {5000, "0.005"},  {10000, "0.01"},
    {25000, "0.025"}, {50000, "0.05"},  {100000, "0.1"},  {250000, "0.25"},
    {500000, "0.5"},  {1000000, "1"},   {2500000, "2.5"}, {5000000, "5"},
    {10000000, "10"}, {30000000, "30"}, {60000000, "60"}, {120000000, "120"},
};
#define NBUCKET (sizeof buckets / sizeof buckets[0])

/* The reasons of perfagg_enclave_errors_total: the contract's codes, then
 * "unavailable" (no answer at all). */
#define NREASON (PA_IPC_E_COUNT + 1)

static const char *const operator_outcomes[] = {"missing",      "malformed", "unknown_token",
                                                "wrong_secret", "expired",   "revoked"};
#define NOUTCOME (sizeof operator_outcomes / sizeof operator_outcomes[0])

static atomic_ullong requests[PA_ROUTE_COUNT][NCLASS];
static atomic_ullong abandoned[PA_ROUTE_COUNT][2]; /* skipped, cancelled */
static atomic_ullong enclave_us_sum[PA_IPC_OP_COUNT];
static atomic_ullong enclave_count[PA_IPC_OP_COUNT];
static atomic_ullong enclave_failures[PA_IPC_OP_COUNT];
static atomic_ullong enclave_bucket[PA_IPC_OP_COUNT][NBUCKET]; /* not cumulative */
static atomic_ullong enclave_errors[PA_IPC_OP_COUNT][NREASON];
static atomic_ullong operator_refused[NOUTCOME];
static atomic_llong sweeper_last_ok_s;

/* Error replies by code: codes are static strings from a bounded set in
 * the source, so the table is small; a code seen for the first time takes
 * a slot under the mutex. */
static struct {
    const char *code;
    unsigned status;
    atomic_ullong n;
} codes[PA_METRICS_CODES_MAX];
static size_t ncodes;
static atomic_ullong codes_other;
static pthread_mutex_t codes_lock = PTHREAD_MUTEX_INITIALIZER;
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
/* Rows per group-commit statement of submit_key (submit_batch.h): powers of
 * two up to its cap, PA_DB_BATCH_MAX (64). */
static const unsigned batch_le[] = {1, 2, 4, 8, 16, 32, 64};
#define NBATCH (sizeof batch_le / sizeof batch_le[0])
static atomic_ullong batch_bucket[NBATCH + 1]; /* not cumulative; the last is +Inf */
static atomic_ullong batch_rows;
static atomic_ullong batch_count;

#define INC(c, n) atomic_fetch_add_explicit(&(c), (unsigned long long)(n), memory_order_relaxed)
#define GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

void pa_metrics_request(pa_route_id route, unsigned status)
{
    if ((unsigned)route >= PA_ROUTE_COUNT || status < 100 || status > 599)
        return;
    INC(requests[route][status / 100 - 1], 1);
}

void pa_metrics_abandoned(pa_route_id route, int cancelled)
{
    if ((unsigned)route < PA_ROUTE_COUNT)
        INC(abandoned[route][cancelled ? 1 : 0], 1);
}

void pa_metrics_error_code(unsigned status, const char *code)
{
    if (code == NULL || status < 400 || status > 599)
        return;
    pthread_mutex_lock(&codes_lock);
    size_t i = 0;
    while (i < ncodes && !(codes[i].status == status && strcmp(codes[i].code, code) == 0))
        i++;
    if (i == ncodes && ncodes < PA_METRICS_CODES_MAX) {
        codes[i].code = code;
        codes[i].status = status;
        ncodes++;
    }
    if (i < ncodes)
        INC(codes[i].n, 1);
    else
        INC(codes_other, 1);
    pthread_mutex_unlock(&codes_lock);
}

void pa_metrics_enclave_call(pa_ipc_op op, int64_t duration_us, int failed)
{
    if ((unsigned)op >= PA_IPC_OP_COUNT)
        return;
    if (duration_us < 0)
        duration_us = 0;
    INC(enclave_us_sum[op], duration_us);
    INC(enclave_count[op], 1);
    for (size_t b = 0; b < NBUCKET; b++)
        if (duration_us <= buckets[b].us) {
            INC(enclave_bucket[op][b], 1);
            break;
        }
    if (failed)
        INC(enclave_failures[op], 1);
}

void pa_metrics_enclave_error(pa_ipc_op op, int reason)
{
    if ((unsigned)op < PA_IPC_OP_COUNT && reason >= 0 && reason < (int)NREASON)
        INC(enclave_errors[op][reason], 1);
}

void pa_metrics_operator_refused(const char *outcome)
{
    for (size_t i = 0; outcome != NULL && i < NOUTCOME; i++)
        if (strcmp(outcome, operator_outcomes[i]) == 0)
            INC(operator_refused[i], 1);
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

void pa_metrics_submit_batch(size_t rows)
{
    size_t k = 0;
    while (k < NBATCH && rows > batch_le[k])
        k++;
    INC(batch_bucket[k], 1);
    INC(batch_rows, rows);
    INC(batch_count, 1);
}

static int render_batch(pa_buf *b)
{
    PA_GUARD(pa_buf_append_str(b, "# HELP perfagg_submit_batch_size Submits written per "
                                  "group-commit transaction of submit_key.\n"
                                  "# TYPE perfagg_submit_batch_size histogram\n"));
    unsigned long long cum = 0;
    for (size_t k = 0; k < NBATCH; k++) {
        cum += GET(batch_bucket[k]);
        PA_GUARD(pa_buf_printf(b, "perfagg_submit_batch_size_bucket{le=\"%u\"} %llu\n",
                               batch_le[k], cum));
    }
    return pa_buf_printf(b,
                         "perfagg_submit_batch_size_bucket{le=\"+Inf\"} %llu\n"
                         "perfagg_submit_batch_size_sum %llu\n"
                         "perfagg_submit_batch_size_count %llu\n",
                         cum + GET(batch_bucket[NBATCH]), GET(batch_rows), GET(batch_count));
}

void pa_metrics_sweep_at(long deleted, int failed, int64_t now_s)
{
    INC(sweeper_runs, 1);
    if (failed) {
        INC(sweeper_failures, 1);
        return;
    }
    if (deleted > 0)
        INC(sweeper_deleted, deleted);
    atomic_store_explicit(&sweeper_last_ok_s, now_s, memory_order_relaxed);
}

void pa_metrics_sweep(long deleted, int failed)
{
    pa_metrics_sweep_at(deleted, failed, 0);
}

static int counter(pa_buf *b, const char *name, const char *help, unsigned long long v)
{
    return pa_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static int gauge(pa_buf *b, const char *name, const char *help, long long v)
{
    return pa_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

/* Every route a worker runs shows its skipped requests; cancelled ones
 * appear once they happen (only a run that can stop its work cancels). */
static int render_abandoned(pa_buf *b)
{
    PA_GUARD(pa_buf_append_str(b, "# HELP perfagg_http_abandoned_total Requests whose client "
                                  "left before the answer and whose work was dropped: skipped "
                                  "(still queued, never started) or cancelled (stopped while "
                                  "it ran), by route template.\n"
                                  "# TYPE perfagg_http_abandoned_total counter\n"));
    for (int r = 0; r < PA_ROUTE_COUNT; r++) {
        const pa_route *route = pa_router_route((pa_route_id)r);
        if (route == NULL || route->queue == PA_QUEUE_INLINE)
            continue;
        PA_GUARD(pa_buf_printf(b, "perfagg_http_abandoned_total{route=\"%s\",work=\"skipped\"} "
                                  "%llu\n",
                               route->tmpl, GET(abandoned[r][0])));
        if (GET(abandoned[r][1]) > 0)
            PA_GUARD(pa_buf_printf(b,
                                   "perfagg_http_abandoned_total{route=\"%s\",work=\"cancelled\"} "
                                   "%llu\n",
                                   route->tmpl, GET(abandoned[r][1])));
    }
    return 0;
}

static int render_enclave(pa_buf *b)
{
    PA_GUARD(pa_buf_append_str(b, "# HELP perfagg_enclave_call_duration_seconds Time spent in "
                                  "enclave calls, by operation.\n"
                                  "# TYPE perfagg_enclave_call_duration_seconds histogram\n"));
    for (int op = 0; op < PA_IPC_OP_COUNT; op++) {
        const char *name = pa_ipc_op_name((pa_ipc_op)op);
        unsigned long long cum = 0;
        for (size_t k = 0; k < NBUCKET; k++) {
            cum += GET(enclave_bucket[op][k]);
            PA_GUARD(pa_buf_printf(b,
                                   "perfagg_enclave_call_duration_seconds_bucket{op=\"%s\","
                                   "le=\"%s\"} %llu\n",
                                   name, buckets[k].le, cum));
        }
        unsigned long long us = GET(enclave_us_sum[op]);
        PA_GUARD(
            pa_buf_printf(b,
                          "perfagg_enclave_call_duration_seconds_bucket{op=\"%s\",le=\"+Inf\"} "
                          "%llu\n"
                          "perfagg_enclave_call_duration_seconds_sum{op=\"%s\"} %llu.%06llu\n"
                          "perfagg_enclave_call_duration_seconds_count{op=\"%s\"} %llu\n",
                          name, GET(enclave_count[op]), name, us / 1000000, us % 1000000, name,
                          GET(enclave_count[op])));
    }
    PA_GUARD(pa_buf_append_str(b, "# HELP perfagg_enclave_call_failures_total Enclave calls "
                                  "that got no usable answer or an error.\n"
                                  "# TYPE perfagg_enclave_call_failures_total counter\n"));
    for (int op = 0; op < PA_IPC_OP_COUNT; op++)
        PA_GUARD(pa_buf_printf(b, "perfagg_enclave_call_failures_total{op=\"%s\"} %llu\n",
                               pa_ipc_op_name((pa_ipc_op)op), GET(enclave_failures[op])));
    PA_GUARD(pa_buf_append_str(b, "# HELP perfagg_enclave_errors_total Failed enclave calls by "
                                  "operation and reason (the contract's error code, or "
                                  "unavailable: no answer); open and aggregate's "
                                  "decryption_failed and enclave_key_lost are envelopes that did "
                                  "not open.\n"
                                  "# TYPE perfagg_enclave_errors_total counter\n"));
    for (int op = 0; op < PA_IPC_OP_COUNT; op++)
        for (int r = 0; r < (int)NREASON; r++) {
            unsigned long long n = GET(enclave_errors[op][r]);
            /* Only the pairs that can occur on the hot ops are always shown;
             * other pairs appear once they happen. */
            int always = (op == PA_IPC_OP_OPEN || op == PA_IPC_OP_AGGREGATE) &&
                         (r == PA_IPC_E_DECRYPTION_FAILED || r == PA_IPC_E_ENCLAVE_KEY_LOST ||
                          r == PA_IPC_E_COUNT);
            if (n == 0 && !always)
                continue;
            PA_GUARD(pa_buf_printf(
                b, "perfagg_enclave_errors_total{op=\"%s\",reason=\"%s\"} %llu\n",
                pa_ipc_op_name((pa_ipc_op)op),
                r == PA_IPC_E_COUNT ? "unavailable" : pa_ipc_error_name((pa_ipc_error)r), n));
        }
    return 0;
}

static int render_codes(pa_buf *b)
{
    PA_GUARD(pa_buf_append_str(b, "# HELP perfagg_http_errors_total Error answers by status and "
                                  "stable error code (validation errors are the 4xx).\n"
                                  "# TYPE perfagg_http_errors_total counter\n"));
    pthread_mutex_lock(&codes_lock);
    size_t n = ncodes;
    pthread_mutex_unlock(&codes_lock);
    /* slots below n are written once, before ncodes grew past them */
    for (size_t i = 0; i < n; i++)
        PA_GUARD(pa_buf_printf(b, "perfagg_http_errors_total{status=\"%u\",code=\"%s\"} %llu\n",
                               codes[i].status, codes[i].code, GET(codes[i].n)));
    if (GET(codes_other) > 0)
        PA_GUARD(pa_buf_printf(b,
                               "perfagg_http_errors_total{status=\"other\",code=\"other\"} %llu\n",
                               GET(codes_other)));
    PA_GUARD(pa_buf_append_str(b, "# HELP perfagg_operator_unauthorized_total Operator requests "
                                  "(/metrics, /operator/...) refused 401, by the audit row's "
                                  "outcome.\n"
                                  "# TYPE perfagg_operator_unauthorized_total counter\n"));
    for (size_t i = 0; i < NOUTCOME; i++)
        PA_GUARD(pa_buf_printf(b, "perfagg_operator_unauthorized_total{outcome=\"%s\"} %llu\n",
                               operator_outcomes[i], GET(operator_refused[i])));
    return 0;
}

/* The enclave's stats rows (checked against the contract by the caller:
 * venue and outcome are names from its enums, count an integer). */
static int render_exchange(pa_buf *b, const json_t *rows)
{
    PA_GUARD(gauge(b, "perfagg_enclave_stats_up",
                   "1 when the enclave answered this scrape's stats call, else 0.", rows != NULL));
    if (rows == NULL)
        return 0;
    PA_GUARD(pa_buf_append_str(b, "# HELP perfagg_exchange_calls_total HTTP calls the enclave "
                                  "made to exchanges since it started, by venue and outcome.\n"
                                  "# TYPE perfagg_exchange_calls_total counter\n"));
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *venue = json_string_value(json_object_get(row, "venue"));
        const char *outcome = json_string_value(json_object_get(row, "outcome"));
        const json_t *count = json_object_get(row, "count");
        if (venue == NULL || outcome == NULL || !json_is_integer(count))
            continue;
        PA_GUARD(pa_buf_printf(b,
                               "perfagg_exchange_calls_total{venue=\"%s\",outcome=\"%s\"} "
                               "%lld\n",
                               venue, outcome, (long long)json_integer_value(count)));
    }
    return 0;
}

char *pa_metrics_render(void)
{
    return pa_metrics_render_scrape(NULL);
}

char *pa_metrics_render_scrape(const pa_metrics_scrape *s)
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

    PA_GUARD_GOTO(render_abandoned(&b), fail);
    PA_GUARD_GOTO(render_codes(&b), fail);
    PA_GUARD_GOTO(render_enclave(&b), fail);
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
    PA_GUARD_GOTO(render_batch(&b), fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_sweeper_runs_total", "Runs of the expired-credentials sweeper.",
                          GET(sweeper_runs)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_sweeper_failures_total", "Sweeper runs that failed.",
                          GET(sweeper_failures)),
                  fail);
    PA_GUARD_GOTO(counter(&b, "perfagg_sweeper_deleted_total",
                          "Expired credentials deleted by the sweeper.", GET(sweeper_deleted)),
                  fail);
    PA_GUARD_GOTO(gauge(&b, "perfagg_sweeper_last_success_timestamp_seconds",
                        "Unix time of the sweeper's last successful run (0: none yet).",
                        (long long)atomic_load_explicit(&sweeper_last_ok_s, memory_order_relaxed)),
                  fail);
    if (s != NULL && s->active_sessions >= 0)
        PA_GUARD_GOTO(gauge(&b, "perfagg_sessions_active",
                            "Sessions active and not past expires_at, counted in the database at "
                            "scrape time.",
                            s->active_sessions),
                      fail);
    if (s != NULL)
        PA_GUARD_GOTO(render_exchange(&b, s->exchange_calls), fail);
    return pa_buf_steal(&b);

fail:
    pa_buf_free(&b);
    return NULL;
}
