#include "reply.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Formats a message no longer than PA_MESSAGE_MAX - 1 bytes into out. It is
 * first formatted wider than that, so the cut sees whole UTF-8 characters. */
__attribute__((format(printf, 2, 0))) static void format_message(char out[PA_MESSAGE_MAX],
                                                                 const char *fmt, va_list ap)
{
    char wide[2 * PA_MESSAGE_MAX] = "";
    vsnprintf(wide, sizeof wide, fmt, ap);
    pa_truncate_utf8(wide, PA_MESSAGE_MAX - 1);
    memcpy(out, wide, strlen(wide) + 1);
}

void pa_error_set(pa_http_error *e, unsigned status, const char *code, const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    format_message(e->message, fmt, ap);
    va_end(ap);
}

void pa_truncate_utf8(char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return;
    size_t cut = max;
    /* back up over continuation bytes to the start of the cut character */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    s[cut] = '\0';
}

char *pa_error_body(const char *code, const char *message)
{
    json_t *o = json_pack("{s:s, s:s}", "error", code, "message", message);
    if (o == NULL)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

void pa_reply_body(pa_reply *r, unsigned status, const char *content_type, char *body)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    r->body = body;
    r->len = body != NULL ? strlen(body) : 0;
    r->content_type = body != NULL ? content_type : NULL;
}

void pa_reply_json(pa_reply *r, unsigned status, char *json_text)
{
    pa_reply_body(r, status, PA_CT_JSON, json_text);
}

static void reply_error_msg(pa_reply *r, unsigned status, const char *code, const char *msg)
{
    char *body = pa_error_body(code, msg);
    if (body == NULL) {
        status = 500;
        code = "internal_error";
    }
    pa_reply_json(r, status, body);
    r->error_code = code;
}

void pa_reply_error(pa_reply *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[PA_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    format_message(msg, fmt, ap);
    va_end(ap);
    reply_error_msg(r, status, code, msg);
}

void pa_reply_from_error(pa_reply *r, const pa_http_error *e)
{
    reply_error_msg(r, e->status, e->code, e->message);
}

void pa_reply_ok(pa_reply *r, char *json_text)
{
    if (json_text == NULL)
        pa_reply_error(r, 500, "internal_error", "The response could not be built.");
    else
        pa_reply_json(r, 200, json_text);
}

void pa_reply_free(pa_reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}
