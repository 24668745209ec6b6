/* Performance aggregates: FIFO realized PnL, volume, trade counts and a daily
 * Sharpe ratio over a window [from, to). The formulas and conventions are
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

#include "buf.h" /* pa_free_secret */
#include "timeutil.h"

/* Every time must lie in RFC 3339's years 0000-9999 (what pa_time_parse
 * accepts): this keeps day arithmetic far from int64 overflow. */
#define AGG_TIME_MIN (-62167219200000LL) /* 0000-01-01T00:00:00Z */
#define AGG_TIME_MAX 253402300800000LL   /* 10000-01-01T00:00:00Z */
/* The daily series is an array of one value per day; the server caps windows
 * at 366 days, this is only a bound on the allocation (about 100 years). */
#define AGG_DAYS_MAX 36600
#define AGG_DAYS_PER_YEAR 365.0L

/* An open FIFO lot: cost = fill price, size = what remains of the gross qty. */
typedef struct {
    pa_dec price;
    pa_dec qty;
} agg_lot;

typedef struct {
    agg_lot *v;
    size_t head; /* oldest open lot */
    size_t len;
    size_t cap;
} agg_lots;

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

/* ---- ordering ----------------------------------------------------------- */

/* The fills are sorted through an array of pointers: a copy of 1e6 fills would
 * be ~180 MB, their pointers 8 MB. */
typedef const pa_fill *fill_ref;

static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int cmp_symbol_id(const void *a, const void *b)
{
    const pa_fill *x = *(const fill_ref *)a;
    const pa_fill *y = *(const fill_ref *)b;
    int c = strcmp(x->symbol, y->symbol);
    return c != 0 ? c : cmp_i64(x->id, y->id);
}

/* FIFO runs per symbol, so fills are grouped by symbol and, within one, put
 * in time order with the exchange id breaking ties. With (symbol, id) unique
 * this is a total order: the result never depends on the input order, not
 * even in the last bit of a floating-point sum. */
static int cmp_symbol_time_id(const void *a, const void *b)
{
    const pa_fill *x = *(const fill_ref *)a;
    const pa_fill *y = *(const fill_ref *)b;
    int c = strcmp(x->symbol, y->symbol);
    if (c != 0)
        return c;
    c = cmp_i64(x->time_ms, y->time_ms);
    return c != 0 ? c : cmp_i64(x->id, y->id);
}

/* Ids unique per symbol, and one symbol always the same pair: otherwise
 * lots of different assets would be matched against each other. */
static int check_symbols(fill_ref *order, size_t n)
{
    qsort(order, n, sizeof(fill_ref), cmp_symbol_id);
    for (size_t i = 1; i < n; i++) {
        const pa_fill *a = order[i - 1], *b = order[i];
        if (strcmp(a->symbol, b->symbol) != 0)
            continue;
        if (a->id == b->id || strcmp(a->base, b->base) != 0 || strcmp(a->quote, b->quote) != 0)
            return -1;
    }
    return 0;
}

/* ---- FIFO --------------------------------------------------------------- */

