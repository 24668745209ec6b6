/* An account's value over time and the money that crossed its boundary: what
 * the returns and risk metrics (docs/METRICS.md) need besides the fills.
 * Exchange-neutral, like fills.h and income.h: the connectors fill it (Binance:
 * account snapshots, deposit/withdrawal/transfer history, daily klines), the
 * aggregate consumes it through pa_agg_params. Everything in the result's
 * currency is already valued by the connector; the aggregate never prices. */
#ifndef PA_ACCOUNT_VALUES_H
#define PA_ACCOUNT_VALUES_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "decimal.h"
#include "fills.h"
#include "result.h"

/* The account's value at the close of one UTC day (the instant the day ends),
 * in the result's currency. Days the exchange has no snapshot for are absent,
 * never filled in. */
typedef struct {
    int64_t day; /* pa_time_day() of the day */
    pa_dec equity;
} pa_equity_point;

typedef enum {
    PA_FLOW_DEPOSIT = 0,  /* from outside the exchange */
    PA_FLOW_WITHDRAWAL,   /* to outside the exchange */
    PA_FLOW_TRANSFER,     /* between the trader's own wallets, into or out of the scanned one */
} pa_flow_kind;

/* An external cash flow: money that changed the account's value without being
 * performance. Valued in the result's currency at time_ms. */
typedef struct {
    int64_t time_ms;
    pa_flow_kind kind;
    pa_dec amount;            /* signed: > 0 into the account, < 0 out of it */
    char asset[PA_ASSET_MAX]; /* what moved (e.g. "BTC"), for the record */
} pa_flow;

/* A market's last price of one UTC day (the daily kline's close), in the
 * market's quote asset: what open inventory is marked to. */
typedef struct {
    char symbol[PA_SYMBOL_MAX];
    int64_t day;
    pa_dec close;
} pa_daily_close;

typedef struct {
    pa_equity_point *v;
    size_t len, cap;
} pa_equity_list;

typedef struct {
    pa_flow *v;
    size_t len, cap;
} pa_flow_list;

typedef struct {
    pa_daily_close *v;
    size_t len, cap;
} pa_close_list;

typedef struct {
    pa_equity_list equity; /* sorted by day, at most one point per day */
    pa_flow_list flows;    /* sorted by time */
    pa_close_list closes;  /* sorted by (symbol, day) */
    int64_t unvalued_flows; /* flows the connector could not value in the currency:
                               the return metrics are then not computed (never guessed) */
} pa_account_values;

/* The lists grow by copy and wipe (a trader's balances are as private as
 * the fills); free wipes. */
void pa_account_values_init(pa_account_values *v);
void pa_account_values_free(pa_account_values *v);
PA_MUST_USE int pa_equity_push(pa_equity_list *l, const pa_equity_point *p);
PA_MUST_USE int pa_flow_push(pa_flow_list *l, const pa_flow *f);
PA_MUST_USE int pa_close_push(pa_close_list *l, const pa_daily_close *c);

#endif
