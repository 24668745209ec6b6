/* The Binance connector: checks its parameters, then runs the modules in
 * order — transport (transport.c), symbol discovery (symbols.c), paging and
 * audit (paging.c), each decoding through wire.c. */
#include "binance.h"

#include <string.h>

#include "paging.h"
#include "symbols.h"
#include "transport.h"
#include "wire.h"

/* Everything that can be refused before a byte is sent. */
static pa_exchange_status bn_check_params(const pa_exchange_params *p, pa_exchange_result *out)
{
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
    pa_exchange_status st = PA_EXCHANGE_BAD_RESPONSE;

    if (p == NULL || audit == NULL || p->base_url == NULL || p->api_key == NULL ||
        p->api_secret == NULL || (p->symbols == NULL && p->nsymbols != 0)) {
        pa_exchange_detail(out, "binance: missing parameters");
        goto cleanup;
    }
    st = bn_check_params(p, out);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    if (pa_bn_transport_open(&t, p, out) != 0) {
        st = PA_EXCHANGE_UNAVAILABLE;
        goto cleanup;
    }
    /* Scanning every market, the signed account call comes first: a key that
     * does not work fails before the (large) exchangeInfo download. */
    if (p->symbols == NULL) {
        st = pa_bn_fetch_assets(&t, audit, &assets);
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
    if (st == PA_EXCHANGE_OK)
        out->detail[0] = '\0';

cleanup:
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
