/* Binance USD-M futures answers decoded by src/exchanges/binance/futures_wire.c,
 * on the bodies Binance documents (tests/data/binance/futures_*.json, see
 * the README there) and malformed variants of them; plus the covered window
 * of src/exchanges/binance/futures.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_dec.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "futures.h"
#include "futures_wire.h"

#define DATA PA_SOURCE_DIR "/tests/data/binance/"

static json_t *load(const char *name)
{
    json_error_t err;
    char path[512];
    snprintf(path, sizeof path, DATA "%s", name);
    json_t *j = json_load_file(path, JSON_DECODE_ANY, &err);
    if (j == NULL)
        fail_msg("%s: %s (line %d)", path, err.text, err.line);
    return j;
}

static const pa_bn_market btcusdt = {"BTCUSDT", "BTC", "USDT", 1};

static void test_trade_documented(void **state)
{
    (void)state;
    json_t *doc = load("futures_userTrades.json");
    assert_int_equal(json_array_size(doc), 1);
    pa_fill f;
    assert_int_equal(pa_bn_decode_futures_trade(json_array_get(doc, 0), &btcusdt, &f), 0);
    assert_string_equal(f.symbol, "BTCUSDT");
    assert_string_equal(f.base, "BTC");
    assert_string_equal(f.quote, "USDT");
    assert_int_equal(f.id, 698759);
    assert_int_equal(f.time_ms, 1569514978020LL);
    assert_int_equal(f.is_buyer, 0);
    assert_dec(f.price, "7819.01");
    assert_dec(f.qty, "0.002");
    assert_dec(f.quote_qty, "15.63802");
    assert_dec(f.commission, "-0.0781901");
    assert_string_equal(f.commission_asset, "USDT");

    /* Another contract's row is not this contract's fill. */
    static const pa_bn_market ethusdt = {"ETHUSDT", "ETH", "USDT", 1};
    assert_int_equal(pa_bn_decode_futures_trade(json_array_get(doc, 0), &ethusdt, &f), -1);
    json_decref(doc);
}

/* Each field broken in turn fails the row. */
static void test_trade_malformed(void **state)
{
    (void)state;
    static const char *const breaks[][2] = {
        {"buyer", "\"false\""},     {"id", "-1"},          {"id", "1.5"},
        {"time", "\"1569514978020\""}, {"price", "7819.01"}, {"price", "\"-7819.01\""},
        {"qty", "\"1e3\""},         {"quoteQty", "null"},  {"commission", "\"0.1.2\""},
        {"commissionAsset", "\"usdt\""}, {"id", "9007199254740993"},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        json_t *doc = load("futures_userTrades.json");
        json_t *row = json_array_get(doc, 0);
        json_t *v = json_loads(breaks[i][1], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        json_object_set_new(row, breaks[i][0], v);
        pa_fill f;
        if (pa_bn_decode_futures_trade(row, &btcusdt, &f) != -1)
            fail_msg("%s = %s was accepted", breaks[i][0], breaks[i][1]);
        json_decref(doc);
    }
    json_t *doc = load("futures_userTrades.json");
    json_object_del(json_array_get(doc, 0), "buyer");
    pa_fill f;
    assert_int_equal(pa_bn_decode_futures_trade(json_array_get(doc, 0), &btcusdt, &f), -1);
    json_decref(doc);
}

static void test_income_documented(void **state)
{
    (void)state;
    json_t *doc = load("futures_income.json");
    assert_int_equal(json_array_size(doc), 2);
    pa_income r;
    assert_int_equal(pa_bn_decode_income(json_array_get(doc, 0), &r), 0);
    assert_int_equal(r.type, PA_INCOME_OTHER); /* a TRANSFER is not performance */
    assert_string_equal(r.symbol, "");
    assert_string_equal(r.asset, "USDT");
    assert_dec(r.amount, "-0.375");
    assert_int_equal(r.time_ms, 1570608000000LL);
    assert_int_equal(r.tran_id, 9689322392LL);
    assert_int_equal(pa_bn_decode_income(json_array_get(doc, 1), &r), 0);
    assert_int_equal(r.type, PA_INCOME_COMMISSION);
    assert_string_equal(r.symbol, "BTCUSDT");
    assert_dec(r.amount, "-0.01");
    assert_int_equal(r.tran_id, 9689322392LL);
    json_decref(doc);
}

static void test_income_types(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        int ok;
        pa_income_type want;
    } cases[] = {
        {"REALIZED_PNL", 1, PA_INCOME_REALIZED_PNL}, {"COMMISSION", 1, PA_INCOME_COMMISSION},
        {"FUNDING_FEE", 1, PA_INCOME_FUNDING_FEE},   {"INSURANCE_CLEAR", 1, PA_INCOME_OTHER},
        {"", 0, PA_INCOME_OTHER},                    {"realized_pnl", 0, PA_INCOME_OTHER},
        {"FUNDING FEE", 0, PA_INCOME_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = load("futures_income.json");
        json_t *row = json_array_get(doc, 1);
        json_object_set_new(row, "incomeType", json_string(cases[i].type));
        pa_income r;
        int rc = pa_bn_decode_income(row, &r);
        if (rc != (cases[i].ok ? 0 : -1))
            fail_msg("incomeType \"%s\": %d", cases[i].type, rc);
        if (cases[i].ok)
            assert_int_equal(r.type, cases[i].want);
        json_decref(doc);
    }
}

static void test_income_malformed(void **state)
{
    (void)state;
    static const char *const breaks[][2] = {
        {"income", "-0.01"},        {"income", "\"--0.01\""},   {"income", "\"0.000000001\""},
        {"asset", "\"\""},          {"time", "-5"},             {"tranId", "\"9689322392\""},
        {"symbol", "null"},         {"symbol", "\"btc/usdt\""}, {"incomeType", "7"},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        json_t *doc = load("futures_income.json");
        json_t *row = json_array_get(doc, 1);
        json_t *v = json_loads(breaks[i][1], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        json_object_set_new(row, breaks[i][0], v);
        pa_income r;
        if (pa_bn_decode_income(row, &r) != -1)
            fail_msg("%s = %s was accepted", breaks[i][0], breaks[i][1]);
        json_decref(doc);
    }
}

#define DAY PA_BN_FUT_DAY_MS

static void test_window(void **state)
{
    (void)state;
    const int64_t now = 1800000000000LL;
    int64_t lo, hi;
    /* Inside the reach: the window itself, its end capped at now. */
    assert_int_equal(pa_bn_futures_window(now - 10 * DAY, now + DAY, now, &lo, &hi), 0);
    assert_int_equal(lo, now - 10 * DAY);
    assert_int_equal(hi, now);
    /* Starting before it: from 89 days back. */
    assert_int_equal(pa_bn_futures_window(now - 366 * DAY, now - DAY, now, &lo, &hi), 0);
    assert_int_equal(lo, now - 89 * DAY);
    assert_int_equal(hi, now - DAY);
    /* Ending before it: nothing is covered. */
    assert_int_equal(pa_bn_futures_window(now - 200 * DAY, now - 89 * DAY, now, &lo, &hi), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trade_documented), cmocka_unit_test(test_trade_malformed),
        cmocka_unit_test(test_income_documented), cmocka_unit_test(test_income_types),
        cmocka_unit_test(test_income_malformed),  cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
