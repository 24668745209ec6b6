/* libperfagg_client and the perfagg CLI.
 *
 * Result bundles here are real: a development attestation platform (its own
 * P-384 CA in a temporary directory, PCR0 = SHA-384 of this test binary)
 * attests a fresh X25519/Ed25519 key pair, the Ed25519 key signs JCS of a
 * payload, and the logs carry the RFC 6962 audit entries. Each tampering must
 * fail exactly the check that is about it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_child.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/sha.h>

#include "attest_internal.h"
#include "attest_produce.h"
#include "attest_verify.h"
#include "codec.h"
#include "credentials.h"
#include "envelope_keys.h"
#include "envelope_open.h"
#include "envelope_seal.h"
#include "exchange_hosts.h"
#include "jcs.h"
#include "json_strict.h"
#include "merkle.h"
#include "perfagg_client.h"
#include "timeutil.h"
#include "uuid.h"

#define NITRO_DIR PA_SOURCE_DIR "/tests/data/nitro"
#define PROD_PCR0_HEX                                                                              \
    "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9f" \
    "e86a"
/* The real documents' timestamps (tests/data/nitro/README.md); their leaf is
 * valid 14:37:36 .. 17:37:39Z. */
#define PROD_TIME "2024-09-07T14:37:39.545Z"
#define DEBUG_TIME "2024-09-07T14:38:06.508Z"

typedef struct {
    char dir[64];
    char root_path[128];
    char other_root_path[128];
    pa_attest_platform *platform;
    pa_attest_platform *other_platform; /* a second dev CA: the "wrong root" */
    X509 *root, *other_root;
    EVP_PKEY *enclave_key, *signing_key, *other_signing_key;
    uint8_t enclave_pub[32], signing_pub[32], other_signing_pub[32];
    char pcr0_hex[PA_CLIENT_HEX_PCR_LEN];
    /* a CA of the test's own, to make documents the platform never would
     * (backdated, from the future) */
    EVP_PKEY *tca_root_key, *tca_inter_key;
    X509 *tca_root, *tca_inter;
    char tca_root_path[128];
} fixture;

static fixture fx;

/* ---- helpers -------------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static X509 *root_from_platform(const pa_attest_platform *p, const char *path)
{
    char *pem = pa_attest_root_pem(p);
    assert_non_null(pem);
    write_text(path, pem);
    free(pem);
    X509 *root = pa_client_load_root(path);
    assert_non_null(root);
    return root;
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    /* The CLI reads it; the tests say explicitly when it is set. */
    unsetenv("PERFAGG_IMAGE_HASH");
    snprintf(fx.dir, sizeof fx.dir, "/tmp/pa_test_client.XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    char ca[128];
    snprintf(ca, sizeof ca, "%s/ca", fx.dir);
    fx.platform = pa_attest_dev_open(ca, "/proc/self/exe");
    assert_non_null(fx.platform);
    snprintf(ca, sizeof ca, "%s/other-ca", fx.dir);
    fx.other_platform = pa_attest_dev_open(ca, "/proc/self/exe");
    assert_non_null(fx.other_platform);
    snprintf(fx.root_path, sizeof fx.root_path, "%s/root.pem", fx.dir);
    snprintf(fx.other_root_path, sizeof fx.other_root_path, "%s/other-root.pem", fx.dir);
    fx.root = root_from_platform(fx.platform, fx.root_path);
    fx.other_root = root_from_platform(fx.other_platform, fx.other_root_path);

    fx.enclave_key = pa_x25519_generate();
    fx.signing_key = pa_ed25519_generate();
    fx.other_signing_key = pa_ed25519_generate();
    assert_non_null(fx.enclave_key);
    assert_non_null(fx.signing_key);
    assert_non_null(fx.other_signing_key);
    assert_int_equal(pa_raw_public_key(fx.enclave_key, fx.enclave_pub), 0);
    assert_int_equal(pa_raw_public_key(fx.signing_key, fx.signing_pub), 0);
    assert_int_equal(pa_raw_public_key(fx.other_signing_key, fx.other_signing_pub), 0);
    pa_hex_encode(pa_attest_pcr0(fx.platform), PA_PCR_LEN, fx.pcr0_hex);

    int64_t now = time(NULL);
    fx.tca_root_key = pa_devca_keygen();
    fx.tca_inter_key = pa_devca_keygen();
    assert_non_null(fx.tca_root_key);
    assert_non_null(fx.tca_inter_key);
    fx.tca_root = pa_devca_issue(fx.tca_root_key, "test CA root", PA_DEVCA_ROOT, NULL,
                                 fx.tca_root_key, now - 365 * 86400, now + 365 * 86400);
    fx.tca_inter = pa_devca_issue(fx.tca_inter_key, "test CA intermediate", PA_DEVCA_INTERMEDIATE,
                                  fx.tca_root, fx.tca_root_key, now - 365 * 86400,
                                  now + 365 * 86400);
    assert_non_null(fx.tca_root);
    assert_non_null(fx.tca_inter);
    snprintf(fx.tca_root_path, sizeof fx.tca_root_path, "%s/test-ca-root.pem", fx.dir);
    FILE *f = fopen(fx.tca_root_path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, fx.tca_root), 1);
    assert_int_equal(fclose(f), 0);
    return 0;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        remove_tree(sub);
    }
    closedir(d);
    rmdir(path);
}

static int teardown(void **state)
{
    (void)state;
    pa_attest_platform_free(fx.platform);
    pa_attest_platform_free(fx.other_platform);
    X509_free(fx.root);
    X509_free(fx.other_root);
    EVP_PKEY_free(fx.enclave_key);
    EVP_PKEY_free(fx.signing_key);
    EVP_PKEY_free(fx.other_signing_key);
    EVP_PKEY_free(fx.tca_root_key);
    EVP_PKEY_free(fx.tca_inter_key);
    X509_free(fx.tca_root);
    X509_free(fx.tca_inter);
    if (getenv("PA_TEST_KEEP") == NULL)
        remove_tree(fx.dir);
    return 0;
}

static void set_str(json_t *obj, const char *key, const char *value)
{
    assert_int_equal(json_object_set_new(obj, key, json_string(value)), 0);
}

static char *b64(const uint8_t *data, size_t len)
{
    char *s = pa_b64_encode(data, len);
    assert_non_null(s);
    return s;
}

/* ---- building real bundles -------------------------------------------------------- */

typedef struct {
    const char *payload_image_hash; /* NULL: the platform's PCR0 */
    const char *type;               /* NULL: perfagg/v1/aggregates */
    int attest_other_payload;       /* document nonce = SHA-256 of something else */
    int bind_other_signing_key;     /* user_data binds another signing key */
    int nentries;                   /* audit entries (fetch pages + window); 0 -> 5 */
    const char *challenge;          /* NULL: null */
    const char *label;              /* NULL: "main" */
    const char *issued_at;          /* NULL: now (the attestation is made now too) */
    const char *environment;        /* NULL: "development" */
    const char *base_url;           /* NULL: "http://127.0.0.1:9" (a simulator) */
} bundle_opts;

static json_t *audit_entry(int i, int n)
{
    if (i == n - 1)
        return json_pack("{s:s, s:s, s:s, s:[s,s], s:i}", "type", "window", "from",
                         "2024-01-01T00:00:00.000Z", "to", "2024-01-31T00:00:00.000Z", "symbols",
                         "BTCUSDT", "ETHUSDT", "fills", 1234);
    return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i}", "type", "fetch", "endpoint",
                     "/api/v3/myTrades", "symbol", i % 2 ? "ETHUSDT" : "BTCUSDT", "page", i / 2,
                     "count", 1000 - i, "first_id", 100000 + 1000 * i, "last_id",
                     100999 + 1000 * i);
}

static json_t *make_bundle(const bundle_opts *o)
{
    int n = o->nentries ? o->nentries : 5;
    char result_id[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(result_id), 0);

    /* The audit log, as the enclave keeps it. */
    pa_audit_log log;
    pa_audit_init(&log);
    for (int i = 0; i < n; i++) {
        json_t *e = audit_entry(i, n);
        assert_non_null(e);
        assert_int_equal(pa_audit_append(&log, e), 0);
        json_decref(e);
    }
    uint8_t root[PA_HASH_LEN];
    char root_hex[2 * PA_HASH_LEN + 1];
    assert_int_equal(pa_audit_root(&log, root), 0);
    pa_hex_encode(root, sizeof root, root_hex);

    char now_text[PA_TIME_STR_LEN];
    pa_time_format(pa_now_ms(), now_text);
    json_t *payload = json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:i, s:i, s:i, s:f, s:s, s:s, s:s, s:s,"
        " s:s, s:n, s:s, s:{s:s, s:s, s:[s,s], s:s}}",
        "type", o->type ? o->type : "perfagg/v1/aggregates", "version", 1, "result_id", result_id,
        "exchange", "binance", "label", "main", "currency", "USDT", "pnl", 1234.56789012,
        "volume", 98765.4321, "sharpe", 1.2345678, "trades", 42, "excluded_trades", 3,
        "unpriced_fees", 0, "unmatched_qty", 0.001, "from", "2024-01-01T00:00:00.000Z", "to",
        "2024-01-31T00:00:00.000Z", "merkle_root", root_hex, "issued_at",
        o->issued_at ? o->issued_at : now_text, "image_hash",
        o->payload_image_hash ? o->payload_image_hash : fx.pcr0_hex, "challenge", "environment",
        o->environment ? o->environment : "development", "scope", "exchange_base_url",
        o->base_url ? o->base_url : "http://127.0.0.1:9", "account_type",
        "spot", "symbols", "BTCUSDT", "ETHUSDT", "symbol_source", "client");
    assert_non_null(payload);
    if (o->challenge != NULL)
        set_str(payload, "challenge", o->challenge);
    if (o->label != NULL)
        set_str(payload, "label", o->label);

    /* What the enclave signs and attests. */
    char *jcs = pa_jcs_dumps(payload);
    assert_non_null(jcs);
    uint8_t sig[PA_SIGNATURE_LEN];
    assert_int_equal(pa_ed25519_sign(fx.signing_key, (const uint8_t *)jcs, strlen(jcs), sig), 0);
    uint8_t nonce[32];
    if (o->attest_other_payload) {
        const char other[] = "{\"type\":\"perfagg/v1/aggregates\",\"pnl\":1e+21}";
        SHA256((const unsigned char *)other, strlen(other), nonce);
    } else {
        SHA256((const unsigned char *)jcs, strlen(jcs), nonce);
    }
    uint8_t binding[32];
    pa_attest_key_binding(fx.enclave_pub,
                          o->bind_other_signing_key ? fx.other_signing_pub : fx.signing_pub,
                          binding);
    pa_buf doc;
    pa_buf_init(&doc, 64 * 1024);
    assert_int_equal(
        pa_attest_document(fx.platform, fx.enclave_pub, 32, binding, 32, nonce, 32, &doc), 0);

    char *sig_b64 = b64(sig, sizeof sig), *quote_b64 = b64(doc.data, doc.len);
    char *epk = b64(fx.enclave_pub, 32), *spk = b64(fx.signing_pub, 32);
    char logs_url[64];
    snprintf(logs_url, sizeof logs_url, "/api/logs/%s", result_id);
    json_t *served_payload = json_loads(jcs, 0, NULL);
    assert_non_null(served_payload);
    json_t *response = json_pack(
        "{s:{s:s, s:o}, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "aggregates_signed", "signature",
        sig_b64, "payload", served_payload, "merkle_root", root_hex, "logs_url", logs_url,
        "attestation", "quote", quote_b64, "enclave_pubkey", epk, "signing_pubkey", spk,
        "image_hash", fx.pcr0_hex);
    assert_non_null(response);

    json_t *entries = json_array();
    for (size_t i = 0; i < log.len; i++) {
        uint8_t h[PA_HASH_LEN];
        char hex[2 * PA_HASH_LEN + 1];
        pa_merkle_leaf_hash((const uint8_t *)log.entries[i], strlen(log.entries[i]), h);
        pa_hex_encode(h, sizeof h, hex);
        json_t *entry = json_loads(log.entries[i], 0, NULL);
        assert_non_null(entry);
        assert_int_equal(json_array_append_new(entries, json_pack("{s:i, s:o, s:s}", "index",
                                                                  (int)i, "entry", entry,
                                                                  "leaf_hash", hex)),
                         0);
    }
    json_t *logs = json_pack("{s:s, s:i, s:s, s:o}", "result_id", result_id, "tree_size",
                             (int)log.len, "merkle_root", root_hex, "entries", entries);
    assert_non_null(logs);
    json_t *bundle = json_pack("{s:i, s:o, s:o}", "version", 1, "response", response, "logs", logs);
    assert_non_null(bundle);

    free(sig_b64);
    free(quote_b64);
    free(epk);
    free(spk);
    free(jcs);
    json_decref(payload);
    pa_buf_free(&doc);
    pa_audit_free(&log);
    return bundle;
}

static json_t *valid_bundle(void)
{
    bundle_opts o = {0};
    return make_bundle(&o);
}

/* Bundle checks beyond the image hash (challenge, window); NULL: none. */
static const pa_client_expect *bundle_expect;

static int verify_json(const json_t *bundle, X509 *root, const char *image_hash,
                       pa_verify_report *r)
{
    char *text = json_dumps(bundle, JSON_COMPACT);
    assert_non_null(text);
    pa_client_expect e;
    memset(&e, 0, sizeof e);
    if (bundle_expect != NULL)
        e = *bundle_expect;
    e.image_hash = image_hash;
    int rc = pa_client_verify_bundle(text, strlen(text), root, &e, r);
    free(text);
    return rc;
}

/* The time a live check takes as now (0: the clock). */
static int64_t quote_now_ms;

static int check_quote(const char *json, size_t len, const uint8_t *nonce, size_t nonce_len,
                       X509 *root, const char *image_hash, pa_client_attestation *out)
{
    pa_client_expect e;
    memset(&e, 0, sizeof e);
    e.image_hash = image_hash;
    e.now_ms = quote_now_ms;
    return pa_client_check_quote(json, len, nonce, nonce_len, root, &e, out);
}

static int attest_pinned(const char *url, X509 *root, const char *image_hash,
                         pa_client_attestation *out, pa_client_error *err)
{
    pa_client_expect e;
    memset(&e, 0, sizeof e);
    e.image_hash = image_hash;
    return pa_client_attest(url, root, &e, out, err);
}

static int in_list(const char *name, const char *list)
{
    /* list: space-separated names */
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = sp ? sp + 1 : NULL;
    }
    return 0;
}

/* Every check in `failed` FAILED, every one in `skipped` SKIPPED, all others
 * ok, and every named check present. */
static void expect_report(const pa_verify_report *r, const char *failed, const char *skipped)
{
    for (size_t i = 0; i < r->n; i++) {
        const pa_check *c = &r->checks[i];
        pa_check_status want = in_list(c->name, failed)    ? PA_CHECK_FAILED
                               : in_list(c->name, skipped) ? PA_CHECK_SKIPPED
                                                           : PA_CHECK_OK;
        if (c->status != want)
            fail_msg("check %s is %s (%s), expected %s", c->name, pa_check_status_str(c->status),
                     c->detail, pa_check_status_str(want));
    }
    const char *lists[] = {failed, skipped};
    for (size_t l = 0; l < 2; l++) {
        char copy[512];
        snprintf(copy, sizeof copy, "%s", lists[l] ? lists[l] : "");
        for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
             tok = strtok_r(NULL, " ", &save))
            if (pa_verify_report_get(r, tok) == NULL)
                fail_msg("check %s missing from the report", tok);
    }
    assert_int_equal(pa_verify_report_passed(r), failed == NULL && skipped == NULL);
}

static void expect_tampered(json_t *bundle, X509 *root, const char *expect, const char *failed,
                            const char *skipped)
{
    pa_verify_report r;
    assert_int_equal(verify_json(bundle, root, expect, &r), -1);
    expect_report(&r, failed, skipped);
}

static json_t *path_get(json_t *root, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(root, a);
    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    assert_non_null(v);
    return v;
}

static json_t *payload_of(json_t *bundle)
{
    return path_get(bundle, "response", "aggregates_signed", "payload");
}

static json_t *entry_at(json_t *bundle, size_t i)
{
    json_t *e = json_array_get(path_get(bundle, "logs", "entries", NULL), i);
    assert_non_null(e);
    return e;
}

/* ---- verify: the real thing passes ------------------------------------------------ */

static void test_verify_valid_bundle(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    pa_verify_report r;
    assert_int_equal(verify_json(bundle, fx.root, NULL, &r), 0);
    expect_report(&r, NULL, NULL);
    static const char *const names[] = {
        "bundle_format",     "attestation", "attestation_nonce", "attestation_public_key",
        "attestation_key_binding", "image_hash", "payload_signature", "payload_type",
        "merkle_leaves",     "merkle_root", "result_id", "environment"};
    assert_int_equal(r.n, PA_ARRAY_LEN(names));
    for (size_t i = 0; i < PA_ARRAY_LEN(names); i++)
        assert_string_equal(r.checks[i].name, names[i]);
    assert_int_equal(r.development, 1);
    assert_string_equal(r.environment, "development");

    /* --image-hash, either case. */
    assert_int_equal(verify_json(bundle, fx.root, fx.pcr0_hex, &r), 0);
    assert_non_null(pa_verify_report_get(&r, "expected_image_hash"));
    assert_int_equal(pa_verify_report_get(&r, "expected_image_hash")->status, PA_CHECK_OK);
    char upper[PA_CLIENT_HEX_PCR_LEN];
    for (size_t i = 0; i < sizeof upper; i++)
        upper[i] = (char)((fx.pcr0_hex[i] >= 'a' && fx.pcr0_hex[i] <= 'f') ? fx.pcr0_hex[i] - 32
                                                                           : fx.pcr0_hex[i]);
    assert_int_equal(verify_json(bundle, fx.root, upper, &r), 0);
    json_decref(bundle);
}

/* A bundle whose payload text is not canonical (key order, number spelling)
 * still verifies: the signature is over JCS(payload), not the served text. */
static void test_verify_noncanonical_payload_text(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    char *text = json_dumps(bundle, JSON_INDENT(2)); /* insertion order, spaces */
    assert_non_null(text);
    pa_verify_report r;
    assert_int_equal(pa_client_verify_bundle(text, strlen(text), fx.root, NULL, &r), 0);
    free(text);
    json_decref(bundle);
}

static void test_verify_many_entries(void **state)
{
    (void)state;
    /* 1 (a run with only the window entry) and a non-power of two. */
    int sizes[] = {1, 2, 7, 33};
    for (size_t i = 0; i < PA_ARRAY_LEN(sizes); i++) {
        bundle_opts o = {.nentries = sizes[i]};
        json_t *bundle = make_bundle(&o);
        pa_verify_report r;
        assert_int_equal(verify_json(bundle, fx.root, NULL, &r), 0);
        json_decref(bundle);
    }
}

/* ---- verify: each tampering fails its own check ------------------------------------ */

static void test_tamper_payload_number(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    assert_int_equal(json_object_set_new(payload_of(bundle), "pnl", json_real(99999.5)), 0);
    /* The attestation's nonce commits to the payload as well as the signature. */
    expect_tampered(bundle, fx.root, NULL, "attestation_nonce payload_signature", NULL);
    json_decref(bundle);

    bundle = valid_bundle();
    assert_int_equal(json_object_set_new(payload_of(bundle), "trades", json_integer(43)), 0);
    expect_tampered(bundle, fx.root, NULL, "attestation_nonce payload_signature", NULL);
    json_decref(bundle);

    /* An added field is covered too. */
    bundle = valid_bundle();
    set_str(payload_of(bundle), "note", "audited");
    expect_tampered(bundle, fx.root, NULL, "attestation_nonce payload_signature", NULL);
    json_decref(bundle);
}

