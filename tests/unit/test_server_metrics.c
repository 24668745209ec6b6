/* /metrics text: counters land under the right labels, in Prometheus text
 * format, and counting is exact under concurrent updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "metrics.h"

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++)
        pa_metrics_request(PA_ROUTE_HEALTH, 200);
    return NULL;
}

static void test_render(void **state)
{
    (void)state;
    pa_metrics_request(PA_ROUTE_SUBMIT, 200);
    pa_metrics_request(PA_ROUTE_SUBMIT, 409);
    pa_metrics_request(PA_ROUTE_SUBMIT, 400);
    pa_metrics_request(PA_ROUTE_UNKNOWN, 404);
    pa_metrics_request(PA_ROUTE_LOGS, 503);
    pa_metrics_request(PA_ROUTE_LOGS, 42);   /* ignored */
    pa_metrics_request(PA_ROUTE_COUNT, 200); /* ignored */
    pa_metrics_enclave_call(PA_IPC_OP_AGGREGATE, 1500000, 0);
    pa_metrics_enclave_call(PA_IPC_OP_AGGREGATE, 250, 1);
    pa_metrics_enclave_call(PA_IPC_OP_OPEN, 1000, 0);
    pa_metrics_db_error();
    pa_metrics_rate_limited();
    pa_metrics_rate_limited();
    pa_metrics_server_busy();
    pa_metrics_session_created();
    pa_metrics_session_revoked();
    pa_metrics_sweep(3, 0);
    pa_metrics_sweep(0, 1);

    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);

    char *m = pa_metrics_render();
    assert_non_null(m);
    static const char *const lines[] = {
        "# TYPE perfagg_http_requests_total counter",
        "perfagg_http_requests_total{route=\"/enclave/submit_key\",status=\"2xx\"} 1",
        "perfagg_http_requests_total{route=\"/enclave/submit_key\",status=\"4xx\"} 2",
        "perfagg_http_requests_total{route=\"/enclave/submit_key\",status=\"5xx\"} 0",
        "perfagg_http_requests_total{route=\"unknown\",status=\"4xx\"} 1",
        "perfagg_http_requests_total{route=\"/api/logs/{result_id}\",status=\"5xx\"} 1",
        "perfagg_http_requests_total{route=\"/api/logs/{result_id}\",status=\"2xx\"} 0",
        "perfagg_http_requests_total{route=\"/health\",status=\"2xx\"} 40000",
        "# TYPE perfagg_enclave_call_duration_seconds summary",
        "perfagg_enclave_call_duration_seconds_sum{op=\"aggregate\"} 1.500250",
        "perfagg_enclave_call_duration_seconds_count{op=\"aggregate\"} 2",
        "perfagg_enclave_call_duration_seconds_sum{op=\"open\"} 0.001000",
        "perfagg_enclave_call_duration_seconds_count{op=\"open\"} 1",
        "perfagg_enclave_call_duration_seconds_count{op=\"info\"} 0",
        "perfagg_enclave_call_failures_total{op=\"aggregate\"} 1",
        "perfagg_enclave_call_failures_total{op=\"open\"} 0",
        "perfagg_db_errors_total 1",
        "perfagg_rate_limited_total 2",
        "perfagg_server_busy_total 1",
        "perfagg_sessions_created_total 1",
        "perfagg_sessions_revoked_total 1",
        "perfagg_sweeper_runs_total 2",
        "perfagg_sweeper_failures_total 1",
        "perfagg_sweeper_deleted_total 3",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!has_line(m, lines[i]))
            fail_msg("missing line: %s\n--- got:\n%s", lines[i], m);
    /* no 1xx series, and every sample line belongs to a declared family */
    assert_null(strstr(m, "1xx"));
    assert_int_equal(m[strlen(m) - 1], '\n');
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
