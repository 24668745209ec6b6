/* The envelope key schedule, shared by seal (client) and open (enclave). */
#include "envelope_kdf.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "jcs.h"

int pa_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                   const char *info, uint8_t *out, size_t out_len)
{
    if (ikm == NULL || salt == NULL || info == NULL || out == NULL)
        return -1;
    int rc = -1;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    PA_ENSURE_GOTO(kctx != NULL, cleanup);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
        OSSL_PARAM_construct_end(),
    };
    PA_ENSURE_GOTO(EVP_KDF_derive(kctx, out, out_len, params) == 1, cleanup);
    rc = 0;
cleanup:
    if (rc != 0)
        OPENSSL_cleanse(out, out_len);
    EVP_KDF_CTX_free(kctx); /* clears its copy of the IKM */
    EVP_KDF_free(kdf);
    return rc;
}

int pa_envelope_hkdf(const uint8_t shared[PA_X25519_LEN],
                     const uint8_t ephemeral_pub[PA_X25519_LEN],
                     const uint8_t enclave_pub[PA_X25519_LEN], uint8_t key_out[PA_KEY_LEN])
{
    if (shared == NULL || ephemeral_pub == NULL || enclave_pub == NULL || key_out == NULL)
        return -1;
    /* Binding both public keys into the salt ties the key to this exact
     * (ephemeral, enclave) pair, so an envelope cannot be re-targeted. */
    uint8_t salt[2 * PA_X25519_LEN];
    memcpy(salt, ephemeral_pub, PA_X25519_LEN);
    memcpy(salt + PA_X25519_LEN, enclave_pub, PA_X25519_LEN);
    return pa_hkdf_sha256(shared, PA_X25519_LEN, salt, sizeof salt, PA_ENVELOPE_INFO, key_out,
                          PA_KEY_LEN);
}

int pa_envelope_derive_key(EVP_PKEY *own, const uint8_t peer_pub[PA_X25519_LEN],
                           const uint8_t ephemeral_pub[PA_X25519_LEN],
                           const uint8_t enclave_pub[PA_X25519_LEN], uint8_t key_out[PA_KEY_LEN])
{
    if (own == NULL || peer_pub == NULL || ephemeral_pub == NULL || enclave_pub == NULL ||
        key_out == NULL || !EVP_PKEY_is_a(own, "X25519"))
        return -1;
    static const uint8_t zeros[PA_X25519_LEN];
    int rc = -1;
    uint8_t shared[PA_X25519_LEN];
    size_t shared_len = sizeof shared;
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *dctx = NULL;

    peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, PA_X25519_LEN);
    PA_ENSURE_GOTO(peer != NULL, cleanup);
    dctx = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL);
    PA_ENSURE_GOTO(dctx != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_PKEY_derive_init(dctx) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_PKEY_derive_set_peer(dctx, peer) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_PKEY_derive(dctx, shared, &shared_len) == 1, cleanup);
    PA_ENSURE_GOTO(shared_len == PA_X25519_LEN, cleanup);
    /* RFC 7748 §6.1: a low-order peer point gives an all-zero secret that an
     * attacker knows. OpenSSL 3 already refuses it; checking here too keeps
     * the guarantee independent of the provider in use. */
    PA_ENSURE_GOTO(CRYPTO_memcmp(shared, zeros, PA_X25519_LEN) != 0, cleanup);
    PA_GUARD_GOTO(pa_envelope_hkdf(shared, ephemeral_pub, enclave_pub, key_out), cleanup);
    rc = 0;
cleanup:
    OPENSSL_cleanse(shared, sizeof shared);
    if (rc != 0)
        OPENSSL_cleanse(key_out, PA_KEY_LEN);
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(peer);
    return rc;
}

int pa_envelope_aad(const json_t *metadata, char **aad_out, size_t *len_out)
{
    if (!json_is_object(metadata) || aad_out == NULL || len_out == NULL)
        return -1;
    char *aad = pa_jcs_dumps(metadata);
    if (aad == NULL)
        return -1;
    *aad_out = aad;
    *len_out = strlen(aad);
    return 0;
}
