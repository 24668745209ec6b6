#include "workq.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    pa_job_fn fn;
    void *arg;
} job;

struct pa_workq {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    job *ring;
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
    q->threads = calloc((size_t)nthreads, sizeof *q->threads);
    q->cap = capacity;
    if (q->ring == NULL || q->threads == NULL || pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q->ring);
        free(q->threads);
        free(q);
        return NULL;
    }
    pthread_cond_init(&q->nonempty, NULL);
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

void pa_workq_free(pa_workq *q)
{
    if (q == NULL)
        return;
    pa_workq_drain(q);
    pthread_cond_destroy(&q->nonempty);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
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
