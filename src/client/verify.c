/* Offline verification of a result bundle (docs/PROTOCOL.md, "Result bundle").
 *
 * Trust flows one way: the root the caller chose -> the attestation document
 * -> the two public keys it binds (enclave_pubkey, signing_pubkey) and PCR0
 * -> the Ed25519 signature over JCS(payload) -> payload.merkle_root -> the
 * audit entries in the logs. Nothing else in the bundle (response.merkle_root,
 * logs_url, ...) is trusted; it is only compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "client_internal.h"
#include "codec.h"
#include "envelope_format.h"
#include "jcs.h"
#include "json_strict.h"
#include "merkle.h"
#include "exchange_hosts.h"
#include "timeutil.h"

#define PA_PAYLOAD_TYPE "perfagg/v1/aggregates"

typedef struct {
    const json_t *payload;
    const char *signature;
    const char *response_merkle_root;
    const json_t *attestation;
    const char *logs_result_id;
    const char *logs_merkle_root;
    json_int_t tree_size;
    const json_t *entries;
} bundle_view;

/* Required payload fields and their JSON types. Extra fields are allowed:
 * they are covered by the signature like the rest. */
static int payload_shape_ok(const json_t *p, const char **why)
{
    static const char *const strings[] = {"type",       "result_id",   "exchange",
                                          "label",      "from",        "to",
                                          "merkle_root", "image_hash", "environment",
                                          "issued_at"};
    static const char *const numbers[] = {"pnl", "volume"};
    for (size_t i = 0; i < PA_ARRAY_LEN(strings); i++)
        if (pa_json_str(p, strings[i]) == NULL) {
            *why = "payload lacks a required string field (type, result_id, exchange, label, "
                   "from, to, merkle_root, image_hash, environment, issued_at)";
            return -1;
        }
    for (size_t i = 0; i < PA_ARRAY_LEN(numbers); i++)
        if (!json_is_number(json_object_get(p, numbers[i]))) {
            *why = "payload.pnl and payload.volume must be numbers";
            return -1;
        }
    const json_t *sharpe = json_object_get(p, "sharpe");
    if (!json_is_number(sharpe) && !json_is_null(sharpe)) {
        *why = "payload.sharpe must be a number or null";
        return -1;
    }
    if (!json_is_integer(json_object_get(p, "trades")) ||
        !json_is_integer(json_object_get(p, "version"))) {
        *why = "payload.trades and payload.version must be integers";
        return -1;
    }
    return 0;
}

static int parse_bundle(const json_t *b, bundle_view *v, const char **why)
{
    static const char *const top_keys[] = {"version", "response", "logs", NULL};
    static const char *const resp_keys[] = {"aggregates_signed", "merkle_root", "logs_url",
                                            "attestation", NULL};
    static const char *const signed_keys[] = {"signature", "payload", NULL};
    static const char *const logs_keys[] = {"result_id", "tree_size", "merkle_root", "entries",
                                            NULL};
    static const char *const entry_keys[] = {"index", "entry", "leaf_hash", NULL};
    memset(v, 0, sizeof *v);

    if (!json_is_object(b) || !pa_json_only_keys(b, top_keys)) {
        *why = "a bundle is {version, response, logs}";
        return -1;
    }
    const json_t *version = json_object_get(b, "version");
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        *why = "bundle version is not 1";
        return -1;
    }
    const json_t *resp = json_object_get(b, "response");
    const json_t *logs = json_object_get(b, "logs");
    if (!json_is_object(resp) || !pa_json_only_keys(resp, resp_keys) ||
        pa_json_str(resp, "logs_url") == NULL) {
        *why = "response must be {aggregates_signed, merkle_root, logs_url, attestation}";
        return -1;
    }
    const json_t *sig = json_object_get(resp, "aggregates_signed");
    if (!json_is_object(sig) || !pa_json_only_keys(sig, signed_keys) ||
        !json_is_object(json_object_get(sig, "payload"))) {
        *why = "response.aggregates_signed must be {signature, payload}";
        return -1;
    }
    v->payload = json_object_get(sig, "payload");
    v->signature = pa_json_str(sig, "signature");
    v->response_merkle_root = pa_json_str(resp, "merkle_root");
    v->attestation = json_object_get(resp, "attestation");
    if (v->signature == NULL || v->response_merkle_root == NULL) {
        *why = "response.aggregates_signed.signature and response.merkle_root must be strings";
        return -1;
    }
    PA_GUARD(payload_shape_ok(v->payload, why));

    if (!json_is_object(logs) || !pa_json_only_keys(logs, logs_keys)) {
        *why = "logs must be {result_id, tree_size, merkle_root, entries}";
        return -1;
    }
    v->logs_result_id = pa_json_str(logs, "result_id");
    v->logs_merkle_root = pa_json_str(logs, "merkle_root");
    v->entries = json_object_get(logs, "entries");
    const json_t *ts = json_object_get(logs, "tree_size");
    if (v->logs_result_id == NULL || v->logs_merkle_root == NULL || !json_is_integer(ts) ||
        !json_is_array(v->entries) || json_array_size(v->entries) > PA_AUDIT_MAX_ENTRIES) {
        *why = "logs fields have the wrong types (or too many entries)";
        return -1;
    }
    v->tree_size = json_integer_value(ts);
    size_t i;
    const json_t *e;
    json_array_foreach(v->entries, i, e) {
        if (!json_is_object(e) || !pa_json_only_keys(e, entry_keys) ||
            !json_is_integer(json_object_get(e, "index")) ||
            !json_is_object(json_object_get(e, "entry")) || pa_json_str(e, "leaf_hash") == NULL) {
            *why = "each logs entry must be {index: integer, entry: object, leaf_hash: string}";
            return -1;
        }
    }
    return 0;
}

