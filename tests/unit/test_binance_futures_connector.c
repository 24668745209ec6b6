/* The Binance USD-M futures connector (src/exchanges/binance/futures.c),
 * reached through the registry by account type, against a real simulator
 * process (tools/binance_sim.py) over a real socket: income paged by
 * startTime across pages that share a millisecond, fills found by 7-day
 * windows and paged by fromId, the 89-day reach, symbols from income or
 * from the client, and the failures the enclave maps to HTTP statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_dec.h"

#include "test_child.h"
#include "test_sim.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "binance.h"
#include "futures.h"
#include "merkle.h"
#include "pacing.h"
#include "registry.h"
#include "timeutil.h"

#define TIMEOUT_MS 5000L
#define DAY PA_BN_FUT_DAY_MS

static char g_base_url[64];
static pa_test_sim g_sim = {.pid = -1};
static int64_t g_now; /* when the accounts were written */

/* ---- the accounts -------------------------------------------------------- */

/* BTCUSDT: 1200 fills, three per millisecond-instant, from 60 days ago, one
 * every ~1.2 hours; every fill has a fee of (id % 7 + 1) / 1000 USDT, every
 * even id a realized PnL of (id % 11 - 5) / 100 (zero for id % 11 == 5, which
 * books no row). So income has > 1000 rows and its pages share instants. */
#define BTC_FILLS 1200
/* ETHUSDT: 3 fills; one fill 120 days ago (beyond the 89-day reach). */

static int64_t btc_time(int64_t id)
{
    return g_now - 60 * DAY + (id / 3) * 3600 * 1000 * 3 / 2;
}

static json_t *ftrade(const char *symbol, int64_t id, int64_t t, const char *pnl, const char *fee)
{
    return json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "symbol", symbol, "id",
                     (json_int_t)id, "orderId", (json_int_t)(id + 500000), "side",
                     id % 2 ? "BUY" : "SELL", "price", "60000.1", "qty", "0.002", "realizedPnl", pnl,
                     "commission", fee, "commissionAsset", "USDT", "time", (json_int_t)t);
}

static json_t *accounts_doc(void)
{
    json_t *trades = json_array();
    for (int64_t id = 1; id <= BTC_FILLS; id++) {
        char pnl[32], fee[32];
        long p = id % 2 == 0 ? (long)(id % 11) - 5 : 0;
        snprintf(pnl, sizeof pnl, "%s0.%02ld", p < 0 ? "-" : "", p < 0 ? -p : p);
        snprintf(fee, sizeof fee, "0.00%ld", (long)(id % 7 + 1));
        json_array_append_new(trades, ftrade("BTCUSDT", id, btc_time(id), pnl, fee));
    }
    json_array_append_new(trades, ftrade("ETHUSDT", 7, g_now - 120 * DAY, "1.5", "0.5"));
    json_array_append_new(trades, ftrade("ETHUSDT", 8, g_now - 30 * DAY, "0", "0.25"));
    json_array_append_new(trades, ftrade("ETHUSDT", 9, g_now - 2 * DAY, "2.75", "0.25"));
    json_t *funding = json_pack("[{s:s,s:s,s:I},{s:s,s:s,s:I}]", "symbol", "BTCUSDT", "income",
                                "-0.031", "time", (json_int_t)(g_now - 10 * DAY), "symbol",
                                "BTCUSDT", "income", "0.5", "time",
                                (json_int_t)(g_now - 100 * DAY));
    json_t *fut = json_pack("{s:{s:s},s:o,s:o}", "assets", "USDT", "1000", "trades", trades,
                            "funding", funding);
    json_t *accts = json_pack("[{s:s,s:s,s:o},{s:s,s:s},{s:s,s:s,s:s,s:{}}]", "api_key", "k-fut",
                              "api_secret", "s-fut", "futures", fut, "api_key", "k-spot-only",
                              "api_secret", "s-spot", "api_key", "k-fut-500", "api_secret",
                              "s-fut", "fault", "http500", "futures");
    /* A futures key that can trade (enableFutures), with a uid. */
    json_array_append_new(accts,
                          json_pack("{s:s,s:s,s:I,s:{s:b,s:b},s:{s:{s:s},s:[]}}", "api_key",
                                    "k-fut-trade", "api_secret", "s-fut-trade", "uid",
                                    (json_int_t)354937868, "api_restrictions", "enableReading", 1,
                                    "enableFutures", 1, "futures", "assets", "USDT", "10",
                                    "trades"));
    return json_pack("{s:o}", "accounts", accts);
}

