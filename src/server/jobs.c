/* Aggregate jobs on the host (jobs.h): one table under one lock, a
 * condition variable for whoever waits on a job, and a pa_workq of
 * PA_JOBS_THREADS runners. */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "aggregate_store.h"
#include "enclave_client.h"
#include "json_strict.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"
#include "uuid.h"
#include "workq.h"

/* A job the enclave has not ended by then is cancelled: the enclave's own
 * allowance (PA_IPC_JOB_MAX_WAIT_MS) plus its calls' timeouts ends it first. */
#define JOB_DEADLINE_MS (2 * PA_IPC_JOB_MAX_WAIT_MS)

typedef enum { J_QUEUED, J_RUNNING, J_SUCCEEDED, J_FAILED } job_state;
static const char *const state_names[] = {"queued", "running", "succeeded", "failed"};

typedef struct ajob {
    char id[PA_UUID_STR_LEN];
    char session_id[PA_UUID_STR_LEN];
    json_t *req; /* the aggregate_start request, until sent */
    job_state state;
    json_int_t symbols_done, symbols_total, pages;
    int revoked;             /* the session was revoked: stop and fail */
    int abandoned;           /* its waiter left before it learned the id: stop */
    int64_t created_ms, finished_ms; /* wall clock */
    pa_reply outcome;        /* finished: what request_aggregates answers */
    pa_jobs *owner;
    struct ajob *next;
} ajob;

struct pa_jobs {
    pa_jobs_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a job finished (CLOCK_MONOTONIC) */
    ajob *all;
    size_t n;
    int stopping;
    pa_workq *q;
};

static void job_free(ajob *a)
{
    json_decref(a->req);
    pa_reply_free(&a->outcome);
    OPENSSL_cleanse(a, sizeof *a); /* two capabilities: the job id and the session id */
    free(a);
}

/* Under lock: drops finished jobs older than PA_JOBS_KEEP_MS. */
static void sweep(pa_jobs *j, int64_t now)
{
    ajob **pp = &j->all;
    while (*pp != NULL) {
        ajob *a = *pp;
        if ((a->state == J_SUCCEEDED || a->state == J_FAILED) &&
            now - a->finished_ms > PA_JOBS_KEEP_MS) {
            *pp = a->next;
            j->n--;
            job_free(a);
        } else {
            pp = &a->next;
        }
    }
}

/* Under lock. Constant-time comparison: the id is a capability. */
static ajob *find(pa_jobs *j, const char *id)
{
    if (id == NULL || strlen(id) != PA_UUID_STR_LEN - 1)
        return NULL;
    for (ajob *a = j->all; a != NULL; a = a->next)
        if (CRYPTO_memcmp(a->id, id, PA_UUID_STR_LEN - 1) == 0)
            return a;
    return NULL;
}

/* Under lock: the job ends with reply (taken). */
static void finish_locked(ajob *a, pa_reply *reply)
{
    pa_reply_free(&a->outcome);
    a->outcome = *reply;
    memset(reply, 0, sizeof *reply);
    a->state = a->outcome.status == 200 ? J_SUCCEEDED : J_FAILED;
    a->finished_ms = pa_now_ms();
    json_decref(a->req);
    a->req = NULL;
    pthread_cond_broadcast(&a->owner->changed);
}

static void finish(ajob *a, pa_reply *reply)
{
    pthread_mutex_lock(&a->owner->lock);
    if (a->revoked && reply->status == 200) { /* revoked while storing: serve nothing */
        pa_reply_free(reply);
        pa_reply_error(reply, 410, "session_revoked",
                       "The session was revoked while the aggregates were computed.");
    }
    finish_locked(a, reply);
    pthread_mutex_unlock(&a->owner->lock);
}

static void fail(ajob *a, unsigned status, const char *code, const char *msg)
{
    pa_reply r;
    memset(&r, 0, sizeof r);
    pa_reply_error(&r, status, code, "%s", msg);
    finish(a, &r);
}

