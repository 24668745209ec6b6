#include "sweeper.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "keygen_db.h"
#include "metrics.h"
#include "timeutil.h"

struct pa_sweeper {
    pa_db *db;
    int64_t interval_s;
    pthread_mutex_t lock;
    pthread_cond_t wake;   /* stop requested */
    pthread_cond_t exited; /* the thread left its loop */
    int stop;
    int done;
    pthread_t thread;
};

static void sweep_once(pa_sweeper *s)
{
    long count = 0;
    pa_db_status st = pa_db_cleanup_expired(s->db, &count);
    if (st != PA_DB_OK) {
        pa_metrics_sweep(0, 1);
        pa_metrics_db_error();
        pa_log_warn("sweeper: cleanup_expired_credentials failed (database unavailable)");
        return;
    }
    pa_metrics_sweep_at(count, 0, pa_now_ms() / 1000);
    if (count > 0)
        pa_log_info("sweeper: deleted the credentials of %ld expired session(s)", count);
    /* enclave-made keys: unclaimed past their hour, or their session's expiry */
    if (pa_keygen_db_cleanup(s->db, &count) != PA_DB_OK)
        pa_log_warn("sweeper: cleanup_expired_enclave_keys failed (database unavailable)");
    else if (count > 0)
        pa_log_info("sweeper: deleted %ld expired enclave-made key(s)", count);
}

static void *run(void *p)
{
    pa_sweeper *s = p;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        pthread_mutex_unlock(&s->lock);
        sweep_once(s);
        pthread_mutex_lock(&s->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)s->interval_s;
        while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0) {
            /* woken early without stop: keep waiting for the deadline */
        }
    }
    s->done = 1;
    pthread_cond_broadcast(&s->exited);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

pa_sweeper *pa_sweeper_start(pa_db *db, int64_t interval_s)
{
    pa_sweeper *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->db = db;
    s->interval_s = interval_s;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, &ca);
    pthread_cond_init(&s->exited, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        pthread_cond_destroy(&s->exited);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

int pa_sweeper_stop(pa_sweeper *s, int64_t timeout_ms)
{
    if (s == NULL)
        return 0;
    struct timespec until = pa_deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    /* A sweep in progress finishes first; the database's own timeouts bound
     * it, and this deadline bounds the wait in any case. */
    while (!s->done && pthread_cond_timedwait(&s->exited, &s->lock, &until) == 0) {
    }
    int done = s->done;
    pthread_mutex_unlock(&s->lock);
    if (!done)
        return -1;
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->exited);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return 0;
}
