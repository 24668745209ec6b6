/* The host's side of the enclave IPC (docs/IPC.md): one Unix-socket
 * connection per call, one request frame, one response frame. Runs on worker
 * threads only: it blocks for up to the timeout. */
#ifndef PA_ENCLAVE_CLIENT_H
#define PA_ENCLAVE_CLIENT_H

#include <jansson.h>

#include "ipc_host.h"
#include "metrics.h"
#include "reply.h"

#define PA_ENCLAVE_TIMEOUT_MS 5000
#define PA_ENCLAVE_AGGREGATE_TIMEOUT_MS 60000

typedef enum {
    PA_ENCLAVE_OK,          /* the op's answer shape exactly: *answer holds it */
    PA_ENCLAVE_REFUSED,     /* a refusal (*code), or an answer that breaks the
                               contract (*code = internal_error) */
    PA_ENCLAVE_UNAVAILABLE, /* no connection, timeout or closed */
} pa_enclave_status;

/* Sends request (built by pa_ipc_request_*) and reads the answer, checked
 * against the contract (src/ipc/ipc_contract.h): unknown fields, wrong types
 * and caps are refused. On OK *answer is a new reference to the whole answer
 * object. */
pa_enclave_status pa_enclave_call(const char *socket_path, pa_ipc_op op, const json_t *request,
                                  json_t **answer, pa_ipc_error *code);

/* pa_enclave_call with the usual error mapping: returns the answer (a new
 * reference), or NULL with *reply filled (the mapped enclave error, 503 when
 * unreachable). Takes ownership of request, which may be NULL (out of memory). */
json_t *pa_enclave_call_reply(const char *socket_path, pa_ipc_op op, json_t *request,
                              pa_reply *reply);

/* The reply for a refusal {error, message, retry_after?} of the contract
 * (code already decoded): the mapped error, with the exchange's words for a
 * refused key or an unreachable exchange, and Retry-After for a ban. */
void pa_enclave_refusal_reply(pa_ipc_error code, const json_t *refusal, pa_reply *reply);

/* The API error for an enclave error code (docs/IPC.md's table); a code out
 * of range becomes 500 internal_error. */
void pa_enclave_error(pa_ipc_error code, pa_http_error *err);

/* The API error for an enclave that cannot be reached: 503 enclave_unavailable. */
void pa_enclave_unavailable(pa_http_error *err);

#endif
