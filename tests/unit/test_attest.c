/* Attestation: real AWS Nitro documents (production and debug) against the
 * AWS root, the development platform end to end, and the verifier's refusal
 * of everything else (tampering, wrong roots, substituted cabundle roots,
 * malformed CBOR, malformed payloads that are validly signed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "attest.h"
#include "attest_internal.h"
#include "codec.h"
#include "timeutil.h"

#define NITRO_DIR PA_SOURCE_DIR "/tests/data/nitro"
#define PROD_DOC NITRO_DIR "/nitro_attestation.b64"
#define DEBUG_DOC NITRO_DIR "/nitro_attestation_debug.b64"
#define AWS_ROOT_PEM NITRO_DIR "/aws_nitro_root_g1.pem"

/* From the testdata README. */
#define PROD_PCR0_HEX                                                                              \
    "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9f" \
    "e86a"
#define PROD_TIME "2024-09-07T14:37:39.545Z"
#define DEBUG_TIME "2024-09-07T14:38:06.508Z"
#define PROD_MODULE_ID "i-0a22e5c5f24d22174-enc0191cceb4289903f"

/* FIPS 180-2 SHA-384 of one million 'a' (bigger than the 64 KiB read chunk). */
#define SHA384_MILLION_A                                                                           \
    "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d" \
    "8985"

/* ---- helpers ------------------------------------------------------------------ */

static int64_t ms_at(const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal(pa_time_parse(rfc3339, &ms), 0);
    return ms;
}

static uint8_t *read_b64(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[32768];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    text[n] = 0;
    uint8_t *out = NULL;
    assert_int_equal(pa_b64_decode(text, n, &out, len), 0);
    return out;
}

static int verify(const uint8_t *doc, size_t len, X509 *root, int64_t at_ms, int allow_debug,
                  pa_attest_claims *claims, char *err, size_t errlen)
{
    return pa_attest_verify(doc, len, root, at_ms, allow_debug, claims, err, errlen);
}

/* Expects a failure whose reason contains `what` (so a test cannot pass
 * because something else broke first). */
static void expect_reject(const uint8_t *doc, size_t len, X509 *root, int64_t at_ms,
                          const char *what)
{
    static pa_attest_claims claims;
    char err[256] = "";
    memset(&claims, 0xAA, sizeof claims);
    assert_int_equal(verify(doc, len, root, at_ms, 0, &claims, err, sizeof err), -1);
    if (what != NULL && strstr(err, what) == NULL)
        fail_msg("expected a failure about \"%s\", got \"%s\"", what, err);
    /* nothing half-verified leaks out */
    assert_int_equal(claims.public_key_len, 0);
    assert_int_equal(claims.has_nonce, 0);
}

static void expect_accept(const uint8_t *doc, size_t len, X509 *root, int64_t at_ms,
                          pa_attest_claims *claims)
{
    char err[256] = "";
    if (verify(doc, len, root, at_ms, 0, claims, err, sizeof err) != 0)
        fail_msg("verification failed: %s", err);
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    pa_hex_encode(b, n, out);
}

static int all_bytes(const uint8_t *b, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != v)
            return 0;
    return 1;
}

