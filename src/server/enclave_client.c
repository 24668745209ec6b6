#include "enclave_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "json_strict.h"
#include "log.h"
#include "result.h"

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Copies an error code if it looks like one (lowercase letters and '_'):
 * it becomes part of our own answer, so nothing else is let through. */
static int copy_code(const char *s, char code[PA_ENCLAVE_CODE_MAX])
{
    size_t n = s != NULL ? strlen(s) : 0;
    PA_ENSURE(n > 0 && n < PA_ENCLAVE_CODE_MAX);
    for (size_t i = 0; i < n; i++)
        PA_ENSURE((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_');
    memcpy(code, s, n + 1);
    return 0;
}

pa_enclave_status pa_enclave_call(const char *socket_path, pa_enclave_op op, const json_t *request,
                                  json_t **answer, char code[PA_ENCLAVE_CODE_MAX])
{
    pa_enclave_status st = PA_ENCLAVE_UNAVAILABLE;
    int64_t t0 = mono_us();
    int fd = -1;
    char *text = NULL;
    json_t *a = NULL;
    pa_buf frame;
    pa_buf_init(&frame, PA_IPC_MAX_FRAME + 1);
    *answer = NULL;
    code[0] = '\0';

    text = json_dumps(request, JSON_COMPACT);
    PA_ENSURE_GOTO(text != NULL, cleanup);
    int timeout = op == PA_OP_AGGREGATE ? PA_ENCLAVE_AGGREGATE_TIMEOUT_MS : PA_ENCLAVE_TIMEOUT_MS;
    errno = 0;
    fd = pa_ipc_connect(socket_path, timeout);
    if (fd < 0) {
        /* The reason tells an enclave that is down (ENOENT, ECONNREFUSED)
         * from a server out of descriptors (EMFILE) or a full backlog
         * (EAGAIN): the same 503 to the client, not the same fix. */
        int e = errno;
        pa_log_warn("enclave %s: cannot connect to the enclave socket: %s", pa_enclave_op_name(op),
                    e != 0 ? strerror(e) : "path too long");
        goto cleanup;
    }
    if (pa_ipc_write_frame(fd, text, strlen(text)) != 0 || pa_ipc_read_frame(fd, &frame) != 0) {
        pa_log_warn("enclave %s: no answer (closed or timed out)", pa_enclave_op_name(op));
        goto cleanup;
    }
    a = pa_json_parse((const char *)frame.data, frame.len, PA_IPC_MAX_FRAME);
    const json_t *ok = json_object_get(a, "ok");
    if (!json_is_object(a) || !json_is_boolean(ok)) {
        pa_log_error("enclave %s: answer is not a protocol object", pa_enclave_op_name(op));
        goto cleanup;
    }
    if (json_is_true(ok)) {
        *answer = a;
        a = NULL;
        st = PA_ENCLAVE_OK;
    } else {
        if (copy_code(pa_json_str(a, "error"), code) != 0) {
            pa_log_error("enclave %s: error answer without a valid code", pa_enclave_op_name(op));
            snprintf(code, PA_ENCLAVE_CODE_MAX, "%s", "internal_error");
        }
        st = PA_ENCLAVE_REFUSED;
    }

cleanup:
    if (fd >= 0)
        close(fd);
    free(text);
    json_decref(a);
    pa_buf_free(&frame);
    pa_metrics_enclave_call(op, mono_us() - t0, st != PA_ENCLAVE_OK);
    return st;
}

void pa_enclave_error(const char *code, pa_http_error *err)
{
    static const struct {
        const char *code;
        unsigned status;
        const char *message;
    } map[] = {
        {"invalid_request", 400, "The enclave refused the request as malformed."},
        {"decryption_failed", 400,
         "The envelope could not be opened: wrong key, tampered data, expired not_after, or "
         "plaintext that is not valid credentials."},
        {"enclave_key_lost", 410,
         "The enclave that held this session's key has restarted; submit the key again."},
        {"unsupported_account_type", 422,
         "The credentials ask for an account type the exchange connector does not serve."},
        {"exchange_rejected_key", 422, "The exchange rejected the API key."},
        {"exchange_unavailable", 502, "The exchange could not be reached or is not answering."},
        {"exchange_bad_response", 502, "The exchange answered something the enclave cannot use."},
        {"exchange_too_large", 502,
         "The account has more trade history than the enclave processes in one run."},
        {"internal_error", 500, "The enclave failed internally."},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(map); i++) {
        if (code != NULL && strcmp(code, map[i].code) == 0) {
            pa_error_set(err, map[i].status, map[i].code, "%s", map[i].message);
            return;
        }
    }
    pa_error_set(err, 500, "internal_error", "The enclave failed internally.");
}

void pa_enclave_unavailable(pa_http_error *err)
{
    pa_error_set(err, 503, "enclave_unavailable", "The enclave is not reachable; try again later.");
}

json_t *pa_enclave_call_reply(const char *socket_path, pa_enclave_op op, json_t *request,
                              pa_reply *reply)
{
    json_t *answer = NULL;
    char code[PA_ENCLAVE_CODE_MAX];
    pa_http_error err;
    if (request == NULL) {
        pa_reply_error(reply, 500, "internal_error", "Out of memory.");
        return NULL;
    }
    pa_enclave_status st = pa_enclave_call(socket_path, op, request, &answer, code);
    json_decref(request);
    if (st == PA_ENCLAVE_OK)
        return answer;
    if (st == PA_ENCLAVE_REFUSED)
        pa_enclave_error(code, &err);
    else
        pa_enclave_unavailable(&err);
    pa_reply_from_error(reply, &err);
    return NULL;
}
