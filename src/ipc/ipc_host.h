/* The host's side of the contract (ipc_contract.h): builders for every
 * request and the check of every answer. Not part of the enclave (library
 * pa_ipc_host), so not of its trusted computing base. */
#ifndef PA_IPC_HOST_H
#define PA_IPC_HOST_H

#include <jansson.h>
#include <stddef.h>

#include "ipc_contract.h"

/* The request for op, from values given in the order of the op's request
 * shape (NULL: absent). Steals every value's reference, also on failure.
 * The result is checked against the shape, so the host never sends what the
 * enclave would refuse for its form: NULL (and logged) when it does not fit. */
json_t *pa_ipc_request_build(pa_ipc_op op, json_t *const *values, size_t n);

json_t *pa_ipc_request_info(void);
json_t *pa_ipc_request_stats(void);
/* nonce: canonical base64 of 1..PA_IPC_NONCE_MAX bytes, or NULL for none. */
json_t *pa_ipc_request_attest(const char *nonce_b64);
json_t *pa_ipc_request_open(const json_t *envelope);
/* challenge may be NULL. */
json_t *pa_ipc_request_aggregate(const json_t *envelope, const char *enclave_pubkey,
                                 const char *from, const char *to, const char *challenge);
/* The same run as a job (docs/IPC.md, "Jobs"). */
json_t *pa_ipc_request_aggregate_start(const json_t *envelope, const char *enclave_pubkey,
                                       const char *from, const char *to, const char *challenge);
/* wait_ms: 0..PA_IPC_JOB_POLL_MAX_MS (0: answer at once). */
json_t *pa_ipc_request_aggregate_job(const char *job_id, long wait_ms);
json_t *pa_ipc_request_aggregate_cancel(const char *job_id);

/* exchange: the venue name; nonce: as for attest, or NULL. */
json_t *pa_ipc_request_keygen(const char *exchange, const char *nonce_b64);
/* Adds sealed_key (an enclave-made key, from the keygen answer) to an open
 * or aggregate request; checks the result against the op's shape. -1 (and
 * logged) when it does not fit; req is unchanged then. */
PA_MUST_USE int pa_ipc_request_set_sealed_key(json_t *req, pa_ipc_op op, const char *sealed_key);

typedef enum {
    PA_IPC_ANSWER_OK,        /* {"ok":true} + exactly the op's answer shape */
    PA_IPC_ANSWER_REFUSED,   /* {"ok":false,"error":CODE,"message":S}; *code set */
    PA_IPC_ANSWER_MALFORMED, /* anything else; why filled */
} pa_ipc_answer_kind;

/* Classifies the enclave's answer to op against the contract. */
pa_ipc_answer_kind pa_ipc_answer_check(pa_ipc_op op, const json_t *answer, pa_ipc_error *code,
                                       char why[PA_IPC_WHY_MAX]);

#endif
