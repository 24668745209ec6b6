#include "health.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "timeutil.h"

typedef struct {
    struct pa_health *h;
    pa_health_probe probe;
    const char *name;
    atomic_int last_ok;         /* outcome of the last finished probe */
    atomic_int_least64_t ok_at; /* monotonic ms when a probe last succeeded */
    int rounds;                 /* finished probes (under h->lock) */
    int exited;                 /* thread has left its loop (under h->lock) */
    pthread_t thread;
} prober;

struct pa_health {
    pa_health_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t wake;    /* stop requested */
    pthread_cond_t changed; /* a round finished or a thread exited */
    int stop;
    int started;
    prober parts[PA_HEALTH_PARTS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *prober_main(void *arg)
{
    prober *p = arg;
    pa_health *h = p->h;
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        pthread_mutex_unlock(&h->lock);
        int ok = p->probe(h->cfg.ud) != 0;
        if (ok)
            atomic_store(&p->ok_at, mono_ms());
        /* Only changes are logged (the probes log each failure themselves). */
        if (atomic_exchange(&p->last_ok, ok) != ok || p->rounds == 0) {
            if (ok)
                pa_log_info("health: %s is up", p->name);
            else
                pa_log_warn("health: %s is down", p->name);
        }
        pthread_mutex_lock(&h->lock);
        p->rounds++;
        pthread_cond_broadcast(&h->changed);
        struct timespec until = pa_deadline_after_ms(h->cfg.interval_ms);
        while (!h->stop && pthread_cond_timedwait(&h->wake, &h->lock, &until) == 0) {
            /* woken without stop: keep waiting for the interval */
        }
    }
    p->exited = 1;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static void destroy(pa_health *h)
{
    pthread_cond_destroy(&h->changed);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* Asks the threads to stop and waits for them until the deadline; 1 when
 * all have exited (and are joined). */
static int stop_threads(pa_health *h, int64_t timeout_ms)
{
    struct timespec until = pa_deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    pthread_cond_broadcast(&h->wake);
    for (;;) {
        int all = 1;
        for (int i = 0; i < h->started; i++)
            all = all && h->parts[i].exited;
        if (all)
            break;
        if (pthread_cond_timedwait(&h->changed, &h->lock, &until) != 0) {
            pthread_mutex_unlock(&h->lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&h->lock);
    for (int i = 0; i < h->started; i++)
        pthread_join(h->parts[i].thread, NULL);
    return 1;
}

pa_health *pa_health_start(const pa_health_config *cfg, int first_wait_ms)
{
    if (cfg == NULL || cfg->interval_ms < 1 || cfg->stale_ms < 1 || first_wait_ms < 0)
        return NULL;
    for (int i = 0; i < PA_HEALTH_PARTS; i++)
        if (cfg->probe[i] == NULL)
            return NULL;
    pa_health *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->cfg = *cfg;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, &ca);
    pthread_cond_init(&h->changed, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < PA_HEALTH_PARTS; i++) {
        prober *p = &h->parts[i];
        p->h = h;
        p->probe = cfg->probe[i];
        p->name = i == PA_HEALTH_DATABASE ? "the database" : "the enclave";
        atomic_init(&p->last_ok, 0);
        atomic_init(&p->ok_at, 0);
        if (pthread_create(&p->thread, NULL, prober_main, p) != 0) {
            /* the started ones only wait on the interval: they stop at once */
            (void)stop_threads(h, INT32_MAX);
            destroy(h);
            return NULL;
        }
        pthread_mutex_lock(&h->lock);
        h->started++;
        pthread_mutex_unlock(&h->lock);
    }

    struct timespec until = pa_deadline_after_ms(first_wait_ms);
    pthread_mutex_lock(&h->lock);
    for (;;) {
        int all = 1;
        for (int i = 0; i < PA_HEALTH_PARTS; i++)
            all = all && h->parts[i].rounds > 0;
        if (all || pthread_cond_timedwait(&h->changed, &h->lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&h->lock);
    return h;
}

static int part_ok(const pa_health *h, const prober *p, int64_t now)
{
    /* ok_at is read after last_ok: a success published in between only
     * makes the answer fresher. */
    return atomic_load(&p->last_ok) && now - atomic_load(&p->ok_at) <= h->cfg.stale_ms;
}

void pa_health_get(pa_health *h, int *database_ok, int *enclave_ok)
{
    int64_t now = mono_ms();
    *database_ok = h != NULL && part_ok(h, &h->parts[PA_HEALTH_DATABASE], now);
    *enclave_ok = h != NULL && part_ok(h, &h->parts[PA_HEALTH_ENCLAVE], now);
}

int pa_health_stop(pa_health *h, int64_t timeout_ms)
{
    if (h == NULL)
        return 0;
    if (!stop_threads(h, timeout_ms < 0 ? 0 : timeout_ms))
        return -1;
    destroy(h);
    return 0;
}
