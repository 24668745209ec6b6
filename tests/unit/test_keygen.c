/* Enclave-made API keys (src/enclave/keygen.c, key_seal.c): the keygen op's
 * answer and quote binding, sealing to the instance (tamper, another
 * instance, another key_id or exchange: refused), and the sealed key's use
 * when an envelope names it (open op, and the PEM the transport signs with). */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "attest_produce.h"
#include "attest_verify.h"
#include "codec.h"
#include "credentials.h"
#include "enclave_ops.h"
#include "envelope_keys.h"
#include "envelope_seal.h"
#include "ipc_host.h"
#include "json_strict.h"
#include "key_seal.h"
#include "keygen.h"
#include "ipc.h"
#include "timeutil.h"
#include "uuid.h"

static pa_enclave enclave;
static EVP_PKEY *other_instance; /* a second enclave's X25519 key */
static char tmpdir[] = "/tmp/pa-test-keygen.XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    pa_enclave *e = &enclave;
    e->envelope_key = pa_x25519_generate();
    e->signing_key = pa_ed25519_generate();
    other_instance = pa_x25519_generate();
    assert_non_null(e->envelope_key);
    assert_non_null(e->signing_key);
    assert_non_null(other_instance);
    assert_int_equal(pa_raw_public_key(e->envelope_key, e->enclave_pub), 0);
    assert_int_equal(pa_raw_public_key(e->signing_key, e->signing_pub), 0);
    e->enclave_pub_b64 = pa_b64_encode(e->enclave_pub, 32);
    e->signing_pub_b64 = pa_b64_encode(e->signing_pub, 32);
    assert_non_null(mkdtemp(tmpdir));
    char ca_dir[sizeof tmpdir + 16];
    snprintf(ca_dir, sizeof ca_dir, "%s/dev-attest", tmpdir);
    e->platform = pa_attest_dev_open(ca_dir, "/proc/self/exe");
    assert_non_null(e->platform);
    e->dev_platform = 1;
    pa_hex_encode(pa_attest_pcr0(e->platform), PA_PCR_LEN, e->image_hash);
    e->binance_base_url = "http://127.0.0.1:9";
    e->development_build = 1;
    e->exchange_timeout_ms = 200;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(enclave.envelope_key);
    EVP_PKEY_free(enclave.signing_key);
    EVP_PKEY_free(other_instance);
    free(enclave.enclave_pub_b64);
    free(enclave.signing_pub_b64);
    pa_attest_platform_free(enclave.platform);
    return nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The enclave's answer to a request text, parsed. */
static json_t *call(const char *req)
{
    char *resp = pa_enclave_handle(&enclave, req, strlen(req));
    assert_non_null(resp);
    json_t *j = pa_json_parse(resp, strlen(resp), PA_IPC_MAX_FRAME);
    free(resp);
    assert_non_null(j);
    return j;
}

static void assert_refused(const json_t *a, const char *code)
{
    if (!json_is_false(json_object_get(a, "ok")) ||
        strcmp(pa_json_str(a, "error"), code) != 0) {
        char *t = json_dumps(a, JSON_COMPACT);
        fail_msg("expected %s, got %s", code, t);
    }
}

typedef struct {
    json_t *answer;
    char key_id[PA_UUID_STR_LEN];
    uint8_t pub[32];
    uint8_t sealed[PA_SEALED_KEY_LEN];
} made_key;

static void make_key(made_key *k)
{
    k->answer = call("{\"op\":\"keygen\",\"exchange\":\"binance\",\"nonce\":\"AAECAw==\"}");
    pa_ipc_error code;
    char why[PA_IPC_WHY_MAX] = "";
    if (pa_ipc_answer_check(PA_IPC_OP_KEYGEN, k->answer, &code, why) != PA_IPC_ANSWER_OK)
        fail_msg("keygen answer: %s", why);
    snprintf(k->key_id, sizeof k->key_id, "%s", pa_json_str(k->answer, "key_id"));
    assert_int_equal(pa_b64_decode_exact(pa_json_str(k->answer, "public_key"), k->pub, 32), 0);
    assert_int_equal(
        pa_b64_decode_exact(pa_json_str(k->answer, "sealed_key"), k->sealed, sizeof k->sealed), 0);
}

