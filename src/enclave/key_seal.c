/* Enclave-made API keys sealed to the enclave instance (key_seal.h). */
#include "key_seal.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "envelope_format.h"
#include "envelope_kdf.h"

#define SEAL_INFO "perfagg/v1/enclave-key-seal"
#define AAD_LABEL "perfagg/v1/enclave-key"
#define OFF_TO 1
#define OFF_NONCE (OFF_TO + PA_X25519_LEN)
#define OFF_CT (OFF_NONCE + PA_NONCE_LEN)
#define OFF_TAG (OFF_CT + PA_ED25519_SEED_LEN)
_Static_assert(OFF_TAG + PA_TAG_LEN == PA_SEALED_KEY_LEN, "sealed key layout");
#define EXCHANGE_BYTES_MAX ((size_t)PA_EXCHANGE_MAX * 4) /* 32 code points of UTF-8 */
#define AAD_MAX (sizeof AAD_LABEL - 1 + 1 + PA_X25519_LEN + PA_ATTEST_KEY_ID_LEN + EXCHANGE_BYTES_MAX)

/* The instance's seal key: derived from its X25519 private key, so it lives
 * and dies with that key and needs no state of its own. */
static int seal_key(EVP_PKEY *instance, const uint8_t sealed_to[PA_X25519_LEN],
                    uint8_t key[PA_KEY_LEN])
{
    int rc = -1;
    uint8_t ikm[PA_X25519_LEN];
    size_t ikm_len = sizeof ikm;
    PA_ENSURE_GOTO(EVP_PKEY_get_raw_private_key(instance, ikm, &ikm_len) == 1 &&
                       ikm_len == sizeof ikm,
                   cleanup);
    PA_GUARD_GOTO(pa_hkdf_sha256(ikm, sizeof ikm, sealed_to, PA_X25519_LEN, SEAL_INFO, key,
                                 PA_KEY_LEN),
                  cleanup);
    rc = 0;
cleanup:
    OPENSSL_cleanse(ikm, sizeof ikm);
    if (rc != 0)
        OPENSSL_cleanse(key, PA_KEY_LEN);
    return rc;
}

/* label || version || sealed_to || key_id || exchange: every part but the
 * last has a fixed length, so the concatenation is unambiguous. */
static size_t make_aad(const uint8_t *sealed, const char *key_id, const char *exchange,
                       uint8_t aad[AAD_MAX])
{
    size_t ex = strnlen(exchange, EXCHANGE_BYTES_MAX + 1), n = 0;
    if (ex == 0 || ex > EXCHANGE_BYTES_MAX || strnlen(key_id, PA_ATTEST_KEY_ID_LEN + 1) != PA_ATTEST_KEY_ID_LEN)
        return 0;
    memcpy(aad, AAD_LABEL, sizeof AAD_LABEL - 1);
    n += sizeof AAD_LABEL - 1;
    memcpy(aad + n, sealed, 1 + PA_X25519_LEN);
    n += 1 + PA_X25519_LEN;
    memcpy(aad + n, key_id, PA_ATTEST_KEY_ID_LEN);
    n += PA_ATTEST_KEY_ID_LEN;
    memcpy(aad + n, exchange, ex);
    return n + ex;
}

