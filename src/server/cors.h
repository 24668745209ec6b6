/* CORS for the JSON API: only exact origins listed in ALLOWED_ORIGINS are
 * echoed back in Access-Control-Allow-Origin; nothing is ever a wildcard. */
#ifndef PA_CORS_H
#define PA_CORS_H

#include <stddef.h>

#include "result.h"

#define PA_CORS_MAX_ORIGINS 64
#define PA_CORS_ORIGIN_MAX 255

typedef struct {
    char **origins; /* canonical lowercase "scheme://host[:port]" */
    size_t n;
} pa_cors;

/* Parses a comma-separated list (blanks around items ignored, empty list and
 * NULL allowed). Each item must be an http(s) origin without path, query,
 * userinfo or trailing slash; "*" and "null" are refused. Writes a sentence
 * naming the bad item to err on failure. */
PA_MUST_USE int pa_cors_parse(const char *list, pa_cors *out, char *err, size_t errlen);
void pa_cors_free(pa_cors *c);

/* True when origin (the request's Origin header, compared byte for byte) is
 * one of the configured origins. NULL is never allowed. */
int pa_cors_allowed(const pa_cors *c, const char *origin);

typedef enum {
    PA_PREFLIGHT_NONE,      /* not a preflight: handle as a normal request */
    PA_PREFLIGHT_OK,        /* 204 with the Access-Control-Allow-* headers */
    PA_PREFLIGHT_FORBIDDEN, /* 403 origin_not_allowed */
} pa_preflight;

/* A preflight is OPTIONS carrying Access-Control-Request-Method. */
pa_preflight pa_cors_preflight(const pa_cors *c, const char *method, const char *origin,
                               const char *request_method);

#define PA_CORS_ALLOW_METHODS "GET, POST, OPTIONS"
#define PA_CORS_ALLOW_HEADERS "Content-Type"
#define PA_CORS_MAX_AGE "600"

#endif
