/* GET /attestation/quote without a nonce, served from memory. A document
 * without a client nonce proves nothing about *when* it was asked for, only
 * when it was made (its timestamp), so the enclave need not sign one per
 * request: the health prober asks for one every round (health.h) and parks
 * the answer here, and the HTTP poll thread hands out copies. Anonymous
 * floods of the route then cost the enclave nothing.
 *
 * Documents asked for WITH a nonce are signed per request on their own
 * workers (PA_QUOTE_WORKERS, main.c), so a flood of them queues behind
 * itself and never holds the workers the other routes need. */
#ifndef PA_QUOTE_CACHE_H
#define PA_QUOTE_CACHE_H

#include <stdint.h>

/* Older than this, the cached document is not served: the request goes to
 * the enclave like a nonce request would (a prober that stopped succeeding
 * must not leave an old key on display). Same bound as /health's. */
#define PA_QUOTE_CACHE_MAX_AGE_MS 5000

typedef struct pa_quote_cache pa_quote_cache;

pa_quote_cache *pa_quote_cache_new(void);
void pa_quote_cache_free(pa_quote_cache *c);

/* Replaces the cached answer body (takes ownership of body, a malloc'd JSON
 * text; NULL just clears) and stamps it with the monotonic clock. */
void pa_quote_cache_put(pa_quote_cache *c, char *body);

/* A malloc'd copy of the cached body when it is at most max_age_ms old,
 * else NULL (also when c is NULL or memory runs out). */
char *pa_quote_cache_get(pa_quote_cache *c, int64_t max_age_ms);

#endif
