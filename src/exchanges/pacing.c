/* Shared request-weight budgets and bans (pacing.h). A small fixed table:
 * an enclave talks to a handful of hosts, and a table that cannot grow
 * cannot be grown by a hostile host either. */
#include "pacing.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

#define PACE_HOSTS 8
#define PACE_HOST_MAX 512

typedef struct {
    int64_t window; /* pa_now_ms() / PA_PACE_WINDOW_MS of `used` */
    int64_t banned_until_ms;
    int64_t held_until_ms; /* after a 429: everyone waits until then */
    long used;
    int reports; /* the host has sent its weight count at least once */
    char host[PACE_HOST_MAX + 1];
} pace_host;

static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;
static pace_host pace_table[PACE_HOSTS];

/* The entry of host, created if needed; NULL when the table is full or the
 * name too long. Called with pace_lock held. */
static pace_host *pace_find(const char *host)
{
    size_t n = strlen(host);
    if (n == 0 || n > PACE_HOST_MAX)
        return NULL;
    for (size_t i = 0; i < PACE_HOSTS; i++)
        if (strcmp(pace_table[i].host, host) == 0)
            return &pace_table[i];
    for (size_t i = 0; i < PACE_HOSTS; i++) {
        if (pace_table[i].host[0] == '\0') {
            memset(&pace_table[i], 0, sizeof pace_table[i]);
            memcpy(pace_table[i].host, host, n + 1);
            return &pace_table[i];
        }
    }
    return NULL;
}

static void pace_roll(pace_host *h, int64_t now)
{
    int64_t w = now / PA_PACE_WINDOW_MS;
    if (w != h->window) {
        h->window = w;
        h->used = 0;
    }
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

pa_pace_verdict pa_pace_acquire(const char *host, unsigned weight, unsigned budget,
                                int64_t deadline_ms, int64_t *wait_ms)
{
    *wait_ms = 0;
    for (;;) {
        int64_t now = pa_now_ms(), wait = 0;
        pa_pace_verdict v = PA_PACE_GO;
        pthread_mutex_lock(&pace_lock);
        pace_host *h = pace_find(host);
        if (h == NULL) {
            v = PA_PACE_FULL;
        } else if (h->banned_until_ms > now) {
            v = PA_PACE_BANNED;
            wait = h->banned_until_ms - now;
        } else {
            pace_roll(h, now);
            if (h->held_until_ms > now)
                wait = h->held_until_ms - now;
            else if (!h->reports)
                ; /* nothing to pace by (Binance reports on every answer) */
            else if (h->used + (long)weight <= (long)budget)
                h->used += weight; /* reserved before sending: concurrent runs share it */
            else
                wait = (h->window + 1) * PA_PACE_WINDOW_MS - now;
        }
        pthread_mutex_unlock(&pace_lock);
        if (v != PA_PACE_GO || wait == 0) {
            *wait_ms = wait;
            return v;
        }
        if (now + wait > deadline_ms) {
            *wait_ms = wait;
            return PA_PACE_TOO_LONG;
        }
        sleep_ms(wait);
    }
}

void pa_pace_report_used(const char *host, long used)
{
    if (used < 0)
        return;
    int64_t now = pa_now_ms();
    pthread_mutex_lock(&pace_lock);
    pace_host *h = pace_find(host);
    if (h != NULL) {
        pace_roll(h, now);
        h->reports = 1;
        if (used > h->used)
            h->used = used;
    }
    pthread_mutex_unlock(&pace_lock);
}

void pa_pace_ban(const char *host, int64_t until_ms)
{
    pthread_mutex_lock(&pace_lock);
    pace_host *h = pace_find(host);
    if (h != NULL && until_ms > h->banned_until_ms)
        h->banned_until_ms = until_ms;
    pthread_mutex_unlock(&pace_lock);
}

void pa_pace_hold(const char *host, int64_t until_ms)
{
    pthread_mutex_lock(&pace_lock);
    pace_host *h = pace_find(host);
    if (h != NULL && until_ms > h->held_until_ms)
        h->held_until_ms = until_ms;
    pthread_mutex_unlock(&pace_lock);
}

void pa_pace_reset(void)
{
    pthread_mutex_lock(&pace_lock);
    memset(pace_table, 0, sizeof pace_table);
    pthread_mutex_unlock(&pace_lock);
}
