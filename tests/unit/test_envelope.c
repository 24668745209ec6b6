/* Credential envelope: the published vectors (docs/PROTOCOL.md, also
 * recomputed by tools/envelope-vectors.mjs with Node's crypto), seal/open,
 * every way an envelope must fail to open, the submit-body parser, the
 * credentials parser and the key helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "credentials.h"
#include "envelope_keys.h"
#include "envelope_open.h"
#include "envelope_seal.h"
#include "envelope_kdf.h"
#include "jcs.h"
#include "timeutil.h"

/* ---- the published vectors ------------------------------------------------- */

typedef struct {
    const char *enclave_priv, *enclave_pub, *eph_priv, *eph_pub, *nonce;
    const char *metadata; /* as sent */
    const char *jcs;
    const char *plaintext;
    const char *shared, *key, *ciphertext, *tag;
    /* the same bytes as the submit body carries them */
    const char *b64_eph_pub, *b64_nonce, *b64_ciphertext, *b64_tag;
} vector;

static const vector VECTORS[] = {
    {
        .enclave_priv = "ad8da5fe6f824980a913470594da8f1ffc9dc5fbb5e000e96648575beccd8614",
        .enclave_pub = "ad1b0db95525ac64f66f49b3cdb17a4faffd3ae970f5f37b21620e112f502470",
        .eph_priv = "ecfff8f18956788c18a4ba26742ba327f9ee480754c31e6be2460a8112ff7eb6",
        .eph_pub = "5140e217867924114d2ca8288c1afab07454f899eabd987fae70d0a4a1a2a268",
        .nonce = "efa0435a384e037491fc8950",
        .metadata = "{\"exchange\":\"binance\",\"label\":\"Main account\",\"ttl\":86400}",
        .jcs = "{\"exchange\":\"binance\",\"label\":\"Main account\",\"ttl\":86400}",
        .plaintext = "{\"exchange\":\"binance\",\"apiKey\":\"vector-1-api-key\","
                     "\"apiSecret\":\"vector-1-api-secret\"}",
        .shared = "c6ebba2a3a46e49adb18d6df73a8b7543f2a2d88da625c96a67068d46173df70",
        .key = "3aa58bc138ff8a12fbb590429f3463011b188c23c96876308c82f21cb17555ed",
        .ciphertext = "30638300e0dcdd37da5460d973b4c5e4750dd434f148757733fb3e566cffdb4c015fdc4e"
                      "c5dfc2ef7b88968809e5640938055acb10a85b7473338d41f0709a996fd3d1600dd1950a"
                      "4b1ba54ef7bec38877086fe0",
        .tag = "ba67112466cfe558222524bc65ec54b9",
        .b64_eph_pub = "UUDiF4Z5JBFNLKgojBr6sHRU+JnqvZh/rnDQpKGiomg=",
        .b64_nonce = "76BDWjhOA3SR/IlQ",
        .b64_ciphertext = "MGODAODc3TfaVGDZc7TF5HUN1DTxSHV3M/s+Vmz/20wBX9xOxd/C73uIlogJ5WQJOAVayxCo"
                          "W3RzM41B8HCamW/T0WAN0ZUKSxulTve+w4h3CG/g",
        .b64_tag = "umcRJGbP5VgiJSS8ZexUuQ==",
    },
    {
        .enclave_priv = "9fd3c27f842c0e8544ec8a0e3e3288b7e9955433d0742088be35427cff16b7a1",
        .enclave_pub = "52f4509c9889c3709da7fb0d3a9166ec6398f299985ae90b238e5f251d8f0638",
        .eph_priv = "3479e906d194af1f15f1ebe6486d76317f5132e8a01508d11101b54bd19dfeb5",
        .eph_pub = "ebb04475a2152ab6f12c3d657e4eef4d81b043a7059fa0c761754a2afe29c840",
        .nonce = "a2fe7c11f519ae5296f9b39a",
        .metadata = "{\"not_after\":\"2030-01-01T00:00:00Z\",\"label\":\"Haupt-Konto \xe2\x82\xac\","
                    "\"exchange\":\"binance\"}",
        .jcs = "{\"exchange\":\"binance\",\"label\":\"Haupt-Konto \xe2\x82\xac\","
               "\"not_after\":\"2030-01-01T00:00:00Z\"}",
        .plaintext = "{\"exchange\":\"binance\",\"apiKey\":\"vector-2-api-key\","
                     "\"apiSecret\":\"vector-2-api-secret\",\"accountType\":\"usdm\","
                     "\"symbols\":[\"BTCUSDT\",\"ETHUSDT\"],\"sandbox\":true}",
        .shared = "5b76ae515244914374ed14d973e236a95c9bf8f953e2a157805c8e029ba89057",
        .key = "2ad6ddad77500989989c3334d35fb660f2f1fb2d4a19a8cd82638de50544829e",
        .ciphertext = "9f139a37b650eb63aae887045cf725b955b546c694a6f68615c29706a40900aab2adf1b8"
                      "7351f87b3a3a27fe25901ff93fc5ec4aa6e9f9ee1c4aca002ff23e15d9aed3acad0edb58"
                      "ef5f355343cfafe0c7cf8729575a805ee59b37308f8e8be8be1589eda8177a116f78e9cc"
                      "07f88efb0a5b1a71d5be492884595f00f4f0821271a66a146413ad61c49b76c8ad962334"
                      "89dc336e19abdc3a",
        .tag = "1220611dba5b7ba87cf354899e9919f5",
        .b64_eph_pub = "67BEdaIVKrbxLD1lfk7vTYGwQ6cFn6DHYXVKKv4pyEA=",
        .b64_nonce = "ov58EfUZrlKW+bOa",
        .b64_ciphertext = "nxOaN7ZQ62Oq6IcEXPcluVW1RsaUpvaGFcKXBqQJAKqyrfG4c1H4ezo6J/4lkB/5P8XsSqbp"
                          "+e4cSsoAL/I+Fdmu06ytDttY7181U0PPr+DHz4cpV1qAXuWbNzCPjovovhWJ7agXehFveOnM"
                          "B/iO+wpbGnHVvkkohFlfAPTwghJxpmoUZBOtYcSbdsitliM0idwzbhmr3Do=",
        .b64_tag = "EiBhHbpbe6h881SJnpkZ9Q==",
    },
};

