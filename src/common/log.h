/* One-line logs on stderr (the server: or LOG_FILE, src/server/logsink.h).
 * LOG_FORMAT=json (read by pa_log_set_component): one JSON object per line,
 * {"time","level","component","msg"}, and for the server's access lines
 * {"time","level","component","event":"request","request_id","method",
 *  "route","status","error","duration_ms","client"}. Otherwise text:
 * `time level component: message`.
 * Rule: never pass a request body, a key, a secret, a session id, a job id
 * or ciphertext to these functions (tests/security/test_logs.py checks). */
#ifndef PA_LOG_H
#define PA_LOG_H

#include <stddef.h>
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

/* Where finished lines go: by default each is written to stderr at once
 * (one write(2) per line). The server installs a buffered sink
 * (src/server/logsink.h); urgent is set for warnings and errors. */
typedef void (*pa_log_sink_fn)(const char *line, size_t len, int urgent);
void pa_log_set_sink(pa_log_sink_fn fn);
/* write(2) of a whole buffer to descriptor 2 (for sinks). */
void pa_log_write_stderr(const char *p, size_t n);

#endif
