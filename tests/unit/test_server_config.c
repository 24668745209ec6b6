/* perfagg-server configuration: defaults, every variable, and refusal of
 * invalid values with a message naming the variable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

/* NULL-terminated name/value pairs standing in for the environment */
static const char *table_lookup(const char *name, void *ud)
{
    const char *const *kv = ud;
    for (; kv[0] != NULL; kv += 2)
        if (strcmp(kv[0], name) == 0)
            return kv[1];
    return NULL;
}

static int load(const char *const *env, pa_config *c, char *err, size_t errlen)
{
    return pa_config_load(c, table_lookup, (void *)env, err, errlen);
}

static void test_defaults(void **state)
{
    (void)state;
    const char *env[] = {"DATABASE_URL", "postgresql:///perfagg", NULL};
    pa_config c;
    char err[256] = "";
    assert_int_equal(load(env, &c, err, sizeof err), 0);
    assert_int_equal(c.port, 3000);
    assert_string_equal(c.listen_address, "127.0.0.1");
    assert_int_equal(c.listen_ipv6, 0);
    assert_string_equal(c.database_url, "postgresql:///perfagg");
    assert_int_equal(c.max_ttl_s, 604800);
    assert_int_equal(c.rate_limit_max, 100);
    assert_int_equal(c.rate_limit_window_ms, 900000);
    assert_int_equal(c.cors.n, 0);
    assert_int_equal(c.cleanup_interval_s, 60);
    assert_string_equal(c.enclave_socket, "var/enclave.sock");
    assert_int_equal(c.db_pool, 8);
    assert_int_equal(c.max_results, 100);
    pa_config_free(&c);
}

static void test_all_set(void **state)
{
    (void)state;
    const char *env[] = {"DATABASE_URL", "host=/tmp/x dbname=p", "ENCLAVE_PORT", "8080",
                         "LISTEN_ADDRESS", "::1", "MAX_TTL_SECONDS", "3600",
                         "RATE_LIMIT_MAX", "5", "RATE_LIMIT_WINDOW", "60000",
                         "ALLOWED_ORIGINS", "https://a.example, http://localhost:5173",
                         "CLEANUP_INTERVAL_SECONDS", "5", "PERFAGG_ENCLAVE_SOCKET",
                         "/run/perfagg/e.sock", "PERFAGG_DB_POOL", "2",
                         "MAX_RESULTS_PER_SESSION", "7", NULL};
    pa_config c;
    char err[256] = "";
    assert_int_equal(load(env, &c, err, sizeof err), 0);
    assert_int_equal(c.port, 8080);
    assert_string_equal(c.listen_address, "::1");
    assert_int_equal(c.listen_ipv6, 1);
    assert_int_equal(c.max_ttl_s, 3600);
    assert_int_equal(c.rate_limit_max, 5);
    assert_int_equal(c.rate_limit_window_ms, 60000);
    assert_int_equal(c.cors.n, 2);
    assert_string_equal(c.cors.origins[0], "https://a.example");
    assert_string_equal(c.cors.origins[1], "http://localhost:5173");
    assert_int_equal(c.cleanup_interval_s, 5);
    assert_string_equal(c.enclave_socket, "/run/perfagg/e.sock");
    assert_int_equal(c.db_pool, 2);
    assert_int_equal(c.max_results, 7);
    pa_config_free(&c);
}

/* ENCLAVE_ADDR wins over PERFAGG_ENCLAVE_SOCKET; a unix address is kept as
 * its bare path, a vsock one in canonical form. */
