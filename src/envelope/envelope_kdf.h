/* Internal to the envelope module: the key schedule both sides of the
 * envelope share (docs/PROTOCOL.md steps 1, 2 and 4). Sealing and
 * opening call the same code so the two can never disagree about salt order,
 * info string or AAD bytes. Not for use outside src/envelope and its tests. */
#ifndef PA_ENVELOPE_KDF_H
#define PA_ENVELOPE_KDF_H

#ifdef PA_TRUST_HOST
#error "envelope-internal header included in host code"
#endif
#ifdef PA_TRUST_CLIENT
#error "envelope-internal header included in client code"
#endif

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope_format.h"
#include "result.h"

/* HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF: out_len bytes from ikm
 * with salt and the text info; out is wiped on failure. */
PA_MUST_USE int pa_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                               size_t salt_len, const char *info, uint8_t *out, size_t out_len);

/* Step 2: key = HKDF-SHA256(IKM = shared, salt = ephemeral_pub || enclave_pub,
 * info = PA_ENVELOPE_INFO, L = 32). */
PA_MUST_USE int pa_envelope_hkdf(const uint8_t shared[PA_X25519_LEN],
                                 const uint8_t ephemeral_pub[PA_X25519_LEN],
                                 const uint8_t enclave_pub[PA_X25519_LEN],
                                 uint8_t key_out[PA_KEY_LEN]);

/* Steps 1-2: X25519(own, peer_pub) followed by pa_envelope_hkdf. own is the
 * ephemeral secret when sealing (peer = enclave_pub) and the enclave key when
 * opening (peer = ephemeral_pub); the salt is always ephemeral_pub ||
 * enclave_pub. Fails when the shared secret is all zero (a low-order peer
 * point). The shared secret never leaves this function. */
PA_MUST_USE int pa_envelope_derive_key(EVP_PKEY *own, const uint8_t peer_pub[PA_X25519_LEN],
                                       const uint8_t ephemeral_pub[PA_X25519_LEN],
                                       const uint8_t enclave_pub[PA_X25519_LEN],
                                       uint8_t key_out[PA_KEY_LEN]);

/* Step 4: AAD = UTF-8(JCS(metadata)) as a malloc'd NUL-terminated string. */
PA_MUST_USE int pa_envelope_aad(const json_t *metadata, char **aad_out, size_t *len_out);

#endif
