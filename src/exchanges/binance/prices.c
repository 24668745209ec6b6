/* Klines-based prices and the fee pricing of fills (prices.h). */
#include "prices.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "paging.h"
#include "timeutil.h"
#include "wire.h"

/* Binance's "Invalid symbol.": the market does not exist. */
#define BN_CODE_INVALID_SYMBOL (-1121)

void pa_bn_prices_init(pa_bn_prices *c, pa_bn_transport *t, pa_audit_log *audit,
                       const char *path)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->audit = audit;
    c->path = path;
}

void pa_bn_prices_free(pa_bn_prices *c)
{
    if (c == NULL)
        return;
    free(c->v); /* public prices: nothing to wipe */
    free(c->asked);
    memset(c, 0, sizeof *c);
}

static int cmp_key(const char *sa, int64_t stepa, int64_t opena, const pa_bn_candle *b)
{
    int r = strcmp(sa, b->symbol);
    if (r != 0)
        return r;
    if (stepa != b->step_ms)
        return stepa < b->step_ms ? -1 : 1;
    return (opena > b->open_ms) - (opena < b->open_ms);
}

static int cmp_candle(const void *a, const void *b)
{
    const pa_bn_candle *x = a;
    return cmp_key(x->symbol, x->step_ms, x->open_ms, b);
}

