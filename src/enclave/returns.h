/* Return and risk statistics of a daily series (docs/METRICS.md, "Returns
 * and risk"): pure functions, no I/O, no clock, no allocation. Each follows
 * the formula of empyrical (the quant library most published strategy
 * statistics come from) and takes the annualisation factor as a parameter:
 * the service uses PA_RET_DAYS_PER_YEAR, empyrical's own tests use 252.
 *
 * Ratios are floating point (long double inside, a double out); money never
 * passes through here except in pa_ret_modified_dietz, whose inputs are
 * exact decimals. Every statistic returns 1 and writes *out when it is
 * defined, 0 (out untouched) when it is not: the payload then says null,
 * never a made-up 0 or an infinity. */
#ifndef PA_RETURNS_H
#define PA_RETURNS_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "account_values.h"
#include "decimal.h"

#define PA_RET_DAYS_PER_YEAR 365.0 /* crypto markets trade every day */

/* mean / sd (ddof = 1) * sqrt(ann), risk-free rate 0 (empyrical
 * sharpe_ratio). Undefined for n < 2, a constant series, or a non-finite
 * result. */
int pa_ret_sharpe(const double *r, size_t n, double ann, double *out);

/* mean * ann / (sqrt(mean(min(r, 0)^2)) * sqrt(ann)), required return 0
 * (empyrical sortino_ratio: the downside deviation is over all n periods,
 * the positive ones counting as 0). Undefined for n < 1 or no period below
 * 0 (zero downside deviation). */
int pa_ret_sortino(const double *r, size_t n, double ann, double *out);

/* sd (ddof = 1) * sqrt(ann) (empyrical annual_volatility). n >= 2. */
int pa_ret_volatility(const double *r, size_t n, double ann, double *out);

/* prod(1 + r) - 1: the chained (time-weighted) return. n may be 0 (0). */
int pa_ret_cumulative(const double *r, size_t n, double *out);

/* The largest fall of the cumulative return index from a running peak, as
 * a fraction >= 0 (empyrical max_drawdown, sign flipped): the index starts
 * at 1 before r[0] and is prod(1 + r[0..i]) after r[i]. *peak and *trough
 * are positions in the index (0 = the start, i + 1 = after r[i]); both 0
 * when there is no fall. Undefined for n < 1. */
int pa_ret_max_drawdown(const double *r, size_t n, double *dd, size_t *peak, size_t *trough);

/* (1 + cumulative)^(ann / periods) - 1 (empyrical annual_return, the
 * compound annual growth rate); periods >= 1 is the number of days the
 * series covers. Undefined when the index ends at or below 0. */
int pa_ret_annual_return(double cumulative, double periods, double ann, double *out);

/* annual_return / max_drawdown (empyrical calmar_ratio); undefined when the
 * drawdown is 0. */
int pa_ret_calmar(double annual_return, double max_drawdown, double *out);

/* One period's Modified Dietz return (GIPS):
 *     (v1 - v0 - sum F) / (v0 + sum w_i F_i),  w_i = (end - t_i) / (end - start)
 * over the flows with start <= t_i < end (flows is sorted by time; others
 * are skipped), v0 the value at start and v1 at end. A flow's weight is the
 * share of the period it was invested for. *gain gets the exact numerator
 * (the period's performance in money). Returns 1 and *out when the
 * denominator is > 0, and also (with *out = 0) when the denominator is
 * <= 0 and the gain is exactly 0: nothing invested, nothing happened. 0 (out
 * untouched) when there was a gain or loss on no capital: a return on
 * nothing is undefined. -1 when an exact sum leaves pa_dec's range. */
PA_MUST_USE int pa_ret_modified_dietz(pa_dec v0, pa_dec v1, const pa_flow *flows, size_t nflows,
                                      int64_t start_ms, int64_t end_ms, double *out, pa_dec *gain);

#endif
