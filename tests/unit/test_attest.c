/* Attestation: real AWS Nitro documents (production and debug) against the
 * AWS root, the development platform end to end, and the verifier's refusal
 * of everything else (tampering, wrong roots, substituted cabundle roots,
 * backdated and future documents, CA certificates as signers, non-canonical
 * COSE, malformed CBOR, malformed payloads that are validly signed, wrong
 * PCRs, nonces and keys). */
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

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "attest_internal.h"
#include "attest_produce.h"
#include "attest_verify.h"
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

/* The verifier at at_ms (0: now) with no age limit and no expectations; err
 * receives every failure ("check: reason; ..."). */
static int verify(const uint8_t *doc, size_t len, X509 *root, int64_t at_ms, int allow_debug,
                  pa_attest_claims *claims, char *err, size_t errlen)
{
    pa_attest_policy policy;
    pa_attest_result res; /* local: the concurrency test calls this from threads */
    pa_attest_policy_init(&policy, at_ms != 0 ? at_ms : pa_now_ms());
    policy.allow_debug = allow_debug;
    int rc = pa_attest_verify(doc, len, root, &policy, claims, &res);
    pa_attest_result_failures(&res, ~0u, err, errlen);
    return rc;
}

/* Expects a failure whose reasons contain `what` (so a test cannot pass
 * because something else broke first). */
static void expect_reject_policy(const uint8_t *doc, size_t len, X509 *root,
                                 const pa_attest_policy *policy, const char *what)
{
    static pa_attest_claims claims;
    static pa_attest_result res;
    char err[2048] = "";
    memset(&claims, 0xAA, sizeof claims);
    assert_int_equal(pa_attest_verify(doc, len, root, policy, &claims, &res), -1);
    pa_attest_result_failures(&res, ~0u, err, sizeof err);
    if (err[0] == '\0')
        fail_msg("a refusal without a reason");
    if (what != NULL && strstr(err, what) == NULL)
        fail_msg("expected a failure about \"%s\", got \"%s\"", what, err);
    /* nothing half-verified leaks out: claims only for an authentic document */
    if (!pa_attest_result_ok(&res, PA_ATTEST_AUTHENTICITY_MASK)) {
        assert_int_equal(claims.public_key_len, 0);
        assert_int_equal(claims.has_nonce, 0);
        assert_int_equal(claims.pcr_present, 0);
        assert_int_equal(claims.module_id[0], 0);
    }
}

static void expect_reject(const uint8_t *doc, size_t len, X509 *root, int64_t at_ms,
                          const char *what)
{
    pa_attest_policy policy;
    pa_attest_policy_init(&policy, at_ms != 0 ? at_ms : pa_now_ms());
    expect_reject_policy(doc, len, root, &policy, what);
}

static void expect_accept_policy(const uint8_t *doc, size_t len, X509 *root,
                                 const pa_attest_policy *policy, pa_attest_claims *claims)
{
    static pa_attest_result res;
    char err[2048] = "";
    if (pa_attest_verify(doc, len, root, policy, claims, &res) != 0) {
        pa_attest_result_failures(&res, ~0u, err, sizeof err);
        fail_msg("verification failed: %s", err);
    }
}

static void expect_accept(const uint8_t *doc, size_t len, X509 *root, int64_t at_ms,
                          pa_attest_claims *claims)
{
    char err[2048] = "";
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
    const int64_t at = ms_at(PROD_TIME);
    size_t len = 0;
    uint8_t *doc = read_b64(PROD_DOC, &len);
    assert_int_equal(len, 7539);
    X509 *root = pa_attest_aws_root();
    assert_non_null(root);
    static pa_attest_claims c;

    expect_accept(doc, len, root, at, &c); /* as of its own timestamp */
    assert_string_equal(c.module_id, PROD_MODULE_ID);
    assert_int_equal(c.timestamp_ms, ms_at(PROD_TIME));
    char hex[2 * PA_PCR_LEN + 1];
    hex_of(c.pcrs[0], PA_PCR_LEN, hex);
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

    /* with the age limit of a live check, at its own time and 4 minutes on */
    pa_attest_policy live;
    pa_attest_policy_init(&live, at);
    live.max_skew_ms = 300 * 1000;
    expect_accept_policy(doc, len, root, &live, &c);
    live.at_ms = at + 240 * 1000;
    expect_accept_policy(doc, len, root, &live, &c);
    /* ... its PCR0, PCR1 and the nonce, public_key and user_data it carries */
    uint8_t pcr0[PA_PCR_LEN], ones[1024];
    memset(ones, 0x01, sizeof ones);
    assert_int_equal(pa_hex_decode_exact(PROD_PCR0_HEX, pcr0, PA_PCR_LEN), 0);
    assert_int_equal(pa_attest_policy_expect_pcr(&live, 0, pcr0), 0);
    assert_int_equal(pa_attest_policy_expect_pcr(&live, 1, c.pcrs[1]), 0);
    live.nonce = live.public_key = live.user_data = ones;
    live.nonce_len = live.public_key_len = live.user_data_len = sizeof ones;
    expect_accept_policy(doc, len, root, &live, &c);
    assert_int_equal(c.pcr_present, 0xffff); /* PCR0..15 */
    assert_int_equal(c.cabundle_len, 4);
    assert_int_equal(c.leaf_not_before_ms, ms_at("2024-09-07T14:37:36Z"));
    assert_int_equal(c.leaf_not_after_ms, ms_at("2024-09-07T17:37:39Z"));

    /* COSE tag 18 is optional on input, once, in its one-byte head */
    uint8_t *tagged = malloc(len + 3);
    assert_non_null(tagged);
    tagged[0] = 0xd2;
    memcpy(tagged + 1, doc, len);
    expect_accept(tagged, len + 1, root, at, &c);
    assert_string_equal(c.module_id, PROD_MODULE_ID);
    tagged[0] = 0xd1; /* tag 17 (COSE_Mac0) is not a signature */
    expect_reject(tagged, len + 1, root, at, "only one COSE tag 18");
    /* the two-byte head of tag 18 (not minimal), and of another tag */
    tagged[0] = 0xd8;
    tagged[1] = 18;
    memcpy(tagged + 2, doc, len);
    expect_reject(tagged, len + 2, root, at, "only one COSE tag 18");
    tagged[1] = 98; /* COSE_Sign (multiple signers) */
    expect_reject(tagged, len + 2, root, at, "only one COSE tag 18");
    /* tag 18 twice: d2 d2, and d2 d8 12 */
    tagged[0] = 0xd2;
    tagged[1] = 0xd2;
    expect_reject(tagged, len + 2, root, at, "only one COSE tag 18");
    tagged[0] = 0xd2;
    tagged[1] = 0xd8;
    tagged[2] = 18;
    memcpy(tagged + 3, doc, len);
    expect_reject(tagged, len + 3, root, at, "only one COSE tag 18");
    free(tagged);

    X509_free(root);
    free(doc);
}

