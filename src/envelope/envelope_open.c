/* Opening (enclave only). Every failure is the same -1 and nothing here logs:
 * the API reports all of them as one decryption_failed, so a caller cannot
 * learn which check an attacker's envelope tripped. */
#include "envelope_open.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "envelope_kdf.h"
#include "timeutil.h"

/* not_after is authenticated (it is in the AAD), but it is checked before
 * decrypting: an expired envelope then never yields plaintext at all. */
static int not_expired(const json_t *metadata, int64_t now_ms)
{
    const json_t *v = json_object_get(metadata, "not_after");
    if (v == NULL)
        return 0;
    int64_t not_after_ms;
    if (!json_is_string(v) || pa_time_parse(json_string_value(v), &not_after_ms) != 0)
        return -1;
    return now_ms > not_after_ms ? -1 : 0;
}

int pa_envelope_open(EVP_PKEY *enclave_key, const pa_envelope *env, int64_t now_ms,
                     pa_buf *plaintext_out)
{
    if (plaintext_out == NULL)
        return -1;
    pa_buf_init(plaintext_out, 0);
    const char *err;
    if (enclave_key == NULL || env == NULL || env->ciphertext == NULL ||
        env->ciphertext_len < 1 || env->ciphertext_len > PA_CIPHERTEXT_MAX ||
        pa_envelope_check_metadata(env->metadata, &err) != 0 ||
        not_expired(env->metadata, now_ms) != 0)
        return -1;

    int rc = -1;
    uint8_t key[PA_KEY_LEN];
    uint8_t enclave_pub[PA_X25519_LEN];
    uint8_t tag[PA_TAG_LEN];
    char *aad = NULL;
    size_t aad_len = 0;
    uint8_t *pt = NULL;
    size_t pt_alloc = env->ciphertext_len + 1;
    int n = 0;
    EVP_CIPHER_CTX *ctx = NULL;

    PA_GUARD_GOTO(pa_raw_public_key(enclave_key, enclave_pub), cleanup);
    PA_GUARD_GOTO(pa_envelope_derive_key(enclave_key, env->ephemeral_pub, env->ephemeral_pub,
                                         enclave_pub, key),
                  cleanup);
    PA_GUARD_GOTO(pa_envelope_aad(env->metadata, &aad, &aad_len), cleanup);
    PA_ENSURE_GOTO(aad_len <= INT_MAX, cleanup);
    memcpy(tag, env->tag, PA_TAG_LEN); /* EVP's ctrl takes a non-const pointer */

    pt = malloc(pt_alloc);
    PA_ENSURE_GOTO(pt != NULL, cleanup);
    ctx = EVP_CIPHER_CTX_new();
    PA_ENSURE_GOTO(ctx != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PA_NONCE_LEN, NULL) == 1,
                   cleanup);
    PA_ENSURE_GOTO(EVP_DecryptInit_ex(ctx, NULL, NULL, key, env->nonce) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)aad_len) == 1,
                   cleanup);
    /* GCM releases plaintext before the tag is checked: pt is unauthenticated
     * until EVP_DecryptFinal_ex succeeds and is wiped if it does not. */
    PA_ENSURE_GOTO(EVP_DecryptUpdate(ctx, pt, &n, env->ciphertext, (int)env->ciphertext_len) == 1,
                   cleanup);
    PA_ENSURE_GOTO(n >= 0 && (size_t)n == env->ciphertext_len, cleanup);
    PA_ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, PA_TAG_LEN, tag) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_DecryptFinal_ex(ctx, pt + n, &n) == 1 && n == 0, cleanup);
    pt[env->ciphertext_len] = 0;

    /* Hand the block over as a pa_buf (NUL-terminated, capped at its own
     * length) instead of copying it: one fewer copy of the secret. */
    plaintext_out->data = pt;
    plaintext_out->len = env->ciphertext_len;
    plaintext_out->alloc = pt_alloc;
    plaintext_out->cap = env->ciphertext_len;
    pt = NULL;
    rc = 0;
cleanup:
    OPENSSL_cleanse(key, sizeof key);
    EVP_CIPHER_CTX_free(ctx); /* clears the expanded key schedule */
    if (pt != NULL)
        pa_free_secret(pt, pt_alloc);
    free(aad);
    return rc;
}