static uint8_t *memfind(uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen)
{
    for (size_t i = 0; i + nlen <= hlen; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return hay + i;
    return NULL;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

/* ---- resource use on hostile input ----------------------------------------- */

static long peak_rss_kb(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* cbor_load allocates (and touches) one pointer per entry an array or map
 * claims before it reads any entry: a 5-byte head claiming 2^25 entries would
 * cost 256 MiB. The strict loader must refuse such a claim before cbor_load
 * sees it. Runs first, while the process's peak RSS is still small. */
static void test_cbor_claims_do_not_allocate(void **state)
{
    (void)state;
    static const uint8_t claims_array[] = {0x9a, 0x02, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03};
    static const uint8_t claims_map[] = {0xba, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03};
    static const uint8_t nested_claim[] = {0x82, 0x01, 0x9a, 0x02, 0x00, 0x00, 0x00, 0x01};
    long before = peak_rss_kb();
    assert_null(pa_cbor_load_strict(claims_array, sizeof claims_array, PA_CBOR_MAX_DEPTH));
    assert_null(pa_cbor_load_strict(claims_map, sizeof claims_map, PA_CBOR_MAX_DEPTH));
    assert_null(pa_cbor_load_strict(nested_claim, sizeof nested_claim, PA_CBOR_MAX_DEPTH));
    long grown_kb = peak_rss_kb() - before;
    if (grown_kb > 64 * 1024)
        fail_msg("loading a hostile 8-byte input grew the peak RSS by %ld KiB", grown_kb);

    /* the loader still accepts what fits */
    static const uint8_t ok[] = {0x82, 0x01, 0xa1, 0x02, 0x80};
    cbor_item_t *it = pa_cbor_load_strict(ok, sizeof ok, PA_CBOR_MAX_DEPTH);
    assert_non_null(it);
    cbor_decref(&it);
    /* depth limit: 3 levels with max_depth 2 */
    static const uint8_t three[] = {0x81, 0x81, 0x81, 0x00};
    assert_null(pa_cbor_load_strict(three, sizeof three, 2));
    static const uint8_t two[] = {0x81, 0x81, 0x00};
    it = pa_cbor_load_strict(two, sizeof two, 2);
    assert_non_null(it);
    cbor_decref(&it);
}

/* ---- the built-in AWS root ------------------------------------------------- */

static void test_aws_root_pinned(void **state)
{
    (void)state;
    X509 *builtin = pa_attest_aws_root();
    assert_non_null(builtin);
    X509 *file = pa_attest_load_root(AWS_ROOT_PEM, PA_AWS_NITRO_ROOT_SHA256);
    assert_non_null(file);
    assert_int_equal(X509_cmp(builtin, file), 0);
    assert_true(pa_attest_cert_sha256_is(builtin, PA_AWS_NITRO_ROOT_SHA256));
    /* the pin is checked: one changed digit and the same file is refused */
    assert_null(pa_attest_load_root(
        AWS_ROOT_PEM, "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5c"));
    assert_null(pa_attest_load_root(AWS_ROOT_PEM, "not hex"));
    assert_null(pa_attest_load_root(NITRO_DIR "/does-not-exist.pem", NULL));
    assert_null(pa_attest_load_root(PROD_DOC, NULL)); /* not PEM */
    X509 *unpinned = pa_attest_load_root(AWS_ROOT_PEM, NULL);
    assert_non_null(unpinned);
    X509_free(unpinned);
    X509_free(file);
    X509_free(builtin);
}

/* ---- real Nitro documents -------------------------------------------------- */

static void test_real_production_document(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *doc = read_b64(PROD_DOC, &len);
    assert_int_equal(len, 7539);
    X509 *root = pa_attest_aws_root();
    assert_non_null(root);
    static pa_attest_claims c;

    expect_accept(doc, len, root, 0, &c); /* as of its own timestamp */
    assert_string_equal(c.module_id, PROD_MODULE_ID);
    assert_int_equal(c.timestamp_ms, ms_at(PROD_TIME));
    char hex[2 * PA_PCR_LEN + 1];
    hex_of(c.pcr0, PA_PCR_LEN, hex);
    assert_string_equal(hex, PROD_PCR0_HEX);
    assert_int_equal(c.debug_mode, 0);
    assert_true(c.has_public_key && c.has_user_data && c.has_nonce);
    assert_int_equal(c.public_key_len, 1024);
    assert_int_equal(c.user_data_len, 1024);
    assert_int_equal(c.nonce_len, 1024);
    assert_true(all_bytes(c.public_key, 1024, 0x01));
    assert_true(all_bytes(c.user_data, 1024, 0x01));
    assert_true(all_bytes(c.nonce, 1024, 0x01));

    /* explicit times inside the leaf's validity (14:37:36 .. 17:37:39Z) */
    expect_accept(doc, len, root, ms_at("2024-09-07T17:00:00Z"), &c);
    expect_accept(doc, len, root, ms_at(PROD_TIME), &c);

    /* COSE tag 18 is optional on input */
    uint8_t *tagged = malloc(len + 1);
    assert_non_null(tagged);
    tagged[0] = 0xd2;
    memcpy(tagged + 1, doc, len);
    expect_accept(tagged, len + 1, root, 0, &c);
    assert_string_equal(c.module_id, PROD_MODULE_ID);
    tagged[0] = 0xd1; /* tag 17 (COSE_Mac0) is not a signature */
    expect_reject(tagged, len + 1, root, 0, NULL);
    free(tagged);
    /* the two-byte head of tag 18, and of another tag */
    tagged = malloc(len + 2);
    assert_non_null(tagged);
    tagged[0] = 0xd8;
    tagged[1] = 18;
    memcpy(tagged + 2, doc, len);
    expect_accept(tagged, len + 2, root, 0, &c);
    tagged[1] = 98; /* COSE_Sign (multiple signers) */
    expect_reject(tagged, len + 2, root, 0, "unexpected CBOR tag");
    free(tagged);
    /* tag 18 twice */
    tagged = malloc(len + 2);
    assert_non_null(tagged);
    tagged[0] = 0xd2;
    tagged[1] = 0xd2;
    memcpy(tagged + 2, doc, len);
    expect_reject(tagged, len + 2, root, 0, NULL);
    free(tagged);

    X509_free(root);
    free(doc);
}

static void test_real_debug_document(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *doc = read_b64(DEBUG_DOC, &len);
    X509 *root = pa_attest_aws_root();
    static pa_attest_claims c;
    char err[256];

    expect_reject(doc, len, root, 0, "debug");
    assert_int_equal(pa_attest_verify(doc, len, root, 0, 1, &c, err, sizeof err), 0);
    assert_int_equal(c.debug_mode, 1);
    assert_true(all_bytes(c.pcr0, PA_PCR_LEN, 0));
    assert_int_equal(c.timestamp_ms, ms_at(DEBUG_TIME));
    assert_int_equal(c.nonce_len, 1024);
    /* allow_debug does not relax anything else */
    assert_int_equal(pa_attest_verify(doc, len, root, ms_at("2024-09-08T00:00:00Z"), 1, &c, err,
                                      sizeof err),
                     -1);
    X509_free(root);
    free(doc);
}

static void test_real_document_outside_validity(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *doc = read_b64(PROD_DOC, &len);
    X509 *root = pa_attest_aws_root();
    expect_reject(doc, len, root, ms_at("2024-09-08T00:00:00Z"), "expired");
    expect_reject(doc, len, root, ms_at("2024-09-07T14:30:00Z"), "not yet valid");
    expect_reject(doc, len, root, ms_at("2026-01-01T00:00:00Z"), "expired");
    X509_free(root);
    free(doc);
}

static void test_real_document_tampered(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *doc = read_b64(PROD_DOC, &len);
    X509 *root = pa_attest_aws_root();

    /* a byte of PCR0 (inside the signed payload; CBOR stays well-formed) */
    uint8_t pcr0[PA_PCR_LEN];
    assert_int_equal(pa_hex_decode_exact(PROD_PCR0_HEX, pcr0, PA_PCR_LEN), 0);
    uint8_t *at = memfind(doc, len, pcr0, sizeof pcr0);
    assert_non_null(at);
    at[10] ^= 0x01;
    expect_reject(doc, len, root, 0, "COSE signature");
    at[10] ^= 0x01;

    /* a byte of the nonce */
    static const uint8_t nonce_key[] = {0x65, 'n', 'o', 'n', 'c', 'e'};
    at = memfind(doc, len, nonce_key, sizeof nonce_key);
    assert_non_null(at);
    at[sizeof nonce_key + 3 + 500] ^= 0x80; /* past the bstr head 59 04 00 */
    expect_reject(doc, len, root, 0, "COSE signature");
    at[sizeof nonce_key + 3 + 500] ^= 0x80;

    /* the last byte of the signature (s) and the first (r) */
    doc[len - 1] ^= 0x01;
    expect_reject(doc, len, root, 0, "COSE signature");
    doc[len - 1] ^= 0x01;
    doc[len - PA_COSE_SIG_LEN] ^= 0x40;
    expect_reject(doc, len, root, 0, "COSE signature");
    doc[len - PA_COSE_SIG_LEN] ^= 0x40;

    static pa_attest_claims c;
    expect_accept(doc, len, root, 0, &c); /* all restored */

    /* xor 0xff at many positions: never accepted, never a crash */
    for (size_t i = 0; i < len; i += (i < 400 ? 1 : 13)) {
        doc[i] ^= 0xff;
        expect_reject(doc, len, root, 0, NULL);
        doc[i] ^= 0xff;
    }
    X509_free(root);
    free(doc);
}

/* ---- a test CA (in memory) and signed documents of our own ------------------ */

typedef struct {
    EVP_PKEY *root_key, *inter_key, *leaf_key;
    X509 *root, *inter, *leaf;
} test_ca;

static void ca_make(test_ca *ca, const char *name)
{
    int64_t now = time(NULL);
    char cn[64];
    ca->root_key = pa_devca_keygen();
    ca->inter_key = pa_devca_keygen();
    ca->leaf_key = pa_devca_keygen();
    assert_non_null(ca->root_key);
    assert_non_null(ca->inter_key);
    assert_non_null(ca->leaf_key);
    snprintf(cn, sizeof cn, "%s root", name);
    ca->root = pa_devca_issue(ca->root_key, cn, PA_DEVCA_ROOT, NULL, ca->root_key, now - 60,
                              now + 86400);
    snprintf(cn, sizeof cn, "%s intermediate", name);
    ca->inter = pa_devca_issue(ca->inter_key, cn, PA_DEVCA_INTERMEDIATE, ca->root, ca->root_key,
                               now - 60, now + 86400);
    ca->leaf = pa_devca_issue(ca->leaf_key, "leaf", PA_DEVCA_LEAF, ca->inter, ca->inter_key,
                              now - 60, now + 3 * 3600);
    assert_non_null(ca->root);
    assert_non_null(ca->inter);
    assert_non_null(ca->leaf);
}

static void ca_free(test_ca *ca)
{
    EVP_PKEY_free(ca->root_key);
    EVP_PKEY_free(ca->inter_key);
    EVP_PKEY_free(ca->leaf_key);
    X509_free(ca->root);
    X509_free(ca->inter);
    X509_free(ca->leaf);
}

typedef enum {
    MUT_NONE,
    MUT_NOT_MAP,
    MUT_UNKNOWN_KEY,
    MUT_DUP_KEY,
    MUT_NO_MODULE_ID,
    MUT_NO_CABUNDLE,
    MUT_MODULE_ID_EMPTY,
    MUT_MODULE_ID_CTRL,
    MUT_MODULE_ID_BYTES,
    MUT_DIGEST_SHA256,
    MUT_TIMESTAMP_ZERO,
    MUT_TIMESTAMP_NEG,
    MUT_TIMESTAMP_FLOAT,
    MUT_PCRS_EMPTY,
    MUT_PCR_LEN_47,
    MUT_PCR_INDEX_32,
    MUT_PCR_INDEX_TEXT,
    MUT_PCR0_LEN_32,
    MUT_NO_PCR2,
    MUT_CERT_TEXT,
    MUT_CERT_TOO_BIG,
    MUT_CABUNDLE_EMPTY,
    MUT_CABUNDLE_9,
    MUT_CABUNDLE_ENTRY_TEXT,
    MUT_NONCE_1025,
    MUT_USER_DATA_TEXT,
    MUT_PUBLIC_KEY_INT,
    MUT_COUNT
} mutation;

static cbor_item_t *tstr(const char *s)
{
    return cbor_build_stringn(s, strlen(s));
}

static cbor_item_t *der_item(X509 *c)
{
    uint8_t *der = NULL;
    size_t n = 0;
    assert_int_equal(pa_attest_cert_der(c, &der, &n), 0);
    cbor_item_t *it = pa_cbor_build_bytes(der, n);
    OPENSSL_free(der);
    return it;
}

static const uint8_t pcr_a[64] = {0x11, 0x22, 0x33};
static const uint8_t big[2048];

/* A payload signed by ca's leaf with cabundle = bundle[0..n), mutated as
 * asked. Built with libcbor directly so it can express what our encoder
 * refuses to produce. */
static void build_doc(const test_ca *ca, X509 *const *bundle, size_t nbundle, mutation m,
                      const uint8_t *nonce, size_t nonce_len, pa_buf *doc)
{
    cbor_item_t *map = cbor_new_definite_map(12);
    assert_non_null(map);

    if (m != MUT_NO_MODULE_ID) {
        cbor_item_t *v = tstr("i-test-enc0");
        if (m == MUT_MODULE_ID_EMPTY)
            v = (cbor_decref(&v), tstr(""));
        if (m == MUT_MODULE_ID_CTRL)
            v = (cbor_decref(&v), tstr("i-test\x1b[2J"));
        if (m == MUT_MODULE_ID_BYTES)
            v = (cbor_decref(&v), pa_cbor_build_bytes((const uint8_t *)"i-test", 6));
        assert_int_equal(pa_cbor_map_put(map, tstr("module_id"), v), 0);
    }
    assert_int_equal(pa_cbor_map_put(map, tstr("digest"),
                                     tstr(m == MUT_DIGEST_SHA256 ? "SHA256" : "SHA384")),
                     0);
    cbor_item_t *ts = pa_cbor_build_uint((uint64_t)pa_now_ms());
    if (m == MUT_TIMESTAMP_ZERO)
        ts = (cbor_decref(&ts), pa_cbor_build_uint(0));
    if (m == MUT_TIMESTAMP_NEG)
        ts = (cbor_decref(&ts), cbor_build_negint8(5));
    if (m == MUT_TIMESTAMP_FLOAT)
        ts = (cbor_decref(&ts), cbor_build_float8(1725719859545.0));
    assert_int_equal(pa_cbor_map_put(map, tstr("timestamp"), ts), 0);

    cbor_item_t *pcrs = cbor_new_definite_map(20);
    assert_non_null(pcrs);
    if (m != MUT_PCRS_EMPTY) {
        for (unsigned i = 0; i < 16; i++) {
            if (m == MUT_NO_PCR2 && i == 2)
                continue;
            size_t l = 48;
            if (m == MUT_PCR_LEN_47 && i == 5)
                l = 47;
            if (m == MUT_PCR0_LEN_32 && i == 0)
                l = 32;
            assert_int_equal(pa_cbor_map_put(pcrs, pa_cbor_build_uint(i),
                                             pa_cbor_build_bytes(i == 0 ? pcr_a : big, l)),
                             0);
        }
        if (m == MUT_PCR_INDEX_32)
            assert_int_equal(
                pa_cbor_map_put(pcrs, pa_cbor_build_uint(32), pa_cbor_build_bytes(big, 48)), 0);
        if (m == MUT_PCR_INDEX_TEXT)
            assert_int_equal(pa_cbor_map_put(pcrs, tstr("16"), pa_cbor_build_bytes(big, 48)), 0);
    }
    assert_int_equal(pa_cbor_map_put(map, tstr("pcrs"), pcrs), 0);

    cbor_item_t *cert = der_item(ca->leaf);
    if (m == MUT_CERT_TEXT)
        cert = (cbor_decref(&cert), tstr("MIIB..."));
    if (m == MUT_CERT_TOO_BIG)
        cert = (cbor_decref(&cert), pa_cbor_build_bytes(big, 1025));
    assert_int_equal(pa_cbor_map_put(map, tstr("certificate"), cert), 0);

    if (m != MUT_NO_CABUNDLE) {
        cbor_item_t *cab = cbor_new_definite_array(9);
        assert_non_null(cab);
        size_t n = m == MUT_CABUNDLE_EMPTY ? 0 : m == MUT_CABUNDLE_9 ? 9 : nbundle;
        for (size_t i = 0; i < n; i++) {
            cbor_item_t *e = der_item(bundle[i < nbundle ? i : nbundle - 1]);
            if (m == MUT_CABUNDLE_ENTRY_TEXT && i == 1)
                e = (cbor_decref(&e), tstr("intermediate"));
            assert_int_equal(pa_cbor_array_put(cab, e), 0);
        }
        assert_int_equal(pa_cbor_map_put(map, tstr("cabundle"), cab), 0);
    }

    cbor_item_t *pk = pa_cbor_build_bytes(pcr_a, 32);
    if (m == MUT_PUBLIC_KEY_INT)
        pk = (cbor_decref(&pk), pa_cbor_build_uint(7));
    assert_int_equal(pa_cbor_map_put(map, tstr("public_key"), pk), 0);
    cbor_item_t *ud = cbor_new_null();
    if (m == MUT_USER_DATA_TEXT)
        ud = (cbor_decref(&ud), tstr("hello"));
    assert_int_equal(pa_cbor_map_put(map, tstr("user_data"), ud), 0);
    cbor_item_t *nv = nonce != NULL ? pa_cbor_build_bytes(nonce, nonce_len) : cbor_new_null();
    if (m == MUT_NONCE_1025)
        nv = (cbor_decref(&nv), pa_cbor_build_bytes(big, 1025));
    assert_int_equal(pa_cbor_map_put(map, tstr("nonce"), nv), 0);
    if (m == MUT_UNKNOWN_KEY)
        assert_int_equal(pa_cbor_map_put(map, tstr("extra"), cbor_new_null()), 0);
    if (m == MUT_DUP_KEY)
        assert_int_equal(pa_cbor_map_put(map, tstr("nonce"), cbor_new_null()), 0);

    pa_buf payload;
    pa_buf_init(&payload, PA_ATTEST_DOC_MAX);
    if (m == MUT_NOT_MAP) {
        cbor_item_t *arr = cbor_new_definite_array(1);
        assert_int_equal(pa_cbor_array_put(arr, map), 0); /* consumes our ref */
        assert_int_equal(pa_cbor_serialize(arr, &payload), 0);
        cbor_decref(&arr);
    } else {
        assert_int_equal(pa_cbor_serialize(map, &payload), 0);
        cbor_decref(&map);
    }
    pa_buf_init(doc, PA_ATTEST_DOC_MAX);
    assert_int_equal(pa_cose_sign1(ca->leaf_key, payload.data, payload.len, doc), 0);
    pa_buf_free(&payload);
}

static void test_cose_round_trip_and_signature_encoding(void **state)
{
    (void)state;
    test_ca ca;
    ca_make(&ca, "cose");
    X509 *bundle[] = {ca.root, ca.inter};
    static const uint8_t nonce[3] = {1, 2, 3};
    pa_buf doc;
    build_doc(&ca, bundle, 2, MUT_NONE, nonce, sizeof nonce, &doc);

    /* the exact envelope bytes: array(4), bstr(4) {1:-35}, {}, payload, bstr(96) */
    static const uint8_t head[] = {0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0};
    assert_memory_equal(doc.data, head, sizeof head);
    static const uint8_t sig_head[] = {0x58, 0x60};
    assert_memory_equal(doc.data + doc.len - 98, sig_head, 2);

    static pa_attest_claims c;
    expect_accept(doc.data, doc.len, ca.root, 0, &c);
    assert_string_equal(c.module_id, "i-test-enc0");
    assert_int_equal(c.nonce_len, 3);
    assert_memory_equal(c.nonce, nonce, 3);
    assert_int_equal(c.has_user_data, 0);
    assert_int_equal(c.public_key_len, 32);

    /* the raw signature <-> DER conversion keeps leading zero bytes */
    uint8_t raw[PA_COSE_SIG_LEN], back[PA_COSE_SIG_LEN];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i * 7 + 1);
    raw[0] = 0x00;
    raw[1] = 0x00;
    raw[48] = 0x00;
    raw[49] = 0x80; /* s needs a sign byte in DER */
    uint8_t *der = NULL;
    size_t der_len = 0;
    assert_int_equal(pa_cose_sig_raw_to_der(raw, &der, &der_len), 0);
    assert_int_equal(der[0], 0x30);
    assert_int_equal(pa_cose_sig_der_to_raw(der, der_len, back), 0);
    assert_memory_equal(raw, back, sizeof raw);
    /* trailing garbage after the DER is refused */
    uint8_t longer[160];
    memcpy(longer, der, der_len);
    longer[der_len] = 0;
    assert_int_equal(pa_cose_sig_der_to_raw(longer, der_len + 1, back), -1);
    OPENSSL_free(der);

    /* a signature from a key that is not the leaf's */
    pa_buf other;
    pa_buf_init(&other, PA_ATTEST_DOC_MAX);
    pa_cose_sign1_parts parts;
    const char *why = NULL;
    assert_int_equal(pa_cose_sign1_decode(doc.data, doc.len, &parts, &why), 0);
    assert_int_equal(pa_cose_sign1(ca.inter_key, parts.payload.data, parts.payload.len, &other),
                     0);
    cbor_decref(&parts.item);
    expect_reject(other.data, other.len, ca.root, 0, "COSE signature");

    /* only P-384 keys sign */
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    assert_non_null(p256);
    pa_buf_reset(&other);
    assert_int_equal(pa_cose_sign1(p256, (const uint8_t *)"x", 1, &other), -1);
    EVP_PKEY_free(p256);

    pa_buf_free(&other);
    pa_buf_free(&doc);
    ca_free(&ca);
}

static void test_malformed_payloads_rejected(void **state)
{
    (void)state;
    test_ca ca;
    ca_make(&ca, "payload");
    X509 *bundle[] = {ca.root, ca.inter};
    static const char *const expect[MUT_COUNT] = {
        [MUT_NOT_MAP] = "payload is not a map",
        [MUT_UNKNOWN_KEY] = "unknown key",
        [MUT_DUP_KEY] = "duplicate key",
        [MUT_NO_MODULE_ID] = "required key is missing",
        [MUT_NO_CABUNDLE] = "required key is missing",
        [MUT_MODULE_ID_EMPTY] = "module_id",
        [MUT_MODULE_ID_CTRL] = "module_id",
        [MUT_MODULE_ID_BYTES] = "module_id",
        [MUT_DIGEST_SHA256] = "digest",
        [MUT_TIMESTAMP_ZERO] = "timestamp",
        [MUT_TIMESTAMP_NEG] = "timestamp",
        [MUT_TIMESTAMP_FLOAT] = "timestamp",
        [MUT_PCRS_EMPTY] = "pcrs",
        [MUT_PCR_LEN_47] = "pcrs",
        [MUT_PCR_INDEX_32] = "pcrs",
        [MUT_PCR_INDEX_TEXT] = "pcrs",
        [MUT_PCR0_LEN_32] = "PCR0 must be 48 bytes",
        [MUT_NO_PCR2] = "PCR0, PCR1 and PCR2 are required",
        [MUT_CERT_TEXT] = "certificate",
        [MUT_CERT_TOO_BIG] = "certificate",
        [MUT_CABUNDLE_EMPTY] = "cabundle",
        [MUT_CABUNDLE_9] = "cabundle",
        [MUT_CABUNDLE_ENTRY_TEXT] = "cabundle",
        [MUT_NONCE_1025] = "nonce",
        [MUT_USER_DATA_TEXT] = "user_data",
        [MUT_PUBLIC_KEY_INT] = "public_key",
    };
    pa_buf doc;
    static pa_attest_claims c;

    /* the unmutated document passes, so each failure below is the mutation's */
    build_doc(&ca, bundle, 2, MUT_NONE, NULL, 0, &doc);
    expect_accept(doc.data, doc.len, ca.root, 0, &c);
    assert_int_equal(c.has_nonce, 0);
    pa_buf_free(&doc);

    for (int m = MUT_NONE + 1; m < MUT_COUNT; m++) {
        assert_non_null(expect[m]);
        build_doc(&ca, bundle, 2, (mutation)m, NULL, 0, &doc);
        expect_reject(doc.data, doc.len, ca.root, 0, expect[m]);
        pa_buf_free(&doc);
    }
    ca_free(&ca);
}

/* cabundle[0] is compared with the pinned root, never trusted. */
static void test_cabundle_root_substitution(void **state)
{
    (void)state;
    test_ca a, b;
    ca_make(&a, "alpha");
    ca_make(&b, "beta");
    static pa_attest_claims c;
    pa_buf doc;

    /* control: a's own chain verifies against a's root */
    X509 *good[] = {a.root, a.inter};
    build_doc(&a, good, 2, MUT_NONE, NULL, 0, &doc);
    expect_accept(doc.data, doc.len, a.root, 0, &c);
    /* ... and not against b's */
    expect_reject(doc.data, doc.len, b.root, 0, "cabundle[0] is not the pinned root");
    pa_buf_free(&doc);

    /* a's leaf and intermediate (a chain that really ends at a's root), but a
     * different self-signed root placed in cabundle[0] */
    X509 *swapped[] = {b.root, a.inter};
    build_doc(&a, swapped, 2, MUT_NONE, NULL, 0, &doc);
    expect_reject(doc.data, doc.len, a.root, 0, "cabundle[0] is not the pinned root");
    /* pinning the document's own root does not make its chain valid */
    expect_reject(doc.data, doc.len, b.root, 0, "certificate chain");
    pa_buf_free(&doc);

    /* right root in cabundle[0], intermediate from another hierarchy */
    X509 *foreign_inter[] = {a.root, b.inter};
    build_doc(&a, foreign_inter, 2, MUT_NONE, NULL, 0, &doc);
    expect_reject(doc.data, doc.len, a.root, 0, "certificate chain");
    pa_buf_free(&doc);

    /* no intermediate at all */
    X509 *root_only[] = {a.root};
    build_doc(&a, root_only, 1, MUT_NONE, NULL, 0, &doc);
    expect_reject(doc.data, doc.len, a.root, 0, "certificate chain");
    pa_buf_free(&doc);

    /* a leaf of b's hierarchy presenting a's root + intermediate */
    build_doc(&b, good, 2, MUT_NONE, NULL, 0, &doc);
    expect_reject(doc.data, doc.len, a.root, 0, "certificate chain");
    pa_buf_free(&doc);

    ca_free(&a);
    ca_free(&b);
}

/* Structural COSE variants; the payload is a valid one so only the envelope
 * is wrong. */
static void put_cose(const uint8_t *prot, size_t prot_len, cbor_item_t *unprot,
                     const pa_bytes *payload, size_t sig_len, size_t n_items, pa_buf *out)
{
    static const uint8_t sig[100];
    cbor_item_t *arr = cbor_new_definite_array(n_items);
    assert_int_equal(pa_cbor_array_put(arr, pa_cbor_build_bytes(prot, prot_len)), 0);
    assert_int_equal(pa_cbor_array_put(arr, unprot), 0);
    if (n_items > 2)
        assert_int_equal(pa_cbor_array_put(arr, pa_cbor_build_bytes(payload->data, payload->len)),
                         0);
    if (n_items > 3)
        assert_int_equal(pa_cbor_array_put(arr, pa_cbor_build_bytes(sig, sig_len)), 0);
    if (n_items > 4)
        assert_int_equal(pa_cbor_array_put(arr, cbor_new_null()), 0);
    pa_buf_init(out, PA_ATTEST_DOC_MAX * 2);
    assert_int_equal(pa_cbor_serialize(arr, out), 0);
    cbor_decref(&arr);
}

static void test_cose_structure_rejected(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *real = read_b64(PROD_DOC, &len);
    X509 *root = pa_attest_aws_root();
    pa_cose_sign1_parts parts;
    const char *why = NULL;
    assert_int_equal(pa_cose_sign1_decode(real, len, &parts, &why), 0);
    pa_buf out;

    static const uint8_t es256[] = {0xa1, 0x01, 0x26};             /* {1: -7} */
    static const uint8_t es384_long[] = {0xa1, 0x01, 0x39, 0x00, 0x22}; /* -35, non-minimal */
    static const uint8_t es384_extra[] = {0xa2, 0x01, 0x38, 0x22, 0x04, 0x40};
    put_cose(es256, sizeof es256, cbor_new_definite_map(0), &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, 0, "protected header");
    pa_buf_free(&out);
    put_cose(es384_long, sizeof es384_long, cbor_new_definite_map(0), &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, 0, "protected header");
    pa_buf_free(&out);
    put_cose(es384_extra, sizeof es384_extra, cbor_new_definite_map(0), &parts.payload, 96, 4,
             &out);
    expect_reject(out.data, out.len, root, 0, "protected header");
    pa_buf_free(&out);

    cbor_item_t *unprot = cbor_new_definite_map(1);
    assert_int_equal(pa_cbor_map_put(unprot, pa_cbor_build_uint(4),
                                     pa_cbor_build_bytes((const uint8_t *)"k", 1)),
                     0);
    put_cose(pa_cose_protected_es384, 4, unprot, &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, 0, "unprotected header");
    pa_buf_free(&out);
    put_cose(pa_cose_protected_es384, 4, cbor_new_null(), &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, 0, "unprotected header");
    pa_buf_free(&out);

    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 95, 4, &out);
    expect_reject(out.data, out.len, root, 0, "96 bytes");
    pa_buf_free(&out);
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 97, 4, &out);
    expect_reject(out.data, out.len, root, 0, "96 bytes");
    pa_buf_free(&out);
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 96, 3, &out);
    expect_reject(out.data, out.len, root, 0, "array of 4");
    pa_buf_free(&out);
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 96, 5, &out);
    expect_reject(out.data, out.len, root, 0, "array of 4");
    pa_buf_free(&out);
    /* the right shape with a zero signature: well-formed, cryptographically wrong */
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, 0, "COSE signature");
    pa_buf_free(&out);

    /* the payload must itself be CBOR */
    static const uint8_t junk[] = {0xff, 0x00};
    pa_bytes junk_payload = {junk, sizeof junk};
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &junk_payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, 0, "payload: malformed CBOR");
    pa_buf_free(&out);

    cbor_decref(&parts.item);
    X509_free(root);
    free(real);
}

