/* Thin helpers around OpenSSL's raw-key API for the two key types perfagg
 * uses: X25519 (envelope encryption) and Ed25519 (signed aggregates). Keys
 * cross every boundary as raw 32-byte values, never SPKI or PEM. */
#include "envelope_keys.h"

#include <openssl/crypto.h>

static EVP_PKEY *generate(int type)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(type, NULL);
    if (ctx == NULL)
        return NULL;
    if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return key;
}

EVP_PKEY *pa_x25519_generate(void)
{
    return generate(EVP_PKEY_X25519);
}

EVP_PKEY *pa_ed25519_generate(void)
{
    return generate(EVP_PKEY_ED25519);
}

int pa_raw_public_key(EVP_PKEY *key, uint8_t out[32])
{
    if (key == NULL || out == NULL ||
        !(EVP_PKEY_is_a(key, "X25519") || EVP_PKEY_is_a(key, "ED25519")))
        return -1;
    size_t len = 32;
    if (EVP_PKEY_get_raw_public_key(key, out, &len) != 1 || len != 32)
        return -1;
    return 0;
}

int pa_ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
                    uint8_t sig[PA_SIGNATURE_LEN])
{
    if (key == NULL || sig == NULL || (msg == NULL && len > 0) || !EVP_PKEY_is_a(key, "ED25519"))
        return -1;
    static const uint8_t empty[1];
    int rc = -1;
    size_t sig_len = PA_SIGNATURE_LEN;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    PA_ENSURE_GOTO(ctx != NULL, cleanup);
    /* Ed25519 is "pure": it hashes internally, so the digest must be NULL
     * and the message goes to the one-shot EVP_DigestSign. */
    PA_ENSURE_GOTO(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_DigestSign(ctx, sig, &sig_len, msg != NULL ? msg : empty, len) == 1,
                   cleanup);
    PA_ENSURE_GOTO(sig_len == PA_SIGNATURE_LEN, cleanup);
    rc = 0;
cleanup:
    if (rc != 0)
        OPENSSL_cleanse(sig, PA_SIGNATURE_LEN);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int pa_ed25519_verify(const uint8_t pub[PA_ED25519_LEN], const uint8_t *msg, size_t len,
                      const uint8_t sig[PA_SIGNATURE_LEN])
{
    if (pub == NULL || sig == NULL || (msg == NULL && len > 0))
        return -1;
    static const uint8_t empty[1];
    int rc = -1;
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, PA_ED25519_LEN);
    PA_ENSURE_GOTO(key != NULL, cleanup);
    ctx = EVP_MD_CTX_new();
    PA_ENSURE_GOTO(ctx != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_DigestVerify(ctx, sig, PA_SIGNATURE_LEN, msg != NULL ? msg : empty, len) == 1,
                   cleanup);
    rc = 0;
cleanup:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return rc;
}
