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

/* PCRn for every bit of mask, "PCR1, PCR2" (for report details). */
static void pcr_list(uint32_t mask, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < PA_ATTEST_PCR_COUNT; i++) {
        if (!(mask & (1u << i)))
            continue;
        int n = snprintf(out + used, outlen - used, "%sPCR%u", used ? ", " : "", i);
        if (n < 0 || (size_t)n >= outlen - used)
            return;
        used += (size_t)n;
    }
}

/* Which of the expected PCRs (mask) differ from the document's. */
static uint32_t pcr_mismatch(const pa_attest_claims *c, uint32_t mask,
                             const uint8_t want[PA_ATTEST_PCR_COUNT][PA_PCR_LEN])
{
    uint32_t bad = 0;
    for (unsigned i = 0; i < PA_ATTEST_PCR_COUNT; i++)
        if ((mask & (1u << i)) &&
            (!(c->pcr_present & (1u << i)) || CRYPTO_memcmp(c->pcrs[i], want[i], PA_PCR_LEN) != 0))
            bad |= 1u << i;
    return bad;
}

void pa_attestation_check(const pa_attestation_fields *f, const uint8_t *nonce, size_t nonce_len,
                          const char *nonce_what, X509 *root, const pa_client_expect *expect,
                          const pa_attestation_time *when, const char *payload_image_hash,
                          pa_client_attestation *out, pa_verify_report *r)
{
    static const pa_client_expect none;
    pa_attest_claims claims;
    pa_attest_result res;
    pa_attest_policy policy;
    char why[PA_ATTEST_DETAIL_MAX * 2];
    char at_text[PA_TIME_STR_LEN];
    if (expect == NULL)
        expect = &none;
    memcpy(out->enclave_pubkey, f->enclave_pubkey, 32);
    memcpy(out->signing_pubkey, f->signing_pubkey, 32);

    /* The expected image hash was checked by the caller's parser (CLI) but
     * the library does not rely on it. */
    uint8_t want_pcr0[PA_PCR_LEN];
    int bad_pin = expect->image_hash != NULL &&
                  pa_hex_decode_exact(expect->image_hash, want_pcr0, PA_PCR_LEN) != 0;
    uint32_t pcr_mask = expect->pcr_mask & ~1u;
    uint8_t binding[32];
    if (f->keygen)
        pa_attest_keygen_binding(f->enclave_pubkey, f->signing_pubkey, f->api_pubkey, f->key_id,
                                 binding);
    else
        pa_attest_key_binding(f->enclave_pubkey, f->signing_pubkey, binding);

    /* One verifier decides everything: authenticity at the chosen time, and
     * the nonce, the two keys and the PCRs we expect. Debug enclaves never. */
    pa_attest_policy_init(&policy, when->at_ms);
    policy.max_skew_ms = when->max_skew_ms;
    policy.nonce = nonce;
    policy.nonce_len = nonce_len;
    policy.public_key = f->enclave_pubkey;
    policy.public_key_len = 32;
    policy.user_data = binding;
    policy.user_data_len = 32;
    for (unsigned i = 1; i < PA_ATTEST_PCR_COUNT; i++)
        if ((pcr_mask & (1u << i)) && pa_attest_policy_expect_pcr(&policy, i, expect->pcrs[i]) != 0)
            bad_pin = 1;
    if (expect->image_hash != NULL && !bad_pin &&
        pa_attest_policy_expect_pcr(&policy, 0, want_pcr0) != 0)
        bad_pin = 1;
    /* The verdict is read from res, check by check. */
    int all_passed = pa_attest_verify(f->quote, f->quote_len, root, &policy, &claims, &res) == 0;
    (void)all_passed;

    int aws = pa_client_root_is_aws(root);
    const char *root_name = aws ? "the pinned AWS Nitro root" : "a DEVELOPMENT root";
    /* The AWS root vouches for every genuine Nitro enclave, whatever image it
     * runs; only PCR0 says which code would hold the keys or sign the
     * numbers. So under that root an unpinned image is a failed check, not
     * an absent one. (A development root is a local trust anchor of its own:
     * whoever holds its key signs what they like, pinned image or not.) */
    int unpinned = aws && expect->image_hash == NULL;
    int pinned_any = expect->image_hash != NULL || pcr_mask != 0;
    pa_time_format(when->at_ms, at_text);
    const uint32_t authentic_mask = PA_ATTEST_AUTHENTICITY_MASK | (1u << PA_ATTEST_CHECK_DEBUG);
    if (!pa_attest_result_ok(&res, authentic_mask)) {
        pa_attest_result_failures(&res, authentic_mask, why, sizeof why);
        pa_report_add(r, "attestation", PA_CHECK_FAILED, "document not valid under %s as of %s (%s): %s",
                      root_name, at_text, when->what, why[0] ? why : "verification failed");
        static const char *const rest[] = {"attestation_nonce", "attestation_public_key",
                                           "attestation_key_binding", "image_hash"};
        for (size_t i = 0; i < PA_ARRAY_LEN(rest); i++)
            pa_report_add(r, rest[i], PA_CHECK_SKIPPED, "the document is not authentic");
        if (unpinned)
            pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED, "%s",
                          PA_CLIENT_IMAGE_HASH_REQUIRED);
        else if (pinned_any)
            pa_report_add(r, "expected_image_hash", PA_CHECK_SKIPPED,
                          "the document is not authentic");
        return;
    }
    char ts_text[PA_TIME_STR_LEN];
    pa_time_format(claims.timestamp_ms, ts_text);
    snprintf(out->module_id, sizeof out->module_id, "%s", claims.module_id);
    out->timestamp_ms = claims.timestamp_ms;
    pa_hex_encode(claims.pcrs[0], PA_PCR_LEN, out->image_hash);
    pa_report_add(r, "attestation", PA_CHECK_OK,
                  "COSE ES384 signature, certificate chain to %s as of %s (%s); document of %s, "
                  "within %lld s (%s)",
                  root_name, at_text, when->what, ts_text,
                  (long long)(when->max_skew_ms / 1000), claims.module_id);

    if (res.status[PA_ATTEST_CHECK_NONCE] == PA_ATTEST_PASS)
        pa_report_add(r, "attestation_nonce", PA_CHECK_OK, "document nonce = %s", nonce_what);
    else
        pa_report_add(r, "attestation_nonce", PA_CHECK_FAILED, "document nonce is not %s",
                      nonce_what);

    if (res.status[PA_ATTEST_CHECK_PUBLIC_KEY] == PA_ATTEST_PASS)
        pa_report_add(r, "attestation_public_key", PA_CHECK_OK,
                      "document public_key = enclave_pubkey");
    else
        pa_report_add(r, "attestation_public_key", PA_CHECK_FAILED,
                      "document public_key is not enclave_pubkey");

    if (f->keygen && res.status[PA_ATTEST_CHECK_USER_DATA] == PA_ATTEST_PASS)
        pa_report_add(r, "attestation_key_binding", PA_CHECK_OK,
                      "document user_data = SHA-256(\"perfagg/v1/keygen\" || enclave_pubkey || "
                      "signing_pubkey || public_key || key_id)");
    else if (f->keygen)
        pa_report_add(r, "attestation_key_binding", PA_CHECK_FAILED,
                      "document user_data does not bind this enclave's keys to the returned "
                      "public key and key_id");
    else if (res.status[PA_ATTEST_CHECK_USER_DATA] == PA_ATTEST_PASS)
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

    if (!unpinned && !pinned_any)
        return;
    char others[160];
    pcr_list(pcr_mask, others, sizeof others);
    uint32_t bad_others = pcr_mismatch(&claims, pcr_mask, expect->pcrs);
    int pcr0_ok = expect->image_hash != NULL && !bad_pin &&
                  CRYPTO_memcmp(want_pcr0, claims.pcrs[0], PA_PCR_LEN) == 0;
    int verdict_ok = res.status[PA_ATTEST_CHECK_PCRS] != PA_ATTEST_FAIL && !bad_pin && !unpinned;
    if (unpinned) {
        pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED, "%s",
                      PA_CLIENT_IMAGE_HASH_REQUIRED);
    } else if (bad_pin) {
        pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED,
                      "the expected image hash is not 96 hex digits");
    } else if (verdict_ok && (expect->image_hash == NULL || pcr0_ok) && bad_others == 0) {
        pa_report_add(r, "expected_image_hash", PA_CHECK_OK, "%s%s%s%s",
                      expect->image_hash ? "PCR0 = the image you pinned" : "",
                      expect->image_hash && others[0] ? "; " : "", others,
                      others[0] ? " = the values you gave" : "");
    } else if (expect->image_hash != NULL && !pcr0_ok) {
        pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED,
                      "PCR0 is not the image you pinned (%.96s)", expect->image_hash);
    } else {
        char bad[160];
        pcr_list(bad_others, bad, sizeof bad);
        pa_report_add(r, "expected_image_hash", PA_CHECK_FAILED,
                      "%s %s not the value you gave", bad[0] ? bad : "a PCR",
                      strchr(bad, ',') ? "are" : "is");
    }
}
