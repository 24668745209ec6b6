/* perfagg-server: the untrusted host. Reads its configuration, opens the
 * database pool, starts the work queue, the HTTP front and the sweeper, and
 * stops them in reverse order on SIGINT or SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "sweeper.h"

#define WORKERS 16
#define QUEUE_CAPACITY 256
#define RATELIMIT_MAX_KEYS 100000
#define STOP_GRACE_MS 10000

static const char *env_lookup(const char *name, void *ud)
{
    (void)ud;
    return getenv(name);
}

int main(int argc, char **argv)
{
    (void)argv;
    pa_log_set_component("perfagg-server");
    if (argc > 1) {
        fprintf(stderr, "usage: perfagg-server (configured by environment variables, see "
                        "docs/API.md)\n");
        return 2;
    }

    pa_app app;
    memset(&app, 0, sizeof app);
    char err[256];
    if (pa_config_load(&app.cfg, env_lookup, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "perfagg-server: %s\n", err);
        return 2;
    }

    /* Signals are taken synchronously by this thread only: block them before
     * any other thread exists so every thread inherits the mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    pa_http *http = NULL;
    pa_sweeper *sweeper = NULL;
    app.db = pa_db_open(app.cfg.database_url, app.cfg.db_pool);
    app.rl = pa_ratelimit_new(app.cfg.rate_limit_max, app.cfg.rate_limit_window_ms,
                              RATELIMIT_MAX_KEYS);
    app.wq = pa_workq_new(WORKERS, QUEUE_CAPACITY);
    if (app.db == NULL || app.rl == NULL || app.wq == NULL) {
        pa_log_error("start-up failed: cannot create the database pool, rate limiter or workers");
        goto cleanup;
    }
    http = pa_http_start(&app);
    if (http == NULL)
        goto cleanup;
    sweeper = pa_sweeper_start(app.db, app.cfg.cleanup_interval_s);
    if (sweeper == NULL) {
        pa_log_error("start-up failed: cannot start the sweeper");
        goto cleanup;
    }
    pa_log_info("ready: enclave socket %s, database pool %d, %ld requests per %lld ms per client",
                app.cfg.enclave_socket, app.cfg.db_pool, app.cfg.rate_limit_max,
                (long long)app.cfg.rate_limit_window_ms);

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {
    }
    pa_log_info("received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;

cleanup:
    pa_sweeper_stop(sweeper);
    pa_http_stop(http, STOP_GRACE_MS);
    pa_workq_free(app.wq);
    pa_ratelimit_free(app.rl);
    if (app.db != NULL)
        pa_db_close(app.db);
    pa_config_free(&app.cfg);
    if (rc == 0)
        pa_log_info("stopped");
    return rc;
}
