/* AWS Nitro Enclaves attestation documents: producing them (enclave side,
 * development platform) and verifying them (client side).
 *
 * A document is an untagged (tag 18 tolerated on input) COSE_Sign1
 *   [protected = bstr({1: -35}), unprotected = {}, payload, signature(96 = r||s)]
 * signed with ECDSA P-384 / SHA-384 over
 *   ["Signature1", protected, h'', payload]
 * whose payload is the CBOR map
 *   module_id (tstr), digest ("SHA384"), timestamp (uint, ms), pcrs ({uint: bstr}),
 *   certificate (bstr, DER leaf), cabundle ([bstr DER root, intermediates...]),
 *   public_key (bstr / null), user_data (bstr / null), nonce (bstr / null). */
#ifndef PA_ATTEST_H
#define PA_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "buf.h"
#include "result.h"

#define PA_PCR_LEN 48
#define PA_ATTEST_FIELD_MAX 1024 /* public_key, user_data, nonce */
#define PA_ATTEST_DOC_MAX 16384  /* largest document produced or accepted */
/* SHA-256 of the DER of the AWS Nitro Enclaves Root G1 certificate. */
#define PA_AWS_NITRO_ROOT_SHA256 "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"

/* ---- producing (enclave) --------------------------------------------------- */

typedef struct pa_attest_platform pa_attest_platform;

/* The development platform: loads (or creates on first start) a P-384 root and
 * intermediate under dir (mode 0700, keys 0600), creates a fresh short-lived
 * leaf key and certificate in memory, and measures PCR0 = SHA-384 of the file
 * at exe_path. NULL on failure. */
pa_attest_platform *pa_attest_dev_open(const char *dir, const char *exe_path);
void pa_attest_platform_free(pa_attest_platform *p);
const uint8_t *pa_attest_pcr0(const pa_attest_platform *p); /* PA_PCR_LEN bytes */
/* The development root as PEM (malloc'd), for GET /attestation/root. */
char *pa_attest_root_pem(const pa_attest_platform *p);

/* A signed document binding the given fields (each NULL -> CBOR null, each at
 * most PA_ATTEST_FIELD_MAX bytes). out receives the COSE_Sign1 bytes: it is
 * reset first; a zeroed pa_buf is initialised with cap PA_ATTEST_DOC_MAX.
 * Thread-safe; renews the leaf key when it is older than an hour. */
PA_MUST_USE int pa_attest_document(pa_attest_platform *p, const uint8_t *public_key, size_t pk_len,
                                   const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                                   size_t nonce_len, pa_buf *out);

/* ---- verifying (client) ---------------------------------------------------- */

typedef struct {
    char module_id[128];
    int64_t timestamp_ms;
    uint8_t pcr0[PA_PCR_LEN];
    int debug_mode; /* PCR0, PCR1 and PCR2 all zero */
    uint8_t public_key[PA_ATTEST_FIELD_MAX];
    size_t public_key_len; /* 0 when null */
    uint8_t user_data[PA_ATTEST_FIELD_MAX];
    size_t user_data_len;
    uint8_t nonce[PA_ATTEST_FIELD_MAX];
    size_t nonce_len;
    int has_public_key, has_user_data, has_nonce;
} pa_attest_claims;

/* Verifies the COSE signature with the leaf certificate's key, the chain
 * leaf -> cabundle -> root where root is the caller's pinned certificate (the
 * document's own cabundle[0] is never trusted: it must equal root), at time
 * at_ms (0 = the document's own timestamp), and the payload's structure.
 * Rejects debug-mode documents unless allow_debug. On failure writes a short
 * reason to err. */
PA_MUST_USE int pa_attest_verify(const uint8_t *doc, size_t len, X509 *root, int64_t at_ms,
                                 int allow_debug, pa_attest_claims *out, char *err, size_t errlen);

/* Loads a PEM certificate file. With expect_sha256_hex non-NULL, fails unless
 * SHA-256(DER) matches it (pinning). */
X509 *pa_attest_load_root(const char *pem_path, const char *expect_sha256_hex);
/* The AWS Nitro root compiled into the client, checked against its pin. */
X509 *pa_attest_aws_root(void);

/* user_data that binds perfagg's two keys:
 *   SHA-256("perfagg/v1/keys" || enclave_pub(32) || signing_pub(32)). */
void pa_attest_key_binding(const uint8_t enclave_pub[32], const uint8_t signing_pub[32],
                           uint8_t out[32]);

#endif
