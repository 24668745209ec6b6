/* USD-M futures aggregates (docs/METRICS.md, "USD-M futures"). A futures
 * exchange books every fill's realized PnL and fee, and every funding
 * payment, as an income row: PnL is their exact sum, so there is no FIFO to
 * run (and none could be: positions can be short, and the exchange's own
 * average-cost accounting is what the trader was paid). Fills give the trade
 * count and the volume. Pure: no I/O, no clock, no global state. */
#include "aggregate.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h" /* pa_free_secret */
#include "timeutil.h"

/* RFC 3339's years 0000-9999, as aggregate.c; the day bound as there. */
#define FUT_TIME_MIN (-62167219200000LL)
#define FUT_TIME_MAX 253402300800000LL
#define FUT_DAYS_MAX 36600

static int name_ok(const char *s, size_t size, int may_be_empty)
{
    return memchr(s, '\0', size) != NULL && (may_be_empty || s[0] != '\0');
}

static int fill_ok(const pa_fill *f)
{
    return name_ok(f->symbol, sizeof f->symbol, 0) && name_ok(f->base, sizeof f->base, 0) &&
           name_ok(f->quote, sizeof f->quote, 0) && pa_dec_valid(f->quote_qty) &&
           pa_dec_sign(f->quote_qty) >= 0 && f->time_ms >= FUT_TIME_MIN &&
           f->time_ms < FUT_TIME_MAX;
}

static int income_ok(const pa_income *r)
{
    return name_ok(r->symbol, sizeof r->symbol, 1) && name_ok(r->asset, sizeof r->asset, 0) &&
           r->type >= PA_INCOME_REALIZED_PNL && r->type <= PA_INCOME_OTHER &&
           pa_dec_valid(r->amount) && r->time_ms >= FUT_TIME_MIN && r->time_ms < FUT_TIME_MAX;
}

static int params_ok(const pa_agg_params *p)
{
    if (p->currency == NULL || p->currency[0] == '\0' ||
        memchr(p->currency, '\0', PA_ASSET_MAX) == NULL)
        return 0;
    if (p->from_ms < FUT_TIME_MIN || p->to_ms > FUT_TIME_MAX || p->from_ms >= p->to_ms)
        return 0;
    return pa_time_day(p->to_ms - 1) - pa_time_day(p->from_ms) + 1 <= FUT_DAYS_MAX;
}

static int in_window(int64_t t, const pa_agg_params *p)
{
    return t >= p->from_ms && t < p->to_ms;
}

/* Sums are order-independent (exact decimals), so neither list needs sorting. */
int pa_aggregate_futures(const pa_fill *fills, size_t n, const pa_income *income, size_t nincome,
                         const pa_agg_params *p, pa_agg_result *out)
{
    int rc = -1;
    pa_dec *day_raw = NULL, *day_rounded = NULL;
    double *daily = NULL;
    size_t days = 0;
    pa_agg_result r;
    const pa_dec zero = pa_dec_from_int(0);
    pa_dec volume = zero, pnl = zero, realized = zero, commission = zero, funding = zero;

    PA_ENSURE(out != NULL);
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    PA_ENSURE(p != NULL && params_ok(p) && n <= PA_FILLS_MAX && nincome <= PA_INCOME_MAX);
    PA_ENSURE((fills != NULL || n == 0) && (income != NULL || nincome == 0));
    for (size_t i = 0; i < n; i++)
        PA_ENSURE(fill_ok(&fills[i]));
    for (size_t i = 0; i < nincome; i++)
        PA_ENSURE(income_ok(&income[i]));

    const int64_t day0 = pa_time_day(p->from_ms);
    days = (size_t)(pa_time_day(p->to_ms - 1) - day0 + 1);
    day_raw = calloc(days, sizeof *day_raw); /* all-zero bytes are the decimal 0 */
    day_rounded = calloc(days, sizeof *day_rounded);
    daily = calloc(days, sizeof *daily);
    PA_ENSURE_GOTO(day_raw != NULL && day_rounded != NULL && daily != NULL, cleanup);

    for (size_t i = 0; i < n; i++) {
        const pa_fill *f = &fills[i];
        if (!in_window(f->time_ms, p))
            continue;
        if (strcmp(f->quote, p->currency) != 0) {
            r.excluded_trades++;
            continue;
        }
        r.trades++;
        PA_GUARD_GOTO(pa_dec_add(volume, f->quote_qty, &volume), cleanup);
    }

    for (size_t i = 0; i < nincome; i++) {
        const pa_income *x = &income[i];
        if (!in_window(x->time_ms, p) || x->type == PA_INCOME_OTHER)
            continue;
        /* A fee in another asset (BNB fee discount) is not priced here and is
         * counted as such; PnL and funding in another asset belong to
         * contracts margined in it, whose fills are excluded_trades. */
        if (strcmp(x->asset, p->currency) != 0) {
            if (x->type == PA_INCOME_COMMISSION && pa_dec_sign(x->amount) != 0)
                r.unpriced_fees++;
            continue;
        }
        pa_dec *part = x->type == PA_INCOME_REALIZED_PNL ? &realized
                       : x->type == PA_INCOME_COMMISSION ? &commission
                                                         : &funding;
        PA_GUARD_GOTO(pa_dec_add(*part, x->amount, part), cleanup);
        const size_t day = (size_t)(pa_time_day(x->time_ms) - day0);
        PA_GUARD_GOTO(pa_dec_add(day_raw[day], x->amount, &day_raw[day]), cleanup);
    }

    /* As spot: each day is rounded like a money value and pnl is the exact
     * sum of the rounded days. */
    for (size_t d = 0; d < days; d++) {
        day_rounded[d] = pa_dec_round8(day_raw[d]);
        daily[d] = pa_dec_to_double(day_rounded[d]);
        PA_GUARD_GOTO(pa_dec_add(pnl, day_rounded[d], &pnl), cleanup);
    }
    pa_dec fees;
    PA_GUARD_GOTO(pa_dec_sub(zero, commission, &fees), cleanup);
    r.pnl_exact = pa_dec_round8(pnl);
    r.volume_exact = pa_dec_round8(volume);
    r.unmatched_qty_exact = zero;
    r.realized_pnl_exact = pa_dec_round8(realized);
    r.fees_exact = pa_dec_round8(fees);
    r.funding_exact = pa_dec_round8(funding);
    r.pnl = pa_dec_to_double(r.pnl_exact);
    r.volume = pa_dec_to_double(r.volume_exact);
    r.unmatched_qty = 0;
    r.realized_pnl = pa_dec_to_double(r.realized_pnl_exact);
    r.fees = pa_dec_to_double(r.fees_exact);
    r.funding = pa_dec_to_double(r.funding_exact);
    r.sharpe_defined = pa_agg_daily_sharpe(day_rounded, daily, days, &r.sharpe);
    *out = r;
    rc = 0;

cleanup:
    pa_free_secret(day_raw, days * sizeof *day_raw);
    pa_free_secret(day_rounded, days * sizeof *day_rounded);
    pa_free_secret(daily, days * sizeof *daily);
    return rc;
}
