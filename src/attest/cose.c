/* COSE_Sign1 (RFC 9052 §4.2) restricted to what AWS Nitro uses: ES384 in the
 * protected header, an empty unprotected header, an attached payload, and the
 * raw 96-byte r||s signature. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>

#include "attest_internal.h"

/* {1: -35}: map(1), uint 1 (alg), negint 34 (= -35, ES384) */
const uint8_t pa_cose_protected_es384[4] = {0xa1, 0x01, 0x38, 0x22};

#define COSE_TAG_SIGN1_HEAD 0xd2 /* major type 6, value 18 */
#define COORD_LEN (PA_COSE_SIG_LEN / 2)

/* Sig_structure = ["Signature1", protected, external_aad = h'', payload].
 * libcbor writes definite lengths and shortest heads, i.e. the canonical
 * form RFC 9052 §9 requires for the signed bytes. */
static int sig_structure(const uint8_t *prot, size_t prot_len, const uint8_t *payload,
                         size_t payload_len, pa_buf *out)
{
    int rc = -1;
    cbor_item_t *arr = cbor_new_definite_array(4);
    PA_ENSURE_GOTO(arr != NULL, cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, cbor_build_stringn("Signature1", 10)), cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(prot, prot_len)), cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(NULL, 0)), cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(payload, payload_len)), cleanup);
    PA_GUARD_GOTO(pa_cbor_serialize(arr, out), cleanup);
    rc = 0;
cleanup:
    if (arr != NULL)
        cbor_decref(&arr);
    return rc;
}

int pa_cose_sig_der_to_raw(const uint8_t *der, size_t der_len, uint8_t raw[PA_COSE_SIG_LEN])
{
    int rc = -1;
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    PA_ENSURE_GOTO(sig != NULL && p == der + der_len, cleanup);
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    PA_ENSURE_GOTO(BN_bn2binpad(r, raw, COORD_LEN) == COORD_LEN, cleanup);
    PA_ENSURE_GOTO(BN_bn2binpad(s, raw + COORD_LEN, COORD_LEN) == COORD_LEN, cleanup);
    rc = 0;
cleanup:
    ECDSA_SIG_free(sig);
    return rc;
}

int pa_cose_sig_raw_to_der(const uint8_t raw[PA_COSE_SIG_LEN], uint8_t **der, size_t *der_len)
{
    int rc = -1;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, COORD_LEN, NULL);
    BIGNUM *s = BN_bin2bn(raw + COORD_LEN, COORD_LEN, NULL);
    *der = NULL;
    PA_ENSURE_GOTO(sig != NULL && r != NULL && s != NULL, cleanup);
    PA_ENSURE_GOTO(ECDSA_SIG_set0(sig, r, s) == 1, cleanup);
    r = s = NULL; /* owned by sig now */
    int n = i2d_ECDSA_SIG(sig, der);
    PA_ENSURE_GOTO(n > 0 && *der != NULL, cleanup);
    *der_len = (size_t)n;
    rc = 0;
cleanup:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rc;
}

int pa_cose_sign1(EVP_PKEY *key, const uint8_t *payload, size_t payload_len, pa_buf *out)
{
    int rc = -1;
    pa_buf tbs;
    uint8_t *der = NULL;
    size_t der_len = 0;
    uint8_t raw[PA_COSE_SIG_LEN];
    EVP_MD_CTX *md = NULL;
    cbor_item_t *arr = NULL;

    pa_buf_init(&tbs, PA_ATTEST_DOC_MAX + 64); /* payload + Sig_structure framing */
    if (key == NULL || payload == NULL || out == NULL || !pa_attest_key_is_p384(key))
        return -1;

    PA_GUARD_GOTO(sig_structure(pa_cose_protected_es384, sizeof pa_cose_protected_es384,
                                payload, payload_len, &tbs),
                  cleanup);
    md = EVP_MD_CTX_new();
    PA_ENSURE_GOTO(md != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_DigestSign(md, NULL, &der_len, tbs.data, tbs.len) == 1, cleanup);
    der = OPENSSL_malloc(der_len);
    PA_ENSURE_GOTO(der != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_DigestSign(md, der, &der_len, tbs.data, tbs.len) == 1, cleanup);
    PA_GUARD_GOTO(pa_cose_sig_der_to_raw(der, der_len, raw), cleanup);

    arr = cbor_new_definite_array(4);
    PA_ENSURE_GOTO(arr != NULL, cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(pa_cose_protected_es384,
                                                             sizeof pa_cose_protected_es384)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, cbor_new_definite_map(0)), cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(payload, payload_len)), cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(raw, sizeof raw)), cleanup);
    PA_GUARD_GOTO(pa_cbor_serialize(arr, out), cleanup);
    rc = 0;
cleanup:
    if (arr != NULL)
        cbor_decref(&arr);
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    pa_buf_free(&tbs);
    return rc;
}

