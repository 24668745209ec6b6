/* Headers every response carries, and the CORS / rate-limit headers that
 * depend on the request. */
#ifndef PA_HTTP_HEADERS_H
#define PA_HTTP_HEADERS_H

#include <microhttpd.h>

#include "ratelimit.h"
#include "result.h"

typedef struct {
    const char *allow_origin;    /* the exact allowed Origin to echo, or NULL */
    int vary_origin;             /* ALLOWED_ORIGINS is non-empty */
    int preflight;               /* add Access-Control-Allow-Methods/Headers/Max-Age */
    const pa_ratelimit_verdict *rl; /* RateLimit-* for limited routes, or NULL */
    long rl_window_s;            /* for RateLimit-Policy */
    const char *allow;           /* Allow header, or NULL */
    long retry_after_s;          /* > 0: Retry-After */
    const char *content_type;    /* NULL for an empty body */
    const char *www_authenticate; /* 401 from the operator routes, or NULL */
    /* the browser pages (static_files.h); NULL: the API's defaults */
    const char *csp;             /* Content-Security-Policy instead of the API's */
    const char *cache_control;   /* Cache-Control instead of no-store */
    const char *etag;            /* ETag, or NULL */
    const char *request_id;       /* X-Request-Id, or NULL */
} pa_http_headers;

PA_MUST_USE int pa_http_add_headers(struct MHD_Response *resp, const pa_http_headers *h);

#endif
