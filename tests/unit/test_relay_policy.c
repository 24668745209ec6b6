/* The egress relay's decisions (src/relay/policy.c): the CONNECT parser on
 * valid, malformed and randomly mutated heads, the allow-list, and the
 * address ranges it refuses after resolution, IPv4 and IPv6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exchange_hosts.h"
#include "policy.h"

static pa_relay_req_status parse(const char *s, pa_relay_target *t)
{
    return pa_relay_parse_connect(s, strlen(s), t);
}

static void test_parse_valid(void **state)
{
    (void)state;
    pa_relay_target t;
    const char *curl = "CONNECT api.binance.com:443 HTTP/1.1\r\nHost: api.binance.com:443\r\n"
                       "User-Agent: perfagg-enclave/1\r\nProxy-Connection: Keep-Alive\r\n\r\n";
    assert_int_equal(parse(curl, &t), PA_RELAY_REQ_OK);
    assert_string_equal(t.host, "api.binance.com");
    assert_int_equal(t.port, 443);
    assert_int_equal(t.kind, PA_RELAY_HOST_NAME);
    assert_int_equal(t.head_len, strlen(curl));

    /* Tunnel bytes after the head are not part of it. */
    char early[256];
    snprintf(early, sizeof early, "%s\x16\x03\x01", "CONNECT API.Binance.COM:443 HTTP/1.0\r\n\r\n");
    assert_int_equal(pa_relay_parse_connect(early, strlen(early), &t), PA_RELAY_REQ_OK);
    assert_string_equal(t.host, "api.binance.com"); /* lowercased */
    assert_int_equal(t.head_len, strlen(early) - 3);

    assert_int_equal(parse("CONNECT 127.0.0.1:8080 HTTP/1.1\r\n\r\n", &t), PA_RELAY_REQ_OK);
    assert_int_equal(t.kind, PA_RELAY_HOST_IPV4);
    assert_int_equal(t.port, 8080);
    assert_int_equal(parse("CONNECT [::1]:65535 HTTP/1.1\r\nX: \t y\r\n\r\n", &t), PA_RELAY_REQ_OK);
    assert_int_equal(t.kind, PA_RELAY_HOST_IPV6);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 65535);
}

