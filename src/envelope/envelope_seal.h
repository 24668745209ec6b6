/* Sealing a credential envelope (client only; docs/PROTOCOL.md). The host
 * never seals: a server source including this header does not compile. */
#ifndef PA_ENVELOPE_SEAL_H
#define PA_ENVELOPE_SEAL_H

#ifdef PA_TRUST_HOST
#error "client-only header included in host code"
#endif

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope_format.h"
#include "result.h"

/* Seals plaintext to enclave_pub with a fresh ephemeral key and nonce. */
PA_MUST_USE int pa_envelope_seal(const uint8_t enclave_pub[PA_X25519_LEN], const json_t *metadata,
                                 const uint8_t *plaintext, size_t len, pa_envelope *out);
/* Deterministic variant for test vectors: caller supplies the ephemeral secret
 * (raw X25519 private key) and the nonce. */
PA_MUST_USE int pa_envelope_seal_with(const uint8_t eph_secret[PA_X25519_LEN],
                                      const uint8_t nonce[PA_NONCE_LEN],
                                      const uint8_t enclave_pub[PA_X25519_LEN],
                                      const json_t *metadata, const uint8_t *plaintext,
                                      size_t len, pa_envelope *out);

#endif
