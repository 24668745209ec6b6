#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

#define LINE_MAX_BYTES 2048
#define BUF_BYTES (64u * 1024)
#define FLUSH_EVERY_MS 200

static const char *component = "perfagg";
static int json_format;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* buffered mode, under log_lock */
static int buffering;
static char pending[BUF_BYTES];
static size_t pending_len;
static int flusher_stop;
static pthread_cond_t flusher_wake; /* on CLOCK_MONOTONIC, made by pa_log_start_buffering */
static int flusher_wake_ready;
static pthread_t flusher;

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

/* write(2) all of it to stderr; a log that cannot be written is dropped. */
static void write_all(const char *p, size_t n)
{
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

/* Under log_lock. */
static void flush_locked(void)
{
    write_all(pending, pending_len);
    pending_len = 0;
}

/* Under log_lock: one whole line, buffered or not. */
static void emit_locked(const char *line, size_t n, int urgent)
{
    if (!buffering || urgent) {
        flush_locked();
        write_all(line, n);
        return;
    }
    if (pending_len + n > sizeof pending)
        flush_locked();
    if (n > sizeof pending) {
        write_all(line, n);
        return;
    }
    memcpy(pending + pending_len, line, n);
    pending_len += n;
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
            out[at++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            at += (size_t)snprintf(out + at, cap - at, "\\u%04x", c);
        } else {
            out[at++] = c >= 0x80 ? '?' : (char)c;
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
    pthread_mutex_lock(&log_lock);
    emit_locked(line, strlen(line), level[0] != 'i');
    pthread_mutex_unlock(&log_lock);
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
    pthread_mutex_lock(&log_lock);
    emit_locked(line, strlen(line), 0);
    pthread_mutex_unlock(&log_lock);
}

int pa_log_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&log_lock);
    flush_locked(); /* what was due goes to the file it was meant for */
    /* dup2 replaces descriptor 2 atomically: no write ever finds it closed */
    int rc = dup2(fd, STDERR_FILENO) < 0 ? -1 : 0;
    int e = errno;
    pthread_mutex_unlock(&log_lock);
    close(fd);
    errno = e;
    return rc;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&log_lock);
    while (!flusher_stop) {
        struct timespec until = pa_deadline_after_ms(FLUSH_EVERY_MS);
        pthread_cond_timedwait(&flusher_wake, &log_lock, &until);
        flush_locked();
    }
    pthread_mutex_unlock(&log_lock);
    return NULL;
}

int pa_log_start_buffering(void)
{
    pthread_mutex_lock(&log_lock);
    if (buffering) {
        pthread_mutex_unlock(&log_lock);
        return 0;
    }
    if (!flusher_wake_ready) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        flusher_wake_ready = pthread_cond_init(&flusher_wake, &ca) == 0;
        pthread_condattr_destroy(&ca);
        if (!flusher_wake_ready) {
            pthread_mutex_unlock(&log_lock);
            return -1;
        }
    }
    flusher_stop = 0;
    int rc = pthread_create(&flusher, NULL, flusher_main, NULL) == 0 ? 0 : -1;
    buffering = rc == 0;
    pthread_mutex_unlock(&log_lock);
    return rc;
}

void pa_log_flush(void)
{
    pthread_mutex_lock(&log_lock);
    flush_locked();
    pthread_mutex_unlock(&log_lock);
}

void pa_log_stop_buffering(void)
{
    pthread_mutex_lock(&log_lock);
    if (!buffering) {
        flush_locked();
        pthread_mutex_unlock(&log_lock);
        return;
    }
    flusher_stop = 1;
    pthread_cond_signal(&flusher_wake);
    pthread_mutex_unlock(&log_lock);
    pthread_join(flusher, NULL);
    pthread_mutex_lock(&log_lock);
    buffering = 0;
    flush_locked();
    pthread_mutex_unlock(&log_lock);
}