/* The enclave's job state into the table; 1 when the job must stop. */
static int note_progress(ajob *a, const json_t *pr)
{
    pthread_mutex_lock(&a->owner->lock);
    json_int_t d = json_integer_value(json_object_get(pr, "symbols_done"));
    json_int_t t = json_integer_value(json_object_get(pr, "symbols_total"));
    json_int_t p = json_integer_value(json_object_get(pr, "pages"));
    /* never backwards, whatever the enclave answers */
    if (d > a->symbols_done)
        a->symbols_done = d;
    if (t > a->symbols_total)
        a->symbols_total = t;
    if (p > a->pages)
        a->pages = p;
    int stop = a->revoked || a->abandoned || a->owner->stopping;
    pthread_mutex_unlock(&a->owner->lock);
    return stop;
}

static void cancel_in_enclave(const pa_jobs *j, const char *enclave_job)
{
    pa_reply r;
    memset(&r, 0, sizeof r);
    json_t *ans = pa_enclave_call_reply(j->cfg.enclave_socket, PA_IPC_OP_AGGREGATE_CANCEL,
                                        pa_ipc_request_aggregate_cancel(enclave_job), &r);
    json_decref(ans);
    pa_reply_free(&r);
}

/* Why the job stopped early, as its failure. */
static void fail_stopped(ajob *a)
{
    pthread_mutex_lock(&a->owner->lock);
    int revoked = a->revoked, abandoned = a->abandoned;
    pthread_mutex_unlock(&a->owner->lock);
    if (revoked)
        fail(a, 410, "session_revoked",
             "The session was revoked while the aggregates were computed; nothing was stored.");
    else if (abandoned) /* an outcome nobody reads: nobody was told the job's id */
        fail(a, 503, "client_gone",
             "The client left before the answer; the run was cancelled, nothing was stored.");
    else
        fail(a, 503, "server_stopping",
             "The server stopped before the job finished; nothing was stored. Start it again.");
}

static int is_code(const pa_reply *r, const char *code)
{
    return r->error_code != NULL && strcmp(r->error_code, code) == 0;
}

/* Polls the enclave's job until it ends; the job's outcome either way.
 * Short polls (wait_ms 0): a long poll would hold one of the enclave's
 * serving workers per running job. The pause before the next poll is a
 * quarter of the time the job has run so far, from PA_JOBS_POLL_FIRST_MS up
 * to PA_JOBS_POLL_MS: a finished run is noticed at most about 25 % late. A
 * run of 10,000 fills takes about 0.15 s; polls a fixed 250 ms apart
 * answered it at 250 ms at the earliest (docs/BENCHMARKS.md, "Where the time
 * goes"). */
