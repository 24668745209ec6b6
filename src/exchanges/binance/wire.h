/* Binance's REST answers, decoded: pure functions from a parsed JSON body to
 * perfagg's types, no I/O and no state, so each is tested on the bodies
 * Binance documents (tests/unit/test_binance_wire.c,
 * binance/binance-spot-api-docs rest-api.md). What they accept is what
 * docs/BINANCE.md describes; anything else is refused, never guessed. */
#ifndef PA_BINANCE_WIRE_H
#define PA_BINANCE_WIRE_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "connector.h"
#include "fills.h"
#include "result.h"

/* A spot market as exchangeInfo lists it. */
typedef struct {
    char symbol[PA_SYMBOL_MAX];
    char base[PA_ASSET_MAX];
    char quote[PA_ASSET_MAX];
    int trading; /* status == "TRADING" */
} pa_bn_market;

typedef struct {
    pa_bn_market *v; /* sorted by symbol, unique */
    size_t len;
    size_t listed; /* symbols in the answer, usable names or not */
} pa_bn_markets;

/* The assets of GET /api/v3/account with free + locked > 0. */
typedef struct {
    char (*v)[PA_ASSET_MAX]; /* sorted */
    size_t len;
    size_t nonzero; /* non-zero balances, usable names or not */
} pa_bn_assets;

/* A symbol we put into a query string or a fill: the shared rule
 * pa_symbol_ok ([A-Z0-9]{2,20}), so nothing needs escaping and nothing can
 * smuggle another parameter in. */
int pa_bn_symbol_ok(const char *s);
/* An asset: [A-Z0-9]{1,PA_ASSET_MAX-1} (Binance lists one-letter assets, e.g. "T"). */
int pa_bn_asset_ok(const char *s);

/* One row of GET /api/v3/myTrades for market mk, into f. The one place a
 * trade's fields are read: ids and times as JSON integers in [0, 2^53];
 * price, qty, quoteQty as unsigned decimal strings; commission as a decimal
 * string that may be negative (a maker rebate); commissionAsset a valid
 * asset; isBuyer a boolean; `symbol`, when present, mk's. */
PA_MUST_USE int pa_bn_decode_trade(const json_t *row, const pa_bn_market *mk, pa_fill *f);

/* GET /api/v3/exchangeInfo's body into m (sorted; names outside the rules
 * above are skipped: they can be neither requested nor reported). Fails on a
 * body without a symbols array or a symbol listed twice, with why set. */
PA_MUST_USE int pa_bn_decode_exchange_info(const json_t *doc, pa_bn_markets *m, char *why,
                                           size_t why_cap);
void pa_bn_markets_free(pa_bn_markets *m);
const pa_bn_market *pa_bn_find_market(const pa_bn_markets *m, const char *symbol);

/* GET /api/v3/account's body into a. Fails on a body without a balances
 * array or a balance without asset, free or locked decimal strings. */
PA_MUST_USE int pa_bn_decode_account(const json_t *doc, pa_bn_assets *a, char *why, size_t why_cap);
void pa_bn_assets_free(pa_bn_assets *a);
int pa_bn_has_asset(const pa_bn_assets *a, const char *asset);

/* GET /api/v3/time's {"serverTime": ms}. */
PA_MUST_USE int pa_bn_decode_server_time(const json_t *doc, int64_t *ms);

/* An error body {"code": -1121, "msg": "Invalid symbol."}: 0 with *code and
 * *msg (NULL when absent) when code is an integer, else -1. */
PA_MUST_USE int pa_bn_decode_error(const json_t *doc, long *code, const char **msg);

/* What an HTTP status and Binance error code mean for the run. */
pa_exchange_status pa_bn_error_status(long http, long code);

#endif