static const pa_bn_candle *find(const pa_bn_prices *c, const char *symbol, int64_t step,
                                int64_t open)
{
    size_t lo = 0, hi = c->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = cmp_key(symbol, step, open, &c->v[mid]);
        if (r == 0)
            return &c->v[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The market's entry, added on first use (NULL: out of memory). */
static pa_bn_asked *asked(pa_bn_prices *c, const char *symbol)
{
    for (size_t i = 0; i < c->nasked; i++)
        if (strcmp(c->asked[i].symbol, symbol) == 0)
            return &c->asked[i];
    if (c->nasked == c->asked_cap) {
        size_t ncap = c->asked_cap ? c->asked_cap * 2 : 16;
        if (ncap > 100000)
            return NULL;
        void *nv = realloc(c->asked, ncap * sizeof *c->asked);
        if (nv == NULL)
            return NULL;
        c->asked = nv;
        c->asked_cap = ncap;
    }
    pa_bn_asked *a = &c->asked[c->nasked++];
    memset(a, 0, sizeof *a);
    snprintf(a->symbol, sizeof a->symbol, "%s", symbol);
    return a;
}

static int is_unlisted(const pa_bn_prices *c, const char *symbol)
{
    for (size_t i = 0; i < c->nasked; i++)
        if (strcmp(c->asked[i].symbol, symbol) == 0)
            return c->asked[i].unlisted;
    return 0;
}

static int push(pa_bn_prices *c, const pa_bn_candle *k)
{
    if (c->len == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        PA_ENSURE(ncap <= (size_t)PA_BN_MAX_KLINE_PAGES * 2 * PA_BN_KLINES_LIMIT);
        void *nv = realloc(c->v, ncap * sizeof *c->v);
        PA_ENSURE(nv != NULL);
        c->v = nv;
        c->cap = ncap;
    }
    c->v[c->len++] = *k;
    return 0;
}

/* Sorts and drops repeated keys (pages may overlap what is cached). */
static void settle(pa_bn_prices *c)
{
    qsort(c->v, c->len, sizeof *c->v, cmp_candle);
    size_t m = 0;
    for (size_t i = 0; i < c->len; i++) {
        if (m > 0 && cmp_candle(&c->v[m - 1], &c->v[i]) == 0) {
            if (c->v[i].has && !c->v[m - 1].has)
                c->v[m - 1] = c->v[i]; /* a real candle beats a recorded gap */
            continue;
        }
        c->v[m++] = c->v[i];
    }
    c->len = m;
}

/* One page of candles from open time `from`; the candles the answer lacks
 * between `from` and its last one are recorded as gaps. */
static pa_exchange_status fetch_page(pa_bn_prices *c, const char *symbol, int64_t step,
                                     int64_t from)
{
    pa_bn_transport *t = c->t;
    if (c->pages >= PA_BN_MAX_KLINE_PAGES) {
        pa_exchange_detail(t->out, "binance: more than %d pages of klines",
                           PA_BN_MAX_KLINE_PAGES);
        return PA_EXCHANGE_TOO_LARGE;
    }
    pa_bn_asked *a = asked(c, symbol);
    if (a == NULL) {
        pa_exchange_detail(t->out, "binance: too many markets to price");
        return PA_EXCHANGE_TOO_LARGE;
    }
    char params[128];
    snprintf(params, sizeof params, "symbol=%s&interval=%s&startTime=%" PRId64 "&limit=%d",
             symbol, step == PA_BN_DAY_MS ? "1d" : "1h", from, PA_BN_KLINES_LIMIT);
    json_t *doc = NULL;
    pa_exchange_status st = pa_bn_get(t, c->path, params, 0, PA_BN_BODY_CAP, &doc);
    if (st == PA_EXCHANGE_BAD_RESPONSE && t->last_code == BN_CODE_INVALID_SYMBOL) {
        /* no such market: a route that does not exist, not a failure */
        t->out->detail[0] = '\0';
        c->pages++;
        a->unlisted = 1;
        return pa_bn_audit(t, c->audit, c->path, symbol, ++a->pages, 0, NULL, NULL);
    }
    if (st != PA_EXCHANGE_OK)
        return st;
    c->pages++;
    unsigned page = ++a->pages;
    size_t n = json_array_size(doc);
    int64_t now = pa_now_ms(), first = 0, last = 0;
    if (!json_is_array(doc) || n > PA_BN_KLINES_LIMIT) {
        pa_exchange_detail(t->out, "binance: %s for %s is not a list of at most %d klines",
                           c->path, symbol, PA_BN_KLINES_LIMIT);
        st = PA_EXCHANGE_BAD_RESPONSE;
        goto done;
    }
    int64_t expect = from, prev = -1;
    for (size_t i = 0; i < n; i++) {
        pa_bn_kline k;
        if (pa_bn_decode_kline(json_array_get(doc, i), &k) != 0 || k.open_ms < from ||
            k.open_ms % step != 0 || k.open_ms <= prev) {
            pa_exchange_detail(t->out, "binance: %s for %s has a malformed kline", c->path,
                               symbol);
            st = PA_EXCHANGE_BAD_RESPONSE;
            goto done;
        }
        if (i == 0)
            first = k.open_ms;
        last = prev = k.open_ms;
        pa_bn_candle e = {.step_ms = step, .has = 1, .open = k.open, .close = k.close};
        snprintf(e.symbol, sizeof e.symbol, "%s", symbol);
        for (; expect < k.open_ms; expect += step) { /* a gap: no trading then */
            pa_bn_candle g = {.step_ms = step, .open_ms = expect};
            snprintf(g.symbol, sizeof g.symbol, "%s", symbol);
            if (push(c, &g) != 0)
                goto oom;
        }
        e.open_ms = k.open_ms;
        e.complete = k.open_ms + step <= now;
        if (push(c, &e) != 0)
            goto oom;
        expect = k.open_ms + step;
    }
    if (n == 0) { /* nothing from there on (yet): the asked candle is a gap */
        pa_bn_candle g = {.step_ms = step, .open_ms = from};
        snprintf(g.symbol, sizeof g.symbol, "%s", symbol);
        if (push(c, &g) != 0)
            goto oom;
    }
    settle(c);
    st = pa_bn_audit(t, c->audit, c->path, symbol, page, n, n ? &first : NULL,
                     n ? &last : NULL);
done:
    json_decref(doc);
    return st;
oom:
    json_decref(doc);
    pa_exchange_detail(t->out, "binance: too many klines");
    return PA_EXCHANGE_TOO_LARGE;
}

pa_exchange_status pa_bn_candle_price(pa_bn_prices *c, const char *symbol, int64_t step_ms,
                                      int64_t t_ms, int use_close, pa_dec *px, int *found)
{
    *found = 0;
    if (!pa_bn_symbol_ok(symbol) || t_ms < 0 || is_unlisted(c, symbol))
        return PA_EXCHANGE_OK;
    int64_t open = t_ms - t_ms % step_ms;
    const pa_bn_candle *k = find(c, symbol, step_ms, open);
    if (k == NULL) {
        pa_exchange_status st = fetch_page(c, symbol, step_ms, open);
        if (st != PA_EXCHANGE_OK)
            return st;
        k = find(c, symbol, step_ms, open);
    }
    if (k == NULL || !k->has || (use_close && !k->complete))
        return PA_EXCHANGE_OK;
    *px = use_close ? k->close : k->open;
    *found = 1;
    return PA_EXCHANGE_OK;
}

/* amount × the price of market base+quote; *found 0 when there is none. */
static pa_exchange_status direct(pa_bn_prices *c, const char *base, const char *quote,
                                 int64_t step, int64_t t_ms, int use_close, pa_dec amount,
                                 pa_dec *out, int *found)
{
    char sym[PA_SYMBOL_MAX * 2];
    *found = 0;
    snprintf(sym, sizeof sym, "%s%s", base, quote);
    if (!pa_bn_symbol_ok(sym))
        return PA_EXCHANGE_OK;
    pa_dec px;
    pa_exchange_status st = pa_bn_candle_price(c, sym, step, t_ms, use_close, &px, found);
    if (st != PA_EXCHANGE_OK || !*found)
        return st;
    if (pa_dec_mul(amount, px, out) != 0) {
        *found = 0;
        pa_exchange_detail(c->t->out, "binance: a value of %s in %s is out of range", base,
                           quote);
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    return PA_EXCHANGE_OK;
}

pa_exchange_status pa_bn_value(pa_bn_prices *c, const char *asset, const char *quote,
                               const char *currency, int64_t step_ms, int64_t t_ms,
                               int use_close, pa_dec amount, pa_dec *out, int *found)
{
    *found = 0;
    if (strcmp(asset, quote) == 0) {
        *out = amount;
        *found = 1;
        return PA_EXCHANGE_OK;
    }
    pa_exchange_status st = direct(c, asset, quote, step_ms, t_ms, use_close, amount, out, found);
    if (st != PA_EXCHANGE_OK || *found)
        return st;
    const char *via[] = {currency, "BTC"};
    for (size_t i = 0; i < PA_ARRAY_LEN(via); i++) {
        const char *x = via[i];
        if (x == NULL || strcmp(x, asset) == 0 || strcmp(x, quote) == 0 ||
            (i == 1 && currency != NULL && strcmp(currency, x) == 0))
            continue;
        pa_dec mid;
        int have = 0;
        st = direct(c, asset, x, step_ms, t_ms, use_close, amount, &mid, &have);
        if (st != PA_EXCHANGE_OK)
            return st;
        if (!have)
            continue;
        /* a product of three 8-decimal amounts would need 24 decimals: the
         * value in the intermediate asset is rounded to 8 first */
        st = direct(c, x, quote, step_ms, t_ms, use_close, pa_dec_round8(mid), out, found);
        if (st != PA_EXCHANGE_OK || *found)
            return st;
    }
    return PA_EXCHANGE_OK;
}

pa_exchange_status pa_bn_price_fees(pa_bn_prices *c, pa_exchange_result *out,
                                    const char *currency, int64_t from_ms, int64_t to_ms)
{
    for (size_t i = 0; i < out->fills.len; i++) {
        pa_fill *f = &out->fills.v[i];
        f->fee_priced = 0;
        /* only fees the aggregate counts: inside the window, paid in a third asset */
        if (f->time_ms < from_ms || f->time_ms >= to_ms || pa_dec_sign(f->commission) <= 0 ||
            strcmp(f->commission_asset, f->base) == 0 ||
            strcmp(f->commission_asset, f->quote) == 0)
            continue;
        pa_dec fee;
        int found = 0;
        pa_exchange_status st = pa_bn_value(c, f->commission_asset, f->quote, currency,
                                            PA_BN_HOUR_MS, f->time_ms, 0, f->commission, &fee,
                                            &found);
        if (st != PA_EXCHANGE_OK)
            return st;
        if (found) {
            f->fee_quote = fee;
            f->fee_priced = 1;
        }
    }
    return PA_EXCHANGE_OK;
}
