/* Binance's answers decoded by the pure functions of
 * src/exchanges/binance/wire.c, on the response bodies Binance documents:
 * the files of tests/data/binance/ are the examples of binance/binance-spot-api-docs
 * rest-api.md (commit a5e0bc3; the JavaScript comments of the examples
 * removed, nothing else changed), plus malformed variants of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_dec.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

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

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    if (j == NULL)
        fail_msg("bad test JSON: %s", text);
    return j;
}

static const pa_bn_market bnbbtc = {"BNBBTC", "BNB", "BTC", 1};

/* ---- myTrades ---------------------------------------------------------------- */

static void test_trade_documented(void **state)
{
    (void)state;
    json_t *doc = load("myTrades.json");
    assert_true(json_is_array(doc));
    assert_int_equal(json_array_size(doc), 1);
    pa_fill f;
    assert_int_equal(pa_bn_decode_trade(json_array_get(doc, 0), &bnbbtc, &f), 0);
    assert_string_equal(f.symbol, "BNBBTC");
    assert_string_equal(f.base, "BNB");
    assert_string_equal(f.quote, "BTC");
    assert_int_equal(f.id, 28457);
    assert_int_equal(f.time_ms, 1499865549590);
    assert_int_equal(f.is_buyer, 1);
    /* Exact decimals, compared as their canonical text. */
    assert_dec(f.price, "4.000001");
    assert_dec(f.qty, "12");
    assert_dec(f.quote_qty, "48.000012");
    assert_dec(f.commission, "10.1");
    assert_string_equal(f.commission_asset, "BNB");
    json_decref(doc);
}

/* A row of another symbol than the one asked for is refused; a row without
 * `symbol` takes the market's. */
static void test_trade_symbol(void **state)
{
    (void)state;
    json_t *doc = load("myTrades.json");
    json_t *row = json_array_get(doc, 0);
    const pa_bn_market ethbtc = {"ETHBTC", "ETH", "BTC", 1};
    pa_fill f;
    assert_int_equal(pa_bn_decode_trade(row, &ethbtc, &f), -1);
    assert_int_equal(json_object_del(row, "symbol"), 0);
    assert_int_equal(pa_bn_decode_trade(row, &ethbtc, &f), 0);
    assert_string_equal(f.symbol, "ETHBTC");
    assert_string_equal(f.base, "ETH");
    json_decref(doc);
}

/* The documented row with one field replaced (JSON text) or removed (NULL). */
static int decode_with(const char *field, const char *value, pa_fill *f)
{
    json_t *doc = load("myTrades.json");
    json_t *row = json_array_get(doc, 0);
    if (value == NULL)
        assert_int_equal(json_object_del(row, field), 0);
    else
        assert_int_equal(json_object_set_new(row, field, parse(value)), 0);
    int rc = pa_bn_decode_trade(row, &bnbbtc, f);
    json_decref(doc);
    return rc;
}

static void test_trade_malformed(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"price", "\"1e5\""},
        {"price", "\"\""},
        {"price", "60000"},
        {"price", "\"nan\""},
        {"price", "\"inf\""},
        {"price", "\" 1\""},
        {"price", "\"-1\""},
        {"price", "\"0x10\""},
        {"price", "\"1.0 \""},
        {"qty", "\"-1\""},
        {"qty", "null"},
        {"quoteQty", "\"abc\""},
        {"commission", "\"--1\""},
        {"commission", "\"-\""},
        {"commission", "\"+1\""},
        {"commissionAsset", "\"bnb\""},
        {"commissionAsset", "\"ABCDEFGHIJKLMNOPQ\""},
        {"commissionAsset", "\"\""},
        {"commissionAsset", "7"},
        {"isBuyer", "\"true\""},
        {"isBuyer", "1"},
        {"time", "\"1499865549590\""},
        {"time", "-5"},
        {"time", "1.5"},
        {"id", "-1"},
        {"id", "9007199254740993"},
        {"id", "9223372036854775807"},
        {"symbol", "\"ETHBTC\""},
        {"symbol", "\"bnbbtc\""},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        pa_fill f;
        if (decode_with(bad[i][0], bad[i][1], &f) != -1)
            fail_msg("%s = %s was accepted", bad[i][0], bad[i][1]);
    }
    static const char *const required[] = {"id",       "time",       "price",           "qty",
                                           "quoteQty", "commission", "commissionAsset", "isBuyer"};
    for (size_t i = 0; i < PA_ARRAY_LEN(required); i++) {
        pa_fill f;
        if (decode_with(required[i], NULL, &f) != -1)
            fail_msg("a trade without %s was accepted", required[i]);
    }
    pa_fill f;
    assert_int_equal(pa_bn_decode_trade(NULL, &bnbbtc, &f), -1);
    json_t *arr = parse("[]");
    assert_int_equal(pa_bn_decode_trade(arr, &bnbbtc, &f), -1);
    json_decref(arr);
}

