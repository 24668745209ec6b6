/* pa_aggregate and pa_aggregate_futures with account values: the daily
 * series, unrealized PnL marked to the daily closes, round trips, and the
 * equity-based returns and risk (docs/METRICS.md, "Returns and risk").
 * Every expected number is worked out by hand in the comment beside it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_dec.h"

#include "account_values.h"
#include "aggregate.h"
#include "fills.h"
#include "income.h"

#define HOUR 3600000LL
#define DAY 86400000LL
#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */
#define D0 (T0 / DAY)      /* its day number */

static void assert_rel(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g (relative tolerance %g)", got, want, rel);
}

static pa_fill mk(const char *sym, int64_t id, int64_t t, int buy, const char *price,
                  const char *qty, const char *fee, const char *fee_asset)
{
    pa_fill f;
    memset(&f, 0, sizeof f);
    snprintf(f.symbol, sizeof f.symbol, "%s", sym);
    snprintf(f.base, sizeof f.base, "%.*s", (int)(strlen(sym) - 4), sym);
    snprintf(f.quote, sizeof f.quote, "%s", "USDT");
    f.id = id;
    f.time_ms = t;
    f.is_buyer = buy;
    assert_int_equal(pa_fill_set_amounts(&f, price, qty, "0", fee), 0);
    assert_int_equal(pa_dec_mul(f.price, f.qty, &f.quote_qty), 0);
    snprintf(f.commission_asset, sizeof f.commission_asset, "%s", fee_asset);
    return f;
}

static void equity(pa_account_values *v, int64_t day, const char *amount)
{
    pa_equity_point p = {.day = day, .equity = dec(amount)};
    assert_int_equal(pa_equity_push(&v->equity, &p), 0);
}

static void flow(pa_account_values *v, int64_t t, const char *amount)
{
    pa_flow f;
    memset(&f, 0, sizeof f);
    f.time_ms = t;
    f.amount = dec(amount);
    f.kind = f.amount.v > 0 ? PA_FLOW_DEPOSIT : PA_FLOW_WITHDRAWAL;
    snprintf(f.asset, sizeof f.asset, "USDT");
    assert_int_equal(pa_flow_push(&v->flows, &f), 0);
}

static void close_at(pa_account_values *v, const char *sym, int64_t day, const char *price)
{
    pa_daily_close c;
    memset(&c, 0, sizeof c);
    snprintf(c.symbol, sizeof c.symbol, "%s", sym);
    c.day = day;
    c.close = dec(price);
    assert_int_equal(pa_close_push(&v->closes, &c), 0);
}

static pa_agg_result run(const pa_fill *f, size_t n, const pa_account_values *v, int days)
{
    pa_agg_params p = {.from_ms = T0, .to_ms = T0 + days * DAY, .currency = "USDT", .values = v};
    pa_agg_result r;
    assert_int_equal(pa_aggregate(f, n, &p, &r), 0);
    assert_int_equal(r.ndaily, (size_t)days);
    for (int d = 0; d < days; d++)
        assert_int_equal(r.daily[d].day, D0 + d);
    return r;
}

/* ---- unrealized PnL ------------------------------------------------------ */

