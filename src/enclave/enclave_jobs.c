/* Aggregate jobs (enclave_jobs.h). One fixed table under one lock; the run itself is
 * pa_enclave_aggregate, the same code as the synchronous op. */
#include "enclave_jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ipc.h"
#include "ipc_contract.h"
#include "json_strict.h"
#include "log.h"
#include "thread_stack.h"
#include "timeutil.h"
#include "uuid.h"


typedef struct {
    int used;      /* the slot holds a job (a cancelled one until its thread ends) */
    int findable;  /* its id answers (not cancelled, not handed over) */
    int done;      /* answer is the run's answer frame */
    int cancelled; /* the run stops at its next page; the thread frees the slot */
    char id[PA_UUID_STR_LEN];
    pa_exchange_progress pr;
    char *answer;
    int64_t done_ms;
    json_t *req; /* the aggregate request (an envelope: ciphertext only) */
    pa_enclave *e;
} job;

/* The thread of slot i's job. Joinable, not detached: the stop must know
 * that a thread has ended completely, its thread-local destructors
 * included. OpenSSL frees a thread's error queue (ERR_STATE) and random
 * generators in those; a thread still in them when main returns finds
 * OpenSSL's atexit cleanup already past, and they are never freed
 * (LeakSanitizer's 904 bytes from CRYPTO_zalloc at stop). A slot is reused
 * only once its thread is joined. */
typedef struct {
    pthread_t th;
    int live;  /* started, not yet joined */
    int ended; /* job_main is past its last use of the slot: a join is immediate */
} runner;

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_changed; /* a job ended (CLOCK_MONOTONIC) */
static pthread_once_t jobs_once = PTHREAD_ONCE_INIT;
static job jobs[PA_IPC_JOBS_MAX];
static runner runners[PA_IPC_JOBS_MAX]; /* by slot, under jobs_lock */

static void jobs_init(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&jobs_changed, &ca);
    pthread_condattr_destroy(&ca);
}

/* Under jobs_lock. */
static void slot_clear(job *j)
{
    free(j->answer);
    json_decref(j->req);
    memset(j, 0, sizeof *j);
}

/* Under jobs_lock: the job whose id is id, NULL when none. Compared in
 * constant time: the id is a capability. */
static job *find(const char *id)
{
    if (id == NULL || strlen(id) != PA_UUID_STR_LEN - 1)
        return NULL;
    for (size_t i = 0; i < PA_IPC_JOBS_MAX; i++)
        if (jobs[i].used && jobs[i].findable &&
            CRYPTO_memcmp(jobs[i].id, id, PA_UUID_STR_LEN - 1) == 0)
            return &jobs[i];
    return NULL;
}

/* Under jobs_lock: drops finished jobs nobody asked for in time. */
static void sweep(int64_t now)
{
    for (size_t i = 0; i < PA_IPC_JOBS_MAX; i++)
        if (jobs[i].used && jobs[i].done && now - jobs[i].done_ms > PA_IPC_JOB_KEEP_MS)
            slot_clear(&jobs[i]);
}

/* Under jobs_lock: joins the threads whose jobs have ended. Holding the
 * lock is safe: an ended thread never takes it again. */
static void reap(void)
{
    for (size_t i = 0; i < PA_IPC_JOBS_MAX; i++) {
        if (runners[i].live && runners[i].ended) {
            pthread_join(runners[i].th, NULL);
            memset(&runners[i], 0, sizeof runners[i]);
        }
    }
}

static int on_progress(void *ud, const pa_exchange_progress *pr)
{
    job *j = ud;
    pthread_mutex_lock(&jobs_lock);
    j->pr = *pr;
    int stop = j->cancelled;
    pthread_mutex_unlock(&jobs_lock);
    return stop;
}

static void *job_main(void *arg)
{
    job *j = arg;
    pa_aggregate_hooks hooks = {
        .max_wait_ms = (long)PA_IPC_JOB_MAX_WAIT_MS,
        .progress = on_progress,
        .progress_ud = j,
    };
    /* j->req and j->e do not change while the job runs */
    char *answer = pa_enclave_aggregate(j->e, j->req, &hooks);
    pthread_mutex_lock(&jobs_lock);
    runners[j - jobs].ended = 1;
    if (j->cancelled) {
        free(answer);
        slot_clear(j);
    } else {
        j->answer = answer;
        j->done = 1;
        j->done_ms = pa_now_ms();
        json_decref(j->req);
        j->req = NULL;
    }
    pthread_cond_broadcast(&jobs_changed);
    pthread_mutex_unlock(&jobs_lock);
    return NULL;
}

