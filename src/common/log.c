#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timeutil.h"

#define LINE_MAX_BYTES 2048

static const char *component = "perfagg";
static int json_format;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static _Atomic(pa_log_sink_fn) sink; /* NULL: stderr at once */

void pa_log_set_component(const char *name)
{
    component = name;
    const char *f = getenv("LOG_FORMAT");
    json_format = f != NULL && strcmp(f, "json") == 0;
}

int pa_log_json(void)
{
    return json_format;
}

void pa_log_write_stderr(const char *p, size_t n)
{
    /* a log that cannot be written is dropped */
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

void pa_log_set_sink(pa_log_sink_fn fn)
{
    atomic_store(&sink, fn);
}

static void emit(const char *line, size_t n, int urgent)
{
    pa_log_sink_fn fn = atomic_load(&sink);
    if (fn != NULL) {
        fn(line, n, urgent);
        return;
    }
    pthread_mutex_lock(&log_lock);
    pa_log_write_stderr(line, n);
    pthread_mutex_unlock(&log_lock);
}

/* Appends s as the inside of a JSON string: quotes, backslashes and
 * control characters escaped, bytes outside ASCII replaced by '?' (log
 * text is ours and ASCII; this keeps every line valid JSON whatever). */
static size_t json_escape(char *out, size_t cap, size_t at, const char *s)
{
    for (; s != NULL && *s != '\0' && at + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[at++] = '\\';
            out[at++] = *s;
        } else if (c < 0x20 || c == 0x7f) {
            at += (size_t)snprintf(out + at, cap - at, "\\u%04x", (unsigned)c);
        } else if (c >= 0x80) {
            out[at++] = '?';
        } else {
            out[at++] = *s;
        }
    }
    return at;
}

/* snprintf that never moves at past cap - 1 */
__attribute__((format(printf, 4, 5))) static size_t put(char *out, size_t cap, size_t at,
                                                        const char *fmt, ...)
{
    if (at >= cap - 1)
        return at;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + at, cap - at, fmt, ap);
    va_end(ap);
    if (n < 0)
        return at;
    return at + (size_t)n < cap - 1 ? at + (size_t)n : cap - 1;
}

static size_t json_str_field(char *out, size_t cap, size_t at, const char *key, const char *v)
{
    at = put(out, cap, at, ",\"%s\":", key);
    if (v == NULL)
        return put(out, cap, at, "null");
    at = put(out, cap, at, "\"");
    at = json_escape(out, cap, at, v);
    return put(out, cap, at, "\"");
}

/* Room for the closing "}\n" or "\n" is kept by building into cap - 3. */
static void finish_line(char *line, size_t at, int json)
{
    if (json)
        line[at++] = '}';
    line[at++] = '\n';
    line[at] = '\0';
}

__attribute__((format(printf, 2, 0))) static void vlog(const char *level, const char *fmt, va_list ap)
{
    char ts[PA_TIME_STR_LEN];
    pa_time_format(pa_now_ms(), ts);
    char msg[LINE_MAX_BYTES];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char line[LINE_MAX_BYTES + 256];
    size_t cap = sizeof line - 3, at = 0;
    if (json_format) {
        at = put(line, cap, at, "{\"time\":\"%s\",\"level\":\"%s\"", ts, level);
        at = json_str_field(line, cap, at, "component", component);
        at = json_str_field(line, cap, at, "msg", msg);
    } else {
        at = put(line, cap, at, "%s %s %s: %s", ts, level, component, msg);
    }
    finish_line(line, at, json_format);
    emit(line, strlen(line), level[0] != 'i');
}

#define DEFINE_LOG(name, level)                                                \
    void name(const char *fmt, ...)                                            \
    {                                                                          \
        va_list ap;                                                            \
        va_start(ap, fmt);                                                     \
        vlog(level, fmt, ap);                                                  \
        va_end(ap);                                                            \
    }

DEFINE_LOG(pa_log_info, "info")
DEFINE_LOG(pa_log_warn, "warn")
DEFINE_LOG(pa_log_error, "error")

void pa_log_access(const pa_log_access_line *a)
{
    char ts[PA_TIME_STR_LEN];
    pa_time_format(pa_now_ms(), ts);
    char line[1024];
    size_t cap = sizeof line - 3, at = 0;
    const char *client = a->client != NULL && a->client[0] != '\0' ? a->client : NULL;
    if (json_format) {
        at = put(line, cap, at, "{\"time\":\"%s\",\"level\":\"info\"", ts);
        at = json_str_field(line, cap, at, "component", component);
        at = put(line, cap, at, ",\"event\":\"%s\"", a->aborted ? "request_aborted" : "request");
        at = json_str_field(line, cap, at, "request_id", a->request_id);
        at = json_str_field(line, cap, at, "method", a->method);
        at = json_str_field(line, cap, at, "route", a->route);
        if (a->aborted)
            at = put(line, cap, at, ",\"status\":null");
        else
            at = put(line, cap, at, ",\"status\":%u", a->status);
        at = json_str_field(line, cap, at, "error", a->error);
        at = put(line, cap, at, ",\"duration_ms\":%lld", (long long)a->duration_ms);
        at = json_str_field(line, cap, at, "client", client);
    } else if (a->aborted) {
        at = put(line, cap, at, "%s info %s: %s %s aborted %lldms client=%s request_id=%s", ts,
                 component, a->method, a->route, (long long)a->duration_ms,
                 client != NULL ? client : "-", a->request_id != NULL ? a->request_id : "-");
    } else {
        at = put(line, cap, at, "%s info %s: %s %s %u%s%s %lldms client=%s request_id=%s", ts,
                 component, a->method, a->route, a->status, a->error != NULL ? " " : "",
                 a->error != NULL ? a->error : "", (long long)a->duration_ms,
                 client != NULL ? client : "-", a->request_id != NULL ? a->request_id : "-");
    }
    finish_line(line, at, json_format);
    emit(line, strlen(line), 0);
}