static int definite_bytes(const cbor_item_t *item, pa_bytes *out)
{
    if (item == NULL || !cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
        return -1;
    out->len = cbor_bytestring_length(item);
    out->data = cbor_bytestring_handle(item);
    /* libcbor 0.8 may leave the handle NULL for an empty string */
    if (out->data == NULL && out->len != 0)
        return -1;
    return 0;
}

/* The canonical encoding of the parts: what pa_cose_sign1 writes. A received
 * envelope must be exactly these bytes, so that no head is longer than it
 * needs to be and nothing is hidden in the encoding. */
static int canonical_envelope(const pa_cose_sign1_parts *p, pa_buf *out)
{
    int rc = -1;
    cbor_item_t *arr = cbor_new_definite_array(4);
    PA_ENSURE_GOTO(arr != NULL, cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(p->protected_hdr.data,
                                                             p->protected_hdr.len)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, cbor_new_definite_map(0)), cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(p->payload.data, p->payload.len)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_array_put(arr, pa_cbor_build_bytes(p->signature.data,
                                                             p->signature.len)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_serialize(arr, out), cleanup);
    rc = 0;
cleanup:
    if (arr != NULL)
        cbor_decref(&arr);
    return rc;
}

#define CBOR_MAJOR(b) ((uint8_t)(b) >> 5)
#define CBOR_MAJOR_TAG 6
#define COSE_ARRAY4_HEAD 0x84 /* major type 4, 4 items, one-byte head */

int pa_cose_sign1_decode(const uint8_t *doc, size_t len, pa_cose_sign1_parts *out,
                         const char **why)
{
    const char *reason = "malformed CBOR";
    cbor_item_t *top = NULL;
    pa_buf canon;

    pa_buf_init(&canon, PA_ATTEST_DOC_MAX + 16);
    memset(out, 0, sizeof *out);
    if (doc == NULL || len == 0 || len > PA_ATTEST_DOC_MAX) {
        reason = "document size out of range";
        goto fail;
    }
    /* One tag 18 is tolerated, and only in its shortest head 0xd2: a longer
     * head (d8 12) or a second tag (d2 d2, d2 d8 12) is another encoding of
     * the same claim, and a verifier that accepts several encodings invites
     * disagreement with other verifiers. (libcbor before 0.11 also refuses
     * 0xd2 itself as an unassigned one-byte tag head.) */
    if (doc[0] == COSE_TAG_SIGN1_HEAD) {
        doc++;
        len--;
    }
    if (len == 0 || doc[0] != COSE_ARRAY4_HEAD) {
        reason = len > 0 && CBOR_MAJOR(doc[0]) == CBOR_MAJOR_TAG
                     ? "only one COSE tag 18, in its one-byte head 0xd2, may precede COSE_Sign1"
                     : "not a COSE_Sign1 array of 4";
        goto fail;
    }
    top = pa_cbor_load_strict(doc, len, PA_CBOR_MAX_DEPTH);
    if (top == NULL)
        goto fail;
    if (!cbor_isa_array(top) || !cbor_array_is_definite(top) || cbor_array_size(top) != 4) {
        reason = "not a COSE_Sign1 array of 4";
        goto fail;
    }
    cbor_item_t **f = cbor_array_handle(top);
    if (definite_bytes(f[0], &out->protected_hdr) != 0 ||
        out->protected_hdr.len != sizeof pa_cose_protected_es384 ||
        memcmp(out->protected_hdr.data, pa_cose_protected_es384,
               sizeof pa_cose_protected_es384) != 0) {
        reason = "protected header is not exactly {1: -35} (ES384)";
        goto fail;
    }
    if (!cbor_isa_map(f[1]) || !cbor_map_is_definite(f[1]) || cbor_map_size(f[1]) != 0) {
        reason = "unprotected header is not an empty map";
        goto fail;
    }
    if (definite_bytes(f[2], &out->payload) != 0 || out->payload.len == 0) {
        reason = "payload is not a non-empty byte string";
        goto fail;
    }
    if (definite_bytes(f[3], &out->signature) != 0 || out->signature.len != PA_COSE_SIG_LEN) {
        reason = "signature is not 96 bytes";
        goto fail;
    }
    if (canonical_envelope(out, &canon) != 0 || canon.len != len ||
        memcmp(canon.data, doc, len) != 0) {
        reason = "COSE_Sign1 is not in canonical encoding (a CBOR head longer than needed)";
        goto fail;
    }
    pa_buf_free(&canon);
    out->item = top; /* keeps the views (which point into it) alive */
    return 0;
fail:
    pa_buf_free(&canon);
    if (top != NULL)
        cbor_decref(&top);
    memset(out, 0, sizeof *out);
    if (why != NULL)
        *why = reason;
    return -1;
}

int pa_cose_verify(EVP_PKEY *pub, const pa_cose_sign1_parts *parts)
{
    int rc = -1;
    pa_buf tbs;
    uint8_t *der = NULL;
    size_t der_len = 0;
    EVP_MD_CTX *md = NULL;

    pa_buf_init(&tbs, PA_ATTEST_DOC_MAX + 64); /* payload + Sig_structure framing */
    if (pub == NULL || parts == NULL || parts->signature.len != PA_COSE_SIG_LEN ||
        !pa_attest_key_is_p384(pub))
        return -1;
    PA_GUARD_GOTO(sig_structure(parts->protected_hdr.data, parts->protected_hdr.len,
                                parts->payload.data, parts->payload.len, &tbs),
                  cleanup);
    PA_GUARD_GOTO(pa_cose_sig_raw_to_der(parts->signature.data, &der, &der_len), cleanup);
    md = EVP_MD_CTX_new();
    PA_ENSURE_GOTO(md != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pub) == 1, cleanup);
    /* EVP_DigestVerify returns 1 only for a valid signature (0 invalid, <0 error) */
    PA_ENSURE_GOTO(EVP_DigestVerify(md, der, der_len, tbs.data, tbs.len) == 1, cleanup);
    rc = 0;
cleanup:
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    pa_buf_free(&tbs);
    return rc;
}
