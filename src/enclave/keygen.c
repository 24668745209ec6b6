/* Enclave-made Ed25519 API keys (keygen.h). */
#include "keygen.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "attest_produce.h"
#include "codec.h"
#include "envelope_keys.h"
#include "ipc_contract.h"
#include "json_strict.h"
#include "key_seal.h"
#include "log.h"
#include "registry.h"
#include "uuid.h"

_Static_assert(PA_UUID_STR_LEN == PA_ATTEST_KEY_ID_LEN + 1, "key_id is a UUID's text");

/* The public key as the SubjectPublicKeyInfo PEM Binance's "self-generated"
 * key form takes (public: an ordinary malloc'd string). */
static char *public_pem(EVP_PKEY *k)
{
    char *out = NULL, *data = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio != NULL && PEM_write_bio_PUBKEY(bio, k) == 1) {
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && (size_t)n < PA_IPC_PUBKEY_PEM_MAX && (out = malloc((size_t)n + 1)) != NULL) {
            memcpy(out, data, (size_t)n);
            out[n] = 0;
        }
    }
    BIO_free(bio);
    return out;
}

/* The quote: public_key = enclave_pubkey, nonce = the caller's,
 * user_data = the keygen binding (attest_common.h). */
static json_t *keygen_attestation(pa_enclave *e, const uint8_t api_pub[32], const char *key_id,
                                  const uint8_t *nonce, size_t nonce_len)
{
    uint8_t binding[32];
    pa_attest_keygen_binding(e->enclave_pub, e->signing_pub, api_pub, key_id, binding);
    return pa_enclave_attestation(e, binding, nonce, nonce_len);
}

char *pa_keygen_op(pa_enclave *e, const json_t *req)
{
    const char *exchange = pa_json_str(req, "exchange"), *jn = pa_json_str(req, "nonce");
    if (exchange == NULL || pa_connector_find(exchange) == NULL)
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST, "unsupported exchange");
    uint8_t *nonce = NULL;
    size_t nonce_len = 0;
    if (jn != NULL && pa_b64_decode(jn, strlen(jn), &nonce, &nonce_len) != 0)
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST, "nonce must be base64");

    char *answer = NULL, *pem = NULL, *pub_b64 = NULL, *sealed_b64 = NULL;
    char key_id[PA_UUID_STR_LEN];
    uint8_t seed[PA_ED25519_SEED_LEN], pub[32], sealed[PA_SEALED_KEY_LEN];
    size_t seed_len = sizeof seed;
    json_t *att = NULL;
    /* in the secure heap: the enclave's OpenSSL allocates keys there */
    EVP_PKEY *k = pa_ed25519_generate();
    int ok = k != NULL && EVP_PKEY_get_raw_private_key(k, seed, &seed_len) == 1 &&
             seed_len == sizeof seed && pa_raw_public_key(k, pub) == 0 &&
             pa_uuid_v4(key_id) == 0 &&
             pa_key_seal(e->envelope_key, key_id, exchange, seed, sealed) == 0;
    /* The private key is sealed (or lost): nothing in plaintext outlives this line. */
    OPENSSL_cleanse(seed, sizeof seed);
    if (ok)
        ok = (pem = public_pem(k)) != NULL && (pub_b64 = pa_b64_encode(pub, sizeof pub)) != NULL &&
             (sealed_b64 = pa_b64_encode(sealed, sizeof sealed)) != NULL &&
             (att = keygen_attestation(e, pub, key_id, nonce, nonce_len)) != NULL;
    EVP_PKEY_free(k);
    if (ok) {
        pa_log_info("keygen: made an Ed25519 API key for %s", exchange);
        answer = pa_ipc_ok_answer(json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "key_id", key_id,
                                            "exchange", exchange, "public_key", pub_b64,
                                            "public_key_pem", pem, "sealed_key", sealed_b64,
                                            "attestation", att));
        att = NULL;
    } else {
        answer = pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "key generation failed");
    }
    json_decref(att);
    free(nonce);
    free(pem);
    free(pub_b64);
    free(sealed_b64);
    return answer;
}

