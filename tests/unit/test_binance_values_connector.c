/* The Binance connectors' prices and account values against a simulator
 * process (tools/binance_sim.py) over a real socket: fees paid in a third
 * asset priced from the hour klines (direct, through BTC, or not at all),
 * the spot account's daily equity from its snapshots, its deposits,
 * withdrawals and transfers valued at their time, the daily closes of its
 * symbols, the same for a USD-M account, and a history page that fails for
 * good. Expected figures are computed here from the accounts file this test
 * writes, never copied from a run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_dec.h"

#include "test_child.h"
#include "test_sim.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"
#include "merkle.h"
#include "pacing.h"
#include "registry.h"
#include "timeutil.h"

#define TIMEOUT_MS 5000L
#define HOUR 3600000LL
#define DAY 86400000LL

static pa_test_sim g_sim = {.pid = -1};
static int64_t g_today; /* pa_time_day(now) when the accounts were written */
static int64_t g_ta;    /* an hour boundary 10 days back: the fee fills' hour */

/* Fixed prices (const) and BNBUSDT's step at g_ta + 1 h. */
#define BTC_USDT "50000"
#define ETH_BTC "0.05"

/* ---- the accounts file ------------------------------------------------------ */

static json_t *trade(const char *symbol, int64_t id, const char *price, const char *qty,
                     const char *quote_qty, const char *fee, const char *fee_asset, int64_t time,
                     int is_buyer)
{
    return json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:b,s:b}", "symbol", symbol, "id",
                     (json_int_t)id, "orderId", (json_int_t)(id + 1000), "price", price, "qty",
                     qty, "quoteQty", quote_qty, "commission", fee, "commissionAsset", fee_asset,
                     "time", (json_int_t)time, "isBuyer", is_buyer, "isMaker", 0, "isBestMatch",
                     1);
}

/* The flows of k-values, relative to g_today (days) — one table both the
 * accounts file and the expected values are made from. */
typedef struct {
    const char *what; /* "deposit" "withdrawal" "transfer" */
    const char *asset;
    const char *amount;
    const char *fee;    /* withdrawal fee */
    const char *type;   /* transfer type */
    const char *status; /* NULL: the simulator's default (credited / completed / CONFIRMED) */
    int day;            /* days before today */
    int hour;
} flow_spec;

static const flow_spec g_flows[] = {
    {"deposit", "USDT", "500", NULL, NULL, NULL, 10, 5},
    {"deposit", "BTC", "0.01", NULL, NULL, NULL, 8, 3},
    {"withdrawal", "USDT", "100", "1", NULL, NULL, 6, 2},
    {"withdrawal", "USDT", "70", "1", NULL, "3", 6, 4}, /* rejected: nothing left */
    {"transfer", "USDT", "200", NULL, "MAIN_UMFUTURE", NULL, 5, 1},
    {"transfer", "USDT", "50", NULL, "UMFUTURE_MAIN", NULL, 4, 0},
    {"transfer", "USDT", "30", NULL, "MAIN_FUNDING", "PENDING", 4, 6}, /* moved nothing */
    {"deposit", "XYZ", "5", NULL, NULL, NULL, 3, 0}, /* no market prices XYZ */
};
#define OPENING_USDT "1000"
/* one spot fill of k-values: buy 0.002 BTC @ 50000 (100 USDT), fee 0.1 USDT */
#define VFILL_DAY 7
#define VFILL_HOUR 1

static int64_t flow_time(const flow_spec *f)
{
    return (g_today - f->day) * DAY + f->hour * HOUR;
}

