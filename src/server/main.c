/* perfagg-server: the untrusted host. Reads its configuration, opens the
 * database pool, starts the work queue, the health prober, the HTTP front
 * and the sweeper, and stops them in reverse order on SIGINT or SIGTERM,
 * within a bounded time. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "fdlimit.h"
#include "handler_health.h"
#include "http.h"
#include "log.h"
#include "logsink.h"
#include "supervisor.h"
#include "sweeper.h"

/* Workers per queue (router.h). Enclave work mostly waits (on an exchange,
 * for seconds): many threads. Database routes are short and share the pool
 * (PERFAGG_DB_POOL, 8 by default): as many as it has. Attestation documents
 * are one signature each, CPU-bound: two keep the enclave's signing busy. */
static const int queue_workers[PA_QUEUE_COUNT] = {
    [PA_QUEUE_ENCLAVE] = 16, [PA_QUEUE_DATABASE] = 8, [PA_QUEUE_ATTEST] = 2};
#define QUEUE_CAPACITY 256
#define RATELIMIT_MAX_KEYS 100000
/* The whole stop: requests still running after it are cut off. */
#define STOP_GRACE_MS 10000
/* Each background thread (prober, sweeper) gets at least this long to end
 * after the HTTP side, even when the requests used up the grace period. */
#define STOP_THREAD_MIN_MS 1000
/* The first health probes, before the port opens. */
#define HEALTH_FIRST_WAIT_MS 3000
/* HTTP connections at most, whatever the descriptor budget allows. */
#define CONNECTION_CAP 1024
#define CONNECTION_MIN 16
/* Descriptors kept out of the connection budget besides one per worker
 * (its enclave call) and one per database connection: stdio, the listening
 * socket, libmicrohttpd's epoll and wake-up descriptors, the prober's enclave
 * call, and slack. */
#define FD_MARGIN 64

static const char *env_lookup(const char *name, void *ud)
{
    (void)ud;
    return getenv(name);
}

/* The browser pages (static_files.h): PERFAGG_WEB_DIR when set (then it
 * must load), else web/ beside this executable (build/web after `make`),
 * where a missing bundle only means no pages: the API works without them. */
