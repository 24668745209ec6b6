/* Account income as a futures exchange books it (Binance: GET
 * /fapi/v1/income): realized PnL, commission and funding, each one signed
 * decimal amount in one asset at one instant. Exchange-neutral, like fills.h:
 * the futures connectors return it and pa_aggregate_futures consumes it. */
#ifndef PA_INCOME_H
#define PA_INCOME_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "decimal.h"
#include "fills.h"
#include "result.h"

typedef enum {
    PA_INCOME_REALIZED_PNL = 0, /* a closing fill's profit or loss */
    PA_INCOME_COMMISSION,       /* a fill's fee: negative (a rebate: positive) */
    PA_INCOME_FUNDING_FEE,      /* funding paid (negative) or received */
    PA_INCOME_OTHER,            /* transfers, bonuses ...: not performance, never counted */
} pa_income_type;

typedef struct {
    char symbol[PA_SYMBOL_MAX]; /* "" for account-wide rows (e.g. transfers) */
    char asset[PA_ASSET_MAX];
    pa_income_type type;
    pa_dec amount; /* signed, exact */
    int64_t time_ms;
    int64_t tran_id; /* the exchange's id of the row (unique per type) */
} pa_income;

typedef struct {
    pa_income *v;
    size_t len;
    size_t cap;
} pa_income_list;

#define PA_INCOME_MAX 1000000

void pa_income_list_init(pa_income_list *l);
PA_MUST_USE int pa_income_list_push(pa_income_list *l, const pa_income *r);
/* Wipes (a trader's income is as private as the fills) and frees. */
void pa_income_list_free(pa_income_list *l);

#endif
