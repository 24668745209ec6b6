#include "logsink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

#define BUF_BYTES (64u * 1024)
#define FLUSH_EVERY_MS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char pending[BUF_BYTES]; /* under lock */
static size_t pending_len;
static int running, stopping;
static pthread_cond_t wake; /* on CLOCK_MONOTONIC */
static int wake_ready;
static pthread_t flusher;

/* Under lock. */
static void flush_locked(void)
{
    pa_log_write_stderr(pending, pending_len);
    pending_len = 0;
}

static void sink(const char *line, size_t n, int urgent)
{
    pthread_mutex_lock(&lock);
    if (urgent || n > sizeof pending) {
        flush_locked();
        pa_log_write_stderr(line, n);
    } else {
        if (pending_len + n > sizeof pending)
            flush_locked();
        memcpy(pending + pending_len, line, n);
        pending_len += n;
    }
    pthread_mutex_unlock(&lock);
}

int pa_logsink_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&lock);
    flush_locked(); /* what was due goes to the file it was meant for */
    /* dup2 replaces descriptor 2 atomically: no write ever finds it closed */
    int rc = dup2(fd, STDERR_FILENO) < 0 ? -1 : 0;
    int e = errno;
    pthread_mutex_unlock(&lock);
    close(fd);
    errno = e;
    return rc;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!stopping) {
        struct timespec until = pa_deadline_after_ms(FLUSH_EVERY_MS);
        pthread_cond_timedwait(&wake, &lock, &until);
        flush_locked();
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int pa_logsink_start(void)
{
    pthread_mutex_lock(&lock);
    int rc = 0;
    if (!wake_ready) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        wake_ready = pthread_cond_init(&wake, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!wake_ready)
        rc = -1;
    else if (!running) {
        stopping = 0;
        rc = pthread_create(&flusher, NULL, flusher_main, NULL) == 0 ? 0 : -1;
        running = rc == 0;
    }
    pthread_mutex_unlock(&lock);
    if (rc == 0)
        pa_log_set_sink(sink);
    return rc;
}

void pa_logsink_flush(void)
{
    pthread_mutex_lock(&lock);
    flush_locked();
    pthread_mutex_unlock(&lock);
}

void pa_logsink_stop(void)
{
    pthread_mutex_lock(&lock);
    int was_running = running;
    stopping = 1;
    if (was_running)
        pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    if (was_running)
        pthread_join(flusher, NULL);
    pa_log_set_sink(NULL);
    pthread_mutex_lock(&lock);
    running = 0;
    flush_locked();
    pthread_mutex_unlock(&lock);
}