/* "Now" for every open in this file unless a test says otherwise. */
static int64_t test_now(void)
{
    int64_t ms = 0;
    assert_int_equal(pa_time_parse("2026-01-01T00:00:00Z", &ms), 0);
    return ms;
}

static void hex32(const char *hex, uint8_t out[32])
{
    assert_int_equal(pa_hex_decode_exact(hex, out, 32), 0);
}

/* Decodes hex into a malloc'd block. */
static uint8_t *hex_alloc(const char *hex, size_t *len)
{
    *len = strlen(hex) / 2;
    uint8_t *p = malloc(*len + 1);
    assert_non_null(p);
    assert_int_equal(pa_hex_decode_exact(hex, p, *len), 0);
    return p;
}

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    assert_non_null(v);
    return v;
}

static EVP_PKEY *x25519_from_hex(const char *hex)
{
    uint8_t raw[32];
    hex32(hex, raw);
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, raw, 32);
    assert_non_null(k);
    return k;
}

static void check_vector(const vector *v)
{
    uint8_t enclave_pub[32], eph_priv[32], eph_pub[32], nonce[12], shared[32], key[32], got[32];
    hex32(v->enclave_pub, enclave_pub);
    hex32(v->eph_priv, eph_priv);
    hex32(v->eph_pub, eph_pub);
    hex32(v->shared, shared);
    hex32(v->key, key);
    assert_int_equal(pa_hex_decode_exact(v->nonce, nonce, sizeof nonce), 0);
    size_t ct_len = 0;
    uint8_t *ct = hex_alloc(v->ciphertext, &ct_len);
    uint8_t tag[16];
    assert_int_equal(pa_hex_decode_exact(v->tag, tag, sizeof tag), 0);

    /* Public keys from the private ones. */
    EVP_PKEY *enclave = x25519_from_hex(v->enclave_priv);
    EVP_PKEY *eph = x25519_from_hex(v->eph_priv);
    assert_int_equal(pa_raw_public_key(enclave, got), 0);
    assert_memory_equal(got, enclave_pub, 32);
    assert_int_equal(pa_raw_public_key(eph, got), 0);
    assert_memory_equal(got, eph_pub, 32);

    /* Step 4: the AAD is the JCS text, whatever order the keys were sent in. */
    json_t *metadata = load(v->metadata);
    char *aad = NULL;
    size_t aad_len = 0;
    assert_int_equal(pa_envelope_aad(metadata, &aad, &aad_len), 0);
    assert_string_equal(aad, v->jcs);
    assert_int_equal(aad_len, strlen(v->jcs));
    free(aad);

    /* Step 2 from the shared secret, then steps 1-2 from both ends. */
    assert_int_equal(pa_envelope_hkdf(shared, eph_pub, enclave_pub, got), 0);
    assert_memory_equal(got, key, 32);
    assert_int_equal(pa_envelope_derive_key(eph, enclave_pub, eph_pub, enclave_pub, got), 0);
    assert_memory_equal(got, key, 32);
    assert_int_equal(pa_envelope_derive_key(enclave, eph_pub, eph_pub, enclave_pub, got), 0);
    assert_memory_equal(got, key, 32);

    /* Sealing with the published inputs gives the published outputs. */
    pa_envelope env;
    assert_int_equal(pa_envelope_seal_with(eph_priv, nonce, enclave_pub, metadata,
                                           (const uint8_t *)v->plaintext, strlen(v->plaintext),
                                           &env),
                     0);
    assert_memory_equal(env.ephemeral_pub, eph_pub, 32);
    assert_memory_equal(env.nonce, nonce, 12);
    assert_int_equal(env.ciphertext_len, ct_len);
    assert_memory_equal(env.ciphertext, ct, ct_len);
    assert_memory_equal(env.tag, tag, 16);

    /* ... and serialises to the published base64. */
    json_t *body = pa_envelope_to_json(&env);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "ephemeral_pub")), v->b64_eph_pub);
    assert_string_equal(json_string_value(json_object_get(body, "nonce")), v->b64_nonce);
    assert_string_equal(json_string_value(json_object_get(body, "ciphertext")), v->b64_ciphertext);
    assert_string_equal(json_string_value(json_object_get(body, "tag")), v->b64_tag);
    assert_true(json_equal(json_object_get(body, "metadata"), metadata));
    json_decref(body);
    pa_envelope_free(&env);

    /* The enclave side, from the submit body exactly as published. */
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "{\"ephemeral_pub\":\"%s\",\"nonce\":\"%s\",\"ciphertext\":\"%s\",\"tag\":\"%s\","
                     "\"metadata\":%s}",
                     v->b64_eph_pub, v->b64_nonce, v->b64_ciphertext, v->b64_tag, v->metadata);
    assert_true(n > 0 && (size_t)n < sizeof text);
    body = load(text);
    const char *err = NULL;
    assert_int_equal(pa_envelope_parse(body, &env, &err), 0);
    json_decref(body); /* the envelope keeps its own metadata */
    pa_buf pt;
    assert_int_equal(pa_envelope_open(enclave, &env, test_now(), &pt), 0);
    assert_int_equal(pt.len, strlen(v->plaintext));
    assert_memory_equal(pt.data, v->plaintext, pt.len);
    assert_int_equal(pt.data[pt.len], 0);

    pa_credentials c;
    assert_int_equal(pa_credentials_parse(&pt, "binance", &c), 0);
    assert_string_equal(c.exchange, "binance");
    pa_credentials_free(&c);
    pa_buf_free(&pt);
    pa_envelope_free(&env);

    json_decref(metadata);
    EVP_PKEY_free(eph);
    EVP_PKEY_free(enclave);
    free(ct);
}