/* ---- the simulator process ------------------------------------------------ */

static int sim_start(void **state)
{
    (void)state;
    g_now = pa_now_ms();
    if (pa_test_sim_up(&g_sim, "/tmp/pa_test_bnfut_XXXXXX", accounts_doc()) != 0)
        return -1;
    snprintf(g_base_url, sizeof g_base_url, "%s", g_sim.base_url);
    return 0;
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

static pa_exchange_status fetch(run *x, const char *key, const char *secret,
                                const char *const *syms, size_t n, int64_t from, int64_t to)
{
    pa_exchange_params p = {.base_url = g_base_url,
                            .api_key = key,
                            .api_secret = secret,
                            .symbols = syms,
                            .nsymbols = n,
                            .timeout_ms = TIMEOUT_MS,
                            .from_ms = from,
                            .to_ms = to,
                            .currency = "USDT"};
    pa_audit_init(&x->audit);
    const pa_connector *c = pa_connector_find_account("binance", "usdm");
    assert_ptr_equal(c, &pa_binance_usdm_connector);
    return c->fetch(&p, &x->audit, &x->r);
}

/* fetch with the key check's options and the account host. */
static pa_exchange_status fetch_key(run *x, const char *key, const char *secret, int read_only,
                                    int want_uid, const char *account_base_url)
{
    pa_exchange_params p = {.base_url = g_base_url,
                            .account_base_url = account_base_url,
                            .api_key = key,
                            .api_secret = secret,
                            .timeout_ms = TIMEOUT_MS,
                            .max_wait_ms = 2000,
                            .from_ms = g_now - DAY,
                            .to_ms = g_now,
                            .currency = "USDT",
                            .require_read_only = read_only,
                            .want_account_uid = want_uid};
    pa_audit_init(&x->audit);
    return pa_binance_usdm_connector.fetch(&p, &x->audit, &x->r);
}

static void run_free(run *x)
{
    pa_exchange_result_free(&x->r);
    pa_audit_free(&x->audit);
}

static size_t count_entries(const run *x, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < x->audit.len; i++)
        n += strstr(x->audit.entries[i], needle) != NULL;
    return n;
}

/* ---- tests ------------------------------------------------------------------ */

/* A year's window: covered from 89 days back; every BTCUSDT fill and income
 * row once, ETHUSDT's old fill and the old funding left out. */
