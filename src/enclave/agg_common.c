/* The parts of the aggregates that spot and USD-M futures share
 * (agg_internal.h): the FIFO book and its daily mark, round trips, and the
 * step from per-day sums to the result (docs/METRICS.md, "Unrealized PnL",
 * "Round trips", "Returns and risk"). Pure: no I/O, no clock, no global
 * state. Money is exact (pa_dec) up to the rounding of each figure to 8
 * decimals; ratios are computed in floating point from those figures. */
#include "agg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h" /* pa_free_secret */
#include "returns.h"
#include "timeutil.h"

/* ---- the FIFO book ------------------------------------------------------ */

static int book_push(agg_book *b, pa_dec price, pa_dec qty)
{
    if (b->head == b->len) /* queue empty: reuse the space */
        b->head = b->len = 0;
    if (b->len == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        agg_lot *nv = malloc(ncap * sizeof *nv);
        PA_ENSURE(nv != NULL);
        if (b->len > 0)
            memcpy(nv, b->v, b->len * sizeof *nv);
        pa_free_secret(b->v, b->cap * sizeof *b->v);
        b->v = nv;
        b->cap = ncap;
    }
    pa_dec c;
    PA_GUARD(pa_dec_mul(price, qty, &c));
    PA_GUARD(pa_dec_add(b->cost, c, &b->cost));
    PA_GUARD(pa_dec_add(b->q, qty, &b->q));
    b->v[b->len].price = price;
    b->v[b->len].qty = qty;
    b->len++;
    return 0;
}

/* Quantities are exact, so a lot is either closed in full or keeps an
 * exact, non-zero rest: no dust. A lot's PnL is (price - cost) * matched
 * for a long lot and (cost - price) * matched for a short one: both are
 * (price - cost) * (the signed quantity closed). */
int agg_book_fill(agg_book *b, pa_dec price, pa_dec sq, int allow_short, pa_dec *realized,
                  pa_dec *excess)
{
    const pa_dec zero = pa_dec_from_int(0);
    *realized = zero;
    *excess = zero;
    const int side = pa_dec_sign(sq);
    if (side == 0)
        return 0;
    pa_dec left = sq; /* signed, same sign as the fill */
    while (pa_dec_sign(left) != 0 && b->head < b->len && pa_dec_sign(b->v[b->head].qty) != side) {
        agg_lot *lot = &b->v[b->head];
        pa_dec take, rest, diff, gain, c; /* take: the lot's signed quantity closed */
        PA_GUARD(pa_dec_add(lot->qty, left, &rest));
        if (pa_dec_sign(rest) == 0 || pa_dec_sign(rest) == side) { /* the lot closes */
            take = lot->qty;
            left = rest;
            b->head++;
        } else {
            PA_GUARD(pa_dec_sub(zero, left, &take));
            lot->qty = rest;
            left = zero;
        }
        PA_GUARD(pa_dec_sub(price, lot->price, &diff));
        PA_GUARD(pa_dec_mul(diff, take, &gain));
        PA_GUARD(pa_dec_add(*realized, gain, realized));
        PA_GUARD(pa_dec_mul(lot->price, take, &c));
        PA_GUARD(pa_dec_sub(b->cost, c, &b->cost));
        PA_GUARD(pa_dec_sub(b->q, take, &b->q));
    }
    if (pa_dec_sign(left) == 0)
        return 0;
    if (allow_short || side > 0)
        return book_push(b, price, left);
    /* Long-only spot cannot sell what it does not hold: the excess (a
     * deposit, a transfer or history the exchange no longer returns)
     * realises nothing and opens no short position. */
    return pa_dec_sub(zero, left, excess);
}

void agg_book_clear(agg_book *b)
{
    b->head = b->len = 0;
    b->q = b->cost = pa_dec_from_int(0);
}

void agg_book_free(agg_book *b)
{
    pa_free_secret(b->v, b->cap * sizeof *b->v);
    memset(b, 0, sizeof *b);
}

/* ---- ordering ----------------------------------------------------------- */

static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int cmp_sym_id(const void *a, const void *b)
{
    const agg_key *x = a, *y = b;
    return x->sym != y->sym ? (x->sym > y->sym ? 1 : -1) : cmp_i64(x->id, y->id);
}

/* With (symbol, id) unique this is a total order: the result never
 * depends on the input order, not even in the last bit of a ratio. */