static void test_vector_1(void **state)
{
    (void)state;
    check_vector(&VECTORS[0]);
}

static void test_vector_2(void **state)
{
    (void)state;
    check_vector(&VECTORS[1]);
    /* Vector 2's plaintext exercises every optional credential field. */
    pa_buf pt;
    pa_buf_init(&pt, 4096);
    assert_int_equal(pa_buf_append_str(&pt, VECTORS[1].plaintext), 0);
    pa_credentials c;
    assert_int_equal(pa_credentials_parse(&pt, "binance", &c), 0);
    assert_string_equal(c.api_key, "vector-2-api-key");
    assert_string_equal(c.api_secret, "vector-2-api-secret");
    assert_null(c.passphrase);
    assert_string_equal(c.account_type, "usdm");
    assert_int_equal(c.nsymbols, 2);
    assert_string_equal(c.symbols[0], "BTCUSDT");
    assert_string_equal(c.symbols[1], "ETHUSDT");
    assert_int_equal(c.sandbox, 1);
    pa_credentials_free(&c);
    pa_buf_free(&pt);
}

/* accountSalt: exactly 32 bytes of base64; discloseUid: a boolean. */
static void test_credentials_account_fields(void **state)
{
    (void)state;
    static const char *const good =
        "{\"exchange\":\"binance\",\"apiKey\":\"k\",\"apiSecret\":\"s\","
        "\"accountSalt\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"discloseUid\":true}";
    pa_buf pt;
    pa_buf_init(&pt, 4096);
    assert_int_equal(pa_buf_append_str(&pt, good), 0);
    pa_credentials c;
    assert_int_equal(pa_credentials_parse(&pt, "binance", &c), 0);
    assert_int_equal(c.has_account_salt, 1);
    for (int i = 0; i < PA_ACCOUNT_SALT_LEN; i++)
        assert_int_equal(c.account_salt[i], i);
    assert_int_equal(c.disclose_uid, 1);
    pa_credentials_free(&c);
    pa_buf_free(&pt);
    static const char *const bad[] = {
        /* 31 bytes, 33 bytes, not base64, not a string; discloseUid not a boolean */
        "\"accountSalt\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\"",
        "\"accountSalt\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"",
        "\"accountSalt\":\"not base64 at all!\"",
        "\"accountSalt\":32",
        "\"discloseUid\":\"true\"",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        pa_buf_init(&pt, 4096);
        assert_int_equal(
            pa_buf_printf(&pt, "{\"exchange\":\"binance\",\"apiKey\":\"k\",\"apiSecret\":\"s\",%s}",
                          bad[i]),
            0);
        assert_int_equal(pa_credentials_parse(&pt, "binance", &c), -1);
        pa_buf_free(&pt);
    }
}

/* ---- seal/open round trip and everything that must not open --------------- */

typedef struct {
    EVP_PKEY *enclave;
    uint8_t enclave_pub[32];
    pa_envelope env;
} fixture;

static const char PLAINTEXT[] =
    "{\"exchange\":\"binance\",\"apiKey\":\"k\",\"apiSecret\":\"s\"}";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->enclave = pa_x25519_generate();
    if (f->enclave == NULL || pa_raw_public_key(f->enclave, f->enclave_pub) != 0)
        return -1;
    json_t *metadata = json_pack("{s:s, s:s, s:i}", "exchange", "binance", "label", "Main",
                                 "ttl", 3600);
    int rc = pa_envelope_seal(f->enclave_pub, metadata, (const uint8_t *)PLAINTEXT,
                              strlen(PLAINTEXT), &f->env);
    json_decref(metadata);
    *state = f;
    return rc;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pa_envelope_free(&f->env);
    EVP_PKEY_free(f->enclave);
    free(f);
    return 0;
}

/* Opens env with key and asserts the outcome; a refusal must leave the output
 * empty. */
static void expect_open(EVP_PKEY *key, const pa_envelope *env, int64_t now, int want)
{
    pa_buf pt;
    memset(&pt, 0xa5, sizeof pt);
    int rc = pa_envelope_open(key, env, now, &pt);
    assert_int_equal(rc, want);
    if (want == 0) {
        assert_int_equal(pt.len, strlen(PLAINTEXT));
        assert_memory_equal(pt.data, PLAINTEXT, pt.len);
    } else {
        assert_null(pt.data);
        assert_int_equal(pt.len, 0);
    }
    pa_buf_free(&pt);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    expect_open(f->enclave, &f->env, test_now(), 0);
    /* Through the wire form and back. */
    json_t *body = pa_envelope_to_json(&f->env);
    assert_non_null(body);
    char *text = json_dumps(body, 0);
    json_decref(body);
    body = load(text);
    free(text);
    pa_envelope env2;
    const char *err = NULL;
    assert_int_equal(pa_envelope_parse(body, &env2, &err), 0);
    json_decref(body);
    expect_open(f->enclave, &env2, test_now(), 0);
    pa_envelope_free(&env2);
}

static void test_fresh_ephemeral_and_nonce(void **state)
{
    fixture *f = *state;
    json_t *metadata = f->env.metadata;
    pa_envelope again;
    assert_int_equal(pa_envelope_seal(f->enclave_pub, metadata, (const uint8_t *)PLAINTEXT,
                                      strlen(PLAINTEXT), &again),
                     0);
    assert_memory_not_equal(again.ephemeral_pub, f->env.ephemeral_pub, 32);
    assert_memory_not_equal(again.nonce, f->env.nonce, 12);
    assert_memory_not_equal(again.ciphertext, f->env.ciphertext, again.ciphertext_len);
    expect_open(f->enclave, &again, test_now(), 0);
    pa_envelope_free(&again);
}