static void test_parse_incomplete_and_large(void **state)
{
    (void)state;
    pa_relay_target t;
    const char *full = "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n";
    /* Every proper prefix of a valid head asks for more. */
    for (size_t n = 0; n < strlen(full); n++)
        assert_int_equal(pa_relay_parse_connect(full, n, &t), PA_RELAY_REQ_INCOMPLETE);
    char *big = malloc(PA_RELAY_HEAD_MAX + 64);
    assert_non_null(big);
    int n = snprintf(big, 64, "CONNECT a.example:443 HTTP/1.1\r\nX: ");
    memset(big + n, 'a', PA_RELAY_HEAD_MAX + 64 - (size_t)n);
    assert_int_equal(pa_relay_parse_connect(big, PA_RELAY_HEAD_MAX - 1, &t),
                     PA_RELAY_REQ_INCOMPLETE);
    assert_int_equal(pa_relay_parse_connect(big, PA_RELAY_HEAD_MAX + 64, &t),
                     PA_RELAY_REQ_TOO_LARGE);
    /* A head that ends just past the cap is refused too. */
    memcpy(big + PA_RELAY_HEAD_MAX - 2, "\r\n\r\n", 4);
    assert_int_equal(pa_relay_parse_connect(big, PA_RELAY_HEAD_MAX + 2, &t),
                     PA_RELAY_REQ_TOO_LARGE);
    free(big);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "CONNECT  a.example:443 HTTP/1.1\r\n\r\n",     /* two spaces */
        "CONNECT a.example:443  HTTP/1.1\r\n\r\n",
        "CONNECT a.example:443 HTTP/2.0\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1 \r\n\r\n",
        "CONNECT a.example:443\r\n\r\n",
        "CONNECT a.example HTTP/1.1\r\n\r\n",           /* no port */
        "CONNECT a.example: HTTP/1.1\r\n\r\n",
        "CONNECT a.example:0 HTTP/1.1\r\n\r\n",
        "CONNECT a.example:0443 HTTP/1.1\r\n\r\n",      /* leading zero */
        "CONNECT a.example:65536 HTTP/1.1\r\n\r\n",
        "CONNECT a.example:+443 HTTP/1.1\r\n\r\n",
        "CONNECT a.example:443x HTTP/1.1\r\n\r\n",
        "CONNECT :443 HTTP/1.1\r\n\r\n",
        "CONNECT a..example:443 HTTP/1.1\r\n\r\n",
        "CONNECT .a.example:443 HTTP/1.1\r\n\r\n",
        "CONNECT a.example.:443 HTTP/1.1\r\n\r\n",      /* trailing dot */
        "CONNECT -a.example:443 HTTP/1.1\r\n\r\n",
        "CONNECT a-.example:443 HTTP/1.1\r\n\r\n",
        "CONNECT a_b.example:443 HTTP/1.1\r\n\r\n",
        "CONNECT a.example%00:443 HTTP/1.1\r\n\r\n",
        "CONNECT user@a.example:443 HTTP/1.1\r\n\r\n",
        "CONNECT http://a.example:443 HTTP/1.1\r\n\r\n",
        "CONNECT a.example:443/x HTTP/1.1\r\n\r\n",
        "CONNECT [::1:443 HTTP/1.1\r\n\r\n",
        "CONNECT [::1]443 HTTP/1.1\r\n\r\n",
        "CONNECT [zz::1]:443 HTTP/1.1\r\n\r\n",
        "CONNECT []:443 HTTP/1.1\r\n\r\n",
        "CONNECT ::1:443 HTTP/1.1\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\n\r\n\r\n",     /* bare LF */
        "CONNECT a.example:443 HTTP/1.1\r\nHost a.example\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\r\n: x\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\r\nX: a\rb\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\r\nX: \x01\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\r\nX: \xc3\xa9\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\r\n X: folded\r\n\r\n",
        "connect a.example:443 HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  /* a TLS ClientHello */
        "\r\n\r\n",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        pa_relay_target t;
        pa_relay_req_status st = parse(bad[i], &t);
        if (st != PA_RELAY_REQ_BAD)
            fail_msg("case %zu (%s): status %d, want BAD", i, bad[i], st);
    }
    /* A name longer than a DNS name may be. */
    char longname[400];
    char label[64];
    memset(label, 'a', 63);
    label[63] = 0;
    snprintf(longname, sizeof longname, "CONNECT %s.%s.%s.%s.x:443 HTTP/1.1\r\n\r\n", label, label,
             label, label);
    pa_relay_target t;
    assert_int_equal(parse(longname, &t), PA_RELAY_REQ_BAD);
    char biglabel[120];
    snprintf(biglabel, sizeof biglabel, "CONNECT %sa.x:443 HTTP/1.1\r\n\r\n", label);
    assert_int_equal(parse(biglabel, &t), PA_RELAY_REQ_BAD);

    static const char *const other[] = {"GET / HTTP/1.1\r\n\r\n", "GET", "POST http://x/ HTTP/1.1",
                                        "CONNEC", "CONNECTX a:1 HTTP/1.1\r\n\r\n"};
    assert_int_equal(parse(other[0], &t), PA_RELAY_REQ_METHOD);
    assert_int_equal(parse(other[1], &t), PA_RELAY_REQ_METHOD);
    assert_int_equal(parse(other[2], &t), PA_RELAY_REQ_METHOD);
    assert_int_equal(parse(other[3], &t), PA_RELAY_REQ_INCOMPLETE);
    assert_int_equal(parse(other[4], &t), PA_RELAY_REQ_METHOD);
}

/* Fuzz-style: random mutations of valid heads. Whatever the parser says, an
 * OK must describe a head that is really there and well formed. */
