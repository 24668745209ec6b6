/* The route table: exact paths, the {result_id} segment, 404 vs 405. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "router.h"

static void test_routes(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        pa_route_id id;
        int has_body, limited;
    } ok[] = {
        {"POST", "/enclave/submit_key", PA_ROUTE_SUBMIT, 1, 1},
        {"POST", "/enclave/request_aggregates", PA_ROUTE_AGGREGATES, 1, 1},
        {"POST", "/enclave/revoke", PA_ROUTE_REVOKE, 1, 1},
        {"GET", "/attestation/quote", PA_ROUTE_QUOTE, 0, 1},
        {"GET", "/attestation/root", PA_ROUTE_ROOT, 0, 1},
        {"GET", "/health", PA_ROUTE_HEALTH, 0, 0},
        {"GET", "/metrics", PA_ROUTE_METRICS, 0, 0},
        {"GET", "/operator/sessions", PA_ROUTE_OP_SESSIONS, 0, 1},
        {"GET", "/operator/aggregates", PA_ROUTE_OP_AGGREGATES, 0, 1},
        {"GET", "/operator/stats", PA_ROUTE_OP_STATS, 0, 1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const pa_route *r;
        const char *param;
        assert_int_equal(pa_router_match(ok[i].path, ok[i].method, &r, &param), PA_MATCH_OK);
        assert_int_equal(r->id, ok[i].id);
        assert_int_equal(r->has_body, ok[i].has_body);
        assert_int_equal(r->rate_limited, ok[i].limited);
        assert_string_equal(r->tmpl, ok[i].path);
        assert_null(param);
    }
}

static void test_logs_param(void **state)
{
    (void)state;
    const pa_route *r;
    const char *param;
    const char *path = "/api/logs/0b6d4c3e-8f2a-4c1b-9d3e-5f6a7b8c9d0e";
    assert_int_equal(pa_router_match(path, "GET", &r, &param), PA_MATCH_OK);
    assert_int_equal(r->id, PA_ROUTE_LOGS);
    assert_string_equal(r->tmpl, "/api/logs/{result_id}");
    assert_string_equal(param, "0b6d4c3e-8f2a-4c1b-9d3e-5f6a7b8c9d0e");
    /* any one segment routes here (the handler answers 400 for a bad id) */
    assert_int_equal(pa_router_match("/api/logs/not-a-uuid", "GET", &r, &param), PA_MATCH_OK);
    assert_string_equal(param, "not-a-uuid");
    assert_int_equal(pa_router_match("/api/logs/", "GET", &r, &param), PA_MATCH_NOT_FOUND);
    assert_int_equal(pa_router_match("/api/logs", "GET", &r, &param), PA_MATCH_NOT_FOUND);
    assert_int_equal(pa_router_match("/api/logs/a/b", "GET", &r, &param), PA_MATCH_NOT_FOUND);
    assert_null(r);
}

static void test_not_found_and_methods(void **state)
{
    (void)state;
    const pa_route *r;
    const char *param;
    static const char *const unknown[] = {"/", "", "/health/", "/Health", "/enclave",
                                          "/enclave/submit_key/", "/metricsx", "//health",
                                          "/operator", "/operator/", "/operator/sessions/",
                                          "/operator/Sessions", "/operator/sessions/x"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(pa_router_match(unknown[i], "GET", &r, &param), PA_MATCH_NOT_FOUND);
        assert_null(r);
    }
    assert_int_equal(pa_router_match("/enclave/submit_key", "GET", &r, &param),
                     PA_MATCH_BAD_METHOD);
    assert_string_equal(r->allow, "POST, OPTIONS");
    assert_int_equal(pa_router_match("/health", "POST", &r, &param), PA_MATCH_BAD_METHOD);
    assert_string_equal(r->allow, "GET, OPTIONS");
    assert_int_equal(pa_router_match("/health", "HEAD", &r, &param), PA_MATCH_BAD_METHOD);
    assert_int_equal(pa_router_match("/api/logs/x", "DELETE", &r, &param), PA_MATCH_BAD_METHOD);
    assert_null(param);
    assert_int_equal(pa_router_match("/enclave/revoke", "OPTIONS", &r, &param), PA_MATCH_OPTIONS);
    assert_int_equal(r->id, PA_ROUTE_REVOKE);
    /* method names are case-sensitive (RFC 9110 §9.1) */
    assert_int_equal(pa_router_match("/health", "get", &r, &param), PA_MATCH_BAD_METHOD);
    assert_int_equal(pa_router_match(NULL, "GET", &r, &param), PA_MATCH_NOT_FOUND);
}

static void test_templates(void **state)
{
    (void)state;
    assert_string_equal(pa_router_template(PA_ROUTE_UNKNOWN), "unknown");
    assert_string_equal(pa_router_template(PA_ROUTE_LOGS), "/api/logs/{result_id}");
    assert_string_equal(pa_router_template(PA_ROUTE_METRICS), "/metrics");
}

/* Which workers run each route (pa_queue): database-only routes never share
 * workers with enclave work, attestation documents have their own. */
static void test_queues(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        pa_queue queue;
    } want[] = {
        {"POST", "/enclave/submit_key", PA_QUEUE_ENCLAVE},
        {"POST", "/enclave/request_aggregates", PA_QUEUE_ENCLAVE},
        {"POST", "/enclave/revoke", PA_QUEUE_DATABASE},
        {"GET", "/api/logs/x", PA_QUEUE_DATABASE},
        {"GET", "/attestation/quote", PA_QUEUE_ATTEST},
        {"GET", "/attestation/root", PA_QUEUE_ATTEST},
        {"GET", "/health", PA_QUEUE_INLINE},
        {"GET", "/metrics", PA_QUEUE_DATABASE},
        {"GET", "/operator/sessions", PA_QUEUE_DATABASE},
        {"GET", "/operator/aggregates", PA_QUEUE_DATABASE},
        {"GET", "/operator/stats", PA_QUEUE_DATABASE},
        {"POST", "/enclave/keygen", PA_QUEUE_ENCLAVE},
        {"POST", "/enclave/aggregate_jobs", PA_QUEUE_ENCLAVE},
        {"GET", "/enclave/aggregate_jobs/x", PA_QUEUE_INLINE},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const pa_route *r;
        const char *param;
        assert_int_equal(pa_router_match(want[i].path, want[i].method, &r, &param), PA_MATCH_OK);
        assert_int_equal(r->queue, want[i].queue);
    }
}

/* Every route id but the pages has one entry, with a prepare; a worker
 * runs exactly the routes whose prepare may leave work (a run). */
static void test_table_complete(void **state)
{
    (void)state;
    for (int id = PA_ROUTE_UNKNOWN + 1; id < PA_ROUTE_COUNT; id++) {
        const pa_route *r = pa_router_route((pa_route_id)id);
        if (id == PA_ROUTE_PAGE) {
            assert_null(r);
            continue;
        }
        assert_non_null(r);
        assert_int_equal(r->id, id);
        assert_non_null(r->prepare);
        assert_int_equal(r->run == NULL, r->queue == PA_QUEUE_INLINE);
        assert_string_equal(pa_router_template((pa_route_id)id), r->tmpl);
    }
    assert_null(pa_router_route(PA_ROUTE_UNKNOWN));
    assert_null(pa_router_route(PA_ROUTE_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_logs_param),
        cmocka_unit_test(test_not_found_and_methods),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_queues),
        cmocka_unit_test(test_table_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