static void test_real_debug_document(void **state)
{
    (void)state;
    const int64_t at = ms_at(DEBUG_TIME);
    size_t len = 0;
    uint8_t *doc = read_b64(DEBUG_DOC, &len);
    X509 *root = pa_attest_aws_root();
    static pa_attest_claims c;
    char err[256];

    expect_reject(doc, len, root, at, "debug");
    assert_int_equal(verify(doc, len, root, at, 1, &c, err, sizeof err), 0);
    assert_int_equal(c.debug_mode, 1);
    assert_true(all_bytes(c.pcrs[0], PA_PCR_LEN, 0));
    assert_int_equal(c.timestamp_ms, ms_at(DEBUG_TIME));
    assert_int_equal(c.nonce_len, 1024);
    /* allow_debug does not relax anything else */
    assert_int_equal(verify(doc, len, root, ms_at("2024-09-08T00:00:00Z"), 1, &c, err, sizeof err),
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
    const int64_t at = ms_at(PROD_TIME);
    size_t len = 0;
    uint8_t *doc = read_b64(PROD_DOC, &len);
    X509 *root = pa_attest_aws_root();

    /* a byte of PCR0 (inside the signed payload; CBOR stays well-formed) */
    uint8_t pcr0[PA_PCR_LEN];
    assert_int_equal(pa_hex_decode_exact(PROD_PCR0_HEX, pcr0, PA_PCR_LEN), 0);
    uint8_t *pos = memfind(doc, len, pcr0, sizeof pcr0);
    assert_non_null(pos);
    pos[10] ^= 0x01;
    expect_reject(doc, len, root, at, "COSE signature");
    pos[10] ^= 0x01;

    /* a byte of the nonce */
    static const uint8_t nonce_key[] = {0x65, 'n', 'o', 'n', 'c', 'e'};
    pos = memfind(doc, len, nonce_key, sizeof nonce_key);
    assert_non_null(pos);
    pos[sizeof nonce_key + 3 + 500] ^= 0x80; /* past the bstr head 59 04 00 */
    expect_reject(doc, len, root, at, "COSE signature");
    pos[sizeof nonce_key + 3 + 500] ^= 0x80;

    /* the last byte of the signature (s) and the first (r) */
    doc[len - 1] ^= 0x01;
    expect_reject(doc, len, root, at, "COSE signature");
    doc[len - 1] ^= 0x01;
    doc[len - PA_COSE_SIG_LEN] ^= 0x40;
    expect_reject(doc, len, root, at, "COSE signature");
    doc[len - PA_COSE_SIG_LEN] ^= 0x40;

    static pa_attest_claims c;
    expect_accept(doc, len, root, at, &c); /* all restored */

    /* One flipped bit anywhere (never accepted, never a crash): the sweep
     * of tests/data/nitro/tamper_cases.json, in test_shared_tamper_cases,
     * which the JavaScript verifier runs too. */
    expect_accept(doc, len, root, at, &c); /* all restored */
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
    MUT_PCR_LEN_32,
    MUT_PCR_LEN_64,
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
static void build_doc_ex(X509 *signer, EVP_PKEY *signer_key, X509 *const *bundle,
                         size_t nbundle, mutation m, const uint8_t *nonce, size_t nonce_len,
                         int64_t ts_ms, pa_buf *doc)
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
    cbor_item_t *ts = pa_cbor_build_uint((uint64_t)(ts_ms != 0 ? ts_ms : pa_now_ms()));
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
            if (m == MUT_PCR_LEN_32 && i == 7)
                l = 32;
            if (m == MUT_PCR_LEN_64 && i == 15)
                l = 64;
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

    cbor_item_t *cert = der_item(signer);
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
    assert_int_equal(pa_cose_sign1(signer_key, payload.data, payload.len, doc), 0);
    pa_buf_free(&payload);
}

static void build_doc(const test_ca *ca, X509 *const *bundle, size_t nbundle, mutation m,
                      const uint8_t *nonce, size_t nonce_len, pa_buf *doc)
{
    build_doc_ex(ca->leaf, ca->leaf_key, bundle, nbundle, m, nonce, nonce_len, 0, doc);
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
        [MUT_PCR0_LEN_32] = "48-byte values",
        [MUT_PCR_LEN_32] = "48-byte values",
        [MUT_PCR_LEN_64] = "48-byte values",
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
    const int64_t at = ms_at(PROD_TIME);
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
    expect_reject(out.data, out.len, root, at, "protected header");
    pa_buf_free(&out);
    put_cose(es384_long, sizeof es384_long, cbor_new_definite_map(0), &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, at, "protected header");
    pa_buf_free(&out);
    put_cose(es384_extra, sizeof es384_extra, cbor_new_definite_map(0), &parts.payload, 96, 4,
             &out);
    expect_reject(out.data, out.len, root, at, "protected header");
    pa_buf_free(&out);

    cbor_item_t *unprot = cbor_new_definite_map(1);
    assert_int_equal(pa_cbor_map_put(unprot, pa_cbor_build_uint(4),
                                     pa_cbor_build_bytes((const uint8_t *)"k", 1)),
                     0);
    put_cose(pa_cose_protected_es384, 4, unprot, &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, at, "unprotected header");
    pa_buf_free(&out);
    put_cose(pa_cose_protected_es384, 4, cbor_new_null(), &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, at, "unprotected header");
    pa_buf_free(&out);

    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 95, 4, &out);
    expect_reject(out.data, out.len, root, at, "96 bytes");
    pa_buf_free(&out);
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 97, 4, &out);
    expect_reject(out.data, out.len, root, at, "96 bytes");
    pa_buf_free(&out);
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 96, 3, &out);
    expect_reject(out.data, out.len, root, at, "array of 4");
    pa_buf_free(&out);
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 96, 5, &out);
    expect_reject(out.data, out.len, root, at, "array of 4");
    pa_buf_free(&out);
    /* the right shape with a zero signature: well-formed, cryptographically wrong */
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &parts.payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, at, "COSE signature");
    pa_buf_free(&out);

    /* the payload must itself be CBOR */
    static const uint8_t junk[] = {0xff, 0x00};
    pa_bytes junk_payload = {junk, sizeof junk};
    put_cose(pa_cose_protected_es384, 4, cbor_new_definite_map(0), &junk_payload, 96, 4, &out);
    expect_reject(out.data, out.len, root, at, "payload: malformed CBOR");
    pa_buf_free(&out);

    cbor_decref(&parts.item);
    X509_free(root);
    free(real);
}

