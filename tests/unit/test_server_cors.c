/* ALLOWED_ORIGINS parsing and exact-origin matching, preflight decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cors.h"

static void test_parse_and_match(void **state)
{
    (void)state;
    pa_cors c;
    char err[256] = "";
    assert_int_equal(pa_cors_parse(" https://App.Example.com ,http://localhost:5173,"
                                   "https://x.example:443,http://[::1]:8080",
                                   &c, err, sizeof err),
                     0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.origins[0], "https://app.example.com"); /* lowercased */
    assert_string_equal(c.origins[2], "https://x.example");       /* default port dropped */
    assert_string_equal(c.origins[3], "http://[::1]:8080");
    assert_true(pa_cors_allowed(&c, "https://app.example.com"));
    assert_true(pa_cors_allowed(&c, "http://localhost:5173"));
    assert_true(pa_cors_allowed(&c, "https://x.example"));
    /* exact: no scheme, port, suffix or prefix games */
    assert_false(pa_cors_allowed(&c, "http://app.example.com"));
    assert_false(pa_cors_allowed(&c, "https://app.example.com:8443"));
    assert_false(pa_cors_allowed(&c, "https://evil.app.example.com"));
    assert_false(pa_cors_allowed(&c, "https://app.example.com.evil.com"));
    assert_false(pa_cors_allowed(&c, "https://app.example.com/"));
    assert_false(pa_cors_allowed(&c, "http://localhost:517"));
    assert_false(pa_cors_allowed(&c, "null"));
    assert_false(pa_cors_allowed(&c, ""));
    assert_false(pa_cors_allowed(&c, NULL));
    pa_cors_free(&c);
}

static void test_empty(void **state)
{
    (void)state;
    pa_cors c;
    char err[256] = "";
    assert_int_equal(pa_cors_parse(NULL, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 0);
    assert_false(pa_cors_allowed(&c, "https://a.example"));
    pa_cors_free(&c);
    assert_int_equal(pa_cors_parse("  ", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 0);
    pa_cors_free(&c);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "*",
        "null",
        "https://a.example/",
        "https://a.example/path",
        "https://a.example?x=1",
        "https://user@a.example",
        "ftp://a.example",
        "a.example",
        "https://",
        "https://a.example:",
        "https://a.example:0",
        "https://a.example:65536",
        "https://a.example:080",
        "https://a.example,,https://b.example",
        "https://a.example,",
        ",https://a.example",
        "https://-a.example",
        "https://a_b.example",
        "http://[::1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pa_cors c;
        char err[256] = "";
        if (pa_cors_parse(bad[i], &c, err, sizeof err) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(strstr(err, "ALLOWED_ORIGINS"));
        assert_int_equal(c.n, 0);
        assert_null(c.origins);
    }
}

static void test_preflight(void **state)
{
    (void)state;
    pa_cors c;
    char err[256] = "";
    assert_int_equal(pa_cors_parse("https://a.example", &c, err, sizeof err), 0);
    assert_int_equal(pa_cors_preflight(&c, "OPTIONS", "https://a.example", "POST"), PA_PREFLIGHT_OK);
    assert_int_equal(pa_cors_preflight(&c, "OPTIONS", "https://b.example", "POST"),
                     PA_PREFLIGHT_FORBIDDEN);
    assert_int_equal(pa_cors_preflight(&c, "OPTIONS", NULL, "POST"), PA_PREFLIGHT_FORBIDDEN);
    /* OPTIONS without Access-Control-Request-Method is not a preflight */
    assert_int_equal(pa_cors_preflight(&c, "OPTIONS", "https://a.example", NULL), PA_PREFLIGHT_NONE);
    assert_int_equal(pa_cors_preflight(&c, "POST", "https://a.example", "POST"), PA_PREFLIGHT_NONE);
    pa_cors_free(&c);
}

static void test_too_many(void **state)
{
    (void)state;
    char list[PA_CORS_MAX_ORIGINS * 32 + 64] = "";
    size_t used = 0;
    for (int i = 0; i <= PA_CORS_MAX_ORIGINS; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%shttps://h%d.example",
                                 i ? "," : "", i);
    pa_cors c;
    char err[256] = "";
    assert_int_equal(pa_cors_parse(list, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_match), cmocka_unit_test(test_empty),
        cmocka_unit_test(test_parse_rejects),   cmocka_unit_test(test_preflight),
        cmocka_unit_test(test_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
