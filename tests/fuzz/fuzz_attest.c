/* libFuzzer driver for the attestation verifier (pa_attest_verify) against
 * the pinned AWS Nitro root. The verifier parses the whole COSE envelope and
 * payload (and the leaf certificate) before it checks the signature, so
 * random inputs reach all of the parsing code. Seeds: tests/fuzz/corpus/attest/
 * (small malformed COSE) and the real AWS documents of
 * tests/data/nitro, decoded at build time. Beyond "no crash":
 *  - the verdict is deterministic, claims included;
 *  - refusing debug documents only ever refuses more: what passes with
 *    allow_debug = 0 passes with allow_debug = 1, and is not in debug mode;
 *  - accepted claims respect the documented bounds (optional fields of at
 *    most PA_ATTEST_FIELD_MAX bytes, empty when absent), and a refusal
 *    always says why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The real document's own timestamp (2024-09-07T14:37:39.545Z): a fixed
 * "now" inside its leaf certificate's validity. */
#define DOC_TIME_MS INT64_C(1725719859545)

static void check_claims(const pa_attest_claims *c)
{
    if (c->public_key_len > PA_ATTEST_FIELD_MAX || c->user_data_len > PA_ATTEST_FIELD_MAX ||
        c->nonce_len > PA_ATTEST_FIELD_MAX)
        abort();
    if ((!c->has_public_key && c->public_key_len != 0) ||
        (!c->has_user_data && c->user_data_len != 0) || (!c->has_nonce && c->nonce_len != 0))
        abort();
    if (memchr(c->module_id, '\0', sizeof c->module_id) == NULL)
        abort();
}

static int same_claims(const pa_attest_claims *a, const pa_attest_claims *b)
{
    return strcmp(a->module_id, b->module_id) == 0 && a->timestamp_ms == b->timestamp_ms &&
           memcmp(a->pcr0, b->pcr0, sizeof a->pcr0) == 0 && a->debug_mode == b->debug_mode &&
           a->has_public_key == b->has_public_key && a->public_key_len == b->public_key_len &&
           memcmp(a->public_key, b->public_key, a->public_key_len) == 0 &&
           a->has_user_data == b->has_user_data && a->user_data_len == b->user_data_len &&
           memcmp(a->user_data, b->user_data, a->user_data_len) == 0 &&
           a->has_nonce == b->has_nonce && a->nonce_len == b->nonce_len &&
           memcmp(a->nonce, b->nonce, a->nonce_len) == 0;
}

static int verify(const uint8_t *data, size_t size, X509 *root, int64_t at, int allow_debug,
                  pa_attest_claims *claims)
{
    char err[128] = "";
    memset(claims, 0, sizeof *claims);
    int rc = pa_attest_verify(data, size, root, at, allow_debug, claims, err, sizeof err);
    if (rc == 0)
        check_claims(claims);
    else if (err[0] == '\0')
        abort(); /* a refusal without a reason */
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static X509 *root;
    static pa_attest_claims a, b;
    if (root == NULL)
        root = pa_attest_aws_root();
    if (root == NULL)
        abort();
    if (size > (size_t)2 * PA_ATTEST_DOC_MAX)
        return 0;

    /* at the document's own time, debug allowed; and again */
    int lax = verify(data, size, root, 0, 1, &a);
    int again = verify(data, size, root, 0, 1, &b);
    if (lax != again || (lax == 0 && !same_claims(&a, &b)))
        abort();
    /* at a fixed time, debug refused */
    int strict = verify(data, size, root, DOC_TIME_MS, 0, &b);
    if (strict == 0) {
        if (b.debug_mode)
            abort();
        pa_attest_claims c;
        if (verify(data, size, root, DOC_TIME_MS, 1, &c) != 0 || !same_claims(&b, &c))
            abort();
    }
    return 0;
}
