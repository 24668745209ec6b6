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
    int used;      /* the slot holds a job (a cancelled running one until its run stops) */
    int findable;  /* its id answers (not cancelled, not handed over) */
    int started;   /* a runner took it */
    int done;      /* answer is the run's answer frame */
    int cancelled; /* the run stops at its next page; its runner frees the slot */
    uint64_t seq;  /* order of arrival: runners take the oldest waiting job */
    char id[PA_UUID_STR_LEN];
    pa_exchange_progress pr;
    char *answer;
    int64_t done_ms;
    json_t *req; /* the aggregate request (an envelope: ciphertext only) */
    pa_enclave *e;
} job;

/* Runs that fetch and aggregate at once, each on a runner thread of a fixed
 * pool; the other jobs wait their turn (status "running", no page yet). A
 * run holds its fill list, a page of the exchange's answer and its JSON tree
 * (~6 MB for 10,000 fills), and under mlockall every thread's whole stack is
 * resident: 16 runs on 16 threads kept the enclave above 120 MB, 4 runners
 * keep it near 64 MB (make bench, docs/BENCHMARKS.md). 4 already keep 2
 * cores busy, and real Binance allows about four runs a minute per address
 * anyway (docs/BINANCE.md).
 *
 * The runners are joined at stop, never detached: OpenSSL frees a thread's
 * error queue (ERR_STATE) and random generators in its thread-local
 * destructors, and a thread still in them when main returns finds OpenSSL's
 * atexit cleanup already past (LeakSanitizer's 904 bytes from CRYPTO_zalloc
 * at stop). */
#define RUNNERS 4

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_changed; /* a job ended (CLOCK_MONOTONIC) */
static pthread_cond_t work_waiting = PTHREAD_COND_INITIALIZER; /* a job to take, or stop */
static pthread_once_t jobs_once = PTHREAD_ONCE_INIT;
static job jobs[PA_IPC_JOBS_MAX];
static pthread_t runners[RUNNERS];
static int runners_live; /* started and not joined; under jobs_lock */
static int stopping;     /* runners end once no job waits; under jobs_lock */
static uint64_t next_seq;

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

/* Under jobs_lock: the oldest job no runner has taken, or NULL. */
static job *next_waiting(void)
{
    job *oldest = NULL;
    for (size_t i = 0; i < PA_IPC_JOBS_MAX; i++)
        if (jobs[i].used && !jobs[i].started && (oldest == NULL || jobs[i].seq < oldest->seq))
            oldest = &jobs[i];
    return oldest;
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

static void *runner_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&jobs_lock);
    for (;;) {
        job *j;
        while ((j = next_waiting()) == NULL && !stopping)
            pthread_cond_wait(&work_waiting, &jobs_lock);
        if (j == NULL)
            break;
        j->started = 1;
        pthread_mutex_unlock(&jobs_lock);

        pa_aggregate_hooks hooks = {
            .max_wait_ms = (long)PA_IPC_JOB_MAX_WAIT_MS,
            .progress = on_progress,
            .progress_ud = j,
        };
        /* j->req and j->e do not change while the job runs */
        char *answer = pa_enclave_aggregate(j->e, j->req, &hooks);

        pthread_mutex_lock(&jobs_lock);
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
    }
    pthread_mutex_unlock(&jobs_lock);
    return NULL;
}

/* Under jobs_lock: the pool started (all of it at the first job). 0 while at
 * least one runner runs: fewer only means fewer runs at once. */
static int runners_start(void)
{
    while (runners_live < RUNNERS) {
        pthread_attr_t attr;
        int ok = pthread_attr_init(&attr) == 0;
        ok = ok && pthread_attr_setstacksize(&attr, PA_WORKER_STACK) == 0 &&
             pthread_create(&runners[runners_live], &attr, runner_main, NULL) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) {
            pa_log_error("jobs: cannot start a runner thread (%d running)", runners_live);
            break;
        }
        runners_live++;
    }
    return runners_live > 0 ? 0 : -1;
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
    job *j = NULL;
    for (size_t i = 0; i < PA_IPC_JOBS_MAX && j == NULL; i++)
        if (!jobs[i].used)
            j = &jobs[i];
    char *answer = NULL;
    if (stopping || runners_start() != 0) {
        answer = pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "cannot start the job");
        goto unlock;
    }
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
    j->seq = next_seq++;
    j->req = copy;
    j->e = e;
    copy = NULL;
    pthread_cond_signal(&work_waiting);
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
    job *j = find(pa_json_str(req, "job_id"));
    if (j == NULL) {
        pthread_mutex_unlock(&jobs_lock);
        return pa_ipc_error_answer(PA_IPC_E_JOB_NOT_FOUND, "no such job");
    }
    if (j->done || !j->started) {
        slot_clear(j); /* finished, or never to run */
    } else {
        j->cancelled = 1; /* its runner frees the slot when the run stops */
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
    stopping = 1;
    for (size_t i = 0; i < PA_IPC_JOBS_MAX; i++) {
        if (jobs[i].used && !jobs[i].started) {
            slot_clear(&jobs[i]); /* never to run */
        } else if (jobs[i].used && !jobs[i].done) {
            jobs[i].cancelled = 1; /* stops at its next page */
            jobs[i].findable = 0;
        }
    }
    pthread_cond_broadcast(&work_waiting); /* idle runners end */
    size_t running;
    for (;;) {
        running = 0;
        for (size_t i = 0; i < PA_IPC_JOBS_MAX; i++)
            running += jobs[i].used && !jobs[i].done;
        if (running == 0 || pthread_cond_timedwait(&jobs_changed, &jobs_lock, &until) == ETIMEDOUT)
            break;
    }
    int live = runners_live;
    pthread_mutex_unlock(&jobs_lock);
    if (running > 0) {
        pa_log_warn("jobs: %zu still running after %lld ms: abandoned", running,
                    (long long)grace_ms);
        return -1;
    }
    /* No run left and stopping set: every runner is past its last use of
     * the table, and the joins are immediate. */
    for (int i = 0; i < live; i++)
        pthread_join(runners[i], NULL);
    pthread_mutex_lock(&jobs_lock);
    runners_live = 0;
    pthread_mutex_unlock(&jobs_lock);
    return 0;
}