static void test_unrealized_marked_to_daily_close(void **state)
{
    (void)state;
    /* Day 0: buy 1 @ 100, fee 0.1 USDT. Closes: day 0 110, day 1 none (the
     * last close, 110, carries), day 2 90.
     *   marks: start 0 (flat); end of day 0: 110 - 100 = 10; day 1: 10;
     *   day 2: 90 - 100 = -10.
     *   daily = [10 - 0.1, 0, -20] = [9.9, 0, -20]; unrealized = -10 - 0 =
     *   -10; realized 0; fees 0.1; pnl = 0 - 10 - 0.1 = -10.1. */
    pa_account_values v;
    pa_account_values_init(&v);
    close_at(&v, "BTCUSDT", D0, "110");
    close_at(&v, "BTCUSDT", D0 + 2, "90");
    pa_fill f[] = {mk("BTCUSDT", 1, T0 + HOUR, 1, "100", "1", "0.1", "USDT")};
    pa_agg_result r = run(f, 1, &v, 3);
    assert_dec(r.daily[0].pnl_exact, "9.9");
    assert_dec(r.daily[1].pnl_exact, "0");
    assert_dec(r.daily[2].pnl_exact, "-20");
    assert_dec(r.unrealized_pnl_exact, "-10");
    assert_dec(r.realized_pnl_exact, "0");
    assert_dec(r.fees_exact, "0.1");
    assert_dec(r.funding_exact, "0");
    assert_dec(r.pnl_exact, "-10.1");
    assert_true(r.pnl == -10.1);
    /* Best 9.9 on day 0, worst -20 on day 2; one active day. */
    assert_int_equal(r.best_known, 1);
    assert_int_equal(r.best_day, 0);
    assert_int_equal(r.worst_day, 2);
    assert_int_equal(r.active_days, 1);
    assert_int_equal(r.round_trips, 0); /* still open */
    /* No equity: sharpe on daily PnL, as before equity was known. */
    assert_int_equal(r.returns_known, 0);
    assert_int_equal(r.sharpe_on_returns, 0);
    assert_int_equal(r.sharpe_defined, 1);
    assert_int_equal(r.ret.known, 0);
    assert_int_equal(r.max_drawdown.known, 0);
    pa_agg_result_free(&r);
    pa_account_values_free(&v);
}

