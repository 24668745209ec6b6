/* Fixed-window rate limiting per client address (express-rate-limit's
 * default store): each key may make `max` requests per window; the window
 * starts at the key's first request. Thread-safe. The table tracks at most
 * max_keys clients; ended windows are dropped (oldest first, in O(1) per
 * entry: no sweep over the table) when a new client arrives, and if it is
 * still full every new client shares one overflow window, so an attacker
 * with many addresses cannot grow memory or reset anyone's count. The
 * overflow window is an ordinary window: it ends after window_ms like any
 * other. */
#ifndef PA_RATELIMIT_H
#define PA_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "result.h"

#define PA_RATELIMIT_KEY_MAX 64

typedef struct pa_ratelimit pa_ratelimit;

typedef struct {
    int allowed;       /* 1: go ahead; 0: answer 429 */
    long limit;        /* RateLimit-Limit */
    long remaining;    /* RateLimit-Remaining (0 when refused) */
    long reset_s;      /* RateLimit-Reset: seconds until the window ends (>= 1) */
} pa_ratelimit_verdict;

pa_ratelimit *pa_ratelimit_new(long max, int64_t window_ms, size_t max_keys);
void pa_ratelimit_free(pa_ratelimit *rl);

/* Counts one request of key at now_ms and says whether it is allowed. */
void pa_ratelimit_hit(pa_ratelimit *rl, const char *key, int64_t now_ms, pa_ratelimit_verdict *out);

/* Number of keys currently tracked (for tests and metrics). */
size_t pa_ratelimit_tracked(pa_ratelimit *rl);

/* The limiter key of a peer address: the IPv4 address, or the /64 prefix of
 * an IPv6 address (one host usually owns a whole /64, so per-/128 limits are
 * trivial to dodge). IPv4-mapped IPv6 addresses count as IPv4. -1 for other
 * address families. */
PA_MUST_USE int pa_ratelimit_key(const struct sockaddr *sa, char out[PA_RATELIMIT_KEY_MAX]);

#endif
