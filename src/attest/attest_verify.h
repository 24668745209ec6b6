/* Verifying attestation documents: the client side (perfagg attest, submit,
 * verify, and offline auditors). Nothing here holds or uses a private key.
 *
 * A document is checked against a root the caller chose, at a time the caller
 * chose, under a policy the caller chose; every check is evaluated that can be
 * and each failure is recorded by check, so that a front end can print every
 * reason at once. The rules are listed in docs/PROTOCOL.md ("Verifying an
 * attestation document"). */
#ifndef PA_ATTEST_VERIFY_H
#define PA_ATTEST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "attest_common.h"
#include "result.h"

typedef enum {
    PA_ATTEST_CHECK_FORMAT,     /* COSE_Sign1 envelope and payload, byte-strict; certificates parse */
    PA_ATTEST_CHECK_SIGNATURE,  /* ES384 over the Sig_structure with the leaf's P-384 key */
    PA_ATTEST_CHECK_CHAIN,      /* the leaf is an end-entity signing certificate, and
                                   leaf -> cabundle[1..] -> the pinned root holds at at_ms */
    PA_ATTEST_CHECK_TIMESTAMP,  /* the document's timestamp is inside the leaf's validity
                                   and (max_skew_ms) close to at_ms */
    PA_ATTEST_CHECK_DEBUG,      /* not a debug-mode enclave, unless allowed */
    PA_ATTEST_CHECK_PCRS,       /* the expected PCRs (when any is given) */
    PA_ATTEST_CHECK_NONCE,      /* the expected nonce (when given) */
    PA_ATTEST_CHECK_PUBLIC_KEY, /* the expected public_key (when given) */
    PA_ATTEST_CHECK_USER_DATA,  /* the expected user_data (when given) */
    PA_ATTEST_CHECK_COUNT
} pa_attest_check_id;

/* FORMAT .. TIMESTAMP: whether the document is what it claims to be. */
#define PA_ATTEST_AUTHENTICITY_MASK                                                        \
    ((1u << PA_ATTEST_CHECK_FORMAT) | (1u << PA_ATTEST_CHECK_SIGNATURE) |                  \
     (1u << PA_ATTEST_CHECK_CHAIN) | (1u << PA_ATTEST_CHECK_TIMESTAMP))

typedef enum {
    PA_ATTEST_UNCHECKED = 0, /* not asked for, or not evaluable (the format failed) */
    PA_ATTEST_PASS,
    PA_ATTEST_FAIL
} pa_attest_status;

#define PA_ATTEST_DETAIL_MAX 320

typedef struct {
    pa_attest_status status[PA_ATTEST_CHECK_COUNT];
    /* every reason a check failed, separated by "; " (truncated to fit) */
    char detail[PA_ATTEST_CHECK_COUNT][PA_ATTEST_DETAIL_MAX];
} pa_attest_result;

/* What the caller requires. Start from pa_attest_policy_init. */
typedef struct {
    /* The time the document must be valid at: the chain (every certificate's
     * validity) is checked at at_ms, never at the document's own timestamp.
     * A live check passes the current time; an auditor the time in question. */
    int64_t at_ms;
    /* > 0: the document's timestamp must be within max_skew_ms of at_ms (both
     * directions). 0: not checked (the timestamp must still fall inside the
     * leaf's validity). */
    int64_t max_skew_ms;
    int allow_debug; /* accept PCR0, PCR1 and PCR2 all zero */
    /* bit i set: PCR i must be present and equal pcrs[i] */
    uint32_t pcr_mask;
    uint8_t pcrs[PA_ATTEST_PCR_COUNT][PA_PCR_LEN];
    /* non-NULL: the document's field must be present (not null) and equal */
    const uint8_t *nonce;
    size_t nonce_len;
    const uint8_t *public_key;
    size_t public_key_len;
    const uint8_t *user_data;
    size_t user_data_len;
} pa_attest_policy;

void pa_attest_policy_init(pa_attest_policy *p, int64_t at_ms);
/* Requires PCR index (0..31) to equal value (PA_PCR_LEN bytes). */
PA_MUST_USE int pa_attest_policy_expect_pcr(pa_attest_policy *p, unsigned index,
                                            const uint8_t value[PA_PCR_LEN]);

typedef struct {
    char module_id[128];
    int64_t timestamp_ms;
    uint32_t pcr_present; /* bit i: pcrs[i] is set */
    uint8_t pcrs[PA_ATTEST_PCR_COUNT][PA_PCR_LEN];
    int debug_mode; /* PCR0, PCR1 and PCR2 all zero */
    int64_t leaf_not_before_ms, leaf_not_after_ms;
    int cabundle_len;
    uint8_t public_key[PA_ATTEST_FIELD_MAX];
    size_t public_key_len; /* 0 when null */
    uint8_t user_data[PA_ATTEST_FIELD_MAX];
    size_t user_data_len;
    uint8_t nonce[PA_ATTEST_FIELD_MAX];
    size_t nonce_len;
    int has_public_key, has_user_data, has_nonce;
} pa_attest_claims;

/* Verifies doc against root (the ONLY trust anchor: the document's own
 * cabundle[0] must be a byte-identical copy of it, and is never trusted) under
 * policy. result (required) receives every check's status and reasons.
 * out is filled when the document is authentic (every check of
 * PA_ATTEST_AUTHENTICITY_MASK passed), even if a policy check failed, and is
 * all zero otherwise. Returns 0 only when every check passed. */
PA_MUST_USE int pa_attest_verify(const uint8_t *doc, size_t len, X509 *root,
                                 const pa_attest_policy *policy, pa_attest_claims *out,
                                 pa_attest_result *result);

/* 1 when the format check passed and no check in mask (bits of
 * pa_attest_check_id) FAILED. With PA_ATTEST_AUTHENTICITY_MASK: the document
 * is authentic (those four are always evaluated once the format passed). */
int pa_attest_result_ok(const pa_attest_result *r, uint32_t mask);
/* "format", "signature", "chain", "timestamp", "debug", "pcrs", "nonce",
 * "public_key", "user_data". */
const char *pa_attest_check_name(pa_attest_check_id id);
/* The failures among mask as "name: detail; name: detail" into out. */
void pa_attest_result_failures(const pa_attest_result *r, uint32_t mask, char *out,
                               size_t outlen);

/* Loads a PEM certificate file. With expect_sha256_hex non-NULL, fails unless
 * SHA-256(DER) matches it (pinning). */
X509 *pa_attest_load_root(const char *pem_path, const char *expect_sha256_hex);
/* The AWS Nitro root compiled into the client, checked against its pin. */
X509 *pa_attest_aws_root(void);

#endif