static void test_unrealized_of_a_lot_from_before_the_window(void **state)
{
    (void)state;
    /* Buy 1 @ 100 two days before the window; the close of the day before
     * the window is 120; sell 1 @ 130 on day 0.
     *   realized (FIFO, from cost) = 30; start mark 120 - 100 = 20, end 0:
     *   unrealized = -20; pnl = 10 = what the window earned (130 - 120). */
    pa_account_values v;
    pa_account_values_init(&v);
    close_at(&v, "BTCUSDT", D0 - 1, "120");
    pa_fill f[] = {mk("BTCUSDT", 1, T0 - 2 * DAY, 1, "100", "1", "0", ""),
                   mk("BTCUSDT", 2, T0 + HOUR, 0, "130", "1", "0", "")};
    pa_agg_result r = run(f, 2, &v, 1);
    assert_dec(r.realized_pnl_exact, "30");
    assert_dec(r.unrealized_pnl_exact, "-20");
    assert_dec(r.pnl_exact, "10");
    /* Without a close the lot is carried at cost: the old behaviour. */
    pa_account_values none;
    pa_account_values_init(&none);
    pa_agg_result c = run(f, 2, &none, 1);
    assert_dec(c.unrealized_pnl_exact, "0");
    assert_dec(c.pnl_exact, "30");
    pa_agg_result_free(&r);
    pa_agg_result_free(&c);
    pa_account_values_free(&v);
    pa_account_values_free(&none);
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trips(void **state)
{
    (void)state;
    /* BTC: buy 1 @ 100, sell 1 @ 110: +10 (a win).
     *      buy 1 @ 100, sell 0.5 @ 90, sell 0.5 @ 95: -5 - 2.5 = -7.5.
     * ETH: buy 1 @ 10 paying 0.001 ETH (0.01 USDT), sell 0.999 @ 11: the
     *      account holds 0.999, so this sell makes it flat: 0.999 * 1 - 0.01
     *      = 0.989 (a win; the 0.001 lot left by the fee closes nothing).
     * SOL: buy 2 @ 5, still open: no trip.
     * win_rate 2/3; profit_factor (10 + 0.989) / 7.5. */
    pa_fill f[] = {
        mk("BTCUSDT", 1, T0 + 1 * HOUR, 1, "100", "1", "0", ""),
        mk("BTCUSDT", 2, T0 + 2 * HOUR, 0, "110", "1", "0", ""),
        mk("BTCUSDT", 3, T0 + 3 * HOUR, 1, "100", "1", "0", ""),
        mk("BTCUSDT", 4, T0 + 4 * HOUR, 0, "90", "0.5", "0", ""),
        mk("BTCUSDT", 5, T0 + DAY + HOUR, 0, "95", "0.5", "0", ""),
        mk("ETHUSDT", 1, T0 + 1 * HOUR, 1, "10", "1", "0.001", "ETH"),
        mk("ETHUSDT", 2, T0 + 5 * HOUR, 0, "11", "0.999", "0", ""),
        mk("SOLUSDT", 1, T0 + 1 * HOUR, 1, "5", "2", "0", ""),
    };
    pa_agg_result r = run(f, PA_ARRAY_LEN(f), NULL, 2);
    assert_int_equal(r.round_trips, 3);
    assert_true(r.win_rate.known);
    assert_rel(r.win_rate.v, 2.0 / 3.0, 1e-15);
    assert_true(r.profit_factor.known);
    assert_rel(r.profit_factor.v, 10.989 / 7.5, 1e-15);
    assert_int_equal(r.active_days, 2);
    pa_agg_result_free(&r);

    /* A trip is counted when it closes in the window: the first BTC trip
     * closes before it, the second inside. Only losses: profit factor 0. */
    pa_agg_params p = {.from_ms = T0 + 150 * 60000, .to_ms = T0 + 2 * DAY, .currency = "USDT"};
    assert_int_equal(pa_aggregate(f, 5, &p, &r), 0);
    assert_int_equal(r.round_trips, 1);
    assert_true(r.win_rate.known && r.win_rate.v == 0.0);
    assert_true(r.profit_factor.known && r.profit_factor.v == 0.0);
    pa_agg_result_free(&r);

    /* No trip: no rate, no factor. */
    r = run(f + 7, 1, NULL, 1);
    assert_int_equal(r.round_trips, 0);
    assert_false(r.win_rate.known);
    assert_false(r.profit_factor.known);
    pa_agg_result_free(&r);
}

/* ---- returns ------------------------------------------------------------ */

static void test_deposit_is_not_return(void **state)
{
    (void)state;
    /* Valuations: day -1 1000; day 0 1010; day 1 2030 after a deposit of
     * 1000 at noon; day 2 2030.
     *   day 0: (1010 - 1000) / 1000 = 0.01
     *   day 1: gain 2030 - 1010 - 1000 = 20 on 1010 + 0.5 * 1000 = 1510
     *   day 2: 0
     *   return = 1.01 * (1 + 20/1510) - 1 ~ 2.34%, not the ~103% of the
     *   equity's rise. No fall: drawdown 0, no dates, no calmar. */
    pa_account_values v;
    pa_account_values_init(&v);
    equity(&v, D0 - 1, "1000");
    equity(&v, D0, "1010");
    equity(&v, D0 + 1, "2030");
    equity(&v, D0 + 2, "2030");
    flow(&v, T0 + DAY + DAY / 2, "1000");
    pa_agg_result r = run(NULL, 0, &v, 3);
    assert_int_equal(r.returns_known, 1);
    assert_int_equal(r.returns_from_day, D0);
    assert_true(r.daily[0].ret.known && r.daily[1].ret.known && r.daily[2].ret.known);
    assert_rel(r.daily[0].ret.v, 0.01, 1e-15);
    assert_rel(r.daily[1].ret.v, 20.0 / 1510.0, 1e-15);
    assert_true(r.daily[2].ret.v == 0.0);
    assert_true(r.daily[1].equity_known);
    assert_dec(r.daily[1].equity_exact, "2030");
    assert_true(r.ret.known);
    assert_rel(r.ret.v, 1.01 * (1530.0 / 1510.0) - 1.0, 1e-14);
    assert_true(r.max_drawdown.known && r.max_drawdown.v == 0.0);
    assert_dec(r.max_drawdown_amount_exact, "0");
    assert_int_equal(r.drawdown_dates_known, 0);
    assert_false(r.calmar.known);
    /* Sharpe on the returns: mean / sd (ddof 1) * sqrt(365). */
    double x[] = {0.01, 20.0 / 1510.0, 0.0};
    double mean = (x[0] + x[1] + x[2]) / 3, m2 = 0;
    for (int i = 0; i < 3; i++)
        m2 += (x[i] - mean) * (x[i] - mean);
    assert_int_equal(r.sharpe_on_returns, 1);
    assert_int_equal(r.sharpe_defined, 1);
    assert_rel(r.sharpe, mean / sqrt(m2 / 2) * sqrt(365.0), 1e-13);
    assert_true(r.volatility.known);
    assert_rel(r.volatility.v, sqrt(m2 / 2) * sqrt(365.0), 1e-13);
    assert_false(r.sortino.known); /* no day below 0 */
    /* Nothing traded: pnl 0, no best day. */
    assert_dec(r.pnl_exact, "0");
    assert_int_equal(r.best_known, 0);
    assert_int_equal(r.active_days, 0);
    pa_agg_result_free(&r);
    pa_account_values_free(&v);
}

static void test_withdrawal_and_drawdown(void **state)
{
    (void)state;
    /* Valuations: day -1 2000; day 0 1530 after a withdrawal of 500 at
     * 06:00 (weight 18/24); day 1 1454.1.
     *   day 0: gain 1530 - 2000 + 500 = 30 on 2000 - 0.75 * 500 = 1625
     *   day 1: (1454.1 - 1530) / 1530 = -75.9 / 1530
     *   drawdown: peak after day 0, trough after day 1: 75.9 / 1530, the
     *   money lost 75.9. calmar = ((1 + R)^(365/2) - 1) / drawdown. */
    pa_account_values v;
    pa_account_values_init(&v);
    equity(&v, D0 - 1, "2000");
    equity(&v, D0, "1530");
    equity(&v, D0 + 1, "1454.1");
    flow(&v, T0 + DAY / 4, "-500");
    pa_agg_result r = run(NULL, 0, &v, 2);
    const double r0 = 30.0 / 1625.0, r1 = -75.9 / 1530.0;
    assert_rel(r.daily[0].ret.v, r0, 1e-15);
    assert_rel(r.daily[1].ret.v, r1, 1e-14);
    assert_rel(r.ret.v, (1 + r0) * (1 + r1) - 1, 1e-13);
    assert_rel(r.max_drawdown.v, 75.9 / 1530.0, 1e-13);
    assert_dec(r.max_drawdown_amount_exact, "75.9");
    assert_true(r.max_drawdown_amount == 75.9);
    assert_int_equal(r.drawdown_dates_known, 1);
    assert_int_equal(r.drawdown_peak_day, D0);
    assert_int_equal(r.drawdown_trough_day, D0 + 1);
    assert_true(r.calmar.known);
    const double annual = pow((1 + r0) * (1 + r1), 365.0 / 2.0) - 1;
    assert_rel(r.calmar.v, annual / (75.9 / 1530.0), 1e-10);
    /* sortino: mean * 365 / (sqrt(r1^2 / 2) * sqrt(365)). */
    assert_true(r.sortino.known);
    assert_rel(r.sortino.v, (r0 + r1) / 2 * 365 / (sqrt(r1 * r1 / 2) * sqrt(365.0)), 1e-13);
    pa_agg_result_free(&r);
    pa_account_values_free(&v);
}

static void test_flat_book(void **state)
{
    (void)state;
    /* 1000 every day, nothing traded, nothing moved: every return 0. The
     * chain is 0, volatility 0, no sharpe or sortino (no deviation), no
     * drawdown. */
    pa_account_values v;
    pa_account_values_init(&v);
    for (int d = -1; d < 3; d++)
        equity(&v, D0 + d, "1000");
    pa_agg_result r = run(NULL, 0, &v, 3);
    for (int d = 0; d < 3; d++) {
        assert_true(r.daily[d].ret.known && r.daily[d].ret.v == 0.0);
        assert_dec(r.daily[d].pnl_exact, "0");
    }
    assert_true(r.ret.known && r.ret.v == 0.0);
    assert_true(r.volatility.known && r.volatility.v == 0.0);
    assert_int_equal(r.sharpe_on_returns, 1);
    assert_int_equal(r.sharpe_defined, 0);
    assert_false(r.sortino.known);
    assert_true(r.max_drawdown.known && r.max_drawdown.v == 0.0);
    assert_false(r.calmar.known);
    assert_dec(r.unrealized_pnl_exact, "0");
    assert_int_equal(r.round_trips, 0);
    pa_agg_result_free(&r);
    pa_account_values_free(&v);
}

static void test_day_without_snapshot(void **state)
{
    (void)state;
    /* Valuations: day -1 1000; day 0 none; day 1 1260; day 2 1260. A
     * deposit of 200 at 12:00 of day 0. The period from the close of day
     * -1 to the close of day 1 is two days: the deposit was invested 36 of
     * its 48 hours (weight 0.75):
     *   gain 1260 - 1000 - 200 = 60 on 1000 + 0.75 * 200 = 1150
     * day 0 has no equity and no return (nothing invented); the period's
     * return is day 1's; day 2: 0. */
    pa_account_values v;
    pa_account_values_init(&v);
    equity(&v, D0 - 1, "1000");
    equity(&v, D0 + 1, "1260");
    equity(&v, D0 + 2, "1260");
    flow(&v, T0 + DAY / 2, "200");
    pa_agg_result r = run(NULL, 0, &v, 3);
    assert_false(r.daily[0].equity_known);
    assert_false(r.daily[0].ret.known);
    assert_true(r.daily[1].ret.known);
    assert_rel(r.daily[1].ret.v, 60.0 / 1150.0, 1e-15);
    assert_true(r.daily[2].ret.known && r.daily[2].ret.v == 0.0);
    assert_int_equal(r.returns_from_day, D0);
    assert_rel(r.ret.v, 60.0 / 1150.0, 1e-15);
    pa_agg_result_free(&r);

    /* No valuation before the window: the returns start the day after the
     * first one (returns_from = day 1), day 0 has equity but no return. */
    pa_account_values w;
    pa_account_values_init(&w);
    equity(&w, D0, "1000");
    equity(&w, D0 + 1, "1100");
    r = run(NULL, 0, &w, 3);
    assert_int_equal(r.returns_known, 1);
    assert_int_equal(r.returns_from_day, D0 + 1);
    assert_true(r.daily[0].equity_known);
    assert_false(r.daily[0].ret.known);
    assert_rel(r.daily[1].ret.v, 0.1, 1e-15);
    assert_false(r.daily[2].ret.known && r.daily[2].equity_known);
    assert_int_equal(r.sharpe_on_returns, 1);
    assert_int_equal(r.sharpe_defined, 0); /* one return */
    pa_agg_result_free(&r);

    /* One valuation only, or flows that could not be valued: no returns at
     * all, sharpe on the daily PnL. */
    pa_account_values one;
    pa_account_values_init(&one);
    equity(&one, D0, "1000");
    r = run(NULL, 0, &one, 2);
    assert_int_equal(r.returns_known, 0);
    assert_int_equal(r.sharpe_on_returns, 0);
    assert_true(r.daily[0].equity_known);
    pa_agg_result_free(&r);
    v.unvalued_flows = 1;
    r = run(NULL, 0, &v, 3);
    assert_int_equal(r.returns_known, 0);
    assert_false(r.ret.known);
    assert_false(r.daily[1].ret.known);
    pa_agg_result_free(&r);
    pa_account_values_free(&v);
    pa_account_values_free(&w);
    pa_account_values_free(&one);
}

static void test_unsorted_values_refused(void **state)
{
    (void)state;
    pa_account_values v;
    pa_account_values_init(&v);
    equity(&v, D0 + 1, "1");
    equity(&v, D0, "1");
    pa_agg_params p = {.from_ms = T0, .to_ms = T0 + DAY, .currency = "USDT", .values = &v};
    pa_agg_result r;
    assert_int_equal(pa_aggregate(NULL, 0, &p, &r), -1);
    assert_int_equal(pa_aggregate_futures(NULL, 0, NULL, 0, &p, &r), -1);
    pa_account_values_free(&v);
    pa_account_values_init(&v);
    close_at(&v, "ETHUSDT", D0, "1");
    close_at(&v, "BTCUSDT", D0, "1");
    assert_int_equal(pa_aggregate(NULL, 0, &p, &r), -1);
    pa_account_values_free(&v);
    pa_account_values_init(&v);
    flow(&v, T0 + 5, "1");
    flow(&v, T0 + 4, "1");
    assert_int_equal(pa_aggregate(NULL, 0, &p, &r), -1);
    pa_account_values_free(&v);
}

static void test_any_order_same_series(void **state)
{
    (void)state;
    /* Two symbols with open inventory over three days, closes, equity and a
     * flow: every order of the fills gives the same series, bit for bit. */
    pa_account_values v;
    pa_account_values_init(&v);
    close_at(&v, "BTCUSDT", D0 - 1, "99.5");
    close_at(&v, "BTCUSDT", D0 + 1, "104.25");
    close_at(&v, "ETHUSDT", D0, "10.5");
    close_at(&v, "ETHUSDT", D0 + 2, "9.75");
    equity(&v, D0 - 1, "500");
    equity(&v, D0, "507.5");
    equity(&v, D0 + 2, "540");
    flow(&v, T0 + DAY + HOUR, "20");
    pa_fill f[] = {
        mk("BTCUSDT", 1, T0 - DAY, 1, "98", "1", "0.098", "USDT"),
        mk("ETHUSDT", 7, T0 + HOUR, 1, "10", "3", "0.003", "ETH"),
        mk("BTCUSDT", 2, T0 + 2 * HOUR, 1, "101", "0.5", "0", ""),
        mk("ETHUSDT", 8, T0 + DAY, 0, "10.25", "1", "0.01", "USDT"),
        mk("BTCUSDT", 3, T0 + DAY, 0, "103", "1.2", "0", ""),
        mk("ETHUSDT", 9, T0 + 2 * DAY + HOUR, 0, "9.5", "1.997", "0", ""),
        mk("BTCUSDT", 4, T0 + 2 * DAY + 2 * HOUR, 1, "102", "2", "0.1", "BNB"),
    };
    /* BTC: lot 1 @ 98 from before; mark at from (close 99.5): 1.5.
     *   day 0 buy 0.5 @ 101: Q 1.5, C 148.5; no close on day 0, 99.5 carries:
     *     149.25 - 148.5 = 0.75
     *   day 1 sell 1.2 @ 103: 5 + 0.4 = 5.4 realized; Q 0.3, C 30.3; close
     *     104.25: 31.275 - 30.3 = 0.975
     *   day 2 buy 2 @ 102 (fee in BNB: unpriced): Q 2.3, C 234.3; 104.25
     *     carries: 239.775 - 234.3 = 5.475
     * ETH: day 0 buy 3 @ 10, fee 0.003 ETH = 0.03; close 10.5: 1.5
     *   day 1 sell 1 @ 10.25, fee 0.01: 0.25 realized; 10.5 carries: 1.0
     *   day 2 sell 1.997 @ 9.5: -0.9985; the fee's 0.003 lot at close 9.75:
     *     -0.00075. The account held 2.997: flat, a trip of
     *     -0.03 + 0.25 - 0.01 - 0.9985 = -0.7885.
     * marks 1.5, 2.25, 1.975, 5.47425
     * daily: -0.03 + 0.75 = 0.72; 5.64 - 0.275 = 5.365;
     *        -0.9985 + 3.49925 = 2.50075; pnl 8.58575
     * realized 4.6515, unrealized 3.97425, fees 0.04.
     * Returns: day 0 7.5 / 500; day 1 no snapshot; day 2 the two-day
     * period with the flow of 20 invested 47 of 48 hours:
     *   (540 - 507.5 - 20) / (507.5 + 20 * 47/48). */
    const size_t n = PA_ARRAY_LEN(f);
    pa_agg_result want = run(f, n, &v, 3);
    assert_dec(want.daily[0].pnl_exact, "0.72");
    assert_dec(want.daily[1].pnl_exact, "5.365");
    assert_dec(want.daily[2].pnl_exact, "2.50075");
    assert_dec(want.pnl_exact, "8.58575");
    assert_dec(want.realized_pnl_exact, "4.6515");
    assert_dec(want.unrealized_pnl_exact, "3.97425");
    assert_dec(want.fees_exact, "0.04");
    assert_int_equal(want.round_trips, 1);
    assert_true(want.win_rate.known && want.win_rate.v == 0.0);
    assert_int_equal(want.unpriced_fees, 1);
    assert_rel(want.daily[0].ret.v, 0.015, 1e-15);
    assert_false(want.daily[1].ret.known || want.daily[1].equity_known);
    assert_rel(want.daily[2].ret.v, 12.5 / (507.5 + 20.0 * 47.0 / 48.0), 1e-15);
    assert_rel(want.ret.v, 1.015 * (1 + 12.5 / (507.5 + 20.0 * 47.0 / 48.0)) - 1, 1e-14);
    pa_fill u[PA_ARRAY_LEN(f)];
    for (size_t k = 1; k < n; k++) { /* n = 7 is prime: i -> (i * k + k) mod n permutes */
        for (size_t i = 0; i < n; i++)
            u[i] = f[(i * k + k) % n];
        pa_agg_result got = run(u, n, &v, 3);
        assert_memory_equal(got.daily, want.daily, 3 * sizeof *got.daily);
        assert_dec(got.pnl_exact, "8.58575");
        assert_dec(got.unrealized_pnl_exact, "3.97425");
        assert_int_equal(got.round_trips, 1);
        assert_true(got.ret.v == want.ret.v && got.sharpe == want.sharpe);
        pa_agg_result_free(&got);
    }
    pa_agg_result_free(&want);
    pa_account_values_free(&v);
}

/* ---- USD-M -------------------------------------------------------------- */

static pa_income inc(pa_income_type type, const char *amount, int64_t t)
{
    pa_income x;
    memset(&x, 0, sizeof x);
    snprintf(x.symbol, sizeof x.symbol, "BTCUSDT");
    snprintf(x.asset, sizeof x.asset, "USDT");
    x.type = type;
    x.amount = dec(amount);
    x.time_ms = t;
    return x;
}

static void test_futures_short_marked_and_trip(void **state)
{
    (void)state;
    /* Sell 1 @ 100 (a short) on day 0, fee 0.04; close of day 0: 90; buy
     * 1 @ 95 on day 1, fee 0.038. The exchange books on day 1 realized 5
     * and commissions -0.04 (day 0) and -0.038 (day 1); funding -0.5 on
     * day 0.
     *   marks: end of day 0: 90 * -1 - (100 * -1) = 10; end of day 1: 0.
     *   daily = [-0.04 - 0.5 + 10, 5 - 0.038 - 10] = [9.46, -5.038]
     *   unrealized 0, realized 5, fees 0.078, funding -0.5,
     *   pnl = 5 + 0 - 0.078 - 0.5 = 4.422.
     *   One round trip (short, flat again): 5 - 0.04 - 0.038 = 4.922, a win. */
    pa_account_values v;
    pa_account_values_init(&v);
    close_at(&v, "BTCUSDT", D0, "90");
    pa_fill f[] = {mk("BTCUSDT", 1, T0 + HOUR, 0, "100", "1", "0.04", "USDT"),
                   mk("BTCUSDT", 2, T0 + DAY + HOUR, 1, "95", "1", "0.038", "USDT")};
    pa_income in[] = {inc(PA_INCOME_COMMISSION, "-0.04", T0 + HOUR),
                      inc(PA_INCOME_FUNDING_FEE, "-0.5", T0 + 8 * HOUR),
                      inc(PA_INCOME_REALIZED_PNL, "5", T0 + DAY + HOUR),
                      inc(PA_INCOME_COMMISSION, "-0.038", T0 + DAY + HOUR)};
    pa_agg_params p = {.from_ms = T0, .to_ms = T0 + 2 * DAY, .currency = "USDT", .values = &v};
    pa_agg_result r;
    assert_int_equal(pa_aggregate_futures(f, 2, in, 4, &p, &r), 0);
    assert_dec(r.daily[0].pnl_exact, "9.46");
    assert_dec(r.daily[1].pnl_exact, "-5.038");
    assert_dec(r.unrealized_pnl_exact, "0");
    assert_dec(r.realized_pnl_exact, "5");
    assert_dec(r.fees_exact, "0.078");
    assert_dec(r.funding_exact, "-0.5");
    assert_dec(r.pnl_exact, "4.422");
    assert_int_equal(r.round_trips, 1);
    assert_true(r.win_rate.known && r.win_rate.v == 1.0);
    assert_false(r.profit_factor.known);
    assert_int_equal(r.best_day, 0);
    assert_int_equal(r.worst_day, 1);
    assert_int_equal(r.active_days, 2);
    pa_agg_result_free(&r);

    /* Ending the window on day 0 leaves the short open: unrealized 10. */
    p.to_ms = T0 + DAY;
    assert_int_equal(pa_aggregate_futures(f, 2, in, 4, &p, &r), 0);
    assert_dec(r.unrealized_pnl_exact, "10");
    assert_dec(r.pnl_exact, "9.46");
    assert_int_equal(r.round_trips, 0);
    pa_agg_result_free(&r);
    pa_account_values_free(&v);
}

static void test_futures_flip_closes_a_trip(void **state)
{
    (void)state;
    /* Buy 1 @ 100, sell 3 @ 110 (long closed: +10, short 2 opened @ 110),
     * buy 2 @ 120 (short closed: -20). Two trips: +10 (a win, carrying the
     * flip's whole fee, 0 here) and -20. */
    pa_fill f[] = {mk("BTCUSDT", 1, T0 + HOUR, 1, "100", "1", "0", ""),
                   mk("BTCUSDT", 2, T0 + 2 * HOUR, 0, "110", "3", "0", ""),
                   mk("BTCUSDT", 3, T0 + 3 * HOUR, 1, "120", "2", "0", "")};
    pa_agg_params p = {.from_ms = T0, .to_ms = T0 + DAY, .currency = "USDT"};
    pa_agg_result r;
    assert_int_equal(pa_aggregate_futures(f, 3, NULL, 0, &p, &r), 0);
    assert_int_equal(r.round_trips, 2);
    assert_true(r.win_rate.known && r.win_rate.v == 0.5);
    assert_true(r.profit_factor.known && r.profit_factor.v == 0.5);
    pa_agg_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unrealized_marked_to_daily_close),
        cmocka_unit_test(test_unrealized_of_a_lot_from_before_the_window),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_deposit_is_not_return),
        cmocka_unit_test(test_withdrawal_and_drawdown),
        cmocka_unit_test(test_flat_book),
        cmocka_unit_test(test_day_without_snapshot),
        cmocka_unit_test(test_unsorted_values_refused),
        cmocka_unit_test(test_any_order_same_series),
        cmocka_unit_test(test_futures_short_marked_and_trip),
        cmocka_unit_test(test_futures_flip_closes_a_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