/* ---- time: live checks at the current time, documents from just now ---------- */

/* A CA whose leaf is valid [leaf_nb, leaf_na] (seconds). */
static void ca_make_leaf(test_ca *ca, const char *name, int64_t leaf_nb, int64_t leaf_na)
{
    int64_t now = time(NULL);
    char cn[64];
    memset(ca, 0, sizeof *ca);
    ca->root_key = pa_devca_keygen();
    ca->inter_key = pa_devca_keygen();
    ca->leaf_key = pa_devca_keygen();
    snprintf(cn, sizeof cn, "%s root", name);
    ca->root = pa_devca_issue(ca->root_key, cn, PA_DEVCA_ROOT, NULL, ca->root_key,
                              now - 30 * 86400, now + 86400);
    snprintf(cn, sizeof cn, "%s intermediate", name);
    ca->inter = pa_devca_issue(ca->inter_key, cn, PA_DEVCA_INTERMEDIATE, ca->root, ca->root_key,
                               now - 30 * 86400, now + 86400);
    ca->leaf = pa_devca_issue(ca->leaf_key, "leaf", PA_DEVCA_LEAF, ca->inter, ca->inter_key,
                              leaf_nb, leaf_na);
    assert_non_null(ca->root);
    assert_non_null(ca->inter);
    assert_non_null(ca->leaf);
}

static pa_attest_policy live_policy(void)
{
    pa_attest_policy p;
    pa_attest_policy_init(&p, pa_now_ms());
    p.max_skew_ms = 300 * 1000; /* the client's default */
    return p;
}

/* The attack the old verifier let through: a signer whose leaf expired long
 * ago backdates the document's timestamp into the leaf's lifetime. Checked
 * "as of the document's timestamp" it is valid; a live check at the current
 * time refuses it. */
static void test_backdated_document_refused_live(void **state)
{
    (void)state;
    int64_t now = time(NULL);
    int64_t then = now - 10 * 86400; /* ten days ago */
    test_ca ca;
    ca_make_leaf(&ca, "backdate", then, then + 3 * 3600);
    X509 *bundle[] = {ca.root, ca.inter};
    static pa_attest_claims c;
    pa_buf doc;
    int64_t ts = (then + 3600) * 1000; /* inside the expired leaf's lifetime */
    build_doc_ex(ca.leaf, ca.leaf_key, bundle, 2, MUT_NONE, NULL, 0, ts, &doc);

    /* as of its own claim, everything holds (what used to be checked) */
    expect_accept(doc.data, doc.len, ca.root, ts, &c);
    assert_int_equal(c.timestamp_ms, ts);
    /* a live check: refused, for the expired leaf and for the old timestamp */
    pa_attest_policy live = live_policy();
    expect_reject_policy(doc.data, doc.len, ca.root, &live, "certificate has expired");
    expect_reject_policy(doc.data, doc.len, ca.root, &live, "before the time of the check");
    /* even with no age limit the chain is checked now */
    live.max_skew_ms = 0;
    expect_reject_policy(doc.data, doc.len, ca.root, &live, "certificate has expired");
    pa_buf_free(&doc);
    ca_free(&ca);

    /* a leaf still valid now, a timestamp half an hour old: the age limit */
    ca_make_leaf(&ca, "stale", now - 3600, now + 2 * 3600);
    X509 *b2[] = {ca.root, ca.inter};
    build_doc_ex(ca.leaf, ca.leaf_key, b2, 2, MUT_NONE, NULL, 0, (now - 1800) * 1000, &doc);
    live = live_policy();
    expect_reject_policy(doc.data, doc.len, ca.root, &live, "s before the time of the check (at most 300 s allowed)");
    live.max_skew_ms = 3600 * 1000; /* --max-age 3600 */
    expect_accept_policy(doc.data, doc.len, ca.root, &live, &c);
    pa_buf_free(&doc);

    /* from the future */
    build_doc_ex(ca.leaf, ca.leaf_key, b2, 2, MUT_NONE, NULL, 0, (now + 600) * 1000, &doc);
    live = live_policy();
    expect_reject_policy(doc.data, doc.len, ca.root, &live, "after the time of the check");
    pa_buf_free(&doc);

    /* a timestamp outside the leaf's own validity, checked at that moment */
    int64_t late = (now + 3 * 3600) * 1000;
    build_doc_ex(ca.leaf, ca.leaf_key, b2, 2, MUT_NONE, NULL, 0, late, &doc);
    expect_reject(doc.data, doc.len, ca.root, now * 1000, "outside the leaf certificate's validity");
    pa_buf_free(&doc);

    /* just now: accepted */
    build_doc_ex(ca.leaf, ca.leaf_key, b2, 2, MUT_NONE, NULL, 0, 0, &doc);
    live = live_policy();
    expect_accept_policy(doc.data, doc.len, ca.root, &live, &c);
    pa_buf_free(&doc);
    ca_free(&ca);

    /* the real document is refused by a live check today, for both reasons */
    size_t len = 0;
    uint8_t *real = read_b64(PROD_DOC, &len);
    X509 *aws = pa_attest_aws_root();
    live = live_policy();
    expect_reject_policy(real, len, aws, &live, "expired");
    expect_reject_policy(real, len, aws, &live, "before the time of the check");
    X509_free(aws);
    free(real);
}

/* ---- the chain: signing leaves only, constraints enforced ----------------------- */

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* A certificate with the given basicConstraints and keyUsage (NULL: none),
 * subject and authority key identifiers, valid for a day around now. */
static X509 *issue_custom(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                          const char *bc, const char *ku)
{
    int64_t now = time(NULL);
    X509 *cert = X509_new();
    assert_non_null(cert);
    assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)(now & 0xffffff)), 1);
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)(now - 3600)));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)(now + 86400)));
    X509_NAME *name = X509_get_subject_name(cert);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)cn, -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(cert, X509_get_subject_name(issuer)), 1);
    assert_int_equal(X509_set_pubkey(cert, key), 1);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    if (bc != NULL)
        assert_int_equal(add_ext(cert, &ctx, NID_basic_constraints, bc), 0);
    if (ku != NULL)
        assert_int_equal(add_ext(cert, &ctx, NID_key_usage, ku), 0);
    assert_int_equal(add_ext(cert, &ctx, NID_subject_key_identifier, "hash"), 0);
    assert_int_equal(add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always"), 0);
    assert_true(X509_sign(cert, issuer_key, EVP_sha384()) > 0);
    return cert;
}

