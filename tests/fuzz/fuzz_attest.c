/* libFuzzer driver for the attestation verifier (pa_attest_verify) against
 * the pinned AWS Nitro root. The verifier parses the whole COSE envelope and
 * payload (and the certificates) before it checks the signature, so random
 * inputs reach all of the parsing code. Seeds: tests/fuzz/corpus/attest/
 * (small malformed COSE) and the real AWS documents of tests/data/nitro,
 * decoded at build time. Beyond "no crash":
 *  - the verdict is deterministic, every check's status and claims included;
 *  - refusing debug documents only ever refuses more: what passes with
 *    allow_debug = 0 passes with allow_debug = 1, and is not in debug mode;
 *  - a refusal always names a failed check with a reason; claims are all
 *    zero unless the document is authentic (format, signature, chain and
 *    timestamp passed), and respect the documented bounds when given;
 *  - what passes is in the one accepted encoding: a definite array of 4
 *    (head 0x84), optionally behind ONE tag 18 in its one-byte head 0xd2;
 *  - expecting what the document says changes nothing, expecting anything
 *    else refuses it (nonce);
 *  - a live check today (the chain at the current time, the timestamp
 *    within 5 minutes of now) never passes a document from 2024. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest_verify.h"
#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The real document's own timestamp (2024-09-07T14:37:39.545Z): a fixed
 * "time of the check" inside its leaf certificate's validity. */
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
    if ((c->pcr_present & 7u) != 7u) /* PCR0..2 are required */
        abort();
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

static int verify(const uint8_t *data, size_t size, X509 *root, const pa_attest_policy *policy,
                  pa_attest_claims *claims, pa_attest_result *res)
{
    memset(claims, 0x5a, sizeof *claims); /* the verifier must overwrite all of it */
    int rc = pa_attest_verify(data, size, root, policy, claims, res);
    int authentic = pa_attest_result_ok(res, PA_ATTEST_AUTHENTICITY_MASK);
    if (rc == 0 && !pa_attest_result_ok(res, ~0u))
        abort();
    if (rc != 0) {
        int named = 0;
        for (int i = 0; i < PA_ATTEST_CHECK_COUNT; i++)
            if (res->status[i] == PA_ATTEST_FAIL) {
                if (res->detail[i][0] == '\0')
                    abort(); /* a refusal without a reason */
                named = 1;
            }
        if (!named)
            abort();
    }
    if (authentic)
        check_claims(claims);
    else if (!all_zero(claims, sizeof *claims))
        abort(); /* nothing half-verified leaks out */
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static X509 *root;
    static pa_attest_claims a, b, c;
    static pa_attest_result ra, rb;
    if (root == NULL)
        root = pa_attest_aws_root();
    if (root == NULL)
        abort();
    if (size > (size_t)2 * PA_ATTEST_DOC_MAX)
        return 0;

    pa_attest_policy lax;
    pa_attest_policy_init(&lax, DOC_TIME_MS);
    lax.allow_debug = 1;
    /* debug allowed; and again */
    int rc_lax = verify(data, size, root, &lax, &a, &ra);
    int again = verify(data, size, root, &lax, &b, &rb);
    if (rc_lax != again || memcmp(&a, &b, sizeof a) != 0 || memcmp(&ra, &rb, sizeof ra) != 0)
        abort();
    /* debug refused */
    pa_attest_policy strict = lax;
    strict.allow_debug = 0;
    int rc_strict = verify(data, size, root, &strict, &b, &rb);
    if (rc_strict == 0 && (b.debug_mode || rc_lax != 0 || memcmp(&a, &b, sizeof a) != 0))
        abort();
    if (rc_lax != 0)
        return 0;

    /* accepted: the one encoding */
    size_t off = data[0] == 0xd2 ? 1 : 0;
    if (size <= off || data[off] != 0x84)
        abort();
    /* the nonce it carries passes, another one does not */
    pa_attest_policy expect = lax;
    uint8_t other[1] = {0};
    expect.nonce = a.has_nonce ? a.nonce : other;
    expect.nonce_len = a.has_nonce ? a.nonce_len : 1;
    if (verify(data, size, root, &expect, &c, &rb) != (a.has_nonce ? 0 : -1))
        abort();
    uint8_t wrong[PA_ATTEST_FIELD_MAX + 1];
    memcpy(wrong, a.nonce, a.nonce_len);
    wrong[a.nonce_len] = 0x01;
    expect.nonce = wrong;
    expect.nonce_len = a.nonce_len + 1;
    if (verify(data, size, root, &expect, &c, &rb) == 0)
        abort();
    /* a live check today */
    pa_attest_policy live;
    pa_attest_policy_init(&live, pa_now_ms());
    live.max_skew_ms = 300 * 1000;
    live.allow_debug = 1;
    if (a.timestamp_ms < DOC_TIME_MS + 86400 * 1000 &&
        verify(data, size, root, &live, &c, &rb) == 0)
        abort();
    return 0;
}