static void follow(ajob *a, const char *enclave_job)
{
    pa_jobs *j = a->owner;
    int64_t start = pa_now_ms();
    for (;;) {
        pa_reply r;
        memset(&r, 0, sizeof r);
        json_t *ans = pa_enclave_call_reply(j->cfg.enclave_socket, PA_IPC_OP_AGGREGATE_JOB,
                                            pa_ipc_request_aggregate_job(enclave_job, 0), &r);
        if (ans == NULL) {
            if (is_code(&r, "enclave_unavailable")) {
                /* refused or closed: the enclave process is gone, and its
                 * jobs (in its memory) with it */
                pa_reply_free(&r);
                pa_reply_error(&r, 503, "enclave_unavailable",
                               "The enclave stopped or could not be reached during the job; "
                               "nothing was signed or stored. Try again later (submit the "
                               "credentials again if the enclave restarted).");
            } else if (is_code(&r, "job_not_found")) {
                pa_reply_free(&r);
                pa_reply_error(&r, 503, "enclave_restarted",
                               "The enclave restarted during the job; nothing was signed or "
                               "stored. Submit the credentials again (they were sealed to the "
                               "old enclave key) and start a new job.");
            }
            finish(a, &r);
            return;
        }
        const char *status = json_string_value(json_object_get(ans, "status"));
        int stop = note_progress(a, json_object_get(ans, "progress"));
        if (status != NULL && strcmp(status, "succeeded") == 0) {
            if (stop) {
                json_decref(ans);
                fail_stopped(a);
                return;
            }
            pa_aggregate_store(j->cfg.db, j->cfg.max_results, a->session_id,
                               json_object_get(ans, "result"), &r);
            json_decref(ans);
            finish(a, &r);
            return;
        }
        if (status != NULL && strcmp(status, "failed") == 0) {
            const json_t *e = json_object_get(ans, "error");
            pa_ipc_error code;
            if (pa_ipc_error_from_name(json_string_value(json_object_get(e, "error")), &code) != 0)
                code = PA_IPC_E_INTERNAL_ERROR;
            /* the run's refusal, counted like a refused call (metrics.h) */
            pa_metrics_enclave_error(PA_IPC_OP_AGGREGATE_JOB, (int)code);
            pa_enclave_refusal_reply(code, e, &r);
            json_decref(ans);
            finish(a, &r);
            return;
        }
        json_decref(ans);
        pa_reply_free(&r);
        if (stop || pa_now_ms() - start > JOB_DEADLINE_MS) {
            cancel_in_enclave(j, enclave_job);
            if (stop)
                fail_stopped(a);
            else
                fail(a, 504, "job_timeout", "The job did not finish in time; nothing was stored.");
            return;
        }
        int64_t pause_ms = (pa_now_ms() - start) / 4;
        pause_ms = pause_ms < PA_JOBS_POLL_FIRST_MS ? PA_JOBS_POLL_FIRST_MS
                   : pause_ms > PA_JOBS_POLL_MS     ? PA_JOBS_POLL_MS
                                                    : pause_ms;
        struct timespec ts = {0, (long)pause_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void run(void *arg)
{
    ajob *a = arg;
    pa_jobs *j = a->owner;
    pthread_mutex_lock(&j->lock);
    int stop = a->revoked || a->abandoned || j->stopping;
    json_t *req = a->req;
    a->req = NULL;
    if (!stop)
        a->state = J_RUNNING;
    pthread_mutex_unlock(&j->lock);
    if (stop) {
        json_decref(req);
        fail_stopped(a);
        return;
    }
    pa_reply r;
    memset(&r, 0, sizeof r);
    json_t *ans = pa_enclave_call_reply(j->cfg.enclave_socket, PA_IPC_OP_AGGREGATE_START, req, &r);
    if (ans == NULL) {
        finish(a, &r);
        return;
    }
    char enclave_job[PA_UUID_STR_LEN];
    snprintf(enclave_job, sizeof enclave_job, "%s",
             json_string_value(json_object_get(ans, "job_id")));
    json_decref(ans);
    follow(a, enclave_job);
    OPENSSL_cleanse(enclave_job, sizeof enclave_job);
}

/* A queued job the pool will not run (the server stops). */
static void not_run(void *arg)
{
    fail_stopped(arg);
}

pa_jobs *pa_jobs_new(const pa_jobs_config *cfg)
{
    pa_jobs *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->cfg = *cfg;
    pthread_mutex_init(&j->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->changed, &ca);
    pthread_condattr_destroy(&ca);
    j->q = pa_workq_new(PA_JOBS_THREADS, PA_JOBS_MAX);
    if (j->q == NULL) {
        pa_jobs_free(j);
        return NULL;
    }
    return j;
}

void pa_jobs_stopping(pa_jobs *j)
{
    if (j == NULL)
        return;
    pthread_mutex_lock(&j->lock);
    j->stopping = 1;
    pthread_mutex_unlock(&j->lock);
}

int pa_jobs_stop(pa_jobs *j, int64_t timeout_ms)
{
    if (j == NULL)
        return 0;
    pa_jobs_stopping(j);
    /* runners notice at their next poll (PA_JOBS_POLL_MS) */
    return pa_workq_shutdown(j->q, not_run, timeout_ms);
}

void pa_jobs_free(pa_jobs *j)
{
    if (j == NULL)
        return;
    pa_workq_free(j->q);
    while (j->all != NULL) {
        ajob *a = j->all;
        j->all = a->next;
        job_free(a);
    }
    pthread_cond_destroy(&j->changed);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

int pa_jobs_submit(pa_jobs *j, const char *session_id, json_t *enclave_req, char job_id[37],
                   pa_reply *reply)
{
    ajob *a = calloc(1, sizeof *a);
    if (a == NULL || enclave_req == NULL || pa_uuid_v4(a->id) != 0) {
        free(a);
        json_decref(enclave_req);
        pa_reply_error(reply, 500, "internal_error", "The job could not be created.");
        return -1;
    }
    snprintf(a->session_id, sizeof a->session_id, "%s", session_id);
    a->req = enclave_req;
    a->owner = j;
    a->state = J_QUEUED;
    a->created_ms = pa_now_ms();
    pthread_mutex_lock(&j->lock);
    sweep(j, a->created_ms);
    if (j->stopping) {
        pthread_mutex_unlock(&j->lock);
        job_free(a);
        pa_reply_error(reply, 503, "server_busy", "The server is shutting down; try again shortly.");
        return -1;
    }
    if (j->n >= PA_JOBS_MAX) {
        pthread_mutex_unlock(&j->lock);
        job_free(a);
        pa_reply_error(reply, 503, "too_many_jobs",
                       "The server holds its maximum of aggregate jobs; try again later.");
        reply->retry_after_s = 30;
        return -1;
    }
    a->next = j->all;
    j->all = a;
    j->n++;
    memcpy(job_id, a->id, PA_UUID_STR_LEN);
    /* under the lock: a runner may finish it at once, but not sweep it */
    int queued = pa_workq_submit(j->q, run, a) == 0;
    if (!queued) {
        pa_reply r;
        memset(&r, 0, sizeof r);
        pa_reply_error(&r, 503, "server_busy", "The server is busy; try again later.");
        finish_locked(a, &r);
    }
    pthread_mutex_unlock(&j->lock);
    if (!queued) {
        pa_reply_error(reply, 503, "server_busy", "The server is busy; try again later.");
        return -1;
    }
    return 0;
}

/* Under lock: the job's public state (GET /enclave/aggregate_jobs/{id}). */
static char *status_body(const ajob *a)
{
    char created[PA_TIME_STR_LEN], finished[PA_TIME_STR_LEN], url[96];
    pa_time_format(a->created_ms, created);
    pa_time_format(a->finished_ms, finished);
    snprintf(url, sizeof url, "/enclave/aggregate_jobs/%s", a->id);
    int done = a->state == J_SUCCEEDED || a->state == J_FAILED;
    json_t *o = json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:I}, s:s, s:o}", "job_id", a->id,
                          "status_url", url, "status", state_names[a->state], "progress",
                          "symbols_done", a->symbols_done, "symbols_total", a->symbols_total,
                          "pages", a->pages, "created_at", created, "finished_at",
                          done ? json_string(finished) : json_null());
    if (o != NULL && a->state == J_FAILED && a->outcome.body != NULL) {
        /* the error request_aggregates would have answered, with its status */
        json_t *e = pa_json_parse(a->outcome.body, a->outcome.len, a->outcome.len + 1);
        if (e != NULL) {
            json_object_set_new(e, "status", json_integer(a->outcome.status));
            if (a->outcome.retry_after_s > 0)
                json_object_set_new(e, "retry_after", json_integer(a->outcome.retry_after_s));
        }
        if (e == NULL || json_object_set_new(o, "error", e) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s == NULL || a->state != J_SUCCEEDED || a->outcome.body == NULL)
        return s;
    /* The result goes last, as the exact bytes request_aggregates answers
     * (the signed payload is never re-serialised: responses.h). */
    size_t n = strlen(s), len = n - 1 + strlen(",\"result\":") + a->outcome.len + 2;
    char *out = malloc(len);
    if (out != NULL)
        snprintf(out, len, "%.*s,\"result\":%.*s}", (int)(n - 1), s, (int)a->outcome.len,
                 a->outcome.body);
    free(s);
    return out;
}

static int job_done(const ajob *a)
{
    return a->state == J_SUCCEEDED || a->state == J_FAILED;
}

int pa_jobs_wait(pa_jobs *j, const char *job_id, int64_t timeout_ms, pa_jobs_gone_fn gone,
                 const void *ctx, pa_reply *reply)
{
    struct timespec until = pa_deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&j->lock);
    ajob *a = find(j, job_id);
    int waited_out = 0;
    while (a != NULL && !job_done(a) && !waited_out) {
        /* Nothing tells of a waiter leaving but asking: wake up to ask. */
        struct timespec slice = pa_deadline_after_ms(PA_JOBS_POLL_MS);
        int last = gone == NULL || slice.tv_sec > until.tv_sec ||
                   (slice.tv_sec == until.tv_sec && slice.tv_nsec >= until.tv_nsec);
        waited_out = pthread_cond_timedwait(&j->changed, &j->lock, last ? &until : &slice) ==
                         ETIMEDOUT &&
                     last;
        a = find(j, job_id);
        if (a != NULL && !job_done(a) && gone != NULL && gone(ctx)) {
            a->abandoned = 1; /* its runner stops at its next look */
            pthread_mutex_unlock(&j->lock);
            return -1;
        }
    }
    int done = 0;
    if (a == NULL) {
        pa_reply_error(reply, 500, "internal_error", "The job was lost.");
        done = 1;
    } else if (job_done(a)) {
        /* a copy: the job keeps answering GET until it is swept */
        *reply = a->outcome;
        reply->body = NULL;
        char *body = a->outcome.body != NULL ? malloc(a->outcome.len + 1) : NULL;
        if (body != NULL) {
            memcpy(body, a->outcome.body, a->outcome.len);
            body[a->outcome.len] = '\0';
            reply->body = body;
        } else {
            memset(reply, 0, sizeof *reply);
            pa_reply_error(reply, 500, "internal_error", "Out of memory.");
        }
        done = 1;
    } else {
        pa_reply_json(reply, 202, status_body(a));
        reply->retry_after_s = PA_JOBS_RETRY_AFTER_S;
    }
    pthread_mutex_unlock(&j->lock);
    return done;
}

void pa_jobs_status(pa_jobs *j, const char *job_id, pa_reply *reply)
{
    pthread_mutex_lock(&j->lock);
    sweep(j, pa_now_ms());
    ajob *a = find(j, job_id);
    if (a == NULL) {
        pthread_mutex_unlock(&j->lock);
        pa_reply_error(reply, 404, "job_not_found",
                       "No such job (finished jobs are kept for %lld minutes; a server restart "
                       "forgets every job).",
                       (long long)(PA_JOBS_KEEP_MS / 60000));
        return;
    }
    int running = a->state == J_QUEUED || a->state == J_RUNNING;
    pa_reply_ok(reply, status_body(a));
    if (running)
        reply->retry_after_s = PA_JOBS_RETRY_AFTER_S;
    pthread_mutex_unlock(&j->lock);
}

void pa_jobs_session_revoked(pa_jobs *j, const char *session_id)
{
    if (j == NULL)
        return;
    pthread_mutex_lock(&j->lock);
    for (ajob *a = j->all; a != NULL; a = a->next) {
        if (strcmp(a->session_id, session_id) != 0)
            continue;
        a->revoked = 1; /* a runner stops at its next poll */
        if (a->state == J_SUCCEEDED) {
            /* revoke deletes the session's results: the job forgets its copy */
            pa_reply r;
            memset(&r, 0, sizeof r);
            pa_reply_error(&r, 410, "session_revoked", "The session was revoked.");
            finish_locked(a, &r);
        }
    }
    pthread_mutex_unlock(&j->lock);
}
