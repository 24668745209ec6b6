/* USD-M futures paging and its audit entries (futures.h). */
#include "futures.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "futures_wire.h"
#include "paging.h"

int pa_bn_futures_window(int64_t from_ms, int64_t to_ms, int64_t now_ms, int64_t *lo, int64_t *hi)
{
    int64_t reach = now_ms - PA_BN_FUT_INCOME_REACH_DAYS * PA_BN_FUT_DAY_MS;
    *lo = from_ms > reach ? from_ms : reach;
    *hi = to_ms < now_ms ? to_ms : now_ms;
    return *lo < *hi ? 0 : -1;
}

static pa_exchange_status bn_count_page(pa_bn_transport *t, unsigned *pages)
{
    if (*pages >= PA_BN_FUT_MAX_PAGES) {
        pa_exchange_detail(t->out, "binance usdm: more than %d pages of history",
                           PA_BN_FUT_MAX_PAGES);
        return PA_EXCHANGE_TOO_LARGE;
    }
    (*pages)++;
    return PA_EXCHANGE_OK;
}

static int cmp_income(const void *a, const void *b)
{
    const pa_income *x = a, *y = b;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    return (x->tran_id > y->tran_id) - (x->tran_id < y->tran_id);
}

/* Pages overlap by the last page's final millisecond: the rows seen twice go. */
static void bn_dedup_income(pa_income_list *l)
{
    if (l->len == 0)
        return;
    qsort(l->v, l->len, sizeof *l->v, cmp_income);
    size_t m = 1;
    for (size_t i = 1; i < l->len; i++)
        if (cmp_income(&l->v[m - 1], &l->v[i]) != 0)
            l->v[m++] = l->v[i];
    l->len = m;
}

