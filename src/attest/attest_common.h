/* AWS Nitro Enclaves attestation documents: what the producing side
 * (attest_produce.h, enclave only) and the verifying side (attest_verify.h,
 * clients) agree on.
 *
 * A document is a COSE_Sign1, untagged or with one tag 18 in its one-byte
 * head 0xd2,
 *   [protected = bstr({1: -35}), unprotected = {}, payload, signature(96 = r||s)]
 * signed with ECDSA P-384 / SHA-384 over
 *   ["Signature1", protected, h'', payload]
 * whose payload is the CBOR map
 *   module_id (tstr), digest ("SHA384"), timestamp (uint, ms), pcrs ({uint: bstr(48)}),
 *   certificate (bstr, DER leaf), cabundle ([bstr DER root, intermediates...]),
 *   public_key (bstr / null), user_data (bstr / null), nonce (bstr / null). */
#ifndef PA_ATTEST_COMMON_H
#define PA_ATTEST_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define PA_PCR_LEN 48             /* every PCR: SHA-384 */
#define PA_ATTEST_PCR_COUNT 32    /* Nitro PCR indexes are 0..31 */
#define PA_ATTEST_FIELD_MAX 1024  /* public_key, user_data, nonce */
#define PA_ATTEST_DOC_MAX 16384   /* largest document produced or accepted */
/* SHA-256 of the DER of the AWS Nitro Enclaves Root G1 certificate. */
#define PA_AWS_NITRO_ROOT_SHA256 "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"

/* user_data that binds perfagg's two keys:
 *   SHA-256("perfagg/v1/keys" || enclave_pub(32) || signing_pub(32)). */
void pa_attest_key_binding(const uint8_t enclave_pub[32], const uint8_t signing_pub[32],
                           uint8_t out[32]);

/* user_data of an enclave-made API key's quote (POST /enclave/keygen):
 *   SHA-256("perfagg/v1/keygen" || enclave_pub(32) || signing_pub(32)
 *           || api_pub(32) || key_id(36 ASCII, the UUID's text)).
 * It names the instance (both enclave keys) that holds the private key of
 * api_pub, sealed under key_id. */
#define PA_ATTEST_KEY_ID_LEN 36
void pa_attest_keygen_binding(const uint8_t enclave_pub[32], const uint8_t signing_pub[32],
                              const uint8_t api_pub[32], const char key_id[PA_ATTEST_KEY_ID_LEN],
                              uint8_t out[32]);

#endif
