#include "enclave_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "account_id.h"
#include "aggregate.h"
#include "callstats.h"
#include "codec.h"
#include "credentials.h"
#include "envelope_keys.h"
#include "envelope_open.h"
#include "ipc_contract.h"
#include "jcs.h"
#include "keygen.h"
#include "enclave_jobs.h"
#include "json_strict.h"
#include "log.h"
#include "merkle.h"
#include "registry.h"
#include "text.h"
#include "timeutil.h"
#include "uuid.h"

#define CURRENCY "USDT"

/* The open answer echoes the envelope's metadata and keys: the contract's
 * caps (src/ipc) must be the envelope format's, or the host would refuse
 * answers to envelopes the format accepts. */
_Static_assert(PA_IPC_LABEL_MAX == PA_LABEL_MAX, "label cap differs from the envelope's");
_Static_assert(PA_IPC_EXCHANGE_MAX == PA_EXCHANGE_MAX, "exchange cap differs from the envelope's");
_Static_assert(PA_IPC_KEY_LEN == PA_X25519_LEN && PA_IPC_KEY_LEN == PA_ED25519_LEN,
               "key length differs from the envelope's");
_Static_assert(PA_IPC_SIGNATURE_LEN == PA_SIGNATURE_LEN, "signature length differs");
_Static_assert(PA_IPC_IMAGE_HASH_LEN == PA_PCR_LEN, "image hash is not a PCR");


static const char *environment(const pa_enclave *e)
{
    return e->dev_platform || e->development_build ? "development" : "production";
}

json_t *pa_enclave_attestation(pa_enclave *e, const uint8_t binding[32], const uint8_t *nonce,
                               size_t nonce_len)
{
    pa_buf doc;
    pa_buf_init(&doc, (size_t)64 * 1024);
    json_t *r = NULL;
    if (pa_attest_document(e->platform, e->enclave_pub, sizeof e->enclave_pub, binding, 32, nonce,
                           nonce_len, &doc) == 0) {
        char *quote = pa_b64_encode(doc.data, doc.len);
        if (quote != NULL)
            r = json_pack("{s:s, s:s, s:s, s:s}", "quote", quote, "enclave_pubkey",
                          e->enclave_pub_b64, "signing_pubkey", e->signing_pub_b64,
                          "image_hash", e->image_hash);
        free(quote);
    }
    pa_buf_free(&doc);
    return r;
}

/* A fresh attestation binding both public keys (the key binding) and the
 * given nonce. */
static json_t *attestation_object(pa_enclave *e, const uint8_t *nonce, size_t nonce_len)
{
    uint8_t binding[32];
    pa_attest_key_binding(e->enclave_pub, e->signing_pub, binding);
    return pa_enclave_attestation(e, binding, nonce, nonce_len);
}

static char *op_info(pa_enclave *e)
{
    char *pem = e->dev_platform ? pa_attest_root_pem(e->platform) : NULL;
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:o}", "enclave_pubkey", e->enclave_pub_b64,
                          "signing_pubkey", e->signing_pub_b64, "image_hash", e->image_hash,
                          "environment", environment(e), "dev_root_pem",
                          pem ? json_string(pem) : json_null());
    free(pem);
    return pa_ipc_ok_answer(r);
}

/* Counts only (callstats.h): which venue answered how, never what. Rows
 * with a zero count are left out to keep the answer small. */
static char *op_stats(void)
{
    json_t *rows = json_array();
    for (int v = 0; rows != NULL && v < PA_VENUE_COUNT; v++)
        for (int o = 0; o < PA_CALL_OUTCOME_COUNT; o++) {
            uint64_t n = pa_callstats_get((pa_venue)v, (pa_call_outcome)o);
            if (n == 0)
                continue;
            if (json_array_append_new(rows, json_pack("{s:s, s:s, s:I}", "venue",
                                                      pa_venue_name((pa_venue)v), "outcome",
                                                      pa_call_outcome_name((pa_call_outcome)o),
                                                      "count", (json_int_t)n)) != 0) {
                json_decref(rows);
                rows = NULL;
                break;
            }
        }
    if (rows == NULL)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "out of memory");
    return pa_ipc_ok_answer(json_pack("{s:o}", "exchange_calls", rows));
}

