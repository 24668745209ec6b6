/* The bounded work queue: every job runs once, a full queue refuses at
 * once, drain runs what was queued and then refuses, shutdown cancels what
 * was queued and waits for running jobs no longer than its deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "workq.h"

static atomic_int ran;

static void count_job(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
}

static void test_runs_every_job(void **state)
{
    (void)state;
    atomic_store(&ran, 0);
    pa_workq *q = pa_workq_new(4, 1000);
    assert_non_null(q);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pa_workq_submit(q, count_job, NULL), 0);
    pa_workq_drain(q);
    assert_int_equal(atomic_load(&ran), 1000);
    /* after drain: refused */
    assert_int_equal(pa_workq_submit(q, count_job, NULL), -1);
    pa_workq_free(q);
    assert_int_equal(atomic_load(&ran), 1000);
}

/* A gate the blocking jobs wait on, so the test controls when they finish. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int started;

static void blocking_job(void *arg)
{
    (void)arg;
    atomic_fetch_add(&started, 1);
    pthread_mutex_lock(&gate_lock);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    atomic_fetch_add(&ran, 1);
}

static void test_full_queue_refuses(void **state)
{
    (void)state;
    atomic_store(&ran, 0);
    atomic_store(&started, 0);
    gate_open = 0;
    pa_workq *q = pa_workq_new(2, 3);
    /* two jobs occupy both workers ... */
    assert_int_equal(pa_workq_submit(q, blocking_job, NULL), 0);
    assert_int_equal(pa_workq_submit(q, blocking_job, NULL), 0);
    for (int i = 0; i < 500 && atomic_load(&started) < 2; i++)
        usleep(2000);
    assert_int_equal(atomic_load(&started), 2);
    /* ... three more fill the queue, the sixth is refused */
    for (int i = 0; i < 3; i++)
        assert_int_equal(pa_workq_submit(q, blocking_job, NULL), 0);
    assert_int_equal(pa_workq_pending(q), 5);
    assert_int_equal(pa_workq_submit(q, blocking_job, NULL), -1);

    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    pa_workq_drain(q); /* runs the queued ones too */
    assert_int_equal(atomic_load(&ran), 5);
    assert_int_equal(pa_workq_pending(q), 0);
    pa_workq_free(q);
}

static atomic_int cancelled;

static void cancel_job(void *arg)
{
    (void)arg;
    atomic_fetch_add(&cancelled, 1);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void open_gate(void)
{
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

/* Two jobs run (blocked), three wait in the queue. */
static pa_workq *busy_queue(void)
{
    atomic_store(&ran, 0);
    atomic_store(&started, 0);
    atomic_store(&cancelled, 0);
    gate_open = 0;
    pa_workq *q = pa_workq_new(2, 8);
    assert_non_null(q);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pa_workq_submit(q, blocking_job, NULL), 0);
    for (int i = 0; i < 1000 && atomic_load(&started) < 2; i++)
        usleep(2000);
    assert_int_equal(atomic_load(&started), 2);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pa_workq_submit(q, blocking_job, NULL), 0);
    return q;
}

/* Running jobs that do not finish in time: the queued ones are cancelled
 * (never run), and shutdown returns at its deadline instead of waiting. */
static void test_shutdown_deadline(void **state)
{
    (void)state;
    pa_workq *q = busy_queue();
    int64_t t0 = mono_ms();
    assert_int_equal(pa_workq_shutdown(q, cancel_job, 300), -1);
    int64_t took = mono_ms() - t0;
    assert_int_equal(atomic_load(&cancelled), 3);
    assert_true(took >= 250);   /* it did wait for the running jobs ... */
    assert_true(took < 20000);  /* ... but not for them to finish */
    assert_int_equal(atomic_load(&ran), 0);
    assert_int_equal(pa_workq_pending(q), 2); /* the two still running */
    assert_int_equal(pa_workq_submit(q, count_job, NULL), -1);
    open_gate();
    pa_workq_free(q); /* waits for the two running jobs */
    assert_int_equal(atomic_load(&ran), 2);
    assert_int_equal(atomic_load(&started), 2); /* the cancelled never started */
}

static void *open_gate_later(void *arg)
{
    (void)arg;
    usleep(200 * 1000);
    open_gate();
    return NULL;
}

/* Running jobs that finish within the deadline: shutdown waits for them,
 * joins the threads and reports success. */
static void test_shutdown_waits_for_running(void **state)
{
    (void)state;
    pa_workq *q = busy_queue();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, open_gate_later, NULL), 0);
    assert_int_equal(pa_workq_shutdown(q, cancel_job, 60000), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(atomic_load(&cancelled), 3);
    assert_int_equal(atomic_load(&ran), 2);
    assert_int_equal(pa_workq_pending(q), 0);
    assert_int_equal(pa_workq_submit(q, count_job, NULL), -1);
    pa_workq_free(q);

    /* An idle queue stops at once; bad arguments are refused. */
    q = pa_workq_new(1, 1);
    assert_int_equal(pa_workq_shutdown(q, NULL, 10), -1);
    assert_int_equal(pa_workq_shutdown(q, cancel_job, -1), -1);
    assert_int_equal(pa_workq_shutdown(q, cancel_job, 0), 0);
    pa_workq_free(q);
    assert_int_equal(pa_workq_shutdown(NULL, cancel_job, 10), -1);
}

static void test_bad_args(void **state)
{
    (void)state;
    assert_null(pa_workq_new(0, 1));
    assert_null(pa_workq_new(1, 0));
    pa_workq *q = pa_workq_new(1, 1);
    assert_int_equal(pa_workq_submit(q, NULL, NULL), -1);
    assert_int_equal(pa_workq_submit(NULL, count_job, NULL), -1);
    pa_workq_free(q);
    pa_workq_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_every_job),
        cmocka_unit_test(test_full_queue_refuses),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_shutdown_deadline),
        cmocka_unit_test(test_shutdown_waits_for_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
