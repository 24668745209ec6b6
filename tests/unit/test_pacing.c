/* The shared request-weight budget and bans (src/exchanges/pacing.c), in
 * process: what a caller is told, and that concurrent callers share one
 * budget. No timing is asserted beyond the order of magnitude of a wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "pacing.h"
#include "timeutil.h"

static int reset(void **state)
{
    (void)state;
    pa_pace_reset();
    return 0;
}

/* A host that never reported its count is not paced. */
static void test_unreported_host_is_not_paced(void **state)
{
    (void)state;
    int64_t wait = -1;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pa_pace_acquire("http://a", 20, 100, pa_now_ms(), &wait), PA_PACE_GO);
    assert_int_equal(wait, 0);
}

static void test_budget_after_report(void **state)
{
    (void)state;
    int64_t wait = -1, w0 = pa_now_ms() / PA_PACE_WINDOW_MS;
    pa_pace_report_used("http://a", 4790);
    /* 4790 + 10 fits 4800 exactly; then nothing more this minute */
    pa_pace_verdict v1 = pa_pace_acquire("http://a", 10, 4800, pa_now_ms(), &wait);
    pa_pace_verdict v2 = pa_pace_acquire("http://a", 1, 4800, pa_now_ms(), &wait);
    if (pa_now_ms() / PA_PACE_WINDOW_MS != w0)
        skip(); /* the minute turned during the test */
    assert_int_equal(v1, PA_PACE_GO);
    assert_int_equal(v2, PA_PACE_TOO_LONG);
    assert_true(wait > 0 && wait <= PA_PACE_WINDOW_MS);
    /* a lower report does not lower our count, another host is not affected */
    pa_pace_report_used("http://a", 5);
    assert_int_equal(pa_pace_acquire("http://a", 1, 4800, pa_now_ms(), &wait), PA_PACE_TOO_LONG);
    assert_int_equal(pa_pace_acquire("http://b", 1, 4800, pa_now_ms(), &wait), PA_PACE_GO);
    pa_pace_report_used("http://a", -1); /* ignored */
}

static void test_hold_after_429(void **state)
{
    (void)state;
    int64_t wait = -1;
    pa_pace_hold("http://a", pa_now_ms() + 5000);
    assert_int_equal(pa_pace_acquire("http://a", 1, 4800, pa_now_ms(), &wait), PA_PACE_TOO_LONG);
    assert_true(wait > 4000 && wait <= 5000);
    /* a short hold is waited out when the deadline allows */
    pa_pace_hold("http://c", pa_now_ms() + 30);
    assert_int_equal(pa_pace_acquire("http://c", 1, 4800, pa_now_ms() + 5000, &wait), PA_PACE_GO);
}

static void test_ban(void **state)
{
    (void)state;
    int64_t wait = -1;
    pa_pace_ban("http://a", pa_now_ms() + 120000);
    assert_int_equal(pa_pace_acquire("http://a", 1, 4800, pa_now_ms() + 600000, &wait),
                     PA_PACE_BANNED);
    assert_true(wait > 110000 && wait <= 120000);
    /* an earlier end does not shorten it */
    pa_pace_ban("http://a", pa_now_ms() + 1000);
    assert_int_equal(pa_pace_acquire("http://a", 1, 4800, pa_now_ms(), &wait), PA_PACE_BANNED);
    assert_true(wait > 110000);
    assert_int_equal(pa_pace_acquire("http://b", 1, 4800, pa_now_ms(), &wait), PA_PACE_GO);
    pa_pace_reset();
    assert_int_equal(pa_pace_acquire("http://a", 1, 4800, pa_now_ms(), &wait), PA_PACE_GO);
}

static void test_table_is_bounded(void **state)
{
    (void)state;
    int64_t wait;
    char host[32];
    int go = 0;
    for (int i = 0; i < 20; i++) {
        snprintf(host, sizeof host, "http://h%d", i);
        go += pa_pace_acquire(host, 1, 10, pa_now_ms(), &wait) == PA_PACE_GO;
    }
    assert_int_equal(go, 8);
    assert_int_equal(pa_pace_acquire("http://h19", 1, 10, pa_now_ms(), &wait), PA_PACE_FULL);
    assert_int_equal(pa_pace_acquire("", 1, 10, pa_now_ms(), &wait), PA_PACE_FULL);
    char long_host[600];
    memset(long_host, 'a', sizeof long_host - 1);
    long_host[sizeof long_host - 1] = '\0';
    pa_pace_reset();
    assert_int_equal(pa_pace_acquire(long_host, 1, 10, pa_now_ms(), &wait), PA_PACE_FULL);
}

/* Eight threads, 50 calls each, one budget of 100: exactly 100 go. */
static int g_go;
static pthread_mutex_t g_go_lock = PTHREAD_MUTEX_INITIALIZER;

static void *taker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++) {
        int64_t wait;
        if (pa_pace_acquire("http://shared", 1, 100, pa_now_ms(), &wait) == PA_PACE_GO) {
            pthread_mutex_lock(&g_go_lock);
            g_go++;
            pthread_mutex_unlock(&g_go_lock);
        }
    }
    return NULL;
}

static void test_budget_shared_by_threads(void **state)
{
    (void)state;
    int64_t w0 = pa_now_ms() / PA_PACE_WINDOW_MS;
    pa_pace_report_used("http://shared", 0);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, taker, NULL), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    if (pa_now_ms() / PA_PACE_WINDOW_MS != w0)
        skip();
    assert_int_equal(g_go, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_unreported_host_is_not_paced, reset),
        cmocka_unit_test_setup(test_budget_after_report, reset),
        cmocka_unit_test_setup(test_hold_after_429, reset),
        cmocka_unit_test_setup(test_ban, reset),
        cmocka_unit_test_setup(test_table_is_bounded, reset),
        cmocka_unit_test_setup(test_budget_shared_by_threads, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
