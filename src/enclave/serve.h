/* The enclave's request server: one epoll thread owns every connection and
 * reads frames (docs/IPC.md framing) without blocking; complete requests go
 * to a fixed pool of worker threads; answers are written back by the epoll
 * thread. A connection costs a few hundred bytes, not a thread, so idle or
 * half-sent connections cannot starve the enclave: they time out, and at the
 * connection cap the longest-idle one is closed to admit a new one. */
#ifndef PA_SERVE_H
#define PA_SERVE_H

#include "enclave_only.h"

#include <signal.h>
#include <stddef.h>

#include "result.h"

/* Answers one request frame: a malloc'd response (the epoll thread frees
 * it), or NULL to close the connection. Called from worker threads. The
 * request buffer is wiped by the server when the handler returns. */
typedef char *(*pa_serve_handler)(void *ud, const char *req, size_t len);

typedef struct {
    int listen_fd;            /* bound and listening (unix or vsock); the caller closes it */
    long workers;             /* requests handled at once (PERFAGG_ENCLAVE_THREADS) */
    int idle_timeout_ms;      /* a connection that makes no progress for this long is closed */
    unsigned max_connections; /* 0: derived from RLIMIT_NOFILE */
    size_t max_buffered;      /* bytes of request frames held at once (0: 64 MiB) */
    pa_serve_handler handler;
    void *ud;
} pa_serve_config;

/* Serves until *stop becomes non-zero, then stops accepting and waits up to
 * grace_ms for requests in progress. Returns 0 when everything ended, 1 when
 * requests were still running at the deadline (the caller must _exit rather
 * than tear down what they use), -1 when the server could not start. */
PA_MUST_USE int pa_serve_run(const pa_serve_config *cfg, volatile sig_atomic_t *stop, int grace_ms);

#endif
