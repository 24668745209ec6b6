/* The user_data that ties perfagg's two enclave keys to one attestation. */
#include <string.h>

#include <openssl/evp.h>

#include "attest_common.h"

#define KEY_BINDING_LABEL "perfagg/v1/keys"

void pa_attest_key_binding(const uint8_t enclave_pub[32], const uint8_t signing_pub[32],
                           uint8_t out[32])
{
    /* Fixed-length inputs after a fixed label: the concatenation is
     * unambiguous without length prefixes. */
    uint8_t msg[sizeof(KEY_BINDING_LABEL) - 1 + 64];
    memcpy(msg, KEY_BINDING_LABEL, sizeof(KEY_BINDING_LABEL) - 1);
    memcpy(msg + sizeof(KEY_BINDING_LABEL) - 1, enclave_pub, 32);
    memcpy(msg + sizeof(KEY_BINDING_LABEL) - 1 + 32, signing_pub, 32);
    unsigned int n = 0;
    /* SHA-256 of 79 bytes cannot fail short of memory exhaustion inside
     * OpenSSL; the void API (a header contract) leaves nothing to report, so
     * make the failure visible as an all-zero binding no key pair produces. */
    if (EVP_Digest(msg, sizeof msg, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        memset(out, 0, 32);
}
