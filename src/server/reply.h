/* What a handler answers: status, body and the few headers that depend on
 * the outcome. The HTTP layer adds the headers every response carries
 * (security, CORS, rate limit). Every error body is
 * {"error":"<stable code>","message":"<sentence>"} (docs/API.md). */
#ifndef PA_REPLY_H
#define PA_REPLY_H

#include <stddef.h>

#include "result.h"

#define PA_MESSAGE_MAX 256

/* An API error before it becomes a reply: validators fill one of these. */
typedef struct {
    unsigned status;
    const char *code; /* static string */
    char message[PA_MESSAGE_MAX];
} pa_http_error;

void pa_error_set(pa_http_error *e, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define PA_CT_JSON "application/json; charset=utf-8"

typedef struct {
    unsigned status;
    char *body;               /* malloc'd, may be NULL for an empty body */
    size_t len;
    const char *content_type; /* static; NULL for an empty body */
    const char *allow;        /* static Allow header value, or NULL */
    long retry_after_s;       /* > 0: Retry-After */
    const char *www_authenticate; /* static WWW-Authenticate value (401), or NULL */
    const char *error_code;   /* static, NULL on success (for logs) */
} pa_reply;

/* A 200-class reply taking ownership of a malloc'd JSON text. */
void pa_reply_json(pa_reply *r, unsigned status, char *json_text);
/* 200 with json_text, or 500 internal_error when json_text is NULL (the
 * builder ran out of memory or refused its input). */
void pa_reply_ok(pa_reply *r, char *json_text);
/* A reply with an arbitrary content type taking ownership of body. */
void pa_reply_body(pa_reply *r, unsigned status, const char *content_type, char *body);
/* An error reply. If even that cannot be allocated the reply is a 500 whose
 * body is a static fallback (the HTTP layer copies it). */
void pa_reply_error(pa_reply *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void pa_reply_from_error(pa_reply *r, const pa_http_error *e);
void pa_reply_free(pa_reply *r);

/* The JSON error body (malloc'd) for a code and message; NULL on OOM. */
char *pa_error_body(const char *code, const char *message);

/* Shortens s in place to at most max bytes without splitting a UTF-8
 * sequence, so user-chosen text quoted in a message stays bounded. */
void pa_truncate_utf8(char *s, size_t max);

#endif