/* req has passed the contract's attest request shape (src/ipc). */
static char *op_attest(pa_enclave *e, const json_t *req)
{
    const char *jn = pa_json_str(req, "nonce");
    uint8_t *nonce = NULL;
    size_t nonce_len = 0;
    if (jn != NULL && pa_b64_decode(jn, strlen(jn), &nonce, &nonce_len) != 0)
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST, "nonce must be base64");
    json_t *att = attestation_object(e, nonce, nonce_len);
    free(nonce);
    if (att == NULL)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "attestation failed");
    return pa_ipc_ok_answer(att);
}

/* Opens the envelope in req["envelope"] and parses its credentials. Every
 * failure is the same decryption_failed: no oracle for what went wrong. */
static int open_credentials(pa_enclave *e, const json_t *req, pa_envelope *env,
                            pa_credentials *creds)
{
    const char *err = NULL;
    pa_buf plain;
    pa_buf_init(&plain, PA_CIPHERTEXT_MAX);
    int rc = -1;
    PA_GUARD_GOTO(pa_envelope_parse(json_object_get(req, "envelope"), env, &err), cleanup);
    PA_GUARD_GOTO(pa_envelope_open(e->envelope_key, env, pa_now_ms(), &plain), cleanup);
    const char *exchange = pa_json_str(env->metadata, "exchange");
    PA_GUARD_GOTO(pa_keygen_named(env) ? pa_credentials_parse_enclave_key(&plain, exchange, creds)
                                       : pa_credentials_parse(&plain, exchange, creds),
                  cleanup);
    rc = 0;
cleanup:
    pa_buf_free(&plain);
    return rc;
}

static char *op_open(pa_enclave *e, const json_t *req)
{
    pa_envelope env = {0};
    pa_credentials creds = {0};
    if (open_credentials(e, req, &env, &creds) != 0) {
        pa_credentials_free(&creds);
        pa_envelope_free(&env);
        return pa_ipc_error_answer(PA_IPC_E_DECRYPTION_FAILED, "the envelope could not be opened");
    }
    char *refused = pa_keygen_attach(e, req, &env, &creds); /* an enclave-made key opens too */
    pa_credentials_free(&creds);
    if (refused != NULL) {
        pa_envelope_free(&env);
        return refused;
    }
    const json_t *na = json_object_get(env.metadata, "not_after");
    json_t *r = json_pack("{s:s, s:s, s:O, s:s}", "exchange", pa_json_str(env.metadata, "exchange"),
                          "label", pa_json_str(env.metadata, "label"), "not_after",
                          na ? na : json_null(), "enclave_pubkey", e->enclave_pub_b64);
    pa_envelope_free(&env);
    return pa_ipc_ok_answer(r);
}

static char *exchange_error(pa_exchange_status st, const char *detail, int64_t retry_after_ms)
{
    switch (st) {
    case PA_EXCHANGE_REJECTED_KEY:
        return pa_ipc_error_answer(PA_IPC_E_EXCHANGE_REJECTED_KEY, detail);
    case PA_EXCHANGE_UNAVAILABLE:
        return pa_ipc_error_answer(PA_IPC_E_EXCHANGE_UNAVAILABLE, detail);
    case PA_EXCHANGE_BAD_RESPONSE:
        return pa_ipc_error_answer(PA_IPC_E_EXCHANGE_BAD_RESPONSE, detail);
    case PA_EXCHANGE_TOO_LARGE:
        return pa_ipc_error_answer(PA_IPC_E_EXCHANGE_TOO_LARGE, detail);
    case PA_EXCHANGE_BANNED:
        return pa_ipc_error_answer_retry(PA_IPC_E_EXCHANGE_BANNED, detail,
                                         (long)((retry_after_ms + 999) / 1000));
    case PA_EXCHANGE_REGION_BLOCKED:
        return pa_ipc_error_answer(PA_IPC_E_EXCHANGE_REGION_BLOCKED, detail);
    case PA_EXCHANGE_KEY_NOT_READ_ONLY:
        return pa_ipc_error_answer(PA_IPC_E_KEY_NOT_READ_ONLY, detail);
    case PA_EXCHANGE_BAD_WINDOW: /* the request's, not the exchange's fault */
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST, detail);
    case PA_EXCHANGE_CANCELLED: /* a cancelled job: nobody reads this */
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, detail);
    case PA_EXCHANGE_OK:
    default:
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "unexpected exchange status");
    }
}

