/* Performance aggregates: FIFO realized PnL, volume, trade counts and a daily
 * Sharpe ratio over a window [from, to). The formulas and conventions are
 * docs/METRICS.md; this file implements exactly that text. Pure: no I/O, no
 * clock, no global state. */
#include "aggregate.h"

#include <math.h>
#include <stdio.h>
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
    double price;
    long double qty;
} agg_lot;

typedef struct {
    agg_lot *v;
    size_t head; /* oldest open lot */
    size_t len;
    size_t cap;
} agg_lots;

/* ---- pa_round8 ---------------------------------------------------------- */

/* The decimal digits of ax (> 0, finite) as m * 10^e: the shortest of 15, 16
 * or 17 significant digits that converts back to ax exactly. Any 15-digit
 * decimal survives a round trip through a double (DBL_DIG), so when the
 * shortest representation has fewer digits the 15-digit one is it, padded
 * with zeros. Number strings are built without a radix character so the
 * result does not depend on the C locale. */
static void decimal_digits(double ax, unsigned long long *m_out, int *e_out)
{
    for (int prec = 15; prec <= 17; prec++) {
        char s[64];
        snprintf(s, sizeof s, "%.*e", prec - 1, ax);
        unsigned long long m = 0;
        int nd = 0;
        const char *p = s;
        for (; *p != '\0' && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9') {
                m = m * 10 + (unsigned long long)(*p - '0');
                nd++;
            }
        int e = (*p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0) - (nd - 1);
        char t[64];
        snprintf(t, sizeof t, "%llue%d", m, e);
        if (prec == 17 || strtod(t, NULL) == ax) {
            *m_out = m;
            *e_out = e;
            return;
        }
    }
}

double pa_round8(double x)
{
    if (!isfinite(x))
        return x;
    if (x == 0)
        return 0.0; /* also turns -0 into 0 */
    unsigned long long m;
    int e;
    decimal_digits(fabs(x), &m, &e);
    /* |x| = m * 10^e; we want q = round_half_away(m * 10^(e + 8)). */
    int shift = e + 8;
    if (shift >= 0)
        return x; /* no digit beyond the 8th decimal */
    unsigned long long q;
    if (-shift > 17) {
        q = 0; /* m < 10^17 <= 10^-shift / 10: below half a unit */
    } else {
        unsigned long long p10 = 1;
        for (int i = 0; i < -shift; i++)
            p10 *= 10;
        q = m / p10;
        unsigned long long r = m % p10;
        if (r >= p10 - r) /* r >= p10 / 2 without overflow: half goes away from zero */
            q++;
    }
    if (q == 0)
        return 0.0;
    char t[64];
    snprintf(t, sizeof t, "%llue-8", q);
    double y = strtod(t, NULL);
    return x < 0 ? -y : y;
}

/* ---- validation --------------------------------------------------------- */

/* A NUL-terminated, non-empty string inside its fixed-size field. */
static int field_ok(const char *s, size_t size)
{
    return s[0] != '\0' && memchr(s, '\0', size) != NULL;
}

