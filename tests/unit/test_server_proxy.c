/* TRUSTED_PROXIES parsing, peer matching, and the X-Forwarded-For entry a
 * trusted proxy's request is counted by. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proxy.h"

static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1)
        in->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1)
        in6->sin6_family = AF_INET6;
    else
        fail_msg("bad test address %s", text);
    return ss;
}

static int contains(const pa_proxies *p, const char *text)
{
    struct sockaddr_storage ss = addr(text);
    return pa_proxies_contains(p, (struct sockaddr *)&ss);
}

static void test_parse_and_contains(void **state)
{
    (void)state;
    pa_proxies p;
    assert_int_equal(pa_proxies_parse("127.0.0.1, ::1 ,10.0.0.7,::ffff:192.0.2.1", &p), 0);
    assert_int_equal(p.n, 4);
    assert_true(contains(&p, "127.0.0.1"));
    assert_true(contains(&p, "::ffff:127.0.0.1")); /* a dual-stack socket's view of it */
    assert_true(contains(&p, "::1"));
    assert_true(contains(&p, "10.0.0.7"));
    assert_true(contains(&p, "192.0.2.1"));
    assert_false(contains(&p, "127.0.0.2"));
    assert_false(contains(&p, "10.0.0.70"));
    assert_false(contains(&p, "::2"));
    assert_int_equal(pa_proxies_parse(NULL, &p), 0);
    assert_int_equal(p.n, 0);
    assert_false(contains(&p, "127.0.0.1"));
    assert_int_equal(pa_proxies_parse("", &p), 0);
    assert_int_equal(p.n, 0);

    static const char *const bad[] = {
        "localhost", "127.0.0.1,", ",127.0.0.1", "127.0.0.1,,::1", "10.0.0.0/8", "127.0.0.1:80",
        "1.2.3.4.5", "[::1]", " ",
        "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,1.1.1.10,"
        "1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (pa_proxies_parse(bad[i], &p) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
}

static void test_forwarded_for(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    char text[INET6_ADDRSTRLEN];
    static const struct {
        const char *xff, *want; /* want NULL: refused */
    } rows[] = {
        {"203.0.113.9", "203.0.113.9"},
        {" 203.0.113.9 ", "203.0.113.9"},
        /* what the client wrote comes first; the proxy's entry is the last */
        {"1.2.3.4, 203.0.113.9", "203.0.113.9"},
        {"evil, 203.0.113.9", "203.0.113.9"},
        {"2001:db8::1", "2001:db8::1"},
        {"::ffff:203.0.113.9", "203.0.113.9"},
        {"", NULL},
        {"203.0.113.9,", NULL},
        {"unknown", NULL},
        {"203.0.113.9:5000", NULL},
        {"[2001:db8::1]", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = pa_proxy_client_addr(rows[i].xff, &ss);
        if (rows[i].want == NULL) {
            if (rc == 0)
                fail_msg("accepted \"%s\"", rows[i].xff);
            continue;
        }
        if (rc != 0)
            fail_msg("refused \"%s\"", rows[i].xff);
        const void *a = ss.ss_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
        assert_non_null(inet_ntop(ss.ss_family, a, text, sizeof text));
        assert_string_equal(text, rows[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_contains),
        cmocka_unit_test(test_forwarded_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
