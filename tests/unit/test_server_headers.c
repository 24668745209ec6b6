/* The headers every response carries, and the CORS / rate-limit / Allow /
 * Retry-After headers that depend on the request, on a real MHD response. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_headers.h"

static struct MHD_Response *empty(void)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    assert_non_null(r);
    return r;
}

static void expect(struct MHD_Response *r, const char *name, const char *value)
{
    const char *got = MHD_get_response_header(r, name);
    if (value == NULL) {
        if (got != NULL)
            fail_msg("%s should be absent, is %s", name, got);
        return;
    }
    if (got == NULL || strcmp(got, value) != 0)
        fail_msg("%s: got %s, want %s", name, got ? got : "(absent)", value);
}

static void test_security_headers_always(void **state)
{
    (void)state;
    struct MHD_Response *r = empty();
    pa_http_headers h = {.content_type = "application/json; charset=utf-8"};
    assert_int_equal(pa_http_add_headers(r, &h), 0);
    expect(r, "Content-Type", "application/json; charset=utf-8");
    expect(r, "X-Content-Type-Options", "nosniff");
    expect(r, "Cache-Control", "no-store");
    expect(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    expect(r, "X-Frame-Options", "DENY");
    expect(r, "Referrer-Policy", "no-referrer");
    expect(r, "Cross-Origin-Resource-Policy", "same-origin");
    expect(r, "Strict-Transport-Security", NULL); /* the TLS terminator's job */
    /* nothing request-dependent unless asked for */
    expect(r, "Access-Control-Allow-Origin", NULL);
    expect(r, "Vary", NULL);
    expect(r, "RateLimit-Limit", NULL);
    expect(r, "Retry-After", NULL);
    expect(r, "Allow", NULL);
    expect(r, "WWW-Authenticate", NULL);
    MHD_destroy_response(r);

    /* a 401 of the operator routes names its scheme (RFC 7235 §4.1) */
    r = empty();
    pa_http_headers w = {.www_authenticate = "Bearer realm=\"perfagg-operator\""};
    assert_int_equal(pa_http_add_headers(r, &w), 0);
    expect(r, "WWW-Authenticate", "Bearer realm=\"perfagg-operator\"");
    MHD_destroy_response(r);
}

static void test_cors_and_limits(void **state)
{
    (void)state;
    struct MHD_Response *r = empty();
    pa_ratelimit_verdict v = {.allowed = 0, .limit = 100, .remaining = 0, .reset_s = 42};
    pa_http_headers h = {.allow_origin = "https://app.example",
                         .vary_origin = 1,
                         .rl = &v,
                         .rl_window_s = 900,
                         .retry_after_s = 42,
                         .content_type = "application/json; charset=utf-8"};
    assert_int_equal(pa_http_add_headers(r, &h), 0);
    expect(r, "Access-Control-Allow-Origin", "https://app.example");
    expect(r, "Vary", "Origin");
    expect(r, "Access-Control-Allow-Methods", NULL); /* only on preflights */
    expect(r, "RateLimit-Limit", "100");
    expect(r, "RateLimit-Remaining", "0");
    expect(r, "RateLimit-Reset", "42");
    expect(r, "RateLimit-Policy", "100;w=900");
    expect(r, "Retry-After", "42");
    const char *exposed = MHD_get_response_header(r, "Access-Control-Expose-Headers");
    assert_non_null(exposed);
    assert_non_null(strstr(exposed, "RateLimit-Remaining"));
    assert_non_null(strstr(exposed, "Retry-After"));
    MHD_destroy_response(r);
}

static void test_preflight_and_allow(void **state)
{
    (void)state;
    struct MHD_Response *r = empty();
    pa_http_headers h = {.allow_origin = "http://localhost:5173", .vary_origin = 1, .preflight = 1};
    assert_int_equal(pa_http_add_headers(r, &h), 0);
    expect(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    expect(r, "Access-Control-Allow-Headers", "Content-Type");
    expect(r, "Access-Control-Max-Age", "600");
    expect(r, "Content-Type", NULL); /* 204: no body */
    MHD_destroy_response(r);

    /* a disallowed origin gets no CORS grant even on a preflight */
    r = empty();
    pa_http_headers h2 = {.vary_origin = 1, .preflight = 1, .allow = "POST, OPTIONS"};
    assert_int_equal(pa_http_add_headers(r, &h2), 0);
    expect(r, "Access-Control-Allow-Origin", NULL);
    expect(r, "Access-Control-Allow-Methods", NULL);
    expect(r, "Vary", "Origin");
    expect(r, "Allow", "POST, OPTIONS");
    MHD_destroy_response(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_security_headers_always),
        cmocka_unit_test(test_cors_and_limits),
        cmocka_unit_test(test_preflight_and_allow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