static int cmp_sym_time_id(const void *a, const void *b)
{
    const agg_key *x = a, *y = b;
    if (x->sym != y->sym)
        return x->sym > y->sym ? 1 : -1;
    int c = cmp_i64(x->time_ms, y->time_ms);
    return c != 0 ? c : cmp_i64(x->id, y->id);
}

static int cmp_fill_symbol(const void *a, const void *b)
{
    return strcmp((*(const pa_fill *const *)a)->symbol, (*(const pa_fill *const *)b)->symbol);
}

typedef const pa_fill *fill_ptr;

/* FNV-1a: a symbol is a short NUL-terminated name. */
static uint32_t symbol_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* The distinct symbols, by open addressing on their names: slot[] holds
 * 1 + the index of the symbol's first fill in first[], 0 when free. */
typedef struct {
    uint32_t *slot;
    size_t cap;            /* a power of two, kept at least twice the count */
    const pa_fill **first; /* cap / 2 entries */
    size_t count;
} symbol_set;

static int symbol_set_grow(symbol_set *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    const pa_fill **nf = malloc(ncap / 2 * sizeof(fill_ptr)); /* count <= cap / 2 */
    if (ns == NULL || nf == NULL) {
        free(ns);
        free(nf);
        return -1;
    }
    if (t->count > 0)
        memcpy(nf, t->first, t->count * sizeof(fill_ptr));
    free(t->first);
    t->first = nf;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slot[i] == 0)
            continue;
        size_t j = symbol_hash(t->first[t->slot[i] - 1]->symbol) & (ncap - 1);
        while (ns[j] != 0)
            j = (j + 1) & (ncap - 1);
        ns[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = ns;
    t->cap = ncap;
    return 0;
}

/* The slot holding f's symbol, or the free slot where it belongs. */
static size_t symbol_set_slot(const symbol_set *t, const char *symbol)
{
    size_t j = symbol_hash(symbol) & (t->cap - 1);
    while (t->slot[j] != 0 && strcmp(t->first[t->slot[j] - 1]->symbol, symbol) != 0)
        j = (j + 1) & (t->cap - 1);
    return j;
}

/* *index: the symbol's index in first[]; -1 on memory, or (check) on a
 * symbol seen before with another base/quote pair. */
static int symbol_set_add(symbol_set *t, const pa_fill *f, int check, uint32_t *index)
{
    if (2 * (t->count + 1) > t->cap)
        PA_GUARD(symbol_set_grow(t));
    size_t j = symbol_set_slot(t, f->symbol);
    if (t->slot[j] != 0) {
        const pa_fill *g = t->first[t->slot[j] - 1];
        PA_ENSURE(!check || (strcmp(g->base, f->base) == 0 && strcmp(g->quote, f->quote) == 0));
        *index = t->slot[j] - 1;
        return 0;
    }
    t->first[t->count] = f;
    t->slot[j] = (uint32_t)++t->count;
    *index = (uint32_t)(t->count - 1);
    return 0;
}

int agg_keys(const pa_fill *fills, size_t n, int check, const char *currency, agg_key **keys)
{
    int rc = -1;
    symbol_set t = {0};
    uint32_t *rank = NULL;
    const pa_fill **byname = NULL;
    const size_t alloc = n > 0 ? n : 1; /* never NULL for qsort */
    agg_key *k = malloc(alloc * sizeof *k);
    PA_ENSURE_GOTO(k != NULL && n <= UINT32_MAX, cleanup);
    for (size_t i = 0; i < n; i++) {
        PA_GUARD_GOTO(symbol_set_add(&t, &fills[i], check, &k[i].sym), cleanup);
        k[i].time_ms = fills[i].time_ms;
        k[i].id = fills[i].id;
        k[i].f = &fills[i];
    }
    /* Ranks by name: the walk visits symbols in name order, as it always
     * has (and as the closes list is sorted). */
    rank = calloc(t.count > 0 ? t.count : 1, sizeof *rank);
    byname = malloc((t.count > 0 ? t.count : 1) * sizeof(fill_ptr));
    PA_ENSURE_GOTO(rank != NULL && byname != NULL, cleanup);
    if (t.count > 0)
        memcpy(byname, t.first, t.count * sizeof(fill_ptr));
    qsort(byname, t.count, sizeof(fill_ptr), cmp_fill_symbol);
    for (size_t r = 0; r < t.count; r++)
        rank[t.slot[symbol_set_slot(&t, byname[r]->symbol)] - 1] = (uint32_t)r;
    for (size_t i = 0; i < n; i++)
        k[i].in_quote = strcmp(t.first[k[i].sym]->quote, currency) == 0;
    for (size_t i = 0; i < n; i++)
        k[i].sym = rank[k[i].sym];
    if (check) { /* (symbol, id) unique: the connector de-duplicates by id */
        qsort(k, n, sizeof *k, cmp_sym_id);
        for (size_t i = 1; i < n; i++)
            PA_ENSURE_GOTO(k[i].sym != k[i - 1].sym || k[i].id != k[i - 1].id, cleanup);
    }
    *keys = k;
    k = NULL;
    rc = 0;

cleanup:
    pa_free_secret(k, alloc * sizeof *k);
    free(t.slot);
    free(t.first);
    free(rank);
    free(byname);
    return rc;
}