/* x is already the double nearest the exact figure rounded to 8 decimals
 * (pa_aggregate, docs/METRICS.md): printed as is. */
static json_t *money(double x)
{
    return json_real(x);
}

/* key_permissions as the venue reported them (docs/PROTOCOL.md). */
static json_t *key_permissions(const pa_key_permissions *k)
{
    if (!k->known)
        return json_null();
    return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "read", k->read, "spot_trade",
                     k->spot_trade, "margin", k->margin, "futures", k->futures, "withdraw",
                     k->withdraw, "internal_transfer", k->internal_transfer,
                     "universal_transfer", k->universal_transfer, "ip_restricted",
                     k->ip_restricted);
}

/* Whose account and which key: account_id (null without a salt),
 * account_uid (null unless disclosed), key_permissions. */
static int add_account_fields(json_t *payload, const char *account_id, const char *account_uid,
                              const pa_exchange_result *fetched)
{
    int bad = json_object_set_new(payload, "account_id",
                                  account_id[0] ? json_string(account_id) : json_null());
    bad |= json_object_set_new(payload, "account_uid",
                               account_uid != NULL ? json_string(account_uid) : json_null());
    bad |= json_object_set_new(payload, "key_permissions", key_permissions(&fetched->key_permissions));
    return bad ? -1 : 0;
}

/* The signed payload (docs/PROTOCOL.md, "Signed aggregates"). */
static int is_usdm(const pa_connector *c)
{
    return c != NULL && c->account_type != NULL && strcmp(c->account_type, "usdm") == 0;
}

/* What a USD-M futures result adds (docs/PROTOCOL.md): the earliest
 * instant the exchange's history covered (pnl's parts are in every result:
 * add_returns_fields). */
static int add_usdm_fields(json_t *scope, const pa_exchange_result *fetched)
{
    char history_from[PA_TIME_STR_LEN];
    pa_time_format(fetched->history_from_ms, history_from);
    return json_object_set_new(scope, "history_from", json_string(history_from)) ? -1 : 0;
}

/* A ratio that may be undefined. */
static json_t *ratio(pa_agg_num x)
{
    return x.known && isfinite(x.v) ? json_real(x.v) : json_null();
}

/* A UTC day as "YYYY-MM-DD". */
static json_t *day_text(int64_t day)
{
    char t[PA_TIME_STR_LEN];
    pa_time_format(day * 86400000LL, t);
    t[10] = '\0';
    return json_string(t);
}

static json_t *day_pnl(const pa_agg_result *agg, size_t i)
{
    if (!agg->best_known)
        return json_null();
    const pa_agg_day *d = &agg->daily[i];
    return json_pack("{s:o, s:o}", "date", day_text(d->day), "pnl", money(d->pnl));
}

/* Returns and risk (docs/PROTOCOL.md, docs/METRICS.md "Returns and risk"):
 * pnl's parts, the daily series and the statistics, spot and usdm alike. */
