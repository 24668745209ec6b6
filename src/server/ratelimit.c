#include "ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

typedef struct entry {
    struct entry *next;
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
    uint64_t seed; /* random per process: bucket choice is not predictable */
    entry overflow;
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
    rl->overflow.window_start_ms = INT64_MIN;
    return rl;
}

void pa_ratelimit_free(pa_ratelimit *rl)
{
    if (rl == NULL)
        return;
    for (size_t i = 0; i < rl->nbuckets; i++) {
        entry *e = rl->buckets[i];
        while (e != NULL) {
            entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(rl->buckets);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

static int window_over(const pa_ratelimit *rl, const entry *e, int64_t now_ms)
{
    return now_ms - e->window_start_ms >= rl->window_ms || now_ms < e->window_start_ms;
}

/* Drops every entry whose window has ended. Called with the lock held, only
 * when the table is full, so its O(n) cost is paid rarely. */
static void sweep(pa_ratelimit *rl, int64_t now_ms)
{
    for (size_t i = 0; i < rl->nbuckets; i++) {
        entry **pp = &rl->buckets[i];
        while (*pp != NULL) {
            entry *e = *pp;
            if (window_over(rl, e, now_ms)) {
                *pp = e->next;
                free(e);
                rl->nkeys--;
            } else {
                pp = &e->next;
            }
        }
    }
}

static entry *find_or_add(pa_ratelimit *rl, const char *key, int64_t now_ms)
{
    size_t b = bucket_of(rl, key);
    for (entry *e = rl->buckets[b]; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    if (rl->nkeys >= rl->max_keys)
        sweep(rl, now_ms);
    if (rl->nkeys >= rl->max_keys)
        return &rl->overflow;
    entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return &rl->overflow;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->window_start_ms = now_ms;
    e->next = rl->buckets[b];
    rl->buckets[b] = e;
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
    }
    if (e->count < rl->max)
        e->count++;
    else
        e->count = rl->max + 1; /* saturate: refused requests stay refused */
    long count = e->count;
    int64_t left_ms = e->window_start_ms + rl->window_ms - now_ms;
    pthread_mutex_unlock(&rl->lock);

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
