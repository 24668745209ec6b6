/* Performance aggregates from a list of fills: a pure function (no I/O, no
 * clock). Formulas: docs/METRICS.md. */
#ifndef PA_AGGREGATE_H
#define PA_AGGREGATE_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "fills.h"
#include "result.h"

typedef struct {
    int64_t from_ms; /* window [from, to) */
    int64_t to_ms;
    const char *currency; /* quote asset that counts, e.g. "USDT" */
} pa_agg_params;

typedef struct {
    double pnl;          /* rounded to 8 decimals */
    double volume;       /* rounded to 8 decimals */
    double sharpe;       /* meaningful only when sharpe_defined */
    int sharpe_defined;  /* 0 -> payload carries null */
    int64_t trades;
    int64_t excluded_trades; /* fills in the window whose quote asset is not the currency */
    int64_t unpriced_fees;   /* counted fills whose commission asset is neither base nor quote */
    double unmatched_qty;    /* base quantity sold beyond inventory, summed, 8 decimals */
} pa_agg_result;

/* fills may be in any order (sorted internally by time, then id). Uses the
 * full history for FIFO lots, counts only what falls in the window. */
PA_MUST_USE int pa_aggregate(const pa_fill *fills, size_t n, const pa_agg_params *p,
                             pa_agg_result *out);

/* Round half away from zero to 8 decimals; -0 becomes 0. */
double pa_round8(double x);

#endif
