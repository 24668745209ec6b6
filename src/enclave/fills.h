/* A fill (one trade execution) as the enclave's exchange connectors return it
 * and the aggregation module consumes it. Exchange-neutral. */
#ifndef PA_FILLS_H
#define PA_FILLS_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

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
    double price;
    double qty;       /* gross base quantity */
    double quote_qty; /* price * qty as reported by the exchange */
    double commission;
    char commission_asset[PA_ASSET_MAX];
} pa_fill;

typedef struct {
    pa_fill *v;
    size_t len;
    size_t cap;
} pa_fill_list;

#define PA_FILLS_MAX 1000000

void pa_fill_list_init(pa_fill_list *l);
PA_MUST_USE int pa_fill_list_push(pa_fill_list *l, const pa_fill *f);
void pa_fill_list_free(pa_fill_list *l);

#endif