/* Documents signed by a CA certificate's key, presenting that certificate as
 * the signer: its chain to the root is perfectly valid, which is why the
 * signer's own profile must be checked. */
static void test_ca_signed_document_refused(void **state)
{
    (void)state;
    test_ca ca;
    ca_make(&ca, "casign");
    static pa_attest_claims c;
    pa_buf doc;

    /* control: the leaf */
    X509 *bundle[] = {ca.root, ca.inter};
    build_doc(&ca, bundle, 2, MUT_NONE, NULL, 0, &doc);
    expect_accept(doc.data, doc.len, ca.root, 0, &c);
    pa_buf_free(&doc);

    /* the intermediate signs (cabundle: the root) */
    X509 *root_only[] = {ca.root};
    build_doc_ex(ca.inter, ca.inter_key, root_only, 1, MUT_NONE, NULL, 0, 0, &doc);
    expect_reject(doc.data, doc.len, ca.root, 0, "the signing certificate is not a leaf");
    pa_buf_free(&doc);
    /* the root itself signs */
    build_doc_ex(ca.root, ca.root_key, root_only, 1, MUT_NONE, NULL, 0, 0, &doc);
    expect_reject(doc.data, doc.len, ca.root, 0, "the signing certificate is not a leaf");
    pa_buf_free(&doc);

    /* leaves with the wrong profile, issued by the real intermediate */
    EVP_PKEY *k = pa_devca_keygen();
    assert_non_null(k);
    static const struct {
        const char *bc, *ku, *why;
    } bad[] = {
        {"critical,CA:FALSE", "critical,keyAgreement", "digitalSignature"},
        {"critical,CA:FALSE", NULL, "digitalSignature"},
        {NULL, "critical,digitalSignature", "not a leaf"},
        {"critical,CA:FALSE", "critical,digitalSignature,keyCertSign", "may sign certificates"},
        /* CA:TRUE with a keyUsage that lacks keyCertSign: X509_check_ca
         * calls that "not a CA", and the strict chain check accepts it at
         * depth 0; it is still a CA certificate, not a leaf */
        {"critical,CA:TRUE", "critical,digitalSignature", "not a leaf"},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        X509 *leaf = issue_custom(k, "odd leaf", ca.inter, ca.inter_key, bad[i].bc, bad[i].ku);
        build_doc_ex(leaf, k, bundle, 2, MUT_NONE, NULL, 0, 0, &doc);
        expect_reject(doc.data, doc.len, ca.root, 0, bad[i].why);
        pa_buf_free(&doc);
        X509_free(leaf);
    }
    /* the same custom issuance with a proper profile passes */
    X509 *good = issue_custom(k, "good leaf", ca.inter, ca.inter_key, "critical,CA:FALSE",
                              "critical,digitalSignature");
    build_doc_ex(good, k, bundle, 2, MUT_NONE, NULL, 0, 0, &doc);
    expect_accept(doc.data, doc.len, ca.root, 0, &c);
    pa_buf_free(&doc);
    /* the same leaf signed by the intermediate with SHA-1 (a hash whose
     * collisions are practical): refused, whatever the CA's intent */
    X509 *sha1_leaf = X509_dup(good);
    assert_non_null(sha1_leaf);
    assert_true(X509_sign(sha1_leaf, ca.inter_key, EVP_sha1()) > 0);
    build_doc_ex(sha1_leaf, k, bundle, 2, MUT_NONE, NULL, 0, 0, &doc);
    expect_reject(doc.data, doc.len, ca.root, 0, "certificate chain");
    pa_buf_free(&doc);
    X509_free(sha1_leaf);
    X509_free(good);

    /* pathLen: the intermediate (pathlen 0) issues another CA, which issues
     * the leaf */
    EVP_PKEY *k2 = pa_devca_keygen();
    X509 *sub = issue_custom(k2, "sub CA", ca.inter, ca.inter_key, "critical,CA:TRUE",
                             "critical,keyCertSign");
    X509 *leaf = issue_custom(k, "deep leaf", sub, k2, "critical,CA:FALSE",
                              "critical,digitalSignature");
    X509 *deep[] = {ca.root, ca.inter, sub};
    build_doc_ex(leaf, k, deep, 3, MUT_NONE, NULL, 0, 0, &doc);
    expect_reject(doc.data, doc.len, ca.root, 0, "path length");
    pa_buf_free(&doc);
    X509_free(leaf);
    X509_free(sub);

    /* keyUsage of a CA: an intermediate that may not sign certificates */
    EVP_PKEY *k3 = pa_devca_keygen();
    X509 *weak = issue_custom(k3, "no-certsign CA", ca.root, ca.root_key,
                              "critical,CA:TRUE,pathlen:0", "critical,digitalSignature");
    leaf = issue_custom(k, "leaf under weak", weak, k3, "critical,CA:FALSE",
                        "critical,digitalSignature");
    X509 *weak_bundle[] = {ca.root, weak};
    build_doc_ex(leaf, k, weak_bundle, 2, MUT_NONE, NULL, 0, 0, &doc);
    expect_reject(doc.data, doc.len, ca.root, 0, "certificate chain");
    pa_buf_free(&doc);
    X509_free(leaf);
    X509_free(weak);
    /* a leaf posing as an intermediate (CA:FALSE issuing a leaf) */
    X509 *fake = issue_custom(k3, "leaf as CA", ca.inter, ca.inter_key, "critical,CA:FALSE",
                              "critical,digitalSignature");
    leaf = issue_custom(k, "leaf under leaf", fake, k3, "critical,CA:FALSE",
                        "critical,digitalSignature");
    X509 *fake_bundle[] = {ca.root, ca.inter, fake};
    build_doc_ex(leaf, k, fake_bundle, 3, MUT_NONE, NULL, 0, 0, &doc);
    expect_reject(doc.data, doc.len, ca.root, 0, "certificate chain");
    pa_buf_free(&doc);
    X509_free(leaf);
    X509_free(fake);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
    ca_free(&ca);
}

/* A self-made root, even one named exactly like AWS's, and a self-made
 * intermediate placed under the genuine AWS root in cabundle. */