/* ---- garbage in ---------------------------------------------------------------- */

static void test_garbage_and_truncation(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *doc = read_b64(PROD_DOC, &len);
    X509 *root = pa_attest_aws_root();
    char err[128];
    static pa_attest_claims c;

    expect_reject(NULL, 0, root, 0, NULL);
    assert_int_equal(pa_attest_verify(doc, len, NULL, 0, 0, &c, err, sizeof err), -1);
    assert_int_equal(pa_attest_verify(doc, len, root, 0, 0, NULL, err, sizeof err), -1);
    assert_int_equal(pa_attest_verify(doc, len, root, -1, 0, &c, err, sizeof err), -1);
    expect_reject(doc, 0, root, 0, "size");
    /* a NULL or tiny err buffer is fine */
    assert_int_equal(pa_attest_verify(doc, len - 1, root, 0, 0, &c, NULL, 0), -1);
    assert_int_equal(pa_attest_verify(doc, len - 1, root, 0, 0, &c, err, 1), -1);
    assert_int_equal(err[0], '\0');

    /* every proper prefix */
    for (size_t n = 1; n < len; n++)
        expect_reject(doc, n, root, 0, NULL);
    /* a trailing byte */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, doc, len);
    longer[len] = 0x00;
    expect_reject(longer, len + 1, root, 0, "malformed CBOR");
    free(longer);

    /* over the size cap */
    uint8_t *huge = calloc(1, PA_ATTEST_DOC_MAX + 1);
    expect_reject(huge, PA_ATTEST_DOC_MAX + 1, root, 0, "size");
    free(huge);

    /* containers claiming more entries than there are bytes (cbor_load would
     * pre-allocate for all of them) */
    static const uint8_t big_array[] = {0x9b, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t big_map[] = {0xbb, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t big_bstr[] = {0x84, 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t indef_array[] = {0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff};
    static const uint8_t indef_bstr[] = {0x84, 0x5f, 0x41, 0x00, 0xff, 0xa0, 0x40, 0x40};
    static const uint8_t lone_break[] = {0xff};
    static const uint8_t reserved[] = {0x1c};
    static const uint8_t empty_array[] = {0x80};
    static const uint8_t tag_only[] = {0xd2};
    static const uint8_t tag_tag[] = {0xd2, 0xd2, 0x80};
    expect_reject(big_array, sizeof big_array, root, 0, "malformed CBOR");
    expect_reject(big_map, sizeof big_map, root, 0, "malformed CBOR");
    expect_reject(big_bstr, sizeof big_bstr, root, 0, "malformed CBOR");
    expect_reject(indef_array, sizeof indef_array, root, 0, "malformed CBOR");
    expect_reject(indef_bstr, sizeof indef_bstr, root, 0, "malformed CBOR");
    expect_reject(lone_break, sizeof lone_break, root, 0, "malformed CBOR");
    expect_reject(reserved, sizeof reserved, root, 0, "malformed CBOR");
    expect_reject(empty_array, sizeof empty_array, root, 0, "array of 4");
    expect_reject(tag_only, sizeof tag_only, root, 0, "malformed CBOR");
    expect_reject(tag_tag, sizeof tag_tag, root, 0, NULL); /* libcbor 0.8 refuses nested tags */

    /* deep nesting */
    uint8_t deep[4000];
    memset(deep, 0x81, sizeof deep);
    deep[sizeof deep - 1] = 0x00;
    expect_reject(deep, sizeof deep, root, 0, "malformed CBOR");

    /* deterministic random garbage, and random garbage behind a valid head */
    uint32_t x = 12345;
    uint8_t buf[600];
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + round % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        if (round % 2 == 0 && n > 8)
            memcpy(buf, doc, 8); /* 84 44 a1 01 38 22 a0 59 ... */
        expect_reject(buf, n, root, 0, NULL);
    }
    X509_free(root);
    free(doc);
}

/* ---- the development platform ------------------------------------------------ */

typedef struct {
    char base[64];  /* mkdtemp */
    char dir[128];  /* base/var/attest: created by dev_open */
    char exe[128];  /* base/exe: the "image" measured into PCR0 */
} dev_env;

static void env_make(dev_env *e)
{
    strcpy(e->base, "/tmp/pa_test_attest_XXXXXX");
    assert_non_null(mkdtemp(e->base));
    snprintf(e->dir, sizeof e->dir, "%s/var/attest", e->base);
    snprintf(e->exe, sizeof e->exe, "%s/exe", e->base);
    FILE *f = fopen(e->exe, "w");
    assert_non_null(f);
    static char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(fwrite(chunk, 1, sizeof chunk, f), sizeof chunk);
    fclose(f);
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        (void)unlink(path);
        return;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", path, ent->d_name);
        rm_tree(sub);
    }
    closedir(d);
    (void)rmdir(path);
}