/* merkle_leaves and merkle_root. */
static void check_merkle(const bundle_view *v, pa_verify_report *r)
{
    size_t n = json_array_size(v->entries);
    char **texts = calloc(n + 1, sizeof *texts);
    pa_bytes *leaves = calloc(n + 1, sizeof *leaves);
    char problem[200] = "";
    int computed = texts != NULL && leaves != NULL;

    for (size_t i = 0; computed && i < n; i++) {
        const json_t *e = json_array_get(v->entries, i);
        texts[i] = pa_jcs_dumps(json_object_get(e, "entry"));
        if (texts[i] == NULL) {
            computed = 0;
            snprintf(problem, sizeof problem, "entry %zu cannot be canonicalised", i);
            break;
        }
        leaves[i].data = (const uint8_t *)texts[i];
        leaves[i].len = strlen(texts[i]);
        uint8_t h[PA_HASH_LEN];
        char hex[2 * PA_HASH_LEN + 1];
        pa_merkle_leaf_hash(leaves[i].data, leaves[i].len, h);
        pa_hex_encode(h, sizeof h, hex);
        json_int_t index = json_integer_value(json_object_get(e, "index"));
        if (problem[0] == '\0' && index != (json_int_t)i)
            snprintf(problem, sizeof problem, "entry at position %zu has index %lld", i,
                     (long long)index);
        else if (problem[0] == '\0' && strcmp(hex, pa_json_str(e, "leaf_hash")) != 0)
            snprintf(problem, sizeof problem, "entry %zu: leaf_hash is not SHA-256(0x00 || "
                     "JCS(entry))", i);
    }
    if (problem[0] == '\0' && (v->tree_size < 0 || (size_t)v->tree_size != n))
        snprintf(problem, sizeof problem, "tree_size %lld but %zu entries",
                 (long long)v->tree_size, n);
    if (problem[0] == '\0' && computed)
        pa_report_add(r, "merkle_leaves", PA_CHECK_OK,
                      "%zu entries, indices 0..n-1 in order, every leaf_hash recomputed", n);
    else
        pa_report_add(r, "merkle_leaves", PA_CHECK_FAILED, "%s",
                      problem[0] ? problem : "out of memory");

    uint8_t root[PA_HASH_LEN];
    char hex[2 * PA_HASH_LEN + 1];
    if (!computed || pa_merkle_root(leaves, n, root) != 0) {
        pa_report_add(r, "merkle_root", PA_CHECK_FAILED, "cannot recompute the root");
    } else {
        pa_hex_encode(root, sizeof root, hex);
        const char *payload_root = pa_json_str(v->payload, "merkle_root");
        const char *differs = strcmp(hex, payload_root) != 0              ? "payload.merkle_root"
                              : strcmp(hex, v->response_merkle_root) != 0 ? "response.merkle_root"
                              : strcmp(hex, v->logs_merkle_root) != 0     ? "logs.merkle_root"
                                                                          : NULL;
        if (differs == NULL)
            pa_report_add(r, "merkle_root", PA_CHECK_OK,
                          "%s recomputed from the entries = payload = response = logs", hex);
        else
            pa_report_add(r, "merkle_root", PA_CHECK_FAILED,
                          "root recomputed from the entries (%s) differs from %s", hex, differs);
    }
    for (size_t i = 0; texts != NULL && i < n; i++)
        free(texts[i]);
    free(texts);
    free(leaves);
}

