/* Live attestation: ask the enclave to attest a nonce we just drew, and check
 * the answer before anything is sealed to the key it names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "client_internal.h"
#include "codec.h"
#include "json_strict.h"
#include "timeutil.h"

int pa_client_check_quote(const char *json, size_t len, const uint8_t *nonce, size_t nonce_len,
                          X509 *root, const pa_client_expect *expect, pa_client_attestation *out)
{
    memset(out, 0, sizeof *out);
    out->report.development = !pa_client_root_is_aws(root);
    if (json == NULL || nonce == NULL || nonce_len == 0 || root == NULL) {
        pa_report_add(&out->report, "response_format", PA_CHECK_FAILED, "missing input");
        return -1;
    }
    pa_attestation_fields f;
    const char *why = "the answer is not one JSON object";
    json_t *j = pa_json_parse(json, len, PA_CLIENT_RESPONSE_MAX);
    if (j == NULL || pa_attestation_fields_parse(j, &f, &why) != 0) {
        pa_report_add(&out->report, "response_format", PA_CHECK_FAILED, "%s", why);
        json_decref(j);
        return -1;
    }
    json_decref(j);
    pa_report_add(&out->report, "response_format", PA_CHECK_OK,
                  "{quote, enclave_pubkey, signing_pubkey, image_hash}");
    /* A live check: the chain must hold NOW, and the document must have been
     * made just now. Validating at the document's own timestamp would let a
     * signer whose leaf expired long ago backdate documents. */
    pa_attestation_time when = {
        .at_ms = expect != NULL && expect->now_ms > 0 ? expect->now_ms : pa_now_ms(),
        .max_skew_ms = expect != NULL && expect->max_age_ms > 0
                           ? expect->max_age_ms
                           : (int64_t)PA_CLIENT_MAX_AGE_DEFAULT_S * 1000,
        .what = "now",
    };
    pa_attestation_check(&f, nonce, nonce_len, "the fresh nonce we sent", root, expect, &when,
                         NULL, out, &out->report);
    pa_attestation_fields_free(&f);
    return pa_verify_report_passed(&out->report) ? 0 : -1;
}

int pa_client_attest(const char *base_url, X509 *root, const pa_client_expect *expect,
                     pa_client_attestation *out, pa_client_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    uint8_t nonce[PA_CLIENT_NONCE_LEN];
    char *b64 = NULL, *escaped = NULL;
    char path[256];
    pa_buf reply;
    pa_buf_init(&reply, PA_CLIENT_RESPONSE_MAX);

    if (root == NULL) {
        pa_client_set_error(err, 0, "invalid_input", "no attestation root");
        goto cleanup;
    }
    if (RAND_bytes(nonce, sizeof nonce) != 1 ||
        (b64 = pa_b64_encode(nonce, sizeof nonce)) == NULL ||
        (escaped = curl_easy_escape(NULL, b64, 0)) == NULL) {
        pa_client_set_error(err, 0, "internal_error", "cannot make a nonce");
        goto cleanup;
    }
    snprintf(path, sizeof path, "/attestation/quote?nonce=%s", escaped);
    PA_GUARD_GOTO(pa_client_http(base_url, path, NULL, PA_CLIENT_TIMEOUT_SHORT, &reply, err),
                  cleanup);
    if (pa_client_check_quote((const char *)reply.data, reply.len, nonce, sizeof nonce, root,
                              expect, out) != 0) {
        pa_client_set_error(err, 0, "attestation_failed",
                            "the enclave's attestation did not pass every check");
        goto cleanup;
    }
    rc = 0;

cleanup:
    free(b64);
    curl_free(escaped);
    pa_buf_free(&reply);
    return rc;
}
