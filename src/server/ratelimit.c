#include "ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

/* Every tracked key is in two lists: its hash bucket's chain, and the age
 * list ordered by window start (a window that restarts moves its entry to
 * the newest end). Windows all have the same length, so the ones that have
 * ended are at the oldest end: dropping them costs O(1) per entry dropped,
 * never a walk over the whole table. (A wall clock stepped backwards can put
 * an entry out of order; it is then dropped a little late, which changes
 * nothing about the counting.) */
typedef struct entry {
    struct entry *next;           /* hash chain */
    struct entry *older, *newer;  /* age list */
    int64_t window_start_ms;
    long count;
    char key[PA_RATELIMIT_KEY_MAX];
} entry;

struct pa_ratelimit {
    pthread_mutex_t lock;
    long max;
    int64_t window_ms;
    size_t max_keys;
    size_t nkeys;
    size_t nbuckets;
    entry **buckets;
    entry *oldest, *newest;
    uint64_t seed; /* random per process: bucket choice is not predictable */
    entry overflow; /* shared by new clients while the table is full */
};

/* FNV-1a mixed with a secret seed; enough to keep chains short for keys an
 * attacker picks, given the table is bounded anyway. */
static size_t bucket_of(const pa_ratelimit *rl, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ rl->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= h >> 29;
    return (size_t)(h % rl->nbuckets);
}

pa_ratelimit *pa_ratelimit_new(long max, int64_t window_ms, size_t max_keys)
{
    if (max < 1 || window_ms < 1 || max_keys < 1)
        return NULL;
    pa_ratelimit *rl = calloc(1, sizeof *rl);
    if (rl == NULL)
        return NULL;
    rl->max = max;
    rl->window_ms = window_ms;
    rl->max_keys = max_keys;
    rl->nbuckets = max_keys < 16 ? 16 : max_keys;
    rl->buckets = calloc(rl->nbuckets, sizeof(entry *));
    if (rl->buckets == NULL || RAND_bytes((unsigned char *)&rl->seed, sizeof rl->seed) != 1 ||
        pthread_mutex_init(&rl->lock, NULL) != 0) {
        free(rl->buckets);
        free(rl);
        return NULL;
    }
    /* The overflow window starts like any other: at the first request that
     * lands in it (window_over is true for a zero start at any real clock). */
    rl->overflow.window_start_ms = 0;
    rl->overflow.count = 0;
    return rl;
}

void pa_ratelimit_free(pa_ratelimit *rl)
{
    if (rl == NULL)
        return;
    entry *e = rl->oldest;
    while (e != NULL) {
        entry *newer = e->newer;
        free(e);
        e = newer;
    }
    free(rl->buckets);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* Without signed overflow for any pair of clock values: a start in the
 * future (the clock went back) also ends the window, so a refusal cannot
 * outlive a clock step. */
static int window_over(const pa_ratelimit *rl, const entry *e, int64_t now_ms)
{
    if (now_ms < e->window_start_ms)
        return 1;
    return (uint64_t)now_ms - (uint64_t)e->window_start_ms >= (uint64_t)rl->window_ms;
}

static void age_unlink(pa_ratelimit *rl, entry *e)
{
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        rl->oldest = e->newer;
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        rl->newest = e->older;
    e->older = e->newer = NULL;
}

static void age_append(pa_ratelimit *rl, entry *e)
{
    e->newer = NULL;
    e->older = rl->newest;
    if (rl->newest != NULL)
        rl->newest->newer = e;
    else
        rl->oldest = e;
    rl->newest = e;
}

/* Drops entries whose window has ended, oldest first; stops at the first
 * one still running, or after DROP_BATCH so one request never pays for a
 * whole table of ended windows. Every new key drops up to DROP_BATCH and adds
 * one, so ended entries still go faster than they come. Called with the lock
 * held. */
#define DROP_BATCH 32

static void drop_ended(pa_ratelimit *rl, int64_t now_ms)
{
    for (int n = 0; n < DROP_BATCH && rl->oldest != NULL && window_over(rl, rl->oldest, now_ms);
         n++) {
        /* the oldest has no older neighbour: unlink it from the front */
        entry *e = rl->oldest;
        rl->oldest = e->newer;
        if (rl->oldest != NULL)
            rl->oldest->older = NULL;
        else
            rl->newest = NULL;
        entry **pp = &rl->buckets[bucket_of(rl, e->key)];
        while (*pp != e)
            pp = &(*pp)->next;
        *pp = e->next;
        free(e);
        rl->nkeys--;
    }
}

static entry *find_or_add(pa_ratelimit *rl, const char *key, int64_t now_ms)
{
    size_t b = bucket_of(rl, key);
    for (entry *e = rl->buckets[b]; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    drop_ended(rl, now_ms);
    if (rl->nkeys >= rl->max_keys)
        return &rl->overflow;
    entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return &rl->overflow;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->window_start_ms = now_ms;
    e->next = rl->buckets[b];
    rl->buckets[b] = e;
    age_append(rl, e);
    rl->nkeys++;
    return e;
}

void pa_ratelimit_hit(pa_ratelimit *rl, const char *key, int64_t now_ms, pa_ratelimit_verdict *out)
{
    pthread_mutex_lock(&rl->lock);
    entry *e = find_or_add(rl, key != NULL ? key : "", now_ms);
    if (window_over(rl, e, now_ms)) {
        e->window_start_ms = now_ms;
        e->count = 0;
        if (e != &rl->overflow) {
            age_unlink(rl, e);
            age_append(rl, e);
        }
    }
    if (e->count < rl->max)
        e->count++;
    else
        e->count = rl->max + 1; /* saturate: refused requests stay refused */
    long count = e->count;
    /* in (0, window_ms]: the window is running (window_over was false) */
    int64_t left_ms = rl->window_ms - (now_ms - e->window_start_ms);
    pthread_mutex_unlock(&rl->lock);

    if (left_ms > rl->window_ms)
        left_ms = rl->window_ms;
    out->limit = rl->max;
    out->allowed = count <= rl->max;
    out->remaining = out->allowed ? rl->max - count : 0;
    out->reset_s = (long)((left_ms + 999) / 1000);
    if (out->reset_s < 1)
        out->reset_s = 1;
}

size_t pa_ratelimit_tracked(pa_ratelimit *rl)
{
    pthread_mutex_lock(&rl->lock);
    size_t n = rl->nkeys;
    pthread_mutex_unlock(&rl->lock);
    return n;
}

int pa_ratelimit_key(const struct sockaddr *sa, char out[PA_RATELIMIT_KEY_MAX])
{
    PA_ENSURE(sa != NULL);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        PA_ENSURE(inet_ntop(AF_INET, &in->sin_addr, out, PA_RATELIMIT_KEY_MAX) != NULL);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            PA_ENSURE(inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], out, PA_RATELIMIT_KEY_MAX) !=
                      NULL);
            return 0;
        }
        struct in6_addr prefix = in6->sin6_addr;
        memset(&prefix.s6_addr[8], 0, 8);
        char tmp[INET6_ADDRSTRLEN];
        PA_ENSURE(inet_ntop(AF_INET6, &prefix, tmp, sizeof tmp) != NULL);
        snprintf(out, PA_RATELIMIT_KEY_MAX, "%s/64", tmp);
        return 0;
    }
    return -1;
}
