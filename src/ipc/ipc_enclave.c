/* The enclave's side of the contract (ipc_contract.h): every request frame
 * is checked against the op's shape before any handler sees it, and every
 * answer frame is written here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "ipc_contract.h"
#include "json_strict.h"

int pa_ipc_request_parse(const char *frame, size_t len, pa_ipc_op *op, json_t **req,
                         char why[PA_IPC_WHY_MAX])
{
    *req = NULL;
    json_t *j = pa_json_parse(frame, len, PA_IPC_MAX_FRAME);
    const char *name = pa_json_str(j, "op");
    if (!json_is_object(j)) {
        snprintf(why, PA_IPC_WHY_MAX, "a request is one JSON object");
    } else if (name == NULL) {
        snprintf(why, PA_IPC_WHY_MAX, "missing op");
    } else if (strlen(name) != json_string_length(json_object_get(j, "op")) ||
               pa_ipc_op_from_name(name, op) != 0) {
        snprintf(why, PA_IPC_WHY_MAX, "unknown op");
    } else if (pa_ipc_shape_check(pa_ipc_op_desc_get(*op)->request, j, "op", why) == 0) {
        *req = j;
        return 0;
    }
    json_decref(j);
    return -1;
}

/* Length of the longest prefix of s (at most max bytes) that does not end
 * inside a UTF-8 sequence. */
static size_t utf8_prefix(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

char *pa_ipc_error_answer_retry(pa_ipc_error code, const char *message, long retry_after_s)
{
    if ((unsigned)code >= PA_IPC_E_COUNT)
        code = PA_IPC_E_INTERNAL_ERROR;
    json_t *m = NULL;
    if (message != NULL && message[0] != '\0')
        m = json_stringn(message, utf8_prefix(message, PA_IPC_MESSAGE_MAX));
    if (m == NULL) /* empty, or not UTF-8: the code still says what happened */
        m = json_string(pa_ipc_error_meaning(code));
    json_t *r =
        json_pack("{s:b, s:s, s:o}", "ok", 0, "error", pa_ipc_error_name(code), "message", m);
    if (r != NULL && retry_after_s > 0) {
        if (retry_after_s > PA_IPC_RETRY_AFTER_MAX)
            retry_after_s = PA_IPC_RETRY_AFTER_MAX;
        if (json_object_set_new(r, "retry_after", json_integer(retry_after_s)) != 0) {
            json_decref(r);
            r = NULL;
        }
    }
    char *s = r != NULL ? json_dumps(r, JSON_COMPACT) : NULL;
    json_decref(r);
    return s;
}

char *pa_ipc_error_answer(pa_ipc_error code, const char *message)
{
    return pa_ipc_error_answer_retry(code, message, 0);
}

char *pa_ipc_ok_answer(json_t *fields)
{
    if (fields == NULL || json_object_set_new(fields, "ok", json_true()) != 0) {
        json_decref(fields);
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "out of memory");
    }
    char *s = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    return s != NULL ? s : pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "out of memory");
}