static int amount_ok(double v)
{
    return isfinite(v) && v >= 0;
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
    if (f->commission > 0 && f->commission_asset[0] == '\0')
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
 * be ~120 MB, their pointers 8 MB. */
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

static int lots_push(agg_lots *l, double price, double qty)
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

/* Close lots oldest first with a sell of qty at price. Returns the realized
 * PnL; *excess gets what the inventory could not cover. A long-only spot
 * account cannot sell what it does not hold, so the excess (a deposit, a
 * transfer or history the exchange no longer returns) realises nothing and
 * opens no short position. */
static long double lots_close(agg_lots *l, double price, double qty, long double *excess)
{
    long double realized = 0, left = qty;
    while (left > 0 && l->head < l->len) {
        agg_lot *lot = &l->v[l->head];
        long double take;
        if (left >= lot->qty) {
            take = lot->qty;
            l->head++;
        } else {
            take = left;
            lot->qty -= left;
        }
        realized += ((long double)price - lot->price) * take;
        left -= take;
    }
    *excess = left > 0 ? left : 0;
    return realized;
}

/* The fee of a counted fill in the quote asset; *unpriced set when it was
 * paid in a third asset (e.g. BNB) that the fills give no price for. */
static long double fill_fee(const pa_fill *f, int *unpriced)
{
    *unpriced = 0;
    if (f->commission == 0)
        return 0;
    if (strcmp(f->commission_asset, f->quote) == 0)
        return f->commission;
    if (strcmp(f->commission_asset, f->base) == 0)
        return (long double)f->commission * f->price;
    *unpriced = 1;
    return 0;
}

/* ---- statistics --------------------------------------------------------- */

/* Sample Sharpe of the daily series: mean / stdev (ddof = 1) * sqrt(365).
 * Two passes (mean first, then squared deviations) in long double: no
 * cancellation of the kind the one-pass sum-of-squares formula suffers. */
static int daily_sharpe(const double *d, size_t days, double *out)
{
    if (days < 2)
        return 0;
    int constant = 1;
    for (size_t i = 1; i < days; i++)
        if (d[i] != d[0])
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
    long double *day_raw = NULL;
    double *daily = NULL;
    agg_lots lots = {0};
    size_t days = 0;
    pa_agg_result r = {0};
    long double volume = 0, unmatched = 0, pnl = 0;

    PA_ENSURE(out != NULL);
    memset(out, 0, sizeof *out);
    PA_ENSURE(p != NULL && n <= PA_FILLS_MAX && (fills != NULL || n == 0));
    PA_ENSURE(params_ok(p));
    for (size_t i = 0; i < n; i++)
        PA_ENSURE(fill_ok(&fills[i]));

    const int64_t day0 = pa_time_day(p->from_ms);
    days = (size_t)(pa_time_day(p->to_ms - 1) - day0 + 1);
    day_raw = calloc(days, sizeof *day_raw);
    daily = calloc(days, sizeof *daily);
    order = malloc((n > 0 ? n : 1) * sizeof(fill_ref)); /* never NULL for qsort */
    PA_ENSURE_GOTO(day_raw != NULL && daily != NULL && order != NULL, cleanup);
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
            r.trades++;
            volume += f->quote_qty;
            day_raw[day] -= fill_fee(f, &unpriced);
            r.unpriced_fees += unpriced;
        }
        if (f->is_buyer) {
            if (f->qty > 0)
                PA_GUARD_GOTO(lots_push(&lots, f->price, f->qty), cleanup);
        } else {
            long double excess;
            long double realized = lots_close(&lots, f->price, f->qty, &excess);
            /* Closes before the window only consume inventory. */
            if (in_window) {
                day_raw[day] += realized;
                unmatched += excess;
            }
        }
    }

    /* Each day is a money value, rounded like one; pnl is their sum so that
     * the series and the headline figure agree exactly. Rounding first also
     * keeps binary dust (0.1 + 0.2) from posing as day-to-day variation. */
    for (size_t d = 0; d < days; d++) {
        daily[d] = pa_round8((double)day_raw[d]);
        pnl += daily[d];
    }
    r.pnl = pa_round8((double)pnl);
    r.volume = pa_round8((double)volume);
    r.unmatched_qty = pa_round8((double)unmatched);
    r.sharpe_defined = daily_sharpe(daily, days, &r.sharpe);
    *out = r;
    rc = 0;

cleanup:
    /* Per-day PnL and open lots describe the trader's book: wipe them too. */
    pa_free_secret(order, (n > 0 ? n : 1) * sizeof(fill_ref));
    pa_free_secret(day_raw, days * sizeof *day_raw);
    pa_free_secret(daily, days * sizeof *daily);
    pa_free_secret(lots.v, lots.cap * sizeof *lots.v);
    return rc;
}