static void test_tampered_bytes_refused(void **state)
{
    fixture *f = *state;
    pa_envelope *e = &f->env;
    struct {
        uint8_t *p;
        size_t len;
    } fields[] = {
        {e->ciphertext, e->ciphertext_len},
        {e->tag, sizeof e->tag},
        {e->nonce, sizeof e->nonce},
        {e->ephemeral_pub, sizeof e->ephemeral_pub},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(fields); i++) {
        /* First, last and a middle byte, one bit at a time. */
        size_t where[] = {0, fields[i].len / 2, fields[i].len - 1};
        for (size_t w = 0; w < PA_ARRAY_LEN(where); w++) {
            for (int bit = 0; bit < 8; bit += 7) {
                fields[i].p[where[w]] ^= (uint8_t)(1u << bit);
                expect_open(f->enclave, e, test_now(), -1);
                fields[i].p[where[w]] ^= (uint8_t)(1u << bit);
            }
        }
    }
    /* Truncated ciphertext (tag unchanged). */
    e->ciphertext_len--;
    expect_open(f->enclave, e, test_now(), -1);
    e->ciphertext_len++;
    expect_open(f->enclave, e, test_now(), 0);
}

static void test_tampered_metadata_refused(void **state)
{
    fixture *f = *state;
    json_t *orig = f->env.metadata;
    const char *changed[] = {
        "{\"exchange\":\"binance\",\"label\":\"Main!\",\"ttl\":3600}",
        "{\"exchange\":\"binance\",\"label\":\"main\",\"ttl\":3600}",
        "{\"exchange\":\"bybit\",\"label\":\"Main\",\"ttl\":3600}",
        "{\"exchange\":\"binance\",\"label\":\"Main\",\"ttl\":3601}",
        "{\"exchange\":\"binance\",\"label\":\"Main\"}",
        "{\"exchange\":\"binance\",\"label\":\"Main\",\"ttl\":3600,"
        "\"not_after\":\"2099-01-01T00:00:00Z\"}",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(changed); i++) {
        f->env.metadata = load(changed[i]);
        expect_open(f->enclave, &f->env, test_now(), -1);
        json_decref(f->env.metadata);
    }
    /* Same members in another order: the same JCS text, so it opens. */
    f->env.metadata = load("{\"ttl\":3600,\"label\":\"Main\",\"exchange\":\"binance\"}");
    expect_open(f->enclave, &f->env, test_now(), 0);
    json_decref(f->env.metadata);
    /* A member open's own checks refuse (never reaches the AEAD). */
    f->env.metadata = load("{\"exchange\":\"binance\",\"label\":\"Main\",\"ttl\":3600,\"x\":1}");
    expect_open(f->enclave, &f->env, test_now(), -1);
    json_decref(f->env.metadata);
    f->env.metadata = orig;
    expect_open(f->enclave, &f->env, test_now(), 0);
}

static void test_wrong_enclave_key_refused(void **state)
{
    fixture *f = *state;
    EVP_PKEY *other = pa_x25519_generate();
    assert_non_null(other);
    expect_open(other, &f->env, test_now(), -1);
    EVP_PKEY_free(other);
    /* An Ed25519 key is not an enclave key. */
    EVP_PKEY *ed = pa_ed25519_generate();
    assert_non_null(ed);
    expect_open(ed, &f->env, test_now(), -1);
    EVP_PKEY_free(ed);
    expect_open(NULL, &f->env, test_now(), -1);
}

/* The low-order points of Curve25519 (and their non-canonical encodings):
 * X25519 with any of them is all zero. */
