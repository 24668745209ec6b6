/* One-line logs on stderr (or LOG_FILE, see pa_log_open_file).
 * LOG_FORMAT=json (read by pa_log_set_component): one JSON object per line,
 * {"time","level","component","msg"}, and for the server's access lines
 * {"time","level","component","event":"request","request_id","method",
 *  "route","status","error","duration_ms","client"}. Otherwise text:
 * `time level component: message`.
 * Rule: never pass a request body, a key, a secret, a session id, a job id
 * or ciphertext to these functions (tests/security/test_logs.py checks). */
#ifndef PA_LOG_H
#define PA_LOG_H

#include <stdint.h>

#include "result.h"

/* Names the process in every line and reads LOG_FORMAT ("json" or text). */
void pa_log_set_component(const char *name);
int pa_log_json(void);

void pa_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pa_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pa_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One answered HTTP request. Every string is a static name or text the
 * server made (route template, error code, its own request id, a numeric
 * address), never client-chosen text. */
typedef struct {
    const char *request_id;
    const char *method;
    const char *route;
    unsigned status;
    const char *error; /* NULL on success */
    int64_t duration_ms;
    const char *client; /* "" when unknown */
    int aborted;        /* the client went away before the answer */
} pa_log_access_line;
void pa_log_access(const pa_log_access_line *a);

/* LOG_FILE: appends to path instead of the inherited stderr by putting it
 * on descriptor 2, so whatever writes to stderr (libpq notices, a
 * supervised enclave started afterwards) goes there too. Called again
 * (SIGHUP) it opens the path anew: after logrotate's rename the old file is
 * closed and a new one created. 0 or -1 (errno set; logging stays where it
 * was). */
PA_MUST_USE int pa_log_open_file(const char *path);

/* Buffered mode (the server): info lines are collected in memory and
 * written at most every 200 ms or when 64 KiB are due, by a thread started
 * here; warnings and errors write what is pending and themselves at once.
 * So a busy access log costs a copy per request, not a write(2). */
PA_MUST_USE int pa_log_start_buffering(void);
/* Writes what is buffered (and stops the flusher thread when stopping). */
void pa_log_flush(void);
void pa_log_stop_buffering(void);

#endif