char *pa_enclave_job_start(pa_enclave *e, const json_t *req)
{
    pthread_once(&jobs_once, jobs_init);
    json_t *copy = json_deep_copy(req);
    json_object_del(copy, "op");
    if (copy == NULL)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "out of memory");
    pthread_mutex_lock(&jobs_lock);
    sweep(pa_now_ms());
    reap();
    job *j = NULL;
    for (size_t i = 0; i < PA_IPC_JOBS_MAX && j == NULL; i++)
        if (!jobs[i].used && !runners[i].live)
            j = &jobs[i];
    char *answer = NULL;
    if (j == NULL) {
        answer = pa_ipc_error_answer(PA_IPC_E_TOO_MANY_JOBS,
                                     "the enclave already holds its maximum of jobs");
        goto unlock;
    }
    if (pa_uuid_v4(j->id) != 0) {
        answer = pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "no randomness");
        goto unlock;
    }
    j->used = 1;
    j->findable = 1;
    j->req = copy;
    j->e = e;
    copy = NULL;
    pthread_attr_t attr;
    runner *r = &runners[j - jobs];
    int started = pthread_attr_init(&attr) == 0;
    started = started && pthread_attr_setstacksize(&attr, PA_WORKER_STACK) == 0 &&
              pthread_create(&r->th, &attr, job_main, j) == 0;
    pthread_attr_destroy(&attr);
    r->live = started; /* job_main sets ended under jobs_lock, held here */
    if (!started) {
        pa_log_error("jobs: cannot start a job thread");
        slot_clear(j);
        answer = pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "cannot start the job");
        goto unlock;
    }
    answer = pa_ipc_ok_answer(json_pack("{s:s}", "job_id", j->id));
    pa_log_info("jobs: an aggregate job started");
unlock:
    pthread_mutex_unlock(&jobs_lock);
    json_decref(copy);
    return answer;
}

/* The run's answer frame as the job answer's "result" or "error": the
 * frame without its "ok". */
static json_t *outcome(const char *frame, int *ok)
{
    json_t *a = frame != NULL ? pa_json_parse(frame, strlen(frame), PA_IPC_MAX_FRAME) : NULL;
    *ok = json_is_true(json_object_get(a, "ok"));
    if (a != NULL)
        json_object_del(a, "ok");
    return a;
}

char *pa_enclave_job_status(const json_t *req)
{
    pthread_once(&jobs_once, jobs_init);
    const char *id = pa_json_str(req, "job_id");
    const json_t *w = json_object_get(req, "wait_ms");
    int64_t wait_ms = json_is_integer(w) ? (int64_t)json_integer_value(w) : 0;
    struct timespec until = pa_deadline_after_ms(wait_ms);

    pthread_mutex_lock(&jobs_lock);
    reap();
    job *j = find(id);
    while (j != NULL && !j->done && wait_ms > 0) {
        if (pthread_cond_timedwait(&jobs_changed, &jobs_lock, &until) == ETIMEDOUT)
            break;
        j = find(id); /* cancelled or handed over meanwhile */
    }
    if (j == NULL) {
        pthread_mutex_unlock(&jobs_lock);
        return pa_ipc_error_answer(PA_IPC_E_JOB_NOT_FOUND, "no such job");
    }
    json_t *pr = json_pack("{s:I, s:I, s:I}", "symbols_done", (json_int_t)j->pr.symbols_done,
                           "symbols_total", (json_int_t)j->pr.symbols_total, "pages",
                           (json_int_t)j->pr.pages);
    json_t *r = NULL;
    if (!j->done) {
        r = json_pack("{s:s, s:o}", "status", "running", "progress", pr);
    } else {
        int ok = 0;
        json_t *o = outcome(j->answer, &ok);
        r = o != NULL ? json_pack("{s:s, s:o, s:o}", "status", ok ? "succeeded" : "failed",
                                  "progress", pr, ok ? "result" : "error", o)
                      : NULL;
        if (o == NULL)
            json_decref(pr);
        slot_clear(j); /* handed over: the host stores it or answers the error */
    }
    pthread_mutex_unlock(&jobs_lock);
    return pa_ipc_ok_answer(r);
}

char *pa_enclave_job_cancel(const json_t *req)
{
    pthread_once(&jobs_once, jobs_init);
    pthread_mutex_lock(&jobs_lock);
    reap();
    job *j = find(pa_json_str(req, "job_id"));
    if (j == NULL) {
        pthread_mutex_unlock(&jobs_lock);
        return pa_ipc_error_answer(PA_IPC_E_JOB_NOT_FOUND, "no such job");
    }
    if (j->done) {
        slot_clear(j);
    } else {
        j->cancelled = 1; /* the thread frees the slot when the run stops */
        j->findable = 0;
    }
    pthread_cond_broadcast(&jobs_changed);
    pthread_mutex_unlock(&jobs_lock);
    pa_log_info("jobs: an aggregate job was cancelled");
    return pa_ipc_ok_answer(json_object());
}

int pa_enclave_jobs_stop(int64_t grace_ms)
{
    pthread_once(&jobs_once, jobs_init);
    struct timespec until = pa_deadline_after_ms(grace_ms);
    pthread_mutex_lock(&jobs_lock);
    for (size_t i = 0; i < PA_IPC_JOBS_MAX; i++) {
        if (jobs[i].used && !jobs[i].done) {
            jobs[i].cancelled = 1;
            jobs[i].findable = 0;
        }
    }
    size_t running;
    for (;;) {
        running = 0;
        for (size_t i = 0; i < PA_IPC_JOBS_MAX; i++)
            running += jobs[i].used && !jobs[i].done;
        if (running == 0 || pthread_cond_timedwait(&jobs_changed, &jobs_lock, &until) == ETIMEDOUT)
            break;
    }
    /* Every job that ended has its thread joined before the caller tears
     * down: with none running, that is every thread. */
    reap();
    pthread_mutex_unlock(&jobs_lock);
    if (running > 0)
        pa_log_warn("jobs: %zu still running after %lld ms: abandoned", running,
                    (long long)grace_ms);
    return running > 0 ? -1 : 0;
}
