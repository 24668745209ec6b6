/* Client-side verification of AWS Nitro attestation documents against a
 * pinned root. The order of the checks is documented in
 * docs/PROTOCOL.md; each failure names its check in `err`. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "attest_internal.h"

#define CHAIN_MAX_DEPTH (PA_ATTEST_CABUNDLE_MAX + 1)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
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

/* leaf -> cabundle[1..] -> root with root the ONLY trust anchor: the store
 * holds nothing else, the document's intermediates are merely candidates, and
 * partial chains are not accepted. at_s is the verification time. */
static int verify_chain(X509 *leaf, const pa_attest_payload *pl, X509 *root, int64_t at_s,
                        char *err, size_t errlen)
{
    int rc = -1;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();

    if (store == NULL || ctx == NULL || untrusted == NULL) {
        set_err(err, errlen, "out of memory");
        goto cleanup;
    }
    if (X509_STORE_add_cert(store, root) != 1) {
        set_err(err, errlen, "cannot use the pinned root");
        goto cleanup;
    }
    for (size_t i = 1; i < pl->cabundle_len; i++) {
        X509 *c = pa_attest_cert_parse(pl->cabundle[i].data, pl->cabundle[i].len);
        if (c == NULL) {
            set_err(err, errlen, "cabundle[%zu] is not a DER certificate", i);
            goto cleanup;
        }
        if (sk_X509_push(untrusted, c) <= 0) {
            X509_free(c);
            set_err(err, errlen, "out of memory");
            goto cleanup;
        }
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        set_err(err, errlen, "cannot set up chain verification");
        goto cleanup;
    }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)at_s);
    X509_VERIFY_PARAM_set_depth(param, CHAIN_MAX_DEPTH);
    X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    /* Not X509_V_FLAG_X509_STRICT: AWS's own Nitro leaf certificates carry
     * no authority key identifier, which strict mode rejects. */
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        set_err(err, errlen, "certificate chain: %s (depth %d)", X509_verify_cert_error_string(e),
                X509_STORE_CTX_get_error_depth(ctx));
        goto cleanup;
    }
    rc = 0;
cleanup:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(untrusted, X509_free);
    return rc;
}

int pa_attest_verify(const uint8_t *doc, size_t len, X509 *root, int64_t at_ms, int allow_debug,
                     pa_attest_claims *out, char *err, size_t errlen)
{
    int rc = -1;
    const char *why = NULL;
    pa_cose_sign1_parts cose;
    cbor_item_t *payload_item = NULL;
    pa_attest_payload pl;
    X509 *leaf = NULL;
    EVP_PKEY *leaf_key = NULL;
    uint8_t *root_der = NULL;
    size_t root_der_len = 0;

    memset(&cose, 0, sizeof cose);
    set_err(err, errlen, "invalid arguments");
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (doc == NULL || root == NULL || out == NULL || at_ms < 0)
        return -1;

    /* 1. structure: COSE_Sign1 envelope, then the payload map */
    if (pa_cose_sign1_decode(doc, len, &cose, &why) != 0) {
        set_err(err, errlen, "%s", why);
        goto cleanup;
    }
    payload_item = pa_cbor_load_strict(cose.payload.data, cose.payload.len, PA_CBOR_MAX_DEPTH);
    if (payload_item == NULL) {
        set_err(err, errlen, "payload: malformed CBOR");
        goto cleanup;
    }
    if (pa_attest_payload_parse(payload_item, &pl, &why) != 0) {
        set_err(err, errlen, "%s", why);
        goto cleanup;
    }

    /* 2. the signature, with the leaf certificate's P-384 key */
    leaf = pa_attest_cert_parse(pl.certificate.data, pl.certificate.len);
    if (leaf == NULL) {
        set_err(err, errlen, "certificate is not a DER certificate");
        goto cleanup;
    }
    leaf_key = X509_get_pubkey(leaf);
    if (!pa_attest_key_is_p384(leaf_key)) {
        set_err(err, errlen, "leaf certificate key is not ECDSA P-384");
        goto cleanup;
    }
    if (pa_cose_verify(leaf_key, &cose) != 0) {
        set_err(err, errlen, "COSE signature does not verify with the leaf certificate");
        goto cleanup;
    }

    /* 3. the chain: cabundle[0] must be the pinned root itself; it is never
     *    used as a trust anchor, only compared */
    if (pa_attest_cert_der(root, &root_der, &root_der_len) != 0) {
        set_err(err, errlen, "cannot encode the pinned root");
        goto cleanup;
    }
    if (pl.cabundle[0].len != root_der_len ||
        CRYPTO_memcmp(pl.cabundle[0].data, root_der, root_der_len) != 0) {
        set_err(err, errlen, "cabundle[0] is not the pinned root");
        goto cleanup;
    }
    int64_t at_s = (at_ms != 0 ? at_ms : (int64_t)pl.timestamp_ms) / 1000;
    if (verify_chain(leaf, &pl, root, at_s, err, errlen) != 0)
        goto cleanup;
    /* the signer's own claim of when it signed must fall in its validity:
     * a leaf cannot vouch for a moment it did not exist */
    time_t ts = (time_t)(pl.timestamp_ms / 1000);
    if (X509_cmp_time(X509_get0_notBefore(leaf), &ts) > 0 ||
        X509_cmp_time(X509_get0_notAfter(leaf), &ts) < 0) {
        set_err(err, errlen, "timestamp is outside the leaf certificate's validity");
        goto cleanup;
    }

    /* 4. policy */
    int debug = all_zero(pl.pcrs[0]) && all_zero(pl.pcrs[1]) && all_zero(pl.pcrs[2]);
    if (debug && !allow_debug) {
        set_err(err, errlen, "debug-mode enclave (PCR0, PCR1 and PCR2 are zero)");
        goto cleanup;
    }

    memcpy(out->module_id, pl.module_id.data, pl.module_id.len);
    out->module_id[pl.module_id.len] = '\0'; /* len <= 127 */
    out->timestamp_ms = (int64_t)pl.timestamp_ms;
    memcpy(out->pcr0, pl.pcrs[0].data, PA_PCR_LEN);
    out->debug_mode = debug;
    copy_field(pl.public_key, out->public_key, &out->public_key_len, &out->has_public_key);
    copy_field(pl.user_data, out->user_data, &out->user_data_len, &out->has_user_data);
    copy_field(pl.nonce, out->nonce, &out->nonce_len, &out->has_nonce);
    set_err(err, errlen, "ok");
    rc = 0;
cleanup:
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        ERR_clear_error(); /* do not leave our failures in the caller's queue */
    }
    OPENSSL_free(root_der);
    EVP_PKEY_free(leaf_key);
    X509_free(leaf);
    if (payload_item != NULL)
        cbor_decref(&payload_item);
    if (cose.item != NULL)
        cbor_decref(&cose.item);
    return rc;
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