static json_t *values_account(void)
{
    json_t *deps = json_array(), *wds = json_array(), *trs = json_array();
    for (size_t i = 0; i < PA_ARRAY_LEN(g_flows); i++) {
        const flow_spec *f = &g_flows[i];
        json_int_t t = (json_int_t)flow_time(f);
        json_t *row;
        if (strcmp(f->what, "deposit") == 0) {
            row = json_pack("{s:s,s:s,s:I}", "coin", f->asset, "amount", f->amount, "time", t);
            json_array_append_new(deps, row);
        } else if (strcmp(f->what, "withdrawal") == 0) {
            row = json_pack("{s:s,s:s,s:s,s:I}", "coin", f->asset, "amount", f->amount,
                            "transactionFee", f->fee, "time", t);
            if (f->status != NULL)
                json_object_set_new(row, "status", json_integer(atoi(f->status)));
            json_array_append_new(wds, row);
        } else {
            row = json_pack("{s:s,s:s,s:s,s:I}", "type", f->type, "asset", f->asset, "amount",
                            f->amount, "time", t);
            if (f->status != NULL)
                json_object_set_new(row, "status", json_string(f->status));
            json_array_append_new(trs, row);
        }
    }
    json_t *trades = json_array();
    int64_t tf = (g_today - VFILL_DAY) * DAY + VFILL_HOUR * HOUR;
    json_array_append_new(trades, trade("BTCUSDT", 1, BTC_USDT, "0.002", "100", "0.1", "USDT", tf, 1));
    return json_pack("{s:s,s:s,s:{s:s},s:o,s:o,s:o,s:o}", "api_key", "k-values", "api_secret",
                     "s-values", "opening_balances", "USDT", OPENING_USDT, "deposits", deps,
                     "withdrawals", wds, "transfers", trs, "trades", trades);
}

static json_t *accounts_doc(void)
{
    json_t *accts = json_array();
    /* k-fees: BTCUSDT fills whose fees are paid in BNB (BNBUSDT), ETH (no
     * ETHUSDT: through ETHBTC and BTCUSDT) and XYZ (no market at all); one
     * more BNB fee before the window (never priced). */
    json_t *trades = json_array();
    json_array_append_new(trades, trade("BTCUSDT", 1, BTC_USDT, "0.1", "5000", "0.01", "BNB",
                                        g_ta + 30 * 60000, 1));
    json_array_append_new(trades, trade("BTCUSDT", 2, BTC_USDT, "0.1", "5000", "0.02", "BNB",
                                        g_ta + HOUR + 10 * 60000, 0));
    json_array_append_new(trades, trade("BTCUSDT", 3, BTC_USDT, "0.1", "5000", "0.1", "ETH",
                                        g_ta + 2 * HOUR, 1));
    json_array_append_new(trades, trade("BTCUSDT", 4, BTC_USDT, "0.1", "5000", "0.5", "XYZ",
                                        g_ta + 3 * HOUR, 0));
    json_array_append_new(trades, trade("BTCUSDT", 5, BTC_USDT, "0.1", "5000", "0.03", "BNB",
                                        g_ta - 5 * DAY, 1));
    json_array_append_new(accts, json_pack("{s:s,s:s,s:{s:s,s:s},s:o}", "api_key", "k-fees",
                                           "api_secret", "s-fees", "balances", "BTC", "1", "USDT",
                                           "1", "trades", trades));
    json_array_append_new(accts, values_account());
    /* k-usdm: a USD-M wallet of 1000 USDT, 200 more moved in from spot */
    json_array_append_new(
        accts, json_pack("{s:s,s:s,s:{s:s},s:[{s:s,s:s,s:s,s:I}],s:{s:{s:s},s:[]}}", "api_key",
                         "k-usdm", "api_secret", "s-usdm", "opening_balances", "USDT", "5000",
                         "transfers", "type", "MAIN_UMFUTURE", "asset", "USDT", "amount", "200",
                         "time", (json_int_t)((g_today - 5) * DAY + HOUR), "futures",
                         "opening_assets", "USDT", "1000", "trades"));
    /* k-fail: like k-values, but every accountSnapshot call fails (config.rules) */
    json_t *fail = values_account();
    json_object_set_new(fail, "api_key", json_string("k-fail"));
    json_object_set_new(fail, "api_secret", json_string("s-fail"));
    json_array_append_new(accts, fail);

    json_t *symbols = json_array();
    static const char *const syms[][3] = {
        {"BTCUSDT", "BTC", "USDT"}, {"BNBUSDT", "BNB", "USDT"}, {"ETHBTC", "ETH", "BTC"}};
    for (size_t i = 0; i < PA_ARRAY_LEN(syms); i++)
        json_array_append_new(symbols, json_pack("{s:s,s:s,s:s,s:s}", "symbol", syms[i][0],
                                                 "baseAsset", syms[i][1], "quoteAsset",
                                                 syms[i][2], "status", "TRADING"));
    json_t *prices = json_pack("{s:s,s:s,s:{s:[[I,s],[I,s]]}}", "BTCUSDT", BTC_USDT, "ETHBTC",
                               ETH_BTC, "BNBUSDT", "points", (json_int_t)(g_ta - 30 * DAY), "500",
                               (json_int_t)(g_ta + HOUR), "600");
    /* the wallet endpoints weigh a lot (a snapshot 2400): room for every test */
    json_t *config = json_pack("{s:{s:i,s:i},s:[{s:s,s:s,s:i}]}", "limits", "sapi", 10000000,
                               "api", 10000000, "rules", "path", "/sapi/v1/accountSnapshot",
                               "api_key", "k-fail", "status", 500);
    return json_pack("{s:o,s:o,s:o,s:o}", "accounts", accts, "symbols", symbols, "prices", prices,
                     "config", config);
}

