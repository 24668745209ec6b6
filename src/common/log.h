/* One-line structured logs on stderr: `time level component: message`.
 * Rule: never pass a request body, a key, a secret, a session id or
 * ciphertext to these functions. */
#ifndef PA_LOG_H
#define PA_LOG_H

void pa_log_set_component(const char *name);
void pa_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pa_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pa_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
