/* The host's side of the contract (ipc_contract.h): requests are built from
 * the op's shape and checked before they are sent; answers are checked
 * against the op's answer shape, unknown fields included. */
#include <stdio.h>
#include <string.h>

#include "ipc_host.h"
#include "log.h"

json_t *pa_ipc_request_build(pa_ipc_op op, json_t *const *values, size_t n)
{
    const pa_ipc_op_desc *d = pa_ipc_op_desc_get(op);
    json_t *req = d != NULL && n == d->request->n ? json_object() : NULL;
    int ok = req != NULL && json_object_set_new(req, "op", json_string(d->name)) == 0;
    for (size_t i = 0; i < n; i++) {
        if (values[i] == NULL)
            continue; /* absent */
        if (ok)
            ok = json_object_set_new(req, d->request->fields[i].name, values[i]) == 0;
        else
            json_decref(values[i]);
    }
    char why[PA_IPC_WHY_MAX];
    snprintf(why, sizeof why, "%s", req == NULL ? "wrong number of values" : "out of memory");
    if (ok && pa_ipc_shape_check(d->request, req, "op", why) == 0)
        return req;
    pa_log_error("ipc: the %s request does not fit the contract: %s", pa_ipc_op_name(op), why);
    json_decref(req);
    return NULL;
}

json_t *pa_ipc_request_info(void)
{
    return pa_ipc_request_build(PA_IPC_OP_INFO, NULL, 0);
}

json_t *pa_ipc_request_stats(void)
{
    return pa_ipc_request_build(PA_IPC_OP_STATS, NULL, 0);
}

json_t *pa_ipc_request_attest(const char *nonce_b64)
{
    json_t *v[] = {nonce_b64 != NULL ? json_string(nonce_b64) : NULL};
    return pa_ipc_request_build(PA_IPC_OP_ATTEST, v, PA_ARRAY_LEN(v));
}

/* A copy, so the caller keeps its envelope; NULL stays absent (refused). */
static json_t *copy_of(const json_t *v)
{
    return v != NULL ? json_deep_copy(v) : NULL;
}

json_t *pa_ipc_request_open(const json_t *envelope)
{
    json_t *v[] = {copy_of(envelope), NULL};
    return pa_ipc_request_build(PA_IPC_OP_OPEN, v, PA_ARRAY_LEN(v));
}

static json_t *aggregate_like(pa_ipc_op op, const json_t *envelope, const char *enclave_pubkey,
                              const char *from, const char *to, const char *challenge)
{
    json_t *v[] = {
        copy_of(envelope),
        enclave_pubkey != NULL ? json_string(enclave_pubkey) : NULL,
        from != NULL ? json_string(from) : NULL,
        to != NULL ? json_string(to) : NULL,
        challenge != NULL ? json_string(challenge) : NULL,
        NULL, /* sealed_key: pa_ipc_request_set_sealed_key */
    };
    return pa_ipc_request_build(op, v, PA_ARRAY_LEN(v));
}

json_t *pa_ipc_request_aggregate(const json_t *envelope, const char *enclave_pubkey,
                                 const char *from, const char *to, const char *challenge)
{
    return aggregate_like(PA_IPC_OP_AGGREGATE, envelope, enclave_pubkey, from, to, challenge);
}

json_t *pa_ipc_request_aggregate_start(const json_t *envelope, const char *enclave_pubkey,
                                       const char *from, const char *to, const char *challenge)
{
    return aggregate_like(PA_IPC_OP_AGGREGATE_START, envelope, enclave_pubkey, from, to,
                          challenge);
}

json_t *pa_ipc_request_aggregate_job(const char *job_id, long wait_ms)
{
    json_t *v[] = {job_id != NULL ? json_string(job_id) : NULL,
                   wait_ms > 0 ? json_integer(wait_ms) : NULL};
    return pa_ipc_request_build(PA_IPC_OP_AGGREGATE_JOB, v, PA_ARRAY_LEN(v));
}

json_t *pa_ipc_request_aggregate_cancel(const char *job_id)
{
    json_t *v[] = {job_id != NULL ? json_string(job_id) : NULL};
    return pa_ipc_request_build(PA_IPC_OP_AGGREGATE_CANCEL, v, PA_ARRAY_LEN(v));
}

json_t *pa_ipc_request_keygen(const char *exchange, const char *nonce_b64)
{
    json_t *v[] = {
        exchange != NULL ? json_string(exchange) : NULL,
        nonce_b64 != NULL ? json_string(nonce_b64) : NULL,
    };
    return pa_ipc_request_build(PA_IPC_OP_KEYGEN, v, PA_ARRAY_LEN(v));
}

int pa_ipc_request_set_sealed_key(json_t *req, pa_ipc_op op, const char *sealed_key)
{
    const pa_ipc_op_desc *d = pa_ipc_op_desc_get(op);
    char why[PA_IPC_WHY_MAX] = "out of memory";
    if (d != NULL && req != NULL && sealed_key != NULL &&
        json_object_set_new(req, "sealed_key", json_string(sealed_key)) == 0) {
        if (pa_ipc_shape_check(d->request, req, "op", why) == 0)
            return 0;
        json_object_del(req, "sealed_key");
    }
    pa_log_error("ipc: sealed_key does not fit the %s request: %s", pa_ipc_op_name(op), why);
    return -1;
}

pa_ipc_answer_kind pa_ipc_answer_check(pa_ipc_op op, const json_t *answer, pa_ipc_error *code,
                                       char why[PA_IPC_WHY_MAX])
{
    const pa_ipc_op_desc *d = pa_ipc_op_desc_get(op);
    const json_t *ok = json_object_get(answer, "ok");
    if (d == NULL || !json_is_object(answer) || !json_is_boolean(ok)) {
        snprintf(why, PA_IPC_WHY_MAX, "not a protocol answer (an object with boolean \"ok\")");
        return PA_IPC_ANSWER_MALFORMED;
    }
    if (json_is_true(ok))
        return pa_ipc_shape_check(d->answer, answer, "ok", why) == 0 ? PA_IPC_ANSWER_OK
                                                                     : PA_IPC_ANSWER_MALFORMED;
    if (pa_ipc_shape_check(pa_ipc_error_shape(), answer, "ok", why) != 0)
        return PA_IPC_ANSWER_MALFORMED;
    /* the shape's enum already holds only known codes */
    if (pa_ipc_error_from_name(json_string_value(json_object_get(answer, "error")), code) != 0)
        return PA_IPC_ANSWER_MALFORMED;
    return PA_IPC_ANSWER_REFUSED;
}
