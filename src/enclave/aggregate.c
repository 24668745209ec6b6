/* Spot performance aggregates: FIFO realized PnL, the open inventory's
 * mark, volume, trade counts, the daily series and the returns and risk
 * figures over a window [from, to) (the last two in agg_common.c). The formulas and conventions are
 * docs/METRICS.md; this file implements exactly that text. Pure: no I/O, no
 * clock, no global state.
 *
 * Money is exact: every amount, product and sum is a pa_dec (decimal.h) and
 * every operation is checked, so a figure is either the exact decimal result
 * or the call fails. Floating point appears only after rounding to 8
 * decimals: in the doubles the payload carries and in the Sharpe ratio. */
#include "aggregate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg_internal.h"
#include "buf.h" /* pa_free_secret */
#include "returns.h"
#include "timeutil.h"

/* ---- validation --------------------------------------------------------- */

/* A NUL-terminated, non-empty string inside its fixed-size field. */
static int field_ok(const char *s, size_t size)
{
    return s[0] != '\0' && memchr(s, '\0', size) != NULL;
}

static int amount_ok(pa_dec v)
{
    return pa_dec_valid(v) && pa_dec_sign(v) >= 0;
}

static int fill_ok(const pa_fill *f)
{
    if (!field_ok(f->symbol, sizeof f->symbol) || !field_ok(f->base, sizeof f->base) ||
        !field_ok(f->quote, sizeof f->quote))
        return 0;
    if (memchr(f->commission_asset, '\0', sizeof f->commission_asset) == NULL)
        return 0;
    if (!amount_ok(f->price) || !amount_ok(f->qty) || !amount_ok(f->quote_qty) ||
        !amount_ok(f->commission))
        return 0;
    /* A fee must say what it was paid in; a zero fee may leave it empty. */
    if (pa_dec_sign(f->commission) > 0 && f->commission_asset[0] == '\0')
        return 0;
    return f->time_ms >= AGG_TIME_MIN && f->time_ms < AGG_TIME_MAX;
}

static int params_ok(const pa_agg_params *p)
{
    if (p->currency == NULL || p->currency[0] == '\0' ||
        memchr(p->currency, '\0', PA_ASSET_MAX) == NULL)
        return 0;
    if (p->from_ms < AGG_TIME_MIN || p->to_ms > AGG_TIME_MAX || p->from_ms >= p->to_ms)
        return 0;
    return pa_time_day(p->to_ms - 1) - pa_time_day(p->from_ms) + 1 <= AGG_DAYS_MAX;
}

/* ---- fees --------------------------------------------------------------- */

/* The fee of a counted fill in the quote asset; *unpriced set when it was
 * paid in a third asset (e.g. BNB) that the connector could not price
 * (pa_fill.fee_priced, from the exchange's public prices). */
static int fill_fee(const pa_fill *f, pa_dec *fee, int *unpriced)
{
    *unpriced = 0;
    *fee = pa_dec_from_int(0);
    if (pa_dec_sign(f->commission) == 0)
        return 0;
    if (strcmp(f->commission_asset, f->quote) == 0) {
        *fee = f->commission;
        return 0;
    }
    if (strcmp(f->commission_asset, f->base) == 0)
        return pa_dec_mul(f->commission, f->price, fee);
    if (f->fee_priced) {
        PA_ENSURE(amount_ok(f->fee_quote));
        *fee = f->fee_quote;
        return 0;
    }
    *unpriced = 1;
    return 0;
}

/* ---- statistics --------------------------------------------------------- */

/* Sample Sharpe of the daily PnL series: mean / stdev (ddof = 1) *
 * sqrt(365), in floating point from the doubles nearest the exact daily
 * values (a ratio is not money: it is not rounded); pa_ret_sharpe computes
 * it. Whether the series is constant is decided on the exact decimals. */
int pa_agg_daily_sharpe(const pa_dec *exact, const double *d, size_t days, double *out)
{
    if (days < 2)
        return 0;
    for (size_t i = 1; i < days; i++)
        if (pa_dec_cmp(exact[i], exact[0]) != 0)
            return pa_ret_sharpe(d, days, PA_RET_DAYS_PER_YEAR, out);
    return 0;
}

/* ---- pa_aggregate ------------------------------------------------------- */

