/* The host's side of the enclave IPC (docs/IPC.md): one Unix-socket
 * connection per call, one request frame, one response frame. Runs on worker
 * threads only: it blocks for up to the timeout. */
#ifndef PA_ENCLAVE_CLIENT_H
#define PA_ENCLAVE_CLIENT_H

#include <jansson.h>

#include "metrics.h"
#include "reply.h"

#define PA_ENCLAVE_TIMEOUT_MS 5000
#define PA_ENCLAVE_AGGREGATE_TIMEOUT_MS 60000
#define PA_ENCLAVE_CODE_MAX 48

typedef enum {
    PA_ENCLAVE_OK,          /* {"ok":true,...}: *answer holds it */
    PA_ENCLAVE_REFUSED,     /* {"ok":false,"error":CODE}: code filled */
    PA_ENCLAVE_UNAVAILABLE, /* no connection, timeout, closed, or not a protocol answer */
} pa_enclave_status;

/* Sends request (an object with "op") and reads the answer. On OK *answer is
 * a new reference to the whole answer object. */
pa_enclave_status pa_enclave_call(const char *socket_path, pa_enclave_op op, const json_t *request,
                                  json_t **answer, char code[PA_ENCLAVE_CODE_MAX]);

/* pa_enclave_call with the usual error mapping: returns the answer (a new
 * reference), or NULL with *reply filled (the mapped enclave error, 503 when
 * unreachable). Takes ownership of request, which may be NULL (out of memory). */
json_t *pa_enclave_call_reply(const char *socket_path, pa_enclave_op op, json_t *request,
                              pa_reply *reply);

/* The API error for an enclave error code (docs/IPC.md's table); unknown
 * codes become 500 internal_error. */
void pa_enclave_error(const char *code, pa_http_error *err);

/* The API error for an enclave that cannot be reached: 503 enclave_unavailable. */
void pa_enclave_unavailable(pa_http_error *err);

#endif
