/* USD-M futures aggregates (docs/METRICS.md, "USD-M futures"). A futures
 * exchange books every fill's realized PnL and fee, and every funding
 * payment, as an income row: the booked part of PnL is their exact sum (the
 * exchange's own average-cost accounting is what the trader was paid).
 * Fills give the trade count, the volume, and the open position (long or
 * short FIFO lots) that is marked to the daily closes for unrealized PnL
 * and followed for round trips. Pure: no I/O, no clock, no global state. */
#include "aggregate.h"

#include <stdlib.h>
#include <string.h>

#include "agg_internal.h"
#include "buf.h" /* pa_free_secret */
#include "timeutil.h"

#define FUT_TIME_MIN AGG_TIME_MIN
#define FUT_TIME_MAX AGG_TIME_MAX
#define FUT_DAYS_MAX AGG_DAYS_MAX

static int name_ok(const char *s, size_t size, int may_be_empty)
{
    return memchr(s, '\0', size) != NULL && (may_be_empty || s[0] != '\0');
}

static int fill_ok(const pa_fill *f)
{
    return name_ok(f->symbol, sizeof f->symbol, 0) && name_ok(f->base, sizeof f->base, 0) &&
           name_ok(f->quote, sizeof f->quote, 0) && pa_dec_valid(f->quote_qty) &&
           pa_dec_sign(f->quote_qty) >= 0 && pa_dec_valid(f->price) && pa_dec_sign(f->price) >= 0 &&
           pa_dec_valid(f->qty) && pa_dec_sign(f->qty) >= 0 && pa_dec_valid(f->commission) &&
           memchr(f->commission_asset, '\0', sizeof f->commission_asset) != NULL &&
           f->time_ms >= FUT_TIME_MIN && f->time_ms < FUT_TIME_MAX;
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

/* The open position of one contract's fills, long or short, and its trips.
 * The fee of a trip is the fills' commission in the currency (a rebate
 * negative); the realized PnL is FIFO's, which over a whole trip (flat to
 * flat) equals any other cost method's, the exchange's average cost too. */
static int position_fills(agg_run *run, const agg_key *order, size_t m)
{
    int rc = -1;
    agg_symbol s;
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < m; i++) {
        const pa_fill *f = order[i].f;
        if (i + AGG_PREFETCH_AHEAD < m)
            __builtin_prefetch(order[i + AGG_PREFETCH_AHEAD].f);
        if (i == 0 || order[i - 1].sym != order[i].sym) {
            if (i > 0)
                PA_GUARD_GOTO(agg_symbol_end(&s), cleanup);
            PA_GUARD_GOTO(agg_symbol_begin(&s, run, f->symbol), cleanup);
        }
        PA_GUARD_GOTO(agg_symbol_mark_until(&s, f->time_ms), cleanup);
        pa_dec sq = f->qty, realized, excess;
        const pa_dec fee =
            strcmp(f->commission_asset, f->quote) == 0 ? f->commission : pa_dec_from_int(0);
        if (!f->is_buyer)
            PA_GUARD_GOTO(pa_dec_sub(pa_dec_from_int(0), f->qty, &sq), cleanup);
        PA_GUARD_GOTO(agg_book_fill(&s.book, f->price, sq, 1, &realized, &excess), cleanup);
        PA_GUARD_GOTO(agg_symbol_trip(&s, f, realized, fee, sq, 1), cleanup);
    }
    if (m > 0)
        PA_GUARD_GOTO(agg_symbol_end(&s), cleanup);
    rc = 0;
cleanup:
    agg_book_free(&s.book);
    return rc;
}

int pa_aggregate_futures(const pa_fill *fills, size_t n, const pa_income *income, size_t nincome,
                         const pa_agg_params *p, pa_agg_result *out)
{
    int rc = -1, run_ok = 0;
    agg_key *order = NULL;
    agg_run run;
    pa_agg_result r;
    const pa_dec zero = pa_dec_from_int(0);
    pa_dec volume = zero, commission = zero;

    PA_ENSURE(out != NULL);
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    PA_ENSURE(p != NULL && params_ok(p) && agg_values_ok(p->values) && n <= PA_FILLS_MAX &&
              nincome <= PA_INCOME_MAX);
    PA_ENSURE((fills != NULL || n == 0) && (income != NULL || nincome == 0));
    for (size_t i = 0; i < n; i++)
        PA_ENSURE(fill_ok(&fills[i]));
    for (size_t i = 0; i < nincome; i++)
        PA_ENSURE(income_ok(&income[i]));

    PA_GUARD(agg_run_init(&run, p));
    run_ok = 1;
    PA_GUARD_GOTO(agg_keys(fills, n, 0, p->currency, &order), cleanup);

    size_t m = 0; /* the currency's fills before `to`: the position */
    for (size_t i = 0; i < n; i++) {
        const pa_fill *f = &fills[i];
        if (f->time_ms >= p->to_ms)
            continue;
        const agg_key key = order[i]; /* keys[i] is fills[i]'s: m <= i */
        if (strcmp(f->quote, p->currency) != 0) {
            r.excluded_trades += f->time_ms >= p->from_ms;
            continue;
        }
        order[m++] = key;
        if (f->time_ms < p->from_ms)
            continue;
        r.trades++;
        run.fills[pa_time_day(f->time_ms) - run.day0]++;
        PA_GUARD_GOTO(pa_dec_add(volume, f->quote_qty, &volume), cleanup);
    }
    agg_keys_sort(order, m);
    PA_GUARD_GOTO(position_fills(&run, order, m), cleanup);

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
        pa_dec *part = x->type == PA_INCOME_REALIZED_PNL ? &run.realized
                       : x->type == PA_INCOME_COMMISSION ? &commission
                                                         : &run.funding;
        PA_GUARD_GOTO(pa_dec_add(*part, x->amount, part), cleanup);
        const size_t day = (size_t)(pa_time_day(x->time_ms) - run.day0);
        PA_GUARD_GOTO(pa_dec_add(run.raw[day], x->amount, &run.raw[day]), cleanup);
    }

    /* fees is what was paid: the commission rows negated. */
    PA_GUARD_GOTO(pa_dec_sub(zero, commission, &run.fees), cleanup);
    r.volume_exact = pa_dec_round8(volume);
    r.unmatched_qty_exact = zero;
    r.volume = pa_dec_to_double(r.volume_exact);
    r.unmatched_qty = 0;
    PA_GUARD_GOTO(agg_finish(&run, &r), cleanup);
    *out = r;
    rc = 0;

cleanup:
    pa_free_secret(order, (n > 0 ? n : 1) * sizeof *order);
    if (run_ok)
        agg_run_free(&run);
    return rc;
}
