/* Client-side verification of AWS Nitro attestation documents against a
 * pinned root, at a time the caller chooses. The rules and their order are in
 * docs/PROTOCOL.md ("Verifying an attestation document"); every check that
 * can be evaluated is, and each failure is recorded under its check. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "attest_internal.h"
#include "attest_verify.h"

#define CHAIN_MAX_DEPTH (PA_ATTEST_CABUNDLE_MAX + 1)

static const char *const check_names[PA_ATTEST_CHECK_COUNT] = {
    [PA_ATTEST_CHECK_FORMAT] = "format",
    [PA_ATTEST_CHECK_SIGNATURE] = "signature",
    [PA_ATTEST_CHECK_CHAIN] = "chain",
    [PA_ATTEST_CHECK_TIMESTAMP] = "timestamp",
    [PA_ATTEST_CHECK_DEBUG] = "debug",
    [PA_ATTEST_CHECK_PCRS] = "pcrs",
    [PA_ATTEST_CHECK_NONCE] = "nonce",
    [PA_ATTEST_CHECK_PUBLIC_KEY] = "public_key",
    [PA_ATTEST_CHECK_USER_DATA] = "user_data",
};

const char *pa_attest_check_name(pa_attest_check_id id)
{
    return (unsigned)id < PA_ATTEST_CHECK_COUNT ? check_names[id] : "?";
}

void pa_attest_policy_init(pa_attest_policy *p, int64_t at_ms)
{
    memset(p, 0, sizeof *p);
    p->at_ms = at_ms;
}

int pa_attest_policy_expect_pcr(pa_attest_policy *p, unsigned index,
                                const uint8_t value[PA_PCR_LEN])
{
    if (p == NULL || value == NULL || index >= PA_ATTEST_PCR_COUNT)
        return -1;
    memcpy(p->pcrs[index], value, PA_PCR_LEN);
    p->pcr_mask |= 1u << index;
    return 0;
}

static void pass(pa_attest_result *r, pa_attest_check_id id)
{
    if (r->status[id] == PA_ATTEST_UNCHECKED)
        r->status[id] = PA_ATTEST_PASS;
}

/* Records a failure of check id; a check that fails for several reasons keeps
 * them all ("; "-separated, truncated to fit). */
static void fail(pa_attest_result *r, pa_attest_check_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(pa_attest_result *r, pa_attest_check_id id, const char *fmt, ...)
{
    char *d = r->detail[id];
    size_t used = strlen(d);
    if (used > 0 && used + 2 < PA_ATTEST_DETAIL_MAX) {
        memcpy(d + used, "; ", 3);
        used += 2;
    }
    if (used + 1 < PA_ATTEST_DETAIL_MAX) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d + used, PA_ATTEST_DETAIL_MAX - used, fmt, ap);
        va_end(ap);
    }
    r->status[id] = PA_ATTEST_FAIL;
}

int pa_attest_result_ok(const pa_attest_result *r, uint32_t mask)
{
    if (r == NULL || r->status[PA_ATTEST_CHECK_FORMAT] != PA_ATTEST_PASS)
        return 0;
    for (int i = 0; i < PA_ATTEST_CHECK_COUNT; i++)
        if ((mask & (1u << i)) && r->status[i] == PA_ATTEST_FAIL)
            return 0;
    return 1;
}

void pa_attest_result_failures(const pa_attest_result *r, uint32_t mask, char *out,
                               size_t outlen)
{
    if (out == NULL || outlen == 0)
        return;
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; r != NULL && i < PA_ATTEST_CHECK_COUNT; i++) {
        if (!(mask & (1u << i)) || r->status[i] != PA_ATTEST_FAIL)
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s: %s", used ? "; " : "", check_names[i],
                         r->detail[i]);
        if (n < 0 || (size_t)n >= outlen - used)
            return; /* truncated: out is still terminated */
        used += (size_t)n;
    }
}

static int all_zero(pa_bytes b)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < b.len; i++)
        acc |= b.data[i];
    return acc == 0;
}

static void copy_field(pa_bytes src, uint8_t *dst, size_t *dst_len, int *has)
{
    *has = src.data != NULL;
    *dst_len = src.len; /* <= PA_ATTEST_FIELD_MAX, checked by the parser */
    if (src.data != NULL && src.len > 0) /* the parser gives null/absent len 0 */
        memcpy(dst, src.data, src.len);
}

static int64_t asn1_time_ms(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    return (int64_t)timegm(&tm) * 1000;
}

