#include "enclave_client.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "ipc_addr.h"
#include "json_strict.h"
#include "log.h"
#include "result.h"

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- connections kept open --------------------------------------------- */

/* The enclave serves any number of requests, one after another, on one
 * connection (src/enclave/serve.c), so a finished call hands its connection
 * back here and the next call skips the connect and the enclave's accept. Only
 * a connection whose exchange went cleanly is kept; one the enclave closed
 * meanwhile (its idle timeout, a restart) is noticed before reuse and
 * dropped. At most POOL_MAX are kept idle; busy ones are not counted. */
#define POOL_MAX 32

typedef struct {
    int fd;
    char *target; /* the address it is connected to (a server has one, tests several) */
} pooled;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pooled pool[POOL_MAX];
static size_t pool_len;

/* Nothing to read and no hang-up: the peer has neither closed it nor sent
 * anything unasked (an idle connection has no business being readable). */
static int still_open(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    int r;
    do {
        r = poll(&p, 1, 0);
    } while (r < 0 && errno == EINTR);
    return r == 0;
}

static int pool_take(const char *target)
{
    for (;;) {
        pooled got = {.fd = -1};
        pthread_mutex_lock(&pool_lock);
        for (size_t i = pool_len; i-- > 0;) {
            if (strcmp(pool[i].target, target) == 0) {
                got = pool[i];
                pool[i] = pool[--pool_len];
                break;
            }
        }
        pthread_mutex_unlock(&pool_lock);
        if (got.fd < 0)
            return -1;
        free(got.target);
        if (still_open(got.fd))
            return got.fd;
        close(got.fd);
    }
}