static int add_returns_fields(json_t *payload, const pa_agg_result *agg)
{
    json_t *daily = json_array();
    for (size_t i = 0; daily != NULL && i < agg->ndaily; i++) {
        const pa_agg_day *d = &agg->daily[i];
        if (json_array_append_new(daily, json_pack("{s:o, s:o, s:o, s:o}", "date",
                                                   day_text(d->day), "pnl", money(d->pnl),
                                                   "return", ratio(d->ret), "equity",
                                                   d->equity_known ? money(d->equity)
                                                                   : json_null())) != 0) {
            json_decref(daily);
            daily = NULL;
        }
    }
    char from[PA_TIME_STR_LEN];
    pa_time_format(agg->returns_from_day * 86400000LL, from);
    const int dd = agg->drawdown_dates_known;
    int bad = daily == NULL;
    bad |= json_object_set_new(payload, "daily", daily);
    bad |= json_object_set_new(payload, "realized_pnl", money(agg->realized_pnl));
    bad |= json_object_set_new(payload, "unrealized_pnl", money(agg->unrealized_pnl));
    bad |= json_object_set_new(payload, "fees", money(agg->fees));
    bad |= json_object_set_new(payload, "funding", money(agg->funding));
    bad |= json_object_set_new(payload, "return", ratio(agg->ret));
    bad |= json_object_set_new(payload, "returns_from",
                               agg->returns_known ? json_string(from) : json_null());
    bad |= json_object_set_new(payload, "sharpe_basis",
                               json_string(agg->sharpe_on_returns ? "returns" : "pnl"));
    bad |= json_object_set_new(payload, "sortino", ratio(agg->sortino));
    bad |= json_object_set_new(payload, "volatility", ratio(agg->volatility));
    bad |= json_object_set_new(payload, "max_drawdown", ratio(agg->max_drawdown));
    bad |= json_object_set_new(payload, "max_drawdown_amount",
                               agg->max_drawdown.known ? money(agg->max_drawdown_amount)
                                                       : json_null());
    bad |= json_object_set_new(payload, "max_drawdown_peak",
                               dd ? day_text(agg->drawdown_peak_day) : json_null());
    bad |= json_object_set_new(payload, "max_drawdown_trough",
                               dd ? day_text(agg->drawdown_trough_day) : json_null());
    bad |= json_object_set_new(payload, "calmar", ratio(agg->calmar));
    bad |= json_object_set_new(payload, "round_trips", json_integer(agg->round_trips));
    bad |= json_object_set_new(payload, "win_rate", ratio(agg->win_rate));
    bad |= json_object_set_new(payload, "profit_factor", ratio(agg->profit_factor));
    bad |= json_object_set_new(payload, "best_day", day_pnl(agg, agg->best_day));
    bad |= json_object_set_new(payload, "worst_day", day_pnl(agg, agg->worst_day));
    bad |= json_object_set_new(payload, "active_days", json_integer(agg->active_days));
    return bad ? -1 : 0;
}

static json_t *build_payload(pa_enclave *e, const pa_envelope *env, const char *result_id,
                             const pa_agg_result *agg, const char *from, const char *to,
                             const char *merkle_root, const json_t *challenge,
                             const pa_exchange_result *fetched, const pa_connector *venue,
                             const char *base_url)
{
    const char *account_type = venue->account_type ? venue->account_type : "spot";
    char issued[PA_TIME_STR_LEN];
    pa_time_format(pa_now_ms(), issued);
    json_t *symbols = json_array();
    for (size_t i = 0; i < fetched->nsymbols; i++)
        json_array_append_new(symbols, json_string(fetched->symbols[i]));
    json_t *scope = json_pack("{s:s, s:s, s:o, s:s}", "exchange_base_url", base_url,
                              "account_type", account_type, "symbols", symbols, "symbol_source",
                              fetched->symbol_source);
    json_t *sharpe = agg->sharpe_defined && isfinite(agg->sharpe) ? json_real(agg->sharpe)
                                                                    : json_null();
    json_t *payload = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:o,"
                     " s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:o}",
                     "type", "perfagg/v1/aggregates", "version", 1, "result_id", result_id,
                     "exchange", pa_json_str(env->metadata, "exchange"), "label",
                     pa_json_str(env->metadata, "label"), "currency", CURRENCY, "pnl",
                     money(agg->pnl), "volume", money(agg->volume), "sharpe", sharpe, "trades",
                     (json_int_t)agg->trades, "excluded_trades", (json_int_t)agg->excluded_trades,
                     "unpriced_fees", (json_int_t)agg->unpriced_fees, "unmatched_qty",
                     money(agg->unmatched_qty), "from", from, "to", to, "merkle_root",
                     merkle_root, "issued_at", issued, "image_hash", e->image_hash, "challenge",
                     challenge ? challenge : json_null(), "environment", environment(e), "scope",
                     scope);
    if (payload != NULL &&
        (add_returns_fields(payload, agg) != 0 ||
         (is_usdm(venue) && add_usdm_fields(json_object_get(payload, "scope"), fetched) != 0))) {
        json_decref(payload);
        return NULL;
    }
    return payload;
}

