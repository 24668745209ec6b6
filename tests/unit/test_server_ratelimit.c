/* Fixed-window rate limiter: counts, headers' numbers, window roll-over,
 * the bounded table, address keys, and exact counting under threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "ratelimit.h"

static void test_window(void **state)
{
    (void)state;
    pa_ratelimit *rl = pa_ratelimit_new(3, 60000, 100);
    assert_non_null(rl);
    pa_ratelimit_verdict v;
    int64_t t0 = 1000000;

    pa_ratelimit_hit(rl, "10.0.0.1", t0, &v);
    assert_true(v.allowed);
    assert_int_equal(v.limit, 3);
    assert_int_equal(v.remaining, 2);
    assert_int_equal(v.reset_s, 60);

    pa_ratelimit_hit(rl, "10.0.0.1", t0 + 1500, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 1);
    assert_int_equal(v.reset_s, 59); /* 58.5 s left, rounded up */

    pa_ratelimit_hit(rl, "10.0.0.1", t0 + 2000, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);

    /* the 4th and later are refused until the window ends */
    for (int i = 0; i < 5; i++) {
        pa_ratelimit_hit(rl, "10.0.0.1", t0 + 30000, &v);
        assert_false(v.allowed);
        assert_int_equal(v.remaining, 0);
        assert_int_equal(v.reset_s, 30);
    }
    pa_ratelimit_hit(rl, "10.0.0.1", t0 + 59999, &v);
    assert_false(v.allowed);
    assert_int_equal(v.reset_s, 1);

    /* other clients are counted separately */
    pa_ratelimit_hit(rl, "10.0.0.2", t0 + 30000, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 2);

    /* a new window starts at the first request after the old one ended */
    pa_ratelimit_hit(rl, "10.0.0.1", t0 + 60000, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 2);
    assert_int_equal(v.reset_s, 60);

    /* a clock that jumps back does not extend a refusal forever */
    pa_ratelimit_hit(rl, "10.0.0.1", t0 - 5000, &v);
    assert_true(v.allowed);
    pa_ratelimit_free(rl);
}

static void test_bounded_table(void **state)
{
    (void)state;
    pa_ratelimit *rl = pa_ratelimit_new(2, 1000, 4);
    pa_ratelimit_verdict v;
    char key[32];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "k%d", i);
        pa_ratelimit_hit(rl, key, 0, &v);
        assert_true(v.allowed);
    }
    assert_int_equal(pa_ratelimit_tracked(rl), 4);
    /* full, nothing expired: new clients share one overflow window */
    pa_ratelimit_hit(rl, "new1", 500, &v);
    assert_true(v.allowed);
    pa_ratelimit_hit(rl, "new2", 500, &v);
    assert_true(v.allowed);
    pa_ratelimit_hit(rl, "new3", 500, &v);
    assert_false(v.allowed);
    assert_int_equal(pa_ratelimit_tracked(rl), 4);
    /* tracked clients keep their own counts */
    pa_ratelimit_hit(rl, "k0", 600, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);
    /* once windows have ended, the table is swept and new clients tracked */
    pa_ratelimit_hit(rl, "new4", 1500, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 1);
    assert_int_equal(pa_ratelimit_tracked(rl), 1);
    pa_ratelimit_free(rl);
}

/* The reviewer's case: a realistic epoch clock, a full table whose tracked
 * clients stay active, and new clients in the shared overflow window. That
 * window must end like any other (it used to start at INT64_MIN: a signed
 * overflow, a window that never ended and a Retry-After of ~9e15 s). */
static void test_overflow_window_ends(void **state)
{
    (void)state;
    pa_ratelimit *rl = pa_ratelimit_new(2, 1000, 2);
    assert_non_null(rl);
    pa_ratelimit_verdict v;
    int64_t t = 1700000000000; /* ms since 1970, as pa_now_ms gives */
    for (int step = 0; step < 6; step++, t += 1500) {
        /* the two tracked clients keep the table full */
        pa_ratelimit_hit(rl, "a", t, &v);
        assert_true(v.allowed);
        pa_ratelimit_hit(rl, "b", t, &v);
        assert_true(v.allowed);
        /* three new clients share the overflow window: max 2 in it */
        for (int i = 0; i < 3; i++) {
            char k[8];
            snprintf(k, sizeof k, "n%d", i);
            pa_ratelimit_hit(rl, k, t + 1, &v);
            assert_int_equal(v.allowed, i < 2);
            assert_int_equal(v.remaining, i == 0 ? 1 : 0);
            assert_int_equal(v.reset_s, 1); /* 1000 ms window */
        }
        assert_int_equal(pa_ratelimit_tracked(rl), 2);
    }
    pa_ratelimit_free(rl);
}

/* RateLimit-Reset / Retry-After never exceed the window, whatever the clock
 * does (a jump forward, a jump back, extreme values). */