static int lots_push(agg_lots *l, pa_dec price, pa_dec qty)
{
    if (l->head == l->len) /* queue empty: reuse the space */
        l->head = l->len = 0;
    if (l->len == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        agg_lot *nv = malloc(ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        if (l->len > 0)
            memcpy(nv, l->v, l->len * sizeof *nv);
        pa_free_secret(l->v, l->cap * sizeof *l->v);
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->len].price = price;
    l->v[l->len].qty = qty;
    l->len++;
    return 0;
}

/* Close lots oldest first with a sell of qty at price, adding the realized
 * PnL to *realized; *excess gets what the inventory could not cover. A
 * long-only spot account cannot sell what it does not hold, so the excess (a
 * deposit, a transfer or history the exchange no longer returns) realises
 * nothing and opens no short position. Quantities are exact, so a lot is
 * either closed in full or keeps an exact, non-zero rest: no dust. */
static int lots_close(agg_lots *l, pa_dec price, pa_dec qty, pa_dec *realized, pa_dec *excess)
{
    pa_dec left = qty;
    while (pa_dec_sign(left) > 0 && l->head < l->len) {
        agg_lot *lot = &l->v[l->head];
        pa_dec take, diff, gain;
        if (pa_dec_cmp(left, lot->qty) >= 0) {
            take = lot->qty;
            l->head++;
        } else {
            take = left;
            PA_GUARD(pa_dec_sub(lot->qty, left, &lot->qty));
        }
        PA_GUARD(pa_dec_sub(price, lot->price, &diff));
        PA_GUARD(pa_dec_mul(diff, take, &gain));
        PA_GUARD(pa_dec_add(*realized, gain, realized));
        PA_GUARD(pa_dec_sub(left, take, &left));
    }
    *excess = left;
    return 0;
}

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

/* Sample Sharpe of the daily series: mean / stdev (ddof = 1) * sqrt(365),
 * in floating point from the doubles nearest the exact daily values (a ratio
 * is not money: it is not rounded). Two passes (mean first, then squared
 * deviations) in long double: no cancellation of the kind the one-pass
 * sum-of-squares formula suffers. */
int pa_agg_daily_sharpe(const pa_dec *exact, const double *d, size_t days, double *out)
{
    if (days < 2)
        return 0;
    int constant = 1; /* decided on the exact decimals, without a tolerance */
    for (size_t i = 1; i < days; i++)
        if (pa_dec_cmp(exact[i], exact[0]) != 0)
            constant = 0;
    if (constant)
        return 0;
    long double sum = 0;
    for (size_t i = 0; i < days; i++)
        sum += d[i];
    long double mean = sum / (long double)days, m2 = 0;
    for (size_t i = 0; i < days; i++)
        m2 += (d[i] - mean) * (d[i] - mean);
    long double sd = sqrtl(m2 / (long double)(days - 1));
    if (!(sd > 0))
        return 0;
    double s = (double)(mean / sd * sqrtl(AGG_DAYS_PER_YEAR));
    if (!isfinite(s))
        return 0;
    *out = s;
    return 1;
}

/* ---- pa_aggregate ------------------------------------------------------- */

int pa_aggregate(const pa_fill *fills, size_t n, const pa_agg_params *p, pa_agg_result *out)
{
    int rc = -1;
    fill_ref *order = NULL;
    pa_dec *day_raw = NULL, *day_rounded = NULL;
    double *daily = NULL;
    agg_lots lots = {0};
    size_t days = 0;
    pa_agg_result r;
    pa_dec volume = pa_dec_from_int(0), unmatched = volume, pnl = volume;

    PA_ENSURE(out != NULL);
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    PA_ENSURE(p != NULL && n <= PA_FILLS_MAX && (fills != NULL || n == 0));
    PA_ENSURE(params_ok(p));
    for (size_t i = 0; i < n; i++)
        PA_ENSURE(fill_ok(&fills[i]));

    const int64_t day0 = pa_time_day(p->from_ms);
    days = (size_t)(pa_time_day(p->to_ms - 1) - day0 + 1);
    day_raw = calloc(days, sizeof *day_raw); /* all-zero bytes are the decimal 0 */
    day_rounded = calloc(days, sizeof *day_rounded);
    daily = calloc(days, sizeof *daily);
    order = malloc((n > 0 ? n : 1) * sizeof(fill_ref)); /* never NULL for qsort */
    PA_ENSURE_GOTO(day_raw != NULL && day_rounded != NULL && daily != NULL && order != NULL,
                   cleanup);
    for (size_t i = 0; i < n; i++)
        order[i] = &fills[i];
    PA_GUARD_GOTO(check_symbols(order, n), cleanup);

    /* Keep the fills that can matter to the currency's numbers; fills at or
     * after `to` cannot close anything inside the window. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const pa_fill *f = order[i];
        if (f->time_ms >= p->to_ms)
            continue;
        if (strcmp(f->quote, p->currency) == 0)
            order[m++] = f;
        else if (f->time_ms >= p->from_ms)
            r.excluded_trades++;
    }
    qsort(order, m, sizeof(fill_ref), cmp_symbol_time_id);

    for (size_t i = 0; i < m; i++) {
        const pa_fill *f = order[i];
        if (i > 0 && strcmp(order[i - 1]->symbol, f->symbol) != 0)
            lots.head = lots.len = 0; /* a new symbol: its own inventory */
        const int in_window = f->time_ms >= p->from_ms;
        const size_t day = in_window ? (size_t)(pa_time_day(f->time_ms) - day0) : 0;
        if (in_window) {
            int unpriced;
            pa_dec fee;
            r.trades++;
            PA_GUARD_GOTO(pa_dec_add(volume, f->quote_qty, &volume), cleanup);
            PA_GUARD_GOTO(fill_fee(f, &fee, &unpriced), cleanup);
            PA_GUARD_GOTO(pa_dec_sub(day_raw[day], fee, &day_raw[day]), cleanup);
            r.unpriced_fees += unpriced;
        }
        if (f->is_buyer) {
            if (pa_dec_sign(f->qty) > 0)
                PA_GUARD_GOTO(lots_push(&lots, f->price, f->qty), cleanup);
        } else {
            pa_dec realized = pa_dec_from_int(0), excess;
            PA_GUARD_GOTO(lots_close(&lots, f->price, f->qty, &realized, &excess), cleanup);
            /* Closes before the window only consume inventory. */
            if (in_window) {
                PA_GUARD_GOTO(pa_dec_add(day_raw[day], realized, &day_raw[day]), cleanup);
                PA_GUARD_GOTO(pa_dec_add(unmatched, excess, &unmatched), cleanup);
            }
        }
    }

    /* Each day is a money value, rounded like one; pnl is their exact sum,
     * so the series and the headline figure agree exactly. */
    for (size_t d = 0; d < days; d++) {
        day_rounded[d] = pa_dec_round8(day_raw[d]);
        daily[d] = pa_dec_to_double(day_rounded[d]);
        PA_GUARD_GOTO(pa_dec_add(pnl, day_rounded[d], &pnl), cleanup);
    }
    /* Sums of 8-decimal values: rounding changes nothing, and says so. */
    r.pnl_exact = pa_dec_round8(pnl);
    r.volume_exact = pa_dec_round8(volume);
    r.unmatched_qty_exact = pa_dec_round8(unmatched);
    r.pnl = pa_dec_to_double(r.pnl_exact);
    r.volume = pa_dec_to_double(r.volume_exact);
    r.unmatched_qty = pa_dec_to_double(r.unmatched_qty_exact);
    r.sharpe_defined = pa_agg_daily_sharpe(day_rounded, daily, days, &r.sharpe);
    *out = r;
    rc = 0;

cleanup:
    /* Per-day PnL and open lots describe the trader's book: wipe them too. */
    pa_free_secret(order, (n > 0 ? n : 1) * sizeof(fill_ref));
    pa_free_secret(day_raw, days * sizeof *day_raw);
    pa_free_secret(day_rounded, days * sizeof *day_rounded);
    pa_free_secret(daily, days * sizeof *daily);
    pa_free_secret(lots.v, lots.cap * sizeof *lots.v);
    return rc;
}
