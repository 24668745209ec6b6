/* The Binance connector: checks its parameters, then runs the modules in
 * order — transport (transport.c), symbol discovery (symbols.c), paging and
 * audit (paging.c), each decoding through wire.c. */
#include "binance.h"

#include <string.h>

#include "account.h"
#include "timeutil.h"

#include "futures.h"
#include "paging.h"
#include "prices.h"
#include "symbols.h"
#include "transport.h"
#include "values.h"
#include "wire.h"

/* Everything that can be refused before a byte is sent. */
/* What both fetches (spot and usdm) require of their parameters. */
static pa_exchange_status bn_check_params(const pa_exchange_params *p, const pa_audit_log *audit,
                                          pa_exchange_result *out)
{
    if (p == NULL || audit == NULL || p->base_url == NULL || p->api_key == NULL ||
        p->api_secret == NULL || (p->symbols == NULL && p->nsymbols != 0)) {
        pa_exchange_detail(out, "binance: missing parameters");
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    if (!pa_bn_base_url_ok(p->base_url)) {
        pa_exchange_detail(out, "binance: the exchange URL is not an http(s) URL without a "
                                "trailing slash");
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    if (!pa_bn_key_ok(p->api_key) || p->api_secret[0] == '\0') {
        pa_exchange_detail(out,
                           "binance: the API key or secret is empty or has invalid characters");
        return PA_EXCHANGE_REJECTED_KEY;
    }
    if (p->symbols == NULL) {
        if (p->currency == NULL || !pa_bn_asset_ok(p->currency)) {
            pa_exchange_detail(out, "binance: no valid currency to scan the markets of");
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        return PA_EXCHANGE_OK;
    }
    if (p->nsymbols == 0) {
        pa_exchange_detail(out, "binance: an empty symbol list");
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    if (p->nsymbols > PA_BN_MAX_SYMBOLS) {
        pa_exchange_detail(out, "binance: more than %d symbols to fetch", PA_BN_MAX_SYMBOLS);
        return PA_EXCHANGE_TOO_LARGE;
    }
    for (size_t i = 0; i < p->nsymbols; i++) {
        if (!pa_bn_symbol_ok(p->symbols[i])) {
            pa_exchange_detail(out, "binance: symbols must be 2-20 characters A-Z and 0-9");
            return PA_EXCHANGE_BAD_RESPONSE;
        }
    }
    return PA_EXCHANGE_OK;
}

static pa_exchange_status bn_fetch(const pa_exchange_params *p, pa_audit_log *audit,
                                   pa_exchange_result *out)
{
    if (out == NULL)
        return PA_EXCHANGE_BAD_RESPONSE;
    pa_exchange_result_init(out);
    pa_bn_transport t;
    memset(&t, 0, sizeof t);
    pa_bn_markets markets = {0};
    pa_bn_assets assets = {0};
    pa_bn_prices px;
    pa_bn_prices_init(&px, NULL, audit, NULL);
    pa_exchange_status st = PA_EXCHANGE_BAD_RESPONSE;

    st = bn_check_params(p, audit, out);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    if (pa_bn_transport_open(&t, p, out) != 0) {
        st = t.bad_key ? PA_EXCHANGE_REJECTED_KEY : PA_EXCHANGE_UNAVAILABLE;
        goto cleanup;
    }
    /* What the key may do, first: a key that can move money is refused
     * before the account is read (and one that does not work fails here). */
    st = pa_bn_check_key(&t);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    /* Scanning every market, the signed account call comes next: a key that
     * does not work fails before the (large) exchangeInfo download. It also
     * carries the uid (the balances choose nothing); with the client's
     * symbols the uid takes a call of its own. */
    if (p->symbols == NULL) {
        st = pa_bn_fetch_assets(&t, audit, &assets);
        if (st != PA_EXCHANGE_OK)
            goto cleanup;
    }
    if (p->want_account_uid && out->account_uid[0] == '\0') {
        st = pa_bn_fetch_uid(&t);
        if (st != PA_EXCHANGE_OK)
            goto cleanup;
    }
    st = pa_bn_fetch_markets(&t, audit, &markets);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    st = p->symbols != NULL ? pa_bn_client_symbols(&t, &markets) : pa_bn_all_symbols(&t, &markets);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    st = pa_bn_fetch_trades(&t, audit, &markets);
    /* Prices from the public klines (one cache for the run): fees paid in
     * a third asset, then (when asked) equity, flows and daily closes. */
    pa_bn_prices_init(&px, &t, audit, "/api/v3/klines");
    if (st == PA_EXCHANGE_OK)
        st = pa_bn_price_fees(&px, out, p->currency, p->from_ms, p->to_ms);
    if (st == PA_EXCHANGE_OK && p->want_values)
        st = pa_bn_fetch_values(&t, audit, &px, &px, p, PA_BN_WALLET_SPOT);
    if (st == PA_EXCHANGE_OK)
        out->detail[0] = '\0';

cleanup:
    pa_bn_prices_free(&px);
    pa_bn_transport_close(&t);
    pa_bn_markets_free(&markets);
    pa_bn_assets_free(&assets);
    if (st != PA_EXCHANGE_OK)
        pa_exchange_result_fail(out);
    return st;
}

const pa_connector pa_binance_connector = {
    .name = "binance",
    .fetch = bn_fetch,
};

/* ---- USD-M futures ------------------------------------------------------- */

/* The symbols to fetch fills for: the client's, or every contract the
 * income history names (every fill books a commission, every close a
 * realized PnL, every held position funding: a contract traded in the
 * window is there). */
static pa_exchange_status bn_usdm_symbols(pa_bn_transport *t, const pa_exchange_params *p)
{
    pa_exchange_result *out = t->out;
    if (p->symbols != NULL) {
        out->symbol_source = "client";
        for (size_t i = 0; i < p->nsymbols; i++)
            if (pa_exchange_add_symbol(out, p->symbols[i]) != 0)
                goto oom;
    } else {
        out->symbol_source = "income";
        for (size_t i = 0; i < out->income.len; i++)
            if (out->income.v[i].symbol[0] != '\0' &&
                pa_exchange_add_symbol(out, out->income.v[i].symbol) != 0)
                goto oom;
    }
    pa_exchange_sort_symbols(out);
    return PA_EXCHANGE_OK;
oom:
    pa_exchange_detail(out, "binance: out of memory");
    return PA_EXCHANGE_BAD_RESPONSE;
}

static pa_exchange_status bn_usdm_trades(pa_bn_transport *t, pa_audit_log *audit,
                                         const pa_bn_markets *markets, int64_t lo, int64_t hi,
                                         unsigned *pages)
{
    pa_exchange_result *out = t->out;
    for (size_t i = 0; i < out->nsymbols; i++) {
        const pa_bn_market *mk = pa_bn_find_market(markets, out->symbols[i]);
        if (mk == NULL) {
            pa_exchange_detail(out, "binance: symbol %s is not listed in /fapi/v1/exchangeInfo",
                               out->symbols[i]);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        pa_exchange_status st = pa_exchange_report(t->p, out, i, *pages);
        if (st == PA_EXCHANGE_OK)
            st = pa_bn_fetch_futures_trades(t, audit, mk, lo, hi, pages);
        if (st != PA_EXCHANGE_OK)
            return st;
    }
    pa_exchange_status st = pa_exchange_report(t->p, out, out->nsymbols, *pages);
    if (st != PA_EXCHANGE_OK)
        return st;
    pa_exchange_dedup_fills(&out->fills);
    return PA_EXCHANGE_OK;
}

/* The key check and the uid for a usdm run, on a transport of their own to
 * the account host (p->account_base_url; paced and banned per host). */
static pa_exchange_status bn_usdm_check_key(const pa_exchange_params *p, pa_exchange_result *out)
{
    pa_exchange_params q = *p;
    if (p->account_base_url != NULL)
        q.base_url = p->account_base_url;
    if (!pa_bn_base_url_ok(q.base_url)) {
        pa_exchange_detail(out, "binance: the account URL is not an http(s) URL without a "
                                "trailing slash");
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    pa_bn_transport t;
    pa_exchange_status st;
    if (pa_bn_transport_open(&t, &q, out) != 0) {
        st = t.bad_key ? PA_EXCHANGE_REJECTED_KEY : PA_EXCHANGE_UNAVAILABLE;
        goto cleanup;
    }
    st = pa_bn_check_key(&t);
    if (st == PA_EXCHANGE_OK && p->want_account_uid)
        st = pa_bn_fetch_uid(&t);
cleanup:
    pa_bn_transport_close(&t);
    return st;
}

/* Equity (snapshot FUTURES), the transfers into and out of the USD-M
 * wallet, and the contracts' daily closes. The /sapi/ calls and the spot
 * klines that value balances and flows are on the spot host (a transport
 * of its own, as for the key check); the contracts' closes come from
 * /fapi/v1/klines on t. */
static pa_exchange_status bn_usdm_values(const pa_exchange_params *p, pa_audit_log *audit,
                                         pa_bn_transport *t)
{
    pa_exchange_params q = *p;
    if (p->account_base_url != NULL)
        q.base_url = p->account_base_url;
    pa_bn_transport ts;
    pa_bn_prices spot_px, fut_px;
    pa_exchange_status st = PA_EXCHANGE_UNAVAILABLE;
    pa_bn_prices_init(&spot_px, &ts, audit, "/api/v3/klines");
    pa_bn_prices_init(&fut_px, t, audit, "/fapi/v1/klines");
    if (pa_bn_transport_open(&ts, &q, t->out) == 0)
        st = pa_bn_fetch_values(&ts, audit, &spot_px, &fut_px, &q, PA_BN_WALLET_USDM);
    pa_bn_prices_free(&spot_px);
    pa_bn_prices_free(&fut_px);
    pa_bn_transport_close(&ts);
    return st;
}

static pa_exchange_status bn_fetch_usdm(const pa_exchange_params *p, pa_audit_log *audit,
                                        pa_exchange_result *out)
{
    if (out == NULL)
        return PA_EXCHANGE_BAD_RESPONSE;
    pa_exchange_result_init(out);
    pa_bn_transport t;
    memset(&t, 0, sizeof t);
    pa_bn_markets markets = {0};
    pa_exchange_status st = PA_EXCHANGE_BAD_RESPONSE;
    int64_t lo = 0, hi = 0;
    unsigned pages = 0;

    st = bn_check_params(p, audit, out);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    if (pa_bn_futures_window(p->from_ms, p->to_ms, pa_now_ms(), &lo, &hi) != 0) {
        pa_exchange_detail(out, "binance usdm: the window ends before the %d days of history "
                                "Binance keeps",
                           PA_BN_FUT_INCOME_REACH_DAYS);
        st = PA_EXCHANGE_BAD_WINDOW;
        goto cleanup;
    }
    if (pa_bn_transport_open(&t, p, out) != 0) {
        st = PA_EXCHANGE_UNAVAILABLE;
        goto cleanup;
    }
    /* What the key may do, first, as for spot: apiRestrictions (which also
     * reports enableFutures) is a /sapi/ endpoint on the spot host, and the
     * uid comes from the spot /api/v3/account (a Binance key and its uid are
     * account-wide); a futures key that can trade is refused here before
     * any futures history is read. */
    st = bn_usdm_check_key(p, out);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    /* The signed income history next: a key that does not work fails at once. */
    st = pa_bn_fetch_income(&t, audit, lo, hi, &pages);
    if (st == PA_EXCHANGE_OK)
        st = bn_usdm_symbols(&t, p);
    if (st == PA_EXCHANGE_OK && out->nsymbols > 0)
        st = pa_bn_fetch_futures_markets(&t, audit, &markets);
    if (st == PA_EXCHANGE_OK)
        st = bn_usdm_trades(&t, audit, &markets, lo, hi, &pages);
    if (st == PA_EXCHANGE_OK && p->want_values)
        st = bn_usdm_values(p, audit, &t);
    if (st == PA_EXCHANGE_OK) {
        out->history_from_ms = lo;
        out->detail[0] = '\0';
    }

cleanup:
    pa_bn_transport_close(&t);
    pa_bn_markets_free(&markets);
    if (st != PA_EXCHANGE_OK)
        pa_exchange_result_fail(out);
    return st;
}

const pa_connector pa_binance_usdm_connector = {
    .name = "binance",
    .account_type = "usdm",
    .fetch = bn_fetch_usdm,
};
