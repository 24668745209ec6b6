/* Equity, cash flows and daily closes of a Binance account (values.h). */
#include "values.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paging.h"
#include "timeutil.h"
#include "values_wire.h"

/* The transfer types into or out of each wallet (GET /sapi/v1/asset/transfer
 * needs one type per query). MAIN is the spot wallet, UMFUTURE USD-M. */
static const char *const bn_spot_transfers[] = {
    "MAIN_UMFUTURE", "UMFUTURE_MAIN", "MAIN_CMFUTURE", "CMFUTURE_MAIN", "MAIN_MARGIN",
    "MARGIN_MAIN",   "MAIN_FUNDING",  "FUNDING_MAIN",  "MAIN_OPTION",   "OPTION_MAIN",
    "MAIN_PORTFOLIO_MARGIN", "PORTFOLIO_MARGIN_MAIN",
};
static const char *const bn_usdm_transfers[] = {
    "MAIN_UMFUTURE",    "UMFUTURE_MAIN",    "MARGIN_UMFUTURE", "UMFUTURE_MARGIN",
    "FUNDING_UMFUTURE", "UMFUTURE_FUNDING", "OPTION_UMFUTURE", "UMFUTURE_OPTION",
};

typedef struct {
    pa_bn_transport *t;
    pa_audit_log *audit;
    pa_bn_prices *px; /* spot prices: what balances and flows are valued with */
    const pa_exchange_params *p;
    int64_t from, end; /* [from, end): the window up to now */
    unsigned pages;
} bn_values_run;

static pa_exchange_status bn_page_budget(bn_values_run *r)
{
    if (r->pages >= PA_BN_MAX_VALUE_PAGES) {
        pa_exchange_detail(r->t->out, "binance: more than %d pages of account history",
                           PA_BN_MAX_VALUE_PAGES);
        return PA_EXCHANGE_TOO_LARGE;
    }
    r->pages++;
    return PA_EXCHANGE_OK;
}

static pa_exchange_status bn_oom(bn_values_run *r)
{
    pa_exchange_detail(r->t->out, "binance: out of memory");
    return PA_EXCHANGE_BAD_RESPONSE;
}

/* ---- equity --------------------------------------------------------------- */

/* One day's balances valued at the day's close; *ok 0 when one of them has
 * no price (the day is then left out, never guessed). */
static pa_exchange_status bn_day_equity(bn_values_run *r, const pa_bn_snapshots *s, int64_t day,
                                        pa_dec *equity, int *ok)
{
    *ok = 1;
    *equity = pa_dec_from_int(0);
    for (size_t i = 0; i < s->len; i++) {
        if (s->v[i].day != day)
            continue;
        pa_dec v;
        int found = 0;
        pa_exchange_status st =
            pa_bn_value(r->px, s->v[i].asset, r->p->currency, r->p->currency, PA_BN_DAY_MS,
                        day * PA_BN_DAY_MS, 1, s->v[i].amount, &v, &found);
        if (st != PA_EXCHANGE_OK)
            return st;
        if (!found) {
            *ok = 0;
            return PA_EXCHANGE_OK;
        }
        if (pa_dec_add(*equity, v, equity) != 0) {
            pa_exchange_detail(r->t->out, "binance: an account value is out of range");
            return PA_EXCHANGE_BAD_RESPONSE;
        }
    }
    return PA_EXCHANGE_OK;
}