/* The window against the contract's limits and this enclave's clock,
 * repeated here because the host is untrusted (the contract already checked
 * that from and to are RFC 3339 and the challenge's length and characters). */
static const char *check_window(const json_t *req, int64_t *from_ms, int64_t *to_ms,
                                const json_t **challenge)
{
    const char *from = pa_json_str(req, "from"), *to = pa_json_str(req, "to");
    if (from == NULL || to == NULL || pa_time_parse(from, from_ms) != 0 ||
        pa_time_parse(to, to_ms) != 0)
        return "from and to must be RFC 3339 times";
    if (*from_ms >= *to_ms || *to_ms - *from_ms > PA_IPC_WINDOW_MAX_MS)
        return "the window must be non-empty and at most 366 days";
    if (*to_ms > pa_now_ms() + PA_IPC_FUTURE_SLACK_MS)
        return "the window may not end in the future";
    *challenge = json_object_get(req, "challenge");
    if (*challenge != NULL && json_is_null(*challenge))
        *challenge = NULL;
    return NULL;
}

/* One aggregate request's state, freed in one place (credentials and fills wipe themselves). */
typedef struct {
    pa_envelope env;
    pa_credentials creds;
    pa_exchange_result fetched;
    const pa_connector *venue;
    const char *base_url; /* the exchange URL the venue was called at */
    pa_audit_log audit;
    int64_t from_ms, to_ms;
    const json_t *challenge;
    pa_agg_result agg;
    char from[PA_TIME_STR_LEN], to[PA_TIME_STR_LEN];
    char root_hex[2 * PA_HASH_LEN + 1];
    char result_id[PA_UUID_STR_LEN];
    char *payload_jcs;
    uint8_t sig[PA_SIGNATURE_LEN];
    char account_id[PA_ACCOUNT_ID_HEX_LEN + 1]; /* "" without accountSalt */
    int disclose_uid;
    const pa_aggregate_hooks *hooks; /* a job's waiting allowance and progress; NULL: none */
    /* Where the run's time went (wall clock, microseconds), logged with its
     * result: opening the envelope, the whole fetch (of which the HTTP calls
     * and the JSON parsing are fetched.io_us and json_us), the aggregation,
     * the audit log's root with the payload's signature, the attestation. */
    int64_t open_us, fetch_us, aggregate_us, sign_us, attest_us;
} agg_run;

/* Sealed to a key this instance does not hold: say so before trying. */
static char *check_sealed_to(const pa_enclave *e, const json_t *req)
{
    uint8_t sealed_to[32];
    const char *pk = pa_json_str(req, "enclave_pubkey");
    if (pk == NULL || pa_b64_decode_exact(pk, sealed_to, sizeof sealed_to) != 0)
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST,
                                   "enclave_pubkey must be 32 bytes of base64");
    if (CRYPTO_memcmp(sealed_to, e->enclave_pub, sizeof sealed_to) != 0)
        return pa_ipc_error_answer(
            PA_IPC_E_ENCLAVE_KEY_LOST,
            "the credentials were sealed to an enclave key that no longer exists");
    return NULL;
}