/* Under the AWS root a result must come from a production build talking to
 * the exchange's real API: a development build (which accepts a host-chosen
 * exchange URL) can run on genuine Nitro hardware too, and its numbers would
 * then chain to AWS all the same. Under a development root the payload's
 * own word is shown, not required. */
static void check_environment(const json_t *payload, int aws, pa_verify_report *r)
{
    const char *env = pa_json_str(payload, "environment");
    const char *exchange = pa_json_str(payload, "exchange");
    const json_t *scope = json_object_get(payload, "scope");
    const char *url = pa_json_str(scope, "exchange_base_url");
    const char *account = pa_json_str(scope, "account_type");
    const char *builtin = NULL;
    if (strcmp(exchange, "binance") == 0)
        builtin = account != NULL && strcmp(account, "usdm") == 0 ? PA_BINANCE_FUTURES_BASE_URL
                                                                  : PA_BINANCE_BASE_URL;
    if (!aws) {
        pa_report_add(r, "environment", PA_CHECK_OK,
                      "environment %s (a DEVELOPMENT root: not required to be production)", env);
        return;
    }
    if (strcmp(env, "production") != 0)
        pa_report_add(r, "environment", PA_CHECK_FAILED,
                      "payload.environment is \"%s\", not \"production\"", env);
    else if (builtin == NULL)
        pa_report_add(r, "environment", PA_CHECK_FAILED,
                      "no built-in base URL for exchange \"%s\"", exchange);
    else if (url == NULL || strcmp(url, builtin) != 0)
        pa_report_add(r, "environment", PA_CHECK_FAILED,
                      "payload.scope.exchange_base_url is not the built-in %s", builtin);
    else
        pa_report_add(r, "environment", PA_CHECK_OK, "production, exchange API %s", builtin);
}

static void check_challenge(const json_t *payload, const char *want, pa_verify_report *r)
{
    const char *got = pa_json_str(payload, "challenge");
    if (got != NULL && strlen(got) == strlen(want) && strcmp(got, want) == 0)
        pa_report_add(r, "challenge", PA_CHECK_OK, "payload.challenge = the challenge you gave");
    else
        pa_report_add(r, "challenge", PA_CHECK_FAILED,
                      "payload.challenge is %s the challenge you gave",
                      got == NULL ? "absent, not" : "not");
}

/* [payload.from, payload.to) must lie inside [not_before, not_after]. */
static void check_window(const json_t *payload, const char *not_before, const char *not_after,
                         pa_verify_report *r)
{
    int64_t from = 0, to = 0, lo = 0, hi = 0;
    if (pa_time_parse(pa_json_str(payload, "from"), &from) != 0 ||
        pa_time_parse(pa_json_str(payload, "to"), &to) != 0) {
        pa_report_add(r, "window", PA_CHECK_FAILED, "payload.from or payload.to is not a time");
        return;
    }
    if (not_before != NULL && (pa_time_parse(not_before, &lo) != 0 || from < lo)) {
        pa_report_add(r, "window", PA_CHECK_FAILED, "payload.from is before --not-before");
        return;
    }
    if (not_after != NULL && (pa_time_parse(not_after, &hi) != 0 || to > hi)) {
        pa_report_add(r, "window", PA_CHECK_FAILED, "payload.to is after --not-after");
        return;
    }
    pa_report_add(r, "window", PA_CHECK_OK, "[payload.from, payload.to) inside the window you gave");
}