void agg_keys_sort(agg_key *keys, size_t m)
{
    /* Exchange ids grow with time, so keys sorted by (symbol, id) are
     * usually in this order already: one pass says so. */
    for (size_t i = 1; i < m; i++)
        if (cmp_sym_time_id(&keys[i - 1], &keys[i]) > 0) {
            qsort(keys, m, sizeof *keys, cmp_sym_time_id);
            return;
        }
}

/* ---- the run ------------------------------------------------------------ */

int agg_run_init(agg_run *r, const pa_agg_params *p)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->day0 = pa_time_day(p->from_ms);
    r->days = (size_t)(pa_time_day(p->to_ms - 1) - r->day0 + 1);
    /* all-zero bytes are the decimal 0 */
    r->raw = calloc(r->days, sizeof *r->raw);
    r->mark = calloc(r->days + 1, sizeof *r->mark);
    r->fills = calloc(r->days, sizeof *r->fills);
    if (r->raw == NULL || r->mark == NULL || r->fills == NULL) {
        agg_run_free(r);
        return -1;
    }
    return 0;
}

void agg_run_free(agg_run *r)
{
    /* Per-day PnL and marks describe the trader's book: wiped. */
    pa_free_secret(r->raw, r->days * sizeof *r->raw);
    pa_free_secret(r->mark, (r->days + 1) * sizeof *r->mark);
    pa_free_secret(r->fills, r->days * sizeof *r->fills);
    r->raw = r->mark = NULL;
    r->fills = NULL;
}

static int in_time(int64_t t)
{
    return t >= AGG_TIME_MIN && t < AGG_TIME_MAX;
}

int agg_values_ok(const pa_account_values *v)
{
    if (v == NULL)
        return 1;
    if ((v->equity.len > 0 && v->equity.v == NULL) || (v->flows.len > 0 && v->flows.v == NULL) ||
        (v->closes.len > 0 && v->closes.v == NULL) || v->unvalued_flows < 0)
        return 0;
    const int64_t dmin = AGG_TIME_MIN / AGG_DAY_MS, dmax = AGG_TIME_MAX / AGG_DAY_MS;
    for (size_t i = 0; i < v->equity.len; i++) {
        const pa_equity_point *e = &v->equity.v[i];
        if (!pa_dec_valid(e->equity) || e->day < dmin || e->day >= dmax ||
            (i > 0 && e->day <= v->equity.v[i - 1].day))
            return 0;
    }
    for (size_t i = 0; i < v->flows.len; i++) {
        const pa_flow *f = &v->flows.v[i];
        if (!pa_dec_valid(f->amount) || !in_time(f->time_ms) ||
            (i > 0 && f->time_ms < v->flows.v[i - 1].time_ms))
            return 0;
    }
    for (size_t i = 0; i < v->closes.len; i++) {
        const pa_daily_close *c = &v->closes.v[i];
        if (!pa_dec_valid(c->close) || pa_dec_sign(c->close) < 0 ||
            memchr(c->symbol, '\0', sizeof c->symbol) == NULL || c->day < dmin || c->day >= dmax)
            return 0;
        if (i > 0) {
            int k = strcmp(v->closes.v[i - 1].symbol, c->symbol);
            if (k > 0 || (k == 0 && v->closes.v[i - 1].day >= c->day))
                return 0;
        }
    }
    return 1;
}

/* ---- one symbol --------------------------------------------------------- */

int agg_symbol_begin(agg_symbol *s, agg_run *r, const char *symbol)
{
    agg_book keep = s->book; /* its memory is reused from symbol to symbol */
    memset(s, 0, sizeof *s);
    s->book = keep;
    agg_book_clear(&s->book);
    s->run = r;
    const pa_account_values *v = r->p->values;
    if (v == NULL || v->closes.len == 0)
        return 0;
    /* This symbol's closes: the first at or after (symbol, -inf). */
    size_t lo = 0, hi = v->closes.len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v->closes.v[mid].symbol, symbol) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < v->closes.len && strcmp(v->closes.v[end].symbol, symbol) == 0)
        end++;
    s->closes = v->closes.v + lo;
    s->nclose = end - lo;
    return 0;
}