static int sim_start(void **state)
{
    (void)state;
    g_today = pa_time_day(pa_now_ms());
    g_ta = (g_today - 10) * DAY + 9 * HOUR;
    return pa_test_sim_up(&g_sim, "/tmp/pa_test_values_XXXXXX", accounts_doc());
}

static int sim_stop(void **state)
{
    (void)state;
    pa_test_sim_down(&g_sim);
    return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

typedef struct {
    pa_audit_log audit;
    pa_exchange_result r;
} run;

static pa_exchange_status fetch(run *x, const char *account_type, const char *key,
                                const char *secret, int want_values, int64_t from, int64_t to)
{
    static const char *const syms[] = {"BTCUSDT"};
    pa_exchange_params p = {.base_url = g_sim.base_url,
                            .account_base_url = g_sim.base_url,
                            .api_key = key,
                            .api_secret = secret,
                            .symbols = account_type == NULL ? syms : NULL,
                            .nsymbols = account_type == NULL ? 1 : 0,
                            .currency = "USDT",
                            .weight_budget = 1000000,
                            .timeout_ms = TIMEOUT_MS,
                            .want_values = want_values,
                            .from_ms = from,
                            .to_ms = to};
    pa_audit_init(&x->audit);
    const pa_connector *c = pa_connector_find_account("binance", account_type);
    assert_non_null(c);
    return c->fetch(&p, &x->audit, &x->r);
}

static void run_free(run *x)
{
    pa_exchange_result_free(&x->r);
    pa_audit_free(&x->audit);
}

/* Audit entries of endpoint (and symbol, when given). */
static size_t count_entries(const run *x, const char *endpoint, const char *symbol)
{
    char e[128], s[64];
    snprintf(e, sizeof e, "\"endpoint\":\"%s\"", endpoint);
    snprintf(s, sizeof s, "\"symbol\":\"%s\"", symbol ? symbol : "");
    size_t n = 0;
    for (size_t i = 0; i < x->audit.len; i++)
        if (strstr(x->audit.entries[i], e) != NULL &&
            (symbol == NULL || strstr(x->audit.entries[i], s) != NULL))
            n++;
    return n;
}

static const pa_fill *fill_id(const run *x, int64_t id)
{
    for (size_t i = 0; i < x->r.fills.len; i++)
        if (x->r.fills.v[i].id == id)
            return &x->r.fills.v[i];
    fail_msg("no fill %lld", (long long)id);
    return NULL;
}

static pa_dec mul(const char *a, const char *b)
{
    pa_dec r;
    assert_int_equal(pa_dec_mul(dec(a), dec(b), &r), 0);
    return r;
}

static void assert_dec_eq(pa_dec a, pa_dec b)
{
    char sa[PA_DEC_STR_MAX], sb[PA_DEC_STR_MAX];
    pa_dec_format(a, sa);
    pa_dec_format(b, sb);
    if (strcmp(sa, sb) != 0)
        fail_msg("%s != %s", sa, sb);
}

/* ---- fees in a third asset ---------------------------------------------------- */

static void test_fees_priced(void **state)
{
    (void)state;
    run x;
    int64_t from = g_ta - DAY, to = g_ta + DAY;
    assert_int_equal(fetch(&x, NULL, "k-fees", "s-fees", 0, from, to), PA_EXCHANGE_OK);
    /* BNB at the open of the fill's hour: 500 before g_ta + 1 h, 600 from then */
    const pa_fill *f = fill_id(&x, 1);
    assert_int_equal(f->fee_priced, 1);
    assert_dec_eq(f->fee_quote, mul("0.01", "500"));
    f = fill_id(&x, 2);
    assert_int_equal(f->fee_priced, 1);
    assert_dec_eq(f->fee_quote, mul("0.02", "600"));
    /* ETH: no ETHUSDT; ETHBTC then BTCUSDT */
    f = fill_id(&x, 3);
    assert_int_equal(f->fee_priced, 1);
    pa_dec btc = pa_dec_round8(mul("0.1", ETH_BTC)), want;
    assert_int_equal(pa_dec_mul(btc, dec(BTC_USDT), &want), 0);
    assert_dec_eq(f->fee_quote, want);
    /* XYZ: no market prices it */
    assert_int_equal(fill_id(&x, 4)->fee_priced, 0);
    /* before the window: the aggregate does not count it, so it is not priced */
    assert_int_equal(fill_id(&x, 5)->fee_priced, 0);
    /* one BNBUSDT hour page serves both BNB fees (the cache); the routes
     * that do not exist are asked once and logged with count 0 */
    assert_int_equal(count_entries(&x, "/api/v3/klines", "BNBUSDT"), 1);
    /* the page starts at the first fee's hour: its open time is first_id */
    char want_first[64];
    snprintf(want_first, sizeof want_first, "\"first_id\":%lld", (long long)g_ta);
    int seen = 0;
    for (size_t i = 0; i < x.audit.len; i++) {
        const char *e = x.audit.entries[i];
        if (strstr(e, "\"symbol\":\"BNBUSDT\"") != NULL) {
            assert_non_null(strstr(e, want_first));
            assert_non_null(strstr(e, "\"page\":1,"));
            seen = 1;
        }
        if (strstr(e, "\"symbol\":\"XYZUSDT\"") != NULL) /* not listed: nothing on it */
            assert_non_null(strstr(e, "\"count\":0"));
    }
    assert_true(seen);
    assert_int_equal(count_entries(&x, "/api/v3/klines", "ETHUSDT"), 1);
    assert_int_equal(count_entries(&x, "/api/v3/klines", "ETHBTC"), 1);
    assert_int_equal(count_entries(&x, "/api/v3/klines", "XYZUSDT"), 1);
    assert_int_equal(count_entries(&x, "/api/v3/klines", "XYZBTC"), 1);
    /* without want_values nothing else is fetched */
    assert_int_equal(count_entries(&x, "/sapi/v1/accountSnapshot", NULL), 0);
    assert_int_equal(x.r.values.equity.len + x.r.values.flows.len + x.r.values.closes.len, 0);
    run_free(&x);
}

/* ---- spot equity, flows and closes ---------------------------------------------- */

/* Expected spot balances at the end of day d, from the same tables as the
 * accounts file; *priceable 0 when XYZ is held. */
static pa_dec expected_equity(int64_t d, int *priceable)
{
    pa_dec usdt = dec(OPENING_USDT), btc = dec("0"), xyz = dec("0"), v;
    int64_t end = (d + 1) * DAY;
    for (size_t i = 0; i < PA_ARRAY_LEN(g_flows); i++) {
        const flow_spec *f = &g_flows[i];
        if (flow_time(f) >= end)
            continue;
        pa_dec *bal = strcmp(f->asset, "USDT") == 0 ? &usdt : strcmp(f->asset, "BTC") == 0 ? &btc : &xyz;
        pa_dec amt = dec(f->amount);
        if (strcmp(f->what, "deposit") == 0) {
            assert_int_equal(pa_dec_add(*bal, amt, bal), 0);
        } else if (strcmp(f->what, "withdrawal") == 0) {
            if (f->status != NULL) /* rejected */
                continue;
            assert_int_equal(pa_dec_sub(*bal, amt, bal), 0);
            assert_int_equal(pa_dec_sub(*bal, dec(f->fee), bal), 0);
        } else {
            if (f->status != NULL) /* pending */
                continue;
            if (strncmp(f->type, "MAIN_", 5) == 0)
                assert_int_equal(pa_dec_sub(*bal, amt, bal), 0);
            else
                assert_int_equal(pa_dec_add(*bal, amt, bal), 0);
        }
    }
    if ((g_today - VFILL_DAY) * DAY + VFILL_HOUR * HOUR < end) { /* the buy */
        assert_int_equal(pa_dec_add(btc, dec("0.002"), &btc), 0);
        assert_int_equal(pa_dec_sub(usdt, dec("100.1"), &usdt), 0);
    }
    *priceable = pa_dec_sign(xyz) == 0;
    assert_int_equal(pa_dec_mul(btc, dec(BTC_USDT), &v), 0);
    assert_int_equal(pa_dec_add(v, usdt, &v), 0);
    return v;
}

static void test_spot_values(void **state)
{
    (void)state;
    run x;
    int64_t from = (g_today - 20) * DAY, to = pa_now_ms();
    assert_int_equal(fetch(&x, NULL, "k-values", "s-values", 1, from, to), PA_EXCHANGE_OK);
    const pa_account_values *v = &x.r.values;

    /* equity: every completed day of the window the snapshots price; the
     * days XYZ is held are left out, never guessed */
    size_t k = 0;
    for (int64_t d = g_today - 20; d < g_today; d++) {
        int ok = 0;
        pa_dec want = expected_equity(d, &ok);
        if (!ok)
            continue;
        assert_true(k < v->equity.len);
        assert_int_equal(v->equity.v[k].day, d);
        assert_dec_eq(v->equity.v[k].equity, want);
        k++;
    }
    assert_int_equal(v->equity.len, k);
    assert_true(k >= 15);

    /* flows: time order, valued at their hour (BTC at 50000), the XYZ
     * deposit counted as unvalued; the rejected withdrawal and the pending
     * transfer are no flows */
    static const struct {
        int idx;
        pa_flow_kind kind;
        const char *value;
    } want[] = {{0, PA_FLOW_DEPOSIT, "500"},     {1, PA_FLOW_DEPOSIT, NULL},
                {2, PA_FLOW_WITHDRAWAL, "-101"}, {4, PA_FLOW_TRANSFER, "-200"},
                {5, PA_FLOW_TRANSFER, "50"}};
    assert_int_equal(v->flows.len, PA_ARRAY_LEN(want));
    for (size_t i = 0; i < PA_ARRAY_LEN(want); i++) {
        const pa_flow *f = &v->flows.v[i];
        assert_int_equal(f->time_ms, flow_time(&g_flows[want[i].idx]));
        assert_int_equal(f->kind, want[i].kind);
        assert_string_equal(f->asset, g_flows[want[i].idx].asset);
        if (want[i].value != NULL)
            assert_dec_eq(f->amount, dec(want[i].value));
        else
            assert_dec_eq(f->amount, mul("0.01", BTC_USDT));
    }
    assert_int_equal(v->unvalued_flows, 1);

    /* daily closes of the one symbol with fills, every completed day */
    assert_int_equal(v->closes.len, 20);
    for (size_t i = 0; i < v->closes.len; i++) {
        assert_string_equal(v->closes.v[i].symbol, "BTCUSDT");
        assert_int_equal(v->closes.v[i].day, g_today - 20 + (int64_t)i);
        assert_dec_eq(v->closes.v[i].close, dec(BTC_USDT));
    }

    /* one audit entry per page: a snapshot, one window each of deposits and
     * withdrawals (20 days < 90), one page per transfer type */
    assert_int_equal(count_entries(&x, "/sapi/v1/accountSnapshot", NULL), 1);
    assert_int_equal(count_entries(&x, "/sapi/v1/capital/deposit/hisrec", NULL), 1);
    assert_int_equal(count_entries(&x, "/sapi/v1/capital/withdraw/history", NULL), 1);
    assert_int_equal(count_entries(&x, "/sapi/v1/asset/transfer", NULL), 12);
    assert_int_equal(count_entries(&x, "/sapi/v1/asset/transfer", "MAIN_UMFUTURE"), 1);
    run_free(&x);
}

/* A 200-day window: deposits and withdrawals in three windows under 90
 * days each; equity only where the snapshots reach (the last month). */
static void test_spot_values_long_window(void **state)
{
    (void)state;
    run x;
    int64_t from = (g_today - 200) * DAY, to = pa_now_ms();
    assert_int_equal(fetch(&x, NULL, "k-values", "s-values", 1, from, to), PA_EXCHANGE_OK);
    assert_int_equal(count_entries(&x, "/sapi/v1/capital/deposit/hisrec", NULL), 3);
    assert_int_equal(count_entries(&x, "/sapi/v1/capital/withdraw/history", NULL), 3);
    assert_int_equal(x.r.values.flows.len, 5);
    assert_true(x.r.values.equity.len > 0);
    assert_true(x.r.values.equity.v[0].day >= g_today - 30);
    assert_int_equal(x.r.values.closes.len, 200);
    run_free(&x);
}

static void test_values_page_fails(void **state)
{
    (void)state;
    run x;
    int64_t from = (g_today - 20) * DAY, to = pa_now_ms();
    assert_int_equal(fetch(&x, NULL, "k-fail", "s-fail", 1, from, to), PA_EXCHANGE_UNAVAILABLE);
    /* nothing half-fetched is left: no fills, no values, only the reason */
    assert_int_equal(x.r.fills.len, 0);
    assert_int_equal(x.r.values.equity.len + x.r.values.flows.len + x.r.values.closes.len, 0);
    assert_non_null(strstr(x.r.detail, "/sapi/v1/accountSnapshot"));
    run_free(&x);
}

/* ---- USD-M ------------------------------------------------------------------------- */

static void test_usdm_values(void **state)
{
    (void)state;
    run x;
    int64_t from = (g_today - 20) * DAY, to = pa_now_ms();
    assert_int_equal(fetch(&x, "usdm", "k-usdm", "s-usdm", 1, from, to), PA_EXCHANGE_OK);
    const pa_account_values *v = &x.r.values;
    /* the USD-M wallet: 1000 USDT, 1200 from the end of the transfer's day */
    assert_int_equal(v->equity.len, 20);
    for (size_t i = 0; i < v->equity.len; i++) {
        int64_t d = g_today - 20 + (int64_t)i;
        assert_int_equal(v->equity.v[i].day, d);
        assert_dec_eq(v->equity.v[i].equity, dec(d >= g_today - 5 ? "1200" : "1000"));
    }
    /* the transfer into USD-M is its one flow; deposits and withdrawals
     * reach the spot wallet only and are not asked */
    assert_int_equal(v->flows.len, 1);
    assert_int_equal(v->flows.v[0].kind, PA_FLOW_TRANSFER);
    assert_dec_eq(v->flows.v[0].amount, dec("200"));
    assert_int_equal(v->unvalued_flows, 0);
    assert_int_equal(count_entries(&x, "/sapi/v1/capital/deposit/hisrec", NULL), 0);
    assert_int_equal(count_entries(&x, "/sapi/v1/asset/transfer", NULL), 8);
    assert_int_equal(count_entries(&x, "/sapi/v1/accountSnapshot", NULL), 1);
    assert_int_equal(v->closes.len, 0); /* no fills, no symbols to mark */
    run_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fees_priced),
        cmocka_unit_test(test_spot_values),
        cmocka_unit_test(test_spot_values_long_window),
        cmocka_unit_test(test_values_page_fails),
        cmocka_unit_test(test_usdm_values),
    };
    pa_pace_reset();
    return cmocka_run_group_tests(tests, sim_start, sim_stop);
}