int pa_key_seal(EVP_PKEY *instance, const char key_id[PA_ATTEST_KEY_ID_LEN],
                const char *exchange, const uint8_t seed[PA_ED25519_SEED_LEN],
                uint8_t out[PA_SEALED_KEY_LEN])
{
    if (instance == NULL || key_id == NULL || exchange == NULL || seed == NULL || out == NULL ||
        !EVP_PKEY_is_a(instance, "X25519"))
        return -1;
    int rc = -1, n = 0;
    uint8_t key[PA_KEY_LEN], aad[AAD_MAX];
    size_t aad_len;
    EVP_CIPHER_CTX *ctx = NULL;
    out[0] = PA_SEALED_KEY_VERSION;
    PA_GUARD_GOTO(pa_raw_public_key(instance, out + OFF_TO), cleanup);
    PA_ENSURE_GOTO(RAND_bytes(out + OFF_NONCE, PA_NONCE_LEN) == 1, cleanup);
    PA_ENSURE_GOTO((aad_len = make_aad(out, key_id, exchange, aad)) > 0, cleanup);
    PA_GUARD_GOTO(seal_key(instance, out + OFF_TO, key), cleanup);
    ctx = EVP_CIPHER_CTX_new();
    PA_ENSURE_GOTO(ctx != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PA_NONCE_LEN, NULL) == 1,
                   cleanup);
    PA_ENSURE_GOTO(EVP_EncryptInit_ex(ctx, NULL, NULL, key, out + OFF_NONCE) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_EncryptUpdate(ctx, out + OFF_CT, &n, seed, PA_ED25519_SEED_LEN) == 1 &&
                       n == PA_ED25519_SEED_LEN,
                   cleanup);
    PA_ENSURE_GOTO(EVP_EncryptFinal_ex(ctx, out + OFF_CT + n, &n) == 1 && n == 0, cleanup);
    PA_ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PA_TAG_LEN, out + OFF_TAG) == 1,
                   cleanup);
    rc = 0;
cleanup:
    OPENSSL_cleanse(key, sizeof key);
    EVP_CIPHER_CTX_free(ctx);
    if (rc != 0)
        OPENSSL_cleanse(out, PA_SEALED_KEY_LEN);
    return rc;
}

pa_key_seal_status pa_key_unseal(EVP_PKEY *instance, const char key_id[PA_ATTEST_KEY_ID_LEN],
                                 const char *exchange, const uint8_t in[PA_SEALED_KEY_LEN],
                                 uint8_t seed_out[PA_ED25519_SEED_LEN])
{
    if (seed_out == NULL)
        return PA_KEY_SEAL_INVALID;
    OPENSSL_cleanse(seed_out, PA_ED25519_SEED_LEN);
    if (instance == NULL || key_id == NULL || exchange == NULL || in == NULL ||
        !EVP_PKEY_is_a(instance, "X25519") || in[0] != PA_SEALED_KEY_VERSION)
        return PA_KEY_SEAL_INVALID;
    uint8_t mine[PA_X25519_LEN];
    if (pa_raw_public_key(instance, mine) != 0)
        return PA_KEY_SEAL_INVALID;
    /* Said apart before trying: the usual reason is a restart, not an attack. */
    if (CRYPTO_memcmp(mine, in + OFF_TO, PA_X25519_LEN) != 0)
        return PA_KEY_SEAL_LOST;

    pa_key_seal_status st = PA_KEY_SEAL_INVALID;
    int n = 0;
    uint8_t key[PA_KEY_LEN], aad[AAD_MAX], tag[PA_TAG_LEN];
    size_t aad_len;
    EVP_CIPHER_CTX *ctx = NULL;
    memcpy(tag, in + OFF_TAG, PA_TAG_LEN); /* EVP's ctrl takes a non-const pointer */
    PA_ENSURE_GOTO((aad_len = make_aad(in, key_id, exchange, aad)) > 0, cleanup);
    PA_GUARD_GOTO(seal_key(instance, in + OFF_TO, key), cleanup);
    ctx = EVP_CIPHER_CTX_new();
    PA_ENSURE_GOTO(ctx != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PA_NONCE_LEN, NULL) == 1,
                   cleanup);
    PA_ENSURE_GOTO(EVP_DecryptInit_ex(ctx, NULL, NULL, key, in + OFF_NONCE) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1, cleanup);
    /* unauthenticated until the tag checks; wiped below if it does not */
    PA_ENSURE_GOTO(EVP_DecryptUpdate(ctx, seed_out, &n, in + OFF_CT, PA_ED25519_SEED_LEN) == 1 &&
                       n == PA_ED25519_SEED_LEN,
                   cleanup);
    PA_ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, PA_TAG_LEN, tag) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_DecryptFinal_ex(ctx, seed_out + n, &n) == 1 && n == 0, cleanup);
    st = PA_KEY_SEAL_OK;
cleanup:
    OPENSSL_cleanse(key, sizeof key);
    EVP_CIPHER_CTX_free(ctx);
    if (st != PA_KEY_SEAL_OK)
        OPENSSL_cleanse(seed_out, PA_ED25519_SEED_LEN);
    return st;
}
