/* myTrades paging and its audit entries (paging.h). */
#include "paging.h"

#include <inttypes.h>
#include <stdio.h>

pa_exchange_status pa_bn_audit(pa_bn_transport *t, pa_audit_log *audit, const char *endpoint,
                               const char *symbol, unsigned page, size_t count,
                               const int64_t *first_id, const int64_t *last_id)
{
    if (pa_exchange_audit_fetch(audit, endpoint, symbol, page, count, first_id, last_id) != 0) {
        pa_exchange_detail(t->out, "binance: the audit log is full");
        return PA_EXCHANGE_TOO_LARGE;
    }
    return PA_EXCHANGE_OK;
}

/* One page's rows into the result's fills; the page's first, last and
 * highest id for the audit entry and the next fromId. */
static pa_exchange_status bn_take_page(pa_bn_transport *t, const json_t *doc,
                                       const pa_bn_market *mk, int64_t *first, int64_t *last,
                                       int64_t *max_id)
{
    pa_exchange_result *out = t->out;
    if (!json_is_array(doc) || json_array_size(doc) > PA_BN_PAGE_LIMIT) {
        pa_exchange_detail(out,
                           "binance: /api/v3/myTrades for %s is not a list of at most %d trades",
                           mk->symbol, PA_BN_PAGE_LIMIT);
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    size_t i;
    const json_t *row;
    json_array_foreach(doc, i, row)
    {
        pa_fill f;
        if (pa_bn_decode_trade(row, mk, &f) != 0) {
            pa_exchange_detail(out, "binance: /api/v3/myTrades for %s has a malformed trade",
                               mk->symbol);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        if (out->fills.len >= PA_FILLS_MAX) {
            pa_exchange_detail(out, "binance: more than %d trades", PA_FILLS_MAX);
            return PA_EXCHANGE_TOO_LARGE;
        }
        if (pa_fill_list_push(&out->fills, &f) != 0) {
            pa_exchange_detail(out, "binance: out of memory");
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        if (i == 0)
            *first = f.id;
        *last = f.id;
        if (f.id > *max_id)
            *max_id = f.id;
    }
    return PA_EXCHANGE_OK;
}

/* Pages through one symbol's trades by fromId until a short page. */
static pa_exchange_status bn_symbol_trades(pa_bn_transport *t, pa_audit_log *audit,
                                           const pa_bn_market *mk, size_t done, unsigned *pages)
{
    int64_t from_id = 0;
    char params[96];
    for (unsigned page = 1;; page++) {
        if (*pages >= PA_BN_MAX_PAGES) {
            pa_exchange_detail(t->out, "binance: more than %d pages of trades", PA_BN_MAX_PAGES);
            return PA_EXCHANGE_TOO_LARGE;
        }
        snprintf(params, sizeof params, "symbol=%s&fromId=%" PRId64 "&limit=%d", mk->symbol,
                 from_id, PA_BN_PAGE_LIMIT);
        json_t *doc = NULL;
        pa_exchange_status st = pa_bn_get(t, "/api/v3/myTrades", params, 1, PA_BN_BODY_CAP, &doc);
        if (st != PA_EXCHANGE_OK)
            return st;
        (*pages)++;
        size_t n = json_array_size(doc);
        int64_t first = 0, last = 0, max_id = -1;
        st = bn_take_page(t, doc, mk, &first, &last, &max_id);
        json_decref(doc);
        if (st != PA_EXCHANGE_OK)
            return st;
        /* A full page that does not move past fromId would page forever. */
        if (n == PA_BN_PAGE_LIMIT && max_id < from_id) {
            pa_exchange_detail(
                t->out, "binance: /api/v3/myTrades for %s did not advance past fromId", mk->symbol);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        st = pa_bn_audit(t, audit, "/api/v3/myTrades", mk->symbol, page, n, n ? &first : NULL,
                         n ? &last : NULL);
        if (st != PA_EXCHANGE_OK || n < PA_BN_PAGE_LIMIT)
            return st;
        st = pa_exchange_report(t->p, t->out, done, *pages);
        if (st != PA_EXCHANGE_OK)
            return st;
        from_id = max_id + 1;
    }
}

pa_exchange_status pa_bn_fetch_trades(pa_bn_transport *t, pa_audit_log *audit,
                                      const pa_bn_markets *markets)
{
    pa_exchange_result *out = t->out;
    unsigned pages = 0;
    for (size_t i = 0; i < out->nsymbols; i++) {
        const pa_bn_market *mk = pa_bn_find_market(markets, out->symbols[i]);
        if (mk == NULL) { /* cannot happen: every symbol came from markets */
            pa_exchange_detail(out, "binance: internal symbol mismatch");
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        pa_exchange_status st = pa_exchange_report(t->p, out, i, pages);
        if (st == PA_EXCHANGE_OK)
            st = bn_symbol_trades(t, audit, mk, i, &pages);
        if (st != PA_EXCHANGE_OK)
            return st;
    }
    pa_exchange_status st = pa_exchange_report(t->p, out, out->nsymbols, pages);
    if (st != PA_EXCHANGE_OK)
        return st;
    pa_exchange_dedup_fills(&out->fills);
    return PA_EXCHANGE_OK;
}
