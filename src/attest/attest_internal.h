/* Internals shared by the producing and verifying halves of the attestation
 * module (library pa_attest_core) and by its unit test. Not a public contract:
 * the enclave uses attest_produce.h, clients attest_verify.h. */
#ifndef PA_ATTEST_INTERNAL_H
#define PA_ATTEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest_common.h"
#include "buf.h"
#include "result.h"

#define PA_ATTEST_CABUNDLE_MAX 8 /* root + intermediates */
#define PA_ATTEST_CERT_MAX 1024  /* DER bytes of one certificate */
#define PA_ATTEST_MODULE_ID_MAX 127
#define PA_CBOR_MAX_DEPTH 8      /* our documents nest 4 levels at most */
#define PA_COSE_SIG_LEN 96       /* raw r || s, 48 bytes each */

/* The only protected header we produce or accept: the canonical encoding of
 * {1: -35} (alg: ES384). */
extern const uint8_t pa_cose_protected_es384[4];

/* ---- CBOR (cbor_util.c) ----------------------------------------------------- */

/* Parses exactly one CBOR data item covering all of data. Before handing the
 * bytes to cbor_load it walks them with libcbor's streaming decoder and
 * rejects what cbor_load would handle badly or what we never use: indefinite
 * lengths, more than max_depth nested containers (tags count), and arrays or maps that claim more
 * entries than the remaining bytes could hold (cbor_load pre-allocates a
 * pointer per claimed entry, so a 9-byte input could ask for gigabytes).
 * Returns a new reference (cbor_decref it) or NULL. */
cbor_item_t *pa_cbor_load_strict(const uint8_t *data, size_t len, size_t max_depth);

/* A uint item in its shortest encoding (libcbor keeps the width it is given). */
cbor_item_t *pa_cbor_build_uint(uint64_t v);
/* A definite byte string; data may be NULL when len is 0. */
cbor_item_t *pa_cbor_build_bytes(const uint8_t *data, size_t len);
/* Adds key -> value to a definite map and always drops the caller's
 * references to both (so `put(m, build(), build())` never leaks, even when a
 * build returned NULL). */
PA_MUST_USE int pa_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);
/* Appends to a definite array, always dropping the caller's reference. */
PA_MUST_USE int pa_cbor_array_put(cbor_item_t *array, cbor_item_t *item);
/* Serializes item and appends the bytes to out. */
PA_MUST_USE int pa_cbor_serialize(const cbor_item_t *item, pa_buf *out);

/* ---- COSE_Sign1 (cose.c) ---------------------------------------------------- */

/* Signs payload with an ECDSA P-384 key and appends the untagged COSE_Sign1
 * [bstr({1:-35}), {}, bstr(payload), bstr(r||s)] to out. */
PA_MUST_USE int pa_cose_sign1(EVP_PKEY *key, const uint8_t *payload, size_t payload_len,
                              pa_buf *out);

/* The parts of a decoded COSE_Sign1; the views point into `item`, which the
 * caller releases with cbor_decref once done with them. */
typedef struct {
    cbor_item_t *item;
    pa_bytes protected_hdr;
    pa_bytes payload;
    pa_bytes signature;
} pa_cose_sign1_parts;

/* Structural checks only (no cryptography): at most one tag 18, in its
 * one-byte head 0xd2; then a definite array of exactly 4 in canonical form
 * (every head minimal, no trailing bytes); protected header exactly the bytes
 * of {1: -35}; unprotected header an empty map; payload a non-empty byte
 * string; signature exactly 96 bytes. On failure *why names the problem. */
PA_MUST_USE int pa_cose_sign1_decode(const uint8_t *doc, size_t len, pa_cose_sign1_parts *out,
                                     const char **why);

/* Verifies the ES384 signature over Sig_structure ["Signature1", protected,
 * h'', payload] with pub, which must be a P-384 EC key. */
PA_MUST_USE int pa_cose_verify(EVP_PKEY *pub, const pa_cose_sign1_parts *parts);