int pa_client_verify_bundle(const char *bundle_json, size_t len, X509 *root,
                            const pa_client_expect *expect, pa_verify_report *out)
{
    memset(out, 0, sizeof *out);
    out->development = !pa_client_root_is_aws(root);
    json_t *b = NULL;
    char *jcs = NULL;
    bundle_view v;
    pa_attestation_fields f;
    pa_client_attestation att;
    uint8_t sig[PA_SIGNATURE_LEN];
    const char *why = "not one JSON object (or a duplicate key)";
    memset(&f, 0, sizeof f);
    memset(&att, 0, sizeof att);

    if (bundle_json == NULL || root == NULL) {
        pa_report_add(out, "bundle_format", PA_CHECK_FAILED, "no bundle or no root");
        goto cleanup;
    }
    b = pa_json_parse(bundle_json, len, PA_CLIENT_BUNDLE_MAX);
    if (b == NULL || parse_bundle(b, &v, &why) != 0 ||
        pa_attestation_fields_parse(v.attestation, &f, &why) != 0) {
        pa_report_add(out, "bundle_format", PA_CHECK_FAILED, "%s", why);
        goto cleanup;
    }
    if (pa_b64_decode_exact(v.signature, sig, sizeof sig) != 0) {
        pa_report_add(out, "bundle_format", PA_CHECK_FAILED,
                      "the signature is not 64 bytes of base64");
        goto cleanup;
    }
    int64_t issued_ms = 0;
    if (pa_time_parse(pa_json_str(v.payload, "issued_at"), &issued_ms) != 0 || issued_ms <= 0) {
        pa_report_add(out, "bundle_format", PA_CHECK_FAILED,
                      "payload.issued_at is not an RFC 3339 time");
        goto cleanup;
    }
    jcs = pa_jcs_dumps(v.payload);
    if (jcs == NULL) {
        pa_report_add(out, "bundle_format", PA_CHECK_FAILED,
                      "the payload has no canonical form (non-finite number or bad UTF-8)");
        goto cleanup;
    }
    snprintf(out->environment, sizeof out->environment, "%s",
             pa_json_str(v.payload, "environment"));
    pa_report_add(out, "bundle_format", PA_CHECK_OK, "version 1: response and logs (%zu entries)",
                  json_array_size(v.entries));

    size_t jcs_len = strlen(jcs);
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)jcs, jcs_len, digest);
    /* As of payload.issued_at: the enclave attests right after it signs, so
     * the document's timestamp must be close to it, and the leaf valid then.
     * A result stays verifiable after its short-lived leaf expires. */
    pa_attestation_time when = {.at_ms = issued_ms,
                                .max_skew_ms = PA_CLIENT_BUNDLE_SKEW_MS,
                                .what = "payload.issued_at"};
    pa_attestation_check(&f, digest, sizeof digest, "SHA-256(JCS(payload))", root, expect, &when,
                         pa_json_str(v.payload, "image_hash"), &att, out);

    if (pa_ed25519_verify(f.signing_pubkey, (const uint8_t *)jcs, jcs_len, sig) == 0)
        pa_report_add(out, "payload_signature", PA_CHECK_OK,
                      "Ed25519 by signing_pubkey over JCS(payload) (%zu bytes)", jcs_len);
    else
        pa_report_add(out, "payload_signature", PA_CHECK_FAILED,
                      "the signature does not match JCS(payload) under signing_pubkey");

    const char *type = pa_json_str(v.payload, "type");
    json_int_t version = json_integer_value(json_object_get(v.payload, "version"));
    if (strcmp(type, PA_PAYLOAD_TYPE) == 0 && version == 1)
        pa_report_add(out, "payload_type", PA_CHECK_OK, "%s, version 1", PA_PAYLOAD_TYPE);
    else
        pa_report_add(out, "payload_type", PA_CHECK_FAILED,
                      "payload is not " PA_PAYLOAD_TYPE " version 1");

    check_merkle(&v, out);

    if (strcmp(v.logs_result_id, pa_json_str(v.payload, "result_id")) == 0)
        pa_report_add(out, "result_id", PA_CHECK_OK, "logs.result_id = payload.result_id = %s",
                      v.logs_result_id);
    else
        pa_report_add(out, "result_id", PA_CHECK_FAILED,
                      "logs.result_id differs from payload.result_id");

    check_environment(v.payload, !out->development, out);
    if (expect != NULL && expect->challenge != NULL)
        check_challenge(v.payload, expect->challenge, out);
    if (expect != NULL && (expect->not_before != NULL || expect->not_after != NULL))
        check_window(v.payload, expect->not_before, expect->not_after, out);

cleanup:
    free(jcs);
    pa_attestation_fields_free(&f);
    json_decref(b);
    return pa_verify_report_passed(out) ? 0 : -1;
}