static void test_trade_edges(void **state)
{
    (void)state;
    pa_fill f;
    /* A maker rebate: a negative commission is a valid trade. */
    assert_int_equal(decode_with("commission", "\"-0.50000000\"", &f), 0);
    assert_dec(f.commission, "-0.5");
    assert_int_equal(decode_with("isBuyer", "false", &f), 0);
    assert_int_equal(f.is_buyer, 0);
    /* 2^53 is the largest id (exact in every JSON reader). */
    assert_int_equal(decode_with("id", "9007199254740992", &f), 0);
    assert_int_equal(f.id, 9007199254740992LL);
    assert_int_equal(decode_with("commissionAsset", "\"T\"", &f), 0); /* one-letter asset */
    assert_string_equal(f.commission_asset, "T");
    /* Fields Binance may add are ignored. */
    assert_int_equal(decode_with("someNewField", "{\"x\":1}", &f), 0);
}

/* ---- exchangeInfo ------------------------------------------------------------ */

static void test_exchange_info_documented(void **state)
{
    (void)state;
    json_t *doc = load("exchangeInfo.json");
    pa_bn_markets m;
    char why[128] = "";
    assert_int_equal(pa_bn_decode_exchange_info(doc, &m, why, sizeof why), 0);
    assert_int_equal(m.listed, 1);
    assert_int_equal(m.len, 1);
    const pa_bn_market *mk = pa_bn_find_market(&m, "ETHBTC");
    assert_non_null(mk);
    assert_string_equal(mk->base, "ETH");
    assert_string_equal(mk->quote, "BTC");
    assert_int_equal(mk->trading, 1);
    assert_null(pa_bn_find_market(&m, "BTCETH"));
    pa_bn_markets_free(&m);
    json_decref(doc);
}

static void test_exchange_info_names_and_status(void **state)
{
    (void)state;
    json_t *doc = parse(
        "{\"symbols\":["
        "{\"symbol\":\"TUSDT\",\"status\":\"TRADING\",\"baseAsset\":\"T\",\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"BNBBTC\",\"status\":\"BREAK\",\"baseAsset\":\"BNB\",\"quoteAsset\":\"BTC\"},"
        "{\"symbol\":\"ABC-USDT\",\"status\":\"TRADING\",\"baseAsset\":\"ABC\",\"quoteAsset\":"
        "\"USDT\"},"
        "{\"symbol\":\"AAAAAAAAAAAAAAAAAAAAA\",\"status\":\"TRADING\",\"baseAsset\":\"A\","
        "\"quoteAsset\":\"B\"},"
        "{\"symbol\":\"XUSDT\",\"status\":\"TRADING\",\"baseAsset\":\"x\",\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"NOSTATUS\",\"baseAsset\":\"NO\",\"quoteAsset\":\"STATUS\"},"
        "{\"status\":\"TRADING\"}, 7]}");
    pa_bn_markets m;
    char why[128] = "";
    assert_int_equal(pa_bn_decode_exchange_info(doc, &m, why, sizeof why), 0);
    assert_int_equal(m.listed, 8);
    /* Kept (sorted): BNBBTC (not trading), NOSTATUS (not trading), TUSDT. */
    assert_int_equal(m.len, 3);
    assert_string_equal(m.v[0].symbol, "BNBBTC");
    assert_int_equal(m.v[0].trading, 0);
    assert_string_equal(m.v[1].symbol, "NOSTATUS");
    assert_int_equal(m.v[1].trading, 0);
    assert_string_equal(m.v[2].symbol, "TUSDT");
    assert_string_equal(m.v[2].base, "T");
    assert_int_equal(m.v[2].trading, 1);
    pa_bn_markets_free(&m);
    json_decref(doc);
}

