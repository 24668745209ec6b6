/* Shape checks of the enclave's successful answers (docs/IPC.md) before the
 * host builds JSON from them by concatenation: every field that is pasted
 * into a response unescaped is proven to be base64, hex, a UUID or a JSON
 * object first. The pointers returned are borrowed from the answer. */
#ifndef PA_ENCLAVE_ANSWER_H
#define PA_ENCLAVE_ANSWER_H

#include <jansson.h>
#include <stddef.h>

#include "result.h"

#define PA_QUOTE_B64_MAX ((size_t)64 * 1024)

typedef struct {
    const char *quote;
    const char *enclave_pubkey;
    const char *signing_pubkey;
    const char *image_hash;
} pa_attest_answer;

/* {quote, enclave_pubkey, signing_pubkey, image_hash}: the attest answer or
 * the aggregate answer's attestation object (other keys ignored). */
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
    char *attestation_json;   /* malloc'd compact JSON of the four fields */
} pa_aggregate_answer;

/* Also checks that the signed payload names the same result_id and
 * merkle_root as the answer around it. */
PA_MUST_USE int pa_answer_aggregate(const json_t *a, pa_aggregate_answer *out);
void pa_aggregate_answer_free(pa_aggregate_answer *a);

/* Field checks shared with the response builders. */
int pa_is_b64(const char *s, size_t min_bytes, size_t max_bytes);
int pa_is_lower_hex(const char *s, size_t nbytes);

#endif
