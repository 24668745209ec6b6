#include "supervisor.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "timeutil.h"

struct pa_supervisor {
    char *path;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;  /* under lock */
    pid_t pid; /* the running child, 0 when none (under lock) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pa_supervisor_backoff(int64_t prev_ms, int64_t ran_ms)
{
    if (prev_ms <= 0 || ran_ms >= PA_SUPERVISOR_HEALTHY_RUN_MS)
        return PA_SUPERVISOR_BACKOFF_MIN_MS;
    int64_t next = prev_ms * 2;
    return next > PA_SUPERVISOR_BACKOFF_MAX_MS ? PA_SUPERVISOR_BACKOFF_MAX_MS : next;
}

/* In the child of a multi-threaded process: async-signal-safe calls only. */
static void exec_child(const char *path)
{
    sigset_t none;
    sigemptyset(&none);
    /* The server blocks SIGINT/SIGTERM in every thread (it takes them with
     * sigwait) and ignores SIGPIPE; the enclave must start with neither. */
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &dfl, NULL);
    /* The enclave must not outlive the server that supervises it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Nothing of the host's (HTTP socket, database connections) crosses. */
    syscall(SYS_close_range, 3u, ~0u, 0u);
    char *argv[] = {(char *)path, NULL};
    execv(path, argv);
    _exit(127);
}

static void *supervise(void *arg)
{
    pa_supervisor *s = arg;
    int64_t backoff = 0;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        pid_t pid = fork();
        if (pid == 0)
            exec_child(s->path);
        int64_t started = mono_ms();
        if (pid < 0) {
            pa_log_error("supervisor: cannot start the enclave: %s", strerror(errno));
        } else {
            s->pid = pid;
            pa_log_info("supervisor: started the enclave (%s, pid %d)", s->path, (int)pid);
            pthread_mutex_unlock(&s->lock);
            /* Wait without reaping, forget the pid under the lock, then
             * reap: pa_supervisor_stop never signals a pid that the kernel
             * could already have given to another process. */
            siginfo_t info;
            while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
            }
            pthread_mutex_lock(&s->lock);
            s->pid = 0;
            int status = 0;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            if (s->stop)
                break;
            pa_metrics_enclave_restart();
            if (WIFSIGNALED(status))
                pa_log_error("supervisor: the enclave (pid %d) was killed by signal %d", (int)pid,
                             WTERMSIG(status));
            else
                pa_log_error("supervisor: the enclave (pid %d) exited with status %d", (int)pid,
                             WEXITSTATUS(status));
        }
        backoff = pa_supervisor_backoff(backoff, mono_ms() - started);
        pa_log_info("supervisor: restarting the enclave in %lld ms", (long long)backoff);
        struct timespec until = pa_deadline_after_ms(backoff);
        while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

pa_supervisor *pa_supervisor_start(const char *path)
{
    if (access(path, X_OK) != 0) {
        pa_log_error("supervisor: PERFAGG_ENCLAVE_EXEC %s is not executable", path);
        return NULL;
    }
    pa_supervisor *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, supervise, s) != 0) {
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s->path);
        free(s);
        return NULL;
    }
    return s;
}

void pa_supervisor_stop(pa_supervisor *s, int64_t timeout_ms)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pid_t pid = s->pid;
    if (pid > 0)
        kill(pid, SIGTERM);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    int64_t end = mono_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int gone = s->pid == 0;
        pthread_mutex_unlock(&s->lock);
        if (gone || pid <= 0)
            break;
        if (mono_ms() >= end) {
            pa_log_warn("supervisor: the enclave did not stop in %lld ms; killing it",
                        (long long)timeout_ms);
            kill(pid, SIGKILL);
            break;
        }
        usleep(20 * 1000);
    }
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}