static void test_tamper_signature(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    json_t *signed_obj = path_get(bundle, "response", "aggregates_signed", NULL);
    uint8_t sig[PA_SIGNATURE_LEN];
    assert_int_equal(pa_b64_decode_exact(pa_json_str(signed_obj, "signature"), sig, sizeof sig),
                     0);
    sig[17] ^= 0x01;
    char *s = b64(sig, sizeof sig);
    set_str(signed_obj, "signature", s);
    free(s);
    expect_tampered(bundle, fx.root, NULL, "payload_signature", NULL);
    json_decref(bundle);
}

static void test_tamper_wrong_root(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    const char *skipped = "attestation_nonce attestation_public_key attestation_key_binding "
                          "image_hash";
    expect_tampered(bundle, fx.other_root, NULL, "attestation", skipped);

    /* The AWS root: a development document is not a Nitro document. */
    X509 *aws = pa_client_load_root(NULL);
    assert_non_null(aws);
    assert_int_equal(pa_client_root_is_aws(aws), 1);
    pa_verify_report r;
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    assert_int_equal(r.development, 0);
    char skipped_too[256];
    snprintf(skipped_too, sizeof skipped_too, "%s expected_image_hash", skipped);
    /* ... and a development payload is never a production result */
    expect_report(&r, "attestation environment", skipped_too);
    /* ... and without a pinned image the AWS root is refused outright. */
    assert_int_equal(verify_json(bundle, aws, NULL, &r), -1);
    expect_report(&r, "attestation expected_image_hash environment", skipped);
    X509_free(aws);

    /* --image-hash cannot pass on a document that is not authentic. */
    assert_int_equal(verify_json(bundle, fx.other_root, fx.pcr0_hex, &r), -1);
    assert_int_equal(pa_verify_report_get(&r, "expected_image_hash")->status, PA_CHECK_SKIPPED);
    json_decref(bundle);
}

static void test_tamper_entry(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    json_t *entry = json_object_get(entry_at(bundle, 1), "entry");
    assert_int_equal(json_object_set_new(entry, "count", json_integer(7)), 0);
    expect_tampered(bundle, fx.root, NULL, "merkle_leaves merkle_root", NULL);
    json_decref(bundle);

    /* Changed entry with its leaf_hash recomputed: the root still catches it. */
    bundle = valid_bundle();
    json_t *e = entry_at(bundle, 2);
    assert_int_equal(json_object_set_new(json_object_get(e, "entry"), "symbol",
                                         json_string("DOGEUSDT")),
                     0);
    char *jcs = pa_jcs_dumps(json_object_get(e, "entry"));
    uint8_t h[PA_HASH_LEN];
    char hex[2 * PA_HASH_LEN + 1];
    pa_merkle_leaf_hash((const uint8_t *)jcs, strlen(jcs), h);
    pa_hex_encode(h, sizeof h, hex);
    free(jcs);
    set_str(e, "leaf_hash", hex);
    expect_tampered(bundle, fx.root, NULL, "merkle_root", NULL);
    json_decref(bundle);

    /* A dropped entry. */
    bundle = valid_bundle();
    assert_int_equal(json_array_remove(path_get(bundle, "logs", "entries", NULL), 4), 0);
    expect_tampered(bundle, fx.root, NULL, "merkle_leaves merkle_root", NULL);
    json_decref(bundle);
}

static void test_tamper_leaf_hash(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    set_str(entry_at(bundle, 0), "leaf_hash",
            "0000000000000000000000000000000000000000000000000000000000000000");
    /* The root is recomputed from the entries, so only the leaf check fails. */
    expect_tampered(bundle, fx.root, NULL, "merkle_leaves", NULL);
    json_decref(bundle);
}

static void test_tamper_reorder(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    json_t *entries = path_get(bundle, "logs", "entries", NULL);
    json_t *first = json_incref(json_array_get(entries, 0));
    assert_int_equal(json_array_remove(entries, 0), 0);
    assert_int_equal(json_array_insert_new(entries, 1, first), 0);
    expect_tampered(bundle, fx.root, NULL, "merkle_leaves merkle_root", NULL);

    /* Renumbered to look in order: the root still differs. */
    for (size_t i = 0; i < json_array_size(entries); i++)
        assert_int_equal(
            json_object_set_new(json_array_get(entries, i), "index", json_integer((json_int_t)i)),
            0);
    expect_tampered(bundle, fx.root, NULL, "merkle_root", NULL);
    json_decref(bundle);
}

static void test_tamper_merkle_root(void **state)
{
    (void)state;
    const char *zero = "1111111111111111111111111111111111111111111111111111111111111111";
    json_t *bundle = valid_bundle();
    set_str(json_object_get(bundle, "logs"), "merkle_root", zero);
    expect_tampered(bundle, fx.root, NULL, "merkle_root", NULL);
    json_decref(bundle);

    bundle = valid_bundle();
    set_str(json_object_get(bundle, "response"), "merkle_root", zero);
    expect_tampered(bundle, fx.root, NULL, "merkle_root", NULL);
    json_decref(bundle);

    bundle = valid_bundle();
    set_str(payload_of(bundle), "merkle_root", zero);
    expect_tampered(bundle, fx.root, NULL,
                    "attestation_nonce payload_signature merkle_root", NULL);
    json_decref(bundle);

    /* tree_size that disagrees with the entries. */
    bundle = valid_bundle();
    assert_int_equal(json_object_set_new(json_object_get(bundle, "logs"), "tree_size",
                                         json_integer(6)),
                     0);
    expect_tampered(bundle, fx.root, NULL, "merkle_leaves", NULL);
    json_decref(bundle);
}

static void test_tamper_image_hash(void **state)
{
    (void)state;
    char other[PA_CLIENT_HEX_PCR_LEN];
    memset(other, 'a', sizeof other - 1);
    other[sizeof other - 1] = 0;

    json_t *bundle = valid_bundle();
    set_str(path_get(bundle, "response", "attestation", NULL), "image_hash", other);
    expect_tampered(bundle, fx.root, NULL, "image_hash", NULL);
    json_decref(bundle);

    /* A correctly signed payload claiming another image. */
    bundle_opts o = {.payload_image_hash = other};
    bundle = make_bundle(&o);
    expect_tampered(bundle, fx.root, NULL, "image_hash", NULL);
    json_decref(bundle);

    /* --image-hash of another image. */
    bundle = valid_bundle();
    expect_tampered(bundle, fx.root, other, "expected_image_hash", NULL);
    expect_tampered(bundle, fx.root, PROD_PCR0_HEX, "expected_image_hash", NULL);
    expect_tampered(bundle, fx.root, "not-hex", "expected_image_hash", NULL);
    json_decref(bundle);
}

static void test_tamper_nonce_binding(void **state)
{
    (void)state;
    /* The attestation of another payload, with a valid signature on this one. */
    bundle_opts o = {.attest_other_payload = 1};
    json_t *bundle = make_bundle(&o);
    expect_tampered(bundle, fx.root, NULL, "attestation_nonce", NULL);
    json_decref(bundle);

    /* An attestation from a different bundle spliced in. */
    json_t *a = valid_bundle(), *b = valid_bundle();
    json_object_set(json_object_get(a, "response"), "attestation",
                    path_get(b, "response", "attestation", NULL));
    expect_tampered(a, fx.root, NULL, "attestation_nonce", NULL);
    json_decref(a);
    json_decref(b);
}

static void test_tamper_keys(void **state)
{
    (void)state;
    /* user_data binds another signing key than the one that signed. */
    bundle_opts o = {.bind_other_signing_key = 1};
    json_t *bundle = make_bundle(&o);
    expect_tampered(bundle, fx.root, NULL, "attestation_key_binding", NULL);
    json_decref(bundle);

    /* signing_pubkey swapped for a key the attacker holds (and re-signed). */
    bundle = valid_bundle();
    json_t *payload = payload_of(bundle);
    assert_int_equal(json_object_set_new(payload, "pnl", json_real(1e6)), 0);
    char *jcs = pa_jcs_dumps(payload);
    uint8_t sig[PA_SIGNATURE_LEN];
    assert_int_equal(pa_ed25519_sign(fx.other_signing_key, (const uint8_t *)jcs, strlen(jcs), sig),
                     0);
    free(jcs);
    char *s = b64(sig, sizeof sig), *k = b64(fx.other_signing_pub, 32);
    set_str(path_get(bundle, "response", "aggregates_signed", NULL), "signature", s);
    set_str(path_get(bundle, "response", "attestation", NULL), "signing_pubkey", k);
    free(s);
    free(k);
    expect_tampered(bundle, fx.root, NULL, "attestation_nonce attestation_key_binding", NULL);
    json_decref(bundle);

    /* enclave_pubkey swapped: the document's public_key and binding disagree. */
    bundle = valid_bundle();
    uint8_t fake[32];
    memset(fake, 0x42, sizeof fake);
    k = b64(fake, sizeof fake);
    set_str(path_get(bundle, "response", "attestation", NULL), "enclave_pubkey", k);
    free(k);
    expect_tampered(bundle, fx.root, NULL, "attestation_public_key attestation_key_binding",
                    NULL);
    json_decref(bundle);
}

static void test_tamper_type_and_ids(void **state)
{
    (void)state;
    bundle_opts o = {.type = "perfagg/v1/something-else"};
    json_t *bundle = make_bundle(&o);
    expect_tampered(bundle, fx.root, NULL, "payload_type", NULL);
    json_decref(bundle);

    bundle = valid_bundle();
    char other[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(other), 0);
    set_str(json_object_get(bundle, "logs"), "result_id", other);
    expect_tampered(bundle, fx.root, NULL, "result_id", NULL);
    json_decref(bundle);
}

/* Malformed bundles fail bundle_format and nothing else is claimed. */
static void expect_format_failure(const char *text)
{
    pa_verify_report r;
    assert_int_equal(pa_client_verify_bundle(text, strlen(text), fx.root, NULL, &r), -1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.checks[0].name, "bundle_format");
    assert_int_equal(r.checks[0].status, PA_CHECK_FAILED);
}

static void expect_format_failure_json(json_t *bundle)
{
    char *text = json_dumps(bundle, JSON_COMPACT);
    assert_non_null(text);
    expect_format_failure(text);
    free(text);
    json_decref(bundle);
}

static void test_malformed_bundles(void **state)
{
    (void)state;
    expect_format_failure("");
    expect_format_failure("not json");
    expect_format_failure("[]");
    expect_format_failure("{\"version\":1}");
    expect_format_failure("{\"version\":1,\"response\":{},\"logs\":{}}");

    /* Truncated and with a duplicate key. */
    json_t *bundle = valid_bundle();
    char *text = json_dumps(bundle, JSON_COMPACT);
    size_t len = strlen(text);
    text[len / 2] = 0;
    expect_format_failure(text);
    free(text);
    text = json_dumps(bundle, JSON_COMPACT);
    char *dup = malloc(strlen(text) + 32);
    assert_non_null(dup);
    snprintf(dup, strlen(text) + 32, "{\"version\":1,%s", text + 1);
    expect_format_failure(dup);
    free(dup);
    free(text);
    json_decref(bundle);

    /* Each required piece missing or of the wrong type. */
    static const char *const removals[][3] = {
        {"version", NULL, NULL},
        {"response", NULL, NULL},
        {"logs", NULL, NULL},
        {"response", "aggregates_signed", NULL},
        {"response", "merkle_root", NULL},
        {"response", "logs_url", NULL},
        {"response", "attestation", NULL},
        {"logs", "entries", NULL},
        {"logs", "tree_size", NULL},
        {"logs", "result_id", NULL},
        {"logs", "merkle_root", NULL},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(removals); i++) {
        bundle = valid_bundle();
        json_t *parent = removals[i][1] ? json_object_get(bundle, removals[i][0]) : bundle;
        const char *key = removals[i][1] ? removals[i][1] : removals[i][0];
        assert_int_equal(json_object_del(parent, key), 0);
        expect_format_failure_json(bundle);
    }
    static const char *const payload_fields[] = {"type",  "version",     "result_id",
                                                 "pnl",   "volume",      "sharpe",
                                                 "trades", "merkle_root", "image_hash",
                                                 "from",  "to",          "environment"};
    for (size_t i = 0; i < PA_ARRAY_LEN(payload_fields); i++) {
        bundle = valid_bundle();
        assert_int_equal(json_object_del(payload_of(bundle), payload_fields[i]), 0);
        expect_format_failure_json(bundle);
    }
    static const char *const attestation_fields[] = {"quote", "enclave_pubkey", "signing_pubkey",
                                                     "image_hash"};
    for (size_t i = 0; i < PA_ARRAY_LEN(attestation_fields); i++) {
        bundle = valid_bundle();
        set_str(path_get(bundle, "response", "attestation", NULL), attestation_fields[i],
                "!!not base64 or hex!!");
        expect_format_failure_json(bundle);
    }

    bundle = valid_bundle();
    assert_int_equal(json_object_set_new(bundle, "version", json_integer(2)), 0);
    expect_format_failure_json(bundle);

    bundle = valid_bundle();
    set_str(bundle, "session_id", "00000000-0000-4000-8000-000000000000");
    expect_format_failure_json(bundle);

    bundle = valid_bundle();
    set_str(path_get(bundle, "response", "aggregates_signed", NULL), "signature", "AAAA");
    expect_format_failure_json(bundle);

    bundle = valid_bundle();
    assert_int_equal(json_object_set_new(payload_of(bundle), "pnl", json_string("1234.5")), 0);
    expect_format_failure_json(bundle);

    bundle = valid_bundle();
    assert_int_equal(json_object_set_new(entry_at(bundle, 0), "index", json_string("0")), 0);
    expect_format_failure_json(bundle);

    bundle = valid_bundle();
    assert_int_equal(json_object_set_new(entry_at(bundle, 0), "entry", json_string("{}")), 0);
    expect_format_failure_json(bundle);

    /* The quote is base64, but not an attestation document. */
    bundle = valid_bundle();
    set_str(path_get(bundle, "response", "attestation", NULL), "quote", "aGVsbG8=");
    expect_tampered(bundle, fx.root, NULL, "attestation",
                    "attestation_nonce attestation_public_key attestation_key_binding "
                    "image_hash");
    json_decref(bundle);
}

static void test_bundle_summary(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    char *text = json_dumps(bundle, JSON_COMPACT);
    pa_client_summary s;
    assert_int_equal(pa_client_bundle_summary(text, strlen(text), &s), 0);
    assert_string_equal(s.pnl, "1234.56789012");
    assert_string_equal(s.sharpe, "1.2345678");
    assert_string_equal(s.volume, "98765.4321");
    assert_string_equal(s.trades, "42");
    assert_string_equal(s.unmatched_qty, "0.001");
    assert_string_equal(s.from, "2024-01-01T00:00:00.000Z");
    assert_string_equal(s.exchange, "binance");
    assert_string_equal(s.environment, "development");
    assert_string_equal(s.challenge, "");
    assert_string_equal(s.symbol_source, "client");
    assert_int_equal(s.nsymbols, 2);
    assert_int_equal(pa_client_bundle_summary("{}", 2, &s), -1);
    assert_int_equal(s.has_returns, 0); /* a payload from before issue 7 */
    free(text);
    json_decref(bundle);
}

/* The returns and risk fields (docs/PROTOCOL.md) as display strings: what
 * perfagg verify and aggregates print (the summary checks no signature). */
static void test_bundle_summary_returns(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    json_t *payload = json_object_get(
        json_object_get(json_object_get(bundle, "response"), "aggregates_signed"), "payload");
    json_t *extra = json_pack(
        "{s:[{s:s, s:f, s:f, s:f}, {s:s, s:f, s:n, s:n}], s:f, s:f, s:i, s:f, s:f, s:s, s:s,"
        " s:f, s:n, s:f, s:f, s:s, s:s, s:i, s:f, s:n, s:i}",
        "daily", "date", "2024-01-01", "pnl", 1.5, "return", 0.01, "equity", 1010.0, "date",
        "2024-01-02", "pnl", -2.25, "return", "equity", "realized_pnl", 10.5, "unrealized_pnl",
        -3.25, "fees", 0, "funding", 0.0, "return", 0.0234, "returns_from",
        "2024-01-01T00:00:00.000Z", "sharpe_basis", "returns", "sortino", 2.5, "volatility",
        "max_drawdown", 0.1, "max_drawdown_amount", 75.9, "max_drawdown_peak", "2024-01-01",
        "max_drawdown_trough", "2024-01-02", "round_trips", 3, "win_rate", 0.75,
        "profit_factor", "active_days", 2);
    assert_non_null(extra);
    assert_int_equal(json_object_update(payload, extra), 0);
    json_decref(extra);
    char *text = json_dumps(bundle, JSON_COMPACT);
    pa_client_summary s;
    assert_int_equal(pa_client_bundle_summary(text, strlen(text), &s), 0);
    assert_int_equal(s.has_returns, 1);
    assert_int_equal(s.ndaily, 2);
    assert_string_equal(s.realized_pnl, "10.5");
    assert_string_equal(s.unrealized_pnl, "-3.25");
    assert_string_equal(s.fees, "0");
    assert_string_equal(s.ret, "0.0234");
    assert_string_equal(s.returns_from, "2024-01-01T00:00:00.000Z");
    assert_string_equal(s.sharpe_basis, "returns");
    assert_string_equal(s.sortino, "2.5");
    assert_string_equal(s.volatility, "null");
    assert_string_equal(s.max_drawdown, "0.1");
    assert_string_equal(s.max_drawdown_amount, "75.9");
    assert_string_equal(s.max_drawdown_peak, "2024-01-01");
    assert_string_equal(s.max_drawdown_trough, "2024-01-02");
    assert_string_equal(s.round_trips, "3");
    assert_string_equal(s.win_rate, "0.75");
    assert_string_equal(s.profit_factor, "null");
    assert_string_equal(s.active_days, "2");
    free(text);
    json_decref(bundle);
}

/* ---- attestation quotes (perfagg attest / submit) ------------------------------------ */

static char *make_quote(const uint8_t *nonce, size_t nonce_len, const uint8_t *signing_pub,
                        const char *image_hash)
{
    uint8_t binding[32];
    pa_attest_key_binding(fx.enclave_pub, signing_pub, binding);
    pa_buf doc;
    pa_buf_init(&doc, 64 * 1024);
    assert_int_equal(pa_attest_document(fx.platform, fx.enclave_pub, 32, binding, 32, nonce,
                                        nonce_len, &doc),
                     0);
    char *q = b64(doc.data, doc.len), *e = b64(fx.enclave_pub, 32), *s = b64(fx.signing_pub, 32);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "quote", q, "enclave_pubkey", e,
                          "signing_pubkey", s, "image_hash", image_hash ? image_hash : fx.pcr0_hex);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    json_decref(j);
    free(q);
    free(e);
    free(s);
    pa_buf_free(&doc);
    return text;
}

/* A document from the test CA: a fresh leaf valid [leaf_nb, leaf_na]
 * (seconds), the given timestamp (ms), PCR0 = the platform's, binding our
 * keys and the nonce, exactly as the enclave's would. */