int pa_keygen_named(const pa_envelope *env)
{
    return env != NULL && pa_json_str(env->metadata, "enclave_key_id") != NULL;
}

/* RFC 8410's PKCS#8 PrivateKeyInfo of an Ed25519 key: this fixed prefix,
 * then the 32-byte seed. */
static const uint8_t pkcs8_prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                         0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
#define PEM_HEAD "-----BEGIN PRIVATE KEY-----\n"
#define PEM_TAIL "\n-----END PRIVATE KEY-----\n"

/* The seed as the PEM text pa_binance_load_ed25519 reads, in the secure
 * heap; every intermediate copy is on the stack and wiped. */
static char *private_pem(const uint8_t seed[PA_ED25519_SEED_LEN])
{
    uint8_t der[sizeof pkcs8_prefix + PA_ED25519_SEED_LEN];
    unsigned char b64[4 * ((sizeof der + 2) / 3) + 1];
    memcpy(der, pkcs8_prefix, sizeof pkcs8_prefix);
    memcpy(der + sizeof pkcs8_prefix, seed, PA_ED25519_SEED_LEN);
    int n = EVP_EncodeBlock(b64, der, (int)sizeof der);
    size_t len = strlen(PEM_HEAD) + (size_t)(n > 0 ? n : 0) + strlen(PEM_TAIL);
    char *pem = n > 0 ? OPENSSL_secure_malloc(len + 1) : NULL;
    if (pem != NULL && snprintf(pem, len + 1, "%s%.*s%s", PEM_HEAD, n, (const char *)b64,
                                PEM_TAIL) != (int)len) {
        OPENSSL_secure_clear_free(pem, len + 1);
        pem = NULL;
    }
    OPENSSL_cleanse(der, sizeof der);
    OPENSSL_cleanse(b64, sizeof b64);
    return pem;
}

char *pa_keygen_attach(pa_enclave *e, const json_t *req, const pa_envelope *env,
                       pa_credentials *creds)
{
    const char *key_id = pa_json_str(env->metadata, "enclave_key_id");
    const char *sealed_b64 = pa_json_str(req, "sealed_key");
    if (key_id == NULL)
        return sealed_b64 == NULL ? NULL
                                  : pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST,
                                                        "sealed_key given for an envelope that "
                                                        "names no enclave key");
    uint8_t sealed[PA_SEALED_KEY_LEN], seed[PA_ED25519_SEED_LEN];
    if (sealed_b64 == NULL || pa_b64_decode_exact(sealed_b64, sealed, sizeof sealed) != 0)
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST,
                                   "the envelope names an enclave key: sealed_key is required");
    /* The key_id and the exchange come from the envelope's authenticated
     * metadata: the host cannot hand in another key, or one made for
     * another venue. */
    switch (pa_key_unseal(e->envelope_key, key_id, pa_json_str(env->metadata, "exchange"), sealed,
                          seed)) {
    case PA_KEY_SEAL_OK:
        break;
    case PA_KEY_SEAL_LOST:
        return pa_ipc_error_answer(PA_IPC_E_ENCLAVE_KEY_LOST,
                                   "the enclave-made API key was sealed by an enclave instance "
                                   "that no longer exists: make a new key");
    case PA_KEY_SEAL_INVALID:
    default:
        return pa_ipc_error_answer(PA_IPC_E_SEALED_KEY_INVALID,
                                   "the sealed key does not open for the key the envelope names");
    }
    char *pem = private_pem(seed);
    OPENSSL_cleanse(seed, sizeof seed);
    if (pem == NULL)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "out of secure memory");
    if (creds->api_secret != NULL) /* parse_enclave_key leaves it NULL */
        OPENSSL_secure_clear_free(creds->api_secret, strlen(creds->api_secret) + 1);
    creds->api_secret = pem;
    return NULL;
}