static void test_history_from_income(void **state)
{
    (void)state;
    pa_pace_reset();
    run x = {0};
    int64_t before = pa_now_ms();
    assert_int_equal(fetch(&x, "k-fut", "s-fut", NULL, 0, g_now - 365 * DAY, g_now + 1000),
                     PA_EXCHANGE_OK);
    int64_t after = pa_now_ms();
    assert_string_equal(x.r.symbol_source, "income");
    assert_int_equal(x.r.nsymbols, 2);
    assert_string_equal(x.r.symbols[0], "BTCUSDT");
    assert_string_equal(x.r.symbols[1], "ETHUSDT");
    assert_true(x.r.history_from_ms >= before - 89 * DAY && x.r.history_from_ms <= after - 89 * DAY);

    /* Fills: all of BTCUSDT, ETHUSDT ids 8 and 9; sorted by (symbol, id), unique. */
    assert_int_equal(x.r.fills.len, BTC_FILLS + 2);
    for (size_t i = 0; i < BTC_FILLS; i++) {
        assert_string_equal(x.r.fills.v[i].symbol, "BTCUSDT");
        assert_int_equal(x.r.fills.v[i].id, (int64_t)i + 1);
        assert_int_equal(x.r.fills.v[i].time_ms, btc_time((int64_t)i + 1));
    }
    assert_int_equal(x.r.fills.v[BTC_FILLS].id, 8);
    assert_int_equal(x.r.fills.v[BTC_FILLS + 1].id, 9);

    /* Income: a commission row per fill, a PnL row per non-zero PnL, one
     * funding row; each once although pages overlap by an instant. */
    size_t commission = 0, pnl_rows = 0, funding = 0;
    pa_dec fees = pa_dec_from_int(0), pnl = pa_dec_from_int(0);
    for (size_t i = 0; i < x.r.income.len; i++) {
        const pa_income *r = &x.r.income.v[i];
        assert_true(r->time_ms >= x.r.history_from_ms);
        if (i > 0)
            assert_true(r->time_ms >= x.r.income.v[i - 1].time_ms);
        if (r->type == PA_INCOME_COMMISSION) {
            commission++;
            assert_int_equal(pa_dec_add(fees, r->amount, &fees), 0);
        } else if (r->type == PA_INCOME_REALIZED_PNL) {
            pnl_rows++;
            assert_int_equal(pa_dec_add(pnl, r->amount, &pnl), 0);
        } else if (r->type == PA_INCOME_FUNDING_FEE) {
            funding++;
            assert_dec(r->amount, "-0.031");
        }
    }
    long want_fee_milli = 0, want_pnl_cents = 0;
    size_t want_pnl_rows = 0;
    for (long id = 1; id <= BTC_FILLS; id++) {
        want_fee_milli += id % 7 + 1;
        long p = id % 2 == 0 ? id % 11 - 5 : 0;
        want_pnl_cents += p;
        want_pnl_rows += p != 0;
    }
    assert_int_equal(commission, BTC_FILLS + 2);
    assert_int_equal(pnl_rows, want_pnl_rows + 1); /* ETHUSDT id 9 */
    assert_int_equal(funding, 1);
    char want[64];
    /* fees: BTC's plus ETH's 0.25 + 0.25, negated */
    snprintf(want, sizeof want, "-%ld.%03ld", (want_fee_milli + 500) / 1000,
             (want_fee_milli + 500) % 1000);
    pa_dec w;
    assert_int_equal(pa_dec_parse_str(want, PA_DEC_NEG, &w), 0);
    assert_int_equal(pa_dec_cmp(fees, w), 0);
    long cents = want_pnl_cents + 275;
    snprintf(want, sizeof want, "%s%ld.%02ld", cents < 0 ? "-" : "", labs(cents) / 100,
             labs(cents) % 100);
    assert_int_equal(pa_dec_parse_str(want, PA_DEC_NEG, &w), 0);
    assert_int_equal(pa_dec_cmp(pnl, w), 0);

    /* One audit entry per page: income took more than one page, the fills
     * windows of 7 days and fromId pages. */
    assert_int_equal(count_entries(&x, "\"endpoint\":\"/fapi/v1/income\""), 2);
    assert_int_equal(count_entries(&x, "\"endpoint\":\"/fapi/v1/exchangeInfo\""), 1);
    /* BTCUSDT: 4 empty weeks (from 89 days back to 61), the one holding
     * the first fill (60 days back), then 2 fromId pages (1000 + 200). */
    assert_int_equal(count_entries(&x, "\"symbol\":\"BTCUSDT\""), 7);
    run_free(&x);
}

/* The client's symbols: just those fills; the window cuts them. */
static void test_client_symbols_and_window(void **state)
{
    (void)state;
    pa_pace_reset();
    static const char *const syms[] = {"ETHUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-fut", "s-fut", syms, 1, g_now - 5 * DAY, g_now),
                     PA_EXCHANGE_OK);
    assert_string_equal(x.r.symbol_source, "client");
    assert_int_equal(x.r.history_from_ms, g_now - 5 * DAY);
    assert_int_equal(x.r.fills.len, 1);
    assert_int_equal(x.r.fills.v[0].id, 9);
    /* Income is the account's, whatever the symbols: here ETH's id 9 rows and
     * the BTCUSDT fills of the last 5 days. */
    for (size_t i = 0; i < x.r.income.len; i++)
        assert_true(x.r.income.v[i].time_ms >= g_now - 5 * DAY);
    run_free(&x);
}

