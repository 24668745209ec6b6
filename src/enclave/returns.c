/* Return and risk statistics (returns.h, docs/METRICS.md "Returns and
 * risk"). Each formula is empyrical's; where it needs a mean or a standard
 * deviation the sums run in two passes in long double (mean first, then
 * squared deviations), which avoids the cancellation of the one-pass
 * sum-of-squares formula. Pure: no I/O, no clock, no allocation. */
#include "returns.h"

#include <math.h>

/* Two-pass mean and sample standard deviation (ddof = 1), n >= 2. */
static void mean_sd(const double *r, size_t n, long double *mean, long double *sd)
{
    long double sum = 0, m2 = 0;
    for (size_t i = 0; i < n; i++)
        sum += r[i];
    *mean = sum / (long double)n;
    for (size_t i = 0; i < n; i++)
        m2 += (r[i] - *mean) * (r[i] - *mean);
    *sd = sqrtl(m2 / (long double)(n - 1));
}

/* A constant series has no deviation: decided on the values themselves,
 * without a tolerance (the long double mean of equal doubles need not equal
 * them, and would give a tiny spurious deviation). */
static int constant(const double *r, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (r[i] != r[0])
            return 0;
    return 1;
}

static int finite_out(long double x, double *out)
{
    double d = (double)x;
    if (!isfinite(d))
        return 0;
    *out = d;
    return 1;
}

int pa_ret_sharpe(const double *r, size_t n, double ann, double *out)
{
    if (n < 2 || constant(r, n) || !(ann > 0))
        return 0;
    long double mean, sd;
    mean_sd(r, n, &mean, &sd);
    if (!(sd > 0))
        return 0;
    return finite_out(mean / sd * sqrtl(ann), out);
}

int pa_ret_sortino(const double *r, size_t n, double ann, double *out)
{
    if (n < 1 || !(ann > 0))
        return 0;
    long double sum = 0, down = 0;
    for (size_t i = 0; i < n; i++) {
        sum += r[i];
        if (r[i] < 0)
            down += (long double)r[i] * r[i];
    }
    long double dd = sqrtl(down / (long double)n) * sqrtl(ann);
    if (!(dd > 0))
        return 0;
    return finite_out(sum / (long double)n * ann / dd, out);
}

int pa_ret_volatility(const double *r, size_t n, double ann, double *out)
{
    if (n < 2 || !(ann > 0))
        return 0;
    if (constant(r, n)) {
        *out = 0;
        return 1;
    }
    long double mean, sd;
    mean_sd(r, n, &mean, &sd);
    return finite_out(sd * sqrtl(ann), out);
}

int pa_ret_cumulative(const double *r, size_t n, double *out)
{
    long double idx = 1;
    for (size_t i = 0; i < n; i++)
        idx *= 1.0L + r[i];
    return finite_out(idx - 1.0L, out);
}

int pa_ret_max_drawdown(const double *r, size_t n, double *dd, size_t *peak, size_t *trough)
{
    if (n < 1)
        return 0;
    long double idx = 1, top = 1, worst = 0;
    size_t top_at = 0, best_peak = 0, best_trough = 0;
    for (size_t i = 0; i < n; i++) {
        idx *= 1.0L + r[i];
        if (idx > top) {
            top = idx;
            top_at = i + 1;
            continue;
        }
        /* empyrical: (index - running max) / running max; strictly deeper
         * falls only, so ties keep the earliest trough. */
        long double fall = (top - idx) / top;
        if (fall > worst) {
            worst = fall;
            best_peak = top_at;
            best_trough = i + 1;
        }
    }
    if (!finite_out(worst, dd))
        return 0;
    *peak = best_peak;
    *trough = best_trough;
    return 1;
}

int pa_ret_annual_return(double cumulative, double periods, double ann, double *out)
{
    long double end = 1.0L + cumulative;
    if (!(periods >= 1) || !(ann > 0) || !(end > 0))
        return 0;
    return finite_out(powl(end, (long double)ann / periods) - 1.0L, out);
}

int pa_ret_calmar(double annual_return, double max_drawdown, double *out)
{
    if (!(max_drawdown > 0))
        return 0;
    return finite_out((long double)annual_return / max_drawdown, out);
}

/* The exact decimal as a long double: its 10^-16 units converted once
 * (at most one rounding to the 64-bit mantissa), then scaled. */
static long double dec_ld(pa_dec a)
{
    return (long double)a.v / 1e16L;
}

int pa_ret_modified_dietz(pa_dec v0, pa_dec v1, const pa_flow *flows, size_t nflows,
                          int64_t start_ms, int64_t end_ms, double *out, pa_dec *gain)
{
    PA_ENSURE(end_ms > start_ms && (flows != NULL || nflows == 0));
    pa_dec net = pa_dec_from_int(0), g;
    long double weighted = 0;
    const long double len = (long double)(end_ms - start_ms);
    for (size_t i = 0; i < nflows; i++) {
        const pa_flow *f = &flows[i];
        if (f->time_ms < start_ms || f->time_ms >= end_ms)
            continue;
        PA_GUARD(pa_dec_add(net, f->amount, &net));
        weighted += dec_ld(f->amount) * ((long double)(end_ms - f->time_ms) / len);
    }
    PA_GUARD(pa_dec_sub(v1, v0, &g));
    PA_GUARD(pa_dec_sub(g, net, &g));
    *gain = g;
    long double den = dec_ld(v0) + weighted;
    if (!(den > 0)) {
        if (pa_dec_sign(g) != 0)
            return 0;
        *out = 0;
        return 1;
    }
    return finite_out(dec_ld(g) / den, out);
}
