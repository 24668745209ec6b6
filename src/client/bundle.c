/* Result bundles: {"version":1,"response":...,"logs":...}.
 *
 * The two answers are spliced into the bundle as the raw bytes received.
 * Parsing and re-serialising them through jansson could change a number's
 * text (1.10 -> 1.1, 1e2 -> 100.0), and a bundle is evidence: it should hold
 * what the server said, not our rendering of it. */
/* strcasestr: _GNU_SOURCE comes from the build. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "jcs.h"
#include "json_strict.h"

#define PA_LOGS_PREFIX "/api/logs/"

/* logs_url must be exactly /api/logs/<uuid>: the server cannot point us at
 * another host or path. */
static int logs_path_ok(const char *u)
{
    size_t n = strlen(PA_LOGS_PREFIX);
    return u != NULL && strncmp(u, PA_LOGS_PREFIX, n) == 0 && pa_uuid_valid(u + n);
}

/* GETs or POSTs and checks the answer is one JSON object free of the session
 * id. *parsed receives it (new reference). */
static int fetch_object(const char *base_url, const char *path, const char *body, long timeout,
                        const char *session_id, pa_buf *raw, json_t **parsed,
                        pa_client_error *err)
{
    PA_GUARD(pa_client_http(base_url, path, body, timeout, raw, err));
    *parsed = pa_json_parse((const char *)raw->data, raw->len, PA_CLIENT_RESPONSE_MAX);
    if (!json_is_object(*parsed)) {
        pa_client_set_error(err, 200, "bad_response", "%s: the answer is not a JSON object",
                            path);
        return -1;
    }
    /* The session id is the trader's capability; a bundle is meant to be
     * shared. Refuse rather than publish it. */
    if (strcasestr((const char *)raw->data, session_id) != NULL) {
        pa_client_set_error(err, 200, "session_id_leak",
                            "%s: the answer contains the session id; refusing to save it", path);
        return -1;
    }
    return 0;
}

int pa_client_fetch_bundle(const char *base_url, const char *session_id, const char *from,
                           const char *to, const char *challenge, pa_buf *bundle,
                           pa_client_error *err)
{
    int rc = -1;
    json_t *req = NULL, *resp = NULL, *logs = NULL, *check = NULL;
    char *body = NULL;
    pa_buf resp_raw, logs_raw;
    pa_buf_init(&resp_raw, PA_CLIENT_RESPONSE_MAX);
    pa_buf_init(&logs_raw, PA_CLIENT_RESPONSE_MAX);

    if (session_id == NULL || !pa_uuid_valid(session_id) || bundle == NULL) {
        pa_client_set_error(err, 0, "invalid_input", "the session id is not a UUID");
        goto cleanup;
    }
    req = json_pack("{s:s}", "session_id", session_id);
    int ok = req != NULL;
    if (ok && from != NULL)
        ok = json_object_set_new(req, "from", json_string(from)) == 0;
    if (ok && to != NULL)
        ok = json_object_set_new(req, "to", json_string(to)) == 0;
    if (ok && challenge != NULL)
        ok = json_object_set_new(req, "challenge", json_string(challenge)) == 0;
    body = ok ? json_dumps(req, JSON_COMPACT) : NULL;
    if (body == NULL) {
        pa_client_set_error(err, 0, "invalid_input", "from, to and challenge must be UTF-8 text");
        goto cleanup;
    }
    PA_GUARD_GOTO(fetch_object(base_url, "/enclave/request_aggregates", body,
                               PA_CLIENT_TIMEOUT_LONG, session_id, &resp_raw, &resp, err),
                  cleanup);
    const char *logs_url = pa_json_str(resp, "logs_url");
    if (!logs_path_ok(logs_url)) {
        pa_client_set_error(err, 200, "bad_response", "logs_url is not /api/logs/<result id>");
        goto cleanup;
    }
    PA_GUARD_GOTO(fetch_object(base_url, logs_url, NULL, PA_CLIENT_TIMEOUT_SHORT, session_id,
                               &logs_raw, &logs, err),
                  cleanup);

    pa_buf_reset(bundle);
    if (pa_buf_append_str(bundle, "{\"version\":1,\"response\":") != 0 ||
        pa_buf_append(bundle, resp_raw.data, resp_raw.len) != 0 ||
        pa_buf_append_str(bundle, ",\"logs\":") != 0 ||
        pa_buf_append(bundle, logs_raw.data, logs_raw.len) != 0 ||
        pa_buf_append_str(bundle, "}\n") != 0) {
        pa_client_set_error(err, 0, "internal_error", "the bundle is too large");
        goto cleanup;
    }
    check = pa_json_parse((const char *)bundle->data, bundle->len, PA_CLIENT_BUNDLE_MAX);
    if (check == NULL) {
        pa_client_set_error(err, 0, "internal_error", "the assembled bundle is not valid JSON");
        goto cleanup;
    }
    rc = 0;

cleanup:
    pa_free_secret_str(body); /* holds the session id */
    json_decref(req);
    json_decref(resp);
    json_decref(logs);
    json_decref(check);
    pa_buf_free(&resp_raw);
    pa_buf_free(&logs_raw);
    return rc;
}

/* A number (or null) as display text, in its JCS form. */
static void number_text(const json_t *v, char *out, size_t outlen)
{
    char num[PA_JCS_NUMBER_MAX];
    if (json_is_null(v))
        snprintf(out, outlen, "null");
    else if (json_is_number(v) && pa_jcs_format_number(json_number_value(v), num) == 0)
        snprintf(out, outlen, "%s", num);
    else
        snprintf(out, outlen, "?");
}

static void string_text(const json_t *obj, const char *key, char *out, size_t outlen)
{
    const char *s = pa_json_str(obj, key);
    snprintf(out, outlen, "%s", s ? s : "");
}