static void file_path(const dev_env *e, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", e->dir, name);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_dev_round_trip(void **state)
{
    (void)state;
    dev_env e;
    env_make(&e);
    char path[256];

    int64_t before = pa_now_ms();
    pa_attest_platform *p = pa_attest_dev_open(e.dir, e.exe);
    assert_non_null(p);

    /* files and modes */
    assert_int_equal(mode_of(e.dir), 0700);
    file_path(&e, "root.key", path, sizeof path);
    assert_int_equal(mode_of(path), 0600);
    file_path(&e, "intermediate.key", path, sizeof path);
    assert_int_equal(mode_of(path), 0600);

    /* PCR0 = SHA-384 of the file (the FIPS "million a" vector) */
    char hex[2 * PA_PCR_LEN + 1];
    hex_of(pa_attest_pcr0(p), PA_PCR_LEN, hex);
    assert_string_equal(hex, SHA384_MILLION_A);

    /* the served root is the file's */
    file_path(&e, "root.pem", path, sizeof path);
    char *pem_file = read_text(path);
    char *pem = pa_attest_root_pem(p);
    assert_non_null(pem);
    assert_string_equal(pem, pem_file);
    X509 *root = pa_attest_load_root(path, NULL);
    assert_non_null(root);

    uint8_t pk[32], sp[32], ud[32], nonce[64];
    for (int i = 0; i < 32; i++) {
        pk[i] = (uint8_t)i;
        sp[i] = (uint8_t)(32 + i);
    }
    pa_attest_key_binding(pk, sp, ud);
    memset(nonce, 0x5a, sizeof nonce);

    pa_buf doc;
    pa_buf_init(&doc, PA_ATTEST_DOC_MAX);
    assert_int_equal(pa_attest_document(p, pk, sizeof pk, ud, sizeof ud, nonce, sizeof nonce, &doc),
                     0);
    int64_t after = pa_now_ms();

    static pa_attest_claims c;
    expect_accept(doc.data, doc.len, root, 0, &c);
    expect_accept(doc.data, doc.len, root, pa_now_ms(), &c);
    assert_memory_equal(c.pcr0, pa_attest_pcr0(p), PA_PCR_LEN);
    assert_int_equal(c.debug_mode, 0);
    assert_true(c.timestamp_ms >= before && c.timestamp_ms <= after);
    char want_id[64];
    snprintf(want_id, sizeof want_id, "perfagg-dev-i-%.16s-enc", SHA384_MILLION_A);
    assert_string_equal(c.module_id, want_id);
    assert_int_equal(c.public_key_len, 32);
    assert_memory_equal(c.public_key, pk, 32);
    assert_int_equal(c.user_data_len, 32);
    assert_memory_equal(c.user_data, ud, 32);
    assert_int_equal(c.nonce_len, 64);
    assert_memory_equal(c.nonce, nonce, 64);

    /* the leaf lives about three hours */
    expect_reject(doc.data, doc.len, root, pa_now_ms() + 4 * 3600 * 1000LL, "expired");
    /* the produced payload has PCR0..15 and a CA:FALSE leaf under a pathlen-0
     * intermediate under the root */
    pa_cose_sign1_parts parts;
    const char *why = NULL;
    assert_int_equal(pa_cose_sign1_decode(doc.data, doc.len, &parts, &why), 0);
    cbor_item_t *pl_item = pa_cbor_load_strict(parts.payload.data, parts.payload.len, 8);
    assert_non_null(pl_item);
    assert_int_equal(cbor_map_size(pl_item), 9);
    pa_attest_payload pl;
    assert_int_equal(pa_attest_payload_parse(pl_item, &pl, &why), 0);
    for (int i = 0; i < 16; i++) {
        assert_non_null(pl.pcrs[i].data);
        assert_int_equal(pl.pcrs[i].len, 48);
        if (i > 0)
            assert_true(all_bytes(pl.pcrs[i].data, 48, 0));
    }
    assert_null(pl.pcrs[16].data);
    assert_int_equal(pl.cabundle_len, 2);
    X509 *leaf = pa_attest_cert_parse(pl.certificate.data, pl.certificate.len);
    X509 *inter = pa_attest_cert_parse(pl.cabundle[1].data, pl.cabundle[1].len);
    assert_non_null(leaf);
    assert_non_null(inter);
    assert_int_equal(X509_check_ca(leaf), 0);
    assert_int_not_equal(X509_check_ca(inter), 0);
    assert_int_equal(X509_get_pathlen(inter), 0);
    assert_int_equal(X509_get_pathlen(root), 1);
    assert_true(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE);
    assert_true(X509_get_key_usage(inter) & KU_KEY_CERT_SIGN);
    assert_non_null(X509_get0_subject_key_id(leaf));
    assert_non_null(X509_get0_authority_key_id(leaf));
    /* leaf validity: from about a minute ago to about three hours ahead */
    time_t lo = (time_t)(before / 1000 - 120), hi = (time_t)(after / 1000 - 30);
    assert_true(X509_cmp_time(X509_get0_notBefore(leaf), &lo) > 0);
    assert_true(X509_cmp_time(X509_get0_notBefore(leaf), &hi) < 0);
    lo = (time_t)(before / 1000 + 3 * 3600 - 60);
    hi = (time_t)(after / 1000 + 3 * 3600 + 60);
    assert_true(X509_cmp_time(X509_get0_notAfter(leaf), &lo) > 0);
    assert_true(X509_cmp_time(X509_get0_notAfter(leaf), &hi) < 0);
    X509_free(leaf);
    X509_free(inter);
    cbor_decref(&pl_item);
    cbor_decref(&parts.item);

    /* null fields, and an empty (but present) field */
    pa_buf_reset(&doc);
    assert_int_equal(pa_attest_document(p, NULL, 0, NULL, 0, NULL, 0, &doc), 0);
    expect_accept(doc.data, doc.len, root, 0, &c);
    assert_int_equal(c.has_public_key, 0);
    assert_int_equal(c.has_user_data, 0);
    assert_int_equal(c.has_nonce, 0);
    assert_int_equal(pa_attest_document(p, pk, 32, NULL, 0, nonce, 0, &doc), 0);
    expect_accept(doc.data, doc.len, root, 0, &c);
    assert_int_equal(c.has_nonce, 1);
    assert_int_equal(c.nonce_len, 0);
    assert_int_equal(c.has_user_data, 0);

    /* a zero-initialised pa_buf works too */
    pa_buf fresh = {0};
    assert_int_equal(pa_attest_document(p, pk, 32, ud, 32, nonce, 64, &fresh), 0);
    expect_accept(fresh.data, fresh.len, root, 0, &c);
    pa_buf_free(&fresh);

    /* fields over 1024 bytes, or a NULL pointer with a length, are refused */
    static const uint8_t big_field[1025];
    assert_int_equal(pa_attest_document(p, big_field, 1025, NULL, 0, NULL, 0, &doc), -1);
    assert_int_equal(pa_attest_document(p, NULL, 0, big_field, 1025, NULL, 0, &doc), -1);
    assert_int_equal(pa_attest_document(p, NULL, 0, NULL, 0, big_field, 1025, &doc), -1);
    assert_int_equal(pa_attest_document(p, NULL, 5, NULL, 0, NULL, 0, &doc), -1);
    assert_int_equal(pa_attest_document(p, big_field, 1024, big_field, 1024, big_field, 1024, &doc),
                     0);
    expect_accept(doc.data, doc.len, root, 0, &c);
    assert_int_equal(c.user_data_len, 1024);

    /* the AWS root does not accept a development document */
    X509 *aws = pa_attest_aws_root();
    expect_reject(doc.data, doc.len, aws, 0, "cabundle[0] is not the pinned root");
    /* ... nor the development root an AWS one (test 5: wrong pinned root) */
    size_t rlen = 0;
    uint8_t *real = read_b64(PROD_DOC, &rlen);
    expect_reject(real, rlen, root, 0, "cabundle[0] is not the pinned root");
    free(real);
    X509_free(aws);

    /* reopening the same directory keeps the same root (and intermediate) */
    pa_attest_platform *p2 = pa_attest_dev_open(e.dir, e.exe);
    assert_non_null(p2);
    char *pem2 = pa_attest_root_pem(p2);
    assert_string_equal(pem, pem2);
    pa_buf doc2;
    pa_buf_init(&doc2, PA_ATTEST_DOC_MAX);
    assert_int_equal(pa_attest_document(p2, pk, 32, ud, 32, nonce, 64, &doc2), 0);
    expect_accept(doc2.data, doc2.len, root, 0, &c);
    assert_memory_equal(c.pcr0, pa_attest_pcr0(p), PA_PCR_LEN);
    free(pem2);
    pa_attest_platform_free(p2);

    /* a missing intermediate is re-issued under the same root */
    file_path(&e, "intermediate.pem", path, sizeof path);
    assert_int_equal(unlink(path), 0);
    p2 = pa_attest_dev_open(e.dir, e.exe);
    assert_non_null(p2);
    pem2 = pa_attest_root_pem(p2);
    assert_string_equal(pem, pem2);
    pa_buf_reset(&doc2);
    assert_int_equal(pa_attest_document(p2, NULL, 0, NULL, 0, NULL, 0, &doc2), 0);
    expect_accept(doc2.data, doc2.len, root, 0, &c);
    free(pem2);
    pa_attest_platform_free(p2);

    /* another directory means another root, which the first does not accept */
    dev_env e2;
    env_make(&e2);
    p2 = pa_attest_dev_open(e2.dir, e2.exe);
    assert_non_null(p2);
    pem2 = pa_attest_root_pem(p2);
    assert_string_not_equal(pem, pem2);
    pa_buf_reset(&doc2);
    assert_int_equal(pa_attest_document(p2, NULL, 0, NULL, 0, NULL, 0, &doc2), 0);
    expect_reject(doc2.data, doc2.len, root, 0, "cabundle[0] is not the pinned root");
    free(pem2);
    pa_attest_platform_free(p2);
    rm_tree(e2.base);

    pa_buf_free(&doc2);
    pa_buf_free(&doc);
    free(pem);
    free(pem_file);
    X509_free(root);
    pa_attest_platform_free(p);
    rm_tree(e.base);
}

static void test_dev_open_refuses_bad_state(void **state)
{
    (void)state;
    dev_env e;
    env_make(&e);
    char path[256];

    /* no executable to measure */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-exe", e.base);
    assert_null(pa_attest_dev_open(e.dir, missing));
    assert_null(pa_attest_dev_open(NULL, e.exe));

    pa_attest_platform *p = pa_attest_dev_open(e.dir, e.exe);
    assert_non_null(p);
    pa_attest_platform_free(p);

    /* a private key readable by others is refused */
    file_path(&e, "root.key", path, sizeof path);
    assert_int_equal(chmod(path, 0644), 0);
    assert_null(pa_attest_dev_open(e.dir, e.exe));
    assert_int_equal(chmod(path, 0600), 0);
    p = pa_attest_dev_open(e.dir, e.exe);
    assert_non_null(p);
    pa_attest_platform_free(p);

    /* half a root is never silently replaced */
    file_path(&e, "root.pem", path, sizeof path);
    char *saved = read_text(path);
    assert_int_equal(unlink(path), 0);
    assert_null(pa_attest_dev_open(e.dir, e.exe));
    /* a root certificate that does not match the key */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    size_t n;
    uint8_t *other_pem = NULL;
    {
        dev_env e2;
        env_make(&e2);
        pa_attest_platform *p2 = pa_attest_dev_open(e2.dir, e2.exe);
        assert_non_null(p2);
        other_pem = (uint8_t *)pa_attest_root_pem(p2);
        pa_attest_platform_free(p2);
        rm_tree(e2.base);
    }
    n = strlen((char *)other_pem);
    assert_int_equal(fwrite(other_pem, 1, n, f), n);
    fclose(f);
    free(other_pem);
    assert_null(pa_attest_dev_open(e.dir, e.exe));
    /* garbage instead of a PEM */
    f = fopen(path, "w");
    fputs("not a certificate\n", f);
    fclose(f);
    assert_null(pa_attest_dev_open(e.dir, e.exe));
    /* restored, it works again */
    f = fopen(path, "w");
    fputs(saved, f);
    fclose(f);
    free(saved);
    p = pa_attest_dev_open(e.dir, e.exe);
    assert_non_null(p);
    pa_attest_platform_free(p);

    /* dir exists as a file */
    char notdir[160];
    snprintf(notdir, sizeof notdir, "%s/exe", e.base);
    assert_null(pa_attest_dev_open(notdir, e.exe));
    rm_tree(e.base);
}

typedef struct {
    pa_attest_platform *p;
    X509 *root;
    int ok;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *w = arg;
    pa_buf doc;
    pa_buf_init(&doc, PA_ATTEST_DOC_MAX);
    static _Thread_local pa_attest_claims c;
    for (int i = 0; i < 10; i++) {
        uint8_t nonce[8];
        memset(nonce, i, sizeof nonce);
        char err[128];
        if (pa_attest_document(w->p, NULL, 0, NULL, 0, nonce, sizeof nonce, &doc) == 0 &&
            pa_attest_verify(doc.data, doc.len, w->root, 0, 0, &c, err, sizeof err) == 0 &&
            c.nonce_len == 8 && c.nonce[0] == (uint8_t)i)
            w->ok++;
    }
    pa_buf_free(&doc);
    return NULL;
}

static void test_dev_concurrent_documents(void **state)
{
    (void)state;
    dev_env e;
    env_make(&e);
    pa_attest_platform *p = pa_attest_dev_open(e.dir, e.exe);
    assert_non_null(p);
    char path[256];
    file_path(&e, "root.pem", path, sizeof path);
    X509 *root = pa_attest_load_root(path, NULL);
    assert_non_null(root);
    pthread_t t[4];
    worker_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_arg){p, root, 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].ok, 10);
    }
    X509_free(root);
    pa_attest_platform_free(p);
    rm_tree(e.base);
}

