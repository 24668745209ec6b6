/* pa_aggregate_futures: the expected numbers are worked out by hand in the
 * comments (docs/METRICS.md, "USD-M futures"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_dec.h"

#include "aggregate.h"
#include "decimal.h"
#include "fills.h"
#include "income.h"

#define HOUR 3600000LL
#define DAY 86400000LL
#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */

static pa_fill fill(const char *sym, const char *quote, int64_t id, int64_t t, const char *price,
                    const char *qty, const char *quote_qty)
{
    pa_fill f;
    memset(&f, 0, sizeof f);
    snprintf(f.symbol, sizeof f.symbol, "%s", sym);
    snprintf(f.base, sizeof f.base, "%s", "BTC");
    snprintf(f.quote, sizeof f.quote, "%s", quote);
    f.id = id;
    f.time_ms = t;
    assert_int_equal(pa_fill_set_amounts(&f, price, qty, quote_qty, "0"), 0);
    return f;
}

static pa_income inc(pa_income_type type, const char *amount, const char *asset, int64_t t)
{
    pa_income r;
    memset(&r, 0, sizeof r);
    snprintf(r.symbol, sizeof r.symbol, "%s", "BTCUSDT");
    snprintf(r.asset, sizeof r.asset, "%s", asset);
    r.type = type;
    r.amount = dec(amount);
    r.time_ms = t;
    return r;
}

static const pa_agg_params window = {.from_ms = T0, .to_ms = T0 + 3 * DAY, .currency = "USDT"};

static void test_sums(void **state)
{
    (void)state;
    pa_fill f[] = {
        fill("BTCUSDT", "USDT", 1, T0 + HOUR, "60000.1", "0.002", "120.0002"),
        fill("BTCUSDT", "USDT", 2, T0 + DAY, "60010", "0.002", "120.02"),
        fill("ETHUSDC", "USDC", 3, T0 + DAY, "3000", "1", "3000"),         /* excluded */
        fill("BTCUSDT", "USDT", 4, T0 - 1, "1", "1", "1"),                 /* before */
        fill("BTCUSDT", "USDT", 5, T0 + 3 * DAY, "1", "1", "1"),           /* at `to` */
    };
    pa_income in[] = {
        inc(PA_INCOME_COMMISSION, "-0.04800008", "USDT", T0 + HOUR),
        inc(PA_INCOME_REALIZED_PNL, "0.0196", "USDT", T0 + DAY),
        inc(PA_INCOME_COMMISSION, "-0.048008", "USDT", T0 + DAY),
        inc(PA_INCOME_FUNDING_FEE, "-0.031", "USDT", T0 + DAY + HOUR),
        inc(PA_INCOME_FUNDING_FEE, "0.5", "USDT", T0 + 2 * DAY),
        inc(PA_INCOME_COMMISSION, "-0.001", "BNB", T0 + 2 * DAY),     /* unpriced */
        inc(PA_INCOME_REALIZED_PNL, "7", "USDC", T0 + 2 * DAY),       /* other margin */
        inc(PA_INCOME_OTHER, "1000", "USDT", T0 + 2 * DAY),            /* a transfer */
        inc(PA_INCOME_REALIZED_PNL, "99", "USDT", T0 - 1),             /* before */
    };
    pa_agg_result r;
    assert_int_equal(pa_aggregate_futures(f, 5, in, 9, &window, &r), 0);
    pa_agg_result_free(&r);
    assert_int_equal(r.trades, 2);
    assert_int_equal(r.excluded_trades, 1);
    assert_int_equal(r.unpriced_fees, 1);
    /* 120.0002 + 120.02 */
    assert_dec(r.volume_exact, "240.0202");
    assert_dec(r.realized_pnl_exact, "0.0196");
    /* 0.04800008 + 0.048008 */
    assert_dec(r.fees_exact, "0.09600808");
    /* -0.031 + 0.5 */
    assert_dec(r.funding_exact, "0.469");
    /* days: -0.04800008 | 0.0196 - 0.048008 - 0.031 = -0.059408 | 0.5 */
    assert_dec(r.pnl_exact, "0.39259192");
    assert_true(r.pnl == 0.39259192);
    assert_true(r.funding == 0.469);
    assert_true(r.sharpe_defined);
    assert_dec(r.unmatched_qty_exact, "0");
}

/* Rounding per day: three days of 0.000000005 each round to 0.00000001. */
static void test_daily_rounding(void **state)
{
    (void)state;
    pa_income in[] = {
        inc(PA_INCOME_FUNDING_FEE, "0.000000005", "USDT", T0),
        inc(PA_INCOME_FUNDING_FEE, "0.000000005", "USDT", T0 + DAY),
        inc(PA_INCOME_FUNDING_FEE, "0.000000005", "USDT", T0 + 2 * DAY),
    };
    pa_agg_result r;
    assert_int_equal(pa_aggregate_futures(NULL, 0, in, 3, &window, &r), 0);
    pa_agg_result_free(&r);
    assert_dec(r.pnl_exact, "0.00000003");
    assert_dec(r.funding_exact, "0.00000002"); /* 0.000000015 rounded once */
    assert_false(r.sharpe_defined);            /* a constant series */
}

static void test_refusals(void **state)
{
    (void)state;
    pa_agg_result r;
    pa_agg_params bad = window;
    bad.to_ms = bad.from_ms;
    assert_int_equal(pa_aggregate_futures(NULL, 0, NULL, 0, &bad, &r), -1);
    pa_income x = inc(PA_INCOME_FUNDING_FEE, "1", "USDT", T0);
    x.asset[0] = '\0';
    assert_int_equal(pa_aggregate_futures(NULL, 0, &x, 1, &window, &r), -1);
    x = inc(PA_INCOME_FUNDING_FEE, "1", "USDT", T0);
    x.type = (pa_income_type)42;
    assert_int_equal(pa_aggregate_futures(NULL, 0, &x, 1, &window, &r), -1);
    assert_int_equal(pa_aggregate_futures(NULL, 1, NULL, 0, &window, &r), -1);
    /* A sum that leaves the range fails rather than wraps. */
    pa_income big[2] = {inc(PA_INCOME_REALIZED_PNL, "9000000000000000000000", "USDT", T0),
                        inc(PA_INCOME_REALIZED_PNL, "9000000000000000000000", "USDT", T0)};
    assert_int_equal(pa_aggregate_futures(NULL, 0, big, 2, &window, &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums),
        cmocka_unit_test(test_daily_rounding),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