/* A string field, "null" when null. */
static void string_or_null(const json_t *obj, const char *key, char *out, size_t outlen)
{
    if (json_is_null(json_object_get(obj, key)))
        snprintf(out, outlen, "null");
    else
        string_text(obj, key, out, outlen);
}

/* The returns and risk fields (docs/PROTOCOL.md), present since issue 7. */
static void returns_summary(const json_t *payload, pa_client_summary *out)
{
    const json_t *daily = json_object_get(payload, "daily");
    if (!json_is_array(daily))
        return;
    out->has_returns = 1;
    out->ndaily = json_array_size(daily);
    static const struct {
        const char *key;
        size_t off, size;
    } nums[] = {
#define PA_SUMMARY_NUM(k, f) {k, offsetof(pa_client_summary, f), sizeof(((pa_client_summary *)0)->f)}
        PA_SUMMARY_NUM("realized_pnl", realized_pnl),
        PA_SUMMARY_NUM("unrealized_pnl", unrealized_pnl),
        PA_SUMMARY_NUM("fees", fees),
        PA_SUMMARY_NUM("funding", funding),
        PA_SUMMARY_NUM("return", ret),
        PA_SUMMARY_NUM("sortino", sortino),
        PA_SUMMARY_NUM("volatility", volatility),
        PA_SUMMARY_NUM("max_drawdown", max_drawdown),
        PA_SUMMARY_NUM("max_drawdown_amount", max_drawdown_amount),
        PA_SUMMARY_NUM("round_trips", round_trips),
        PA_SUMMARY_NUM("win_rate", win_rate),
        PA_SUMMARY_NUM("profit_factor", profit_factor),
        PA_SUMMARY_NUM("active_days", active_days),
#undef PA_SUMMARY_NUM
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(nums); i++)
        number_text(json_object_get(payload, nums[i].key), (char *)out + nums[i].off,
                    nums[i].size);
    string_or_null(payload, "returns_from", out->returns_from, sizeof out->returns_from);
    string_text(payload, "sharpe_basis", out->sharpe_basis, sizeof out->sharpe_basis);
    string_or_null(payload, "max_drawdown_peak", out->max_drawdown_peak,
                   sizeof out->max_drawdown_peak);
    string_or_null(payload, "max_drawdown_trough", out->max_drawdown_trough,
                   sizeof out->max_drawdown_trough);
}

int pa_client_bundle_summary(const char *bundle_json, size_t len, pa_client_summary *out)
{
    memset(out, 0, sizeof *out);
    json_t *b = pa_json_parse(bundle_json, len, PA_CLIENT_BUNDLE_MAX);
    const json_t *payload = json_object_get(
        json_object_get(json_object_get(b, "response"), "aggregates_signed"), "payload");
    if (!json_is_object(payload)) {
        json_decref(b);
        return -1;
    }
    string_text(payload, "result_id", out->result_id, sizeof out->result_id);
    string_text(payload, "exchange", out->exchange, sizeof out->exchange);
    string_text(payload, "label", out->label, sizeof out->label);
    string_text(payload, "currency", out->currency, sizeof out->currency);
    string_text(payload, "from", out->from, sizeof out->from);
    string_text(payload, "to", out->to, sizeof out->to);
    string_text(payload, "issued_at", out->issued_at, sizeof out->issued_at);
    string_text(payload, "merkle_root", out->merkle_root, sizeof out->merkle_root);
    string_text(payload, "image_hash", out->image_hash, sizeof out->image_hash);
    string_text(payload, "environment", out->environment, sizeof out->environment);
    string_text(payload, "challenge", out->challenge, sizeof out->challenge);
    string_text(payload, "account_id", out->account_id, sizeof out->account_id);
    string_text(payload, "account_uid", out->account_uid, sizeof out->account_uid);
    const json_t *perms = json_object_get(payload, "key_permissions");
    if (json_is_object(perms)) {
        static const char *const flags[] = {"read",     "spot_trade",        "margin",
                                            "futures",  "withdraw",          "internal_transfer",
                                            "universal_transfer", "ip_restricted"};
        size_t n = 0;
        for (size_t i = 0; i < PA_ARRAY_LEN(flags) && n < sizeof out->key_rights; i++) {
            if (!json_is_true(json_object_get(perms, flags[i])))
                continue;
            int w = snprintf(out->key_rights + n, sizeof out->key_rights - n, "%s%s",
                             n > 0 ? ", " : "", flags[i]);
            n += w > 0 ? (size_t)w : 0;
        }
        if (n == 0)
            snprintf(out->key_rights, sizeof out->key_rights, "none");
    }
    const json_t *scope = json_object_get(payload, "scope");
    string_text(scope, "symbol_source", out->symbol_source, sizeof out->symbol_source);
    out->nsymbols = json_array_size(json_object_get(scope, "symbols"));
    number_text(json_object_get(payload, "pnl"), out->pnl, sizeof out->pnl);
    number_text(json_object_get(payload, "sharpe"), out->sharpe, sizeof out->sharpe);
    number_text(json_object_get(payload, "volume"), out->volume, sizeof out->volume);
    number_text(json_object_get(payload, "unmatched_qty"), out->unmatched_qty,
                sizeof out->unmatched_qty);
    number_text(json_object_get(payload, "trades"), out->trades, sizeof out->trades);
    number_text(json_object_get(payload, "excluded_trades"), out->excluded_trades,
                sizeof out->excluded_trades);
    number_text(json_object_get(payload, "unpriced_fees"), out->unpriced_fees,
                sizeof out->unpriced_fees);
    returns_summary(payload, out);
    json_decref(b);
    return 0;
}
