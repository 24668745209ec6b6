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

/* A ratio that may be undefined (the payload's null). */
typedef struct {
    int known;
    double v;
} pa_agg_num;

/* One UTC day of the window (docs/METRICS.md, "The daily series"). */
typedef struct {
    int64_t day;      /* pa_time_day() of the day */
    pa_dec pnl_exact; /* rounded to 8 decimals */
    double pnl;
    pa_agg_num ret;     /* the day's time-weighted return, a fraction */
    int equity_known;   /* a valuation at the day's close */
    pa_dec equity_exact; /* rounded to 8 decimals */
    double equity;
    int64_t fills; /* counted fills in the window on the day */
} pa_agg_day;

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
    /* Returns and risk (docs/METRICS.md, "Returns and risk"), spot and
     * futures alike; pnl = realized_pnl + unrealized_pnl - fees + funding
     * up to the per-day rounding. For spot, fees are the charged fees
     * (>= 0) and funding is 0. */
    double unrealized_pnl; /* change of the open inventory's mark over the window */
    pa_dec unrealized_pnl_exact;
    pa_agg_day *daily; /* one per UTC day of the window; owned: pa_agg_result_free */
    size_t ndaily;
    int returns_known;        /* at least one day's return is known */
    int64_t returns_from_day; /* the first day of the first valued period */
    pa_agg_num ret;           /* time-weighted return over [returns_from, to) */
    int sharpe_on_returns;    /* sharpe_basis: 1 "returns", 0 "pnl" */
    pa_agg_num sortino, volatility, max_drawdown, calmar;
    pa_dec max_drawdown_amount_exact; /* money lost from peak to trough, 8 decimals */
    double max_drawdown_amount;
    int drawdown_dates_known; /* 0 when there was no fall */
    int64_t drawdown_peak_day, drawdown_trough_day;
    int64_t round_trips;
    pa_agg_num win_rate, profit_factor;
    int best_known; /* 0 when every day's pnl is 0 */
    size_t best_day, worst_day; /* indices into daily */
    int64_t active_days;        /* days with at least one counted fill */
} pa_agg_result;

/* Wipes (the series describes the trader's book) and frees the series;
 * safe on a zeroed or already freed result. */
void pa_agg_result_free(pa_agg_result *r);

/* fills may be in any order (sorted internally by time, then id). Uses the
 * full history for FIFO lots, counts only what falls in the window. The
 * result owns its daily series: pa_agg_result_free it. -1 (nothing to free) on
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

/* The Sharpe ratio of a daily PnL series (docs/METRICS.md), shared by both
 * aggregates: 1 and *out when defined, else 0. */
int pa_agg_daily_sharpe(const pa_dec *exact, const double *d, size_t days, double *out);

#endif
