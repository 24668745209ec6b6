/* Performance aggregates from a list of fills: a pure function (no I/O, no
 * clock). Formulas: docs/METRICS.md. */
#ifndef PA_AGGREGATE_H
#define PA_AGGREGATE_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "account_values.h"
#include "fills.h"
#include "income.h"
#include "result.h"

typedef struct {
    int64_t from_ms; /* window [from, to) */
    int64_t to_ms;
    const char *currency; /* quote asset that counts, e.g. "USDT" */
    const pa_account_values *values; /* equity, flows, daily closes; NULL: none known */
} pa_agg_params;

/* Money figures are computed exactly in decimal (pa_dec) and rounded to 8
 * decimals; each double here is the double nearest to that rounded decimal
 * (what the payload carries), and the *_exact fields hold the decimal
 * itself. */
typedef struct {
    double pnl;          /* the sum of the daily values, each rounded to 8 decimals */
    double volume;       /* rounded to 8 decimals */
    double sharpe;       /* meaningful only when sharpe_defined */
    int sharpe_defined;  /* 0 -> payload carries null */
    int64_t trades;
    int64_t excluded_trades; /* fills in the window whose quote asset is not the currency */
    int64_t unpriced_fees;   /* counted fills whose commission asset is neither base nor quote */
    double unmatched_qty;    /* base quantity sold beyond inventory, summed, 8 decimals */
    pa_dec pnl_exact;
    pa_dec volume_exact;
    pa_dec unmatched_qty_exact;
    /* Futures only (pa_aggregate_futures), 0 for spot: the parts of pnl as
     * the exchange booked them, each rounded to 8 decimals. fees is what was
     * paid (commission income negated), so pnl = realized - fees + funding. */
    double realized_pnl, fees, funding;
    pa_dec realized_pnl_exact, fees_exact, funding_exact;
} pa_agg_result;

/* fills may be in any order (sorted internally by time, then id). Uses the
 * full history for FIFO lots, counts only what falls in the window. -1 on
 * invalid input, and when an exact sum would leave pa_dec's range (|x| <=
 * 10^22): a figure is never rounded or wrapped to fit. */
PA_MUST_USE int pa_aggregate(const pa_fill *fills, size_t n, const pa_agg_params *p,
                             pa_agg_result *out);

/* USD-M futures (aggregate_futures.c): trades and volume from the fills,
 * PnL from the income rows (realized PnL, commission, funding) in the
 * currency, summed exactly per day. p's window is the covered one. Same
 * failure rules as pa_aggregate. */
PA_MUST_USE int pa_aggregate_futures(const pa_fill *fills, size_t n, const pa_income *income,
                                     size_t nincome, const pa_agg_params *p, pa_agg_result *out);

/* The Sharpe ratio of a daily series (docs/METRICS.md), shared by both
 * aggregates: 1 and *out when defined, else 0. */
int pa_agg_daily_sharpe(const pa_dec *exact, const double *d, size_t days, double *out);

#endif