/* The venue of the credentials, from the registry (src/exchanges/registry.c). */
static char *pick_connector(const pa_credentials *creds, const pa_connector **out)
{
    *out = NULL;
    if (pa_connector_find(creds->exchange) == NULL)
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST, "unsupported exchange");
    *out = pa_connector_find_account(creds->exchange, creds->account_type);
    if (*out == NULL)
        return pa_ipc_error_answer(PA_IPC_E_UNSUPPORTED_ACCOUNT_TYPE,
                                   "this account type is not supported for the exchange");
    return NULL;
}

/* Every fill of the account through the connector; the secrets are wiped
 * as soon as it returns. */
static char *fetch_fills(pa_enclave *e, const pa_connector *c, agg_run *r)
{
    if (c == NULL) /* only when an error answer could not be allocated */
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "no connector");
    r->venue = c;
    r->base_url = e->binance_base_url;
    if (is_usdm(c) && e->binance_futures_base_url != NULL)
        r->base_url = e->binance_futures_base_url;
    pa_exchange_params p = {
        .base_url = r->base_url,
        .account_base_url = e->binance_base_url, /* usdm: the key check is on the spot host */
        .from_ms = r->from_ms,
        .to_ms = r->to_ms,
        .api_key = r->creds.api_key,
        .api_secret = r->creds.api_secret,
        .symbols = (const char *const *)r->creds.symbols,
        .nsymbols = r->creds.nsymbols,
        .currency = CURRENCY,
        .weight_budget = e->weight_budget,
        .timeout_ms = e->exchange_timeout_ms,
        .egress = e->egress,
        .require_read_only = e->require_read_only_keys,
        .want_account_uid = r->creds.has_account_salt || r->creds.disclose_uid,
        .want_values = 1,
        .max_wait_ms = r->hooks != NULL ? r->hooks->max_wait_ms : 0,
        .progress = r->hooks != NULL ? r->hooks->progress : NULL,
        .progress_ud = r->hooks != NULL ? r->hooks->progress_ud : NULL,
    };
    pa_exchange_status st = c->fetch(&p, &r->audit, &r->fetched);
    r->disclose_uid = r->creds.disclose_uid;
    int id_failed = st == PA_EXCHANGE_OK && r->creds.has_account_salt &&
                    pa_account_id(r->creds.account_salt, c->name, r->fetched.account_uid,
                                  r->account_id) != 0;
    pa_credentials_free(&r->creds);
    if (st != PA_EXCHANGE_OK) {
        pa_log_warn("aggregate: %s call failed (%d)", c->name, (int)st);
        return exchange_error(st, r->fetched.detail, r->fetched.retry_after_ms);
    }
    if (id_failed)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "account_id failed");
    return NULL;
}

static char *compute(agg_run *r)
{
    pa_agg_params ap = {.from_ms = r->from_ms,
                        .to_ms = r->to_ms,
                        .currency = CURRENCY,
                        .values = &r->fetched.values};
    int rc;
    if (is_usdm(r->venue)) { /* over the part of the window the history covers */
        if (r->fetched.history_from_ms > ap.from_ms)
            ap.from_ms = r->fetched.history_from_ms;
        rc = pa_aggregate_futures(r->fetched.fills.v, r->fetched.fills.len, r->fetched.income.v,
                                  r->fetched.income.len, &ap, &r->agg);
    } else {
        rc = pa_aggregate(r->fetched.fills.v, r->fetched.fills.len, &ap, &r->agg);
    }
    if (rc != 0)
        return pa_ipc_error_answer(PA_IPC_E_EXCHANGE_BAD_RESPONSE,
                                   "the trade history is not usable");
    return NULL;
}

/* The closing "window" entry, then the log's Merkle root. */
static char *close_audit_log(agg_run *r)
{
    pa_time_format(r->from_ms, r->from);
    pa_time_format(r->to_ms, r->to);
    json_t *symbols = json_array();
    for (size_t i = 0; i < r->fetched.nsymbols; i++)
        json_array_append_new(symbols, json_string(r->fetched.symbols[i]));
    json_t *window = json_pack("{s:s, s:s, s:s, s:o, s:I}", "type", "window", "from", r->from,
                               "to", r->to, "symbols", symbols, "fills",
                               (json_int_t)r->fetched.fills.len);
    int appended = window != NULL ? pa_audit_append(&r->audit, window) : -1;
    json_decref(window);
    uint8_t root[PA_HASH_LEN];
    if (appended != 0 || pa_audit_root(&r->audit, root) != 0)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "audit log failed");
    pa_hex_encode(root, sizeof root, r->root_hex);
    return NULL;
}