static void test_window_beyond_reach(void **state)
{
    (void)state;
    run x = {0};
    assert_int_equal(fetch(&x, "k-fut", "s-fut", NULL, 0, g_now - 200 * DAY, g_now - 100 * DAY),
                     PA_EXCHANGE_BAD_WINDOW);
    assert_non_null(strstr(x.r.detail, "89 days"));
    assert_int_equal(x.audit.len, 0); /* refused before any call */
    run_free(&x);
}

/* A key without a futures account: Binance's -2015. */
static void test_no_futures_account(void **state)
{
    (void)state;
    pa_pace_reset();
    run x = {0};
    assert_int_equal(fetch(&x, "k-spot-only", "s-spot", NULL, 0, g_now - DAY, g_now),
                     PA_EXCHANGE_REJECTED_KEY);
    assert_int_equal(x.r.fills.len, 0);
    assert_int_equal(x.r.income.len, 0);
    run_free(&x);
    assert_int_equal(fetch(&x, "k-fut", "wrong-secret", NULL, 0, g_now - DAY, g_now),
                     PA_EXCHANGE_REJECTED_KEY);
    run_free(&x);
}

/* apiRestrictions covers futures: a key that can trade futures is refused
 * before any futures history is read; the check and the uid are asked on
 * the account (spot) host. */
static void test_key_check(void **state)
{
    (void)state;
    pa_pace_reset();
    run x = {0};
    assert_int_equal(fetch_key(&x, "k-fut-trade", "s-fut-trade", 1, 1, NULL),
                     PA_EXCHANGE_KEY_NOT_READ_ONLY);
    assert_non_null(strstr(x.r.detail, "futures"));
    assert_int_equal(x.audit.len, 0);
    assert_int_equal(x.r.income.len, 0);
    assert_string_equal(x.r.account_uid, "");
    run_free(&x);
    /* Off (development only): the rights and the uid are reported. */
    run y = {0};
    assert_int_equal(fetch_key(&y, "k-fut-trade", "s-fut-trade", 0, 1, g_base_url),
                     PA_EXCHANGE_OK);
    assert_true(y.r.key_permissions.known && y.r.key_permissions.futures &&
                y.r.key_permissions.read);
    assert_false(y.r.key_permissions.spot_trade || y.r.key_permissions.withdraw);
    assert_string_equal(y.r.account_uid, "354937868");
    run_free(&y);
    /* A read-only key passes; without want_uid no uid. */
    run z = {0};
    assert_int_equal(fetch_key(&z, "k-fut", "s-fut", 1, 0, NULL), PA_EXCHANGE_OK);
    assert_true(z.r.key_permissions.known && z.r.key_permissions.read);
    assert_false(pa_key_permissions_move_money(&z.r.key_permissions));
    assert_string_equal(z.r.account_uid, "");
    assert_true(z.audit.len > 0); /* the futures history was read */
    run_free(&z);
    /* The check goes to the account host: nothing listens there, so the run
     * fails before the futures host is asked. */
    run w = {0};
    assert_int_equal(fetch_key(&w, "k-fut", "s-fut", 1, 0, "http://127.0.0.1:1"),
                     PA_EXCHANGE_UNAVAILABLE);
    assert_int_equal(w.audit.len, 0);
    assert_int_equal(w.r.income.len, 0);
    run_free(&w);
}

/* 5xx on every signed call: retried, then unavailable, nothing kept. */
static void test_server_errors(void **state)
{
    (void)state;
    pa_pace_reset();
    run x = {0};
    assert_int_equal(fetch(&x, "k-fut-500", "s-fut", NULL, 0, g_now - DAY, g_now),
                     PA_EXCHANGE_UNAVAILABLE);
    assert_int_equal(x.r.income.len, 0);
    assert_null(x.r.income.v);
    assert_true(x.r.detail[0] != '\0');
    run_free(&x);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_from_income),
        cmocka_unit_test(test_client_symbols_and_window),
        cmocka_unit_test(test_window_beyond_reach),
        cmocka_unit_test(test_no_futures_account),
        cmocka_unit_test(test_server_errors),
        cmocka_unit_test(test_key_check),
    };
    int failed = cmocka_run_group_tests(tests, sim_start, sim_stop);
    curl_global_cleanup();
    return failed;
}
