/* Prices, snapshots and flows decoded by src/exchanges/binance/values_wire.c,
 * on the bodies Binance documents (tests/data/binance/, see the README
 * there) and malformed variants of them; and the aggregate's use of a fee
 * the connector priced (pa_fill.fee_priced, src/enclave/aggregate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_dec.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "aggregate.h"
#include "timeutil.h"
#include "values_wire.h"

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
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    if (j == NULL)
        fail_msg("%s: %s", text, err.text);
    return j;
}

/* A copy of a documented row with one field replaced (NULL value: removed). */
static json_t *variant(const json_t *row, const char *field, const char *value_json)
{
    json_t *v = json_deep_copy(row);
    if (value_json == NULL)
        json_object_del(v, field);
    else
        json_object_set_new(v, field, parse(value_json));
    return v;
}

/* ---- klines ----------------------------------------------------------------- */

static void test_kline_documented(void **state)
{
    (void)state;
    json_t *doc = load("klines.json");
    pa_bn_kline k;
    assert_int_equal(pa_bn_decode_kline(json_array_get(doc, 0), &k), 0);
    assert_int_equal(k.open_ms, 1499040000000LL);
    assert_dec(k.open, "0.0163479");
    assert_dec(k.close, "0.015771");
    json_decref(doc);
}

static void test_kline_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[\"1499040000000\", \"1\", \"1\", \"1\", \"1\"]", /* time as a string */
        "[-1, \"1\", \"1\", \"1\", \"1\"]",                /* negative time */
        "[1499040000000, \"1e5\", \"1\", \"1\", \"1\"]",   /* exponent */
        "[1499040000000, \"1\", \"1\", \"1\", 2]",         /* close as a number */
        "[1499040000000, \"-1\", \"1\", \"1\", \"1\"]",    /* negative price */
        "[1499040000000, \"1\", \"1\", \"1\"]",            /* no close */
        "{\"open\": \"1\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *row = parse(bad[i]);
        pa_bn_kline k;
        if (pa_bn_decode_kline(row, &k) != -1)
            fail_msg("accepted %s", bad[i]);
        json_decref(row);
    }
}

/* ---- snapshots --------------------------------------------------------------- */

static void test_snapshot_spot_documented(void **state)
{
    (void)state;
    json_t *doc = load("accountSnapshot_spot.json");
    pa_bn_snapshots s;
    char why[128];
    assert_int_equal(pa_bn_decode_snapshots(doc, 0, &s, why, sizeof why), 0);
    assert_int_equal(s.ndays, 1);
    assert_int_equal(s.days[0], pa_time_day(1576281599000LL)); /* 2019-12-13's end */
    assert_int_equal(s.len, 2);
    assert_string_equal(s.v[0].asset, "BTC");
    assert_dec(s.v[0].amount, "0.09905021");
    assert_string_equal(s.v[1].asset, "USDT");
    assert_dec(s.v[1].amount, "1.89109409");
    assert_int_equal(s.v[1].day, s.days[0]);
    pa_bn_snapshots_free(&s);
    /* A spot answer is not a futures one. */
    assert_int_equal(pa_bn_decode_snapshots(doc, 1, &s, why, sizeof why), -1);
    json_decref(doc);
}

static void test_snapshot_futures_documented(void **state)
{
    (void)state;
    json_t *doc = load("accountSnapshot_futures.json");
    pa_bn_snapshots s;
    char why[128];
    assert_int_equal(pa_bn_decode_snapshots(doc, 1, &s, why, sizeof why), 0);
    assert_int_equal(s.ndays, 1);
    assert_int_equal(s.len, 1);
    assert_string_equal(s.v[0].asset, "USDT");
    /* marginBalance (wallet + unrealized), not walletBalance */
    assert_dec(s.v[0].amount, "118.99782335");
    pa_bn_snapshots_free(&s);
    assert_int_equal(pa_bn_decode_snapshots(doc, 0, &s, why, sizeof why), -1);
    json_decref(doc);
}

