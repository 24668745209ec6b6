/* The bounded work queue: every job runs once, a full queue refuses at
 * once, drain runs what was queued and then refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pthread.h>
#include <stdatomic.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