static void test_reset_within_window(void **state)
{
    (void)state;
    pa_ratelimit *rl = pa_ratelimit_new(1, 5000, 2);
    pa_ratelimit_verdict v;
    const int64_t clocks[] = {1700000000000,      1700000000001, 1700000004999,
                              1700000005000,      1699999000000, INT64_MAX - 1,
                              0,                  -1,            INT64_MIN + 1,
                              1700000000000 + 7};
    const char *const keys[] = {"x", "y", "z", "w"};
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        for (size_t k = 0; k < 4; k++) {
            pa_ratelimit_hit(rl, keys[k], clocks[i], &v);
            assert_true(v.reset_s >= 1 && v.reset_s <= 5);
        }
    }
    pa_ratelimit_free(rl);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A full table whose windows are all still running: every new client goes
 * to the overflow window without a walk over the table. (It used to sweep
 * all 100 000 entries for each new client, ~2 ms a time under the global
 * lock: these 20 000 hits took 40 s or more; now well under 1 s. The bound
 * is generous for a loaded or sanitizer build.) Then the windows end and the
 * table drains. */
static void test_full_table_is_cheap(void **state)
{
    (void)state;
    enum { KEYS = 100000, NEW = 20000 };
    pa_ratelimit *rl = pa_ratelimit_new(100, 900000, KEYS);
    pa_ratelimit_verdict v;
    char k[PA_RATELIMIT_KEY_MAX];
    int64_t t = 1700000000000;
    for (int i = 0; i < KEYS; i++) {
        snprintf(k, sizeof k, "2001:db8:%x:%x::/64", i >> 16, i & 0xffff);
        pa_ratelimit_hit(rl, k, t + i / 100, &v);
    }
    assert_int_equal(pa_ratelimit_tracked(rl), KEYS);
    double t0 = mono_s();
    long allowed = 0;
    for (int i = 0; i < NEW; i++) {
        snprintf(k, sizeof k, "2001:db9:%x:%x::/64", i >> 16, i & 0xffff);
        pa_ratelimit_hit(rl, k, t + 2000, &v);
        allowed += v.allowed;
    }
    double dt = mono_s() - t0;
    assert_int_equal(allowed, 100); /* one shared overflow window */
    assert_int_equal(pa_ratelimit_tracked(rl), KEYS);
    assert_true(dt < 10.0);

    /* Past every window: new clients are tracked again and the ended
     * entries drain (a bounded number per new client). */
    int64_t later = t + 900000 + KEYS / 100 + 1;
    for (int i = 0; i < KEYS / 8; i++) {
        snprintf(k, sizeof k, "198.51.%d.%d", i >> 8, i & 255);
        pa_ratelimit_hit(rl, k, later, &v);
        assert_true(v.allowed);
        assert_int_equal(v.remaining, 99);
    }
    assert_int_equal(pa_ratelimit_tracked(rl), KEYS / 8);
    pa_ratelimit_free(rl);
}

static void test_bad_args(void **state)
{
    (void)state;
    assert_null(pa_ratelimit_new(0, 1000, 10));
    assert_null(pa_ratelimit_new(1, 0, 10));
    assert_null(pa_ratelimit_new(1, 1000, 0));
}

static void test_keys(void **state)
{
    (void)state;
    char key[PA_RATELIMIT_KEY_MAX];
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(1234)};
    inet_pton(AF_INET, "192.0.2.7", &a4.sin_addr);
    assert_int_equal(pa_ratelimit_key((struct sockaddr *)&a4, key), 0);
    assert_string_equal(key, "192.0.2.7");

    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &a6.sin6_addr);
    assert_int_equal(pa_ratelimit_key((struct sockaddr *)&a6, key), 0);
    assert_string_equal(key, "2001:db8:1:2::/64");
    inet_pton(AF_INET6, "2001:db8:1:2::1", &a6.sin6_addr);
    char key2[PA_RATELIMIT_KEY_MAX];
    assert_int_equal(pa_ratelimit_key((struct sockaddr *)&a6, key2), 0);
    assert_string_equal(key, key2); /* same /64, same client */

    inet_pton(AF_INET6, "::ffff:192.0.2.7", &a6.sin6_addr);
    assert_int_equal(pa_ratelimit_key((struct sockaddr *)&a6, key), 0);
    assert_string_equal(key, "192.0.2.7");

    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_int_equal(pa_ratelimit_key(&un, key), -1);
    assert_int_equal(pa_ratelimit_key(NULL, key), -1);
}

#define THREADS 8
#define HITS 500

typedef struct {
    pa_ratelimit *rl;
    int allowed;
} hammer_arg;

static void *hammer(void *p)
{
    hammer_arg *a = p;
    pa_ratelimit_verdict v;
    for (int i = 0; i < HITS; i++) {
        pa_ratelimit_hit(a->rl, "203.0.113.9", 1000, &v);
        a->allowed += v.allowed;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pa_ratelimit *rl = pa_ratelimit_new(1000, 60000, 16);
    pthread_t t[THREADS];
    hammer_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (hammer_arg){rl, 0};
        pthread_create(&t[i], NULL, hammer, &args[i]);
    }
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        total += args[i].allowed;
    }
    assert_int_equal(total, 1000); /* exactly max of the 4000 got through */
    pa_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window), cmocka_unit_test(test_bounded_table),
        cmocka_unit_test(test_bad_args), cmocka_unit_test(test_keys),
        cmocka_unit_test(test_threads), cmocka_unit_test(test_overflow_window_ends),
        cmocka_unit_test(test_reset_within_window), cmocka_unit_test(test_full_table_is_cheap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