static const char *const LOW_ORDER[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void test_low_order_points_refused(void **state)
{
    fixture *f = *state;
    uint8_t saved[32], point[32], key[32];
    memcpy(saved, f->env.ephemeral_pub, 32);
    for (size_t i = 0; i < PA_ARRAY_LEN(LOW_ORDER); i++) {
        hex32(LOW_ORDER[i], point);
        /* Enclave side: an ephemeral_pub of low order. */
        memcpy(f->env.ephemeral_pub, point, 32);
        expect_open(f->enclave, &f->env, test_now(), -1);
        assert_int_equal(
            pa_envelope_derive_key(f->enclave, point, point, f->enclave_pub, key), -1);
        /* Client side: sealing to a low-order "enclave key". */
        pa_envelope env;
        assert_int_equal(pa_envelope_seal(point, f->env.metadata, (const uint8_t *)PLAINTEXT,
                                          strlen(PLAINTEXT), &env),
                         -1);
        assert_null(env.ciphertext);
        assert_null(env.metadata);
    }
    memcpy(f->env.ephemeral_pub, saved, 32);
    expect_open(f->enclave, &f->env, test_now(), 0);
}

static void test_not_after(void **state)
{
    fixture *f = *state;
    json_t *metadata = load("{\"exchange\":\"binance\",\"label\":\"Main\","
                            "\"not_after\":\"2026-01-01T00:00:00.500Z\"}");
    pa_envelope env;
    assert_int_equal(pa_envelope_seal(f->enclave_pub, metadata, (const uint8_t *)PLAINTEXT,
                                      strlen(PLAINTEXT), &env),
                     0);
    int64_t not_after = test_now() + 500;
    expect_open(f->enclave, &env, not_after - 1, 0);
    expect_open(f->enclave, &env, not_after, 0); /* still valid at the instant */
    expect_open(f->enclave, &env, not_after + 1, -1);
    expect_open(f->enclave, &env, not_after + 86400000LL * 365, -1);
    pa_envelope_free(&env);
    json_decref(metadata);

    metadata = load("{\"exchange\":\"binance\",\"label\":\"Main\","
                    "\"not_after\":\"2020-01-01T00:00:00+02:00\"}");
    assert_int_equal(pa_envelope_seal(f->enclave_pub, metadata, (const uint8_t *)PLAINTEXT,
                                      strlen(PLAINTEXT), &env),
                     0);
    expect_open(f->enclave, &env, test_now(), -1);
    expect_open(f->enclave, &env, pa_now_ms(), -1);
    pa_envelope_free(&env);
    json_decref(metadata);
}

static void test_seal_refuses_bad_input(void **state)
{
    fixture *f = *state;
    pa_envelope env;
    uint8_t big[PA_CIPHERTEXT_MAX + 1];
    memset(big, 'x', sizeof big);
    json_t *bad_metadata = load("{\"exchange\":\"binance\"}");
    assert_int_equal(pa_envelope_seal(f->enclave_pub, f->env.metadata, big, 0, &env), -1);
    assert_int_equal(pa_envelope_seal(f->enclave_pub, f->env.metadata, big, sizeof big, &env), -1);
    assert_int_equal(pa_envelope_seal(f->enclave_pub, bad_metadata, big, 10, &env), -1);
    assert_int_equal(pa_envelope_seal(f->enclave_pub, NULL, big, 10, &env), -1);
    /* The largest plaintext still seals and opens. */
    assert_int_equal(
        pa_envelope_seal(f->enclave_pub, f->env.metadata, big, PA_CIPHERTEXT_MAX, &env), 0);
    pa_buf pt;
    assert_int_equal(pa_envelope_open(f->enclave, &env, test_now(), &pt), 0);
    assert_int_equal(pt.len, PA_CIPHERTEXT_MAX);
    assert_memory_equal(pt.data, big, PA_CIPHERTEXT_MAX);
    pa_buf_free(&pt);
    pa_envelope_free(&env);
    json_decref(bad_metadata);
}

/* ---- the submit-body parser ------------------------------------------------- */

/* Vector 1's published body with one member replaced (value_json NULL removes
 * it); asserts the parser refuses it and names `field` in its message. */
static void expect_parse_fails(const char *member, const char *value_json, const char *field)
{
    const vector *v = &VECTORS[0];
    char text[2048];
    snprintf(text, sizeof text,
             "{\"ephemeral_pub\":\"%s\",\"nonce\":\"%s\",\"ciphertext\":\"%s\",\"tag\":\"%s\","
             "\"metadata\":%s}",
             v->b64_eph_pub, v->b64_nonce, v->b64_ciphertext, v->b64_tag, v->metadata);
    json_t *body = load(text);
    if (value_json == NULL) {
        assert_int_equal(json_object_del(body, member), 0);
    } else {
        json_error_t e;
        json_t *value = json_loads(value_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        assert_non_null(value);
        assert_int_equal(json_object_set_new(body, member, value), 0);
    }
    pa_envelope env;
    memset(&env, 0x5a, sizeof env);
    const char *err = NULL;
    if (pa_envelope_parse(body, &env, &err) != -1)
        fail_msg("accepted %s = %s", member, value_json ? value_json : "(absent)");
    assert_non_null(err);
    if (strstr(err, field) == NULL)
        fail_msg("%s = %s: message \"%s\" does not name %s", member,
                 value_json ? value_json : "(absent)", err, field);
    /* Nothing half-filled is left behind. */
    assert_null(env.ciphertext);
    assert_null(env.metadata);
    json_decref(body);
}

static char *b64_of_len(size_t n)
{
    uint8_t *p = calloc(1, n + 1);
    assert_non_null(p);
    char *b64 = pa_b64_encode(p, n);
    assert_non_null(b64);
    free(p);
    size_t len = strlen(b64);
    char *quoted = malloc(len + 3);
    assert_non_null(quoted);
    snprintf(quoted, len + 3, "\"%s\"", b64);
    free(b64);
    return quoted;
}

static void test_parse_binary_fields(void **state)
{
    (void)state;
    /* Not base64 at all, or not the strict form. */
    expect_parse_fails("ephemeral_pub", "\"UUDiF4Z5JBFNLKgojBr6sHRU+JnqvZh/rnDQpKGiomg\"",
                       "ephemeral_pub"); /* padding missing */
    expect_parse_fails("ephemeral_pub", "\"UUDiF4Z5JBFNLKgojBr6sHRU-JnqvZh_rnDQpKGiomg=\"",
                       "ephemeral_pub"); /* base64url alphabet */
    expect_parse_fails("ephemeral_pub", "\"UUDiF4Z5JBFNLKgojBr6sHRU+JnqvZh/rnDQpKGiomh=\"",
                       "ephemeral_pub"); /* non-zero unused bits */
    expect_parse_fails("nonce", "\"76BDWjhO A3SR/IlQ\"", "nonce");
    expect_parse_fails("nonce", "\"76BDWjhOA3SR/Il\\n\"", "nonce");
    expect_parse_fails("tag", "\"umcRJGbP5VgiJSS8ZexUuQ=\"", "tag");
    expect_parse_fails("tag", "\"umcRJGbP5VgiJSS8ZexUuQ==\\u0000\"", "tag");
    expect_parse_fails("ciphertext", "\"MGOD*ODc\"", "ciphertext");
    /* Wrong decoded lengths. */
    static const struct {
        const char *field;
        size_t bad[2];
    } lens[] = {{"ephemeral_pub", {31, 33}}, {"nonce", {11, 13}}, {"tag", {15, 17}},
                {"ciphertext", {0, PA_CIPHERTEXT_MAX + 1}}};
    for (size_t i = 0; i < PA_ARRAY_LEN(lens); i++) {
        for (size_t j = 0; j < 2; j++) {
            char *b64 = b64_of_len(lens[i].bad[j]);
            expect_parse_fails(lens[i].field, b64, lens[i].field);
            free(b64);
        }
    }
    /* Wrong types and absence. */
    const char *names[] = {"ephemeral_pub", "nonce", "ciphertext", "tag"};
    for (size_t i = 0; i < PA_ARRAY_LEN(names); i++) {
        expect_parse_fails(names[i], "null", names[i]);
        expect_parse_fails(names[i], "12", names[i]);
        expect_parse_fails(names[i], "[\"76BDWjhOA3SR/IlQ\"]", names[i]);
        expect_parse_fails(names[i], NULL, names[i]);
    }
}

static void test_parse_ciphertext_bounds_accepted(void **state)
{
    (void)state;
    const size_t ok[] = {1, PA_CIPHERTEXT_MAX};
    for (size_t i = 0; i < PA_ARRAY_LEN(ok); i++) {
        char *b64 = b64_of_len(ok[i]);
        json_error_t e;
        json_t *ct = json_loads(b64, JSON_DECODE_ANY, &e);
        assert_non_null(ct);
        json_t *body = json_pack("{s:s, s:s, s:o, s:s, s:{s:s, s:s}}", "ephemeral_pub",
                                 VECTORS[0].b64_eph_pub, "nonce", VECTORS[0].b64_nonce,
                                 "ciphertext", ct, "tag", VECTORS[0].b64_tag, "metadata",
                                 "exchange", "binance", "label", "x");
        assert_non_null(body);
        pa_envelope env;
        const char *err = NULL;
        assert_int_equal(pa_envelope_parse(body, &env, &err), 0);
        assert_int_equal(env.ciphertext_len, ok[i]);
        pa_envelope_free(&env);
        json_decref(body);
        free(b64);
    }
}

static void test_parse_body_shape(void **state)
{
    (void)state;
    expect_parse_fails("extra", "1", "body");
    expect_parse_fails("session_id", "\"x\"", "body");
    expect_parse_fails("metadata", NULL, "metadata");
    expect_parse_fails("metadata", "null", "metadata");
    expect_parse_fails("metadata", "[]", "metadata");
    expect_parse_fails("metadata", "\"binance\"", "metadata");

    const char *not_objects[] = {"[]", "\"x\"", "1", "null"};
    for (size_t i = 0; i < PA_ARRAY_LEN(not_objects); i++) {
        json_error_t e;
        json_t *v = json_loads(not_objects[i], JSON_DECODE_ANY, &e);
        assert_non_null(v);
        pa_envelope env;
        const char *err = NULL;
        assert_int_equal(pa_envelope_parse(v, &env, &err), -1);
        assert_non_null(strstr(err, "body"));
        json_decref(v);
    }
    pa_envelope env;
    const char *err = NULL;
    assert_int_equal(pa_envelope_parse(NULL, &env, &err), -1);
    assert_non_null(err);
}

static void test_parse_metadata(void **state)
{
    (void)state;
    /* Each is refused, naming the member. */
    static const struct {
        const char *metadata, *field;
    } bad[] = {
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"extra\":1}", "metadata"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"session_id\":\"s\"}", "metadata"},
        {"{\"label\":\"x\"}", "metadata.exchange"},
        {"{\"exchange\":\"\",\"label\":\"x\"}", "metadata.exchange"},
        {"{\"exchange\":1,\"label\":\"x\"}", "metadata.exchange"},
        {"{\"exchange\":null,\"label\":\"x\"}", "metadata.exchange"},
        {"{\"exchange\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"label\":\"x\"}", "metadata.exchange"},
        {"{\"exchange\":\"binance\"}", "metadata.label"},
        {"{\"exchange\":\"binance\",\"label\":\"\"}", "metadata.label"},
        {"{\"exchange\":\"binance\",\"label\":[\"x\"]}", "metadata.label"},
        {"{\"exchange\":\"binance\",\"label\":\"bell\\u0007\"}", "metadata.label"},
        {"{\"exchange\":\"binance\",\"label\":\"line\\nbreak\"}", "metadata.label"},
        {"{\"exchange\":\"binance\",\"label\":\"del\\u007f\"}", "metadata.label"},
        {"{\"exchange\":\"binance\",\"label\":\"c1\\u0085\"}", "metadata.label"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"ttl\":\"3600\"}", "metadata.ttl"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"ttl\":3600.5}", "metadata.ttl"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"ttl\":3600.0}", "metadata.ttl"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"ttl\":null}", "metadata.ttl"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"not_after\":\"tomorrow\"}",
         "metadata.not_after"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"not_after\":\"2030-01-01\"}",
         "metadata.not_after"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"not_after\":\"2030-02-30T00:00:00Z\"}",
         "metadata.not_after"},
        {"{\"exchange\":\"binance\",\"label\":\"x\",\"not_after\":1893456000000}",
         "metadata.not_after"},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++)
        expect_parse_fails("metadata", bad[i].metadata, bad[i].field);

    /* 65 characters is one too many, whether ASCII or multi-byte. */
    char label[64 * 3 + 8];
    char meta[512];
    memset(label, 'a', 65);
    label[65] = 0;
    snprintf(meta, sizeof meta, "{\"exchange\":\"binance\",\"label\":\"%s\"}", label);
    expect_parse_fails("metadata", meta, "metadata.label");

    /* 64 code points is allowed even at 3 bytes each (192 bytes): the limit
     * is in characters, not bytes. */
    for (int i = 0; i < 64; i++)
        memcpy(label + 3 * i, "\xe2\x82\xac", 3);
    label[64 * 3] = 0;
    const char *good[] = {label, "a", "Haupt-Konto \xe2\x82\xac", "\xf0\x9f\x93\x88 emoji"};
    for (size_t i = 0; i < PA_ARRAY_LEN(good); i++) {
        json_t *m = json_pack("{s:s, s:s, s:i, s:s}", "exchange", "binance", "label", good[i],
                              "ttl", -5, "not_after", "2030-01-01T00:00:00.123+01:00");
        assert_non_null(m);
        const char *err = NULL;
        assert_int_equal(pa_envelope_check_metadata(m, &err), 0);
        json_decref(m);
    }
    memcpy(label + 64 * 3, "\xe2\x82\xac", 4); /* a 65th, and the NUL */
    snprintf(meta, sizeof meta, "{\"exchange\":\"binance\",\"label\":\"%s\"}", label);
    expect_parse_fails("metadata", meta, "metadata.label");

    /* A hand-built json_t need not hold valid UTF-8. */
    json_t *m = json_object();
    assert_int_equal(json_object_set_new(m, "exchange", json_string("binance")), 0);
    assert_int_equal(json_object_set_new(m, "label", json_stringn_nocheck("\xc3\x28", 2)), 0);
    const char *err = NULL;
    assert_int_equal(pa_envelope_check_metadata(m, &err), -1);
    assert_non_null(strstr(err, "metadata.label"));
    json_decref(m);
}

/* ---- credentials ------------------------------------------------------------ */

static int parse_creds(const char *text, const char *exchange, pa_credentials *c)
{
    pa_buf pt;
    pa_buf_init(&pt, 1 << 16);
    assert_int_equal(pa_buf_append_str(&pt, text), 0);
    int rc = pa_credentials_parse(&pt, exchange, c);
    pa_buf_free(&pt);
    return rc;
}

static void test_credentials_accepted(void **state)
{
    (void)state;
    pa_credentials c;
    assert_int_equal(
        parse_creds("{\"apiSecret\":\"S\",\"exchange\":\"binance\",\"apiKey\":\"K\"}", "binance", &c),
        0);
    assert_string_equal(c.exchange, "binance");
    assert_string_equal(c.api_key, "K");
    assert_string_equal(c.api_secret, "S");
    assert_null(c.passphrase);
    assert_string_equal(c.account_type, "spot");
    assert_null(c.symbols);
    assert_int_equal(c.nsymbols, 0);
    assert_int_equal(c.sandbox, 0);
    pa_credentials_free(&c);
    assert_null(c.api_secret);

    assert_int_equal(parse_creds("{\"exchange\":\"okx\",\"apiKey\":\"K\",\"apiSecret\":\"S\","
                                 "\"passphrase\":\"P \xe2\x82\xac\",\"accountType\":\"spot\","
                                 "\"symbols\":[\"BTCUSDT\"],\"sandbox\":false}",
                                 "okx", &c),
                     0);
    assert_string_equal(c.passphrase, "P \xe2\x82\xac");
    assert_string_equal(c.account_type, "spot");
    assert_int_equal(c.nsymbols, 1);
    assert_int_equal(c.sandbox, 0);
    pa_credentials_free(&c);

    /* The limits themselves: 512-byte secrets, 100 symbols of 2 and 20. */
    char text[8192];
    char secret[513];
    memset(secret, 'k', 512);
    secret[512] = 0;
    int n = snprintf(text, sizeof text,
                     "{\"exchange\":\"binance\",\"apiKey\":\"%s\",\"apiSecret\":\"%s\",\"symbols\":[",
                     secret, secret);
    for (int i = 0; i < 100; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s\"%s%02d\"", i ? "," : "",
                      i % 2 ? "A" : "ABCDEFGHIJKLMNOPQR", i);
    snprintf(text + n, sizeof text - (size_t)n, "]}");
    assert_int_equal(parse_creds(text, "binance", &c), 0);
    assert_int_equal(c.nsymbols, 100);
    assert_int_equal(strlen(c.api_key), 512);
    assert_string_equal(c.symbols[0], "ABCDEFGHIJKLMNOPQR00");
    assert_string_equal(c.symbols[1], "A01");
    pa_credentials_free(&c);
}

static void test_credentials_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* not a JSON object */
        "",
        "not json",
        "[]",
        "\"binance\"",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\"} trailing",
        /* required members */
        "{\"exchange\":\"binance\",\"apiKey\":\"K\"}",
        "{\"exchange\":\"binance\",\"apiSecret\":\"S\"}",
        "{\"apiKey\":\"K\",\"apiSecret\":\"S\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"\",\"apiSecret\":\"S\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":null}",
        "{\"exchange\":\"binance\",\"apiKey\":1,\"apiSecret\":\"S\"}",
        /* exchange must be the metadata's */
        "{\"exchange\":\"bybit\",\"apiKey\":\"K\",\"apiSecret\":\"S\"}",
        "{\"exchange\":\"Binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\"}",
        /* unknown and duplicate members */
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"api_key\":\"K\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"label\":\"x\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"apiKey\":\"L\"}",
        /* optional members with the wrong type or value */
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"passphrase\":7}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"accountType\":\"margin\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"accountType\":\"SPOT\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"accountType\":null}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"sandbox\":\"true\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"sandbox\":1}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"symbols\":[]}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"symbols\":\"BTCUSDT\"}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"symbols\":[\"btcusdt\"]}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"symbols\":[\"B\"]}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\","
        "\"symbols\":[\"ABCDEFGHIJKLMNOPQRSTU\"]}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"symbols\":[\"BTC-USDT\"]}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"symbols\":[\"BTCUSDT \"]}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"symbols\":[42]}",
        "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\","
        "\"symbols\":[\"BTCUSDT\",\"BTCUSDT\"]}",
    };
    pa_credentials c;
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        memset(&c, 0x5a, sizeof c);
        if (parse_creds(bad[i], "binance", &c) != -1)
            fail_msg("accepted credentials #%zu: %s", i, bad[i]);
        /* Nothing half-filled is left behind. */
        assert_null(c.exchange);
        assert_null(c.api_key);
        assert_null(c.symbols);
    }

    /* Over the limits: a 513-byte secret, 101 symbols. */
    char text[8192];
    char secret[514];
    memset(secret, 'k', 513);
    secret[513] = 0;
    snprintf(text, sizeof text, "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"%s\"}",
             secret);
    assert_int_equal(parse_creds(text, "binance", &c), -1);
    int n = snprintf(text, sizeof text,
                     "{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\",\"symbols\":[");
    for (int i = 0; i < 101; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s\"S%03d\"", i ? "," : "", i);
    snprintf(text + n, sizeof text - (size_t)n, "]}");
    assert_int_equal(parse_creds(text, "binance", &c), -1);

    /* No plaintext, no exchange to compare with. */
    assert_int_equal(pa_credentials_parse(NULL, "binance", &c), -1);
    pa_buf empty;
    pa_buf_init(&empty, 16);
    assert_int_equal(pa_credentials_parse(&empty, "binance", &c), -1);
    assert_int_equal(parse_creds("{\"exchange\":\"binance\",\"apiKey\":\"K\",\"apiSecret\":\"S\"}",
                                 NULL, &c),
                     -1);
}