static void test_snapshot_rules(void **state)
{
    (void)state;
    pa_bn_snapshots s;
    char why[128];
    /* locked counts; a day with only zero balances is a day with equity 0 */
    json_t *doc = parse("{\"code\":200,\"msg\":\"\",\"snapshotVos\":["
                        "{\"type\":\"spot\",\"updateTime\":1576367999000,\"data\":{\"balances\":["
                        "{\"asset\":\"BNB\",\"free\":\"0\",\"locked\":\"0\"}]}},"
                        "{\"type\":\"spot\",\"updateTime\":1576281599000,\"data\":{\"balances\":["
                        "{\"asset\":\"ETH\",\"free\":\"1.5\",\"locked\":\"0.25\"}]}}]}");
    assert_int_equal(pa_bn_decode_snapshots(doc, 0, &s, why, sizeof why), 0);
    assert_int_equal(s.ndays, 2);
    assert_true(s.days[0] < s.days[1]); /* ascending, whatever the answer's order */
    assert_int_equal(s.len, 1);
    assert_dec(s.v[0].amount, "1.75");
    pa_bn_snapshots_free(&s);
    json_decref(doc);

    static const char *const bad[] = {
        /* not code 200 */
        "{\"code\":-1,\"msg\":\"x\",\"snapshotVos\":[]}",
        /* two snapshots of one day */
        "{\"code\":200,\"snapshotVos\":["
        "{\"type\":\"spot\",\"updateTime\":1576281599000,\"data\":{\"balances\":[]}},"
        "{\"type\":\"spot\",\"updateTime\":1576281500000,\"data\":{\"balances\":[]}}]}",
        /* a balance that is not a decimal string */
        "{\"code\":200,\"snapshotVos\":[{\"type\":\"spot\",\"updateTime\":1576281599000,"
        "\"data\":{\"balances\":[{\"asset\":\"BTC\",\"free\":\"1e3\",\"locked\":\"0\"}]}}]}",
        /* an unusable asset name */
        "{\"code\":200,\"snapshotVos\":[{\"type\":\"spot\",\"updateTime\":1576281599000,"
        "\"data\":{\"balances\":[{\"asset\":\"btc\",\"free\":\"1\",\"locked\":\"0\"}]}}]}",
        /* no locked */
        "{\"code\":200,\"snapshotVos\":[{\"type\":\"spot\",\"updateTime\":1576281599000,"
        "\"data\":{\"balances\":[{\"asset\":\"BTC\",\"free\":\"1\"}]}}]}",
        /* updateTime as a string */
        "{\"code\":200,\"snapshotVos\":[{\"type\":\"spot\",\"updateTime\":\"1576281599000\","
        "\"data\":{\"balances\":[]}}]}",
        /* no snapshotVos */
        "{\"code\":200,\"msg\":\"\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc = parse(bad[i]);
        if (pa_bn_decode_snapshots(doc, 0, &s, why, sizeof why) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_true(why[0] != '\0');
        json_decref(doc);
    }
    /* a spot balance Binance would never make negative is taken as written */
    doc = parse("{\"code\":200,\"snapshotVos\":[{\"type\":\"spot\",\"updateTime\":1576281599000,"
                "\"data\":{\"balances\":[{\"asset\":\"BTC\",\"free\":\"-1\",\"locked\":\"0.25\"}]}}]}");
    assert_int_equal(pa_bn_decode_snapshots(doc, 0, &s, why, sizeof why), 0);
    assert_dec(s.v[0].amount, "-0.75");
    pa_bn_snapshots_free(&s);
    json_decref(doc);
    /* a futures margin balance may be negative (a losing position) */
    doc = parse("{\"code\":200,\"snapshotVos\":[{\"type\":\"futures\",\"updateTime\":1576281599000,"
                "\"data\":{\"assets\":[{\"asset\":\"USDT\",\"marginBalance\":\"-3.5\","
                "\"walletBalance\":\"1\"}],\"position\":[]}}]}");
    assert_int_equal(pa_bn_decode_snapshots(doc, 1, &s, why, sizeof why), 0);
    assert_dec(s.v[0].amount, "-3.5");
    pa_bn_snapshots_free(&s);
    json_decref(doc);
}

/* ---- flows ------------------------------------------------------------------- */

static void test_deposit_documented(void **state)
{
    (void)state;
    json_t *doc = load("deposit_hisrec.json");
    pa_bn_flow_row r;
    /* status 0: pending, not credited */
    assert_int_equal(pa_bn_decode_deposit(json_array_get(doc, 0), &r), 0);
    assert_string_equal(r.asset, "BNB");
    assert_dec(r.amount, "0.001");
    assert_int_equal(r.counts, 0);
    /* status 1: credited, at completeTime (not insertTime) */
    const json_t *ok = json_array_get(doc, 1);
    assert_int_equal(pa_bn_decode_deposit(ok, &r), 0);
    assert_string_equal(r.asset, "IOTA");
    assert_dec(r.amount, "0.5");
    assert_int_equal(r.time_ms, 1661493146000LL);
    assert_int_equal(r.counts, 1);

    json_t *v = variant(ok, "completeTime", NULL); /* older answers: insertTime */
    assert_int_equal(pa_bn_decode_deposit(v, &r), 0);
    assert_int_equal(r.time_ms, 1599620082000LL);
    json_decref(v);
    v = variant(ok, "status", "6"); /* credited but cannot withdraw: in the wallet */
    assert_int_equal(pa_bn_decode_deposit(v, &r), 0);
    assert_int_equal(r.counts, 1);
    json_decref(v);
    v = variant(ok, "walletType", "1"); /* into the funding wallet, not spot */
    assert_int_equal(pa_bn_decode_deposit(v, &r), 0);
    assert_int_equal(r.counts, 0);
    json_decref(v);
    v = variant(ok, "walletType", NULL);
    assert_int_equal(pa_bn_decode_deposit(v, &r), 0);
    assert_int_equal(r.counts, 1);
    json_decref(v);

    static const char *const bad[][2] = {
        {"amount", "0.5"},         {"amount", "\"-0.5\""},  {"amount", NULL},
        {"coin", "\"iota\""},      {"coin", NULL},          {"status", "\"1\""},
        {"insertTime", "\"1\""},   {"insertTime", NULL},    {"completeTime", "-1"},
        {"walletType", "\"0\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = variant(ok, bad[i][0], bad[i][1]);
        if (pa_bn_decode_deposit(v, &r) != -1)
            fail_msg("accepted %s = %s", bad[i][0], bad[i][1] ? bad[i][1] : "(none)");
        json_decref(v);
    }
    json_decref(doc);
}

static void test_withdrawal_documented(void **state)
{
    (void)state;
    json_t *doc = load("withdraw_history.json");
    pa_bn_flow_row r;
    const json_t *row = json_array_get(doc, 0);
    assert_int_equal(pa_bn_decode_withdrawal(row, &r), 0);
    assert_string_equal(r.asset, "USDT");
    assert_dec(r.amount, "-8.914"); /* amount + transactionFee left the wallet */
    int64_t t;
    assert_int_equal(pa_time_parse("2019-10-12T11:12:02Z", &t), 0);
    assert_int_equal(r.time_ms, t);
    assert_int_equal(r.counts, 0); /* walletType 1: the funding wallet */
    assert_int_equal(pa_bn_decode_withdrawal(json_array_get(doc, 1), &r), 0);
    assert_dec(r.amount, "-0.0055");
    assert_int_equal(r.counts, 0);

    json_t *spot = variant(row, "walletType", "0");
    assert_int_equal(pa_bn_decode_withdrawal(spot, &r), 0);
    assert_int_equal(r.counts, 1);
    static const struct {
        const char *status;
        int counts;
    } st[] = {{"0", 1}, {"1", 0}, {"2", 1}, {"3", 0}, {"4", 1}, {"5", 0}, {"6", 1}};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        json_t *v = variant(spot, "status", st[i].status);
        assert_int_equal(pa_bn_decode_withdrawal(v, &r), 0);
        if (r.counts != st[i].counts)
            fail_msg("status %s: counts %d", st[i].status, r.counts);
        json_decref(v);
    }
    json_t *v = variant(spot, "transactionFee", NULL);
    assert_int_equal(pa_bn_decode_withdrawal(v, &r), 0);
    assert_dec(r.amount, "-8.91");
    json_decref(v);

    static const char *const bad[][2] = {
        {"applyTime", "\"2019-10-12T11:12:02\""}, {"applyTime", "\"2019-10-12 11:12\""},
        {"applyTime", "1570878722000"},           {"applyTime", NULL},
        {"amount", "\"x\""},                      {"transactionFee", "\"-1\""},
        {"coin", "\"\""},                         {"status", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = variant(spot, bad[i][0], bad[i][1]);
        if (pa_bn_decode_withdrawal(v, &r) != -1)
            fail_msg("accepted %s = %s", bad[i][0], bad[i][1] ? bad[i][1] : "(none)");
        json_decref(v);
    }
    json_decref(spot);
    json_decref(doc);
}

static void test_transfer_documented(void **state)
{
    (void)state;
    json_t *doc = load("asset_transfer.json");
    const json_t *rows = json_object_get(doc, "rows");
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 2);
    pa_bn_flow_row r;
    /* MAIN_UMFUTURE: out of spot, into USD-M */
    assert_int_equal(pa_bn_decode_transfer(json_array_get(rows, 0), "MAIN_UMFUTURE", "MAIN", &r), 0);
    assert_string_equal(r.asset, "USDT");
    assert_dec(r.amount, "-1");
    assert_int_equal(r.time_ms, 1544433328000LL);
    assert_int_equal(r.counts, 1);
    assert_int_equal(
        pa_bn_decode_transfer(json_array_get(rows, 1), "MAIN_UMFUTURE", "UMFUTURE", &r), 0);
    assert_dec(r.amount, "2");
    /* a row of another type than asked, or a type the wallet is not part of */
    assert_int_equal(pa_bn_decode_transfer(json_array_get(rows, 0), "UMFUTURE_MAIN", "MAIN", &r),
                     -1);
    assert_int_equal(
        pa_bn_decode_transfer(json_array_get(rows, 0), "MAIN_UMFUTURE", "FUNDING", &r), -1);

    json_t *v = variant(json_array_get(rows, 0), "status", "\"PENDING\"");
    assert_int_equal(pa_bn_decode_transfer(v, "MAIN_UMFUTURE", "MAIN", &r), 0);
    assert_int_equal(r.counts, 0);
    json_decref(v);
    v = variant(json_array_get(rows, 0), "status", "\"FAILED\"");
    assert_int_equal(pa_bn_decode_transfer(v, "MAIN_UMFUTURE", "MAIN", &r), 0);
    assert_int_equal(r.counts, 0);
    json_decref(v);
    /* the wallet on either side of a two-word name */
    v = variant(json_array_get(rows, 0), "type", "\"PORTFOLIO_MARGIN_MAIN\"");
    assert_int_equal(pa_bn_decode_transfer(v, "PORTFOLIO_MARGIN_MAIN", "MAIN", &r), 0);
    assert_dec(r.amount, "1");
    json_decref(v);

    static const char *const bad[][2] = {
        {"amount", "1"}, {"amount", "\"-1\""}, {"timestamp", "\"1544433328000\""},
        {"asset", NULL}, {"status", NULL},     {"type", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = variant(json_array_get(rows, 0), bad[i][0], bad[i][1]);
        if (pa_bn_decode_transfer(v, "MAIN_UMFUTURE", "MAIN", &r) != -1)
            fail_msg("accepted %s = %s", bad[i][0], bad[i][1] ? bad[i][1] : "(none)");
        json_decref(v);
    }
    json_decref(doc);
}

static void test_parse_utc_time(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(pa_bn_parse_utc_time("1970-01-02 00:00:01", &t), 0);
    assert_int_equal(t, 86401000LL);
    assert_int_equal(pa_bn_parse_utc_time("2019-10-12 11:12:02Z", &t), -1);
    assert_int_equal(pa_bn_parse_utc_time("2019-10-12  1:12:02", &t), -1);
    assert_int_equal(pa_bn_parse_utc_time(NULL, &t), -1);
}

/* ---- the aggregate counts a fee the connector priced -------------------------- */

static pa_fill fill(int64_t id, int is_buyer, const char *price, const char *fee,
                    const char *fee_asset)
{
    pa_fill f;
    memset(&f, 0, sizeof f);
    snprintf(f.symbol, sizeof f.symbol, "BTCUSDT");
    snprintf(f.base, sizeof f.base, "BTC");
    snprintf(f.quote, sizeof f.quote, "USDT");
    snprintf(f.commission_asset, sizeof f.commission_asset, "%s", fee_asset);
    f.id = id;
    f.time_ms = 1700000000000LL + id * 1000;
    f.is_buyer = is_buyer;
    if (pa_fill_set_amounts(&f, price, "1", price, fee) != 0)
        fail_msg("amounts");
    return f;
}

static void test_aggregate_priced_fee(void **state)
{
    (void)state;
    /* buy 1 @ 100 (fee 0.01 BNB, priced 6.05 USDT), sell 1 @ 110 (fee 0.02
     * BNB, not priced): pnl = 10 - 6.05; one fee unpriced. */
    pa_fill f[2] = {fill(1, 1, "100", "0.01", "BNB"), fill(2, 0, "110", "0.02", "BNB")};
    f[0].fee_priced = 1;
    f[0].fee_quote = dec("6.05");
    pa_agg_params p = {.from_ms = 1699999999000LL, .to_ms = 1700086400000LL, .currency = "USDT"};
    pa_agg_result r;
    assert_int_equal(pa_aggregate(f, 2, &p, &r), 0);
    assert_dec(r.pnl_exact, "3.95");
    assert_int_equal(r.unpriced_fees, 1);
    pa_agg_result_free(&r);
    /* both priced: none unpriced */
    f[1].fee_priced = 1;
    f[1].fee_quote = dec("12.1");
    assert_int_equal(pa_aggregate(f, 2, &p, &r), 0);
    assert_dec(r.pnl_exact, "-8.15");
    assert_int_equal(r.unpriced_fees, 0);
    pa_agg_result_free(&r);
    /* a priced fee that is not a valid amount is refused, never counted */
    f[1].fee_quote = dec("-1");
    assert_int_equal(pa_aggregate(f, 2, &p, &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kline_documented),
        cmocka_unit_test(test_kline_malformed),
        cmocka_unit_test(test_snapshot_spot_documented),
        cmocka_unit_test(test_snapshot_futures_documented),
        cmocka_unit_test(test_snapshot_rules),
        cmocka_unit_test(test_deposit_documented),
        cmocka_unit_test(test_withdrawal_documented),
        cmocka_unit_test(test_transfer_documented),
        cmocka_unit_test(test_parse_utc_time),
        cmocka_unit_test(test_aggregate_priced_fee),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