/* Boundary k: `from` for k = 0, else the end of day k - 1 or `to`. */
static int64_t boundary_time(const agg_run *r, size_t k)
{
    if (k == 0)
        return r->p->from_ms;
    int64_t end = (r->day0 + (int64_t)k) * AGG_DAY_MS;
    return end < r->p->to_ms ? end : r->p->to_ms;
}

/* The open inventory at boundary k marked at the close of day day0 - 1 + k,
 * or at the latest close before it when that day has none. With no close at
 * all yet, the inventory is carried at cost: nothing is invented. */
static int mark_boundary(agg_symbol *s, size_t k)
{
    if (pa_dec_sign(s->book.q) == 0)
        return 0; /* flat: the cost is 0 too, exactly */
    const int64_t day = s->run->day0 - 1 + (int64_t)k;
    while (s->at < s->nclose && s->closes[s->at].day <= day)
        s->at++;
    if (s->at == 0)
        return 0;
    pa_dec value, u;
    PA_GUARD(pa_dec_mul(s->closes[s->at - 1].close, s->book.q, &value));
    PA_GUARD(pa_dec_sub(value, s->book.cost, &u));
    return pa_dec_add(s->run->mark[k], u, &s->run->mark[k]);
}

int agg_symbol_mark_until(agg_symbol *s, int64_t t)
{
    while (s->next <= s->run->days && boundary_time(s->run, s->next) <= t) {
        PA_GUARD(mark_boundary(s, s->next));
        s->next++;
    }
    return 0;
}

int agg_symbol_trip(agg_symbol *s, const pa_fill *f, pa_dec realized, pa_dec fee, pa_dec held_delta,
                    int allow_short)
{
    const pa_dec zero = pa_dec_from_int(0);
    pa_dec after, part;
    PA_GUARD(pa_dec_add(s->held, held_delta, &after));
    if (!allow_short && pa_dec_sign(after) < 0)
        after = zero;
    PA_GUARD(pa_dec_sub(realized, fee, &part));
    const int before_sign = pa_dec_sign(s->held), after_sign = pa_dec_sign(after);
    if (s->in_trip) {
        PA_GUARD(pa_dec_add(s->trip_pnl, part, &s->trip_pnl));
    } else if (after_sign != 0) { /* flat -> open: a trip starts */
        s->in_trip = 1;
        s->trip_pnl = part;
    }
    /* Back to flat, or through it (the fill that flips a position closes
     * the trip, carrying its whole fee, and opens the next). */
    if (s->in_trip && before_sign != 0 && after_sign != before_sign) {
        agg_run *r = s->run;
        if (f->time_ms >= r->p->from_ms) {
            r->trips++;
            if (pa_dec_sign(s->trip_pnl) > 0) {
                r->wins++;
                PA_GUARD(pa_dec_add(r->won, s->trip_pnl, &r->won));
            } else {
                PA_GUARD(pa_dec_add(r->lost, s->trip_pnl, &r->lost));
            }
        }
        s->in_trip = after_sign != 0;
        s->trip_pnl = zero;
    }
    s->held = after;
    return 0;
}

int agg_symbol_end(agg_symbol *s)
{
    if (pa_dec_sign(s->book.q) == 0)
        s->next = s->run->days + 1; /* flat from here on: every mark is 0 */
    PA_GUARD(agg_symbol_mark_until(s, INT64_MAX));
    agg_book_clear(&s->book);
    return 0;
}

/* ---- finishing ---------------------------------------------------------- */

void pa_agg_result_free(pa_agg_result *r)
{
    if (r == NULL)
        return;
    pa_free_secret(r->daily, r->ndaily * sizeof *r->daily);
    r->daily = NULL;
    r->ndaily = 0;
}

/* The equity-based figures (docs/METRICS.md, "Returns and risk"): one
 * Modified Dietz return per period between two valuations, each on the day
 * that ends it; then the chain and the statistics of those returns. */