static void make_custom_doc(int64_t leaf_nb, int64_t leaf_na, int64_t ts_ms,
                            const uint8_t *nonce, size_t nonce_len, pa_buf *out)
{
    static const uint8_t zero[PA_PCR_LEN];
    EVP_PKEY *key = pa_devca_keygen();
    assert_non_null(key);
    X509 *leaf = pa_devca_issue(key, "i-test-enc-custom", PA_DEVCA_LEAF, fx.tca_inter,
                                fx.tca_inter_key, leaf_nb, leaf_na);
    assert_non_null(leaf);
    uint8_t *leaf_der = NULL, *root_der = NULL, *inter_der = NULL;
    size_t leaf_len = 0, root_len = 0, inter_len = 0;
    assert_int_equal(pa_attest_cert_der(leaf, &leaf_der, &leaf_len), 0);
    assert_int_equal(pa_attest_cert_der(fx.tca_root, &root_der, &root_len), 0);
    assert_int_equal(pa_attest_cert_der(fx.tca_inter, &inter_der, &inter_len), 0);
    uint8_t binding[32];
    pa_attest_key_binding(fx.enclave_pub, fx.signing_pub, binding);
    pa_attest_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.module_id = (pa_bytes){(const uint8_t *)"i-test-enc-custom", 17};
    pl.timestamp_ms = (uint64_t)ts_ms;
    pl.pcrs[0] = (pa_bytes){pa_attest_pcr0(fx.platform), PA_PCR_LEN};
    for (int i = 1; i < 16; i++)
        pl.pcrs[i] = (pa_bytes){zero, PA_PCR_LEN};
    pl.certificate = (pa_bytes){leaf_der, leaf_len};
    pl.cabundle[0] = (pa_bytes){root_der, root_len};
    pl.cabundle[1] = (pa_bytes){inter_der, inter_len};
    pl.cabundle_len = 2;
    pl.public_key = (pa_bytes){fx.enclave_pub, 32};
    pl.user_data = (pa_bytes){binding, 32};
    pl.nonce = (pa_bytes){nonce, nonce_len};
    pa_buf payload;
    pa_buf_init(&payload, PA_ATTEST_DOC_MAX);
    assert_int_equal(pa_attest_payload_encode(&pl, &payload), 0);
    pa_buf_init(out, PA_ATTEST_DOC_MAX);
    assert_int_equal(pa_cose_sign1(key, payload.data, payload.len, out), 0);
    pa_buf_free(&payload);
    OPENSSL_free(leaf_der);
    OPENSSL_free(root_der);
    OPENSSL_free(inter_der);
    X509_free(leaf);
    EVP_PKEY_free(key);
}

/* A quote answer around a document. */
static char *quote_of(const pa_buf *doc)
{
    char *q = b64(doc->data, doc->len), *e = b64(fx.enclave_pub, 32), *sp = b64(fx.signing_pub, 32);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "quote", q, "enclave_pubkey", e,
                          "signing_pubkey", sp, "image_hash", fx.pcr0_hex);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    json_decref(j);
    free(q);
    free(e);
    free(sp);
    return text;
}

/* Backdating: a signer whose leaf expired ten days ago makes a document
 * dated inside that leaf's life, for the very nonce we sent. A live check
 * is made at the current time and refuses it. */
static void test_check_quote_freshness(void **state)
{
    (void)state;
    X509 *root = pa_client_load_root(fx.tca_root_path);
    assert_non_null(root);
    uint8_t nonce[32];
    memset(nonce, 0x42, sizeof nonce);
    int64_t now = time(NULL), then = now - 10 * 86400;
    pa_client_attestation att;
    pa_buf doc;
    const char *skipped = "attestation_nonce attestation_public_key attestation_key_binding "
                          "image_hash expected_image_hash";

    make_custom_doc(then, then + 3 * 3600, (then + 3600) * 1000, nonce, sizeof nonce, &doc);
    char *q = quote_of(&doc);
    assert_int_equal(check_quote(q, strlen(q), nonce, sizeof nonce, root, fx.pcr0_hex, &att), -1);
    expect_report(&att.report, "attestation", skipped);
    const char *d = pa_verify_report_get(&att.report, "attestation")->detail;
    assert_non_null(strstr(d, "certificate has expired"));
    assert_non_null(strstr(d, "s before the time of the check"));
    /* the very same answer, checked as if on the day it claims: everything
     * else about it is right, so only the time gives it away */
    quote_now_ms = (then + 3600) * 1000 + 2000;
    assert_int_equal(check_quote(q, strlen(q), nonce, sizeof nonce, root, fx.pcr0_hex, &att), 0);
    quote_now_ms = 0;
    free(q);
    pa_buf_free(&doc);

    /* a valid leaf, a timestamp 20 minutes old: the age limit (default
     * 300 s; a caller may allow more) */
    make_custom_doc(now - 3600, now + 3600, (now - 1200) * 1000, nonce, sizeof nonce, &doc);
    q = quote_of(&doc);
    assert_int_equal(check_quote(q, strlen(q), nonce, sizeof nonce, root, fx.pcr0_hex, &att), -1);
    expect_report(&att.report, "attestation", skipped);
    assert_non_null(strstr(pa_verify_report_get(&att.report, "attestation")->detail,
                           " s before the time of the check (at most 300 s allowed)"));
    pa_client_expect e;
    memset(&e, 0, sizeof e);
    e.image_hash = fx.pcr0_hex;
    e.max_age_ms = 1800 * 1000;
    assert_int_equal(pa_client_check_quote(q, strlen(q), nonce, sizeof nonce, root, &e, &att), 0);
    free(q);
    pa_buf_free(&doc);

    /* from the future */
    make_custom_doc(now - 3600, now + 3600, (now + 900) * 1000, nonce, sizeof nonce, &doc);
    q = quote_of(&doc);
    assert_int_equal(check_quote(q, strlen(q), nonce, sizeof nonce, root, fx.pcr0_hex, &att), -1);
    assert_non_null(strstr(pa_verify_report_get(&att.report, "attestation")->detail,
                           "after the time of the check"));
    free(q);
    pa_buf_free(&doc);

    /* made just now: accepted, and further PCRs can be pinned */
    make_custom_doc(now - 60, now + 3600, pa_now_ms(), nonce, sizeof nonce, &doc);
    q = quote_of(&doc);
    assert_int_equal(check_quote(q, strlen(q), nonce, sizeof nonce, root, fx.pcr0_hex, &att), 0);
    memset(&e, 0, sizeof e);
    e.image_hash = fx.pcr0_hex;
    e.pcr_mask = (1u << 1) | (1u << 8); /* all zero in our documents */
    assert_int_equal(pa_client_check_quote(q, strlen(q), nonce, sizeof nonce, root, &e, &att), 0);
    assert_string_equal(pa_verify_report_get(&att.report, "expected_image_hash")->detail,
                        "PCR0 = the image you pinned; PCR1, PCR8 = the values you gave");
    e.pcrs[8][0] = 1;
    assert_int_equal(pa_client_check_quote(q, strlen(q), nonce, sizeof nonce, root, &e, &att), -1);
    expect_report(&att.report, "expected_image_hash", NULL);
    assert_string_equal(pa_verify_report_get(&att.report, "expected_image_hash")->detail,
                        "PCR8 is not the value you gave");
    free(q);
    pa_buf_free(&doc);
    X509_free(root);
}

static void test_check_quote(void **state)
{
    (void)state;
    uint8_t nonce[32], other_nonce[32];
    memset(nonce, 0x5a, sizeof nonce);
    memset(other_nonce, 0x5b, sizeof other_nonce);
    pa_client_attestation att;

    char *q = make_quote(nonce, sizeof nonce, fx.signing_pub, NULL);
    assert_int_equal(check_quote(q, strlen(q), nonce, sizeof nonce, fx.root, NULL, &att),
                     0);
    expect_report(&att.report, NULL, NULL);
    assert_int_equal(att.report.development, 1);
    assert_memory_equal(att.enclave_pubkey, fx.enclave_pub, 32);
    assert_memory_equal(att.signing_pubkey, fx.signing_pub, 32);
    assert_string_equal(att.image_hash, fx.pcr0_hex);
    assert_int_equal(
        check_quote(q, strlen(q), nonce, sizeof nonce, fx.root, fx.pcr0_hex, &att), 0);

    /* A replayed quote (for another nonce), the wrong root, another image. */
    assert_int_equal(
        check_quote(q, strlen(q), other_nonce, sizeof other_nonce, fx.root, NULL, &att),
        -1);
    expect_report(&att.report, "attestation_nonce", NULL);
    assert_int_equal(
        check_quote(q, strlen(q), nonce, sizeof nonce, fx.other_root, NULL, &att), -1);
    expect_report(&att.report, "attestation",
                  "attestation_nonce attestation_public_key attestation_key_binding image_hash");
    assert_int_equal(
        check_quote(q, strlen(q), nonce, sizeof nonce, fx.root, PROD_PCR0_HEX, &att),
        -1);
    expect_report(&att.report, "expected_image_hash", NULL);
    free(q);

    /* The answer names a signing key the document does not bind. */
    q = make_quote(nonce, sizeof nonce, fx.other_signing_pub, NULL);
    assert_int_equal(check_quote(q, strlen(q), nonce, sizeof nonce, fx.root, NULL, &att),
                     -1);
    expect_report(&att.report, "attestation_key_binding", NULL);
    free(q);

    /* image_hash in the answer is not the document's PCR0. */
    q = make_quote(nonce, sizeof nonce, fx.signing_pub, PROD_PCR0_HEX);
    assert_int_equal(check_quote(q, strlen(q), nonce, sizeof nonce, fx.root, NULL, &att),
                     -1);
    expect_report(&att.report, "image_hash", NULL);
    free(q);

    /* Malformed answers. */
    const char *bad[] = {"", "null", "{}", "{\"quote\":\"AAAA\"}",
                         "{\"quote\":\"AAAA\",\"enclave_pubkey\":\"AAAA\",\"signing_pubkey\":"
                         "\"AAAA\",\"image_hash\":\"00\"}"};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        assert_int_equal(
            check_quote(bad[i], strlen(bad[i]), nonce, sizeof nonce, fx.root, NULL, &att),
            -1);
        assert_int_equal(att.report.n, 1);
        assert_string_equal(att.report.checks[0].name, "response_format");
    }
}

/* The real AWS Nitro document (base64 text, malloc'd). */
static char *nitro_document_b64(void)
{
    pa_buf doc;
    pa_buf_init(&doc, 64 * 1024);
    pa_client_error err;
    assert_int_equal(pa_client_read_file(NITRO_DIR "/nitro_attestation.b64", 64 * 1024, &doc, &err),
                     0);
    while (doc.len > 0 && (doc.data[doc.len - 1] == '\n' || doc.data[doc.len - 1] == '\r'))
        doc.data[--doc.len] = 0;
    char *text = strdup(pa_buf_cstr(&doc));
    assert_non_null(text);
    pa_buf_free(&doc);
    return text;
}

/* A quote answer carrying the real Nitro document. */
static char *nitro_quote(void)
{
    char *doc = nitro_document_b64();
    char *e = b64(fx.enclave_pub, 32), *s = b64(fx.signing_pub, 32);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "quote", doc, "enclave_pubkey", e,
                          "signing_pubkey", s, "image_hash", PROD_PCR0_HEX);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    json_decref(j);
    free(doc);
    free(e);
    free(s);
    return text;
}

/* A real AWS Nitro document under the pinned root: authentic, but it binds
 * neither our nonce nor our keys, and the client says exactly that. It is
 * also the one document at hand that passes the AWS chain, so it shows the
 * image pin: required under the AWS root, and compared when given. */
static void test_check_quote_real_nitro_document(void **state)
{
    (void)state;
    /* as if checked live on the day it was made */
    assert_int_equal(pa_time_parse("2024-09-07T14:38:00Z", &quote_now_ms), 0);
    char *text = nitro_quote();
    uint8_t nonce[32] = {0};
    X509 *aws = pa_client_load_root(NULL);
    assert_non_null(aws);
    pa_client_attestation att;
    const char *unbound = "attestation_nonce attestation_public_key attestation_key_binding";
    assert_int_equal(
        check_quote(text, strlen(text), nonce, sizeof nonce, aws, PROD_PCR0_HEX, &att),
        -1);
    assert_int_equal(att.report.development, 0);
    expect_report(&att.report, unbound, NULL);
    assert_string_equal(att.image_hash, PROD_PCR0_HEX);
    assert_string_equal(pa_verify_report_get(&att.report, "expected_image_hash")->detail,
                        "PCR0 = the image you pinned");

    /* No pinned image under the AWS root: refused, whatever the document. */
    char failed[256];
    snprintf(failed, sizeof failed, "%s expected_image_hash", unbound);
    assert_int_equal(check_quote(text, strlen(text), nonce, sizeof nonce, aws, NULL, &att),
                     -1);
    expect_report(&att.report, failed, NULL);
    assert_string_equal(pa_verify_report_get(&att.report, "expected_image_hash")->detail,
                        PA_CLIENT_IMAGE_HASH_REQUIRED);
    /* Another image pinned: refused. */
    assert_int_equal(
        check_quote(text, strlen(text), nonce, sizeof nonce, aws, fx.pcr0_hex, &att), -1);
    expect_report(&att.report, failed, NULL);
    assert_non_null(strstr(pa_verify_report_get(&att.report, "expected_image_hash")->detail,
                           "is not the image you pinned"));

    /* The same document under a development root is not authentic; there the
     * pin is optional, so no expected_image_hash check without one. */
    assert_int_equal(
        check_quote(text, strlen(text), nonce, sizeof nonce, fx.root, NULL, &att), -1);
    assert_int_equal(pa_verify_report_get(&att.report, "attestation")->status, PA_CHECK_FAILED);
    assert_null(pa_verify_report_get(&att.report, "expected_image_hash"));
    /* Checked live today, the same genuine document is refused: its leaf
     * expired long ago and it was not made just now. */
    quote_now_ms = 0;
    assert_int_equal(check_quote(text, strlen(text), nonce, sizeof nonce, aws, PROD_PCR0_HEX, &att),
                     -1);
    const pa_check *a = pa_verify_report_get(&att.report, "attestation");
    assert_int_equal(a->status, PA_CHECK_FAILED);
    assert_non_null(strstr(a->detail, "certificate has expired"));
    assert_non_null(strstr(a->detail, "before the time of the check"));
    expect_report(&att.report, "attestation", "attestation_nonce attestation_public_key "
                  "attestation_key_binding image_hash expected_image_hash");
    X509_free(aws);
    free(text);
}

/* A bundle whose attestation is the real Nitro document (so the chain to the
 * AWS root holds) and whose payload names its PCR0. */
static json_t *nitro_bundle(void)
{
    json_t *bundle = valid_bundle();
    json_t *att = path_get(bundle, "response", "attestation", NULL);
    char *doc = nitro_document_b64();
    set_str(att, "quote", doc);
    set_str(att, "image_hash", PROD_PCR0_HEX);
    json_t *payload = payload_of(bundle);
    set_str(payload, "image_hash", PROD_PCR0_HEX);
    /* a production result of that moment */
    set_str(payload, "issued_at", "2024-09-07T14:37:40.000Z");
    set_str(payload, "environment", "production");
    set_str(json_object_get(payload, "scope"), "exchange_base_url", PA_BINANCE_BASE_URL);
    free(doc);
    return bundle;
}

static void test_verify_aws_root_needs_image_hash(void **state)
{
    (void)state;
    json_t *bundle = nitro_bundle();
    X509 *aws = pa_client_load_root(NULL);
    assert_non_null(aws);
    /* It binds neither this payload nor these keys (and the payload was
     * changed after signing); the chain and PCR0 are genuine. */
    const char *bad = "attestation_nonce attestation_public_key attestation_key_binding "
                      "payload_signature";
    pa_verify_report r;
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    expect_report(&r, bad, NULL);
    assert_int_equal(r.development, 0);

    char failed[256];
    snprintf(failed, sizeof failed, "%s expected_image_hash", bad);
    assert_int_equal(verify_json(bundle, aws, NULL, &r), -1);
    expect_report(&r, failed, NULL);
    assert_int_equal(verify_json(bundle, aws, fx.pcr0_hex, &r), -1);
    expect_report(&r, failed, NULL);

    /* Under the AWS root: a development result, or one that names another
     * exchange API, fails the environment check. */
    json_t *payload = payload_of(bundle);
    set_str(payload, "environment", "development");
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    snprintf(failed, sizeof failed, "%s environment", bad);
    expect_report(&r, failed, NULL);
    set_str(payload, "environment", "production");
    set_str(json_object_get(payload, "scope"), "exchange_base_url", "https://api.binance.com.evil");
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    expect_report(&r, failed, NULL);
    assert_non_null(strstr(pa_verify_report_get(&r, "environment")->detail, PA_BINANCE_BASE_URL));
    assert_int_equal(json_object_del(json_object_get(payload, "scope"), "exchange_base_url"), 0);
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    expect_report(&r, failed, NULL);
    set_str(json_object_get(payload, "scope"), "exchange_base_url", PA_BINANCE_BASE_URL);
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    expect_report(&r, bad, NULL);

    /* The attestation is checked as of payload.issued_at: an hour later, the
     * document is not the one made with this payload (and the leaf, valid
     * 14:37:36 .. 17:37:39, is checked then); a day later it has expired. */
    set_str(payload, "issued_at", "2024-09-07T15:37:40.000Z");
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    const char *skipped = "attestation_nonce attestation_public_key attestation_key_binding "
                          "image_hash expected_image_hash";
    expect_report(&r, "attestation payload_signature", skipped);
    assert_non_null(strstr(pa_verify_report_get(&r, "attestation")->detail,
                           "before the time of the check (at most 120 s"));
    set_str(payload, "issued_at", "2024-09-08T14:37:40.000Z");
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    assert_non_null(strstr(pa_verify_report_get(&r, "attestation")->detail, "expired"));
    set_str(payload, "issued_at", "not a time");
    assert_int_equal(verify_json(bundle, aws, PROD_PCR0_HEX, &r), -1);
    expect_report(&r, "bundle_format", NULL);
    X509_free(aws);
    json_decref(bundle);
}

static void test_roots(void **state)
{
    (void)state;
    X509 *aws = pa_client_load_root(NULL);
    assert_non_null(aws);
    assert_int_equal(pa_client_root_is_aws(aws), 1);
    X509 *file = pa_client_load_root(NITRO_DIR "/aws_nitro_root_g1.pem");
    assert_non_null(file);
    assert_int_equal(pa_client_root_is_aws(file), 1);
    assert_int_equal(pa_client_root_is_aws(fx.root), 0);
    assert_int_equal(pa_client_root_is_aws(NULL), 0);
    assert_null(pa_client_load_root("/nonexistent/root.pem"));
    X509_free(aws);
    X509_free(file);
}

/* ---- sealing -------------------------------------------------------------------------- */

static void buf_set(pa_buf *b, const char *s)
{
    pa_buf_init(b, PA_CLIENT_SECRET_MAX);
    assert_int_equal(pa_buf_append(b, s, strlen(s)), 0);
}

/* Opens a submit body the way the enclave does and returns the credentials. */
static int open_body(const char *body, pa_credentials *creds, json_t **metadata_out)
{
    json_t *j = pa_json_parse(body, strlen(body), 64 * 1024);
    assert_non_null(j);
    pa_envelope env;
    const char *why = NULL;
    memset(&env, 0, sizeof env);
    assert_int_equal(pa_envelope_parse(j, &env, &why), 0);
    pa_buf pt;
    pa_buf_init(&pt, PA_CIPHERTEXT_MAX);
    int rc = pa_envelope_open(fx.enclave_key, &env, 0, &pt);
    if (rc == 0)
        rc = pa_credentials_parse(&pt, pa_json_str(env.metadata, "exchange"), creds);
    if (metadata_out)
        *metadata_out = json_incref(env.metadata);
    pa_buf_free(&pt);
    pa_envelope_free(&env);
    json_decref(j);
    return rc;
}