static void test_enclave_addr(void **state)
{
    (void)state;
    static const char *const rows[][3] = {
        {"vsock://16:5000", "/run/e.sock", "vsock://16:5000"},
        {"vsock://4294967295:7", NULL, "vsock://any:7"},
        {"unix:/run/perfagg/x.sock", "/run/e.sock", "/run/perfagg/x.sock"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *env[] = {"DATABASE_URL", "x", "ENCLAVE_ADDR", rows[i][0],
                             rows[i][1] != NULL ? "PERFAGG_ENCLAVE_SOCKET" : NULL, rows[i][1], NULL};
        pa_config c;
        char err[256] = "";
        assert_int_equal(load(env, &c, err, sizeof err), 0);
        assert_string_equal(c.enclave_socket, rows[i][2]);
        pa_config_free(&c);
    }
}

static void test_empty_is_unset(void **state)
{
    (void)state;
    const char *env[] = {"DATABASE_URL", "x", "ENCLAVE_PORT", "", "ALLOWED_ORIGINS", "", NULL};
    pa_config c;
    char err[256] = "";
    assert_int_equal(load(env, &c, err, sizeof err), 0);
    assert_int_equal(c.port, 3000);
    assert_int_equal(c.cors.n, 0);
    pa_config_free(&c);
}

/* Each row: one variable with a bad value; the message must name it. */
static void test_invalid_values(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"ENCLAVE_PORT", "0"},
        {"ENCLAVE_PORT", "65536"},
        {"ENCLAVE_PORT", "80a"},
        {"ENCLAVE_PORT", "-1"},
        {"ENCLAVE_PORT", " 80"},
        {"ENCLAVE_PORT", "+80"},
        {"ENCLAVE_PORT", "99999999999999999999999"},
        {"LISTEN_ADDRESS", "localhost"},
        {"LISTEN_ADDRESS", "127.0.0.1:80"},
        {"LISTEN_ADDRESS", "256.0.0.1"},
        {"MAX_TTL_SECONDS", "59"},
        {"MAX_TTL_SECONDS", "1.5"},
        {"RATE_LIMIT_MAX", "0"},
        {"RATE_LIMIT_WINDOW", "999"},
        {"RATE_LIMIT_WINDOW", "15m"},
        {"ALLOWED_ORIGINS", "*"},
        {"ALLOWED_ORIGINS", "https://a.example/"},
        {"CLEANUP_INTERVAL_SECONDS", "0"},
        {"PERFAGG_DB_POOL", "0"},
        {"PERFAGG_DB_POOL", "65"},
        {"MAX_RESULTS_PER_SESSION", "0"},
        {"MAX_RESULTS_PER_SESSION", "100001"},
        {"PERFAGG_ENCLAVE_SOCKET",
         "/a/very/long/path/that/does/not/fit/into/sockaddr_un/sun_path/because/it/is/longer/"
         "than/one/hundred/and/seven/bytes.sock"},
        {"ENCLAVE_ADDR", "/run/e.sock"},
        {"ENCLAVE_ADDR", "vsock://16"},
        {"ENCLAVE_ADDR", "tcp://127.0.0.1:5000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *env[] = {"DATABASE_URL", "x", bad[i][0], bad[i][1], NULL};
        pa_config c;
        char err[256] = "";
        assert_int_equal(load(env, &c, err, sizeof err), -1);
        const char *name = strcmp(bad[i][0], "ALLOWED_ORIGINS") == 0 ? "ALLOWED_ORIGINS" : bad[i][0];
        if (strstr(err, name) == NULL)
            fail_msg("message for %s=%s does not name it: %s", bad[i][0], bad[i][1], err);
        assert_null(c.database_url); /* freed on failure */
    }
}

static void test_database_url_required(void **state)
{
    (void)state;
    const char *env[] = {NULL};
    pa_config c;
    char err[256] = "";
    assert_int_equal(load(env, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "DATABASE_URL"));
}

static void test_parse_int(void **state)
{
    (void)state;
    int64_t v = -1;
    assert_int_equal(pa_config_parse_int("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(pa_config_parse_int("10", 0, 10, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(pa_config_parse_int("11", 0, 10, &v), -1);
    assert_int_equal(pa_config_parse_int("", 0, 10, &v), -1);
    assert_int_equal(pa_config_parse_int("1e3", 0, 10000, &v), -1);
    assert_int_equal(pa_config_parse_int("0x10", 0, 100, &v), -1);
    assert_int_equal(pa_config_parse_int("1234567890123456789", 0, INT64_MAX, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_set),
        cmocka_unit_test(test_enclave_addr),
        cmocka_unit_test(test_empty_is_unset),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_database_url_required),
        cmocka_unit_test(test_parse_int),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