static void pool_give(int fd, const char *target)
{
    char *t = strdup(target);
    pthread_mutex_lock(&pool_lock);
    if (t != NULL && pool_len < POOL_MAX) {
        pool[pool_len++] = (pooled){.fd = fd, .target = t};
        fd = -1;
        t = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    free(t);
    if (fd >= 0)
        close(fd);
}

/* ---- calls --------------------------------------------------------------- */

/* pa_enclave_call; on a refusal that fits the contract, *refusal (when
 * not NULL) is a new reference to it, for the fields a reply may carry. */
static pa_enclave_status enclave_call(const char *socket_path, pa_ipc_op op,
                                      const json_t *request, json_t **answer, pa_ipc_error *code,
                                      json_t **refusal)
{
    pa_enclave_status st = PA_ENCLAVE_UNAVAILABLE;
    int64_t t0 = mono_us();
    int fd = -1, keep = 0;
    char *text = NULL;
    json_t *a = NULL;
    pa_buf frame;
    pa_buf_init(&frame, PA_IPC_MAX_FRAME + 1);
    *answer = NULL;
    *code = PA_IPC_E_INTERNAL_ERROR;

    text = json_dumps(request, JSON_COMPACT);
    PA_ENSURE_GOTO(text != NULL, cleanup);
    /* aggregate_start: the queue in front of a busy enclave's workers, as for aggregate */
    int timeout = op == PA_IPC_OP_AGGREGATE || op == PA_IPC_OP_AGGREGATE_START
                      ? PA_ENCLAVE_AGGREGATE_TIMEOUT_MS
                  : op == PA_IPC_OP_AGGREGATE_JOB ? PA_ENCLAVE_TIMEOUT_MS + PA_IPC_JOB_POLL_MAX_MS
                                                  : PA_ENCLAVE_TIMEOUT_MS;
    fd = pool_take(socket_path);
    if (fd >= 0 && pa_ipc_set_timeout(fd, timeout) != 0) {
        close(fd);
        fd = -1;
    }
    errno = 0;
    if (fd < 0 && (fd = pa_ipc_connect(socket_path, timeout)) >= 0)
        pa_metrics_enclave_connect();
    if (fd < 0) {
        /* The reason tells an enclave that is down (ENOENT, ECONNREFUSED)
         * from a server out of descriptors (EMFILE) or a full backlog
         * (EAGAIN): the same 503 to the client, not the same fix. */
        int e = errno;
        pa_log_warn("enclave %s: cannot connect to the enclave socket: %s", pa_ipc_op_name(op),
                    e != 0 ? strerror(e) : "path too long");
        goto cleanup;
    }
    if (pa_ipc_write_frame(fd, text, strlen(text)) != 0 || pa_ipc_read_frame(fd, &frame) != 0) {
        pa_log_warn("enclave %s: no answer (closed or timed out)", pa_ipc_op_name(op));
        goto cleanup;
    }
    a = pa_json_parse((const char *)frame.data, frame.len, PA_IPC_MAX_FRAME);
    char why[PA_IPC_WHY_MAX];
    switch (pa_ipc_answer_check(op, a, code, why)) {
    case PA_IPC_ANSWER_OK:
        *answer = a;
        a = NULL;
        st = PA_ENCLAVE_OK;
        keep = 1;
        break;
    case PA_IPC_ANSWER_REFUSED:
        st = PA_ENCLAVE_REFUSED;
        keep = 1;
        if (refusal != NULL) {
            *refusal = a;
            a = NULL;
        }
        break;
    case PA_IPC_ANSWER_MALFORMED:
    default:
        /* the enclave answered, but not what the contract allows: nothing
         * of it is used or passed on */
        pa_log_error("enclave %s: the answer breaks the contract: %s", pa_ipc_op_name(op), why);
        *code = PA_IPC_E_INTERNAL_ERROR;
        st = PA_ENCLAVE_REFUSED;
        break;
    }

cleanup:
    if (fd >= 0 && keep)
        pool_give(fd, socket_path);
    else if (fd >= 0)
        close(fd);
    free(text);
    json_decref(a);
    pa_buf_free(&frame);
    pa_metrics_enclave_call(op, mono_us() - t0, st != PA_ENCLAVE_OK);
    if (st != PA_ENCLAVE_OK)
        pa_metrics_enclave_error(op, st == PA_ENCLAVE_REFUSED ? (int)*code : PA_IPC_E_COUNT);
    return st;
}

pa_enclave_status pa_enclave_call(const char *socket_path, pa_ipc_op op, const json_t *request,
                                  json_t **answer, pa_ipc_error *code)
{
    return enclave_call(socket_path, op, request, answer, code, NULL);
}

void pa_enclave_error(pa_ipc_error code, pa_http_error *err)
{
    /* The API keeps the contract's code names; only status and sentence
     * are the host's. One row per code of the contract's enum. */
    static const struct {
        unsigned status;
        const char *message;
    } map[PA_IPC_E_COUNT] = {
        [PA_IPC_E_INVALID_REQUEST] = {400, "The enclave refused the request as malformed."},
        [PA_IPC_E_DECRYPTION_FAILED] =
            {400, "The envelope could not be opened: wrong key, tampered data, expired "
                  "not_after, or plaintext that is not valid credentials."},
        [PA_IPC_E_ENCLAVE_KEY_LOST] =
            {410, "The enclave that held this session's key has restarted; submit the key again "
                  "(an enclave-made key is lost too: make a new one)."},
        [PA_IPC_E_UNSUPPORTED_ACCOUNT_TYPE] =
            {422, "The credentials ask for an account type the exchange connector does not serve."},
        [PA_IPC_E_EXCHANGE_REJECTED_KEY] = {422, "The exchange rejected the API key."},
        [PA_IPC_E_EXCHANGE_UNAVAILABLE] =
            {502, "The exchange could not be reached or is not answering."},
        [PA_IPC_E_EXCHANGE_BAD_RESPONSE] =
            {502, "The exchange answered something the enclave cannot use."},
        [PA_IPC_E_EXCHANGE_TOO_LARGE] =
            {502, "The account has more trade history than the enclave processes in one run."},
        [PA_IPC_E_EXCHANGE_BANNED] =
            {503, "The exchange has temporarily banned the enclave's address; try again later."},
        [PA_IPC_E_EXCHANGE_REGION_BLOCKED] =
            {502, "The exchange refuses service to the region the enclave's requests come from "
                  "(HTTP 451)."},
        [PA_IPC_E_KEY_NOT_READ_ONLY] =
            {422, "The API key can trade, transfer or withdraw; perfagg only accepts read-only keys."},
        [PA_IPC_E_SEALED_KEY_INVALID] =
            {500, "The stored enclave-made key does not open for the key the envelope names."},
        [PA_IPC_E_JOB_NOT_FOUND] =
            {503, "The enclave no longer holds the job (it restarted); nothing was signed or "
                  "stored."},
        [PA_IPC_E_TOO_MANY_JOBS] =
            {503, "The enclave runs its maximum of aggregate jobs; try again later."},
        [PA_IPC_E_INTERNAL_ERROR] = {500, "The enclave failed internally."},
    };
    if ((unsigned)code >= PA_IPC_E_COUNT || map[code].status == 0)
        code = PA_IPC_E_INTERNAL_ERROR;
    pa_error_set(err, map[code].status, pa_ipc_error_name(code), "%s", map[code].message);
}

void pa_enclave_unavailable(pa_http_error *err)
{
    pa_error_set(err, 503, "enclave_unavailable", "The enclave is not reachable; try again later.");
}

json_t *pa_enclave_call_reply(const char *socket_path, pa_ipc_op op, json_t *request,
                              pa_reply *reply)
{
    json_t *answer = NULL;
    pa_ipc_error code;
    pa_http_error err;
    if (request == NULL) {
        pa_reply_error(reply, 500, "internal_error", "Out of memory.");
        return NULL;
    }
    json_t *refusal = NULL;
    pa_enclave_status st = enclave_call(socket_path, op, request, &answer, &code, &refusal);
    json_decref(request);
    if (st == PA_ENCLAVE_OK)
        return answer;
    if (st == PA_ENCLAVE_REFUSED) {
        pa_enclave_refusal_reply(code, refusal, reply);
    } else {
        pa_enclave_unavailable(&err);
        pa_reply_from_error(reply, &err);
    }
    json_decref(refusal);
    return NULL;
}

void pa_enclave_refusal_reply(pa_ipc_error code, const json_t *refusal, pa_reply *reply)
{
    pa_http_error err;
    {
        pa_enclave_error(code, &err);
        /* The exchange's own words on a refused key help the trader fix
         * it (the enclave copied them as printable ASCII, never with the
         * key or the secret: docs/BINANCE.md). */
        const char *why = json_string_value(json_object_get(refusal, "message"));
        if (code == PA_IPC_E_EXCHANGE_REJECTED_KEY && why != NULL)
            pa_error_set(&err, err.status, err.code, "The exchange rejected the API key: %s", why);
        /* which permissions are on (no secret: Binance's flag names) */
        else if (code == PA_IPC_E_KEY_NOT_READ_ONLY && why != NULL)
            pa_error_set(&err, err.status, err.code,
                         "The API key is not read-only; perfagg only accepts read-only keys: %s",
                         why);
        /* Which call failed (e.g. a page of the trade history): nothing was
         * signed, and the trader can tell an outage from one bad endpoint. */
        else if (code == PA_IPC_E_EXCHANGE_UNAVAILABLE && why != NULL)
            pa_error_set(&err, err.status, err.code,
                         "The exchange could not be reached or is not answering; nothing was "
                         "signed: %s",
                         why);
    }
    pa_reply_from_error(reply, &err);
    /* A ban's end, checked by the contract (1..PA_IPC_RETRY_AFTER_MAX s). */
    const json_t *ra = json_object_get(refusal, "retry_after");
    if (json_is_integer(ra))
        reply->retry_after_s = (long)json_integer_value(ra);
}
