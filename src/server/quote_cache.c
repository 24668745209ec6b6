#include "quote_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pa_quote_cache {
    pthread_mutex_t lock; /* guards body, len and made_at */
    char *body;
    size_t len;
    int64_t made_at; /* monotonic ms */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pa_quote_cache *pa_quote_cache_new(void)
{
    pa_quote_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void pa_quote_cache_free(pa_quote_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->body);
    free(c);
}

void pa_quote_cache_put(pa_quote_cache *c, char *body)
{
    if (c == NULL) {
        free(body);
        return;
    }
    size_t len = body != NULL ? strlen(body) : 0;
    int64_t now = mono_ms();
    pthread_mutex_lock(&c->lock);
    char *old = c->body;
    c->body = body;
    c->len = len;
    c->made_at = now;
    pthread_mutex_unlock(&c->lock);
    free(old); /* outside the lock: readers only copy under it */
}

char *pa_quote_cache_get(pa_quote_cache *c, int64_t max_age_ms)
{
    if (c == NULL)
        return NULL;
    char *copy = NULL;
    int64_t now = mono_ms();
    pthread_mutex_lock(&c->lock);
    if (c->body != NULL && now - c->made_at <= max_age_ms) {
        copy = malloc(c->len + 1);
        if (copy != NULL)
            memcpy(copy, c->body, c->len + 1);
    }
    pthread_mutex_unlock(&c->lock);
    return copy;
}