static void test_parse_mutations(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "CONNECT api.binance.com:443 HTTP/1.1\r\nHost: api.binance.com:443\r\n\r\n",
        "CONNECT [2001:db8::1]:443 HTTP/1.0\r\nProxy-Connection: Keep-Alive\r\n\r\nDATA",
        "CONNECT 10.0.0.1:22 HTTP/1.1\r\n\r\n"};
    static const char alphabet[] = "\r\n :[].-0aZ\x00\x7f\xff/%@";
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char buf[256];
    for (int iter = 0; iter < 200000; iter++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *seed = seeds[x % PA_ARRAY_LEN(seeds)];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        int edits = 1 + (int)((x >> 8) % 4);
        for (int e = 0; e < edits; e++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t pos = (size_t)((x >> 16) % n);
            switch ((x >> 40) % 3) {
            case 0: /* replace */
                buf[pos] = alphabet[(x >> 24) % (sizeof alphabet - 1)];
                break;
            case 1: /* delete */
                memmove(buf + pos, buf + pos + 1, n - pos - 1);
                n--;
                break;
            default: /* insert */
                if (n + 1 < sizeof buf) {
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = alphabet[(x >> 24) % (sizeof alphabet - 1)];
                    n++;
                }
            }
        }
        pa_relay_target t;
        pa_relay_req_status st = pa_relay_parse_connect(buf, n, &t);
        if (st == PA_RELAY_REQ_OK) {
            assert_true(t.head_len >= 4 && t.head_len <= n);
            assert_memory_equal(buf + t.head_len - 4, "\r\n\r\n", 4);
            assert_memory_equal(buf, "CONNECT ", 8);
            assert_true(t.port >= 1);
            assert_true(strlen(t.host) > 0 && strlen(t.host) <= PA_RELAY_HOST_MAX);
            for (const char *h = t.host; *h; h++)
                assert_true((*h >= 'a' && *h <= 'z') || (*h >= '0' && *h <= '9') || *h == '.' ||
                            *h == '-' || *h == ':');
        }
    }
}

static void test_allowlist(void **state)
{
    (void)state;
    pa_relay_allowlist l = {0};
    assert_int_equal(pa_relay_allow_add(&l, PA_BINANCE_RELAY_TARGET), 0);
    assert_int_equal(pa_relay_allow_add(&l, "Data.Example.COM:8443"), 0);
    /* Local and literal entries need the explicit development flag. */
    assert_int_equal(pa_relay_allow_add(&l, "localhost:8080"), -1);
    assert_int_equal(pa_relay_allow_add(&l, "127.0.0.1:8080"), -1);
    assert_int_equal(pa_relay_allow_add(&l, "[::1]:8080"), -1);
    assert_int_equal(pa_relay_allow_add(&l, "8.8.8.8:443"), -1);
    assert_int_equal(pa_relay_allow_add(&l, "api.binance.com"), -1);
    assert_int_equal(pa_relay_allow_add(&l, "api.binance.com:0"), -1);
    assert_int_equal(pa_relay_allow_add(&l, "*.binance.com:443"), -1);

    pa_relay_target t;
    assert_int_equal(parse("CONNECT api.binance.com:443 HTTP/1.1\r\n\r\n", &t), PA_RELAY_REQ_OK);
    const pa_relay_allow *a = pa_relay_allow_find(&l, &t);
    assert_non_null(a);
    assert_false(a->local);
    assert_int_equal(parse("CONNECT data.example.com:8443 HTTP/1.1\r\n\r\n", &t), PA_RELAY_REQ_OK);
    assert_non_null(pa_relay_allow_find(&l, &t));
    static const char *const refused[] = {
        "CONNECT api.binance.com:80 HTTP/1.1\r\n\r\n",
        "CONNECT api.binance.com.evil.example:443 HTTP/1.1\r\n\r\n",
        "CONNECT binance.com:443 HTTP/1.1\r\n\r\n",
        "CONNECT xapi.binance.com:443 HTTP/1.1\r\n\r\n",
        "CONNECT 127.0.0.1:443 HTTP/1.1\r\n\r\n",
        "CONNECT data.example.com:443 HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(refused); i++) {
        assert_int_equal(parse(refused[i], &t), PA_RELAY_REQ_OK);
        assert_null(pa_relay_allow_find(&l, &t));
    }
    pa_relay_allow_free(&l);

    pa_relay_allowlist dev = {.dev_allow_local = 1};
    assert_int_equal(pa_relay_allow_add(&dev, "localhost:8080"), 0);
    assert_int_equal(pa_relay_allow_add(&dev, "[::1]:8080"), 0);
    assert_int_equal(pa_relay_allow_add(&dev, "api.binance.com:443"), 0);
    assert_true(dev.v[0].local && dev.v[1].local && !dev.v[2].local);
    assert_int_equal(parse("CONNECT [::1]:8080 HTTP/1.1\r\n\r\n", &t), PA_RELAY_REQ_OK);
    assert_non_null(pa_relay_allow_find(&dev, &t));
    /* "127.0.0.1" is not "localhost": entries match as written. */
    assert_int_equal(parse("CONNECT 127.0.0.1:8080 HTTP/1.1\r\n\r\n", &t), PA_RELAY_REQ_OK);
    assert_null(pa_relay_allow_find(&dev, &t));
    pa_relay_allow_free(&dev);
}