static void test_keygen_answer_and_quote(void **state)
{
    (void)state;
    made_key k;
    make_key(&k);
    /* the PEM is the SubjectPublicKeyInfo of exactly public_key */
    const char *pem = pa_json_str(k.answer, "public_key_pem");
    assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----\n"));
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(pk);
    uint8_t raw[32];
    assert_int_equal(pa_raw_public_key(pk, raw), 0);
    assert_true(EVP_PKEY_is_a(pk, "ED25519"));
    EVP_PKEY_free(pk);
    assert_memory_equal(raw, k.pub, 32);
    /* sealed to this instance: its X25519 public key in clear, the rest opaque */
    assert_int_equal(k.sealed[0], PA_SEALED_KEY_VERSION);
    assert_memory_equal(k.sealed + 1, enclave.enclave_pub, 32);

    /* the quote: nonce, enclave key, and user_data binding public_key and key_id */
    const json_t *att = json_object_get(k.answer, "attestation");
    uint8_t *doc = NULL;
    size_t doc_len = 0;
    const char *q = pa_json_str(att, "quote");
    assert_int_equal(pa_b64_decode(q, strlen(q), &doc, &doc_len), 0);
    char *root_pem = pa_attest_root_pem(enclave.platform);
    bio = BIO_new_mem_buf(root_pem, -1);
    X509 *root = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(root_pem);
    assert_non_null(root);
    static const uint8_t nonce[] = {0, 1, 2, 3};
    uint8_t binding[32], keys_only[32];
    pa_attest_keygen_binding(enclave.enclave_pub, enclave.signing_pub, k.pub, k.key_id, binding);
    pa_attest_key_binding(enclave.enclave_pub, enclave.signing_pub, keys_only);
    pa_attest_policy pol;
    pa_attest_policy_init(&pol, pa_now_ms());
    pol.nonce = nonce;
    pol.nonce_len = sizeof nonce;
    pol.public_key = enclave.enclave_pub;
    pol.public_key_len = 32;
    pol.user_data = binding;
    pol.user_data_len = 32;
    static pa_attest_claims claims;
    static pa_attest_result res;
    assert_int_equal(pa_attest_verify(doc, doc_len, root, &pol, &claims, &res), 0);
    /* not the plain key binding: a keygen quote is not an attest quote */
    pol.user_data = keys_only;
    assert_int_not_equal(pa_attest_verify(doc, doc_len, root, &pol, &claims, &res), 0);
    /* another public key or key_id does not match the binding */
    uint8_t other[32];
    memcpy(other, k.pub, 32);
    other[0] ^= 1;
    pa_attest_keygen_binding(enclave.enclave_pub, enclave.signing_pub, other, k.key_id, binding);
    pol.user_data = binding;
    assert_int_not_equal(pa_attest_verify(doc, doc_len, root, &pol, &claims, &res), 0);
    X509_free(root);
    free(doc);

    /* two calls, two different keys and ids */
    made_key k2;
    make_key(&k2);
    assert_memory_not_equal(k.pub, k2.pub, 32);
    assert_string_not_equal(k.key_id, k2.key_id);
    json_decref(k.answer);
    json_decref(k2.answer);
}

static void test_keygen_refusals(void **state)
{
    (void)state;
    json_t *a = call("{\"op\":\"keygen\",\"exchange\":\"kraken\"}");
    assert_refused(a, "invalid_request");
    json_decref(a);
    a = call("{\"op\":\"keygen\",\"exchange\":\"binance\",\"sealed_key\":null}");
    assert_refused(a, "invalid_request");
    json_decref(a);
}

/* The seed opens for this instance, key_id and exchange, and is the private
 * half of public_key. */
static void test_unseal(void **state)
{
    (void)state;
    made_key k;
    make_key(&k);
    uint8_t seed[PA_ED25519_SEED_LEN], pub[32];
    assert_int_equal(pa_key_unseal(enclave.envelope_key, k.key_id, "binance", k.sealed, seed),
                     PA_KEY_SEAL_OK);
    EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
    assert_non_null(priv);
    assert_int_equal(pa_raw_public_key(priv, pub), 0);
    EVP_PKEY_free(priv);
    assert_memory_equal(pub, k.pub, 32);
    json_decref(k.answer);
}

