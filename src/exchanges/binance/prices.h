/* Public prices from Binance's klines, cached per market, interval and
 * candle within a run: what a fee paid in a third asset, a cash flow and a
 * daily balance are valued with (docs/BINANCE.md, "Prices"). */
#ifndef PA_BINANCE_PRICES_H
#define PA_BINANCE_PRICES_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "connector.h"
#include "decimal.h"
#include "merkle.h"
#include "transport.h"
#include "values_wire.h"

#define PA_BN_HOUR_MS 3600000LL
#define PA_BN_DAY_MS 86400000LL
#define PA_BN_KLINES_LIMIT 1000 /* klines' documented maximum on spot */
/* klines pages per run and cache (each covers 1000 candles: ~41 days of
 * hours, ~2.7 years of days) */
#define PA_BN_MAX_KLINE_PAGES 400

typedef struct {
    char symbol[PA_SYMBOL_MAX];
    int64_t step_ms; /* PA_BN_HOUR_MS or PA_BN_DAY_MS */
    int64_t open_ms;
    int has;      /* 0: the exchange has no candle there (before the listing, or a gap) */
    int complete; /* the candle had closed when it was fetched: its close is final */
    pa_dec open, close;
} pa_bn_candle;

/* A market asked for klines: its audit pages, and whether it exists. */
typedef struct {
    char symbol[PA_SYMBOL_MAX];
    unsigned pages;
    int unlisted; /* the exchange does not know it (-1121) */
} pa_bn_asked;

typedef struct {
    pa_bn_transport *t; /* where klines are asked (public: unsigned) */
    pa_audit_log *audit;
    const char *path;   /* "/api/v3/klines" or "/fapi/v1/klines" */
    pa_bn_candle *v;    /* sorted by (symbol, step, open) */
    size_t len, cap;
    pa_bn_asked *asked; /* every market asked this run */
    size_t nasked, asked_cap;
    unsigned pages;     /* klines calls of the run */
} pa_bn_prices;

void pa_bn_prices_init(pa_bn_prices *c, pa_bn_transport *t, pa_audit_log *audit,
                       const char *path);
void pa_bn_prices_free(pa_bn_prices *c);

/* The price of symbol's candle of step containing t_ms: its open (use_close
 * 0) or its close (use_close 1: only a candle that had closed when fetched).
 * A miss fetches one page of 1000 candles from there (one audit entry);
 * *found 0 when the exchange has no such market or candle. */
pa_exchange_status pa_bn_candle_price(pa_bn_prices *c, const char *symbol, int64_t step_ms,
                                      int64_t t_ms, int use_close, pa_dec *px, int *found);

/* amount of asset valued in quote at t_ms, from the candles of step (open
 * or close as above): asset == quote → amount; else market asset+quote →
 * amount × price (exact); else through via (the result's currency, then
 * BTC: asset+via and via+quote), the value in via rounded to 8 decimals
 * (half away from zero) before the second product. *found 0 when no route
 * has a price. */
pa_exchange_status pa_bn_value(pa_bn_prices *c, const char *asset, const char *quote,
                               const char *currency, int64_t step_ms, int64_t t_ms,
                               int use_close, pa_dec amount, pa_dec *out, int *found);

/* Prices every fill of t->out->fills inside [from_ms, to_ms) whose
 * commission was paid in a third asset (neither base nor quote) in the
 * fill's quote asset, at the open of the hour candle containing the fill
 * (pa_fill.fee_priced, fee_quote). A fee no route prices stays unpriced. */
pa_exchange_status pa_bn_price_fees(pa_bn_prices *c, pa_exchange_result *out,
                                    const char *currency, int64_t from_ms, int64_t to_ms);

#endif
