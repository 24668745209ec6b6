/* perfagg keygen: ask the enclave for an Ed25519 API key and check, before
 * the trader registers its public key anywhere, that an attested enclave
 * made it and holds its private key (docs/CLIENT.md, `perfagg keygen`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "client_internal.h"
#include "codec.h"
#include "json_strict.h"
#include "timeutil.h"

/* The canonical SubjectPublicKeyInfo PEM of the raw Ed25519 key: what the
 * served PEM must be, byte for byte. */
static int expected_pem(const uint8_t pub[32], char *out, size_t cap)
{
    int rc = -1;
    char *data = NULL;
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    BIO *bio = BIO_new(BIO_s_mem());
    if (k != NULL && bio != NULL && PEM_write_bio_PUBKEY(bio, k) == 1) {
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && (size_t)n < cap) {
            memcpy(out, data, (size_t)n);
            out[n] = 0;
            rc = 0;
        }
    }
    BIO_free(bio);
    EVP_PKEY_free(k);
    return rc;
}

/* The answer's own fields (besides attestation) into out; why on failure. */
static int parse_answer(const json_t *j, pa_client_keygen_result *out, const char **why)
{
    static const char *const keys[] = {"key_id",         "exchange",    "public_key",
                                       "public_key_pem", "attestation", "expires_at",
                                       NULL};
    if (!json_is_object(j) || !pa_json_only_keys(j, keys)) {
        *why = "the answer must be {key_id, exchange, public_key, public_key_pem, attestation, "
               "expires_at}";
        return -1;
    }
    const char *id = pa_json_str(j, "key_id"), *ex = pa_json_str(j, "exchange");
    const char *pk = pa_json_str(j, "public_key"), *pem = pa_json_str(j, "public_key_pem");
    const char *exp = pa_json_str(j, "expires_at");
    int64_t t = 0;
    if (id == NULL || !pa_uuid_valid(id)) {
        *why = "key_id is not a UUID v4";
        return -1;
    }
    if (pk == NULL || pa_b64_decode_exact(pk, out->public_key, 32) != 0) {
        *why = "public_key is not 32 bytes of base64";
        return -1;
    }
    if (ex == NULL || strlen(ex) >= sizeof out->exchange || pem == NULL ||
        strlen(pem) >= sizeof out->public_key_pem || exp == NULL ||
        strlen(exp) >= sizeof out->expires_at || pa_time_parse(exp, &t) != 0) {
        *why = "exchange, public_key_pem or expires_at is missing or malformed";
        return -1;
    }
    snprintf(out->key_id, sizeof out->key_id, "%s", id);
    snprintf(out->exchange, sizeof out->exchange, "%s", ex);
    snprintf(out->public_key_pem, sizeof out->public_key_pem, "%s", pem);
    snprintf(out->expires_at, sizeof out->expires_at, "%s", exp);
    return 0;
}

int pa_client_check_keygen(const char *json, size_t len, const uint8_t *nonce, size_t nonce_len,
                           X509 *root, const pa_client_expect *expect,
                           pa_client_keygen_result *out)
{
    memset(out, 0, sizeof *out);
    pa_verify_report *r = &out->attestation.report;
    r->development = !pa_client_root_is_aws(root);
    if (json == NULL || nonce == NULL || nonce_len == 0 || root == NULL) {
        pa_report_add(r, "response_format", PA_CHECK_FAILED, "missing input");
        return -1;
    }
    pa_attestation_fields f;
    memset(&f, 0, sizeof f);
    const char *why = "the answer is not one JSON object";
    json_t *j = pa_json_parse(json, len, PA_CLIENT_RESPONSE_MAX);
    if (j == NULL || parse_answer(j, out, &why) != 0 ||
        pa_attestation_fields_parse(json_object_get(j, "attestation"), &f, &why) != 0) {
        pa_report_add(r, "response_format", PA_CHECK_FAILED, "%s", why);
        json_decref(j);
        return -1;
    }
    json_decref(j);
    pa_report_add(r, "response_format", PA_CHECK_OK,
                  "{key_id, exchange, public_key, public_key_pem, attestation, expires_at}");
    /* the same live check as a quote, with the keygen binding */
    f.keygen = 1;
    memcpy(f.api_pubkey, out->public_key, 32);
    memcpy(f.key_id, out->key_id, sizeof f.key_id);
    pa_attestation_time when = {
        .at_ms = expect != NULL && expect->now_ms > 0 ? expect->now_ms : pa_now_ms(),
        .max_skew_ms = expect != NULL && expect->max_age_ms > 0
                           ? expect->max_age_ms
                           : (int64_t)PA_CLIENT_MAX_AGE_DEFAULT_S * 1000,
        .what = "now",
    };
    pa_attestation_check(&f, nonce, nonce_len, "the fresh nonce we sent", root, expect, &when,
                         NULL, &out->attestation, r);
    pa_attestation_fields_free(&f);

    char want[PA_CLIENT_PUBKEY_PEM_MAX];
    if (expected_pem(out->public_key, want, sizeof want) == 0 &&
        strcmp(want, out->public_key_pem) == 0)
        pa_report_add(r, "public_key_pem", PA_CHECK_OK,
                      "the Ed25519 SubjectPublicKeyInfo PEM of public_key");
    else
        pa_report_add(r, "public_key_pem", PA_CHECK_FAILED,
                      "public_key_pem is not the PEM of the attested public_key");
    return pa_verify_report_passed(r) ? 0 : -1;
}

int pa_client_keygen(const char *base_url, const char *exchange, X509 *root,
                     const pa_client_expect *expect, pa_client_keygen_result *out,
                     pa_client_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    uint8_t nonce[PA_CLIENT_NONCE_LEN];
    char *b64 = NULL, *body = NULL;
    json_t *req = NULL;
    pa_buf reply;
    pa_buf_init(&reply, PA_CLIENT_RESPONSE_MAX);
    if (root == NULL || exchange == NULL) {
        pa_client_set_error(err, 0, "invalid_input", "no attestation root or exchange");
        goto cleanup;
    }
    if (RAND_bytes(nonce, sizeof nonce) != 1 ||
        (b64 = pa_b64_encode(nonce, sizeof nonce)) == NULL ||
        (req = json_pack("{s:s, s:s}", "exchange", exchange, "nonce", b64)) == NULL ||
        (body = json_dumps(req, JSON_COMPACT)) == NULL) {
        pa_client_set_error(err, 0, "internal_error", "cannot build the request");
        goto cleanup;
    }
    PA_GUARD_GOTO(pa_client_http(base_url, "/enclave/keygen", body, PA_CLIENT_TIMEOUT_SHORT,
                                 &reply, err),
                  cleanup);
    if (pa_client_check_keygen((const char *)reply.data, reply.len, nonce, sizeof nonce, root,
                               expect, out) != 0) {
        pa_client_set_error(err, 0, "attestation_failed",
                            "the enclave-made key's attestation did not pass every check");
        goto cleanup;
    }
    rc = 0;
cleanup:
    json_decref(req);
    free(body);
    free(b64);
    pa_buf_free(&reply);
    return rc;
}
