/* The enclave's keys: generation and signing around OpenSSL's raw-key API
 * (enclave only; reading a raw public key and verifying a signature are in
 * envelope_format.h). A host or
 * client-library source including this header does not compile. */
#ifndef PA_ENVELOPE_KEYS_H
#define PA_ENVELOPE_KEYS_H

#include "enclave_only.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope_format.h"
#include "result.h"

EVP_PKEY *pa_x25519_generate(void);
EVP_PKEY *pa_ed25519_generate(void);
/* Ed25519 over msg; sig is 64 raw bytes. */
PA_MUST_USE int pa_ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
                                uint8_t sig[PA_SIGNATURE_LEN]);

#endif
