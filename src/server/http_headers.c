#include "http_headers.h"

#include <stdio.h>

#include "cors.h"

/* What a hardened JSON API sends on every response. Strict-Transport-Security
 * is the TLS terminator's job: this server speaks plain HTTP behind it. */
static const char *const security_headers[][2] = {
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
};

#define ADD(k, v) PA_ENSURE(MHD_add_response_header(resp, (k), (v)) == MHD_YES)

int pa_http_add_headers(struct MHD_Response *resp, const pa_http_headers *h)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(security_headers); i++)
        ADD(security_headers[i][0], security_headers[i][1]);
    /* A page brings its own policy (it runs script); the API's answers run
     * nothing and are never cached. */
    ADD("Cache-Control", h->cache_control != NULL ? h->cache_control : "no-store");
    ADD("Content-Security-Policy",
        h->csp != NULL ? h->csp : "default-src 'none'; frame-ancestors 'none'");
    if (h->etag != NULL)
        ADD("ETag", h->etag);
    if (h->content_type != NULL)
        ADD("Content-Type", h->content_type);
    if (h->vary_origin)
        ADD("Vary", "Origin");
    if (h->allow_origin != NULL) {
        ADD("Access-Control-Allow-Origin", h->allow_origin);
        ADD("Access-Control-Expose-Headers",
            "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, Retry-After, "
            "X-Request-Id");
        if (h->preflight) {
            ADD("Access-Control-Allow-Methods", PA_CORS_ALLOW_METHODS);
            ADD("Access-Control-Allow-Headers", PA_CORS_ALLOW_HEADERS);
            ADD("Access-Control-Max-Age", PA_CORS_MAX_AGE);
        }
    }
    if (h->allow != NULL)
        ADD("Allow", h->allow);
    char num[32];
    if (h->rl != NULL) {
        snprintf(num, sizeof num, "%ld", h->rl->limit);
        ADD("RateLimit-Limit", num);
        snprintf(num, sizeof num, "%ld", h->rl->remaining);
        ADD("RateLimit-Remaining", num);
        snprintf(num, sizeof num, "%ld", h->rl->reset_s);
        ADD("RateLimit-Reset", num);
        snprintf(num, sizeof num, "%ld;w=%ld", h->rl->limit, h->rl_window_s);
        ADD("RateLimit-Policy", num);
    }
    if (h->request_id != NULL)
        ADD("X-Request-Id", h->request_id);
    if (h->www_authenticate != NULL)
        ADD("WWW-Authenticate", h->www_authenticate);
    if (h->retry_after_s > 0) {
        snprintf(num, sizeof num, "%ld", h->retry_after_s);
        ADD("Retry-After", num);
    }
    return 0;
}