/* ---- keys and signatures ---------------------------------------------------- */

static void test_ed25519_rfc8032(void **state)
{
    (void)state;
    /* RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte). */
    static const struct {
        const char *secret, *pub, *msg, *sig;
    } tv[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
         "701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f36"
         "13d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(tv); i++) {
        uint8_t secret[32], pub[32], got_pub[32], sig[64], want_sig[64], msg[1];
        size_t msg_len = strlen(tv[i].msg) / 2;
        hex32(tv[i].secret, secret);
        hex32(tv[i].pub, pub);
        assert_int_equal(pa_hex_decode_exact(tv[i].sig, want_sig, 64), 0);
        assert_int_equal(pa_hex_decode_exact(tv[i].msg, msg, msg_len), 0);
        EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, secret, 32);
        assert_non_null(k);
        assert_int_equal(pa_raw_public_key(k, got_pub), 0);
        assert_memory_equal(got_pub, pub, 32);
        assert_int_equal(pa_ed25519_sign(k, msg_len ? msg : NULL, msg_len, sig), 0);
        assert_memory_equal(sig, want_sig, 64);
        assert_int_equal(pa_ed25519_verify(pub, msg_len ? msg : NULL, msg_len, sig), 0);
        EVP_PKEY_free(k);
    }
}

