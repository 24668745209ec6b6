/* /metrics text: counters land under the right labels, in Prometheus text
 * format, and counting is exact under concurrent updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <stdio.h>

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
    pa_metrics_sweep_at(3, 0, 1700000000);
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
        "# TYPE perfagg_enclave_call_duration_seconds histogram",
        /* 1.5 s lands in le=2.5 and above, 250 us in every bucket */
        "perfagg_enclave_call_duration_seconds_bucket{op=\"aggregate\",le=\"0.001\"} 1",
        "perfagg_enclave_call_duration_seconds_bucket{op=\"aggregate\",le=\"1\"} 1",
        "perfagg_enclave_call_duration_seconds_bucket{op=\"aggregate\",le=\"2.5\"} 2",
        "perfagg_enclave_call_duration_seconds_bucket{op=\"aggregate\",le=\"+Inf\"} 2",
        "perfagg_enclave_call_duration_seconds_bucket{op=\"open\",le=\"0.001\"} 1",
        "perfagg_enclave_call_duration_seconds_bucket{op=\"stats\",le=\"+Inf\"} 0",
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
        "perfagg_sweeper_last_success_timestamp_seconds 1700000000",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!has_line(m, lines[i]))
            fail_msg("missing line: %s\n--- got:\n%s", lines[i], m);
    /* no 1xx series, and every sample line belongs to a declared family */
    assert_null(strstr(m, "1xx"));
    assert_int_equal(m[strlen(m) - 1], '\n');
    free(m);
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The series added for operations: error codes, enclave errors by reason,
 * refused operator requests, and what a scrape reads (active sessions,
 * the enclave's exchange calls). */
static void test_operations_series(void **state)
{
    (void)state;
    static const char invalid_label[] = "invalid_label";
    pa_metrics_error_code(400, invalid_label);
    pa_metrics_error_code(400, "invalid_label"); /* another pointer, same text */
    pa_metrics_error_code(429, "rate_limited");
    pa_metrics_error_code(200, "ignored");
    pa_metrics_error_code(404, NULL);
    pa_metrics_enclave_error(PA_IPC_OP_OPEN, PA_IPC_E_DECRYPTION_FAILED);
    pa_metrics_enclave_error(PA_IPC_OP_AGGREGATE, PA_IPC_E_ENCLAVE_KEY_LOST);
    pa_metrics_enclave_error(PA_IPC_OP_INFO, PA_IPC_E_COUNT);
    pa_metrics_enclave_error(PA_IPC_OP_INFO, PA_IPC_E_COUNT + 1); /* ignored */
    pa_metrics_operator_refused("missing");
    pa_metrics_operator_refused("wrong_secret");
    pa_metrics_operator_refused("wrong_secret");
    pa_metrics_operator_refused("allowed"); /* not a refusal: ignored */

    json_t *rows = json_loads("[{\"venue\":\"binance_spot\",\"outcome\":\"ok\",\"count\":7},"
                              "{\"venue\":\"binance_usdm\",\"outcome\":\"http_5xx\","
                              "\"count\":2}]",
                              0, NULL);
    assert_non_null(rows);
    pa_metrics_scrape sc = {42, rows};
    char *m = pa_metrics_render_scrape(&sc);
    assert_non_null(m);
    static const char *const lines[] = {
        "# TYPE perfagg_http_errors_total counter",
        "perfagg_http_errors_total{status=\"400\",code=\"invalid_label\"} 2",
        "perfagg_http_errors_total{status=\"429\",code=\"rate_limited\"} 1",
        "perfagg_enclave_errors_total{op=\"open\",reason=\"decryption_failed\"} 1",
        "perfagg_enclave_errors_total{op=\"open\",reason=\"enclave_key_lost\"} 0",
        "perfagg_enclave_errors_total{op=\"aggregate\",reason=\"enclave_key_lost\"} 1",
        "perfagg_enclave_errors_total{op=\"info\",reason=\"unavailable\"} 1",
        "perfagg_operator_unauthorized_total{outcome=\"missing\"} 1",
        "perfagg_operator_unauthorized_total{outcome=\"wrong_secret\"} 2",
        "perfagg_operator_unauthorized_total{outcome=\"revoked\"} 0",
        "# TYPE perfagg_sessions_active gauge",
        "perfagg_sessions_active 42",
        "perfagg_enclave_stats_up 1",
        "perfagg_exchange_calls_total{venue=\"binance_spot\",outcome=\"ok\"} 7",
        "perfagg_exchange_calls_total{venue=\"binance_usdm\",outcome=\"http_5xx\"} 2",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!has_line(m, lines[i]))
            fail_msg("missing line: %s\n--- got:\n%s", lines[i], m);
    assert_null(strstr(m, "ignored"));
    assert_null(strstr(m, "allowed"));
    /* one family header each */
    assert_int_equal(count_of(m, "# TYPE perfagg_http_errors_total "), 1);
    free(m);

    /* a scrape that could read neither the database nor the enclave */
    pa_metrics_scrape none = {-1, NULL};
    m = pa_metrics_render_scrape(&none);
    assert_non_null(m);
    assert_null(strstr(m, "perfagg_sessions_active"));
    assert_null(strstr(m, "perfagg_exchange_calls_total"));
    assert_true(has_line(m, "perfagg_enclave_stats_up 0"));
    free(m);
    json_decref(rows);
}

/* Past the table's cap, new codes are counted as "other", not dropped. */
static void test_error_code_cap(void **state)
{
    (void)state;
    static char names[PA_METRICS_CODES_MAX + 5][16];
    for (size_t i = 0; i < PA_ARRAY_LEN(names); i++) {
        snprintf(names[i], sizeof names[i], "code_%zu", i);
        pa_metrics_error_code(418, names[i]);
    }
    char *m = pa_metrics_render();
    assert_non_null(m);
    assert_true(count_of(m, "perfagg_http_errors_total{status=") <= PA_METRICS_CODES_MAX + 1);
    assert_non_null(strstr(m, "perfagg_http_errors_total{status=\"other\",code=\"other\"} "));
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_operations_series),
        cmocka_unit_test(test_error_code_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