/* AWS issues its Nitro leaf certificates without an authority key identifier,
 * which X509_V_FLAG_X509_STRICT refuses. That one finding, on the leaf only,
 * is tolerated; every other strict-mode finding, and every finding on a CA,
 * fails the chain. */
static int strict_but_aws_leaf(int ok, X509_STORE_CTX *ctx)
{
    if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER &&
        X509_STORE_CTX_get_error_depth(ctx) == 0)
        return 1;
    return ok;
}

/* The signer must be an end-entity certificate made for signing: a CA
 * certificate (which could issue its own leaves) must never sign documents
 * directly. */
static void check_leaf_profile(X509 *leaf, pa_attest_result *r)
{
    uint32_t flags = X509_get_extension_flags(leaf);
    if (flags & EXFLAG_INVALID)
        fail(r, PA_ATTEST_CHECK_CHAIN, "the signing certificate has invalid extensions");
    /* EXFLAG_CA as well as X509_check_ca: the latter answers 0 ("not a CA")
     * for CA:TRUE when keyUsage lacks keyCertSign, and strict chain checks
     * then let such a certificate through at depth 0 */
    if (!(flags & EXFLAG_BCONS) || (flags & EXFLAG_CA) || X509_check_ca(leaf) != 0)
        fail(r, PA_ATTEST_CHECK_CHAIN,
             "the signing certificate is not a leaf (basicConstraints must say CA:FALSE)");
    uint32_t ku = X509_get_key_usage(leaf);
    if (!(flags & EXFLAG_KUSAGE) || !(ku & KU_DIGITAL_SIGNATURE))
        fail(r, PA_ATTEST_CHECK_CHAIN,
             "the signing certificate lacks the digitalSignature key usage");
    else if (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
        fail(r, PA_ATTEST_CHECK_CHAIN, "the signing certificate may sign certificates");
}

/* leaf -> cabundle[1..] -> root with root the ONLY trust anchor: the store
 * holds nothing else, the document's intermediates are merely candidates, and
 * partial chains are not accepted. at_s is the verification time. */
static void verify_chain(X509 *leaf, STACK_OF(X509) *untrusted, X509 *root, int64_t at_s,
                         pa_attest_result *r)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();

    if (store == NULL || ctx == NULL || X509_STORE_add_cert(store, root) != 1 ||
        X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        fail(r, PA_ATTEST_CHECK_CHAIN, "cannot set up chain verification");
        goto cleanup;
    }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)at_s);
    X509_VERIFY_PARAM_set_depth(param, CHAIN_MAX_DEPTH);
    X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    /* strict: basicConstraints, pathLen, keyUsage, key identifiers and
     * explicit curve parameters are enforced */
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    /* level 2 (112 bits): no SHA-1 signature and no small key anywhere in the
     * chain (the default level, -1, checks neither) */
    X509_VERIFY_PARAM_set_auth_level(param, 2);
    X509_STORE_CTX_set_verify_cb(ctx, strict_but_aws_leaf);
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        char when[32];
        time_t t = (time_t)at_s;
        struct tm tm;
        if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            snprintf(when, sizeof when, "%lld s", (long long)at_s);
        fail(r, PA_ATTEST_CHECK_CHAIN, "certificate chain: %s (depth %d) as of %s",
             X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx), when);
    }
cleanup:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
}

static int bytes_equal(pa_bytes got, const uint8_t *want, size_t want_len)
{
    return got.data != NULL && got.len == want_len &&
           (want_len == 0 || CRYPTO_memcmp(got.data, want, want_len) == 0);
}

static void check_expected(const pa_attest_payload *pl, const pa_attest_policy *policy,
                           pa_attest_result *r)
{
    for (unsigned i = 0; i < PA_ATTEST_PCR_COUNT; i++) {
        if (!(policy->pcr_mask & (1u << i)))
            continue;
        if (pl->pcrs[i].data == NULL)
            fail(r, PA_ATTEST_CHECK_PCRS, "PCR%u is absent", i);
        else if (!bytes_equal(pl->pcrs[i], policy->pcrs[i], PA_PCR_LEN))
            fail(r, PA_ATTEST_CHECK_PCRS, "PCR%u is not the expected value", i);
    }
    if (policy->pcr_mask != 0)
        pass(r, PA_ATTEST_CHECK_PCRS);

    const struct {
        pa_attest_check_id id;
        const char *name;
        pa_bytes got;
        const uint8_t *want;
        size_t want_len;
    } fields[] = {
        {PA_ATTEST_CHECK_NONCE, "nonce", pl->nonce, policy->nonce, policy->nonce_len},
        {PA_ATTEST_CHECK_PUBLIC_KEY, "public_key", pl->public_key, policy->public_key,
         policy->public_key_len},
        {PA_ATTEST_CHECK_USER_DATA, "user_data", pl->user_data, policy->user_data,
         policy->user_data_len},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(fields); i++) {
        if (fields[i].want == NULL)
            continue;
        if (fields[i].got.data == NULL)
            fail(r, fields[i].id, "the document's %s is null", fields[i].name);
        else if (!bytes_equal(fields[i].got, fields[i].want, fields[i].want_len))
            fail(r, fields[i].id, "the document's %s is not the expected one (%zu bytes)",
                 fields[i].name, fields[i].got.len);
        else
            pass(r, fields[i].id);
    }
}