static void test_tamper_refused(void **state)
{
    (void)state;
    made_key k;
    make_key(&k);
    uint8_t seed[PA_ED25519_SEED_LEN];
    static const uint8_t zero[PA_ED25519_SEED_LEN];
    /* every byte, every bit position once: never opens, and the seed stays wiped */
    for (size_t i = 0; i < PA_SEALED_KEY_LEN; i++) {
        uint8_t t[PA_SEALED_KEY_LEN];
        memcpy(t, k.sealed, sizeof t);
        t[i] ^= (uint8_t)(1u << (i % 8));
        memset(seed, 0xAA, sizeof seed);
        pa_key_seal_status st = pa_key_unseal(enclave.envelope_key, k.key_id, "binance", t, seed);
        /* a changed sealed_to names another instance; anything else is tampering */
        assert_int_equal(st, i >= 1 && i <= 32 ? PA_KEY_SEAL_LOST : PA_KEY_SEAL_INVALID);
        assert_memory_equal(seed, zero, sizeof seed);
    }
    /* another key_id or exchange: the AAD differs */
    char other_id[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(other_id), 0);
    assert_int_equal(pa_key_unseal(enclave.envelope_key, other_id, "binance", k.sealed, seed),
                     PA_KEY_SEAL_INVALID);
    assert_int_equal(pa_key_unseal(enclave.envelope_key, k.key_id, "binancf", k.sealed, seed),
                     PA_KEY_SEAL_INVALID);
    json_decref(k.answer);
}

static void test_wrong_instance_refused(void **state)
{
    (void)state;
    made_key k;
    make_key(&k);
    uint8_t seed[PA_ED25519_SEED_LEN];
    /* a restarted enclave (another X25519 key) cannot open it */
    assert_int_equal(pa_key_unseal(other_instance, k.key_id, "binance", k.sealed, seed),
                     PA_KEY_SEAL_LOST);
    /* nor after relabelling it as sealed to that instance */
    uint8_t t[PA_SEALED_KEY_LEN];
    memcpy(t, k.sealed, sizeof t);
    assert_int_equal(pa_raw_public_key(other_instance, t + 1), 0);
    assert_int_equal(pa_key_unseal(other_instance, k.key_id, "binance", t, seed),
                     PA_KEY_SEAL_INVALID);
    /* a key sealed by the other instance does not open here */
    uint8_t s2[PA_SEALED_KEY_LEN], chosen[PA_ED25519_SEED_LEN];
    memset(chosen, 7, sizeof chosen);
    assert_int_equal(pa_key_seal(other_instance, k.key_id, "binance", chosen, s2), 0);
    assert_int_equal(pa_key_unseal(enclave.envelope_key, k.key_id, "binance", s2, seed),
                     PA_KEY_SEAL_LOST);
    assert_int_equal(pa_key_unseal(other_instance, k.key_id, "binance", s2, seed), PA_KEY_SEAL_OK);
    assert_memory_equal(seed, chosen, sizeof seed);
    json_decref(k.answer);
}

/* An open request for an envelope sealed to this enclave whose metadata
 * names key_id (NULL: none) and whose plaintext is pt. */
static json_t *open_request(const char *key_id, const char *pt, const char *sealed_b64)
{
    json_t *meta = json_pack("{s:s, s:s}", "exchange", "binance", "label", "kg");
    if (key_id != NULL)
        json_object_set_new(meta, "enclave_key_id", json_string(key_id));
    pa_envelope env;
    memset(&env, 0, sizeof env);
    assert_int_equal(
        pa_envelope_seal(enclave.enclave_pub, meta, (const uint8_t *)pt, strlen(pt), &env), 0);
    json_t *req = json_pack("{s:s, s:o}", "op", "open", "envelope", pa_envelope_to_json(&env));
    if (sealed_b64 != NULL)
        json_object_set_new(req, "sealed_key", json_string(sealed_b64));
    pa_envelope_free(&env);
    json_decref(meta);
    return req;
}

static json_t *call_json(const json_t *req)
{
    char *t = json_dumps(req, JSON_COMPACT);
    json_t *a = call(t);
    free(t);
    return a;
}

#define PT_NO_SECRET "{\"exchange\":\"binance\",\"apiKey\":\"K\"}"
#define PT_SECRET "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\"}"