static int public4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return pa_relay_addr_public((struct sockaddr *)&a);
}

static int public6(const char *ip)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return pa_relay_addr_public((struct sockaddr *)&a);
}

static void test_address_ranges(void **state)
{
    (void)state;
    static const char *const special4[] = {
        "0.0.0.0",        "0.255.255.255", "10.0.0.1",       "10.255.255.255", "100.64.0.1",
        "100.127.255.255", "127.0.0.1",    "127.255.255.254", "169.254.169.254", "169.254.0.1",
        "172.16.0.1",     "172.31.255.255", "192.0.0.8",     "192.0.2.1",      "192.88.99.1",
        "192.168.1.1",    "198.18.0.1",    "198.19.255.255", "198.51.100.7",   "203.0.113.9",
        "224.0.0.1",      "239.255.255.250", "240.0.0.1",    "255.255.255.255",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(special4); i++)
        if (public4(special4[i]))
            fail_msg("%s judged public", special4[i]);
    static const char *const public_v4[] = {"1.1.1.1",       "8.8.8.8",     "13.32.0.1",
                                            "100.63.255.255", "100.128.0.0", "172.15.255.255",
                                            "172.32.0.0",    "192.0.1.1",   "192.169.0.1",
                                            "198.17.255.255", "198.20.0.0",  "223.255.255.255"};
    for (size_t i = 0; i < PA_ARRAY_LEN(public_v4); i++)
        if (!public4(public_v4[i]))
            fail_msg("%s judged special", public_v4[i]);

    static const char *const special6[] = {
        "::",           "::1",           "::ffff:127.0.0.1", "::ffff:10.1.2.3",
        "::ffff:169.254.169.254", "64:ff9b::a00:1", "64:ff9b:1::1", "::127.0.0.1",
        "100::1",       "2001::1",       "2001:0:4136:e378::1", "2001:2::1", "2001:10::1",
        "2001:db8::1",  "2002:c000:204::1", "3fff::1",     "5f00::1",    "fc00::1",
        "fd12:3456::1", "fe80::1",       "febf::1",        "fec0::1",    "ff02::1",
        "ff0e::1",      "4000::1",       "1000::1",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(special6); i++)
        if (public6(special6[i]))
            fail_msg("%s judged public", special6[i]);
    static const char *const public_v6[] = {"2606:4700:4700::1111", "2a00:1450:4001::1",
                                            "2001:4860:4860::8888", "::ffff:8.8.8.8",
                                            "64:ff9b::808:808",     "3ffe::1"};
    for (size_t i = 0; i < PA_ARRAY_LEN(public_v6); i++)
        if (!public6(public_v6[i]))
            fail_msg("%s judged special", public_v6[i]);

    struct sockaddr_storage unix_sa = {.ss_family = AF_UNIX};
    assert_int_equal(pa_relay_addr_public((struct sockaddr *)&unix_sa), 0);
    assert_int_equal(pa_relay_addr_public(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_incomplete_and_large),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_mutations),
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_address_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
