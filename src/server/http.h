/* The HTTP front: libmicrohttpd with an epoll thread pool. Poll threads only
 * route, rate-limit, read bodies and validate; everything that waits on the
 * database or the enclave runs on the work queue while the connection is
 * suspended (MHD_suspend_connection), and the answer is queued when the
 * worker resumes it. */
#ifndef PA_HTTP_H
#define PA_HTTP_H

#include "app.h"

typedef struct pa_http pa_http;

/* Binds LISTEN_ADDRESS:ENCLAVE_PORT and starts serving. NULL on failure (the
 * reason is logged). */
pa_http *pa_http_start(pa_app *app);

/* Graceful stop, in order: stop accepting connections, let the work queue
 * finish every queued job (their connections get their answers), wait up to
 * grace_ms for in-flight requests to be answered, then stop the daemon. The
 * work queue is drained by this call. */
void pa_http_stop(pa_http *h, int grace_ms);

#endif