/* raw r||s (96 bytes) <-> DER ECDSA-Sig-Value. */
PA_MUST_USE int pa_cose_sig_der_to_raw(const uint8_t *der, size_t der_len,
                                       uint8_t raw[PA_COSE_SIG_LEN]);
PA_MUST_USE int pa_cose_sig_raw_to_der(const uint8_t raw[PA_COSE_SIG_LEN], uint8_t **der,
                                       size_t *der_len);

/* ---- payload map (payload.c) ---------------------------------------------- */

/* The attestation payload. On input to the encoder every view must be set
 * (a NULL data pointer in public_key / user_data / nonce means CBOR null);
 * after parsing the views point into the parsed CBOR item. */
typedef struct {
    pa_bytes module_id; /* text */
    uint64_t timestamp_ms;
    pa_bytes pcrs[PA_ATTEST_PCR_COUNT]; /* data == NULL: PCR absent */
    pa_bytes certificate;
    pa_bytes cabundle[PA_ATTEST_CABUNDLE_MAX];
    size_t cabundle_len;
    pa_bytes public_key, user_data, nonce; /* data == NULL: null */
} pa_attest_payload;

/* Encodes the payload map with the keys in Nitro's order and appends it. */
PA_MUST_USE int pa_attest_payload_encode(const pa_attest_payload *in, pa_buf *out);

/* Strictly parses a payload map (exact key set, types, sizes, digest
 * "SHA384", every PCR 48 bytes, PCR0..2 present).
 * On failure *why names the problem. */
PA_MUST_USE int pa_attest_payload_parse(const cbor_item_t *map, pa_attest_payload *out,
                                        const char **why);

/* ---- development CA (dev_ca.c, in pa_attest_produce) ----------------------- */

typedef enum { PA_DEVCA_ROOT, PA_DEVCA_INTERMEDIATE, PA_DEVCA_LEAF } pa_devca_kind;

EVP_PKEY *pa_devca_keygen(void); /* a fresh P-384 key */

/* Issues a certificate for subject_key named CN=cn, valid [not_before,
 * not_after] (seconds since the epoch), signed with ECDSA-SHA384 by
 * issuer_key under issuer (issuer NULL: self-signed; then issuer_key must be
 * subject_key's private half). Extensions follow kind: CA:TRUE pathlen 1 / 0
 * with keyCertSign+cRLSign for the root / intermediate, CA:FALSE with
 * digitalSignature for the leaf; subject and authority key identifiers. */
X509 *pa_devca_issue(EVP_PKEY *subject_key, const char *cn, pa_devca_kind kind, X509 *issuer,
                     EVP_PKEY *issuer_key, int64_t not_before, int64_t not_after);

/* Loads the development root and intermediate under dir, creating whichever is
 * missing (dir mode 0700, *.key 0600). Re-issues an intermediate that expires
 * within a day. Fails, rather than overwrite anything, on a half-present or
 * mismatched pair. */
PA_MUST_USE int pa_devca_load_or_create(const char *dir, X509 **root, X509 **inter,
                                        EVP_PKEY **inter_key);

/* 1 when a leaf issued at issued_ms must be replaced at now_ms: after an hour
 * (so every document's leaf has at least two of its three hours left) or
 * when the clock went backwards. */
int pa_attest_leaf_stale(int64_t issued_ms, int64_t now_ms);

/* ---- X.509 helpers (x509_util.c) ------------------------------------------ */

/* 1 when key is an EC key on P-384 (secp384r1), else 0. */
int pa_attest_key_is_p384(const EVP_PKEY *key);
/* DER of a certificate into an OPENSSL_malloc'd buffer (OPENSSL_free it). */
PA_MUST_USE int pa_attest_cert_der(X509 *cert, uint8_t **der, size_t *len);
/* Parses exactly one DER certificate (no trailing bytes). NULL on failure. */
X509 *pa_attest_cert_parse(const uint8_t *der, size_t len);
/* 1 when SHA-256(DER of cert) equals the 64-hex-digit expect_hex (either
 * case), else 0. */
int pa_attest_cert_sha256_is(X509 *cert, const char *expect_hex);

#endif
