/* The /health cache: probes run on their own threads and the status is read
 * without calling them; a failing probe shows as down, a hanging one turns
 * stale and shows as down before it returns; stop is bounded. The probes
 * here are controlled by the test (the real ones, a database ping and the
 * enclave's info, are exercised by tests/integration). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "health.h"

typedef struct {
    atomic_int answer[PA_HEALTH_PARTS]; /* what each probe reports */
    atomic_int calls[PA_HEALTH_PARTS];
    atomic_int hold[PA_HEALTH_PARTS]; /* 1: the probe waits until it is 0 */
} probes;

static int probe(probes *p, int part)
{
    atomic_fetch_add(&p->calls[part], 1);
    while (atomic_load(&p->hold[part]))
        usleep(1000);
    return atomic_load(&p->answer[part]);
}

static int probe_db(void *ud)
{
    return probe(ud, PA_HEALTH_DATABASE);
}

static int probe_enclave(void *ud)
{
    return probe(ud, PA_HEALTH_ENCLAVE);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls until the status is (db, enclave); generous for a loaded machine. */
static int wait_status(pa_health *h, int db, int enclave)
{
    int64_t end = mono_ms() + 20000;
    int d, e;
    do {
        pa_health_get(h, &d, &e);
        if (d == db && e == enclave)
            return 1;
        usleep(5000);
    } while (mono_ms() < end);
    return 0;
}

static pa_health_config config(probes *p, int interval_ms, int stale_ms)
{
    pa_health_config c = {
        .probe = {[PA_HEALTH_DATABASE] = probe_db, [PA_HEALTH_ENCLAVE] = probe_enclave},
        .ud = p,
        .interval_ms = interval_ms,
        .stale_ms = stale_ms,
    };
    return c;
}

static void test_status_follows_probes(void **state)
{
    (void)state;
    static probes p;
    for (int i = 0; i < PA_HEALTH_PARTS; i++) {
        atomic_store(&p.answer[i], 1);
        atomic_store(&p.calls[i], 0);
        atomic_store(&p.hold[i], 0);
    }
    pa_health_config c = config(&p, 20, 2000);
    pa_health *h = pa_health_start(&c, 20000);
    assert_non_null(h);
    /* the first round is done when start returns */
    int d, e;
    pa_health_get(h, &d, &e);
    assert_true(d && e);

    /* Reading the status never runs a probe: with both probers parked in a
     * held probe, no number of reads adds a call. */
    int c0[PA_HEALTH_PARTS];
    for (int i = 0; i < PA_HEALTH_PARTS; i++) {
        c0[i] = atomic_load(&p.calls[i]);
        atomic_store(&p.hold[i], 1);
    }
    int64_t end = mono_ms() + 20000;
    while ((atomic_load(&p.calls[PA_HEALTH_DATABASE]) == c0[PA_HEALTH_DATABASE] ||
            atomic_load(&p.calls[PA_HEALTH_ENCLAVE]) == c0[PA_HEALTH_ENCLAVE]) &&
           mono_ms() < end)
        usleep(1000);
    int held = atomic_load(&p.calls[PA_HEALTH_DATABASE]) + atomic_load(&p.calls[PA_HEALTH_ENCLAVE]);
    assert_true(held >= c0[0] + c0[1] + 2);
    for (int i = 0; i < 100000; i++)
        pa_health_get(h, &d, &e);
    assert_int_equal(
        atomic_load(&p.calls[PA_HEALTH_DATABASE]) + atomic_load(&p.calls[PA_HEALTH_ENCLAVE]), held);
    atomic_store(&p.hold[PA_HEALTH_DATABASE], 0);
    atomic_store(&p.hold[PA_HEALTH_ENCLAVE], 0);

    /* each part independently */
    atomic_store(&p.answer[PA_HEALTH_DATABASE], 0);
    assert_true(wait_status(h, 0, 1));
    atomic_store(&p.answer[PA_HEALTH_DATABASE], 1);
    atomic_store(&p.answer[PA_HEALTH_ENCLAVE], 0);
    assert_true(wait_status(h, 1, 0));
    atomic_store(&p.answer[PA_HEALTH_ENCLAVE], 1);
    assert_true(wait_status(h, 1, 1));
    assert_int_equal(pa_health_stop(h, 20000), 0);
}

/* A probe that hangs after succeeding: its part turns down once the last
 * success is older than stale_ms, without waiting for the probe to return.
 * Stop gives up at its deadline while the probe hangs, and succeeds once it
 * returns. */
static void test_hanging_probe_goes_stale(void **state)
{
    (void)state;
    static probes p;
    for (int i = 0; i < PA_HEALTH_PARTS; i++) {
        atomic_store(&p.answer[i], 1);
        atomic_store(&p.calls[i], 0);
        atomic_store(&p.hold[i], 0);
    }
    pa_health_config c = config(&p, 20, 300);
    pa_health *h = pa_health_start(&c, 20000);
    assert_non_null(h);
    assert_true(wait_status(h, 1, 1));
    atomic_store(&p.hold[PA_HEALTH_ENCLAVE], 1);
    assert_true(wait_status(h, 1, 0));
    int64_t t0 = mono_ms();
    assert_int_equal(pa_health_stop(h, 200), -1);
    assert_true(mono_ms() - t0 < 15000);
    atomic_store(&p.hold[PA_HEALTH_ENCLAVE], 0);
    assert_int_equal(pa_health_stop(h, 20000), 0);
}

/* A probe that has not answered yet counts as down: start waits for the
 * first round only up to its limit. */
static void test_first_round_wait_is_bounded(void **state)
{
    (void)state;
    static probes p;
    for (int i = 0; i < PA_HEALTH_PARTS; i++) {
        atomic_store(&p.answer[i], 1);
        atomic_store(&p.calls[i], 0);
        atomic_store(&p.hold[i], 0);
    }
    atomic_store(&p.hold[PA_HEALTH_DATABASE], 1);
    pa_health_config c = config(&p, 20, 5000);
    int64_t t0 = mono_ms();
    pa_health *h = pa_health_start(&c, 200);
    assert_non_null(h);
    assert_true(mono_ms() - t0 < 15000);
    int d, e;
    pa_health_get(h, &d, &e);
    assert_false(d);
    assert_true(wait_status(h, 0, 1));
    atomic_store(&p.hold[PA_HEALTH_DATABASE], 0);
    assert_true(wait_status(h, 1, 1));
    assert_int_equal(pa_health_stop(h, 20000), 0);
    assert_int_equal(pa_health_stop(NULL, 0), 0);

    /* bad configurations */
    c.interval_ms = 0;
    assert_null(pa_health_start(&c, 0));
    c = config(&p, 20, 0);
    assert_null(pa_health_start(&c, 0));
    c = config(&p, 20, 100);
    c.probe[PA_HEALTH_ENCLAVE] = NULL;
    assert_null(pa_health_start(&c, 0));
    assert_null(pa_health_start(NULL, 0));
    pa_health_get(NULL, &d, &e);
    assert_false(d || e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_follows_probes),
        cmocka_unit_test(test_hanging_probe_goes_stale),
        cmocka_unit_test(test_first_round_wait_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