static void test_self_made_root_refused(void **state)
{
    (void)state;
    X509 *aws = pa_attest_aws_root();
    assert_non_null(aws);
    EVP_PKEY *rk = pa_devca_keygen(), *ik = pa_devca_keygen(), *lk = pa_devca_keygen();
    assert_non_null(rk);
    /* the AWS root's subject, our key */
    X509 *fake_root = X509_new();
    assert_non_null(fake_root);
    int64_t now = time(NULL);
    assert_int_equal(X509_set_version(fake_root, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(fake_root), 7), 1);
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(fake_root), (time_t)(now - 3600)));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(fake_root), (time_t)(now + 86400)));
    assert_int_equal(X509_set_subject_name(fake_root, X509_get_subject_name(aws)), 1);
    assert_int_equal(X509_set_issuer_name(fake_root, X509_get_subject_name(aws)), 1);
    assert_int_equal(X509_set_pubkey(fake_root, rk), 1);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, fake_root, fake_root, NULL, NULL, 0);
    assert_int_equal(add_ext(fake_root, &ctx, NID_basic_constraints, "critical,CA:TRUE"), 0);
    assert_int_equal(add_ext(fake_root, &ctx, NID_key_usage, "critical,keyCertSign"), 0);
    assert_int_equal(add_ext(fake_root, &ctx, NID_subject_key_identifier, "hash"), 0);
    assert_true(X509_sign(fake_root, rk, EVP_sha384()) > 0);
    X509 *inter = issue_custom(ik, "aws.nitro-enclaves zonal", fake_root, rk,
                               "critical,CA:TRUE,pathlen:0", "critical,keyCertSign");
    X509 *leaf = issue_custom(lk, "i-0123-enc0123", inter, ik, "critical,CA:FALSE",
                              "critical,digitalSignature");
    static pa_attest_claims c;
    pa_buf doc;

    /* its own root in cabundle: not the pinned root */
    X509 *own[] = {fake_root, inter};
    build_doc_ex(leaf, lk, own, 2, MUT_NONE, NULL, 0, 0, &doc);
    expect_accept(doc.data, doc.len, fake_root, 0, &c); /* control: it is a valid chain */
    expect_reject(doc.data, doc.len, aws, 0, "cabundle[0] is not the pinned root");
    pa_buf_free(&doc);
    /* the genuine AWS root in cabundle[0], the forged intermediate under it */
    X509 *posing[] = {aws, inter};
    build_doc_ex(leaf, lk, posing, 2, MUT_NONE, NULL, 0, 0, &doc);
    expect_reject(doc.data, doc.len, aws, 0, "certificate chain");
    pa_buf_free(&doc);
    /* the forged root as an intermediate under the genuine one */
    X509 *nested[] = {aws, fake_root, inter};
    build_doc_ex(leaf, lk, nested, 3, MUT_NONE, NULL, 0, 0, &doc);
    expect_reject(doc.data, doc.len, aws, 0, "certificate chain");
    pa_buf_free(&doc);

    X509_free(leaf);
    X509_free(inter);
    X509_free(fake_root);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ik);
    EVP_PKEY_free(lk);
    X509_free(aws);
}

/* ---- expectations: PCRs, nonce, keys; every reason at once ----------------------- */

static void test_expectations_refused(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *doc = read_b64(PROD_DOC, &len);
    X509 *aws = pa_attest_aws_root();
    static pa_attest_claims c;
    uint8_t pcr0[PA_PCR_LEN], other[PA_PCR_LEN], ones[1024];
    assert_int_equal(pa_hex_decode_exact(PROD_PCR0_HEX, pcr0, PA_PCR_LEN), 0);
    memcpy(other, pcr0, sizeof other);
    other[47] ^= 1;
    memset(ones, 0x01, sizeof ones);
    pa_attest_policy p;

    pa_attest_policy_init(&p, ms_at(PROD_TIME));
    assert_int_equal(pa_attest_policy_expect_pcr(&p, 0, other), 0);
    expect_reject_policy(doc, len, aws, &p, "PCR0 is not the expected value");
    /* an authentic document with a wrong PCR still gives its claims */
    static pa_attest_result res;
    assert_int_equal(pa_attest_verify(doc, len, aws, &p, &c, &res), -1);
    assert_int_equal(res.status[PA_ATTEST_CHECK_PCRS], PA_ATTEST_FAIL);
    assert_true(pa_attest_result_ok(&res, PA_ATTEST_AUTHENTICITY_MASK));
    assert_memory_equal(c.pcrs[0], pcr0, PA_PCR_LEN);

    pa_attest_policy_init(&p, ms_at(PROD_TIME));
    assert_int_equal(pa_attest_policy_expect_pcr(&p, 0, pcr0), 0);
    assert_int_equal(pa_attest_policy_expect_pcr(&p, 2, other), 0);
    expect_reject_policy(doc, len, aws, &p, "PCR2 is not the expected value");
    pa_attest_policy_init(&p, ms_at(PROD_TIME));
    assert_int_equal(pa_attest_policy_expect_pcr(&p, 20, pcr0), 0);
    expect_reject_policy(doc, len, aws, &p, "PCR20 is absent");

    /* the nonce: another value, another length */
    pa_attest_policy_init(&p, ms_at(PROD_TIME));
    uint8_t twos[1024];
    memset(twos, 0x02, sizeof twos);
    p.nonce = twos;
    p.nonce_len = sizeof twos;
    expect_reject_policy(doc, len, aws, &p, "nonce is not the expected one");
    p.nonce = ones;
    p.nonce_len = 32;
    expect_reject_policy(doc, len, aws, &p, "nonce is not the expected one");
    p.nonce_len = sizeof ones;
    expect_accept_policy(doc, len, aws, &p, &c);
    /* public_key and user_data */
    p.public_key = twos;
    p.public_key_len = 32;
    expect_reject_policy(doc, len, aws, &p, "public_key is not the expected one");
    p.public_key = ones;
    p.public_key_len = sizeof ones;
    p.user_data = twos;
    p.user_data_len = sizeof twos;
    expect_reject_policy(doc, len, aws, &p, "user_data is not the expected one");

    /* every reason at once: a live check today, with a wrong PCR1 and nonce */
    pa_attest_policy_init(&p, pa_now_ms());
    p.max_skew_ms = 300 * 1000;
    assert_int_equal(pa_attest_policy_expect_pcr(&p, 1, other), 0);
    p.nonce = twos;
    p.nonce_len = 16;
    assert_int_equal(pa_attest_verify(doc, len, aws, &p, &c, &res), -1);
    assert_int_equal(res.status[PA_ATTEST_CHECK_FORMAT], PA_ATTEST_PASS);
    assert_int_equal(res.status[PA_ATTEST_CHECK_SIGNATURE], PA_ATTEST_PASS);
    assert_int_equal(res.status[PA_ATTEST_CHECK_CHAIN], PA_ATTEST_FAIL);
    assert_int_equal(res.status[PA_ATTEST_CHECK_TIMESTAMP], PA_ATTEST_FAIL);
    assert_int_equal(res.status[PA_ATTEST_CHECK_DEBUG], PA_ATTEST_PASS);
    assert_int_equal(res.status[PA_ATTEST_CHECK_PCRS], PA_ATTEST_FAIL);
    assert_int_equal(res.status[PA_ATTEST_CHECK_NONCE], PA_ATTEST_FAIL);
    assert_int_equal(res.status[PA_ATTEST_CHECK_PUBLIC_KEY], PA_ATTEST_UNCHECKED);
    assert_int_equal(c.pcr_present, 0); /* not authentic now: no claims */
    char all[2048];
    pa_attest_result_failures(&res, ~0u, all, sizeof all);
    assert_non_null(strstr(all, "chain: certificate chain: certificate has expired"));
    assert_non_null(strstr(all, "timestamp: timestamp is "));
    assert_non_null(strstr(all, "pcrs: PCR1 is not the expected value"));
    assert_non_null(strstr(all, "nonce: the document's nonce is not the expected one"));
    assert_string_equal(pa_attest_check_name(PA_ATTEST_CHECK_USER_DATA), "user_data");

    /* a null field when one is expected (our own document, no nonce) */
    test_ca ca;
    ca_make(&ca, "nullnonce");
    X509 *bundle[] = {ca.root, ca.inter};
    pa_buf own;
    build_doc(&ca, bundle, 2, MUT_NONE, NULL, 0, &own);
    pa_attest_policy_init(&p, pa_now_ms());
    p.nonce = ones;
    p.nonce_len = 4;
    expect_reject_policy(own.data, own.len, ca.root, &p, "nonce is null");
    pa_buf_free(&own);
    ca_free(&ca);
    X509_free(aws);
    free(doc);
}