static void test_open_with_enclave_key(void **state)
{
    (void)state;
    made_key k, other;
    make_key(&k);
    make_key(&other);
    const char *sealed = pa_json_str(k.answer, "sealed_key");

    json_t *req = open_request(k.key_id, PT_NO_SECRET, sealed);
    json_t *a = call_json(req);
    assert_true(json_is_true(json_object_get(a, "ok")));
    json_decref(a);
    json_decref(req);

    /* the envelope names the key, the host sent none */
    req = open_request(k.key_id, PT_NO_SECRET, NULL);
    a = call_json(req);
    assert_refused(a, "invalid_request");
    json_decref(a);
    json_decref(req);

    /* the host sends another key than the one named */
    req = open_request(k.key_id, PT_NO_SECRET, pa_json_str(other.answer, "sealed_key"));
    a = call_json(req);
    assert_refused(a, "sealed_key_invalid");
    json_decref(a);
    json_decref(req);

    /* a tampered sealed key */
    uint8_t t[PA_SEALED_KEY_LEN];
    memcpy(t, k.sealed, sizeof t);
    t[60] ^= 0x40;
    char *tb = pa_b64_encode(t, sizeof t);
    req = open_request(k.key_id, PT_NO_SECRET, tb);
    a = call_json(req);
    assert_refused(a, "sealed_key_invalid");
    json_decref(a);
    json_decref(req);
    free(tb);

    /* sealed by an instance that is gone (a restart) */
    uint8_t s2[PA_SEALED_KEY_LEN], seed[PA_ED25519_SEED_LEN];
    memset(seed, 9, sizeof seed);
    assert_int_equal(pa_key_seal(other_instance, k.key_id, "binance", seed, s2), 0);
    tb = pa_b64_encode(s2, sizeof s2);
    req = open_request(k.key_id, PT_NO_SECRET, tb);
    a = call_json(req);
    assert_refused(a, "enclave_key_lost");
    json_decref(a);
    json_decref(req);
    free(tb);

    /* an enclave-key envelope may not carry an apiSecret */
    req = open_request(k.key_id, PT_SECRET, sealed);
    a = call_json(req);
    assert_refused(a, "decryption_failed");
    json_decref(a);
    json_decref(req);

    /* an ordinary envelope needs its apiSecret, and takes no sealed key */
    req = open_request(NULL, PT_NO_SECRET, NULL);
    a = call_json(req);
    assert_refused(a, "decryption_failed");
    json_decref(a);
    json_decref(req);
    req = open_request(NULL, PT_SECRET, sealed);
    a = call_json(req);
    assert_refused(a, "invalid_request");
    json_decref(a);
    json_decref(req);
    req = open_request(NULL, PT_SECRET, NULL);
    a = call_json(req);
    assert_true(json_is_true(json_object_get(a, "ok")));
    json_decref(a);
    json_decref(req);

    json_decref(k.answer);
    json_decref(other.answer);
}

/* What the exchange transport gets: a PKCS#8 PEM of the key whose public
 * half the trader registered; its signatures verify under public_key. */
static void test_attach_gives_signing_key(void **state)
{
    (void)state;
    made_key k;
    make_key(&k);
    json_t *meta = json_pack("{s:s, s:s, s:s}", "exchange", "binance", "label", "kg",
                             "enclave_key_id", k.key_id);
    pa_envelope env = {.metadata = meta};
    json_t *req = json_pack("{s:s}", "sealed_key", pa_json_str(k.answer, "sealed_key"));
    pa_credentials creds;
    memset(&creds, 0, sizeof creds);
    assert_null(pa_keygen_attach(&enclave, req, &env, &creds));
    assert_non_null(creds.api_secret);
    assert_non_null(strstr(creds.api_secret, "-----BEGIN PRIVATE KEY-----\n"));
    BIO *bio = BIO_new_mem_buf(creds.api_secret, -1);
    EVP_PKEY *priv = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
    BIO_free(bio);
    assert_non_null(priv);
    static const char msg[] = "symbol=BTCUSDT&timestamp=1700000000000";
    uint8_t sig[PA_SIGNATURE_LEN];
    assert_int_equal(pa_ed25519_sign(priv, (const uint8_t *)msg, strlen(msg), sig), 0);
    assert_int_equal(pa_ed25519_verify(k.pub, (const uint8_t *)msg, strlen(msg), sig), 0);
    EVP_PKEY_free(priv);
    pa_credentials_free(&creds);
    assert_null(creds.api_secret);
    json_decref(req);
    json_decref(meta);
    json_decref(k.answer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_answer_and_quote),
        cmocka_unit_test(test_keygen_refusals),
        cmocka_unit_test(test_unseal),
        cmocka_unit_test(test_tamper_refused),
        cmocka_unit_test(test_wrong_instance_refused),
        cmocka_unit_test(test_open_with_enclave_key),
        cmocka_unit_test(test_attach_gives_signing_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
