/* The HTTP front: libmicrohttpd with an epoll thread pool. Poll threads only
 * route, rate-limit, read bodies and validate; everything that waits on the
 * database or the enclave runs on the work queue while the connection is
 * suspended (MHD_suspend_connection), and the answer is queued when the
 * worker resumes it. What a route does at each step is the route table's
 * (router.c). A request whose client has left by the time a worker takes
 * it is never started (pa_job_client_gone, handlers.h). */
#ifndef PA_HTTP_H
#define PA_HTTP_H

#include "app.h"
#include "result.h"

typedef struct pa_http pa_http;

/* Binds LISTEN_ADDRESS:ENCLAVE_PORT and starts serving. NULL on failure (the
 * reason is logged). */
pa_http *pa_http_start(pa_app *app);

/* Graceful stop, bounded by grace_ms: refuse new connections at once (the
 * listening socket is shut down, so connects are refused rather than left
 * waiting), answer every queued request that has not started 503
 * server_busy, wait for running requests and for answers to be sent until
 * the deadline, then stop the daemon and free h: 0. -1 when requests are
 * still running at the deadline: the daemon is left running and h is not
 * freed, because stopping it under a suspended connection would abort; the
 * caller is expected to exit the process. */
PA_MUST_USE int pa_http_stop(pa_http *h, int grace_ms);

#endif