static void test_exchange_info_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{}",
        "[]",
        "{\"symbols\":{}}",
        "{\"symbols\":null}",
        "{\"symbols\":[{\"symbol\":\"ETHBTC\",\"baseAsset\":\"ETH\",\"quoteAsset\":\"BTC\"},"
        "{\"symbol\":\"ETHBTC\",\"baseAsset\":\"ETH\",\"quoteAsset\":\"BTC\"}]}",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        json_t *doc = parse(bad[i]);
        pa_bn_markets m;
        char why[128] = "";
        assert_int_equal(pa_bn_decode_exchange_info(doc, &m, why, sizeof why), -1);
        assert_true(why[0] != '\0');
        assert_null(m.v);
        json_decref(doc);
    }
    json_t *dup = parse(bad[4]);
    pa_bn_markets m;
    char why[128] = "";
    assert_int_equal(pa_bn_decode_exchange_info(dup, &m, why, sizeof why), -1);
    assert_string_equal(why, "/api/v3/exchangeInfo lists ETHBTC twice");
    json_decref(dup);
}

/* ---- account ----------------------------------------------------------------- */

static void test_account_documented(void **state)
{
    (void)state;
    json_t *doc = load("account.json");
    pa_bn_assets a;
    char why[128] = "";
    assert_int_equal(pa_bn_decode_account(doc, &a, why, sizeof why), 0);
    assert_int_equal(a.nonzero, 2);
    assert_int_equal(a.len, 2);
    assert_string_equal(a.v[0], "BTC");
    assert_string_equal(a.v[1], "LTC");
    assert_true(pa_bn_has_asset(&a, "LTC"));
    assert_false(pa_bn_has_asset(&a, "ETH"));
    pa_bn_assets_free(&a);
    json_decref(doc);
}

static void test_account_zero_and_names(void **state)
{
    (void)state;
    json_t *doc = parse("{\"balances\":["
                        "{\"asset\":\"USDT\",\"free\":\"0.00000000\",\"locked\":\"0.00000000\"},"
                        "{\"asset\":\"SOL\",\"free\":\"0\",\"locked\":\"2\"},"
                        "{\"asset\":\"T\",\"free\":\"1\",\"locked\":\"0\"},"
                        "{\"asset\":\"weird-1\",\"free\":\"1\",\"locked\":\"0\"}]}");
    pa_bn_assets a;
    char why[128] = "";
    assert_int_equal(pa_bn_decode_account(doc, &a, why, sizeof why), 0);
    assert_int_equal(a.nonzero, 3); /* counted, but weird-1 cannot be requested */
    assert_int_equal(a.len, 2);
    assert_string_equal(a.v[0], "SOL");
    assert_string_equal(a.v[1], "T");
    pa_bn_assets_free(&a);
    json_decref(doc);
}

static void test_account_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{}",
        "{\"balances\":{}}",
        "{\"balances\":[{\"free\":\"1\",\"locked\":\"0\"}]}",
        "{\"balances\":[{\"asset\":\"BTC\",\"free\":1,\"locked\":\"0\"}]}",
        "{\"balances\":[{\"asset\":\"BTC\",\"free\":\"1\"}]}",
        "{\"balances\":[{\"asset\":\"BTC\",\"free\":\"-1\",\"locked\":\"0\"}]}",
        "{\"balances\":[{\"asset\":\"BTC\",\"free\":\"1e3\",\"locked\":\"0\"}]}",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        json_t *doc = parse(bad[i]);
        pa_bn_assets a;
        char why[128] = "";
        if (pa_bn_decode_account(doc, &a, why, sizeof why) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_true(why[0] != '\0');
        assert_null(a.v);
        json_decref(doc);
    }
}

/* ---- time, errors, status ------------------------------------------------------ */

static void test_server_time(void **state)
{
    (void)state;
    json_t *doc = load("time.json");
    int64_t ms = 0;
    assert_int_equal(pa_bn_decode_server_time(doc, &ms), 0);
    assert_int_equal(ms, 1499827319559);
    json_decref(doc);
    static const char *const bad[] = {"{}", "{\"serverTime\":\"1499827319559\"}",
                                      "{\"serverTime\":0}", "{\"serverTime\":-1}",
                                      "{\"serverTime\":1.5}"};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        json_t *j = parse(bad[i]);
        assert_int_equal(pa_bn_decode_server_time(j, &ms), -1);
        json_decref(j);
    }
}