/* One counted fill through its symbol's book, trip and day. */
static int spot_fill(agg_symbol *s, const pa_fill *f, pa_agg_result *r, pa_dec *volume,
                     pa_dec *unmatched)
{
    agg_run *run = s->run;
    const pa_agg_params *p = run->p;
    const int in_window = f->time_ms >= p->from_ms;
    const size_t day = in_window ? (size_t)(pa_time_day(f->time_ms) - run->day0) : 0;
    int unpriced;
    pa_dec fee, sq, realized, excess, held;
    PA_GUARD(agg_symbol_mark_until(s, f->time_ms));
    PA_GUARD(fill_fee(f, &fee, &unpriced));
    if (in_window) {
        r->trades++;
        run->fills[day]++;
        r->unpriced_fees += unpriced;
        PA_GUARD(pa_dec_add(*volume, f->quote_qty, volume));
        PA_GUARD(pa_dec_sub(run->raw[day], fee, &run->raw[day]));
        PA_GUARD(pa_dec_add(run->fees, fee, &run->fees));
    }
    if (f->is_buyer) {
        sq = f->qty;
        /* The account holds what a fee paid in the base asset left. */
        held = f->qty;
        if (pa_dec_sign(f->commission) > 0 && strcmp(f->commission_asset, f->base) == 0)
            PA_GUARD(pa_dec_sub(f->qty, f->commission, &held));
    } else {
        PA_GUARD(pa_dec_sub(pa_dec_from_int(0), f->qty, &sq));
        held = sq;
    }
    PA_GUARD(agg_book_fill(&s->book, f->price, sq, 0, &realized, &excess));
    /* Closes before the window only consume inventory. */
    if (in_window && !f->is_buyer) {
        PA_GUARD(pa_dec_add(run->raw[day], realized, &run->raw[day]));
        PA_GUARD(pa_dec_add(run->realized, realized, &run->realized));
        PA_GUARD(pa_dec_add(*unmatched, excess, unmatched));
    }
    return agg_symbol_trip(s, f, realized, fee, held, 0);
}

int pa_aggregate(const pa_fill *fills, size_t n, const pa_agg_params *p, pa_agg_result *out)
{
    int rc = -1, run_ok = 0;
    agg_key *order = NULL;
    agg_run run;
    agg_symbol sym;
    pa_agg_result r;
    pa_dec volume = pa_dec_from_int(0), unmatched = volume;

    PA_ENSURE(out != NULL);
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    memset(&sym, 0, sizeof sym);
    PA_ENSURE(p != NULL && n <= PA_FILLS_MAX && (fills != NULL || n == 0));
    PA_ENSURE(params_ok(p) && agg_values_ok(p->values));
    for (size_t i = 0; i < n; i++)
        PA_ENSURE(fill_ok(&fills[i]));

    PA_GUARD(agg_run_init(&run, p));
    run_ok = 1;
    /* Ids unique per symbol, and one symbol always the same pair:
     * otherwise lots of different assets would be matched against each
     * other. */
    PA_GUARD_GOTO(agg_keys(fills, n, 1, p->currency, &order), cleanup);

    /* Keep the fills that can matter to the currency's numbers; fills at or
     * after `to` cannot close anything inside the window. FIFO runs per
     * symbol in (time, id) order. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const agg_key k = order[i];
        if (k.time_ms >= p->to_ms)
            continue;
        if (k.in_quote)
            order[m++] = k;
        else if (k.time_ms >= p->from_ms)
            r.excluded_trades++;
    }
    agg_keys_sort(order, m);

    for (size_t i = 0; i < m; i++) {
        if (i + AGG_PREFETCH_AHEAD < m)
            __builtin_prefetch(order[i + AGG_PREFETCH_AHEAD].f);
        if (i == 0 || order[i - 1].sym != order[i].sym) {
            if (i > 0) /* a new symbol: its own inventory */
                PA_GUARD_GOTO(agg_symbol_end(&sym), cleanup);
            PA_GUARD_GOTO(agg_symbol_begin(&sym, &run, order[i].f->symbol), cleanup);
        }
        PA_GUARD_GOTO(spot_fill(&sym, order[i].f, &r, &volume, &unmatched), cleanup);
    }
    if (m > 0)
        PA_GUARD_GOTO(agg_symbol_end(&sym), cleanup);

    /* Sums of 8-decimal values: rounding changes nothing, and says so. */
    r.volume_exact = pa_dec_round8(volume);
    r.unmatched_qty_exact = pa_dec_round8(unmatched);
    r.volume = pa_dec_to_double(r.volume_exact);
    r.unmatched_qty = pa_dec_to_double(r.unmatched_qty_exact);
    PA_GUARD_GOTO(agg_finish(&run, &r), cleanup);
    *out = r;
    rc = 0;

cleanup:
    /* The order and the open lots describe the trader's book: wiped. */
    pa_free_secret(order, (n > 0 ? n : 1) * sizeof *order);
    agg_book_free(&sym.book);
    if (run_ok)
        agg_run_free(&run);
    return rc;
}