/* The payload in JCS and its Ed25519 signature. */
static char *sign_payload(pa_enclave *e, agg_run *r)
{
    if (pa_uuid_v4(r->result_id) != 0)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "no randomness");
    json_t *payload = build_payload(e, &r->env, r->result_id, &r->agg, r->from, r->to,
                                     r->root_hex, r->challenge, &r->fetched, r->venue, r->base_url);
    if (payload != NULL &&
        add_account_fields(payload, r->account_id,
                           r->disclose_uid ? r->fetched.account_uid : NULL, &r->fetched) != 0) {
        json_decref(payload);
        payload = NULL;
    }
    /* who ever held the API key's secret (docs/PROTOCOL.md) */
    if (payload != NULL &&
        json_object_set_new(payload, "key_origin",
                            json_string(pa_keygen_named(&r->env) ? "enclave" : "client")) != 0) {
        json_decref(payload);
        payload = NULL;
    }
    r->payload_jcs = payload ? pa_jcs_dumps(payload) : NULL;
    json_decref(payload);
    if (r->payload_jcs == NULL ||
        pa_ed25519_sign(e->signing_key, (const uint8_t *)r->payload_jcs, strlen(r->payload_jcs),
                        r->sig) != 0)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "signing failed");
    return NULL;
}

/* Microseconds since *mark, which moves to now. */
static int64_t lap_us(int64_t *mark)
{
    int64_t now = pa_mono_us(), d = now - *mark;
    *mark = now;
    return d;
}

/* One line per result: its size and where its time went, in ms (docs/BENCHMARKS.md,
 * "Where the time goes"). Counts and durations only. */
static void log_result(const agg_run *r)
{
    const pa_exchange_result *f = &r->fetched;
    int64_t connector = r->fetch_us - f->io_us - f->json_us;
    pa_log_info("aggregate: signed result over %zu fills, %zu audit entries; ms: open %.1f "
                "exchange_io %.1f json_parse %.1f connector %.1f aggregate %.1f sign %.1f "
                "attest %.1f",
                f->fills.len, r->audit.len, (double)r->open_us / 1e3, (double)f->io_us / 1e3,
                (double)f->json_us / 1e3, (double)connector / 1e3, (double)r->aggregate_us / 1e3,
                (double)r->sign_us / 1e3, (double)r->attest_us / 1e3);
}

/* The answer: the signed payload, an attestation binding its digest, and
 * the audit log with its leaf hashes. */
static char *answer(pa_enclave *e, agg_run *r)
{
    uint8_t digest[32];
    unsigned int dlen = 0;
    json_t *att = NULL;
    int64_t mark = pa_mono_us();
    if (EVP_Digest(r->payload_jcs, strlen(r->payload_jcs), digest, &dlen, EVP_sha256(), NULL) ==
        1)
        att = attestation_object(e, digest, sizeof digest);
    r->attest_us = lap_us(&mark);
    if (att == NULL)
        return pa_ipc_error_answer(PA_IPC_E_INTERNAL_ERROR, "attestation failed");
    json_t *entries = json_array(), *leaves = json_array();
    for (size_t i = 0; i < r->audit.len; i++) {
        uint8_t leaf[PA_HASH_LEN];
        char leaf_hex[2 * PA_HASH_LEN + 1];
        pa_merkle_leaf_hash((const uint8_t *)r->audit.entries[i], strlen(r->audit.entries[i]),
                            leaf);
        pa_hex_encode(leaf, sizeof leaf, leaf_hex);
        json_array_append_new(entries, json_string(r->audit.entries[i]));
        json_array_append_new(leaves, json_string(leaf_hex));
    }
    char *sig_b64 = pa_b64_encode(r->sig, sizeof r->sig);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "result_id", r->result_id,
                          "payload_jcs", r->payload_jcs, "signature", sig_b64 ? sig_b64 : "",
                          "merkle_root", r->root_hex, "entries", entries, "leaf_hashes", leaves,
                          "attestation", att);
    free(sig_b64);
    log_result(r);
    return pa_ipc_ok_answer(j);
}