/* pa_envelope_open at enclave time now_ms: 0 when it opens. */
static int open_body_at(const char *body, int64_t now_ms)
{
    json_t *j = pa_json_parse(body, strlen(body), 64 * 1024);
    assert_non_null(j);
    pa_envelope env;
    const char *why = NULL;
    memset(&env, 0, sizeof env);
    assert_int_equal(pa_envelope_parse(j, &env, &why), 0);
    pa_buf pt;
    pa_buf_init(&pt, PA_CIPHERTEXT_MAX);
    int rc = pa_envelope_open(fx.enclave_key, &env, now_ms, &pt);
    pa_buf_free(&pt);
    pa_envelope_free(&env);
    json_decref(j);
    return rc;
}

static void test_resolve_not_after(void **state)
{
    (void)state;
    const int64_t now = 1700000000000LL; /* 2023-11-14T22:13:20.000Z */
    char out[PA_CLIENT_NOT_AFTER_MAX];
    pa_client_error err;
    assert_int_equal(pa_client_resolve_not_after(now, 0, NULL, out, &err), 0);
    assert_string_equal(out, "2023-11-15T22:13:20.000Z"); /* + 86400 s */
    assert_int_equal(pa_client_resolve_not_after(now, 60, NULL, out, &err), 0);
    assert_string_equal(out, "2023-11-14T22:14:20.000Z");
    assert_int_equal(pa_client_resolve_not_after(now + 7, 604800, NULL, out, &err), 0);
    assert_string_equal(out, "2023-11-21T22:13:20.007Z");
    /* Given: kept verbatim (offset, fraction, lower case) when in the future. */
    const char *keep[] = {"2030-01-01T00:00:00Z", "2023-11-14T23:13:20.5+01:00",
                          "2023-11-14t22:13:20.001z", "2099-12-31T23:59:59.999999999-12:00"};
    for (size_t i = 0; i < PA_ARRAY_LEN(keep); i++) {
        assert_int_equal(pa_client_resolve_not_after(now, 3600, keep[i], out, &err), 0);
        assert_string_equal(out, keep[i]);
    }
    /* Not in the future, not a time, bad ttl. */
    const char *refuse[] = {"2023-11-14T22:13:20Z", "2023-11-14T22:13:19.999Z",
                            "2023-11-14T23:13:20+01:00", "2001-01-01T00:00:00Z", "tomorrow", "",
                            "2030-01-01", "2030-01-01T00:00:00",
                            "2030-01-01T00:00:00.00000000000000000000000000000000000000000000000"
                            "000000000Z"};
    for (size_t i = 0; i < PA_ARRAY_LEN(refuse); i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(pa_client_resolve_not_after(now, 0, refuse[i], out, &err), -1);
        assert_string_equal(err.code, "invalid_input");
    }
    assert_non_null(strstr(err.message, "RFC 3339"));
    assert_int_equal(pa_client_resolve_not_after(now, 0, "2001-01-01T00:00:00Z", out, &err), -1);
    assert_non_null(strstr(err.message, "not in the future"));
    assert_int_equal(pa_client_resolve_not_after(now, -1, NULL, out, &err), -1);
    assert_int_equal(pa_client_resolve_not_after(now, (int64_t)INT32_MAX + 1, NULL, out, &err), -1);
}

/* accountSalt and discloseUid reach the enclave's parser as given; a PEM
 * secret (an Ed25519 API key) keeps its line breaks. */
static void test_seal_account_salt_and_pem(void **state)
{
    (void)state;
    static const char pem[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                              "-----END PRIVATE KEY-----";
    pa_buf key, secret;
    buf_set(&key, "k");
    buf_set(&secret, pem);
    uint8_t salt[PA_CLIENT_ACCOUNT_SALT_LEN];
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)(0xF0 ^ i);
    pa_client_submission in = {.exchange = "binance",
                               .label = "main",
                               .api_key = &key,
                               .api_secret = &secret,
                               .account_salt = salt,
                               .disclose_uid = 1};
    char *body = NULL;
    pa_client_error err;
    assert_int_equal(pa_client_seal(fx.enclave_pub, &in, &body, &err), 0);
    pa_credentials c;
    assert_int_equal(open_body(body, &c, NULL), 0);
    assert_string_equal(c.api_secret, pem);
    assert_int_equal(c.has_account_salt, 1);
    assert_memory_equal(c.account_salt, salt, sizeof salt);
    assert_int_equal(c.disclose_uid, 1);
    pa_credentials_free(&c);
    free(body);

    in.account_salt = NULL;
    in.disclose_uid = 0;
    assert_int_equal(pa_client_seal(fx.enclave_pub, &in, &body, &err), 0);
    assert_int_equal(open_body(body, &c, NULL), 0);
    assert_int_equal(c.has_account_salt, 0);
    assert_int_equal(c.disclose_uid, 0);
    pa_credentials_free(&c);
    free(body);

    /* Line breaks only in a PEM text. */
    pa_buf_free(&secret);
    buf_set(&secret, "two\nlines");
    assert_int_equal(pa_client_seal(fx.enclave_pub, &in, &body, &err), -1);
    pa_buf_free(&key);
    pa_buf_free(&secret);
}