static void test_leaf_renewal_policy(void **state)
{
    (void)state;
    const int64_t t0 = 1700000000000;
    assert_int_equal(pa_attest_leaf_stale(t0, t0), 0);
    assert_int_equal(pa_attest_leaf_stale(t0, t0 + 3600 * 1000 - 1), 0);
    assert_int_equal(pa_attest_leaf_stale(t0, t0 + 3600 * 1000), 1);
    assert_int_equal(pa_attest_leaf_stale(t0, t0 - 1), 1); /* clock went back */
}

static void test_key_binding_vector(void **state)
{
    (void)state;
    /* SHA-256("perfagg/v1/keys" || 00 01 .. 1f || 20 21 .. 3f), computed with
     * Python's hashlib */
    uint8_t a[32], b[32], out[32];
    for (int i = 0; i < 32; i++) {
        a[i] = (uint8_t)i;
        b[i] = (uint8_t)(32 + i);
    }
    pa_attest_key_binding(a, b, out);
    char hex[65];
    hex_of(out, 32, hex);
    assert_string_equal(hex, "43ee8fe15970c7e5398c0ea48486298754fb11921a6c420c00b673f0874e5be4");
    /* order matters */
    pa_attest_key_binding(b, a, out);
    hex_of(out, 32, hex);
    assert_string_not_equal(hex,
                            "43ee8fe15970c7e5398c0ea48486298754fb11921a6c420c00b673f0874e5be4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbor_claims_do_not_allocate),
        cmocka_unit_test(test_aws_root_pinned),
        cmocka_unit_test(test_real_production_document),
        cmocka_unit_test(test_real_debug_document),
        cmocka_unit_test(test_real_document_outside_validity),
        cmocka_unit_test(test_real_document_tampered),
        cmocka_unit_test(test_cose_round_trip_and_signature_encoding),
        cmocka_unit_test(test_malformed_payloads_rejected),
        cmocka_unit_test(test_cabundle_root_substitution),
        cmocka_unit_test(test_cose_structure_rejected),
        cmocka_unit_test(test_garbage_and_truncation),
        cmocka_unit_test(test_dev_round_trip),
        cmocka_unit_test(test_dev_open_refuses_bad_state),
        cmocka_unit_test(test_dev_concurrent_documents),
        cmocka_unit_test(test_leaf_renewal_policy),
        cmocka_unit_test(test_key_binding_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
