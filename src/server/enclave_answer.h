/* Typed views of the enclave's successful answers, for the response
 * builders. pa_enclave_call has already checked each answer against the
 * contract (src/ipc/ipc_contract.h: exact keys, types, caps), so every field
 * pasted into a response unescaped is known to be base64, hex, a UUID or a
 * JSON object text; what is checked here is what spans fields (the signed
 * payload against the answer around it). The pointers returned are borrowed
 * from the answer. */
#ifndef PA_ENCLAVE_ANSWER_H
#define PA_ENCLAVE_ANSWER_H

#include <jansson.h>
#include <stddef.h>

#include "result.h"

typedef struct {
    const char *quote;
    const char *enclave_pubkey;
    const char *signing_pubkey;
    const char *image_hash;
} pa_attest_answer;

/* The contract's ATTESTATION object: the attest answer or the aggregate
 * answer's "attestation". */
PA_MUST_USE int pa_answer_attest(const json_t *a, pa_attest_answer *out);

typedef struct {
    const char *enclave_pubkey;
} pa_open_answer;

PA_MUST_USE int pa_answer_open(const json_t *a, pa_open_answer *out);

typedef struct {
    const char *environment;
    const char *dev_root_pem; /* NULL in production */
} pa_info_answer;

PA_MUST_USE int pa_answer_info(const json_t *a, pa_info_answer *out);

typedef struct {
    const char *result_id;
    const char *payload_jcs;
    const char *signature;
    const char *merkle_root;
    const char **entries;     /* malloc'd array of borrowed strings */
    const char **leaf_hashes; /* same */
    size_t n;
    pa_attest_answer attestation;
    char *attestation_json; /* malloc'd compact JSON of the four fields */
} pa_aggregate_answer;

/* Also checks that entries and leaf_hashes pair up and that the signed
 * payload names the same result_id, merkle_root and image_hash as the
 * answer around it. */
PA_MUST_USE int pa_answer_aggregate(const json_t *a, pa_aggregate_answer *out);
void pa_aggregate_answer_free(pa_aggregate_answer *a);

#endif