static void test_ed25519_sign_verify(void **state)
{
    (void)state;
    EVP_PKEY *k = pa_ed25519_generate();
    EVP_PKEY *other = pa_ed25519_generate();
    assert_non_null(k);
    assert_non_null(other);
    uint8_t pub[32], other_pub[32], sig[64];
    assert_int_equal(pa_raw_public_key(k, pub), 0);
    assert_int_equal(pa_raw_public_key(other, other_pub), 0);
    uint8_t msg[] = "{\"type\":\"perfagg/v1/aggregates\"}";
    size_t len = sizeof msg - 1;
    assert_int_equal(pa_ed25519_sign(k, msg, len, sig), 0);
    assert_int_equal(pa_ed25519_verify(pub, msg, len, sig), 0);
    assert_int_equal(pa_ed25519_verify(other_pub, msg, len, sig), -1);
    assert_int_equal(pa_ed25519_verify(pub, msg, len - 1, sig), -1);
    msg[3] ^= 1;
    assert_int_equal(pa_ed25519_verify(pub, msg, len, sig), -1);
    msg[3] ^= 1;
    sig[63] ^= 0x80;
    assert_int_equal(pa_ed25519_verify(pub, msg, len, sig), -1);
    sig[63] ^= 0x80;
    assert_int_equal(pa_ed25519_verify(pub, msg, len, sig), 0);
    /* Signing needs an Ed25519 key. */
    EVP_PKEY *x = pa_x25519_generate();
    assert_non_null(x);
    assert_int_equal(pa_ed25519_sign(x, msg, len, sig), -1);
    assert_int_equal(pa_ed25519_sign(NULL, msg, len, sig), -1);
    assert_int_equal(pa_ed25519_sign(k, NULL, 3, sig), -1);
    assert_int_equal(pa_raw_public_key(NULL, pub), -1);
    EVP_PKEY_free(x);
    EVP_PKEY_free(other);
    EVP_PKEY_free(k);
}

