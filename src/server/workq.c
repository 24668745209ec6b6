#include "workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "timeutil.h"

typedef struct {
    pa_job_fn fn;
    void *arg;
} job;

struct pa_workq {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    pthread_cond_t idle; /* running dropped to 0 (monotonic clock) */
    job *ring;
    job *taken; /* room for pa_workq_shutdown to take the queue off */
    size_t cap, head, len;
    size_t running;
    int stopping;
    int drained;
    pthread_t *threads;
    int nthreads;
};

static void *worker(void *p)
{
    pa_workq *q = p;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->len == 0 && !q->stopping)
            pthread_cond_wait(&q->nonempty, &q->lock);
        if (q->len == 0) /* stopping and nothing left */
            break;
        job j = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        q->running++;
        pthread_mutex_unlock(&q->lock);
        j.fn(j.arg);
        pthread_mutex_lock(&q->lock);
        q->running--;
        if (q->running == 0)
            pthread_cond_broadcast(&q->idle);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

pa_workq *pa_workq_new(int nthreads, size_t capacity)
{
    if (nthreads < 1 || capacity < 1)
        return NULL;
    pa_workq *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->ring = calloc(capacity, sizeof *q->ring);
    q->taken = calloc(capacity, sizeof *q->taken);
    q->threads = calloc((size_t)nthreads, sizeof *q->threads);
    q->cap = capacity;
    if (q->ring == NULL || q->taken == NULL || q->threads == NULL ||
        pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q->ring);
        free(q->taken);
        free(q->threads);
        free(q);
        return NULL;
    }
    pthread_cond_init(&q->nonempty, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->idle, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&q->threads[i], NULL, worker, q) != 0)
            break;
        q->nthreads++;
    }
    if (q->nthreads != nthreads) {
        pa_workq_free(q);
        return NULL;
    }
    return q;
}

int pa_workq_submit(pa_workq *q, pa_job_fn fn, void *arg)
{
    PA_ENSURE(q != NULL && fn != NULL);
    pthread_mutex_lock(&q->lock);
    if (q->stopping || q->len == q->cap) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->ring[(q->head + q->len) % q->cap] = (job){fn, arg};
    q->len++;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void pa_workq_drain(pa_workq *q)
{
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->lock);
    if (q->drained) {
        pthread_mutex_unlock(&q->lock);
        return;
    }
    q->stopping = 1;
    q->drained = 1;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
}

int pa_workq_shutdown(pa_workq *q, pa_job_fn cancel, int64_t timeout_ms)
{
    PA_ENSURE(q != NULL && cancel != NULL && timeout_ms >= 0);
    struct timespec until = pa_deadline_after_ms(timeout_ms);

    /* Take the jobs that have not started off the queue; the workers, seeing
     * it empty and stopping, end after their current job. */
    pthread_mutex_lock(&q->lock);
    q->stopping = 1;
    size_t n = q->len;
    for (size_t i = 0; i < n; i++)
        q->taken[i] = q->ring[(q->head + i) % q->cap];
    q->head = 0;
    q->len = 0;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
    /* Outside the lock: cancel hands the job back to its owner, which may
     * take locks of its own. */
    for (size_t i = 0; i < n; i++)
        cancel(q->taken[i].arg);

    pthread_mutex_lock(&q->lock);
    int rc = 0;
    while (q->running > 0 && rc == 0)
        rc = pthread_cond_timedwait(&q->idle, &q->lock, &until);
    int idle = q->running == 0;
    pthread_mutex_unlock(&q->lock);
    if (!idle)
        return -1;
    pa_workq_drain(q); /* nothing left to run: only joins the threads */
    return 0;
}

void pa_workq_free(pa_workq *q)
{
    if (q == NULL)
        return;
    pa_workq_drain(q);
    pthread_cond_destroy(&q->idle);
    pthread_cond_destroy(&q->nonempty);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q->taken);
    free(q->threads);
    free(q);
}

size_t pa_workq_pending(pa_workq *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->len + q->running;
    pthread_mutex_unlock(&q->lock);
    return n;
}