static int returns_and_risk(const agg_run *run, pa_agg_result *r)
{
    int rc = -1;
    const pa_account_values *v = run->p->values;
    double *rets = NULL;
    pa_dec *gains = NULL;
    size_t *at = NULL, n = 0;
    const size_t days = run->days;
    if (v == NULL || v->unvalued_flows > 0 || v->equity.len == 0)
        return 0; /* nothing is guessed */
    rets = malloc(days * sizeof *rets);
    gains = calloc(days, sizeof *gains); /* zero: the analyzer cannot see i < n */
    at = calloc(days, sizeof *at);
    PA_ENSURE_GOTO(rets != NULL && gains != NULL && at != NULL, cleanup);

    /* Valuations from the close of the day before the window on. */
    const int64_t first = run->day0 - 1, last = run->day0 + (int64_t)days - 1;
    size_t e = 0, fl = 0;
    while (e < v->equity.len && v->equity.v[e].day < first)
        e++;
    int have_prev = 0;
    int64_t prev_day = 0;
    pa_dec prev = pa_dec_from_int(0);
    for (; e < v->equity.len && v->equity.v[e].day <= last; e++) {
        const pa_equity_point *pt = &v->equity.v[e];
        if (pt->day >= run->day0) {
            pa_agg_day *d = &r->daily[pt->day - run->day0];
            d->equity_known = 1;
            d->equity_exact = pa_dec_round8(pt->equity);
            d->equity = pa_dec_to_double(d->equity_exact);
        }
        if (have_prev) {
            const int64_t start = (prev_day + 1) * AGG_DAY_MS, end = (pt->day + 1) * AGG_DAY_MS;
            while (fl < v->flows.len && v->flows.v[fl].time_ms < start)
                fl++;
            double ret;
            pa_dec gain;
            int k = pa_ret_modified_dietz(prev, pt->equity, v->flows.v + fl, v->flows.len - fl,
                                          start, end, &ret, &gain);
            PA_GUARD_GOTO(k < 0 ? -1 : 0, cleanup);
            if (!r->returns_known) {
                r->returns_known = 1;
                r->returns_from_day = prev_day + 1;
            }
            if (k == 1) {
                r->daily[pt->day - run->day0].ret.known = 1;
                r->daily[pt->day - run->day0].ret.v = ret;
                rets[n] = ret;
                gains[n] = gain;
                at[n] = (size_t)(pt->day - run->day0);
                n++;
            }
        }
        have_prev = 1;
        prev_day = pt->day;
        prev = pt->equity;
    }
    if (!r->returns_known) {
        rc = 0;
        goto cleanup;
    }
    double x, dd;
    size_t peak, trough;
    r->ret.known = pa_ret_cumulative(rets, n, &x);
    r->ret.v = r->ret.known ? x : 0;
    if (pa_ret_max_drawdown(rets, n, &dd, &peak, &trough)) {
        r->max_drawdown.known = 1;
        r->max_drawdown.v = dd;
        pa_dec lost = pa_dec_from_int(0);
        for (size_t i = peak; i < trough; i++) /* the returns after the peak, to the trough */
            PA_GUARD_GOTO(pa_dec_sub(lost, gains[i], &lost), cleanup);
        r->max_drawdown_amount_exact = pa_dec_round8(lost);
        if (trough > peak) {
            r->drawdown_dates_known = 1;
            /* Position 0 is the first valuation (the day before
             * returns_from); position i + 1 is the day of return i. */
            r->drawdown_peak_day =
                peak == 0 ? r->returns_from_day - 1 : run->day0 + (int64_t)at[peak - 1];
            r->drawdown_trough_day = run->day0 + (int64_t)at[trough - 1];
        }
    }
    r->max_drawdown_amount = pa_dec_to_double(r->max_drawdown_amount_exact);
    r->volatility.known = pa_ret_volatility(rets, n, PA_RET_DAYS_PER_YEAR, &x);
    r->volatility.v = r->volatility.known ? x : 0;
    r->sharpe_on_returns = 1;
    r->sharpe_defined = pa_ret_sharpe(rets, n, PA_RET_DAYS_PER_YEAR, &r->sharpe);
    r->sortino.known = pa_ret_sortino(rets, n, PA_RET_DAYS_PER_YEAR, &x);
    r->sortino.v = r->sortino.known ? x : 0;
    double annual;
    if (r->ret.known && r->max_drawdown.known &&
        pa_ret_annual_return(r->ret.v, (double)(last - r->returns_from_day + 1),
                             PA_RET_DAYS_PER_YEAR, &annual)) {
        r->calmar.known = pa_ret_calmar(annual, r->max_drawdown.v, &x);
        r->calmar.v = r->calmar.known ? x : 0;
    }
    rc = 0;

cleanup:
    /* The account's returns and gains are as private as its fills. */
    pa_free_secret(rets, days * sizeof *rets);
    pa_free_secret(gains, days * sizeof *gains);
    pa_free_secret(at, days * sizeof *at);
    return rc;
}