static pa_exchange_status bn_equity(bn_values_run *r, pa_bn_wallet wallet)
{
    pa_exchange_result *out = r->t->out;
    int64_t now = pa_now_ms();
    /* Binance keeps about a month and wants the period under 30 days */
    int64_t lo = now - PA_BN_SNAPSHOT_REACH_DAYS * PA_BN_DAY_MS + 1, hi = r->end - 1;
    if (lo < r->from)
        lo = r->from;
    if (lo > hi)
        return PA_EXCHANGE_OK;
    char params[128], why[128];
    snprintf(params, sizeof params, "type=%s&startTime=%" PRId64 "&endTime=%" PRId64 "&limit=30",
             wallet == PA_BN_WALLET_USDM ? "FUTURES" : "SPOT", lo, hi);
    pa_exchange_status st = bn_page_budget(r);
    if (st != PA_EXCHANGE_OK)
        return st;
    json_t *doc = NULL;
    st = pa_bn_get(r->t, "/sapi/v1/accountSnapshot", params, 1, PA_BN_BODY_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        return st;
    pa_bn_snapshots s;
    int rc = pa_bn_decode_snapshots(doc, wallet == PA_BN_WALLET_USDM, &s, why, sizeof why);
    json_decref(doc);
    if (rc != 0) {
        pa_exchange_detail(out, "binance: %s", why);
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    st = pa_bn_audit(r->t, r->audit, "/sapi/v1/accountSnapshot", NULL, 1, s.ndays, NULL, NULL);
    for (size_t i = 0; st == PA_EXCHANGE_OK && i < s.ndays; i++) {
        int64_t day = s.days[i];
        /* the snapshot of a day inside the window, taken at its end */
        if (day < pa_time_day(r->from) || (day + 1) * PA_BN_DAY_MS > now)
            continue;
        pa_equity_point e = {.day = day};
        int ok = 0;
        st = bn_day_equity(r, &s, day, &e.equity, &ok);
        if (st == PA_EXCHANGE_OK && ok && pa_equity_push(&out->values.equity, &e) != 0)
            st = bn_oom(r);
    }
    pa_bn_snapshots_free(&s);
    return st;
}

/* ---- flows ---------------------------------------------------------------- */

/* A decoded row into the flows (valued at the open of its hour candle), or
 * into unvalued_flows. Rows that do not count, or lie outside the window,
 * are skipped. */
static pa_exchange_status bn_take_flow(bn_values_run *r, const pa_bn_flow_row *row,
                                       pa_flow_kind kind)
{
    pa_exchange_result *out = r->t->out;
    if (!row->counts || row->time_ms < r->from || row->time_ms >= r->end)
        return PA_EXCHANGE_OK;
    pa_flow f = {.time_ms = row->time_ms, .kind = kind};
    memcpy(f.asset, row->asset, sizeof f.asset);
    int found = 0;
    pa_exchange_status st = pa_bn_value(r->px, row->asset, r->p->currency, r->p->currency,
                                        PA_BN_HOUR_MS, row->time_ms, 0, row->amount, &f.amount,
                                        &found);
    if (st != PA_EXCHANGE_OK)
        return st;
    if (!found) {
        out->values.unvalued_flows++;
        return PA_EXCHANGE_OK;
    }
    return pa_flow_push(&out->values.flows, &f) == 0 ? PA_EXCHANGE_OK : bn_oom(r);
}

/* Deposit or withdrawal history: windows under 90 days from the window's
 * start, each paged by offset until a short page. */
static pa_exchange_status bn_capital_history(bn_values_run *r, const char *path, int deposits)
{
    unsigned page = 0;
    const int64_t span = PA_BN_FLOW_WINDOW_DAYS * PA_BN_DAY_MS;
    for (int64_t w = r->from; w < r->end; w += span) {
        int64_t wend = w + span < r->end ? w + span : r->end;
        for (unsigned offset = 0;; offset += PA_BN_FLOW_PAGE_LIMIT) {
            char params[160];
            snprintf(params, sizeof params,
                     "startTime=%" PRId64 "&endTime=%" PRId64 "&offset=%u&limit=%d", w, wend - 1,
                     offset, PA_BN_FLOW_PAGE_LIMIT);
            pa_exchange_status st = bn_page_budget(r);
            if (st != PA_EXCHANGE_OK)
                return st;
            json_t *doc = NULL;
            st = pa_bn_get(r->t, path, params, 1, PA_BN_BODY_CAP, &doc);
            if (st != PA_EXCHANGE_OK)
                return st;
            size_t n = json_array_size(doc);
            if (!json_is_array(doc) || n > PA_BN_FLOW_PAGE_LIMIT) {
                json_decref(doc);
                pa_exchange_detail(r->t->out, "binance: %s is not a list of at most %d rows",
                                   path, PA_BN_FLOW_PAGE_LIMIT);
                return PA_EXCHANGE_BAD_RESPONSE;
            }
            for (size_t i = 0; st == PA_EXCHANGE_OK && i < n; i++) {
                pa_bn_flow_row row;
                const json_t *j = json_array_get(doc, i);
                int rc = deposits ? pa_bn_decode_deposit(j, &row) : pa_bn_decode_withdrawal(j, &row);
                if (rc != 0) {
                    pa_exchange_detail(r->t->out, "binance: %s has a malformed row", path);
                    st = PA_EXCHANGE_BAD_RESPONSE;
                } else {
                    st = bn_take_flow(r, &row, deposits ? PA_FLOW_DEPOSIT : PA_FLOW_WITHDRAWAL);
                }
            }
            json_decref(doc);
            if (st == PA_EXCHANGE_OK)
                st = pa_bn_audit(r->t, r->audit, path, NULL, ++page, n, NULL, NULL);
            if (st != PA_EXCHANGE_OK)
                return st;
            if (n < PA_BN_FLOW_PAGE_LIMIT)
                break;
        }
    }
    return PA_EXCHANGE_OK;
}

/* One transfer type over the reach of the history, paged by `current`. */
static pa_exchange_status bn_transfers_of(bn_values_run *r, const char *type, const char *wallet)
{
    static const char path[] = "/sapi/v1/asset/transfer";
    int64_t lo = pa_now_ms() - PA_BN_TRANSFER_REACH_DAYS * PA_BN_DAY_MS;
    if (lo < r->from)
        lo = r->from;
    if (lo >= r->end)
        return PA_EXCHANGE_OK;
    for (unsigned current = 1;; current++) {
        char params[192];
        snprintf(params, sizeof params,
                 "type=%s&startTime=%" PRId64 "&endTime=%" PRId64 "&current=%u&size=%d", type, lo,
                 r->end - 1, current, PA_BN_TRANSFER_PAGE_SIZE);
        pa_exchange_status st = bn_page_budget(r);
        if (st != PA_EXCHANGE_OK)
            return st;
        json_t *doc = NULL;
        st = pa_bn_get(r->t, path, params, 1, PA_BN_BODY_CAP, &doc);
        if (st != PA_EXCHANGE_OK)
            return st;
        const json_t *total = json_object_get(doc, "total");
        const json_t *rows = json_object_get(doc, "rows");
        size_t n = json_array_size(rows);
        /* Binance leaves `rows` out when there are none */
        if (!json_is_integer(total) || json_integer_value(total) < 0 ||
            (rows != NULL && !json_is_array(rows)) || n > PA_BN_TRANSFER_PAGE_SIZE) {
            json_decref(doc);
            pa_exchange_detail(r->t->out,
                               "binance: %s is not {total, rows} with at most %d rows", path,
                               PA_BN_TRANSFER_PAGE_SIZE);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        json_int_t all = json_integer_value(total);
        for (size_t i = 0; st == PA_EXCHANGE_OK && i < n; i++) {
            pa_bn_flow_row row;
            if (pa_bn_decode_transfer(json_array_get(rows, i), type, wallet, &row) != 0) {
                pa_exchange_detail(r->t->out, "binance: %s has a malformed %s row", path, type);
                st = PA_EXCHANGE_BAD_RESPONSE;
            } else {
                st = bn_take_flow(r, &row, PA_FLOW_TRANSFER);
            }
        }
        json_decref(doc);
        if (st == PA_EXCHANGE_OK)
            st = pa_bn_audit(r->t, r->audit, path, type, current, n, NULL, NULL);
        if (st != PA_EXCHANGE_OK || n < PA_BN_TRANSFER_PAGE_SIZE ||
            (json_int_t)current * PA_BN_TRANSFER_PAGE_SIZE >= all)
            return st;
    }
}

static int cmp_flow(const void *a, const void *b)
{
    const pa_flow *x = a, *y = b;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = strcmp(x->asset, y->asset);
    return c != 0 ? c : pa_dec_cmp(x->amount, y->amount);
}

static pa_exchange_status bn_flows(bn_values_run *r, pa_bn_wallet wallet)
{
    pa_exchange_status st = PA_EXCHANGE_OK;
    if (wallet == PA_BN_WALLET_SPOT) {
        /* deposits and withdrawals reach the spot (or funding) wallet only */
        st = bn_capital_history(r, "/sapi/v1/capital/deposit/hisrec", 1);
        if (st == PA_EXCHANGE_OK)
            st = bn_capital_history(r, "/sapi/v1/capital/withdraw/history", 0);
    }
    const char *const *types = wallet == PA_BN_WALLET_SPOT ? bn_spot_transfers : bn_usdm_transfers;
    size_t ntypes = wallet == PA_BN_WALLET_SPOT ? PA_ARRAY_LEN(bn_spot_transfers)
                                                : PA_ARRAY_LEN(bn_usdm_transfers);
    const char *name = wallet == PA_BN_WALLET_SPOT ? "MAIN" : "UMFUTURE";
    for (size_t i = 0; st == PA_EXCHANGE_OK && i < ntypes; i++)
        st = bn_transfers_of(r, types[i], name);
    pa_flow_list *l = &r->t->out->values.flows;
    if (st == PA_EXCHANGE_OK && l->len > 1)
        qsort(l->v, l->len, sizeof *l->v, cmp_flow);
    return st;
}

/* ---- daily closes --------------------------------------------------------- */

static pa_exchange_status bn_closes(bn_values_run *r, pa_bn_prices *close_px)
{
    pa_exchange_result *out = r->t->out;
    int64_t now = pa_now_ms();
    int64_t d0 = pa_time_day(r->from), d1 = pa_time_day(r->end - 1);
    for (size_t i = 0; i < out->fills.len; i++) {
        const char *sym = out->fills.v[i].symbol;
        if (i > 0 && strcmp(out->fills.v[i - 1].symbol, sym) == 0)
            continue; /* fills are sorted by symbol: each symbol once */
        for (int64_t d = d0; d <= d1 && (d + 1) * PA_BN_DAY_MS <= now; d++) {
            pa_daily_close c = {.day = d};
            int found = 0;
            pa_exchange_status st =
                pa_bn_candle_price(close_px, sym, PA_BN_DAY_MS, d * PA_BN_DAY_MS, 1, &c.close,
                                   &found);
            if (st != PA_EXCHANGE_OK)
                return st;
            if (!found)
                continue;
            snprintf(c.symbol, sizeof c.symbol, "%s", sym);
            if (pa_close_push(&out->values.closes, &c) != 0)
                return bn_oom(r);
        }
    }
    return PA_EXCHANGE_OK;
}

pa_exchange_status pa_bn_fetch_values(pa_bn_transport *t, pa_audit_log *audit,
                                      pa_bn_prices *spot_px, pa_bn_prices *close_px,
                                      const pa_exchange_params *p, pa_bn_wallet wallet)
{
    int64_t now = pa_now_ms();
    bn_values_run r = {.t = t, .audit = audit, .px = spot_px, .p = p, .from = p->from_ms,
                       .end = p->to_ms < now ? p->to_ms : now};
    if (p->currency == NULL || !pa_bn_asset_ok(p->currency)) {
        pa_exchange_detail(t->out, "binance: no valid currency to value the account in");
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    if (r.from >= r.end) /* a window wholly in the future: nothing happened yet */
        return PA_EXCHANGE_OK;
    pa_exchange_status st = bn_equity(&r, wallet);
    if (st == PA_EXCHANGE_OK)
        st = bn_flows(&r, wallet);
    if (st == PA_EXCHANGE_OK)
        st = bn_closes(&r, close_px);
    return st;
}