static int load_pages(pa_static *pages)
{
    char err[512];
    const char *dir = getenv("PERFAGG_WEB_DIR");
    if (dir != NULL && *dir != '\0') {
        if (pa_static_load(pages, dir, err, sizeof err) != 0) {
            pa_log_error("start-up failed: PERFAGG_WEB_DIR: %s", err);
            return -1;
        }
        pa_log_info("serving %zu page file(s) from %s", pages->n, dir);
        return 0;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
    char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
    if (slash == NULL) {
        pa_log_warn("no browser pages: cannot locate this executable (set PERFAGG_WEB_DIR)");
        return 0;
    }
    memcpy(slash, "/web", sizeof "/web"); /* room: readlink left 16 bytes */
    char manifest[4200];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", exe);
    if (access(manifest, F_OK) != 0) {
        pa_log_info("no browser pages (%s not found; set PERFAGG_WEB_DIR): serving the API only",
                    manifest);
        return 0;
    }
    if (pa_static_load(pages, exe, err, sizeof err) != 0) {
        pa_log_error("start-up failed: the browser pages: %s", err);
        return -1;
    }
    pa_log_info("serving %zu page file(s) from %s", pages->n, exe);
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t time_left(int64_t end)
{
    int64_t left = end - mono_ms();
    return left > STOP_THREAD_MIN_MS ? left : STOP_THREAD_MIN_MS;
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

    /* LOG_FORMAT (json or text) and LOG_FILE: docs/OPERATIONS.md "Logs". */
    const char *log_format = getenv("LOG_FORMAT");
    if (log_format != NULL && *log_format != '\0' && strcmp(log_format, "json") != 0 &&
        strcmp(log_format, "text") != 0) {
        fprintf(stderr, "perfagg-server: LOG_FORMAT must be json or text\n");
        pa_config_free(&app.cfg);
        return 2;
    }
    const char *log_file = getenv("LOG_FILE");
    if (log_file != NULL && *log_file == '\0')
        log_file = NULL;
    if (log_file != NULL && pa_logsink_open_file(log_file) != 0) {
        fprintf(stderr, "perfagg-server: cannot open LOG_FILE %s: %s\n", log_file, strerror(errno));
        pa_config_free(&app.cfg);
        return 1;
    }

    /* Signals are taken synchronously by this thread only: block them before
     * any other thread exists so every thread inherits the mask. SIGHUP
     * reopens LOG_FILE (log rotation). */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The access log is buffered (a line per request must not cost a
     * write(2) per request): at most 200 ms of info lines are pending. */
    if (pa_logsink_start() != 0)
        pa_log_warn("cannot start the log flusher; logging unbuffered");

    int rc = 1;
    pa_http *http = NULL;
    pa_sweeper *sweeper = NULL;
    pa_supervisor *supervisor = NULL;

    long nofile = pa_fdlimit_raise();
    unsigned workers = PA_JOBS_THREADS; /* each may hold an enclave connection */
    for (int q = 0; q < PA_QUEUE_COUNT; q++)
        workers += (unsigned)queue_workers[q];
    unsigned reserve = workers + (unsigned)app.cfg.db_pool + FD_MARGIN;
    app.connection_limit = pa_fdlimit_connections(nofile, reserve, CONNECTION_CAP);
    if (app.connection_limit < CONNECTION_MIN) {
        pa_log_error("start-up failed: the open-files limit (%ld) leaves room for %u connections; "
                     "raise it (ulimit -n) to at least %u",
                     nofile, app.connection_limit, reserve + CONNECTION_MIN);
        pa_config_free(&app.cfg);
        return 1;
    }

    if (load_pages(&app.pages) != 0) {
        pa_config_free(&app.cfg);
        return 1;
    }

    /* PERFAGG_ENCLAVE_EXEC: this server runs the enclave and restarts it. */
    const char *enclave_exec = getenv("PERFAGG_ENCLAVE_EXEC");
    if (enclave_exec != NULL && *enclave_exec != '\0' &&
        (supervisor = pa_supervisor_start(enclave_exec)) == NULL) {
        pa_static_free(&app.pages);
        pa_config_free(&app.cfg);
        return 1;
    }

    app.db = pa_db_open(app.cfg.database_url, app.cfg.db_pool);
    app.rl = pa_ratelimit_new(app.cfg.rate_limit_max, app.cfg.rate_limit_window_ms,
                              RATELIMIT_MAX_KEYS);
    int queues_ok = 1;
    for (int q = 0; q < PA_QUEUE_COUNT; q++)
        if (queue_workers[q] > 0 &&
            (app.queues[q] = pa_workq_new(queue_workers[q], QUEUE_CAPACITY)) == NULL)
            queues_ok = 0;
    app.quotes = pa_quote_cache_new();
    pa_jobs_config jc = {app.cfg.enclave_socket, app.db, app.cfg.max_results};
    app.jobs = app.db != NULL ? pa_jobs_new(&jc) : NULL;
    app.submits = pa_submit_batch_new(app.db, PA_DB_BATCH_MAX);
    if (app.db == NULL || app.rl == NULL || !queues_ok || app.quotes == NULL || app.jobs == NULL ||
        app.submits == NULL) {
        pa_log_error("start-up failed: cannot create the database pool, rate limiter or workers");
        goto cleanup;
    }
    pa_health_config hc = {
        .probe = {[PA_HEALTH_DATABASE] = pa_health_probe_database,
                  [PA_HEALTH_ENCLAVE] = pa_health_probe_enclave},
        .ud = &app,
        .interval_ms = PA_HEALTH_INTERVAL_MS,
        .stale_ms = PA_HEALTH_STALE_MS,
    };
    app.health = pa_health_start(&hc, HEALTH_FIRST_WAIT_MS);
    if (app.health == NULL) {
        pa_log_error("start-up failed: cannot start the health prober");
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
    pa_log_info("ready: enclave socket %s, database pool %d, %ld requests per %lld ms per client, "
                "open-files limit %ld",
                app.cfg.enclave_socket, app.cfg.db_pool, app.cfg.rate_limit_max,
                (long long)app.cfg.rate_limit_window_ms, nofile);

    int sig = 0;
    for (;;) {
        if (sigwait(&stop_signals, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        if (log_file == NULL)
            pa_log_info("received SIGHUP: no LOG_FILE to reopen");
        else if (pa_logsink_open_file(log_file) != 0)
            pa_log_error("received SIGHUP: cannot reopen LOG_FILE %s: %s; still logging to the "
                         "old file",
                         log_file, strerror(errno));
        else
            pa_log_info("received SIGHUP: reopened LOG_FILE");
    }
    pa_log_info("received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;

cleanup:;
    /* One deadline for the whole stop. Whatever cannot end by then (a
     * request stuck on the enclave, a probe or sweep stuck on the database)
     * is abandoned by exiting: waiting on it could take minutes, and freeing
     * what it still uses is not an option. */
    int64_t end = mono_ms() + STOP_GRACE_MS;
    /* jobs end first (without waiting), so a request waiting on one
     * (request_aggregates) gets its answer within the HTTP layer's grace */
    pa_jobs_stopping(app.jobs);
    if (pa_http_stop(http, STOP_GRACE_MS) != 0 || pa_jobs_stop(app.jobs, time_left(end)) != 0 ||
        pa_health_stop(app.health, time_left(end)) != 0 ||
        pa_sweeper_stop(sweeper, time_left(end)) != 0) {
        pa_supervisor_stop(supervisor, STOP_THREAD_MIN_MS);
        pa_log_error("stopped without waiting for the work still in progress (status 1)");
        pa_logsink_flush();
        _exit(1);
    }
    pa_supervisor_stop(supervisor, time_left(end));
    for (int q = 0; q < PA_QUEUE_COUNT; q++)
        pa_workq_free(app.queues[q]);
    pa_quote_cache_free(app.quotes);
    pa_jobs_free(app.jobs);
    pa_ratelimit_free(app.rl);
    pa_submit_batch_free(app.submits);
    if (app.db != NULL)
        pa_db_close(app.db);
    pa_static_free(&app.pages);
    pa_config_free(&app.cfg);
    if (rc == 0)
        pa_log_info("stopped");
    pa_logsink_stop();
    return rc;
}
