/* An auditor's offline check of one attestation document (perfagg attest
 * --document): the same verifier as a live check, at a time the auditor
 * names, with every reason reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "codec.h"

static int is_b64_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=';
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int pa_client_read_document(const char *path, pa_buf *doc, pa_client_error *err)
{
    int rc = -1;
    pa_buf file;
    uint8_t *decoded = NULL;
    size_t decoded_len = 0;
    pa_buf_init(&file, PA_CLIENT_DOCUMENT_FILE_MAX);
    PA_GUARD_GOTO(pa_client_read_file(path, PA_CLIENT_DOCUMENT_FILE_MAX, &file, err), cleanup);

    /* Base64 text has only its alphabet and white space; a raw COSE_Sign1
     * starts with 0x84 or 0xd2, neither of which is either. */
    int text = file.len > 0;
    size_t n = 0;
    for (size_t i = 0; i < file.len && text; i++) {
        if (is_b64_char(file.data[i]))
            file.data[n++] = file.data[i]; /* compacts in place */
        else if (!is_space(file.data[i]))
            text = 0;
    }
    pa_buf_reset(doc);
    if (text) {
        if (pa_b64_decode((const char *)file.data, n, &decoded, &decoded_len) != 0 ||
            decoded_len == 0) {
            pa_client_set_error(err, 0, "invalid_input", "%s: not valid base64", path);
            goto cleanup;
        }
        if (pa_buf_append(doc, decoded, decoded_len) != 0) {
            pa_client_set_error(err, 0, "invalid_input", "%s: the document is too large", path);
            goto cleanup;
        }
    } else {
        /* read again: the compaction above overwrote the start of a raw file */
        pa_buf_reset(&file);
        PA_GUARD_GOTO(pa_client_read_file(path, PA_CLIENT_DOCUMENT_FILE_MAX, &file, err),
                      cleanup);
        if (pa_buf_append(doc, file.data, file.len) != 0) {
            pa_client_set_error(err, 0, "invalid_input", "%s: the document is too large", path);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(decoded);
    pa_buf_free(&file);
    return rc;
}

/* The report line for one check of the verifier. ok_detail is used when it
 * passed. Checks the policy did not ask for are left out. */
static void add_check(pa_verify_report *r, const pa_attest_result *res, pa_attest_check_id id,
                      const char *name, const char *ok_detail)
{
    switch (res->status[id]) {
    case PA_ATTEST_PASS:
        pa_report_add(r, name, PA_CHECK_OK, "%s", ok_detail);
        break;
    case PA_ATTEST_FAIL:
        pa_report_add(r, name, PA_CHECK_FAILED, "%s", res->detail[id]);
        break;
    case PA_ATTEST_UNCHECKED:
    default:
        /* every check is evaluated once the format passed; before that none
         * can be */
        if (res->status[PA_ATTEST_CHECK_FORMAT] != PA_ATTEST_PASS)
            pa_report_add(r, name, PA_CHECK_SKIPPED, "the document could not be parsed");
        break;
    }
}

int pa_client_check_document(const uint8_t *doc, size_t len, X509 *root,
                             const pa_client_document_expect *e, pa_attest_claims *claims,
                             pa_verify_report *out)
{
    static const pa_client_document_expect none;
    pa_attest_policy policy;
    pa_attest_result res;
    uint8_t binding[32];
    char at_text[PA_TIME_STR_LEN], detail[256];

    memset(out, 0, sizeof *out);
    out->development = !pa_client_root_is_aws(root);
    if (e == NULL)
        e = &none;
    if (doc == NULL || root == NULL || claims == NULL) {
        pa_report_add(out, "document_format", PA_CHECK_FAILED, "no document or no root");
        return -1;
    }
    int64_t at_ms = e->at_ms > 0 ? e->at_ms : pa_now_ms();
    pa_attest_policy_init(&policy, at_ms);
    policy.max_skew_ms =
        e->max_age_ms > 0 ? e->max_age_ms : (int64_t)PA_CLIENT_MAX_AGE_DEFAULT_S * 1000;
    policy.allow_debug = e->allow_debug;
    policy.pcr_mask = e->pcr_mask;
    memcpy(policy.pcrs, e->pcrs, sizeof policy.pcrs);
    policy.nonce = e->nonce;
    policy.nonce_len = e->nonce_len;
    if (e->check_keys) {
        pa_attest_key_binding(e->enclave_pubkey, e->signing_pubkey, binding);
        policy.public_key = e->enclave_pubkey;
        policy.public_key_len = 32;
        policy.user_data = binding;
        policy.user_data_len = 32;
    }
    int rc = pa_attest_verify(doc, len, root, &policy, claims, &res);

    pa_time_format(at_ms, at_text);
    add_check(out, &res, PA_ATTEST_CHECK_FORMAT, "document_format",
              "strict COSE_Sign1 (ES384) and Nitro payload");
    add_check(out, &res, PA_ATTEST_CHECK_SIGNATURE, "signature",
              "ES384 by the leaf certificate's key");
    snprintf(detail, sizeof detail,
             "signing leaf -> intermediates -> %s, valid as of %s",
             out->development ? "the root you gave (not AWS's)" : "the pinned AWS Nitro root",
             at_text);
    add_check(out, &res, PA_ATTEST_CHECK_CHAIN, "certificate_chain", detail);
    snprintf(detail, sizeof detail,
             "inside the leaf's validity and within %lld s of %s",
             (long long)(policy.max_skew_ms / 1000), at_text);
    add_check(out, &res, PA_ATTEST_CHECK_TIMESTAMP, "timestamp", detail);
    add_check(out, &res, PA_ATTEST_CHECK_DEBUG, "debug_mode",
              e->allow_debug ? "debug documents allowed (--allow-debug)"
                             : "not a debug-mode enclave");
    add_check(out, &res, PA_ATTEST_CHECK_PCRS, "expected_pcrs", "every PCR you gave matches");
    add_check(out, &res, PA_ATTEST_CHECK_NONCE, "nonce", "document nonce = the one you gave");
    add_check(out, &res, PA_ATTEST_CHECK_PUBLIC_KEY, "public_key",
              "document public_key = enclave_pubkey");
    add_check(out, &res, PA_ATTEST_CHECK_USER_DATA, "key_binding",
              "document user_data = SHA-256(\"perfagg/v1/keys\" || enclave_pubkey || "
              "signing_pubkey)");
    return rc == 0 && pa_verify_report_passed(out) ? 0 : -1;
}
