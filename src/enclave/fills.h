/* A fill (one trade execution) as the enclave's exchange connectors return it
 * and the aggregation module consumes it. Exchange-neutral. */
#ifndef PA_FILLS_H
#define PA_FILLS_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "decimal.h"
#include "result.h"

#define PA_SYMBOL_MAX 32
#define PA_ASSET_MAX 16

typedef struct {
    char symbol[PA_SYMBOL_MAX];
    char base[PA_ASSET_MAX];  /* base asset, e.g. BTC */
    char quote[PA_ASSET_MAX]; /* quote asset, e.g. USDT */
    int64_t id;               /* exchange trade id, unique per symbol */
    int64_t time_ms;
    int is_buyer;
    /* Exact amounts as the exchange wrote them (pa_fill_set_amounts). */
    pa_dec price;
    pa_dec qty;       /* gross base quantity */
    pa_dec quote_qty; /* price * qty as reported by the exchange */
    pa_dec commission;
    char commission_asset[PA_ASSET_MAX];
    /* A commission paid in a third asset (neither base nor quote, e.g. BNB)
     * priced in the quote asset by the connector from the exchange's public
     * prices at the fill's time (docs/BINANCE.md, "Fees in a third asset");
     * fee_priced 0: not priced (the aggregate counts it as unpriced). */
    int fee_priced;
    pa_dec fee_quote; /* >= 0, at most 8 decimals */
} pa_fill;

typedef struct {
    pa_fill *v;
    size_t len;
    size_t cap;
} pa_fill_list;

#define PA_FILLS_MAX 1000000

/* The fill's four amounts from the exchange's decimal strings, exactly:
 * strict pa_dec amounts (at most 11 integer and 8 fractional digits, no
 * exponent); price, qty and quote_qty non-negative, commission may carry a
 * '-' (a maker rebate; pa_aggregate refuses it today). Any NULL or malformed
 * string is -1 and leaves f unchanged. */
PA_MUST_USE int pa_fill_set_amounts(pa_fill *f, const char *price, const char *qty,
                                    const char *quote_qty, const char *commission);

void pa_fill_list_init(pa_fill_list *l);
PA_MUST_USE int pa_fill_list_push(pa_fill_list *l, const pa_fill *f);
void pa_fill_list_free(pa_fill_list *l);

#endif