/* Another encoding of the same envelope: heads longer than needed. */
static void test_cose_noncanonical_refused(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *doc = read_b64(PROD_DOC, &len);
    X509 *aws = pa_attest_aws_root();
    const int64_t at = ms_at(PROD_TIME);
    /* 84 | 44 a1 01 38 22 | a0 | 59 1d 07 <7431> | 58 60 <96> */
    static const uint8_t head[] = {0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x59, 0x1d, 0x07};
    assert_memory_equal(doc, head, sizeof head);
    size_t payload_len = 0x1d07;
    assert_int_equal(len, sizeof head + payload_len + 2 + 96);
    const uint8_t *payload = doc + sizeof head;
    const uint8_t *sig = doc + len - 96;
    uint8_t *v = malloc(len + 16);
    assert_non_null(v);

    /* builds: array head | protected | unprotected | payload head | payload | sig head | sig */
#define BUILD(ARR, PROT, UNPROT, PH, SH)                                                        \
    do {                                                                                         \
        static const uint8_t a_[] = ARR, p_[] = PROT, u_[] = UNPROT, ph_[] = PH, sh_[] = SH;     \
        size_t n_ = 0;                                                                           \
        memcpy(v + n_, a_, sizeof a_), n_ += sizeof a_;                                          \
        memcpy(v + n_, p_, sizeof p_), n_ += sizeof p_;                                          \
        memcpy(v + n_, u_, sizeof u_), n_ += sizeof u_;                                          \
        memcpy(v + n_, ph_, sizeof ph_), n_ += sizeof ph_;                                       \
        memcpy(v + n_, payload, payload_len), n_ += payload_len;                                 \
        memcpy(v + n_, sh_, sizeof sh_), n_ += sizeof sh_;                                       \
        memcpy(v + n_, sig, 96), n_ += 96;                                                       \
        vlen = n_;                                                                               \
    } while (0)
#define L(...) {__VA_ARGS__}
    size_t vlen = 0;
    static pa_attest_claims c;
    BUILD(L(0x84), L(0x44, 0xa1, 0x01, 0x38, 0x22), L(0xa0), L(0x59, 0x1d, 0x07), L(0x58, 0x60));
    assert_int_equal(vlen, len);
    expect_accept(v, vlen, aws, at, &c); /* control: the original bytes */
    BUILD(L(0x84), L(0x58, 0x04, 0xa1, 0x01, 0x38, 0x22), L(0xa0), L(0x59, 0x1d, 0x07),
          L(0x58, 0x60));
    expect_reject(v, vlen, aws, at, "canonical");
    BUILD(L(0x84), L(0x44, 0xa1, 0x01, 0x38, 0x22), L(0xb8, 0x00), L(0x59, 0x1d, 0x07),
          L(0x58, 0x60));
    expect_reject(v, vlen, aws, at, "canonical");
    BUILD(L(0x84), L(0x44, 0xa1, 0x01, 0x38, 0x22), L(0xa0), L(0x5a, 0x00, 0x00, 0x1d, 0x07),
          L(0x58, 0x60));
    expect_reject(v, vlen, aws, at, "canonical");
    BUILD(L(0x84), L(0x44, 0xa1, 0x01, 0x38, 0x22), L(0xa0), L(0x59, 0x1d, 0x07),
          L(0x59, 0x00, 0x60));
    expect_reject(v, vlen, aws, at, "canonical");
    BUILD(L(0x98, 0x04), L(0x44, 0xa1, 0x01, 0x38, 0x22), L(0xa0), L(0x59, 0x1d, 0x07),
          L(0x58, 0x60));
    expect_reject(v, vlen, aws, at, "array of 4");
    /* the protected map itself re-encoded ({1: -35} with a long negint) */
    BUILD(L(0x84), L(0x45, 0xa1, 0x01, 0x39, 0x00, 0x22), L(0xa0), L(0x59, 0x1d, 0x07),
          L(0x58, 0x60));
    expect_reject(v, vlen, aws, at, "protected header");
#undef BUILD
#undef L
    free(v);
    X509_free(aws);
    free(doc);
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
    pa_attest_policy policy;
    static pa_attest_result res;
    pa_attest_policy_init(&policy, ms_at(PROD_TIME));
    assert_int_equal(pa_attest_verify(doc, len, NULL, &policy, &c, &res), -1);
    assert_int_equal(pa_attest_verify(doc, len, root, &policy, NULL, &res), -1);
    assert_int_equal(pa_attest_verify(doc, len, root, NULL, &c, &res), -1);
    assert_int_equal(pa_attest_verify(doc, len, root, &policy, &c, NULL), -1);
    assert_int_equal(pa_attest_verify(doc, len, root, &policy, &c, &res), 0); /* control */
    policy.at_ms = 0; /* the time of the check is never implied */
    assert_int_equal(pa_attest_verify(doc, len, root, &policy, &c, &res), -1);
    assert_int_equal(res.status[PA_ATTEST_CHECK_FORMAT], PA_ATTEST_FAIL);
    policy.at_ms = -1;
    assert_int_equal(pa_attest_verify(doc, len, root, &policy, &c, &res), -1);
    pa_attest_policy_init(&policy, ms_at(PROD_TIME));
    policy.max_skew_ms = -1;
    assert_int_equal(pa_attest_verify(doc, len, root, &policy, &c, &res), -1);
    pa_attest_policy_init(&policy, ms_at(PROD_TIME));
    policy.nonce_len = 3; /* a length without a value */
    assert_int_equal(pa_attest_verify(doc, len, root, &policy, &c, &res), -1);
    assert_int_equal(pa_attest_policy_expect_pcr(&policy, 32, c.pcrs[0]), -1);
    expect_reject(doc, 0, root, 0, "size");
    /* a tiny output buffer is fine */
    assert_int_equal(verify(doc, len - 1, root, 0, 0, &c, err, 1), -1);
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
    expect_reject(big_array, sizeof big_array, root, 0, "array of 4");
    expect_reject(big_map, sizeof big_map, root, 0, "array of 4");
    expect_reject(big_bstr, sizeof big_bstr, root, 0, "malformed CBOR");
    expect_reject(indef_array, sizeof indef_array, root, 0, "array of 4");
    expect_reject(indef_bstr, sizeof indef_bstr, root, 0, "malformed CBOR");
    expect_reject(lone_break, sizeof lone_break, root, 0, "array of 4");
    expect_reject(reserved, sizeof reserved, root, 0, "array of 4");
    expect_reject(empty_array, sizeof empty_array, root, 0, "array of 4");
    expect_reject(tag_only, sizeof tag_only, root, 0, "array of 4");
    expect_reject(tag_tag, sizeof tag_tag, root, 0, "only one COSE tag 18");

    /* deep nesting */
    uint8_t deep[4000];
    memset(deep, 0x81, sizeof deep);
    deep[sizeof deep - 1] = 0x00;
    expect_reject(deep, sizeof deep, root, 0, "array of 4");
    deep[0] = 0x84; /* an array of 4 whose first item nests deeply */
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
    assert_memory_equal(c.pcrs[0], pa_attest_pcr0(p), PA_PCR_LEN);
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
    assert_memory_equal(c.pcrs[0], pa_attest_pcr0(p), PA_PCR_LEN);
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
            verify(doc.data, doc.len, w->root, 0, 0, &c, err, sizeof err) == 0 &&
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

/* ---- the tamper cases shared with the JavaScript verifier ------------------- */

/* tests/data/nitro/tamper_cases.json: the same cases (and the same one-bit
 * sweep) web/test/attest.test.mjs runs through the browser/Node CryptoHelper,
 * so both verifiers refuse the same documents for the same reasons. The file's
 * "about" says what each field means. */
#define TAMPER_CASES NITRO_DIR "/tamper_cases.json"

static uint8_t *apply_edits(const uint8_t *doc, size_t len, const json_t *edits, size_t *out_len)
{
    size_t cap = len + 64;
    uint8_t *d = malloc(cap);
    assert_non_null(d);
    memcpy(d, doc, len);
    size_t n = len;
    size_t i;
    const json_t *e;
    json_array_foreach(edits, i, e) {
        const char *op = json_string_value(json_object_get(e, "op"));
        assert_non_null(op);
        json_int_t at = json_integer_value(json_object_get(e, "at"));
        size_t pos = at < 0 ? n - (size_t)(-at) : (size_t)at;
        if (strcmp(op, "xor") == 0) {
            assert_true(pos < n);
            d[pos] ^= (uint8_t)json_integer_value(json_object_get(e, "mask"));
        } else if (strcmp(op, "truncate") == 0) {
            size_t to = (size_t)json_integer_value(json_object_get(e, "length"));
            assert_true(to <= n);
            n = to;
        } else {
            const char *hex = json_string_value(json_object_get(e, "hex"));
            assert_non_null(hex);
            uint8_t ins[16];
            size_t ins_len = strlen(hex) / 2;
            assert_true(ins_len <= sizeof ins);
            assert_int_equal(pa_hex_decode_exact(hex, ins, ins_len), 0);
            size_t del = 0;
            if (strcmp(op, "append") == 0) {
                pos = n;
            } else {
                assert_string_equal(op, "splice");
                del = (size_t)json_integer_value(json_object_get(e, "delete"));
            }
            assert_true(pos + del <= n && n - del + ins_len <= cap);
            memmove(d + pos + ins_len, d + pos + del, n - pos - del);
            memcpy(d + pos, ins, ins_len);
            n = n - del + ins_len;
        }
    }
    *out_len = n;
    return d;
}

static void test_shared_tamper_cases(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *file = json_load_file(TAMPER_CASES, 0, &jerr);
    if (file == NULL)
        fail_msg("%s: %s", TAMPER_CASES, jerr.text);
    X509 *root = pa_attest_aws_root();
    assert_non_null(root);
    const json_t *docs = json_object_get(file, "documents");
    const json_t *cases = json_object_get(file, "cases");
    assert_true(json_array_size(cases) > 30);
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *which = json_string_value(json_object_get(docs, json_string_value(
                                                                        json_object_get(c, "doc"))));
        assert_non_null(name);
        assert_non_null(which);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", NITRO_DIR, which);
        size_t len = 0, vlen = 0;
        uint8_t *doc = read_b64(path, &len);
        uint8_t *v = apply_edits(doc, len, json_object_get(c, "edits"), &vlen);

        pa_attest_policy policy;
        pa_attest_policy_init(&policy, ms_at(json_string_value(json_object_get(c, "at"))));
        policy.max_skew_ms = json_integer_value(json_object_get(c, "max_skew_s")) * 1000;
        policy.allow_debug = json_is_true(json_object_get(c, "allow_debug"));
        uint8_t pcr0[PA_PCR_LEN], nonce[PA_ATTEST_FIELD_MAX];
        const char *pcr0_hex = json_string_value(json_object_get(c, "pcr0_hex"));
        const char *nonce_hex = json_string_value(json_object_get(c, "nonce_hex"));
        if (pcr0_hex != NULL) {
            assert_int_equal(pa_hex_decode_exact(pcr0_hex, pcr0, PA_PCR_LEN), 0);
            assert_int_equal(pa_attest_policy_expect_pcr(&policy, 0, pcr0), 0);
        }
        if (nonce_hex != NULL) {
            policy.nonce_len = strlen(nonce_hex) / 2;
            assert_int_equal(pa_hex_decode_exact(nonce_hex, nonce, policy.nonce_len), 0);
            policy.nonce = nonce;
        }
        static pa_attest_claims claims;
        static pa_attest_result res;
        int rc = pa_attest_verify(v, vlen, root, &policy, &claims, &res);
        char err[2048];
        pa_attest_result_failures(&res, ~0u, err, sizeof err);
        const char *expect = json_string_value(json_object_get(c, "expect"));
        if (strcmp(expect, "accept") == 0) {
            if (rc != 0)
                fail_msg("case \"%s\": refused: %s", name, err);
        } else {
            const char *check = json_string_value(json_object_get(c, "check"));
            const char *reason = json_string_value(json_object_get(c, "reason"));
            if (rc == 0)
                fail_msg("case \"%s\": accepted", name);
            int id = -1;
            for (int k = 0; k < PA_ATTEST_CHECK_COUNT; k++)
                if (strcmp(pa_attest_check_name((pa_attest_check_id)k), check) == 0)
                    id = k;
            if (id < 0 || res.status[id] != PA_ATTEST_FAIL || strstr(res.detail[id], reason) == NULL)
                fail_msg("case \"%s\": expected \"%s\" under %s, got \"%s\"", name, reason, check,
                         err);
        }
        free(v);
        free(doc);
    }

    /* the one-bit sweep */
    const json_t *sw = json_object_get(file, "sweep");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", NITRO_DIR,
             json_string_value(json_object_get(docs, json_string_value(json_object_get(sw, "doc")))));
    size_t len = 0;
    uint8_t *doc = read_b64(path, &len);
    int64_t at = ms_at(json_string_value(json_object_get(sw, "at")));
    size_t head = (size_t)json_integer_value(json_object_get(sw, "dense_head"));
    size_t tail = (size_t)json_integer_value(json_object_get(sw, "dense_tail"));
    size_t step = (size_t)json_integer_value(json_object_get(sw, "step"));
    assert_true(step > 0 && tail < len);
    size_t tried = 0;
    for (size_t k = 0; k < len; k += (k < head || k >= len - tail) ? 1 : step) {
        uint8_t bit = (uint8_t)(1u << (k % 8));
        doc[k] ^= bit;
        expect_reject(doc, len, root, at, NULL);
        doc[k] ^= bit;
        tried++;
    }
    assert_true(tried > 1000);
    static pa_attest_claims c2;
    expect_accept(doc, len, root, at, &c2);
    free(doc);
    X509_free(root);
    json_decref(file);
}