static void fill_claims(const pa_attest_payload *pl, X509 *leaf, int debug, pa_attest_claims *out)
{
    memcpy(out->module_id, pl->module_id.data, pl->module_id.len);
    out->module_id[pl->module_id.len] = '\0'; /* len <= 127 */
    out->timestamp_ms = (int64_t)pl->timestamp_ms;
    for (unsigned i = 0; i < PA_ATTEST_PCR_COUNT; i++) {
        if (pl->pcrs[i].data == NULL)
            continue;
        memcpy(out->pcrs[i], pl->pcrs[i].data, PA_PCR_LEN); /* 48 bytes: parser-checked */
        out->pcr_present |= 1u << i;
    }
    out->debug_mode = debug;
    out->leaf_not_before_ms = asn1_time_ms(X509_get0_notBefore(leaf));
    out->leaf_not_after_ms = asn1_time_ms(X509_get0_notAfter(leaf));
    out->cabundle_len = (int)pl->cabundle_len;
    copy_field(pl->public_key, out->public_key, &out->public_key_len, &out->has_public_key);
    copy_field(pl->user_data, out->user_data, &out->user_data_len, &out->has_user_data);
    copy_field(pl->nonce, out->nonce, &out->nonce_len, &out->has_nonce);
}

int pa_attest_verify(const uint8_t *doc, size_t len, X509 *root, const pa_attest_policy *policy,
                     pa_attest_claims *out, pa_attest_result *r)
{
    const char *why = NULL;
    pa_cose_sign1_parts cose;
    cbor_item_t *payload_item = NULL;
    pa_attest_payload pl;
    X509 *leaf = NULL;
    EVP_PKEY *leaf_key = NULL;
    STACK_OF(X509) *untrusted = NULL;
    uint8_t *root_der = NULL;
    size_t root_der_len = 0;

    memset(&cose, 0, sizeof cose);
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (r == NULL)
        return -1;
    memset(r, 0, sizeof *r);
    if (doc == NULL || root == NULL || out == NULL || policy == NULL || policy->at_ms <= 0 ||
        policy->max_skew_ms < 0 || (policy->nonce == NULL && policy->nonce_len != 0) ||
        (policy->public_key == NULL && policy->public_key_len != 0) ||
        (policy->user_data == NULL && policy->user_data_len != 0)) {
        fail(r, PA_ATTEST_CHECK_FORMAT, "invalid arguments");
        return -1;
    }

    /* 1. structure: the COSE_Sign1 envelope, the payload map, the certificates */
    if (pa_cose_sign1_decode(doc, len, &cose, &why) != 0) {
        fail(r, PA_ATTEST_CHECK_FORMAT, "%s", why);
        goto cleanup;
    }
    payload_item = pa_cbor_load_strict(cose.payload.data, cose.payload.len, PA_CBOR_MAX_DEPTH);
    if (payload_item == NULL) {
        fail(r, PA_ATTEST_CHECK_FORMAT, "payload: malformed CBOR");
        goto cleanup;
    }
    if (pa_attest_payload_parse(payload_item, &pl, &why) != 0) {
        fail(r, PA_ATTEST_CHECK_FORMAT, "%s", why);
        goto cleanup;
    }
    leaf = pa_attest_cert_parse(pl.certificate.data, pl.certificate.len);
    if (leaf == NULL) {
        fail(r, PA_ATTEST_CHECK_FORMAT, "certificate is not a DER certificate");
        goto cleanup;
    }
    untrusted = sk_X509_new_null();
    if (untrusted == NULL) {
        fail(r, PA_ATTEST_CHECK_FORMAT, "out of memory");
        goto cleanup;
    }
    for (size_t i = 1; i < pl.cabundle_len; i++) {
        X509 *c = pa_attest_cert_parse(pl.cabundle[i].data, pl.cabundle[i].len);
        if (c == NULL || sk_X509_push(untrusted, c) <= 0) {
            X509_free(c);
            fail(r, PA_ATTEST_CHECK_FORMAT, "cabundle[%zu] is not a DER certificate", i);
            goto cleanup;
        }
    }
    pass(r, PA_ATTEST_CHECK_FORMAT);

    /* 2. the signature, with the leaf certificate's P-384 key, over the
     *    Sig_structure built from the protected bytes as received */
    leaf_key = X509_get_pubkey(leaf);
    if (!pa_attest_key_is_p384(leaf_key))
        fail(r, PA_ATTEST_CHECK_SIGNATURE, "the leaf certificate's key is not ECDSA P-384");
    else if (pa_cose_verify(leaf_key, &cose) != 0)
        fail(r, PA_ATTEST_CHECK_SIGNATURE,
             "COSE signature does not verify with the leaf certificate");
    pass(r, PA_ATTEST_CHECK_SIGNATURE);

    /* 3. the chain: cabundle[0] must be the pinned root itself (it is only
     *    compared, never used as a trust anchor); the leaf must be a signing
     *    leaf; the chain must hold at policy->at_ms */
    if (pa_attest_cert_der(root, &root_der, &root_der_len) != 0)
        fail(r, PA_ATTEST_CHECK_CHAIN, "cannot encode the pinned root");
    else if (pl.cabundle[0].len != root_der_len ||
             CRYPTO_memcmp(pl.cabundle[0].data, root_der, root_der_len) != 0)
        fail(r, PA_ATTEST_CHECK_CHAIN, "cabundle[0] is not the pinned root");
    check_leaf_profile(leaf, r);
    verify_chain(leaf, untrusted, root, policy->at_ms / 1000, r);
    pass(r, PA_ATTEST_CHECK_CHAIN);

    /* 4. the timestamp: a leaf cannot vouch for a moment it did not exist,
     *    and a live check wants a document made just now */
    int64_t ts = (int64_t)pl.timestamp_ms;
    int64_t nb = asn1_time_ms(X509_get0_notBefore(leaf));
    int64_t na = asn1_time_ms(X509_get0_notAfter(leaf));
    if (nb < 0 || na < 0 || ts < nb || ts > na + 999) /* certificate times are whole seconds */
        fail(r, PA_ATTEST_CHECK_TIMESTAMP,
             "timestamp is outside the leaf certificate's validity");
    if (policy->max_skew_ms > 0) {
        int64_t d = ts - policy->at_ms;
        if (d > policy->max_skew_ms)
            fail(r, PA_ATTEST_CHECK_TIMESTAMP,
                 "timestamp is %lld s after the time of the check (at most %lld s allowed)",
                 (long long)(d / 1000), (long long)(policy->max_skew_ms / 1000));
        else if (-d > policy->max_skew_ms)
            fail(r, PA_ATTEST_CHECK_TIMESTAMP,
                 "timestamp is %lld s before the time of the check (at most %lld s allowed)",
                 (long long)(-d / 1000), (long long)(policy->max_skew_ms / 1000));
    }
    pass(r, PA_ATTEST_CHECK_TIMESTAMP);

    /* 5. policy: debug mode, expected PCRs and fields */
    int debug = all_zero(pl.pcrs[0]) && all_zero(pl.pcrs[1]) && all_zero(pl.pcrs[2]);
    if (debug && !policy->allow_debug)
        fail(r, PA_ATTEST_CHECK_DEBUG, "debug-mode enclave (PCR0, PCR1 and PCR2 are zero)");
    pass(r, PA_ATTEST_CHECK_DEBUG);
    check_expected(&pl, policy, r);

    if (pa_attest_result_ok(r, PA_ATTEST_AUTHENTICITY_MASK))
        fill_claims(&pl, leaf, debug, out);

cleanup:
    ERR_clear_error(); /* do not leave our failures in the caller's queue */
    sk_X509_pop_free(untrusted, X509_free);
    OPENSSL_free(root_der);
    EVP_PKEY_free(leaf_key);
    X509_free(leaf);
    if (payload_item != NULL)
        cbor_decref(&payload_item);
    if (cose.item != NULL)
        cbor_decref(&cose.item);
    return pa_attest_result_ok(r, ~0u) ? 0 : -1;
}

X509 *pa_attest_load_root(const char *pem_path, const char *expect_sha256_hex)
{
    if (pem_path == NULL)
        return NULL;
    FILE *f = fopen(pem_path, "re");
    if (f == NULL)
        return NULL;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (cert == NULL) {
        ERR_clear_error();
        return NULL;
    }
    if (expect_sha256_hex != NULL && !pa_attest_cert_sha256_is(cert, expect_sha256_hex)) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}