/* One income page's rows; *last_time is the latest time on it. */
static pa_exchange_status bn_take_income(pa_bn_transport *t, const json_t *doc, int64_t lo,
                                         int64_t hi, int64_t *first, int64_t *last,
                                         int64_t *last_time)
{
    pa_exchange_result *out = t->out;
    if (!json_is_array(doc) || json_array_size(doc) > PA_BN_FUT_PAGE_LIMIT) {
        pa_exchange_detail(out, "binance: /fapi/v1/income is not a list of at most %d rows",
                           PA_BN_FUT_PAGE_LIMIT);
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    size_t i;
    const json_t *row;
    json_array_foreach(doc, i, row)
    {
        pa_income r;
        if (pa_bn_decode_income(row, &r) != 0) {
            pa_exchange_detail(out, "binance: /fapi/v1/income has a malformed row");
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        /* Asked for [lo, hi - 1]: anything else is an answer to another question. */
        if (r.time_ms < lo || r.time_ms >= hi) {
            pa_exchange_detail(out, "binance: /fapi/v1/income answered outside the window asked");
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        if (pa_income_list_push(&out->income, &r) != 0) {
            pa_exchange_detail(out, "binance: more than %d income rows", PA_INCOME_MAX);
            return PA_EXCHANGE_TOO_LARGE;
        }
        if (i == 0)
            *first = r.tran_id;
        *last = r.tran_id;
        if (r.time_ms > *last_time)
            *last_time = r.time_ms;
    }
    return PA_EXCHANGE_OK;
}

pa_exchange_status pa_bn_fetch_income(pa_bn_transport *t, pa_audit_log *audit, int64_t lo,
                                      int64_t hi, unsigned *pages)
{
    int64_t start = lo;
    char params[128];
    for (unsigned page = 1;; page++) {
        pa_exchange_status st = bn_count_page(t, pages);
        if (st != PA_EXCHANGE_OK)
            return st;
        /* endTime is inclusive at Binance. */
        snprintf(params, sizeof params, "startTime=%" PRId64 "&endTime=%" PRId64 "&limit=%d",
                 start, hi - 1, PA_BN_FUT_PAGE_LIMIT);
        json_t *doc = NULL;
        st = pa_bn_get(t, "/fapi/v1/income", params, 1, PA_BN_BODY_CAP, &doc);
        if (st != PA_EXCHANGE_OK)
            return st;
        size_t n = json_array_size(doc);
        int64_t first = 0, last = 0, last_time = start;
        st = bn_take_income(t, doc, start, hi, &first, &last, &last_time);
        json_decref(doc);
        if (st == PA_EXCHANGE_OK)
            st = pa_bn_audit(t, audit, "/fapi/v1/income", NULL, page, n, n ? &first : NULL,
                             n ? &last : NULL);
        if (st != PA_EXCHANGE_OK)
            return st;
        if (n < PA_BN_FUT_PAGE_LIMIT)
            break;
        /* The next page starts at this one's last millisecond (rows of it
         * may continue there); a full page within one millisecond cannot
         * be paged past. */
        if (last_time <= start) {
            pa_exchange_detail(t->out, "binance: /fapi/v1/income has more than %d rows in one "
                                       "millisecond",
                               PA_BN_FUT_PAGE_LIMIT);
            return PA_EXCHANGE_TOO_LARGE;
        }
        start = last_time;
    }
    bn_dedup_income(&t->out->income);
    return PA_EXCHANGE_OK;
}

pa_exchange_status pa_bn_fetch_futures_markets(pa_bn_transport *t, pa_audit_log *audit,
                                               pa_bn_markets *m)
{
    json_t *doc = NULL;
    pa_exchange_status st =
        pa_bn_get(t, "/fapi/v1/exchangeInfo", "", 0, PA_BN_EXCHANGE_INFO_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        return st;
    char why[128];
    if (pa_bn_decode_exchange_info(doc, m, why, sizeof why) != 0) {
        pa_exchange_detail(t->out, "binance: /fapi/v1/exchangeInfo: %s", why);
        st = PA_EXCHANGE_BAD_RESPONSE;
    } else {
        st = pa_bn_audit(t, audit, "/fapi/v1/exchangeInfo", NULL, 1, m->listed, NULL, NULL);
    }
    json_decref(doc);
    return st;
}

typedef struct {
    int64_t first, last; /* ids of the page's first and last row, for the audit */
    int64_t min_id, max_id;
    int past_end;        /* a row at or after hi: paging can stop */
} bn_trade_page;

/* One userTrades page; keep: store the rows in [lo, hi) (else only read them). */
static pa_exchange_status bn_take_trades(pa_bn_transport *t, const json_t *doc,
                                         const pa_bn_market *mk, int64_t lo, int64_t hi,
                                         int keep, bn_trade_page *pg)
{
    pa_exchange_result *out = t->out;
    if (!json_is_array(doc) || json_array_size(doc) > PA_BN_FUT_PAGE_LIMIT) {
        pa_exchange_detail(out,
                           "binance: /fapi/v1/userTrades for %s is not a list of at most %d "
                           "trades",
                           mk->symbol, PA_BN_FUT_PAGE_LIMIT);
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    pg->min_id = INT64_MAX;
    pg->max_id = -1;
    pg->past_end = 0;
    size_t i;
    const json_t *row;
    json_array_foreach(doc, i, row)
    {
        pa_fill f;
        if (pa_bn_decode_futures_trade(row, mk, &f) != 0) {
            pa_exchange_detail(out, "binance: /fapi/v1/userTrades for %s has a malformed trade",
                               mk->symbol);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        if (i == 0)
            pg->first = f.id;
        pg->last = f.id;
        if (f.id < pg->min_id)
            pg->min_id = f.id;
        if (f.id > pg->max_id)
            pg->max_id = f.id;
        if (f.time_ms >= hi)
            pg->past_end = 1;
        if (!keep || f.time_ms < lo || f.time_ms >= hi)
            continue;
        if (out->fills.len >= PA_FILLS_MAX || pa_fill_list_push(&out->fills, &f) != 0) {
            pa_exchange_detail(out, "binance: more than %d trades", PA_FILLS_MAX);
            return PA_EXCHANGE_TOO_LARGE;
        }
    }
    return PA_EXCHANGE_OK;
}

/* One GET of userTrades with its audit entry. */
static pa_exchange_status bn_trades_page(pa_bn_transport *t, pa_audit_log *audit,
                                         const pa_bn_market *mk, const char *params, unsigned page,
                                         int64_t lo, int64_t hi, int keep, bn_trade_page *pg,
                                         size_t *n, unsigned *pages)
{
    pa_exchange_status st = bn_count_page(t, pages);
    if (st != PA_EXCHANGE_OK)
        return st;
    json_t *doc = NULL;
    st = pa_bn_get(t, "/fapi/v1/userTrades", params, 1, PA_BN_BODY_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        return st;
    *n = json_array_size(doc);
    st = bn_take_trades(t, doc, mk, lo, hi, keep, pg);
    json_decref(doc);
    if (st != PA_EXCHANGE_OK)
        return st;
    return pa_bn_audit(t, audit, "/fapi/v1/userTrades", mk->symbol, page, *n,
                       *n ? &pg->first : NULL, *n ? &pg->last : NULL);
}

pa_exchange_status pa_bn_fetch_futures_trades(pa_bn_transport *t, pa_audit_log *audit,
                                              const pa_bn_market *mk, int64_t lo, int64_t hi,
                                              unsigned *pages)
{
    char params[160];
    unsigned page = 0;
    bn_trade_page pg;
    size_t n = 0;
    int64_t from_id = -1;
    /* Binance allows at most 7 days between startTime and endTime (both
     * inclusive), and fromId with neither: find the first fill by time... */
    for (int64_t ws = lo; ws < hi && from_id < 0; ws += PA_BN_FUT_TRADES_SPAN_MS) {
        int64_t we = ws + PA_BN_FUT_TRADES_SPAN_MS - 1;
        if (we > hi - 1)
            we = hi - 1;
        snprintf(params, sizeof params,
                 "symbol=%s&startTime=%" PRId64 "&endTime=%" PRId64 "&limit=%d", mk->symbol, ws,
                 we, PA_BN_FUT_PAGE_LIMIT);
        pa_exchange_status st =
            bn_trades_page(t, audit, mk, params, ++page, lo, hi, 0, &pg, &n, pages);
        if (st != PA_EXCHANGE_OK)
            return st;
        if (n > 0)
            from_id = pg.min_id;
    }
    /* ... then every fill from its id on, by fromId, until a page ends
     * short or reaches past hi. Ids grow with time within a contract. */
    while (from_id >= 0) {
        snprintf(params, sizeof params, "symbol=%s&fromId=%" PRId64 "&limit=%d", mk->symbol,
                 from_id, PA_BN_FUT_PAGE_LIMIT);
        pa_exchange_status st =
            bn_trades_page(t, audit, mk, params, ++page, lo, hi, 1, &pg, &n, pages);
        if (st != PA_EXCHANGE_OK)
            return st;
        if (n < PA_BN_FUT_PAGE_LIMIT || pg.past_end)
            break;
        if (pg.max_id < from_id) { /* a full page that does not advance would page forever */
            pa_exchange_detail(t->out,
                               "binance: /fapi/v1/userTrades for %s did not advance past fromId",
                               mk->symbol);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        from_id = pg.max_id + 1;
    }
    return PA_EXCHANGE_OK;
}