/* req has passed the contract's aggregate request shape (src/ipc): the
 * types and caps are checked; what depends on this enclave and the clock is
 * checked here. Each step answers NULL to go on, or the error answer. */
char *pa_enclave_aggregate(pa_enclave *e, const json_t *req, const pa_aggregate_hooks *hooks)
{
    char *response = check_sealed_to(e, req);
    if (response != NULL)
        return response;
    agg_run r;
    memset(&r, 0, sizeof r);
    r.hooks = hooks;
    const char *bad = check_window(req, &r.from_ms, &r.to_ms, &r.challenge);
    if (bad != NULL)
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST, bad);
    pa_exchange_result_init(&r.fetched);
    pa_audit_init(&r.audit);
    const pa_connector *venue = NULL;
    int64_t mark = pa_mono_us();

    if (open_credentials(e, req, &r.env, &r.creds) != 0)
        response =
            pa_ipc_error_answer(PA_IPC_E_DECRYPTION_FAILED, "the envelope could not be opened");
    if (response == NULL)
        response = pa_keygen_attach(e, req, &r.env, &r.creds);
    if (response == NULL)
        response = pick_connector(&r.creds, &venue);
    r.open_us = lap_us(&mark);
    if (response == NULL)
        response = fetch_fills(e, venue, &r);
    r.fetch_us = lap_us(&mark);
    if (response == NULL)
        response = compute(&r);
    r.aggregate_us = lap_us(&mark);
    if (response == NULL)
        response = close_audit_log(&r);
    if (response == NULL)
        response = sign_payload(e, &r);
    r.sign_us = lap_us(&mark);
    if (response == NULL)
        response = answer(e, &r);

    pa_credentials_free(&r.creds);
    pa_envelope_free(&r.env);
    pa_exchange_result_free(&r.fetched);
    pa_agg_result_free(&r.agg);
    pa_audit_free(&r.audit);
    free(r.payload_jcs);
    return response;
}

char *pa_enclave_handle(pa_enclave *e, const char *req, size_t len)
{
    pa_ipc_op op;
    json_t *j = NULL;
    char why[PA_IPC_WHY_MAX];
    /* The contract refuses any frame that is not exactly an op's request
     * shape (unknown fields included) before a handler runs. */
    if (pa_ipc_request_parse(req, len, &op, &j, why) != 0)
        return pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST, why);
    char *r;
    switch (op) {
    case PA_IPC_OP_INFO:
        r = op_info(e);
        break;
    case PA_IPC_OP_ATTEST:
        r = op_attest(e, j);
        break;
    case PA_IPC_OP_OPEN:
        r = op_open(e, j);
        break;
    case PA_IPC_OP_AGGREGATE:
        r = pa_enclave_aggregate(e, j, NULL);
        break;
    case PA_IPC_OP_AGGREGATE_START:
        r = pa_enclave_job_start(e, j);
        break;
    case PA_IPC_OP_AGGREGATE_JOB:
        r = pa_enclave_job_status(j);
        break;
    case PA_IPC_OP_AGGREGATE_CANCEL:
        r = pa_enclave_job_cancel(j);
        break;
    case PA_IPC_OP_KEYGEN:
        r = pa_keygen_op(e, j);
        break;
    case PA_IPC_OP_STATS:
        r = op_stats();
        break;
    case PA_IPC_OP_COUNT:
    default:
        r = pa_ipc_error_answer(PA_IPC_E_INVALID_REQUEST, "unknown op");
        break;
    }
    json_decref(j);
    return r;
}