static void test_seal_round_trip(void **state)
{
    (void)state;
    pa_buf key, secret, pass;
    buf_set(&key, "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A");
    buf_set(&secret, "se\"cr\\et/é€😀");
    buf_set(&pass, "pass phrase");
    pa_client_submission in = {.exchange = "binance",
                               .label = "main",
                               .ttl = 3600,
                               .not_after = "2099-01-01T00:00:00Z",
                               .api_key = &key,
                               .api_secret = &secret,
                               .passphrase = &pass,
                               .symbols = "BTCUSDT,ETHUSDT"};
    char *body = NULL;
    pa_client_error err;
    assert_int_equal(pa_client_seal(fx.enclave_pub, &in, &body, &err), 0);
    /* Nothing secret in the clear. */
    assert_null(strstr(body, "vmPUZE6mv9SD5VNHk4"));
    assert_null(strstr(body, "pass phrase"));

    pa_credentials c;
    json_t *metadata = NULL;
    memset(&c, 0, sizeof c);
    assert_int_equal(open_body(body, &c, &metadata), 0);
    assert_string_equal(c.exchange, "binance");
    assert_string_equal(c.api_key, (const char *)key.data);
    assert_string_equal(c.api_secret, "se\"cr\\et/é€😀");
    assert_string_equal(c.passphrase, "pass phrase");
    assert_int_equal(c.nsymbols, 2);
    assert_string_equal(c.symbols[0], "BTCUSDT");
    assert_string_equal(c.symbols[1], "ETHUSDT");
    assert_string_equal(pa_json_str(metadata, "label"), "main");
    assert_int_equal(json_integer_value(json_object_get(metadata, "ttl")), 3600);
    assert_string_equal(pa_json_str(metadata, "not_after"), "2099-01-01T00:00:00Z");
    pa_credentials_free(&c);
    json_decref(metadata);
    free(body);

    /* Optional parts absent: metadata is {exchange, label, not_after}, with
     * not_after = now + the server's default ttl, so the enclave enforces
     * the lifetime by its own clock. */
    in.ttl = 0;
    in.not_after = NULL;
    in.passphrase = NULL;
    in.symbols = NULL;
    int64_t t0 = pa_now_ms();
    assert_int_equal(pa_client_seal(fx.enclave_pub, &in, &body, &err), 0);
    int64_t t1 = pa_now_ms();
    memset(&c, 0, sizeof c);
    assert_int_equal(open_body(body, &c, &metadata), 0);
    assert_null(c.passphrase);
    assert_null(c.symbols);
    assert_int_equal(json_object_size(metadata), 3);
    assert_null(json_object_get(metadata, "ttl"));
    int64_t na = 0;
    assert_int_equal(pa_time_parse(pa_json_str(metadata, "not_after"), &na), 0);
    assert_true(na >= t0 + 86400 * 1000LL && na <= t1 + 86400 * 1000LL);
    pa_credentials_free(&c);
    json_decref(metadata);
    free(body);

    /* With a ttl: now + ttl. And the enclave itself refuses it afterwards. */
    in.ttl = 120;
    t0 = pa_now_ms();
    assert_int_equal(pa_client_seal(fx.enclave_pub, &in, &body, &err), 0);
    t1 = pa_now_ms();
    memset(&c, 0, sizeof c);
    assert_int_equal(open_body(body, &c, &metadata), 0);
    assert_int_equal(json_integer_value(json_object_get(metadata, "ttl")), 120);
    assert_int_equal(pa_time_parse(pa_json_str(metadata, "not_after"), &na), 0);
    assert_true(na >= t0 + 120000 && na <= t1 + 120000);
    pa_credentials_free(&c);
    json_decref(metadata);
    assert_int_equal(open_body_at(body, na), 0);
    assert_int_equal(open_body_at(body, na + 1), -1);
    free(body);
    in.ttl = 0;

    /* Sealed to another key: the enclave cannot open it. */
    EVP_PKEY *other = pa_x25519_generate();
    uint8_t other_pub[32];
    assert_int_equal(pa_raw_public_key(other, other_pub), 0);
    assert_int_equal(pa_client_seal(other_pub, &in, &body, &err), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(open_body(body, &c, NULL), -1);
    free(body);
    EVP_PKEY_free(other);

    pa_buf_free(&key);
    pa_buf_free(&secret);
    pa_buf_free(&pass);
}

static void expect_seal_refused(const pa_client_submission *in)
{
    char *body = NULL;
    pa_client_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(pa_client_seal(fx.enclave_pub, in, &body, &err), -1);
    assert_null(body);
    assert_string_equal(err.code, "invalid_input");
}

static void test_seal_refuses_bad_input(void **state)
{
    (void)state;
    pa_buf key, secret, ctl, bad_utf8, huge;
    buf_set(&key, "key");
    buf_set(&secret, "secret");
    buf_set(&ctl, "sec\tret");
    pa_buf_init(&bad_utf8, 16);
    assert_int_equal(pa_buf_append(&bad_utf8, "\xc3\x28", 2), 0);
    pa_buf_init(&huge, 3 * PA_CIPHERTEXT_MAX);
    for (int i = 0; i < PA_CIPHERTEXT_MAX; i++)
        assert_int_equal(pa_buf_append(&huge, "x", 1), 0);
    pa_buf empty;
    pa_buf_init(&empty, 16);

    pa_client_submission ok = {
        .exchange = "binance", .label = "main", .api_key = &key, .api_secret = &secret};
    pa_client_submission in = ok;
    in.api_secret = &ctl;
    expect_seal_refused(&in);
    in.api_secret = &bad_utf8;
    expect_seal_refused(&in);
    in.api_secret = &huge;
    expect_seal_refused(&in);
    in.api_secret = &empty;
    expect_seal_refused(&in);
    in = ok;
    in.label = "";
    expect_seal_refused(&in);
    in.label = "a label that is much longer than sixty-four characters, which the server refuses";
    expect_seal_refused(&in);
    in = ok;
    in.label = NULL;
    expect_seal_refused(&in);
    in = ok;
    in.not_after = "tomorrow";
    expect_seal_refused(&in);
    in.not_after = "2001-01-01T00:00:00Z"; /* the enclave would refuse it at once */
    expect_seal_refused(&in);
    const char *symbols[] = {"", "BTCUSDT,", ",BTCUSDT", "btcusdt", "BTC USDT", "BTC-USDT"};
    for (size_t i = 0; i < PA_ARRAY_LEN(symbols); i++) {
        in = ok;
        in.symbols = symbols[i];
        expect_seal_refused(&in);
    }
    pa_buf_free(&key);
    pa_buf_free(&secret);
    pa_buf_free(&ctl);
    pa_buf_free(&bad_utf8);
    pa_buf_free(&huge);
}

/* The enclave's verdict on credentials, asked directly: the plaintext built
 * with jansson (no secrecy needed in a test) and given to
 * pa_credentials_parse. symbols is the CLI's comma list, or NULL. */
static int enclave_accepts(const char *key, const char *secret, const char *pass,
                           const char *symbols)
{
    json_t *pt = json_pack("{s:s, s:s, s:s}", "exchange", "binance", "apiKey", key, "apiSecret",
                           secret);
    assert_non_null(pt);
    if (pass != NULL && pass[0] != '\0')
        set_str(pt, "passphrase", pass);
    if (symbols != NULL) {
        json_t *arr = json_array();
        char *copy = strdup(symbols);
        assert_non_null(copy);
        /* strsep keeps empty fields, as the CLI's list does. */
        for (char *rest = copy, *tok; (tok = strsep(&rest, ",")) != NULL;)
            assert_int_equal(json_array_append_new(arr, json_string(tok)), 0);
        free(copy);
        assert_int_equal(json_object_set_new(pt, "symbols", arr), 0);
    }
    char *text = json_dumps(pt, JSON_COMPACT);
    assert_non_null(text);
    json_decref(pt);
    pa_buf b;
    pa_buf_init(&b, PA_CIPHERTEXT_MAX);
    assert_int_equal(pa_buf_append_str(&b, text), 0);
    free(text);
    pa_credentials c;
    int rc = pa_credentials_parse(&b, "binance", &c);
    if (rc == 0)
        pa_credentials_free(&c);
    pa_buf_free(&b);
    return rc == 0;
}

/* The client's verdict; when it seals, the enclave must open and accept. */
static int client_accepts(const char *key, const char *secret, const char *pass,
                          const char *symbols, pa_client_error *err)
{
    pa_buf k, s, p;
    pa_buf_init(&k, PA_CLIENT_SECRET_MAX);
    pa_buf_init(&s, PA_CLIENT_SECRET_MAX);
    pa_buf_init(&p, PA_CLIENT_SECRET_MAX);
    assert_int_equal(pa_buf_append_str(&k, key), 0);
    assert_int_equal(pa_buf_append_str(&s, secret), 0);
    if (pass != NULL)
        assert_int_equal(pa_buf_append_str(&p, pass), 0);
    pa_client_submission in = {.exchange = "binance",
                               .label = "main",
                               .api_key = &k,
                               .api_secret = &s,
                               .passphrase = pass ? &p : NULL,
                               .symbols = symbols};
    char *body = NULL;
    memset(err, 0, sizeof *err);
    int rc = pa_client_seal(fx.enclave_pub, &in, &body, err);
    if (rc == 0) {
        pa_credentials c;
        memset(&c, 0, sizeof c);
        assert_int_equal(open_body(body, &c, NULL), 0);
        pa_credentials_free(&c);
        free(body);
    } else {
        assert_null(body);
        assert_string_equal(err->code, "invalid_input");
    }
    pa_buf_free(&k);
    pa_buf_free(&s);
    pa_buf_free(&p);
    return rc == 0;
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

/* "S000,S001,..." with n distinct symbols (and a repeat of the first when
 * dup). */
static char *symbol_list(size_t n, int dup)
{
    char *s = malloc(6 * (n + 1) + 1);
    assert_non_null(s);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, 6 * (n + 1) + 1 - o, "%sS%03zu", i ? "," : "", i);
    if (dup)
        snprintf(s + o, 6 * (n + 1) + 1 - o, ",S000");
    return s;
}

/* The client refuses exactly what the enclave refuses (envelope.h's
 * PA_SECRET_MAX, PA_SYMBOL_MIN_LEN, PA_SYMBOL_MAX_LEN, PA_SYMBOLS_MAX, no
 * repeats), and says why. */
static void test_seal_matches_enclave_rules(void **state)
{
    (void)state;
    char *s512 = repeat('k', PA_SECRET_MAX), *s513 = repeat('k', PA_SECRET_MAX + 1);
    char *sym20 = repeat('A', PA_SYMBOL_MAX_LEN), *sym21 = repeat('A', PA_SYMBOL_MAX_LEN + 1);
    char *l100 = symbol_list(PA_SYMBOLS_MAX, 0), *l101 = symbol_list(PA_SYMBOLS_MAX + 1, 0);
    char *ldup = symbol_list(10, 1);
    struct {
        const char *key, *secret, *pass, *symbols;
        int ok;
        const char *why; /* in the client's message */
    } v[] = {
        {"k", "s", NULL, NULL, 1, NULL},
        {s512, s512, s512, NULL, 1, NULL},
        {s513, "s", NULL, NULL, 0, "apiKey is 513 bytes; the enclave accepts at most 512"},
        {"k", s513, NULL, NULL, 0, "apiSecret is 513 bytes"},
        {"k", "s", s513, NULL, 0, "passphrase is 513 bytes"},
        {"", "s", NULL, NULL, 0, "apiKey is empty"},
        {"k", "", NULL, NULL, 0, "apiSecret is empty"},
        {"k", "s", "", NULL, 1, NULL}, /* an empty passphrase is no passphrase */
        {"k", "s", NULL, "BTCUSDT", 1, NULL},
        {"k", "s", NULL, "BT", 1, NULL},
        {"k", "s", NULL, sym20, 1, NULL},
        {"k", "s", NULL, l100, 1, NULL},
        {"k", "s", NULL, "B", 0, "'B' is not a symbol: each must be 2..20 characters"},
        {"k", "s", NULL, sym21, 0, "is not a symbol"},
        {"k", "s", NULL, "BTCUSDT,B", 0, "'B' is not a symbol"},
        {"k", "s", NULL, "btcusdt", 0, "is not a symbol"},
        {"k", "s", NULL, "BTC-USDT", 0, "is not a symbol"},
        {"k", "s", NULL, "", 0, "'' is not a symbol"},
        {"k", "s", NULL, "BTCUSDT,", 0, "is not a symbol"},
        {"k", "s", NULL, "BTCUSDT,ETHUSDT,BTCUSDT", 0, "--symbols: BTCUSDT is listed twice"},
        {"k", "s", NULL, ldup, 0, "S000 is listed twice"},
        {"k", "s", NULL, l101, 0, "more than 100 symbols"},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(v); i++) {
        pa_client_error err;
        int client = client_accepts(v[i].key, v[i].secret, v[i].pass, v[i].symbols, &err);
        int enclave = enclave_accepts(v[i].key, v[i].secret, v[i].pass, v[i].symbols);
        if (client != v[i].ok || enclave != v[i].ok)
            fail_msg("vector %zu: client %d, enclave %d, expected %d (%s)", i, client, enclave,
                     v[i].ok, err.message);
        if (v[i].why != NULL && strstr(err.message, v[i].why) == NULL)
            fail_msg("vector %zu: message '%s' lacks '%s'", i, err.message, v[i].why);
    }
    free(s512);
    free(s513);
    free(sym20);
    free(sym21);
    free(l100);
    free(l101);
    free(ldup);
}

/* ---- reading secrets -------------------------------------------------------------------- */

static char *tmp_file(const char *name, const char *content)
{
    char *path = malloc(256);
    assert_non_null(path);
    snprintf(path, 256, "%s/%s", fx.dir, name);
    write_text(path, content);
    return path;
}

/* Runs pa_client_read_secrets with stdin redirected from a file holding
 * stdin_text. */
static int read_secrets_with_stdin(const char *stdin_text, const char *k, const char *s,
                                   const char *p, pa_buf *key, pa_buf *secret, pa_buf *pass)
{
    char *path = tmp_file("stdin.txt", stdin_text);
    int saved = dup(STDIN_FILENO);
    int fd = open(path, O_RDONLY);
    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    pa_client_error err;
    int rc = pa_client_read_secrets(k, s, p, key, secret, pass, &err);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    unlink(path);
    free(path);
    return rc;
}

static void test_read_secrets(void **state)
{
    (void)state;
    pa_buf key, secret, pass;
    pa_buf_init(&key, PA_CLIENT_SECRET_MAX);
    pa_buf_init(&secret, PA_CLIENT_SECRET_MAX);
    pa_buf_init(&pass, PA_CLIENT_SECRET_MAX);
    pa_client_error err;

    char *kf = tmp_file("key", "the-key\n");
    char *sf = tmp_file("secret", "the-secret\r\n");
    char *nf = tmp_file("nonl", "no-newline");
    char *empty = tmp_file("empty", "\n");
    char *multi = tmp_file("multi", "line1\nline2\n");
    char *twonl = tmp_file("twonl", "value\n\n");

    assert_int_equal(pa_client_read_secrets(kf, sf, NULL, &key, &secret, NULL, &err), 0);
    assert_string_equal(pa_buf_cstr(&key), "the-key");
    assert_string_equal(pa_buf_cstr(&secret), "the-secret");
    assert_int_equal(pa_client_read_secrets(nf, kf, nf, &key, &secret, &pass, &err), 0);
    assert_string_equal(pa_buf_cstr(&key), "no-newline");
    assert_string_equal(pa_buf_cstr(&pass), "no-newline");

    const char *bad[] = {empty, multi, twonl, "/nonexistent/secret"};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        assert_int_equal(pa_client_read_secrets(bad[i], sf, NULL, &key, &secret, NULL, &err), -1);
        assert_int_equal(key.len, 0); /* wiped on failure */
    }

    /* The enclave's limit: 512 bytes read, 513 (or far more) refused, with
     * that reason. */
    char *v512 = repeat('x', PA_SECRET_MAX), *v513 = repeat('x', PA_SECRET_MAX + 1);
    char *v9000 = repeat('x', 9000);
    char *f512 = tmp_file("f512", v512), *f513 = tmp_file("f513", v513);
    char *f9000 = tmp_file("f9000", v9000);
    assert_int_equal(pa_client_read_secrets(f512, sf, NULL, &key, &secret, NULL, &err), 0);
    assert_int_equal(key.len, PA_SECRET_MAX);
    const char *too_long[] = {f513, f9000};
    for (size_t i = 0; i < PA_ARRAY_LEN(too_long); i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(pa_client_read_secrets(sf, too_long[i], NULL, &key, &secret, NULL, &err),
                         -1);
        assert_string_equal(err.code, "invalid_input");
        assert_non_null(strstr(err.message, "longer than 512 bytes"));
    }
    char *stdin_text = malloc(2 * PA_SECRET_MAX + 8);
    assert_non_null(stdin_text);
    snprintf(stdin_text, 2 * PA_SECRET_MAX + 8, "k\n%s\n", v513);
    assert_int_equal(read_secrets_with_stdin(stdin_text, "-", "-", NULL, &key, &secret, NULL), -1);
    snprintf(stdin_text, 2 * PA_SECRET_MAX + 8, "k\n%s\n", v512);
    assert_int_equal(read_secrets_with_stdin(stdin_text, "-", "-", NULL, &key, &secret, NULL), 0);
    assert_int_equal(secret.len, PA_SECRET_MAX);
    char *big[] = {v512, v513, v9000, f512, f513, f9000, stdin_text};
    for (size_t i = 0; i < PA_ARRAY_LEN(big); i++)
        free(big[i]);

    /* stdin: one line per field given as "-", in order key, secret, passphrase. */
    assert_int_equal(read_secrets_with_stdin("k1\ns1\n", "-", "-", NULL, &key, &secret, NULL), 0);
    assert_string_equal(pa_buf_cstr(&key), "k1");
    assert_string_equal(pa_buf_cstr(&secret), "s1");
    assert_int_equal(read_secrets_with_stdin("k2\r\ns2", "-", "-", NULL, &key, &secret, NULL), 0);
    assert_string_equal(pa_buf_cstr(&key), "k2");
    assert_string_equal(pa_buf_cstr(&secret), "s2");
    assert_int_equal(read_secrets_with_stdin("only-secret\n", kf, "-", NULL, &key, &secret, NULL),
                     0);
    assert_string_equal(pa_buf_cstr(&key), "the-key");
    assert_string_equal(pa_buf_cstr(&secret), "only-secret");
    assert_int_equal(
        read_secrets_with_stdin("k3\ns3\np3\n", "-", "-", "-", &key, &secret, &pass), 0);
    assert_string_equal(pa_buf_cstr(&pass), "p3");
    assert_int_equal(read_secrets_with_stdin("k\n", "-", "-", NULL, &key, &secret, NULL), -1);
    assert_int_equal(read_secrets_with_stdin("k\ns\nextra\n", "-", "-", NULL, &key, &secret, NULL),
                     -1);
    assert_int_equal(read_secrets_with_stdin("\ns\n", "-", "-", NULL, &key, &secret, NULL), -1);
    assert_int_equal(read_secrets_with_stdin("", "-", "-", NULL, &key, &secret, NULL), -1);

    char *paths[] = {kf, sf, nf, empty, multi, twonl};
    for (size_t i = 0; i < PA_ARRAY_LEN(paths); i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
    pa_buf_free(&key);
    pa_buf_free(&secret);
    pa_buf_free(&pass);
}

/* ---- files -------------------------------------------------------------------------------- */

static void test_write_file_atomic(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/out/bundle.json", fx.dir);
    pa_client_error err;
    /* Missing directory: fails, leaves nothing. */
    assert_int_equal(pa_client_write_file_atomic(path, (const uint8_t *)"x", 1, &err), -1);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/out", fx.dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    mode_t old = umask(077);
    assert_int_equal(pa_client_write_file_atomic(path, (const uint8_t *)"first\n", 6, &err), 0);
    assert_int_equal(pa_client_write_file_atomic(path, (const uint8_t *)"second\n", 7, &err), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    pa_buf b;
    pa_buf_init(&b, 1024);
    assert_int_equal(pa_client_read_file(path, 1024, &b, &err), 0);
    assert_string_equal(pa_buf_cstr(&b), "second\n");
    pa_buf_free(&b);
    /* Exactly one file: no temporaries left behind. */
    DIR *d = opendir(dir);
    int count = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        count += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(count, 1);
    pa_buf_init(&b, 4);
    assert_int_equal(pa_client_read_file(path, 4, &b, &err), -1);
    pa_buf_free(&b);
}

/* ---- escaping what others wrote ------------------------------------------------------ */

static void expect_escape(const char *in, size_t len, const char *want)
{
    char *got = pa_client_escape(in, len);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("escape of %zu bytes: got '%s', want '%s'", len, got, want);
    free(got);
}

#define ESC(in, want) expect_escape(in, sizeof(in) - 1, want)

static void test_escape(void **state)
{
    (void)state;
    ESC("", "");
    ESC("plain ASCII: 1234.5 USDT, {\"a\":[1]} ~", "plain ASCII: 1234.5 USDT, {\"a\":[1]} ~");
    /* C0 controls and DEL: \xNN. */
    ESC("a\x1b[2Jb", "a\\x1b[2Jb");
    ESC("\r\n\t\a\b\f\v", "\\x0d\\x0a\\x09\\x07\\x08\\x0c\\x0b");
    ESC("a\0b", "a\\x00b");
    ESC("\x01\x1f\x7f", "\\x01\\x1f\\x7f");
    ESC(" ", " ");
    /* C1 controls, written as valid UTF-8: \u0080..\u009f. */
    ESC("\xc2\x80", "\\u0080");
    ESC("x\xc2\x85y", "x\\u0085y");
    ESC("\xc2\x9b" "31m", "\\u009b31m");
    ESC("\xc2\x9f", "\\u009f");
    /* The first code points past the C1 range are text. */
    ESC("\xc2\xa0\xc2\xbf\xc3\xa9", "\xc2\xa0\xc2\xbf\xc3\xa9");
    /* Bidirectional controls. */
    ESC("\xe2\x80\x8e", "\\u200e");
    ESC("\xe2\x80\x8f", "\\u200f");
    ESC("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae",
        "\\u202a\\u202b\\u202c\\u202d\\u202e");
    ESC("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "\\u2066\\u2067\\u2068\\u2069");
    ESC("\xd8\x9c", "\\u061c");
    ESC("pnl 1\xe2\x80\xae" "0001", "pnl 1\\u202e0001");
    /* Every format (Cf) character: zero-width ones, the BOM, tags. */
    ESC("a\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d\xe2\x81\xa0\xef\xbb\xbf\xe2\x81\xaa" "b",
        "a\\u200b\\u200c\\u200d\\u2060\\ufeff\\u206ab");
    ESC("\xf3\xa0\x80\x81", "\\U000e0001");
    /* Their neighbours are text (U+2065 is unassigned). */
    ESC("\xe2\x80\x8a\xe2\x80\x90\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5",
        "\xe2\x80\x8a\xe2\x80\x90\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5");
    ESC("Haupt-Konto \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac",
        "Haupt-Konto \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac");
    /* Invalid UTF-8: every byte that starts no valid sequence is \xNN. */
    ESC("\xff", "\\xff");
    ESC("\x9b", "\\x9b"); /* a raw C1 byte (8-bit CSI) */
    ESC("\xc3", "\\xc3");
    ESC("\xc3(", "\\xc3(");
    ESC("\xc0\xaf", "\\xc0\\xaf");                     /* overlong '/' */
    ESC("\xe0\x80\xaf", "\\xe0\\x80\\xaf");            /* overlong, 3 bytes */
    ESC("\xed\xa0\x80", "\\xed\\xa0\\x80");            /* a surrogate */
    ESC("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");   /* past U+10FFFF */
    ESC("\xe2\x80", "\\xe2\\x80");                     /* truncated */
    ESC("\xe2\x80\x1b", "\\xe2\\x80\\x1b");
    ESC("\xf0\x9f\x98", "\\xf0\\x9f\\x98");
    /* A backslash is doubled, so an escape is never the sender's own text. */
    ESC("a\\b", "a\\\\b");
    ESC("\\x1b[2J", "\\\\x1b[2J");
    ESC("\\u202e", "\\\\u202e");

    /* Length is honoured: bytes past it are not read; NUL inside is data. */
    expect_escape("abc\x1b", 3, "abc");
    /* The worst case: four characters a byte. */
    char *many = repeat('\x1b', 1000);
    char *want = malloc(4001);
    assert_non_null(want);
    for (int i = 0; i < 1000; i++)
        memcpy(want + 4 * i, "\\x1b", 4);
    want[4000] = 0;
    expect_escape(many, 1000, want);
    free(many);
    free(want);
    assert_null(pa_client_escape(NULL, 0));
}

/* ---- the CLI -------------------------------------------------------------------------- */

/* Runs perfagg with args and PERFAGG_IMAGE_HASH = image_hash_env (unset when
 * NULL); stdin from in_path (NULL: /dev/null); stdout and stderr to out_path,
 * or stdout to out_path and stderr to err_path when err_path is given. */
static int run_cli_io(const char *const *args, const char *image_hash_env, const char *in_path,
                      const char *out_path, const char *err_path)
{
    pid_t pid = pa_test_fork(60);
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int efd = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : fd;
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        if (fd < 0 || efd < 0 || in < 0)
            _exit(127);
        dup2(fd, STDOUT_FILENO);
        dup2(efd, STDERR_FILENO);
        dup2(in, STDIN_FILENO);
        /* No server is involved: make an accidental network call fail fast. */
        setenv("PERFAGG_URL", "http://127.0.0.1:1", 1);
        if (image_hash_env)
            setenv("PERFAGG_IMAGE_HASH", image_hash_env, 1);
        else
            unsetenv("PERFAGG_IMAGE_HASH");
        execv(PA_CLI_PATH, (char *const *)args);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(pa_test_wait(pid, &status), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Runs perfagg with args; its stdout and stderr go to out_path. */
static int run_cli(const char *const *args, const char *out_path)
{
    return run_cli_io(args, NULL, NULL, out_path, NULL);
}

static int output_contains(const char *path, const char *needle)
{
    pa_buf b;
    pa_client_error err;
    pa_buf_init(&b, 1 << 20);
    assert_int_equal(pa_client_read_file(path, 1 << 20, &b, &err), 0);
    int found = strstr(pa_buf_cstr(&b), needle) != NULL;
    pa_buf_free(&b);
    return found;
}

/* Bytes a terminal would act on: C0 controls but '\n', DEL, and the UTF-8 of
 * C1 controls (U+0080..U+009F, a sample) and of the bidirectional controls. NULL when
 * the output is clean, else a description. */
static const char *terminal_hazard(const char *path)
{
    static char what[64];
    pa_buf b;
    pa_client_error err;
    pa_buf_init(&b, 1 << 20);
    assert_int_equal(pa_client_read_file(path, 1 << 20, &b, &err), 0);
    const char *found = NULL;
    static const char *const seqs[] = {"\xc2\x80", "\xc2\x85", "\xc2\x9b", "\xc2\x9d",
                                       "\xc2\x9f", "\xd8\x9c", "\xe2\x80\x8e", "\xe2\x80\x8f",
                                       "\xe2\x80\xaa", "\xe2\x80\xae", "\xe2\x81\xa6",
                                       "\xe2\x81\xa9"};
    for (size_t i = 0; i < b.len && found == NULL; i++) {
        uint8_t c = b.data[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f) {
            snprintf(what, sizeof what, "byte 0x%02x at offset %zu", c, i);
            found = what;
        }
        for (size_t k = 0; k < PA_ARRAY_LEN(seqs) && found == NULL; k++)
            if (b.len - i >= strlen(seqs[k]) && memcmp(b.data + i, seqs[k], strlen(seqs[k])) == 0) {
                snprintf(what, sizeof what, "control sequence %zu at offset %zu", k, i);
                found = what;
            }
    }
    pa_buf_free(&b);
    return found;
}

static void test_cli_verify(void **state)
{
    (void)state;
    char bundle_path[256], out[256];
    snprintf(bundle_path, sizeof bundle_path, "%s/cli-bundle.json", fx.dir);
    snprintf(out, sizeof out, "%s/cli-out.txt", fx.dir);
    json_t *bundle = valid_bundle();
    char *text = json_dumps(bundle, JSON_COMPACT);
    pa_client_error err;
    assert_int_equal(
        pa_client_write_file_atomic(bundle_path, (const uint8_t *)text, strlen(text), &err), 0);
    free(text);

    const char *ok[] = {"perfagg", "verify", bundle_path, "--dev-root", fx.root_path, NULL};
    assert_int_equal(run_cli(ok, out), 0);
    assert_true(output_contains(out, "VERIFIED against a DEVELOPMENT root"));
    assert_true(output_contains(out, "payload_signature"));
    assert_true(output_contains(out, "1234.56789012"));

    const char *hash[] = {"perfagg",    "verify",  bundle_path, "--dev-root",
                          fx.root_path, "--image-hash", fx.pcr0_hex, NULL};
    assert_int_equal(run_cli(hash, out), 0);

    const char *other_hash[] = {"perfagg",    "verify",       bundle_path,   "--dev-root",
                                fx.root_path, "--image-hash", PROD_PCR0_HEX, NULL};
    assert_int_equal(run_cli(other_hash, out), 1);
    assert_true(output_contains(out, "FAILED  expected_image_hash"));
    assert_true(output_contains(out, "NOT VERIFIED"));

    const char *wrong_root[] = {"perfagg", "verify", bundle_path, "--dev-root",
                                fx.other_root_path, NULL};
    assert_int_equal(run_cli(wrong_root, out), 1);
    /* Without --dev-root the pinned AWS root is used, which needs the image
     * you trust; a dev bundle then fails. */
    const char *aws[] = {"perfagg", "verify", bundle_path, NULL};
    assert_int_equal(run_cli(aws, out), 2);
    assert_true(output_contains(out, PA_CLIENT_IMAGE_HASH_REQUIRED));
    const char *aws_pinned[] = {"perfagg", "verify", bundle_path, "--image-hash", PROD_PCR0_HEX,
                                NULL};
    assert_int_equal(run_cli(aws_pinned, out), 1);
    assert_true(output_contains(out, "FAILED  attestation"));
    assert_true(output_contains(out, "UNVERIFIED claims"));
    assert_true(output_contains(out, "UNVERIFIED pnl             1234.56789012 USDT"));
    assert_false(output_contains(out, "\npnl "));

    /* Usage errors: 2. */
    const char *no_file[] = {"perfagg", "verify", NULL};
    assert_int_equal(run_cli(no_file, out), 2);
    const char *bad_hash[] = {"perfagg", "verify", bundle_path, "--image-hash", "abc", NULL};
    assert_int_equal(run_cli(bad_hash, out), 2);
    const char *unknown[] = {"perfagg", "frobnicate", NULL};
    assert_int_equal(run_cli(unknown, out), 2);
    const char *none[] = {"perfagg", NULL};
    assert_int_equal(run_cli(none, out), 2);
    const char *bad_session[] = {"perfagg", "aggregates", "not-a-uuid", "--out", out, NULL};
    assert_int_equal(run_cli(bad_session, out), 2);
    const char *no_out[] = {"perfagg", "aggregates", "9b2f4a4e-8f6b-4b7e-9a37-7f0c2b0e5a11", NULL};
    assert_int_equal(run_cli(no_out, out), 2);
    const char *submit_no_files[] = {"perfagg", "submit", "--exchange", "binance", "--label", "m",
                                     NULL};
    assert_int_equal(run_cli(submit_no_files, out), 2);
    const char *seal_bad_key[] = {"perfagg",         "seal", "--exchange", "binance", "--label",
                                  "m",               "--api-key-file", "-", "--api-secret-file",
                                  "-",               "--enclave-pubkey", "AAAA", NULL};
    assert_int_equal(run_cli(seal_bad_key, out), 2);
    const char *attest_bad_hash[] = {"perfagg", "attest", "--image-hash", "zz", NULL};
    assert_int_equal(run_cli(attest_bad_hash, out), 2);
    const char *bad_url[] = {"perfagg", "--url", "ftp://example.com", "attest", NULL};
    assert_int_equal(run_cli(bad_url, out), 2);
    const char *secret_on_argv[] = {"perfagg", "submit", "--api-secret", "s", NULL};
    assert_int_equal(run_cli(secret_on_argv, out), 2);

    /* Help: 0. */
    const char *help[] = {"perfagg", "help", NULL};
    assert_int_equal(run_cli(help, out), 0);
    const char *cmd_help[] = {"perfagg", "submit", "--help", NULL};
    assert_int_equal(run_cli(cmd_help, out), 0);
    assert_true(output_contains(out, "--api-secret-file"));

    /* Missing file and unreachable server: 1. */
    const char *missing[] = {"perfagg", "verify", "/nonexistent/bundle.json", "--dev-root",
                             fx.root_path, NULL};
    assert_int_equal(run_cli(missing, out), 1);
    const char *attest[] = {"perfagg", "attest", "--dev-root", fx.root_path, NULL};
    assert_int_equal(run_cli(attest, out), 1);
    assert_true(output_contains(out, "error: network:"));
    json_decref(bundle);
}

/* seal --enclave-pubkey: credentials from stdin, the body on stdout, and the
 * enclave can open it. */
static void test_cli_seal(void **state)
{
    (void)state;
    char out[256], in_path[256];
    snprintf(out, sizeof out, "%s/seal-out.json", fx.dir);
    snprintf(in_path, sizeof in_path, "%s/seal-in.txt", fx.dir);
    write_text(in_path, "cli-key\ncli-secret\n");
    char *pub = b64(fx.enclave_pub, 32);
    const char *args[] = {"perfagg",         "seal", "--exchange", "binance",     "--label",
                          "cli",             "--api-key-file", "-", "--api-secret-file", "-",
                          "--enclave-pubkey", pub, "--symbols", "BTCUSDT", NULL};
    pid_t pid = pa_test_fork(60);
    assert_true(pid >= 0);
    if (pid == 0) {
        int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int ifd = open(in_path, O_RDONLY);
        if (ofd < 0 || ifd < 0)
            _exit(127);
        dup2(ofd, STDOUT_FILENO);
        dup2(ifd, STDIN_FILENO);
        execv(PA_CLI_PATH, (char *const *)args);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(pa_test_wait(pid, &status), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    free(pub);

    pa_buf body;
    pa_client_error err;
    pa_buf_init(&body, 64 * 1024);
    assert_int_equal(pa_client_read_file(out, 64 * 1024, &body, &err), 0);
    assert_null(strstr(pa_buf_cstr(&body), "cli-secret"));
    pa_credentials c;
    memset(&c, 0, sizeof c);
    assert_int_equal(open_body(pa_buf_cstr(&body), &c, NULL), 0);
    assert_string_equal(c.api_key, "cli-key");
    assert_string_equal(c.api_secret, "cli-secret");
    assert_int_equal(c.nsymbols, 1);
    pa_credentials_free(&c);
    pa_buf_free(&body);

    /* metadata.not_after: now + ttl by default, shown on stderr; an explicit
     * --not-after is kept verbatim and must be in the future. */
    char err_path[256];
    snprintf(err_path, sizeof err_path, "%s/seal-err.txt", fx.dir);
    pub = b64(fx.enclave_pub, 32);
    const char *ttl_args[] = {"perfagg", "seal", "--exchange", "binance", "--label", "cli",
                              "--api-key-file", "-", "--api-secret-file", "-",
                              "--enclave-pubkey", pub, "--ttl", "120", NULL};
    int64_t t0 = pa_now_ms();
    assert_int_equal(run_cli_io(ttl_args, NULL, in_path, out, err_path), 0);
    int64_t t1 = pa_now_ms();
    json_t *metadata = NULL;
    pa_buf_init(&body, 64 * 1024);
    assert_int_equal(pa_client_read_file(out, 64 * 1024, &body, &err), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(open_body(pa_buf_cstr(&body), &c, &metadata), 0);
    pa_credentials_free(&c);
    const char *na_text = pa_json_str(metadata, "not_after");
    int64_t na = 0;
    assert_non_null(na_text);
    assert_int_equal(pa_time_parse(na_text, &na), 0);
    assert_true(na >= t0 + 120000 && na <= t1 + 120000);
    char line[256];
    snprintf(line, sizeof line,
             "sealed: the enclave will refuse this envelope after %s by its own clock "
             "(metadata.not_after, now + ttl)",
             na_text);
    assert_true(output_contains(err_path, line));
    json_decref(metadata);
    pa_buf_free(&body);

    const char *na_args[] = {"perfagg", "seal", "--exchange", "binance", "--label", "cli",
                             "--api-key-file", "-", "--api-secret-file", "-",
                             "--enclave-pubkey", pub, "--not-after", "2099-01-01T00:00:00+02:00",
                             NULL};
    assert_int_equal(run_cli_io(na_args, NULL, in_path, out, err_path), 0);
    pa_buf_init(&body, 64 * 1024);
    assert_int_equal(pa_client_read_file(out, 64 * 1024, &body, &err), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(open_body(pa_buf_cstr(&body), &c, &metadata), 0);
    pa_credentials_free(&c);
    assert_string_equal(pa_json_str(metadata, "not_after"), "2099-01-01T00:00:00+02:00");
    assert_null(json_object_get(metadata, "ttl"));
    assert_true(output_contains(err_path, "after 2099-01-01T00:00:00+02:00 by its own clock "
                                          "(metadata.not_after, --not-after)"));
    json_decref(metadata);
    pa_buf_free(&body);

    na_args[13] = "2001-01-01T00:00:00Z";
    assert_int_equal(run_cli_io(na_args, NULL, in_path, out, err_path), 2);
    assert_true(output_contains(err_path, "is not in the future"));
    na_args[13] = "next week";
    assert_int_equal(run_cli_io(na_args, NULL, in_path, out, err_path), 2);
    assert_true(output_contains(err_path, "--not-after must be an RFC 3339 time"));

    /* What the enclave would refuse is refused here, with the reason. */
    const char *dup_args[] = {"perfagg", "seal", "--exchange", "binance", "--label", "cli",
                              "--api-key-file", "-", "--api-secret-file", "-",
                              "--enclave-pubkey", pub, "--symbols", "BTCUSDT,ETHUSDT,BTCUSDT",
                              NULL};
    assert_int_equal(run_cli_io(dup_args, NULL, in_path, out, err_path), 2);
    assert_true(output_contains(err_path, "error: invalid_input: --symbols: BTCUSDT is listed "
                                          "twice"));
    free(pub);
}


/* ---- HTTP: the client against a stand-in server --------------------------------------
 *
 * A forked child serving HTTP/1.1 on a real socket. It plays the parts the
 * real perfagg-server cannot be made to play (a server that echoes the
 * session id, points logs_url elsewhere, answers 17 MiB or garbage), and for
 * the happy paths it does what the enclave does: attests the nonce it was
 * sent and opens the envelope it was given. The real server is exercised by
 * the integration suite. */

typedef enum {
    SRV_NORMAL,
    SRV_LEAK_SESSION,   /* request_aggregates echoes the session id */
    SRV_FOREIGN_LOGS,   /* logs_url points at another host */
    SRV_HUGE,           /* 17 MiB answer */
    SRV_NOT_JSON_500,   /* HTML error page */
    SRV_NITRO,          /* the quote carries the real AWS Nitro document */
    SRV_BACKDATED,      /* a document for our nonce, from a leaf that expired days ago */
    SRV_HOSTILE_TEXT,   /* error codes and messages full of terminal controls */
} srv_mode;

typedef struct {
    srv_mode mode;
    const char *response_text; /* request_aggregates answer */
    const char *logs_text;     /* GET logs answer */
    char logs_path[80];
    char session_id[PA_UUID_STR_LEN];
} srv_config;

static int url_decode(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && in[i] != '&'; i++) {
        if (o + 1 >= outlen)
            return -1;
        if (in[i] == '%' && in[i + 1] && in[i + 2]) {
            uint8_t byte;
            char hex[3] = {in[i + 1], in[i + 2], 0};
            if (pa_hex_decode_exact(hex, &byte, 1) != 0)
                return -1;
            out[o++] = (char)byte;
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = 0;
    return 0;
}

static void srv_reply(int fd, int status, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, len);
    if (write(fd, head, (size_t)n) != n)
        return;
    while (len > 0) {
        ssize_t w = write(fd, body, len);
        if (w <= 0)
            return;
        body += w;
        len -= (size_t)w;
    }
}

static void srv_json(int fd, int status, const char *body)
{
    srv_reply(fd, status, body, strlen(body));
}

static void srv_handle(int fd, const srv_config *cfg)
{
    pa_buf req;
    pa_buf_init(&req, 1 << 20);
    char chunk[4096];
    char *end = NULL;
    size_t need = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0 || pa_buf_append(&req, chunk, (size_t)n) != 0)
            break;
        if (end == NULL && (end = strstr((char *)req.data, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr((char *)req.data, "Content-Length:");
            need = (size_t)(end - (char *)req.data) + 4 +
                   (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
        }
        if (end != NULL && req.len >= need)
            break;
    }
    end = req.data ? strstr((char *)req.data, "\r\n\r\n") : NULL;
    if (end == NULL) {
        pa_buf_free(&req);
        return;
    }
    *end = 0;
    const char *body = end + 4;
    char method[8] = "", path[1024] = "";
    sscanf((char *)req.data, "%7s %1023s", method, path);

    if (strncmp(path, "/attestation/quote?nonce=", 25) == 0) {
        char b64nonce[256];
        uint8_t *nonce = NULL;
        size_t nonce_len = 0;
        if (url_decode(path + 25, b64nonce, sizeof b64nonce) != 0 ||
            pa_b64_decode(b64nonce, strlen(b64nonce), &nonce, &nonce_len) != 0) {
            srv_json(fd, 400, "{\"error\":\"invalid_nonce\",\"message\":\"bad nonce\"}");
        } else {
            char *q = NULL;
            if (cfg->mode == SRV_NITRO) {
                q = nitro_quote();
            } else if (cfg->mode == SRV_BACKDATED) {
                int64_t then = time(NULL) - 10 * 86400;
                pa_buf doc;
                make_custom_doc(then, then + 3 * 3600, (then + 3600) * 1000, nonce, nonce_len,
                                &doc);
                q = quote_of(&doc);
                pa_buf_free(&doc);
            } else {
                q = make_quote(nonce, nonce_len, fx.signing_pub, NULL);
            }
            srv_json(fd, 200, q);
            free(q);
        }
        free(nonce);
    } else if (strcmp(path, "/enclave/submit_key") == 0) {
        pa_credentials c;
        memset(&c, 0, sizeof c);
        if (open_body(body, &c, NULL) == 0 && strcmp(c.api_secret, "http-secret") == 0)
            srv_json(fd, 200, "{\"session_id\":\"9b2f4a4e-8f6b-4b7e-9a37-7f0c2b0e5a11\","
                              "\"expires_at\":\"2099-01-01T00:00:00.000Z\"}");
        else
            srv_json(fd, 400, "{\"error\":\"decryption_failed\",\"message\":\"no\"}");
        pa_credentials_free(&c);
    } else if (strcmp(path, "/enclave/request_aggregates") == 0) {
        if (strstr(body, cfg->session_id) == NULL)
            srv_json(fd, 404, "{\"error\":\"session_not_found\",\"message\":\"Unknown session\"}");
        else if (cfg->mode == SRV_HUGE) {
            size_t len = (size_t)17 << 20;
            char *big = malloc(len);
            if (big) {
                memset(big, ' ', len);
                srv_reply(fd, 200, big, len);
                free(big);
            }
        } else if (cfg->mode == SRV_NOT_JSON_500)
            srv_reply(fd, 500, "<html>oops</html>", 17);
        else if (cfg->mode == SRV_FOREIGN_LOGS)
            srv_json(fd, 200, "{\"logs_url\":\"http://evil.example/api/logs/x\"}");
        else if (cfg->mode == SRV_LEAK_SESSION) {
            char leak[256];
            snprintf(leak, sizeof leak, "{\"logs_url\":\"%s\",\"session\":\"%s\"}", cfg->logs_path,
                     cfg->session_id);
            srv_json(fd, 200, leak);
        } else
            srv_json(fd, 200, cfg->response_text);
    } else if (strcmp(path, cfg->logs_path) == 0 && strcmp(method, "GET") == 0) {
        srv_json(fd, 200, cfg->logs_text);
    } else if (strcmp(path, "/enclave/revoke") == 0 && cfg->mode == SRV_HOSTILE_TEXT) {
        srv_json(fd, 410, "{\"error\":\"gone\\u001b[2J\",\"message\":\"Session \\u001b]0;owned"
                          "\\u0007 was\\r revoked \\u202e\\u009b31m\"}");
    } else if (strcmp(path, "/enclave/revoke") == 0) {
        srv_json(fd, 410, "{\"error\":\"session_revoked\",\"message\":\"Session was revoked\"}");
    } else {
        srv_json(fd, 404, "{\"error\":\"not_found\",\"message\":\"No such route\"}");
    }
    pa_buf_free(&req);
}

/* Starts the server; *url receives its base URL. */
static pid_t srv_start(const srv_config *cfg, char *url, size_t urllen)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(ls >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    assert_int_equal(bind(ls, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(ls, 16), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&addr, &alen), 0);
    snprintf(url, urllen, "http://127.0.0.1:%u", (unsigned)ntohs(addr.sin_port));
    pid_t pid = pa_test_fork(60);
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
            int fd = accept(ls, NULL, NULL);
            if (fd < 0)
                continue;
            srv_handle(fd, cfg);
            close(fd);
        }
    }
    close(ls);
    return pid;
}

static void srv_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    pa_test_wait(pid, NULL);
}

/* The served texts: deliberately not canonical (indentation, key order,
 * number spellings like 1.50 and 1e2) to show they are kept byte for byte. */
static void served_texts(json_t *bundle, char **response_text, char **logs_text)
{
    char *resp = json_dumps(json_object_get(bundle, "response"), JSON_INDENT(1));
    char *logs = json_dumps(json_object_get(bundle, "logs"), JSON_INDENT(3));
    assert_non_null(resp);
    assert_non_null(logs);
    /* "sharpe": 1.2345678 -> 1.23456780 (same number, other text). */
    char *p = strstr(resp, "1.2345678");
    assert_non_null(p);
    size_t len = strlen(resp);
    char *longer = malloc(len + 2);
    assert_non_null(longer);
    size_t off = (size_t)(p - resp) + 9;
    memcpy(longer, resp, off);
    longer[off] = '0';
    memcpy(longer + off + 1, resp + off, len - off + 1);
    free(resp);
    *response_text = longer;
    *logs_text = logs;
}

static void test_http_fetch_bundle(void **state)
{
    (void)state;
    json_t *bundle = valid_bundle();
    srv_config cfg = {.mode = SRV_NORMAL};
    char *resp_text, *logs_text;
    served_texts(bundle, &resp_text, &logs_text);
    cfg.response_text = resp_text;
    cfg.logs_text = logs_text;
    snprintf(cfg.logs_path, sizeof cfg.logs_path, "%s",
             pa_json_str(json_object_get(bundle, "response"), "logs_url"));
    assert_int_equal(pa_uuid_v4(cfg.session_id), 0);
    char url[64];
    pid_t pid = srv_start(&cfg, url, sizeof url);

    pa_buf out;
    pa_buf_init(&out, PA_CLIENT_BUNDLE_MAX);
    pa_client_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(pa_client_fetch_bundle(url, cfg.session_id, "2024-01-01T00:00:00Z", NULL,
                                            "verifier-challenge", &out, &err),
                     0);
    /* Byte for byte: {"version":1,"response":<as served>,"logs":<as served>}. */
    pa_buf want;
    pa_buf_init(&want, PA_CLIENT_BUNDLE_MAX);
    assert_int_equal(pa_buf_printf(&want, "{\"version\":1,\"response\":%s,\"logs\":%s}\n",
                                   resp_text, logs_text),
                     0);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.data, want.data, want.len);
    assert_non_null(strstr(pa_buf_cstr(&out), "1.23456780"));
    assert_null(strstr(pa_buf_cstr(&out), cfg.session_id));
    pa_verify_report r;
    assert_int_equal(pa_client_verify_bundle((const char *)out.data, out.len, fx.root, NULL, &r),
                     0);

    /* The CLI: aggregates --out, then verify the file it wrote. */
    char path[256], log_path[256];
    snprintf(path, sizeof path, "%s/http-bundle.json", fx.dir);
    snprintf(log_path, sizeof log_path, "%s/http-cli.txt", fx.dir);
    const char *agg[] = {"perfagg", "aggregates", cfg.session_id, "--url", url, "--out", path,
                         NULL};
    assert_int_equal(run_cli(agg, log_path), 0);
    assert_true(output_contains(log_path, "pnl             1234.56789012 USDT"));
    pa_buf file;
    pa_buf_init(&file, PA_CLIENT_BUNDLE_MAX);
    assert_int_equal(pa_client_read_file(path, PA_CLIENT_BUNDLE_MAX, &file, &err), 0);
    assert_int_equal(file.len, want.len);
    assert_memory_equal(file.data, want.data, want.len);
    const char *ver[] = {"perfagg", "verify", path, "--dev-root", fx.root_path, NULL};
    assert_int_equal(run_cli(ver, log_path), 0);

    /* Unknown session: the API's error, verbatim. */
    char other[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(other), 0);
    assert_int_equal(pa_client_fetch_bundle(url, other, NULL, NULL, NULL, &out, &err), -1);
    assert_string_equal(err.code, "session_not_found");
    assert_string_equal(err.message, "Unknown session");
    assert_int_equal(err.http_status, 404);
    const char *agg_other[] = {"perfagg", "aggregates", other, "--url", url, "--out", path, NULL};
    assert_int_equal(run_cli(agg_other, log_path), 1);
    assert_true(output_contains(log_path, "error: session_not_found: Unknown session"));

    srv_stop(pid);
    pa_buf_free(&out);
    pa_buf_free(&want);
    pa_buf_free(&file);
    free(resp_text);
    free(logs_text);
    json_decref(bundle);
}

static void expect_fetch_error(srv_mode mode, const char *code)
{
    srv_config cfg = {.mode = mode};
    assert_int_equal(pa_uuid_v4(cfg.session_id), 0);
    snprintf(cfg.logs_path, sizeof cfg.logs_path, "/api/logs/%s", cfg.session_id);
    char url[64];
    pid_t pid = srv_start(&cfg, url, sizeof url);
    pa_buf out;
    pa_buf_init(&out, PA_CLIENT_BUNDLE_MAX);
    pa_client_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(pa_client_fetch_bundle(url, cfg.session_id, NULL, NULL, NULL, &out, &err), -1);
    assert_string_equal(err.code, code);
    assert_int_equal(out.len, 0);
    srv_stop(pid);
    pa_buf_free(&out);
}

static void test_http_hostile_server(void **state)
{
    (void)state;
    expect_fetch_error(SRV_LEAK_SESSION, "session_id_leak");
    expect_fetch_error(SRV_FOREIGN_LOGS, "bad_response");
    expect_fetch_error(SRV_HUGE, "response_too_large");
    expect_fetch_error(SRV_NOT_JSON_500, "http_error");

    srv_config cfg = {.mode = SRV_NORMAL};
    char url[64];
    pid_t pid = srv_start(&cfg, url, sizeof url);
    char msg[128];
    pa_client_error err;
    assert_int_equal(
        pa_client_revoke(url, "9b2f4a4e-8f6b-4b7e-9a37-7f0c2b0e5a11", msg, sizeof msg, &err), -1);
    assert_string_equal(err.code, "session_revoked");
    assert_int_equal(err.http_status, 410);
    srv_stop(pid);

    /* Nothing listening. */
    pa_client_attestation att;
    assert_int_equal(attest_pinned("http://127.0.0.1:1", fx.root, NULL, &att, &err), -1);
    assert_string_equal(err.code, "network");
    assert_int_equal(att.report.n, 0);
}

/* attest + seal + submit, as `perfagg submit` does them. */
static void test_http_attest_and_submit(void **state)
{
    (void)state;
    srv_config cfg = {.mode = SRV_NORMAL};
    char url[64];
    pid_t pid = srv_start(&cfg, url, sizeof url);
    pa_client_attestation att;
    pa_client_error err;
    memset(&err, 0, sizeof err);
    /* Several fresh nonces, so '+', '/' and '=' in base64 get URL-encoded. */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(attest_pinned(url, fx.root, fx.pcr0_hex, &att, &err), 0);
        expect_report(&att.report, NULL, NULL);
    }
    assert_memory_equal(att.enclave_pubkey, fx.enclave_pub, 32);
    assert_int_equal(attest_pinned(url, fx.other_root, NULL, &att, &err), -1);
    assert_string_equal(err.code, "attestation_failed");
    assert_int_equal(pa_verify_report_get(&att.report, "attestation")->status, PA_CHECK_FAILED);

    /* The CLI end to end: secrets on stdin, session id alone on stdout. */
    char in_path[256], out_path[256];
    snprintf(in_path, sizeof in_path, "%s/submit-in.txt", fx.dir);
    snprintf(out_path, sizeof out_path, "%s/submit-out.txt", fx.dir);
    write_text(in_path, "http-key\nhttp-secret\n");
    const char *args[] = {"perfagg",      "submit",       "--url",        url,
                          "--exchange",   "binance",      "--label",      "main",
                          "--api-key-file", "-",          "--api-secret-file", "-",
                          "--dev-root",   fx.root_path,   "--image-hash", fx.pcr0_hex,
                          NULL};
    pid_t cli = pa_test_fork(60);
    assert_true(cli >= 0);
    if (cli == 0) {
        int ofd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int ifd = open(in_path, O_RDONLY);
        int devnull = open("/dev/null", O_WRONLY);
        if (ofd < 0 || ifd < 0 || devnull < 0)
            _exit(127);
        dup2(ofd, STDOUT_FILENO);
        dup2(ifd, STDIN_FILENO);
        dup2(devnull, STDERR_FILENO);
        execv(PA_CLI_PATH, (char *const *)args);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(pa_test_wait(cli, &status), cli);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    pa_buf out;
    pa_buf_init(&out, 4096);
    assert_int_equal(pa_client_read_file(out_path, 4096, &out, &err), 0);
    assert_string_equal(pa_buf_cstr(&out), "9b2f4a4e-8f6b-4b7e-9a37-7f0c2b0e5a11\n");
    pa_buf_free(&out);

    /* Attestation under the wrong root: refuses to submit (exit 1). */
    const char *wrong[] = {"perfagg", "submit", "--url", url, "--exchange", "binance", "--label",
                           "main", "--api-key-file", in_path, "--api-secret-file", in_path,
                           "--dev-root", fx.other_root_path, NULL};
    assert_int_equal(run_cli(wrong, out_path), 1);
    assert_true(output_contains(out_path, "attestation FAILED"));
    srv_stop(pid);
}

/* ---- the CLI and foreign text, the CLI and the image pin ------------------------------ */

/* A signed challenge (and label) that would redraw the screen, retitle the
 * terminal, return the cursor and reverse the digits after it. */
#define HOSTILE_TEXT                                                                               \
    "\x1b[2J\x1b[1;1Hpnl 999999999.99 USDT\r\x1b]0;owned\x07 \xc2\x9b" "31m \xe2\x80\xae" "1000"

static void test_cli_foreign_text(void **state)
{
    (void)state;
    bundle_opts o = {.challenge = HOSTILE_TEXT, .label = "main\r\x1b[Kvictim \xe2\x81\xa6"};
    json_t *bundle = make_bundle(&o);
    char *text = json_dumps(bundle, JSON_COMPACT);
    char path[256], out[256];
    snprintf(path, sizeof path, "%s/hostile-bundle.json", fx.dir);
    snprintf(out, sizeof out, "%s/hostile-out.txt", fx.dir);
    pa_client_error err;
    assert_int_equal(pa_client_write_file_atomic(path, (const uint8_t *)text, strlen(text), &err),
                     0);
    free(text);

    /* Verified: it is authentic, and still printed escaped. */
    const char *ok[] = {"perfagg", "verify", path, "--dev-root", fx.root_path, NULL};
    assert_int_equal(run_cli(ok, out), 0);
    const char *hazard = terminal_hazard(out);
    if (hazard != NULL)
        fail_msg("verify printed %s", hazard);
    assert_true(output_contains(out, "challenge       \\x1b[2J\\x1b[1;1Hpnl 999999999.99 USDT"
                                     "\\x0d\\x1b]0;owned\\x07 \\u009b31m \\u202e1000\n"));
    assert_true(output_contains(out, "(label main\\x0d\\x1b[Kvictim \\u2066)"));
    assert_true(output_contains(out, "VERIFIED against a DEVELOPMENT root"));

    /* Not verified: every claim is marked, and escaped too. */
    const char *bad[] = {"perfagg", "verify", path, "--dev-root", fx.other_root_path, NULL};
    assert_int_equal(run_cli(bad, out), 1);
    hazard = terminal_hazard(out);
    if (hazard != NULL)
        fail_msg("verify of a failing bundle printed %s", hazard);
    assert_true(output_contains(out, "UNVERIFIED claims"));
    assert_true(output_contains(out, "UNVERIFIED challenge       \\x1b[2J"));
    assert_true(output_contains(out, "UNVERIFIED pnl             1234.56789012 USDT"));
    assert_true(output_contains(out, "NOT VERIFIED"));
    assert_false(output_contains(out, "\nchallenge"));

    /* aggregates prints the server's answer: escaped. */
    srv_config cfg = {.mode = SRV_NORMAL};
    char *resp_text, *logs_text;
    served_texts(bundle, &resp_text, &logs_text);
    cfg.response_text = resp_text;
    cfg.logs_text = logs_text;
    snprintf(cfg.logs_path, sizeof cfg.logs_path, "%s",
             pa_json_str(json_object_get(bundle, "response"), "logs_url"));
    assert_int_equal(pa_uuid_v4(cfg.session_id), 0);
    char url[64];
    pid_t pid = srv_start(&cfg, url, sizeof url);
    char saved[256];
    snprintf(saved, sizeof saved, "%s/hostile-saved.json", fx.dir);
    const char *agg[] = {"perfagg", "aggregates", cfg.session_id, "--url", url, "--out", saved,
                         NULL};
    assert_int_equal(run_cli(agg, out), 0);
    hazard = terminal_hazard(out);
    if (hazard != NULL)
        fail_msg("aggregates printed %s", hazard);
    assert_true(output_contains(out, "not verified yet"));
    assert_true(output_contains(out, "challenge       \\x1b[2J"));
    srv_stop(pid);

    /* An API error's code and message: escaped. */
    cfg.mode = SRV_HOSTILE_TEXT;
    pid = srv_start(&cfg, url, sizeof url);
    const char *revoke[] = {"perfagg", "revoke", cfg.session_id, "--url", url, NULL};
    assert_int_equal(run_cli(revoke, out), 1);
    hazard = terminal_hazard(out);
    if (hazard != NULL)
        fail_msg("revoke printed %s", hazard);
    assert_true(output_contains(out, "error: gone\\x1b[2J: Session \\x1b]0;owned\\x07 was\\x0d "
                                     "revoked \\u202e\\u009b31m\n"));
    srv_stop(pid);

    free(resp_text);
    free(logs_text);
    json_decref(bundle);
}

static void test_cli_image_hash(void **state)
{
    (void)state;
    char out[256], key_path[256], bundle_path[256];
    snprintf(out, sizeof out, "%s/pin-out.txt", fx.dir);
    snprintf(key_path, sizeof key_path, "%s/pin-key.txt", fx.dir);
    snprintf(bundle_path, sizeof bundle_path, "%s/pin-bundle.json", fx.dir);
    write_text(key_path, "pin-credential\n");
    srv_config cfg = {.mode = SRV_NITRO};
    char url[64];
    pid_t pid = srv_start(&cfg, url, sizeof url);

    /* The AWS root and no image: refused before anything is fetched. */
    const char *attest[] = {"perfagg", "attest", "--url", url, NULL};
    assert_int_equal(run_cli_io(attest, NULL, NULL, out, NULL), 2);
    assert_true(output_contains(out, "perfagg attest: " PA_CLIENT_IMAGE_HASH_REQUIRED));
    assert_false(output_contains(out, "attestation of"));
    assert_int_equal(run_cli_io(attest, "", NULL, out, NULL), 2); /* empty = unset */
    assert_true(output_contains(out, PA_CLIENT_IMAGE_HASH_REQUIRED));
    assert_int_equal(run_cli_io(attest, "xyz", NULL, out, NULL), 2);
    assert_true(output_contains(out, "PERFAGG_IMAGE_HASH must be 96 hex digits"));

    /* Pinned (option, alias or environment; the option wins). The genuine
     * Nitro document is checked LIVE, at the current time: its leaf expired
     * in 2024 and it was not made just now, so it is refused (exit 1), and
     * the pin is not even compared. (test_cli_attest_document compares it
     * offline, as of the document's time.) */
    const char *pinned[] = {"perfagg", "attest", "--url", url, "--image-hash", PROD_PCR0_HEX, NULL};
    const char *alias[] = {"perfagg", "attest", "--url", url, "--pcr0", PROD_PCR0_HEX, NULL};
    const char *envs[] = {NULL, fx.pcr0_hex};
    for (size_t i = 0; i < PA_ARRAY_LEN(envs); i++) {
        assert_int_equal(run_cli_io(pinned, envs[i], NULL, out, NULL), 1);
        assert_true(output_contains(out, "  FAILED  attestation              document not valid "
                                         "under the pinned AWS Nitro root as of "));
        assert_true(output_contains(out, "certificate has expired"));
        assert_true(output_contains(out, "before the time of the check (at most 300 s allowed)"));
        assert_true(output_contains(out, "  skipped expected_image_hash"));
        assert_true(output_contains(out, "root: AWS Nitro Enclaves Root G1"));
        assert_true(output_contains(out, "attestation FAILED"));
        assert_int_equal(run_cli_io(alias, envs[i], NULL, out, NULL), 1);
        assert_true(output_contains(out, "  skipped expected_image_hash"));
    }
    assert_int_equal(run_cli_io(attest, PROD_PCR0_HEX, NULL, out, NULL), 1);
    assert_true(output_contains(out, "  skipped expected_image_hash"));
    const char *both[] = {"perfagg", "attest", "--url", url, "--pcr0", PROD_PCR0_HEX,
                          "--image-hash", PROD_PCR0_HEX, NULL};
    assert_int_equal(run_cli_io(both, NULL, NULL, out, NULL), 2);
    /* --max-age does not rescue an expired leaf */
    const char *old_ok[] = {"perfagg", "attest", "--url", url, "--image-hash", PROD_PCR0_HEX,
                            "--max-age", "86400", NULL};
    assert_int_equal(run_cli_io(old_ok, NULL, NULL, out, NULL), 1);
    assert_true(output_contains(out, "certificate has expired"));

    /* submit and seal attest the same way. */
    const char *submit[] = {"perfagg", "submit", "--url", url, "--exchange", "binance",
                            "--label", "m", "--api-key-file", key_path, "--api-secret-file",
                            key_path, NULL};
    assert_int_equal(run_cli_io(submit, NULL, NULL, out, NULL), 2);
    assert_true(output_contains(out, "perfagg submit: " PA_CLIENT_IMAGE_HASH_REQUIRED));
    assert_int_equal(run_cli_io(submit, PROD_PCR0_HEX, NULL, out, NULL), 1);
    assert_true(output_contains(out, "attestation FAILED"));
    const char *seal[] = {"perfagg", "seal", "--url", url, "--exchange", "binance", "--label", "m",
                          "--api-key-file", key_path, "--api-secret-file", key_path, NULL};
    assert_int_equal(run_cli_io(seal, NULL, NULL, out, NULL), 2);
    assert_true(output_contains(out, "perfagg seal: " PA_CLIENT_IMAGE_HASH_REQUIRED));
    /* ... unless the key is named: then nothing is attested, nothing pinned. */
    char *pub = b64(fx.enclave_pub, 32);
    const char *seal_key[] = {"perfagg", "seal", "--exchange", "binance", "--label", "m",
                              "--api-key-file", key_path, "--api-secret-file", key_path,
                              "--enclave-pubkey", pub, NULL};
    assert_int_equal(run_cli_io(seal_key, NULL, NULL, out, NULL), 0);
    assert_int_equal(run_cli_io(seal_key, "xyz", NULL, out, NULL), 0);
    free(pub);
    srv_stop(pid);

    /* verify, on a bundle whose attestation is the genuine document. */
    json_t *bundle = nitro_bundle();
    char *text = json_dumps(bundle, JSON_COMPACT);
    pa_client_error err;
    assert_int_equal(
        pa_client_write_file_atomic(bundle_path, (const uint8_t *)text, strlen(text), &err), 0);
    free(text);
    json_decref(bundle);
    const char *verify[] = {"perfagg", "verify", bundle_path, NULL};
    assert_int_equal(run_cli_io(verify, NULL, NULL, out, NULL), 2);
    assert_true(output_contains(out, "perfagg verify: " PA_CLIENT_IMAGE_HASH_REQUIRED));
    assert_int_equal(run_cli_io(verify, PROD_PCR0_HEX, NULL, out, NULL), 1);
    assert_true(output_contains(out, "  ok      expected_image_hash"));
    assert_true(output_contains(out, "  FAILED  payload_signature"));
    assert_int_equal(run_cli_io(verify, fx.pcr0_hex, NULL, out, NULL), 1);
    assert_true(output_contains(out, "  FAILED  expected_image_hash"));

    /* A development root: the pin is optional, and the output says so. */
    cfg.mode = SRV_NORMAL;
    pid = srv_start(&cfg, url, sizeof url);
    const char *dev[] = {"perfagg", "attest", "--url", url, "--dev-root", fx.root_path, NULL};
    assert_int_equal(run_cli_io(dev, NULL, NULL, out, NULL), 0);
    assert_true(output_contains(out, "image: not pinned (the development root is itself"));
    assert_false(output_contains(out, "expected_image_hash"));
    assert_int_equal(run_cli_io(dev, fx.pcr0_hex, NULL, out, NULL), 0);
    assert_true(output_contains(out, "  ok      expected_image_hash"));
    assert_false(output_contains(out, "image: not pinned"));
    assert_int_equal(run_cli_io(dev, PROD_PCR0_HEX, NULL, out, NULL), 1);
    assert_true(output_contains(out, "  FAILED  expected_image_hash"));
    srv_stop(pid);
}

/* The CLI refuses a backdated document in a live check, for attest and for
 * submit (nothing is sealed to it). */
static void test_cli_live_backdated(void **state)
{
    (void)state;
    char out[256], key_path[256];
    snprintf(out, sizeof out, "%s/backdated-out.txt", fx.dir);
    snprintf(key_path, sizeof key_path, "%s/backdated-key.txt", fx.dir);
    write_text(key_path, "backdated-credential\n");
    srv_config cfg = {.mode = SRV_BACKDATED};
    char url[64];
    pid_t pid = srv_start(&cfg, url, sizeof url);
    const char *attest[] = {"perfagg", "attest", "--url", url, "--dev-root", fx.tca_root_path,
                            "--image-hash", fx.pcr0_hex, NULL};
    assert_int_equal(run_cli(attest, out), 1);
    assert_true(output_contains(out, "  FAILED  attestation"));
    assert_true(output_contains(out, "certificate has expired"));
    assert_true(output_contains(out, "s before the time of the check"));
    assert_true(output_contains(out, "attestation FAILED: nothing may be sealed"));
    const char *submit[] = {"perfagg", "submit", "--url", url, "--exchange", "binance", "--label",
                            "m", "--api-key-file", key_path, "--api-secret-file", key_path,
                            "--dev-root", fx.tca_root_path, NULL};
    assert_int_equal(run_cli(submit, out), 1);
    assert_true(output_contains(out, "certificate has expired"));
    assert_false(output_contains(out, "sealed:"));
    /* --max-age cannot rescue it, and a bad value is a usage error */
    const char *lax[] = {"perfagg", "attest", "--url", url, "--dev-root", fx.tca_root_path,
                         "--max-age", "86400", NULL};
    assert_int_equal(run_cli(lax, out), 1);
    assert_true(output_contains(out, "certificate has expired"));
    const char *bad_age[] = {"perfagg", "attest", "--url", url, "--dev-root", fx.tca_root_path,
                             "--max-age", "0", NULL};
    assert_int_equal(run_cli(bad_age, out), 2);
    assert_true(output_contains(out, "--max-age must be a number of seconds"));
    srv_stop(pid);

    /* A normal enclave answer passes live; PERFAGG_ATTEST_MAX_AGE is read. */
    cfg.mode = SRV_NORMAL;
    pid = srv_start(&cfg, url, sizeof url);
    const char *ok[] = {"perfagg", "attest", "--url", url, "--dev-root", fx.root_path,
                        "--pcr1", "000000000000000000000000000000000000000000000000"
                                  "000000000000000000000000000000000000000000000000", NULL};
    assert_int_equal(run_cli(ok, out), 0);
    assert_true(output_contains(out, "PCR1 = the values you gave"));
    assert_true(output_contains(out, "attestation verified (DEVELOPMENT)"));
    setenv(PA_CLIENT_MAX_AGE_ENV, "-5", 1);
    int rc = run_cli(ok, out);
    unsetenv(PA_CLIENT_MAX_AGE_ENV);
    assert_int_equal(rc, 2);
    assert_true(output_contains(out, "PERFAGG_ATTEST_MAX_AGE must be a number of seconds"));
    srv_stop(pid);
}

/* Writes text to dir/name and returns the path (static buffer per slot). */
static const char *write_doc_file(const char *name, const uint8_t *data, size_t len)
{
    static char paths[8][256];
    static int slot;
    char *path = paths[slot++ % 8];
    snprintf(path, 256, "%s/%s", fx.dir, name);
    pa_client_error err;
    assert_int_equal(pa_client_write_file_atomic(path, data, len, &err), 0);
    return path;
}

/* perfagg attest --document: an auditor's offline check. */
static void test_cli_attest_document(void **state)
{
    (void)state;
    char out[256];
    snprintf(out, sizeof out, "%s/doc-out.txt", fx.dir);
    const char *prod = NITRO_DIR "/nitro_attestation.b64";
    const char *debug = NITRO_DIR "/nitro_attestation_debug.b64";
    const char *aws_pem = NITRO_DIR "/aws_nitro_root_g1.pem";

    /* the production document, as of its time, with its PCR0: valid */
    const char *ok[] = {"perfagg", "attest", "--document", prod, "--root", aws_pem, "--at",
                        PROD_TIME, "--pcr0", PROD_PCR0_HEX, NULL};
    assert_int_equal(run_cli(ok, out), 0);
    assert_true(output_contains(out, "  ok      certificate_chain        signing leaf -> "
                                     "intermediates -> the pinned AWS Nitro root, valid as of "
                                     "2024-09-07T14:37:39.545Z"));
    assert_true(output_contains(out, "  ok      expected_pcrs"));
    assert_true(output_contains(out, "verified fields:"));
    assert_true(output_contains(out, "module_id       i-0a22e5c5f24d22174-enc0191cceb4289903f\n"));
    assert_true(output_contains(out, "PCR0            " PROD_PCR0_HEX "\n"));
    assert_true(output_contains(out, "leaf valid      2024-09-07T14:37:36.000Z .. "
                                     "2024-09-07T17:37:39.000Z"));
    assert_true(output_contains(out, "not checked: nonce (no --nonce)"));
    assert_true(output_contains(out, "Nitro attestation has no revocation"));
    /* the built-in root by default; the raw COSE bytes as well as base64 */
    pa_buf text;
    pa_client_error err;
    pa_buf_init(&text, 64 * 1024);
    assert_int_equal(pa_client_read_file(prod, 64 * 1024, &text, &err), 0);
    size_t n = text.len;
    while (n > 0 && (text.data[n - 1] == '\n' || text.data[n - 1] == '\r'))
        n--;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    assert_int_equal(pa_b64_decode((const char *)text.data, n, &raw, &raw_len), 0);
    pa_buf_free(&text);
    const char *raw_path = write_doc_file("prod.cose", raw, raw_len);
    const char *ok_raw[] = {"perfagg", "attest", "--document", raw_path, "--at", PROD_TIME,
                            "--pcr0", PROD_PCR0_HEX, NULL};
    assert_int_equal(run_cli(ok_raw, out), 0);
    assert_true(output_contains(out, "(7539 bytes)"));
    /* base64 wrapped at 76 columns, as base64(1) writes it */
    char *b = pa_b64_encode(raw, raw_len);
    assert_non_null(b);
    pa_buf wrapped;
    pa_buf_init(&wrapped, 64 * 1024);
    size_t blen = strlen(b);
    for (size_t i = 0; i < blen; i += 76) {
        size_t k = blen - i < 76 ? blen - i : 76;
        assert_int_equal(pa_buf_append(&wrapped, b + i, k), 0);
        assert_int_equal(pa_buf_append(&wrapped, "\n", 1), 0);
    }
    free(b);
    const char *wrapped_path = write_doc_file("prod-wrapped.b64", wrapped.data, wrapped.len);
    pa_buf_free(&wrapped);
    const char *ok_wrapped[] = {"perfagg", "attest", "--document", wrapped_path, "--at", PROD_TIME,
                                NULL};
    assert_int_equal(run_cli(ok_wrapped, out), 0);
    assert_true(output_contains(out, "not checked: PCR0 (no --pcr0)"));
    /* its nonce and keys are 1024 bytes of 0x01: the right --nonce passes */
    uint8_t ones[1024];
    memset(ones, 0x01, sizeof ones);
    char *ones_b64 = b64(ones, sizeof ones);
    const char *nonce_ok[] = {"perfagg", "attest", "--document", prod, "--at", PROD_TIME,
                              "--nonce", ones_b64, NULL};
    assert_int_equal(run_cli(nonce_ok, out), 0);
    assert_true(output_contains(out, "  ok      nonce"));
    free(ones_b64);

    /* every reason at once: now (expired, too old), a wrong PCR0 and PCR1, a
     * wrong nonce, keys it does not bind */
    char other_pcr[PA_CLIENT_HEX_PCR_LEN];
    snprintf(other_pcr, sizeof other_pcr, "%s", PROD_PCR0_HEX);
    other_pcr[0] = 'f';
    char *epk = b64(fx.enclave_pub, 32), *spk = b64(fx.signing_pub, 32);
    const char *all_bad[] = {"perfagg", "attest", "--document", prod, "--pcr0", other_pcr,
                             "--pcr1", PROD_PCR0_HEX, "--nonce", "AAAA", "--enclave-pubkey", epk,
                             "--signing-pubkey", spk, NULL};
    assert_int_equal(run_cli(all_bad, out), 1);
    static const char *const reasons[] = {
        "  FAILED  certificate_chain        certificate chain: certificate has expired",
        "  FAILED  timestamp                timestamp is ",
        "  FAILED  expected_pcrs            PCR0 is not the expected value; PCR1 is not the "
        "expected value",
        "  FAILED  nonce                    the document's nonce is not the expected one",
        "  FAILED  public_key               the document's public_key is not the expected one",
        "  FAILED  key_binding              the document's user_data is not the expected one",
        "  ok      signature",
        "attestation document NOT valid: 6 check(s) failed"};
    for (size_t i = 0; i < PA_ARRAY_LEN(reasons); i++)
        if (!output_contains(out, reasons[i]))
            fail_msg("missing from the output: %s", reasons[i]);
    assert_false(output_contains(out, "verified fields"));

    /* outside the leaf's validity, even with a lax age limit */
    const char *later[] = {"perfagg", "attest", "--document", prod, "--at",
                           "2024-09-07T18:00:00Z", "--max-age", "86400", NULL};
    assert_int_equal(run_cli(later, out), 1);
    assert_true(output_contains(out, "FAILED  certificate_chain        certificate chain: "
                                     "certificate has expired"));
    /* the debug document: refused unless allowed */
    const char *dbg[] = {"perfagg", "attest", "--document", debug, "--at", DEBUG_TIME, NULL};
    assert_int_equal(run_cli(dbg, out), 1);
    assert_true(output_contains(out, "  FAILED  debug_mode               debug-mode enclave"));
    const char *dbg_ok[] = {"perfagg", "attest", "--document", debug, "--at", DEBUG_TIME,
                            "--allow-debug", NULL};
    assert_int_equal(run_cli(dbg_ok, out), 0);
    assert_true(output_contains(out, "debug_mode      YES (PCR0-2 zero)"));
    /* a self-made root */
    const char *self_root[] = {"perfagg", "attest", "--document", prod, "--root", fx.root_path,
                               "--at", PROD_TIME, NULL};
    assert_int_equal(run_cli(self_root, out), 1);
    assert_true(output_contains(out, "cabundle[0] is not the pinned root"));
    assert_true(output_contains(out, "(NOT the AWS Nitro root)"));
    /* a flipped bit in the signed payload, and in the signature */
    raw[4000] ^= 0x10;
    const char *flipped_path = write_doc_file("flipped.cose", raw, raw_len);
    const char *flipped[] = {"perfagg", "attest", "--document", flipped_path, "--at", PROD_TIME,
                             NULL};
    assert_int_equal(run_cli(flipped, out), 1);
    assert_true(output_contains(out, "  FAILED  signature"));
    raw[4000] ^= 0x10;
    raw[raw_len - 1] ^= 0x01;
    flipped_path = write_doc_file("flipped2.cose", raw, raw_len);
    assert_int_equal(run_cli(flipped, out), 1);
    assert_true(output_contains(out, "  FAILED  signature"));
    raw[raw_len - 1] ^= 0x01;
    /* a double tag: refused as a document format */
    uint8_t *tagged = malloc(raw_len + 3);
    assert_non_null(tagged);
    memcpy(tagged, "\xd2\xd8\x12", 3);
    memcpy(tagged + 3, raw, raw_len);
    const char *tagged_path = write_doc_file("tagged.cose", tagged, raw_len + 3);
    const char *tagged_args[] = {"perfagg", "attest", "--document", tagged_path, "--at", PROD_TIME,
                                 NULL};
    assert_int_equal(run_cli(tagged_args, out), 1);
    assert_true(output_contains(out, "  FAILED  document_format          only one COSE tag 18"));
    assert_true(output_contains(out, "  skipped signature"));
    free(tagged);
    free(raw);

    /* our own document, with everything given: the same verifier passes it */
    uint8_t nonce[24];
    memset(nonce, 0x33, sizeof nonce);
    uint8_t binding[32];
    pa_attest_key_binding(fx.enclave_pub, fx.signing_pub, binding);
    pa_buf doc;
    pa_buf_init(&doc, 64 * 1024);
    assert_int_equal(pa_attest_document(fx.platform, fx.enclave_pub, 32, binding, 32, nonce,
                                        sizeof nonce, &doc),
                     0);
    char *doc_b64 = b64(doc.data, doc.len);
    const char *own_path = write_doc_file("own.b64", (const uint8_t *)doc_b64, strlen(doc_b64));
    free(doc_b64);
    char *nonce_b64 = b64(nonce, sizeof nonce);
    const char *own[] = {"perfagg", "attest", "--document", own_path, "--root", fx.root_path,
                         "--pcr0", fx.pcr0_hex, "--nonce", nonce_b64, "--enclave-pubkey", epk,
                         "--signing-pubkey", spk, NULL};
    assert_int_equal(run_cli(own, out), 0);
    assert_true(output_contains(out, "  ok      key_binding"));
    assert_true(output_contains(out, "  ok      nonce"));
    /* ... not with the other signing key, nor under the AWS root */
    char *other_spk = b64(fx.other_signing_pub, 32);
    const char *own_other[] = {"perfagg", "attest", "--document", own_path, "--root",
                               fx.root_path, "--enclave-pubkey", epk, "--signing-pubkey",
                               other_spk, NULL};
    assert_int_equal(run_cli(own_other, out), 1);
    assert_true(output_contains(out, "  ok      public_key"));
    assert_true(output_contains(out, "  FAILED  key_binding"));
    const char *own_aws[] = {"perfagg", "attest", "--document", own_path, NULL};
    assert_int_equal(run_cli(own_aws, out), 1);
    assert_true(output_contains(out, "cabundle[0] is not the pinned root"));
    free(other_spk);
    free(nonce_b64);
    pa_buf_free(&doc);

    /* a backdated document of ours: refused now, valid as of its own day
     * (which is all an offline check claims) */
    int64_t then = time(NULL) - 10 * 86400;
    make_custom_doc(then, then + 3 * 3600, (then + 3600) * 1000, nonce, sizeof nonce, &doc);
    const char *old_path = write_doc_file("old.cose", doc.data, doc.len);
    pa_buf_free(&doc);
    const char *old_now[] = {"perfagg", "attest", "--document", old_path, "--root",
                             fx.tca_root_path, NULL};
    assert_int_equal(run_cli(old_now, out), 1);
    assert_true(output_contains(out, "certificate has expired"));
    char at_then[PA_TIME_STR_LEN];
    pa_time_format((then + 3600) * 1000 + 5000, at_then);
    const char *old_then[] = {"perfagg", "attest", "--document", old_path, "--root",
                              fx.tca_root_path, "--at", at_then, NULL};
    assert_int_equal(run_cli(old_then, out), 0);

    /* usage errors: 2; an unreadable document: 1 */
    const char *half_keys[] = {"perfagg", "attest", "--document", prod, "--enclave-pubkey", epk,
                               NULL};
    assert_int_equal(run_cli(half_keys, out), 2);
    const char *bad_at[] = {"perfagg", "attest", "--document", prod, "--at", "yesterday", NULL};
    assert_int_equal(run_cli(bad_at, out), 2);
    const char *bad_pcr[] = {"perfagg", "attest", "--document", prod, "--pcr0", "abc", NULL};
    assert_int_equal(run_cli(bad_pcr, out), 2);
    const char *bad_nonce[] = {"perfagg", "attest", "--document", prod, "--nonce", "!!", NULL};
    assert_int_equal(run_cli(bad_nonce, out), 2);
    const char *dev_root[] = {"perfagg", "attest", "--document", prod, "--dev-root", fx.root_path,
                              NULL};
    assert_int_equal(run_cli(dev_root, out), 2);
    const char *no_doc[] = {"perfagg", "attest", "--at", PROD_TIME, "--dev-root", fx.root_path,
                            NULL};
    assert_int_equal(run_cli(no_doc, out), 2);
    assert_true(output_contains(out, "need --document"));
    const char *debug_live[] = {"perfagg", "attest", "--allow-debug", "--dev-root", fx.root_path,
                                NULL};
    assert_int_equal(run_cli(debug_live, out), 2);
    const char *missing[] = {"perfagg", "attest", "--document", "/nonexistent/doc.b64", NULL};
    assert_int_equal(run_cli(missing, out), 1);
    const char *garbage_path = write_doc_file("garbage.b64", (const uint8_t *)"QUJD\n", 5);
    const char *garbage[] = {"perfagg", "attest", "--document", garbage_path, "--at", PROD_TIME,
                             NULL};
    assert_int_equal(run_cli(garbage, out), 1);
    assert_true(output_contains(out, "  FAILED  document_format"));
    free(epk);
    free(spk);
}

/* verify --challenge, --not-before, --not-after; and the attestation's time
 * against payload.issued_at. */
static void test_verify_challenge_window_and_time(void **state)
{
    (void)state;
    bundle_opts o = {.challenge = "nonce-from-the-investor"};
    json_t *bundle = make_bundle(&o);
    pa_verify_report r;
    pa_client_expect e;
    memset(&e, 0, sizeof e);
    bundle_expect = &e;

    e.challenge = "nonce-from-the-investor";
    assert_int_equal(verify_json(bundle, fx.root, NULL, &r), 0);
    assert_int_equal(pa_verify_report_get(&r, "challenge")->status, PA_CHECK_OK);
    e.challenge = "nonce-from-the-investoR";
    assert_int_equal(verify_json(bundle, fx.root, NULL, &r), -1);
    expect_report(&r, "challenge", NULL);
    e.challenge = "";
    assert_int_equal(verify_json(bundle, fx.root, NULL, &r), -1);
    expect_report(&r, "challenge", NULL);
    e.challenge = NULL;
    json_t *plain = valid_bundle(); /* challenge null */
    e.challenge = "x";
    assert_int_equal(verify_json(plain, fx.root, NULL, &r), -1);
    expect_report(&r, "challenge", NULL);
    e.challenge = NULL;
    assert_null(pa_verify_report_get(&r, "window"));

    /* the window is [2024-01-01, 2024-01-31) */
    e.not_before = "2024-01-01T00:00:00Z";
    e.not_after = "2024-01-31T00:00:00Z";
    assert_int_equal(verify_json(bundle, fx.root, NULL, &r), 0);
    assert_int_equal(pa_verify_report_get(&r, "window")->status, PA_CHECK_OK);
    e.not_before = "2024-01-01T00:00:00.001Z";
    assert_int_equal(verify_json(bundle, fx.root, NULL, &r), -1);
    expect_report(&r, "window", NULL);
    e.not_before = NULL;
    e.not_after = "2024-01-30T23:59:59Z";
    assert_int_equal(verify_json(bundle, fx.root, NULL, &r), -1);
    expect_report(&r, "window", NULL);
    e.not_after = NULL;
    bundle_expect = NULL;

    /* the attestation is made with the payload: issued_at an hour earlier
     * than the document is refused (its nonce and keys still match) */
    char earlier[PA_TIME_STR_LEN];
    pa_time_format(pa_now_ms() - 3600 * 1000, earlier);
    bundle_opts late = {.issued_at = earlier};
    json_t *b2 = make_bundle(&late);
    assert_int_equal(verify_json(b2, fx.root, NULL, &r), -1);
    expect_report(&r, "attestation", "attestation_nonce attestation_public_key "
                                     "attestation_key_binding image_hash");
    assert_non_null(strstr(pa_verify_report_get(&r, "attestation")->detail,
                           "after the time of the check (at most 120 s allowed)"));
    json_decref(b2);
    /* ... and 30 s is within the bound (the fixture's leaf is valid from a minute
     * before the test started) */
    pa_time_format(pa_now_ms() - 30 * 1000, earlier);
    b2 = make_bundle(&late);
    assert_int_equal(verify_json(b2, fx.root, NULL, &r), 0);
    json_decref(b2);
    /* no issued_at at all */
    json_object_del(payload_of(plain), "issued_at");
    assert_int_equal(verify_json(plain, fx.root, NULL, &r), -1);
    expect_report(&r, "bundle_format", NULL);

    /* the CLI */
    char path[256], out[256];
    snprintf(path, sizeof path, "%s/challenge-bundle.json", fx.dir);
    snprintf(out, sizeof out, "%s/challenge-out.txt", fx.dir);
    char *text = json_dumps(bundle, JSON_COMPACT);
    pa_client_error err;
    assert_int_equal(pa_client_write_file_atomic(path, (const uint8_t *)text, strlen(text), &err),
                     0);
    free(text);
    const char *ok[] = {"perfagg", "verify", path, "--dev-root", fx.root_path, "--challenge",
                        "nonce-from-the-investor", "--not-before", "2024-01-01T00:00:00Z",
                        "--not-after", "2024-02-01T00:00:00Z", NULL};
    assert_int_equal(run_cli(ok, out), 0);
    assert_true(output_contains(out, "  ok      challenge"));
    assert_true(output_contains(out, "  ok      window"));
    const char *bad[] = {"perfagg", "verify", path, "--dev-root", fx.root_path, "--challenge",
                         "something else", "--not-before", "2024-01-15T00:00:00Z", NULL};
    assert_int_equal(run_cli(bad, out), 1);
    assert_true(output_contains(out, "  FAILED  challenge"));
    assert_true(output_contains(out, "  FAILED  window"));
    assert_true(output_contains(out, "NOT VERIFIED: 2 check(s) did not pass"));
    const char *bad_time[] = {"perfagg", "verify", path, "--dev-root", fx.root_path,
                              "--not-after", "soon", NULL};
    assert_int_equal(run_cli(bad_time, out), 2);
    json_decref(plain);
    json_decref(bundle);
}

/* perfagg verify under the AWS root: a development payload fails (exit 1)
 * however genuine the rest. */
static void test_cli_verify_aws_environment(void **state)
{
    (void)state;
    char path[256], out[256];
    snprintf(path, sizeof path, "%s/env-bundle.json", fx.dir);
    snprintf(out, sizeof out, "%s/env-out.txt", fx.dir);
    json_t *bundle = nitro_bundle();
    set_str(payload_of(bundle), "environment", "development");
    char *text = json_dumps(bundle, JSON_COMPACT);
    pa_client_error err;
    assert_int_equal(pa_client_write_file_atomic(path, (const uint8_t *)text, strlen(text), &err),
                     0);
    free(text);
    const char *v[] = {"perfagg", "verify", path, "--image-hash", PROD_PCR0_HEX, NULL};
    assert_int_equal(run_cli(v, out), 1);
    assert_true(output_contains(out, "  FAILED  environment              payload.environment is "
                                     "\"development\", not \"production\""));
    assert_true(output_contains(out, "  ok      attestation"));
    json_decref(bundle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_valid_bundle),
        cmocka_unit_test(test_verify_noncanonical_payload_text),
        cmocka_unit_test(test_verify_many_entries),
        cmocka_unit_test(test_tamper_payload_number),
        cmocka_unit_test(test_tamper_signature),
        cmocka_unit_test(test_tamper_wrong_root),
        cmocka_unit_test(test_tamper_entry),
        cmocka_unit_test(test_tamper_leaf_hash),
        cmocka_unit_test(test_tamper_reorder),
        cmocka_unit_test(test_tamper_merkle_root),
        cmocka_unit_test(test_tamper_image_hash),
        cmocka_unit_test(test_tamper_nonce_binding),
        cmocka_unit_test(test_tamper_keys),
        cmocka_unit_test(test_tamper_type_and_ids),
        cmocka_unit_test(test_malformed_bundles),
        cmocka_unit_test(test_bundle_summary),
        cmocka_unit_test(test_bundle_summary_returns),
        cmocka_unit_test(test_check_quote),
        cmocka_unit_test(test_check_quote_real_nitro_document),
        cmocka_unit_test(test_check_quote_freshness),
        cmocka_unit_test(test_verify_aws_root_needs_image_hash),
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_resolve_not_after),
        cmocka_unit_test(test_seal_round_trip),
        cmocka_unit_test(test_seal_account_salt_and_pem),
        cmocka_unit_test(test_seal_refuses_bad_input),
        cmocka_unit_test(test_seal_matches_enclave_rules),
        cmocka_unit_test(test_read_secrets),
        cmocka_unit_test(test_write_file_atomic),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_cli_verify),
        cmocka_unit_test(test_cli_foreign_text),
        cmocka_unit_test(test_cli_image_hash),
        cmocka_unit_test(test_cli_live_backdated),
        cmocka_unit_test(test_cli_attest_document),
        cmocka_unit_test(test_verify_challenge_window_and_time),
        cmocka_unit_test(test_cli_verify_aws_environment),
        cmocka_unit_test(test_cli_seal),
        cmocka_unit_test(test_http_fetch_bundle),
        cmocka_unit_test(test_http_hostile_server),
        cmocka_unit_test(test_http_attest_and_submit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