/* tests/data/nitro/chain_cases.json: documents signed by chains made with the
 * openssl CLI (make_chain_cases.mjs), each breaking one X.509 rule; the
 * JavaScript verifier runs them too (web/test/attest.test.mjs). */
#define CHAIN_CASES NITRO_DIR "/chain_cases.json"

static void test_shared_chain_cases(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *file = json_load_file(CHAIN_CASES, 0, &jerr);
    if (file == NULL)
        fail_msg("%s: %s", CHAIN_CASES, jerr.text);
    const json_t *roots = json_object_get(file, "roots");
    const json_t *cases = json_object_get(file, "cases");
    assert_true(json_array_size(cases) > 20);
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *pem = json_string_value(
            json_object_get(roots, json_string_value(json_object_get(c, "root"))));
        const char *doc_b64 = json_string_value(json_object_get(c, "doc"));
        assert_non_null(name);
        assert_non_null(pem);
        assert_non_null(doc_b64);
        BIO *bio = BIO_new_mem_buf(pem, -1);
        assert_non_null(bio);
        X509 *root = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        assert_non_null(root);
        uint8_t *doc = NULL;
        size_t len = 0;
        assert_int_equal(pa_b64_decode(doc_b64, strlen(doc_b64), &doc, &len), 0);

        pa_attest_policy policy;
        pa_attest_policy_init(&policy, ms_at(json_string_value(json_object_get(c, "at"))));
        static pa_attest_claims claims;
        static pa_attest_result res;
        int rc = pa_attest_verify(doc, len, root, &policy, &claims, &res);
        char err[2048];
        pa_attest_result_failures(&res, ~0u, err, sizeof err);
        if (strcmp(json_string_value(json_object_get(c, "expect")), "accept") == 0) {
            if (rc != 0)
                fail_msg("case \"%s\": refused: %s", name, err);
        } else {
            const char *check = json_string_value(json_object_get(c, "check"));
            const char *reason = json_string_value(json_object_get(c, "reason"));
            int id = -1;
            for (int k = 0; k < PA_ATTEST_CHECK_COUNT; k++)
                if (strcmp(pa_attest_check_name((pa_attest_check_id)k), check) == 0)
                    id = k;
            if (rc == 0 || id < 0 || res.status[id] != PA_ATTEST_FAIL ||
                strstr(res.detail[id], reason) == NULL)
                fail_msg("case \"%s\": expected \"%s\" under %s, got \"%s\"", name, reason, check,
                         rc == 0 ? "accepted" : err);
        }
        free(doc);
        X509_free(root);
    }
    json_decref(file);
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
        cmocka_unit_test(test_backdated_document_refused_live),
        cmocka_unit_test(test_ca_signed_document_refused),
        cmocka_unit_test(test_self_made_root_refused),
        cmocka_unit_test(test_expectations_refused),
        cmocka_unit_test(test_cose_noncanonical_refused),
        cmocka_unit_test(test_dev_round_trip),
        cmocka_unit_test(test_dev_open_refuses_bad_state),
        cmocka_unit_test(test_dev_concurrent_documents),
        cmocka_unit_test(test_leaf_renewal_policy),
        cmocka_unit_test(test_key_binding_vector),
        cmocka_unit_test(test_shared_tamper_cases),
        cmocka_unit_test(test_shared_chain_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
