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

#define KEYGEN_BINDING_LABEL "perfagg/v1/keygen"

void pa_attest_keygen_binding(const uint8_t enclave_pub[32], const uint8_t signing_pub[32],
                              const uint8_t api_pub[32], const char key_id[PA_ATTEST_KEY_ID_LEN],
                              uint8_t out[32])
{
    /* Again fixed lengths after a fixed label: no length prefixes needed. */
    enum { L = sizeof(KEYGEN_BINDING_LABEL) - 1 };
    uint8_t msg[L + 3 * 32 + PA_ATTEST_KEY_ID_LEN];
    memcpy(msg, KEYGEN_BINDING_LABEL, L);
    memcpy(msg + L, enclave_pub, 32);
    memcpy(msg + L + 32, signing_pub, 32);
    memcpy(msg + L + 64, api_pub, 32);
    memcpy(msg + L + 96, key_id, PA_ATTEST_KEY_ID_LEN);
    unsigned int n = 0;
    if (EVP_Digest(msg, sizeof msg, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        memset(out, 0, 32);
}