static void test_x25519_generate(void **state)
{
    (void)state;
    EVP_PKEY *a = pa_x25519_generate();
    EVP_PKEY *b = pa_x25519_generate();
    assert_non_null(a);
    assert_non_null(b);
    assert_true(EVP_PKEY_is_a(a, "X25519"));
    uint8_t pa[32], pb[32];
    assert_int_equal(pa_raw_public_key(a, pa), 0);
    assert_int_equal(pa_raw_public_key(b, pb), 0);
    assert_memory_not_equal(pa, pb, 32);
    /* Both ends of a derivation agree on the key. */
    uint8_t k1[32], k2[32];
    assert_int_equal(pa_envelope_derive_key(a, pb, pa, pb, k1), 0);
    assert_int_equal(pa_envelope_derive_key(b, pa, pa, pb, k2), 0);
    assert_memory_equal(k1, k2, 32);
    /* The salt order matters: swapping the roles gives another key. */
    assert_int_equal(pa_envelope_derive_key(a, pb, pb, pa, k2), 0);
    assert_memory_not_equal(k1, k2, 32);
    EVP_PKEY *ed = pa_ed25519_generate();
    assert_int_equal(pa_envelope_derive_key(ed, pb, pa, pb, k1), -1);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(b);
    EVP_PKEY_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_1),
        cmocka_unit_test(test_vector_2),
        cmocka_unit_test(test_credentials_account_fields),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_ephemeral_and_nonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_bytes_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_metadata_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_enclave_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_low_order_points_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_refuses_bad_input, setup, teardown),
        cmocka_unit_test(test_parse_binary_fields),
        cmocka_unit_test(test_parse_ciphertext_bounds_accepted),
        cmocka_unit_test(test_parse_body_shape),
        cmocka_unit_test(test_parse_metadata),
        cmocka_unit_test(test_credentials_accepted),
        cmocka_unit_test(test_credentials_rejected),
        cmocka_unit_test(test_ed25519_rfc8032),
        cmocka_unit_test(test_ed25519_sign_verify),
        cmocka_unit_test(test_x25519_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