int agg_finish(agg_run *run, pa_agg_result *r)
{
    int rc = -1;
    const pa_dec zero = pa_dec_from_int(0);
    double *pnl_d = NULL;
    pa_dec *pnl_x = NULL, pnl = zero, u;
    const size_t days = run->days;
    r->daily = calloc(days, sizeof *r->daily);
    pnl_d = malloc(days * sizeof *pnl_d);
    pnl_x = calloc(days, sizeof *pnl_x);
    PA_ENSURE_GOTO(r->daily != NULL && pnl_d != NULL && pnl_x != NULL, cleanup);
    r->ndaily = days;

    /* Each day is a money value, rounded like one: what was booked that
     * day plus the change of the inventory's mark. pnl is the exact sum of
     * the rounded days, so the series and the headline figure agree. */
    for (size_t d = 0; d < days; d++) {
        pa_agg_day *x = &r->daily[d];
        pa_dec day, dm;
        PA_GUARD_GOTO(pa_dec_sub(run->mark[d + 1], run->mark[d], &dm), cleanup);
        PA_GUARD_GOTO(pa_dec_add(run->raw[d], dm, &day), cleanup);
        x->day = run->day0 + (int64_t)d;
        x->pnl_exact = pa_dec_round8(day);
        x->pnl = pa_dec_to_double(x->pnl_exact);
        x->fills = run->fills[d];
        pnl_x[d] = x->pnl_exact;
        pnl_d[d] = x->pnl;
        PA_GUARD_GOTO(pa_dec_add(pnl, x->pnl_exact, &pnl), cleanup);
        r->active_days += x->fills > 0;
        r->best_known |= pa_dec_sign(x->pnl_exact) != 0;
    }
    /* The best and worst days, the earliest on a tie; none when every day
     * is 0 (nothing to rank). */
    for (size_t d = 1; r->best_known && d < days; d++) {
        if (pa_dec_cmp(pnl_x[d], pnl_x[r->best_day]) > 0)
            r->best_day = d;
        if (pa_dec_cmp(pnl_x[d], pnl_x[r->worst_day]) < 0)
            r->worst_day = d;
    }
    PA_GUARD_GOTO(pa_dec_sub(run->mark[days], run->mark[0], &u), cleanup);
    r->pnl_exact = pa_dec_round8(pnl);
    r->pnl = pa_dec_to_double(r->pnl_exact);
    r->realized_pnl_exact = pa_dec_round8(run->realized);
    r->unrealized_pnl_exact = pa_dec_round8(u);
    r->fees_exact = pa_dec_round8(run->fees);
    r->funding_exact = pa_dec_round8(run->funding);
    r->realized_pnl = pa_dec_to_double(r->realized_pnl_exact);
    r->unrealized_pnl = pa_dec_to_double(r->unrealized_pnl_exact);
    r->fees = pa_dec_to_double(r->fees_exact);
    r->funding = pa_dec_to_double(r->funding_exact);

    r->round_trips = run->trips;
    if (run->trips > 0) {
        r->win_rate.known = 1;
        r->win_rate.v = (double)run->wins / (double)run->trips;
    }
    if (pa_dec_sign(run->lost) < 0) { /* gross profit / gross loss */
        long double won = (long double)run->won.v, lost = -(long double)run->lost.v;
        r->profit_factor.known = 1;
        r->profit_factor.v = (double)(won / lost);
    }

    r->max_drawdown_amount_exact = zero;
    PA_GUARD_GOTO(returns_and_risk(run, r), cleanup);
    if (!r->returns_known) { /* as before equity was known: on daily PnL */
        double x;
        r->sharpe_defined = pa_agg_daily_sharpe(pnl_x, pnl_d, days, &r->sharpe);
        r->sortino.known = pa_ret_sortino(pnl_d, days, PA_RET_DAYS_PER_YEAR, &x);
        r->sortino.v = r->sortino.known ? x : 0;
    }
    rc = 0;

cleanup:
    pa_free_secret(pnl_d, days * sizeof *pnl_d);
    pa_free_secret(pnl_x, days * sizeof *pnl_x);
    if (rc != 0)
        pa_agg_result_free(r);
    return rc;
}
