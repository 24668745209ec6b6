/* Sealing (client only): encrypt credentials to the enclave's X25519 key.
 * The steps are numbered as in docs/PROTOCOL.md. */
#include "envelope_seal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "envelope_kdf.h"

int pa_envelope_seal_with(const uint8_t eph_secret[PA_X25519_LEN],
                          const uint8_t nonce[PA_NONCE_LEN],
                          const uint8_t enclave_pub[PA_X25519_LEN], const json_t *metadata,
                          const uint8_t *plaintext, size_t len, pa_envelope *out)
{
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    const char *err;
    if (eph_secret == NULL || nonce == NULL || enclave_pub == NULL || plaintext == NULL ||
        len < 1 || len > PA_CIPHERTEXT_MAX || pa_envelope_check_metadata(metadata, &err) != 0)
        return -1;

    int rc = -1;
    uint8_t key[PA_KEY_LEN];
    char *aad = NULL;
    size_t aad_len = 0;
    int n = 0;
    EVP_PKEY *eph = NULL;
    EVP_CIPHER_CTX *ctx = NULL;

    /* Steps 1-2: shared secret and key from the ephemeral key pair. */
    eph = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, eph_secret, PA_X25519_LEN);
    PA_ENSURE_GOTO(eph != NULL, cleanup);
    PA_GUARD_GOTO(pa_raw_public_key(eph, out->ephemeral_pub), cleanup);
    PA_GUARD_GOTO(pa_envelope_derive_key(eph, enclave_pub, out->ephemeral_pub, enclave_pub, key),
                  cleanup);
    /* Step 3 is the caller's (pa_envelope_seal draws it at random). */
    memcpy(out->nonce, nonce, PA_NONCE_LEN);
    /* Step 4: AAD binds the metadata exactly as it will be sent. */
    PA_GUARD_GOTO(pa_envelope_aad(metadata, &aad, &aad_len), cleanup);
    PA_ENSURE_GOTO(aad_len <= INT_MAX, cleanup);

    /* Step 5: AES-256-GCM. GCM ciphertext is exactly as long as the plaintext. */
    out->ciphertext = malloc(len);
    PA_ENSURE_GOTO(out->ciphertext != NULL, cleanup);
    ctx = EVP_CIPHER_CTX_new();
    PA_ENSURE_GOTO(ctx != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PA_NONCE_LEN, NULL) == 1,
                   cleanup);
    PA_ENSURE_GOTO(EVP_EncryptInit_ex(ctx, NULL, NULL, key, out->nonce) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)aad_len) == 1,
                   cleanup);
    PA_ENSURE_GOTO(EVP_EncryptUpdate(ctx, out->ciphertext, &n, plaintext, (int)len) == 1, cleanup);
    PA_ENSURE_GOTO(n >= 0 && (size_t)n == len, cleanup);
    PA_ENSURE_GOTO(EVP_EncryptFinal_ex(ctx, out->ciphertext + n, &n) == 1 && n == 0, cleanup);
    PA_ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PA_TAG_LEN, out->tag) == 1,
                   cleanup);
    out->ciphertext_len = len;
    out->metadata = json_deep_copy(metadata);
    PA_ENSURE_GOTO(out->metadata != NULL, cleanup);
    rc = 0;
cleanup:
    OPENSSL_cleanse(key, sizeof key);
    EVP_CIPHER_CTX_free(ctx); /* clears the expanded key schedule */
    EVP_PKEY_free(eph);       /* clears the ephemeral secret */
    free(aad);
    if (rc != 0)
        pa_envelope_free(out);
    return rc;
}

int pa_envelope_seal(const uint8_t enclave_pub[PA_X25519_LEN], const json_t *metadata,
                     const uint8_t *plaintext, size_t len, pa_envelope *out)
{
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    uint8_t eph_secret[PA_X25519_LEN];
    uint8_t nonce[PA_NONCE_LEN];
    int rc = -1;
    /* X25519 clamps the scalar itself, so any 32 random bytes are a valid
     * secret. A fresh ephemeral key per envelope makes every key (and so
     * every (key, nonce) pair) single-use; the random nonce is belt and
     * braces. */
    PA_ENSURE_GOTO(RAND_priv_bytes(eph_secret, sizeof eph_secret) == 1, cleanup);
    PA_ENSURE_GOTO(RAND_bytes(nonce, sizeof nonce) == 1, cleanup);
    PA_GUARD_GOTO(pa_envelope_seal_with(eph_secret, nonce, enclave_pub, metadata, plaintext, len, out),
                  cleanup);
    rc = 0;
cleanup:
    OPENSSL_cleanse(eph_secret, sizeof eph_secret);
    return rc;
}