static void test_error_body(void **state)
{
    (void)state;
    json_t *doc = load("error.json");
    long code = 0;
    const char *msg = NULL;
    assert_int_equal(pa_bn_decode_error(doc, &code, &msg), 0);
    assert_int_equal(code, -1121);
    assert_string_equal(msg, "Invalid symbol.");
    json_decref(doc);
    json_t *j = parse("{\"code\":-1021}");
    assert_int_equal(pa_bn_decode_error(j, &code, &msg), 0);
    assert_int_equal(code, -1021);
    assert_null(msg);
    json_decref(j);
    j = parse("{\"code\":\"-1021\",\"msg\":\"x\"}");
    assert_int_equal(pa_bn_decode_error(j, &code, &msg), -1);
    assert_int_equal(code, 0);
    json_decref(j);
    assert_int_equal(pa_bn_decode_error(NULL, &code, &msg), -1);
}

static void test_error_status(void **state)
{
    (void)state;
    /* errors.md: -2015 REJECTED_MBX_KEY, -2014 BAD_API_KEY_FMT, -1022 INVALID_SIGNATURE. */
    assert_int_equal(pa_bn_error_status(401, -2015), PA_EXCHANGE_REJECTED_KEY);
    assert_int_equal(pa_bn_error_status(400, -2014), PA_EXCHANGE_REJECTED_KEY);
    assert_int_equal(pa_bn_error_status(400, -1022), PA_EXCHANGE_REJECTED_KEY);
    assert_int_equal(pa_bn_error_status(400, -2008), PA_EXCHANGE_REJECTED_KEY);
    assert_int_equal(pa_bn_error_status(403, 0), PA_EXCHANGE_REJECTED_KEY);
    assert_int_equal(pa_bn_error_status(429, -1003), PA_EXCHANGE_UNAVAILABLE);
    assert_int_equal(pa_bn_error_status(418, -1003), PA_EXCHANGE_UNAVAILABLE);
    assert_int_equal(pa_bn_error_status(500, 0), PA_EXCHANGE_UNAVAILABLE);
    assert_int_equal(pa_bn_error_status(503, 0), PA_EXCHANGE_UNAVAILABLE);
    assert_int_equal(pa_bn_error_status(400, -1121), PA_EXCHANGE_BAD_RESPONSE);
    assert_int_equal(pa_bn_error_status(302, 0), PA_EXCHANGE_BAD_RESPONSE);
    assert_int_equal(pa_bn_error_status(404, 0), PA_EXCHANGE_BAD_RESPONSE);
}

static void test_name_rules(void **state)
{
    (void)state;
    assert_true(pa_bn_symbol_ok("BTCUSDT"));
    assert_true(pa_bn_symbol_ok("1000SATSFDUSD"));
    assert_false(pa_bn_symbol_ok("B"));                     /* the shared rule: 2-20 */
    assert_false(pa_bn_symbol_ok("AAAAAAAAAAAAAAAAAAAAA")); /* 21 */
    assert_false(pa_bn_symbol_ok("btcusdt"));
    assert_false(pa_bn_symbol_ok("BTCUSDT&limit=1"));
    assert_false(pa_bn_symbol_ok(""));
    assert_false(pa_bn_symbol_ok(NULL));
    assert_true(pa_bn_asset_ok("T"));
    assert_true(pa_bn_asset_ok("ABCDEFGHIJKLMNO")); /* 15 */
    assert_false(pa_bn_asset_ok("ABCDEFGHIJKLMNOP"));
    assert_false(pa_bn_asset_ok("usdt"));
    assert_false(pa_bn_asset_ok(""));
    assert_false(pa_bn_asset_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trade_documented),
        cmocka_unit_test(test_trade_symbol),
        cmocka_unit_test(test_trade_malformed),
        cmocka_unit_test(test_trade_edges),
        cmocka_unit_test(test_exchange_info_documented),
        cmocka_unit_test(test_exchange_info_names_and_status),
        cmocka_unit_test(test_exchange_info_malformed),
        cmocka_unit_test(test_account_documented),
        cmocka_unit_test(test_account_zero_and_names),
        cmocka_unit_test(test_account_malformed),
        cmocka_unit_test(test_server_time),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_error_status),
        cmocka_unit_test(test_name_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
