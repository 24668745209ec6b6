/* The checks shared by a live attestation (perfagg attest/submit) and the
 * attestation inside a result bundle (perfagg verify): the document is
 * authentic under the chosen root, and it binds exactly the nonce, the two
 * public keys and the image hash the surrounding JSON claims. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client_internal.h"
#include "codec.h"
#include "json_strict.h"
#include "timeutil.h"

#define PA_QUOTE_B64_MAX ((size_t)64 * 1024)

static int is_lower_hex(const char *s, size_t want_chars)
{
    if (strlen(s) != want_chars)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

int pa_attestation_fields_parse(const json_t *att, pa_attestation_fields *f, const char **why)
{
    static const char *const keys[] = {"quote", "enclave_pubkey", "signing_pubkey", "image_hash",
                                       NULL};
    memset(f, 0, sizeof *f);
    if (!json_is_object(att) || !pa_json_only_keys(att, keys)) {
        *why = "attestation must be {quote, enclave_pubkey, signing_pubkey, image_hash}";
        return -1;
    }
    const char *quote = pa_json_str(att, "quote");
    const char *epk = pa_json_str(att, "enclave_pubkey");
    const char *spk = pa_json_str(att, "signing_pubkey");
    const char *ih = pa_json_str(att, "image_hash");
    if (quote == NULL || strlen(quote) > PA_QUOTE_B64_MAX ||
        pa_b64_decode(quote, strlen(quote), &f->quote, &f->quote_len) != 0 || f->quote_len == 0) {
        *why = "attestation.quote is not base64";
        pa_attestation_fields_free(f);
        return -1;
    }
    if (epk == NULL || pa_b64_decode_exact(epk, f->enclave_pubkey, 32) != 0) {
        *why = "attestation.enclave_pubkey is not 32 bytes of base64";
        pa_attestation_fields_free(f);
        return -1;
    }
    if (spk == NULL || pa_b64_decode_exact(spk, f->signing_pubkey, 32) != 0) {
        *why = "attestation.signing_pubkey is not 32 bytes of base64";
        pa_attestation_fields_free(f);
        return -1;
    }
    if (ih == NULL || !is_lower_hex(ih, (size_t)2 * PA_PCR_LEN)) {
        *why = "attestation.image_hash is not 96 lowercase hex digits";
        pa_attestation_fields_free(f);
        return -1;
    }
    memcpy(f->image_hash, ih, 2 * PA_PCR_LEN + 1);
    return 0;
}

void pa_attestation_fields_free(pa_attestation_fields *f)
{
    free(f->quote);
    f->quote = NULL;
    f->quote_len = 0;
}

static int bytes_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

void pa_attestation_check(const pa_attestation_fields *f, const uint8_t *nonce, size_t nonce_len,
                          const char *nonce_what, X509 *root, const char *expect_image_hash,
                          const char *payload_image_hash, pa_client_attestation *out,
                          pa_verify_report *r)
{
    pa_attest_claims claims;
    char why[256] = "";
    memset(&claims, 0, sizeof claims);
    memcpy(out->enclave_pubkey, f->enclave_pubkey, 32);
    memcpy(out->signing_pubkey, f->signing_pubkey, 32);

    /* at_ms = 0: the document's own timestamp, so a result stays verifiable
     * after the short-lived leaf certificate expires. Debug enclaves never. */
    int verified = pa_attest_verify(f->quote, f->quote_len, root, 0, 0, &claims, why,
                                    sizeof why) == 0;
    int aws = pa_client_root_is_aws(root);
    const char *root_name = aws ? "the pinned AWS Nitro root" : "a DEVELOPMENT root";
    /* The AWS root vouches for every genuine Nitro enclave, whatever image it
     * runs; only PCR0 says which code would hold the keys or sign the
     * numbers. So under that root an unpinned image is a failed check, not
     * an absent one. (A development root is a local trust anchor of its own:
     * whoever holds its key signs what they like, pinned image or not.) */
    int unpinned = aws && expect_image_hash == NULL;
    if (!verified) {
        pa_report_add(r, "attestation", PA_CHECK_FAILED, "document not valid under %s: %s",
                      root_name, why[0] ? why : "verification failed");
        static const char *const rest[] = {"attestation_nonce", "attestation_public_key",
                                           "attestation_key_binding", "image_hash"};
        for (size_t i = 0; i < PA_ARRAY_LEN(rest); i++)
            pa_report_add(r, rest[i], PA_CHECK_SKIPPED, "the document is not authentic");
        if (unpinned)
            pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED, "%s",
                          PA_CLIENT_IMAGE_HASH_REQUIRED);
        else if (expect_image_hash != NULL)
            pa_report_add(r, "expected_image_hash", PA_CHECK_SKIPPED,
                          "the document is not authentic");
        return;
    }
    char when[PA_TIME_STR_LEN];
    pa_time_format(claims.timestamp_ms, when);
    snprintf(out->module_id, sizeof out->module_id, "%s", claims.module_id);
    out->timestamp_ms = claims.timestamp_ms;
    pa_hex_encode(claims.pcr0, PA_PCR_LEN, out->image_hash);
    pa_report_add(r, "attestation", PA_CHECK_OK,
                  "COSE ES384 signature, certificate chain to %s, as of %s (%s)", root_name, when,
                  claims.module_id);

    if (claims.has_nonce && bytes_equal(claims.nonce, claims.nonce_len, nonce, nonce_len))
        pa_report_add(r, "attestation_nonce", PA_CHECK_OK, "document nonce = %s", nonce_what);
    else
        pa_report_add(r, "attestation_nonce", PA_CHECK_FAILED, "document nonce is not %s",
                      nonce_what);

    if (claims.has_public_key &&
        bytes_equal(claims.public_key, claims.public_key_len, f->enclave_pubkey, 32))
        pa_report_add(r, "attestation_public_key", PA_CHECK_OK,
                      "document public_key = enclave_pubkey");
    else
        pa_report_add(r, "attestation_public_key", PA_CHECK_FAILED,
                      "document public_key is not enclave_pubkey");

    uint8_t binding[32];
    pa_attest_key_binding(f->enclave_pubkey, f->signing_pubkey, binding);
    if (claims.has_user_data && bytes_equal(claims.user_data, claims.user_data_len, binding, 32))
        pa_report_add(r, "attestation_key_binding", PA_CHECK_OK,
                      "document user_data = SHA-256(\"perfagg/v1/keys\" || enclave_pubkey || "
                      "signing_pubkey)");
    else
        pa_report_add(r, "attestation_key_binding", PA_CHECK_FAILED,
                      "document user_data does not bind enclave_pubkey and signing_pubkey");

    int same = strcmp(out->image_hash, f->image_hash) == 0;
    int payload_same =
        payload_image_hash == NULL || strcmp(out->image_hash, payload_image_hash) == 0;
    if (same && payload_same)
        pa_report_add(r, "image_hash", PA_CHECK_OK, "PCR0 = %s%s", out->image_hash,
                      payload_image_hash ? " (attestation and payload)" : "");
    else
        pa_report_add(r, "image_hash", PA_CHECK_FAILED, "PCR0 %s differs from the %s image_hash",
                      out->image_hash, !same ? "attestation's" : "payload's");

    if (unpinned) {
        pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED, "%s",
                      PA_CLIENT_IMAGE_HASH_REQUIRED);
    } else if (expect_image_hash != NULL) {
        uint8_t want[PA_PCR_LEN];
        if (pa_hex_decode_exact(expect_image_hash, want, PA_PCR_LEN) != 0)
            pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED,
                          "the expected image hash is not 96 hex digits");
        else if (CRYPTO_memcmp(want, claims.pcr0, PA_PCR_LEN) == 0)
            pa_report_add(r, "expected_image_hash", PA_CHECK_OK,
                          "PCR0 = the image you pinned");
        else
            pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED,
                          "PCR0 is not the image you pinned (%.96s)", expect_image_hash);
    }
}
