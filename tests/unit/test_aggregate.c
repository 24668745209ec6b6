/* pa_aggregate and pa_fill_list: every expected number below is computed by
 * hand in the comment beside it (docs/METRICS.md has the formulas). Amounts
 * are written as the exchange's decimal strings and aggregated exactly; a
 * money result is the double nearest to its exact value rounded to 8
 * decimals, so it compares with == against a literal, and its exact decimal
 * (the *_exact fields) compares as text. */
#include <inttypes.h>
#include <math.h>
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

#define HOUR 3600000LL
#define DAY 86400000LL
#define T0 1704067200000LL /* 2024-01-01T00:00:00Z, a UTC midnight */

/* n + 0.5 */
static pa_dec plus_half(int64_t n)
{
    pa_dec r;
    assert_int_equal(pa_dec_add(pa_dec_from_int(n), dec("0.5"), &r), 0);
    return r;
}

/* A fill with quoteQty = price * qty exactly, and the amounts read by the
 * same function the connector uses (pa_fill_set_amounts). */
static pa_fill mk(const char *sym, const char *base, const char *quote, int64_t id, int64_t t,
                  int buy, const char *price, const char *qty, const char *fee,
                  const char *fee_asset)
{
    pa_fill f;
    memset(&f, 0, sizeof f);
    snprintf(f.symbol, sizeof f.symbol, "%s", sym);
    snprintf(f.base, sizeof f.base, "%s", base);
    snprintf(f.quote, sizeof f.quote, "%s", quote);
    f.id = id;
    f.time_ms = t;
    f.is_buyer = buy;
    assert_int_equal(pa_fill_set_amounts(&f, price, qty, "0", fee), 0);
    assert_int_equal(pa_dec_mul(f.price, f.qty, &f.quote_qty), 0);
    snprintf(f.commission_asset, sizeof f.commission_asset, "%s", fee_asset);
    return f;
}

/* BTCUSDT without a fee: most FIFO cases need nothing else. */
static pa_fill btc(int64_t id, int64_t t, int buy, const char *price, const char *qty)
{
    return mk("BTCUSDT", "BTC", "USDT", id, t, buy, price, qty, "0", "USDT");
}

/* The scalar figures; the daily series is checked (and freed) by the
 * tests that ask for it (agg_series). */
static pa_agg_result agg(const pa_fill *f, size_t n, int64_t from, int64_t to)
{
    pa_agg_params p = {.from_ms = from, .to_ms = to, .currency = "USDT"};
    pa_agg_result r;
    assert_int_equal(pa_aggregate(f, n, &p, &r), 0);
    assert_int_equal(r.ndaily, (size_t)((to - 1) / DAY - from / DAY + 1));
    pa_agg_result_free(&r);
    return r;
}

static void assert_close_rel(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g (relative tolerance %g)", got, want, rel);
}

/* ---- FIFO --------------------------------------------------------------- */

static void test_single_round_trip(void **state)
{
    (void)state;
    /* buy 1 @ 100, sell 1 @ 110: realized (110 - 100) * 1 = 10.
     * volume 100 + 110 = 210; one day -> no sharpe. */
    pa_fill f[] = {btc(1, T0 + HOUR, 1, "100", "1"), btc(2, T0 + 2 * HOUR, 0, "110", "1")};
    pa_agg_result r = agg(f, 2, T0, T0 + DAY);
    assert_true(r.pnl == 10.0);
    assert_true(r.volume == 210.0);
    assert_int_equal(r.trades, 2);
    assert_int_equal(r.excluded_trades, 0);
    assert_int_equal(r.unpriced_fees, 0);
    assert_true(r.unmatched_qty == 0.0);
    assert_int_equal(r.sharpe_defined, 0);
}

static void test_partial_fills(void **state)
{
    (void)state;
    /* One buy order filled as 0.4 @ 100 and 0.6 @ 101, one sell order filled
     * as 0.7 @ 105 and 0.3 @ 103.
     * sell 0.7: 0.4 from lot 1 -> (105 - 100) * 0.4 = 2.0
     *           0.3 from lot 2 -> (105 - 101) * 0.3 = 1.2   (lot 2 keeps 0.3)
     * sell 0.3: 0.3 from lot 2 -> (103 - 101) * 0.3 = 0.6
     * pnl = 2.0 + 1.2 + 0.6 = 3.8
     * volume = 40 + 60.6 + 73.5 + 30.9 = 205 */
    pa_fill f[] = {btc(1, T0 + 1000, 1, "100", "0.4"), btc(2, T0 + 1000, 1, "101", "0.6"),
                   btc(3, T0 + 5000, 0, "105", "0.7"), btc(4, T0 + 5000, 0, "103", "0.3")};
    pa_agg_result r = agg(f, 4, T0, T0 + DAY);
    assert_true(r.pnl == 3.8);
    assert_true(r.volume == 205.0);
    assert_int_equal(r.trades, 4);
    assert_true(r.unmatched_qty == 0.0);
}

static void test_several_lots_one_sell(void **state)
{
    (void)state;
    /* lots: 1 @ 100, 2 @ 110, 1 @ 120; sell 3.5 @ 130 closes
     *   1   of lot 1: (130 - 100) * 1   = 30
     *   2   of lot 2: (130 - 110) * 2   = 40
     *   0.5 of lot 3: (130 - 120) * 0.5 =  5   -> 75, lot 3 keeps 0.5
     * then sell 0.5 @ 90 closes the rest of lot 3: (90 - 120) * 0.5 = -15
     * pnl = 75 - 15 = 60
     * volume = 100 + 220 + 120 + 455 + 45 = 940 */
    pa_fill f[] = {btc(1, T0 + 1 * HOUR, 1, "100", "1"), btc(2, T0 + 2 * HOUR, 1, "110", "2"),
                   btc(3, T0 + 3 * HOUR, 1, "120", "1"), btc(4, T0 + 4 * HOUR, 0, "130", "3.5"),
                   btc(5, T0 + 5 * HOUR, 0, "90", "0.5")};
    pa_agg_result r = agg(f, 5, T0, T0 + DAY);
    assert_true(r.pnl == 60.0);
    assert_true(r.volume == 940.0);
    assert_int_equal(r.trades, 5);
    assert_true(r.unmatched_qty == 0.0);
}

static void test_lot_opened_before_window(void **state)
{
    (void)state;
    /* Window [T0, T0 + 1 day).
     * T0 - 2d: buy 2 @ 100 (fee 0.2 USDT, outside the window: not charged)
     * T0 - 1d: sell 0.5 @ 150 -> closes 0.5 of the lot; realized 25 is
     *          outside the window and not counted; the lot keeps 1.5
     * T0 + 1h: sell 1.5 @ 120 -> (120 - 100) * 1.5 = 30, counted
     * pnl = 30; trades = 1; volume = 180 */
    pa_fill f[] = {mk("BTCUSDT", "BTC", "USDT", 1, T0 - 2 * DAY, 1, "100", "2", "0.2", "USDT"),
                   btc(2, T0 - DAY, 0, "150", "0.5"), btc(3, T0 + HOUR, 0, "120", "1.5")};
    pa_agg_result r = agg(f, 3, T0, T0 + DAY);
    assert_true(r.pnl == 30.0);
    assert_true(r.volume == 180.0);
    assert_int_equal(r.trades, 1);
    assert_true(r.unmatched_qty == 0.0);
}

static void test_sell_beyond_inventory(void **state)
{
    (void)state;
    /* buy 1 @ 100, sell 1.5 @ 110: 1 closes the lot -> 10; the 0.5 beyond
     * the inventory realises nothing and is reported: unmatched_qty = 0.5.
     * No short is opened: the next buy 1 @ 100 and sell 1 @ 105 give 5
     * (a short of 0.5 would have eaten half of that buy).
     * pnl = 10 + 5 = 15 */
    pa_fill f[] = {btc(1, T0 + 1 * HOUR, 1, "100", "1"), btc(2, T0 + 2 * HOUR, 0, "110", "1.5"),
                   btc(3, T0 + 3 * HOUR, 1, "100", "1"), btc(4, T0 + 4 * HOUR, 0, "105", "1")};
    pa_agg_result r = agg(f, 4, T0, T0 + DAY);
    assert_true(r.pnl == 15.0);
    assert_true(r.unmatched_qty == 0.5);
}

static void test_oversell_before_window_not_reported(void **state)
{
    (void)state;
    /* A sell of 0.25 with no inventory before the window: not a window
     * figure, so unmatched_qty stays 0. In the window: buy 1 @ 100, sell
     * 0.75 @ 104 -> 3; then sell 0.5 @ 104 -> 0.25 closes the rest of the
     * lot (+1), 0.25 is beyond the inventory -> unmatched 0.25.
     * pnl = 3 + 1 = 4 */
    pa_fill f[] = {btc(1, T0 - HOUR, 0, "90", "0.25"), btc(2, T0 + HOUR, 1, "100", "1"),
                   btc(3, T0 + 2 * HOUR, 0, "104", "0.75"), btc(4, T0 + 3 * HOUR, 0, "104", "0.5")};
    pa_agg_result r = agg(f, 4, T0, T0 + DAY);
    assert_true(r.pnl == 4.0);
    assert_true(r.unmatched_qty == 0.25);
    assert_int_equal(r.trades, 3);
}

static void test_symbols_have_separate_inventories(void **state)
{
    (void)state;
    /* buy 1 BTC @ 100, buy 1 ETH @ 10, sell 1 ETH @ 12: the ETH sell closes
     * the ETH lot only -> 2 (not 12 - 100). */
    pa_fill f[] = {btc(1, T0 + HOUR, 1, "100", "1"),
                   mk("ETHUSDT", "ETH", "USDT", 1, T0 + 2 * HOUR, 1, "10", "1", "0", "USDT"),
                   mk("ETHUSDT", "ETH", "USDT", 2, T0 + 3 * HOUR, 0, "12", "1", "0", "USDT")};
    pa_agg_result r = agg(f, 3, T0, T0 + DAY);
    assert_true(r.pnl == 2.0);
    assert_true(r.unmatched_qty == 0.0);
    assert_int_equal(r.trades, 3);
}

static void test_equal_times_follow_id_order(void **state)
{
    (void)state;
    /* Two buys at the same millisecond: id 7 @ 100 is older than id 8 @ 200
     * (exchange id order), so selling 1 @ 150 closes id 7: +50. Listed in
     * either order, the result is the same. */
    pa_fill a[] = {btc(7, T0 + HOUR, 1, "100", "1"), btc(8, T0 + HOUR, 1, "200", "1"),
                   btc(9, T0 + 2 * HOUR, 0, "150", "1")};
    pa_fill b[] = {a[2], a[1], a[0]};
    assert_true(agg(a, 3, T0, T0 + DAY).pnl == 50.0);
    assert_true(agg(b, 3, T0, T0 + DAY).pnl == 50.0);
}

/* ---- fees and currencies ------------------------------------------------ */

static void test_commissions(void **state)
{
    (void)state;
    /* buy 1 @ 100, fee 0.1 USDT (quote)          -> -0.1
     * sell 1 @ 110, fee 0.0005 BTC (base)        -> -0.0005 * 110 = -0.055
     * buy 1 @ 100, fee 0.01 BNB (third asset)    -> left out, unpriced_fees 1
     * buy 1 @ 100, fee 0 BNB                     -> nothing to price, not counted
     * realized (110 - 100) * 1 = 10
     * pnl = 10 - 0.1 - 0.055 = 9.845 */
    pa_fill f[] = {mk("BTCUSDT", "BTC", "USDT", 1, T0 + 1 * HOUR, 1, "100", "1", "0.1", "USDT"),
                   mk("BTCUSDT", "BTC", "USDT", 2, T0 + 2 * HOUR, 0, "110", "1", "0.0005", "BTC"),
                   mk("BTCUSDT", "BTC", "USDT", 3, T0 + 3 * HOUR, 1, "100", "1", "0.01", "BNB"),
                   mk("BTCUSDT", "BTC", "USDT", 4, T0 + 4 * HOUR, 1, "100", "1", "0", "BNB")};
    pa_agg_result r = agg(f, 4, T0, T0 + DAY);
    assert_true(r.pnl == 9.845);
    assert_int_equal(r.unpriced_fees, 1);
    assert_int_equal(r.trades, 4);
}

static void test_base_fee_on_buy_keeps_gross_lot(void **state)
{
    (void)state;
    /* buy 1 @ 100 with fee 0.001 BTC: charged 0.001 * 100 = 0.1; the lot is
     * the gross 1 BTC, so sell 1 @ 110 closes it fully: +10, nothing unmatched.
     * pnl = 10 - 0.1 = 9.9 */
    pa_fill f[] = {mk("BTCUSDT", "BTC", "USDT", 1, T0 + HOUR, 1, "100", "1", "0.001", "BTC"),
                   btc(2, T0 + 2 * HOUR, 0, "110", "1")};
    pa_agg_result r = agg(f, 2, T0, T0 + DAY);
    assert_true(r.pnl == 9.9);
    assert_true(r.unmatched_qty == 0.0);
    assert_int_equal(r.unpriced_fees, 0);
}

static void test_other_quote_only_excluded(void **state)
{
    (void)state;
    /* ETHBTC fills: in the window they count in excluded_trades and nowhere
     * else (not trades, volume, pnl, nor unpriced_fees for their BNB fee);
     * the one before the window counts nowhere.
     * USDT side: buy 1 @ 100, sell 1 @ 101 -> pnl 1, volume 201, trades 2. */
    pa_fill f[] = {mk("ETHBTC", "ETH", "BTC", 1, T0 - HOUR, 1, "0.05", "1", "0", "ETH"),
                   mk("ETHBTC", "ETH", "BTC", 2, T0 + HOUR, 0, "0.06", "1", "0.001", "BNB"),
                   mk("ETHBTC", "ETH", "BTC", 3, T0 + 2 * HOUR, 0, "0.07", "3", "0", "BTC"),
                   btc(1, T0 + 3 * HOUR, 1, "100", "1"), btc(2, T0 + 4 * HOUR, 0, "101", "1")};
    pa_agg_result r = agg(f, 5, T0, T0 + DAY);
    assert_int_equal(r.excluded_trades, 2);
    assert_int_equal(r.trades, 2);
    assert_true(r.volume == 201.0);
    assert_true(r.pnl == 1.0);
    assert_int_equal(r.unpriced_fees, 0);
    assert_true(r.unmatched_qty == 0.0);

    /* With currency BTC the roles swap. ETHBTC: lot 1 @ 0.05 (before the
     * window) and sell 1 @ 0.06 -> +0.01; sell 3 @ 0.07 has no inventory ->
     * unmatched 3. The BNB fee is unpriced. volume 0.06 + 0.21 = 0.27. */
    pa_agg_params p = {.from_ms = T0, .to_ms = T0 + DAY, .currency = "BTC"};
    assert_int_equal(pa_aggregate(f, 5, &p, &r), 0);
    pa_agg_result_free(&r);
    assert_int_equal(r.excluded_trades, 2);
    assert_int_equal(r.trades, 2);
    assert_true(r.pnl == 0.01);
    assert_true(r.volume == 0.27);
    assert_true(r.unmatched_qty == 3.0);
    assert_int_equal(r.unpriced_fees, 1);
}

/* ---- window ------------------------------------------------------------- */

static void test_window_edges(void **state)
{
    (void)state;
    const int64_t from = T0 + 6 * HOUR, to = T0 + 18 * HOUR;
    /* buy at exactly `from` counts (from is inclusive); sell at to - 1 ms
     * counts; the fills at exactly `to` (exclusive) are ignored entirely:
     * neither counted nor allowed to consume inventory or overflow it.
     * 5:59:59.999 buy 1 @ 50  (before: a lot, not a trade)
     * from      : buy 1 @ 100
     * to - 1    : sell 1 @ 60 -> closes the 50 lot: +10
     * to        : sell 5 @ 1 and an ETHBTC fill -> ignored
     * trades 2, volume 160, pnl 10, unmatched 0, excluded 0 */
    pa_fill f[] = {btc(1, from - 1, 1, "50", "1"), btc(2, from, 1, "100", "1"), btc(3, to - 1, 0, "60", "1"),
                   btc(4, to, 0, "1", "5"), mk("ETHBTC", "ETH", "BTC", 1, to, 1, "0.05", "1", "0", "ETH")};
    pa_agg_result r = agg(f, 5, from, to);
    assert_int_equal(r.trades, 2);
    assert_true(r.volume == 160.0);
    assert_true(r.pnl == 10.0);
    assert_true(r.unmatched_qty == 0.0);
    assert_int_equal(r.excluded_trades, 0);
}

/* ---- sharpe ------------------------------------------------------------- */

static void test_sharpe_three_days(void **state)
{
    (void)state;
    /* Daily PnL d = [10, -5, 20]:
     *   day 1: buy 1 @ 100, sell 1 @ 110 -> +10
     *   day 2: buy 1 @ 100, sell 1 @ 95  -> -5
     *   day 3: buy 2 @ 100, sell 2 @ 110 -> +20
     * mean = 25/3; squared deviations sum = 100 + 25 + 400 - 25^2/3 = 950/3;
     * variance (ddof 1) = 950/6 = 475/3; mean/sd = (25/3)/sqrt(475/3)
     * = 25/sqrt(1425); sharpe = 25 * sqrt(365/1425) = 25 * sqrt(73/285)
     * = 12.652577575270803...
     * /usr/bin/python3 -c 'import statistics as s,math; d=[10,-5,20];
     *   print(repr(s.mean(d)/s.stdev(d)*math.sqrt(365)))'
     * -> 12.652577575270803 */
    pa_fill f[] = {btc(1, T0 + HOUR, 1, "100", "1"),           btc(2, T0 + 2 * HOUR, 0, "110", "1"),
                   btc(3, T0 + DAY + HOUR, 1, "100", "1"),     btc(4, T0 + DAY + 2 * HOUR, 0, "95", "1"),
                   btc(5, T0 + 2 * DAY + HOUR, 1, "100", "2"), btc(6, T0 + 2 * DAY + 2 * HOUR, 0, "110", "2")};
    pa_agg_result r = agg(f, 6, T0, T0 + 3 * DAY);
    assert_true(r.pnl == 25.0); /* = sum of the daily series */
    assert_int_equal(r.sharpe_defined, 1);
    assert_close_rel(r.sharpe, 12.652577575270803, 1e-13);
    assert_close_rel(r.sharpe, 25.0 * sqrt(73.0 / 285.0), 1e-13);
}

static void test_sharpe_counts_quiet_days_as_zero(void **state)
{
    (void)state;
    /* Window from 12:00 on day 1 to 01:00 on day 3: it intersects three UTC
     * days, so the series has three entries. Only day 2 has a close (+10);
     * the buy at 01:00 on day 1 is before the window (a lot, no trade).
     * d = [0, 10, 0]: mean 10/3, variance ((10/3)^2*2 + (20/3)^2)/2 = 100/3,
     * mean/sd = (10/3)/(10/sqrt(3)) = 1/sqrt(3); sharpe = sqrt(365/3)
     * /usr/bin/python3 -c 'import statistics as s,math; d=[0,10,0];
     *   print(repr(s.mean(d)/s.stdev(d)*math.sqrt(365)))'
     * -> 11.030261405182866 */
    pa_fill f[] = {btc(1, T0 + HOUR, 1, "100", "1"), btc(2, T0 + DAY + HOUR, 0, "110", "1")};
    pa_agg_result r = agg(f, 2, T0 + 12 * HOUR, T0 + 2 * DAY + HOUR);
    assert_true(r.pnl == 10.0);
    assert_int_equal(r.trades, 1);
    assert_int_equal(r.sharpe_defined, 1);
    assert_close_rel(r.sharpe, 11.030261405182866, 1e-13);
    assert_close_rel(r.sharpe, sqrt(365.0 / 3.0), 1e-13);
}

static void test_sharpe_matches_python_statistics(void **state)
{
    (void)state;
    /* An irregular five-day series, d = [0.12345678, -0.5, 3.14159265, 0,
     * 2.71828183], each day a 1-unit round trip whose price difference is
     * the day's value (day 4 has no fill at all).
     * /usr/bin/python3 -c 'import statistics as s,math;
     *   d=[0.12345678,-0.5,3.14159265,0,2.71828183];
     *   print(repr(s.mean(d)/s.stdev(d)*math.sqrt(365)))'
     * -> 12.351038571937346
     * pnl = 0.12345678 - 0.5 + 3.14159265 + 2.71828183 = 5.48333126 */
    pa_fill f[] = {btc(1, T0 + HOUR, 1, "100", "1"),
                   btc(2, T0 + 2 * HOUR, 0, "100.12345678", "1"),
                   btc(3, T0 + DAY + HOUR, 1, "100", "1"),
                   btc(4, T0 + DAY + 2 * HOUR, 0, "99.5", "1"),
                   btc(5, T0 + 2 * DAY + HOUR, 1, "100", "1"),
                   btc(6, T0 + 2 * DAY + 2 * HOUR, 0, "103.14159265", "1"),
                   btc(7, T0 + 4 * DAY + HOUR, 1, "100", "1"),
                   btc(8, T0 + 4 * DAY + 2 * HOUR, 0, "102.71828183", "1")};
    pa_agg_result r = agg(f, 8, T0, T0 + 5 * DAY);
    assert_true(r.pnl == 5.48333126);
    assert_int_equal(r.sharpe_defined, 1);
    assert_close_rel(r.sharpe, 12.351038571937346, 1e-12);
}

static void test_sharpe_undefined(void **state)
{
    (void)state;
    /* One day (even a busy one): fewer than 2 observations. */
    pa_fill one[] = {btc(1, T0 + HOUR, 1, "100", "1"), btc(2, T0 + 2 * HOUR, 0, "110", "1")};
    pa_agg_result r = agg(one, 2, T0, T0 + DAY);
    assert_int_equal(r.sharpe_defined, 0);
    assert_true(r.pnl == 10.0);

    /* Two days of +10 each: zero deviation. */
    pa_fill flat[] = {btc(1, T0 + HOUR, 1, "100", "1"), btc(2, T0 + 2 * HOUR, 0, "110", "1"),
                      btc(3, T0 + DAY + HOUR, 1, "100", "1"), btc(4, T0 + DAY + 2 * HOUR, 0, "110", "1")};
    r = agg(flat, 4, T0, T0 + 2 * DAY);
    assert_int_equal(r.sharpe_defined, 0);
    assert_true(r.pnl == 20.0);

    /* No fills over three days: [0, 0, 0]. */
    pa_agg_params p = {.from_ms = T0, .to_ms = T0 + 3 * DAY, .currency = "USDT"};
    assert_int_equal(pa_aggregate(NULL, 0, &p, &r), 0);
    pa_agg_result_free(&r);
    assert_int_equal(r.sharpe_defined, 0);
    assert_true(r.pnl == 0.0 && r.volume == 0.0 && r.trades == 0);
}

static void test_sharpe_ignores_binary_dust(void **state)
{
    (void)state;
    /* Two days that each make 0.1 in decimal: (110.1 - 110) * 1 and
     * (1000.1 - 1000) * 1. In binary these are 0.09999999999999432 and
     * 0.10000000000002274; unrounded they would differ by 3e-14 and give a
     * "sharpe" near 1e14. Days are money values rounded to 8 decimals, so
     * the series is [0.1, 0.1]: constant, sharpe null. */
    pa_fill f[] = {btc(1, T0 + HOUR, 1, "110", "1"), btc(2, T0 + 2 * HOUR, 0, "110.1", "1"),
                   btc(3, T0 + DAY + HOUR, 1, "1000", "1"), btc(4, T0 + DAY + 2 * HOUR, 0, "1000.1", "1")};
    pa_agg_result r = agg(f, 4, T0, T0 + 2 * DAY);
    assert_int_equal(r.sharpe_defined, 0);
    assert_true(r.pnl == 0.2);
}

/* ---- docs/METRICS.md's worked example ----------------------------------- */

static void test_metrics_doc_example(void **state)
{
    (void)state;
    /* Same fills, same numbers as the worked example in docs/METRICS.md;
     * the arithmetic is written out there. Window 2024-03-01 .. 2024-03-04. */
    const int64_t mar1 = 1709251200000LL; /* 2024-03-01T00:00:00Z */
    pa_fill f[] = {
        mk("BTCUSDT", "BTC", "USDT", 101, mar1 - DAY - 14 * HOUR, 1, "60000", "0.5", "0.0005", "BTC"),
        mk("BTCUSDT", "BTC", "USDT", 102, mar1 + 9 * HOUR, 1, "62000", "0.25", "15.5", "USDT"),
        mk("BTCUSDT", "BTC", "USDT", 103, mar1 + DAY + 14 * HOUR, 0, "64000", "0.6", "0.03", "BNB"),
        mk("ETHBTC", "ETH", "BTC", 201, mar1 + DAY + 15 * HOUR, 1, "0.055", "1", "0.001", "ETH"),
        mk("BTCUSDT", "BTC", "USDT", 104, mar1 + 2 * DAY + 8 * HOUR, 0, "61000", "0.2", "12.2", "USDT"),
        mk("BTCUSDT", "BTC", "USDT", 105, mar1 + 3 * DAY, 0, "65000", "1", "65", "USDT"),
    };
    pa_agg_result r = agg(f, PA_ARRAY_LEN(f), mar1, mar1 + 3 * DAY);
    assert_int_equal(r.trades, 3);
    assert_true(r.volume == 66100.0);
    assert_true(r.pnl == 2022.3);
    assert_dec(r.pnl_exact, "2022.3");
    assert_dec(r.volume_exact, "66100");
    assert_dec(r.unmatched_qty_exact, "0.05");
    assert_int_equal(r.excluded_trades, 1);
    assert_int_equal(r.unpriced_fees, 1);
    assert_true(r.unmatched_qty == 0.05);
    assert_int_equal(r.sharpe_defined, 1);
    /* /usr/bin/python3 -c 'import statistics as s,math; d=[-15.5,2200,-162.2];
     *   print(repr(s.mean(d)/s.stdev(d)*math.sqrt(365)))'  -> 9.730744288661556
     * (the exact value is 9.7307442886615579...; Python is 2 ulp low, hence the
     * relative tolerance rather than equality) */
    assert_close_rel(r.sharpe, 9.730744288661556, 1e-12);
    assert_close_rel(r.sharpe, 9.7307442886615579, 1e-15);
}

/* ---- ordering ----------------------------------------------------------- */

static void test_unsorted_input_same_result(void **state)
{
    (void)state;
    /* A mixed book over three days: two USDT symbols, fees in all three
     * kinds, a pre-window lot, an oversell and an excluded pair. Any order
     * of the same fills must give a bit-identical result. */
    pa_fill s[] = {
        mk("BTCUSDT", "BTC", "USDT", 10, T0 - DAY, 1, "40000.5", "0.3", "0.012", "USDT"),
        mk("BTCUSDT", "BTC", "USDT", 11, T0 + HOUR, 1, "41000.25", "0.2", "0.0002", "BTC"),
        mk("ETHUSDT", "ETH", "USDT", 20, T0 + HOUR, 1, "2200.1", "1.5", "0.001", "BNB"),
        mk("BTCUSDT", "BTC", "USDT", 12, T0 + DAY, 0, "42000.75", "0.35", "0.014", "USDT"),
        mk("ETHUSDT", "ETH", "USDT", 21, T0 + DAY + HOUR, 0, "2150.3", "2.0", "0.0015", "ETH"),
        mk("ETHBTC", "ETH", "BTC", 30, T0 + DAY + HOUR, 1, "0.052", "1", "0", "ETH"),
        mk("BTCUSDT", "BTC", "USDT", 13, T0 + 2 * DAY, 0, "39000", "0.2", "0.0001", "BNB"),
    };
    const size_t n = PA_ARRAY_LEN(s);
    pa_agg_result want = agg(s, n, T0, T0 + 3 * DAY);
    /* BTC: lots 0.3 @ 40000.5 (pre-window), 0.2 @ 41000.25
     *   day 2 sell 0.35 @ 42000.75: 0.3 * 2000.25 + 0.05 * 1000.5 = 600.075 + 50.025 = 650.1
     *   day 3 sell 0.2 @ 39000: 0.15 * (39000 - 41000.25) = -300.0375; 0.05 unmatched
     * ETH: lot 1.5 @ 2200.1; day 2 sell 2 @ 2150.3: 1.5 * -49.8 = -74.7; 0.5 unmatched
     * fees: 0.0002 * 41000.25 = 8.20005; 0.014; 0.0015 * 2150.3 = 3.22545; BNB x2
     * pnl = 650.1 - 300.0375 - 74.7 - 8.20005 - 0.014 - 3.22545 = 263.923 */
    assert_true(want.pnl == 263.923);
    assert_dec(want.pnl_exact, "263.923");
    assert_true(want.unmatched_qty == 0.55);
    assert_int_equal(want.unpriced_fees, 2);
    assert_int_equal(want.excluded_trades, 1);
    assert_int_equal(want.trades, 5);
    assert_int_equal(want.sharpe_defined, 1);

    pa_fill u[PA_ARRAY_LEN(s)];
    /* n = 7 is prime, so i -> (i * k + k) mod n permutes for every k in 1..n-1. */
    for (size_t k = 1; k < n; k++) {
        for (size_t i = 0; i < n; i++)
            u[i] = s[(i * k + k) % n];
        pa_agg_result got = agg(u, n, T0, T0 + 3 * DAY);
        assert_memory_equal(&got, &want, sizeof got);
    }
    for (size_t i = 0; i < n; i++) /* reversed */
        u[i] = s[n - 1 - i];
    pa_agg_result got = agg(u, n, T0, T0 + 3 * DAY);
    assert_memory_equal(&got, &want, sizeof got);
}

/* ---- validation --------------------------------------------------------- */

static void test_invalid_input(void **state)
{
    (void)state;
    pa_fill ok = btc(1, T0 + HOUR, 1, "100", "1"), f[2];
    pa_agg_params p = {.from_ms = T0, .to_ms = T0 + DAY, .currency = "USDT"};
    pa_agg_result r;

    assert_int_equal(pa_aggregate(&ok, 1, &p, &r), 0);
    pa_agg_result_free(&r);
    assert_int_equal(pa_aggregate(&ok, 1, &p, NULL), -1);
    assert_int_equal(pa_aggregate(&ok, 1, NULL, &r), -1);
    assert_int_equal(pa_aggregate(NULL, 1, &p, &r), -1);
    /* n beyond the cap is refused before the array is read */
    assert_int_equal(pa_aggregate(&ok, (size_t)PA_FILLS_MAX + 1, &p, &r), -1);

    pa_agg_params q = p;
    q.to_ms = q.from_ms; /* empty window */
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), -1);
    q.to_ms = q.from_ms - 1; /* reversed */
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), -1);
    q = p;
    q.currency = NULL;
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), -1);
    q.currency = "";
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), -1);
    q.currency = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"; /* longer than any asset field */
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), -1);
    q = p;
    q.from_ms = INT64_MIN; /* outside years 0000-9999 */
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), -1);
    q = p;
    q.to_ms = INT64_MAX;
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), -1);
    q = p;
    q.to_ms = T0 + 36601 * DAY; /* more days than the series may hold */
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), -1);
    q.to_ms = T0 + 36600 * DAY;
    assert_int_equal(pa_aggregate(&ok, 1, &q, &r), 0);
    pa_agg_result_free(&r);

    /* Bad amounts: negative (even by one unit), or outside pa_dec's range. */
    pa_dec huge = dec("10000000000000000000000");
    huge.v += 1;
    pa_dec bad[] = {dec("-1"), dec("-0.0000000000000001"), huge};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        f[0] = ok;
        f[0].price = bad[i];
        assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);
        f[0] = ok;
        f[0].qty = bad[i];
        assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);
        f[0] = ok;
        f[0].quote_qty = bad[i];
        assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);
        f[0] = ok;
        f[0].commission = bad[i];
        assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);
    }
    /* A bad fill anywhere fails the whole call, even outside the window. */
    f[0] = ok;
    f[1] = btc(2, T0 + 5 * DAY, 0, "3", "1");
    f[1].price = dec("-3");
    assert_int_equal(pa_aggregate(f, 2, &p, &r), -1);

    /* Strings: unterminated, empty, fee without an asset. */
    f[0] = ok;
    memset(f[0].symbol, 'A', sizeof f[0].symbol);
    assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);
    f[0] = ok;
    memset(f[0].commission_asset, 'B', sizeof f[0].commission_asset);
    assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);
    f[0] = ok;
    f[0].quote[0] = '\0';
    assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);
    f[0] = ok;
    f[0].commission = dec("0.1");
    f[0].commission_asset[0] = '\0';
    assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);
    f[0].commission = dec("0"); /* no fee: the asset may be empty */
    assert_int_equal(pa_aggregate(f, 1, &p, &r), 0);
    pa_agg_result_free(&r);

    /* Times outside years 0000-9999. */
    f[0] = ok;
    f[0].time_ms = INT64_MIN;
    assert_int_equal(pa_aggregate(f, 1, &p, &r), -1);

    /* Same (symbol, id) twice, even at different times. */
    f[0] = ok;
    f[1] = btc(1, T0 + 2 * HOUR, 0, "110", "1");
    assert_int_equal(pa_aggregate(f, 2, &p, &r), -1);
    /* Same symbol, different pair. */
    f[1] = mk("BTCUSDT", "BTC", "FDUSD", 2, T0 + 2 * HOUR, 0, "110", "1", "0", "BTC");
    assert_int_equal(pa_aggregate(f, 2, &p, &r), -1);
    /* Same id in another symbol is fine. */
    f[1] = mk("ETHUSDT", "ETH", "USDT", 1, T0 + 2 * HOUR, 0, "110", "1", "0", "ETH");
    assert_int_equal(pa_aggregate(f, 2, &p, &r), 0);
    pa_agg_result_free(&r);
}

/* ---- exact money -------------------------------------------------------- */

static void test_thousands_of_fills_sum_exactly(void **state)
{
    (void)state;
    /* 3000 round trips on one day, quantities 0.1 and 0.2 alternating at
     * prices 0.3 and 0.7 (buy) -> 0.4 and 0.9 (sell):
     *   odd  k: buy 0.1 @ 0.3, sell 0.1 @ 0.4 -> +0.01; volume 0.03 + 0.04
     *   even k: buy 0.2 @ 0.7, sell 0.2 @ 0.9 -> +0.04; volume 0.14 + 0.18
     * 1500 of each: pnl = 1500 * 0.05 = 75, volume = 1500 * 0.39 = 585.
     * In binary every one of these amounts is inexact, and (0.4 - 0.3) * 0.1
     * alone is 0.010000000000000004; the decimal sums are exact to the last
     * digit, with nothing left for rounding to hide. */
    enum { TRIPS = 3000 };
    static pa_fill f[2 * TRIPS];
    for (int k = 0; k < TRIPS; k++) {
        const int odd = k % 2 == 0;
        const int64_t t = T0 + 10 * (int64_t)k;
        f[2 * k] = btc(2 * k + 1, t, 1, odd ? "0.3" : "0.7", odd ? "0.1" : "0.2");
        f[2 * k + 1] = btc(2 * k + 2, t + 1, 0, odd ? "0.4" : "0.9", odd ? "0.1" : "0.2");
    }
    pa_agg_result r = agg(f, 2 * TRIPS, T0, T0 + DAY);
    assert_int_equal(r.trades, 2 * TRIPS);
    assert_dec(r.pnl_exact, "75");
    assert_dec(r.volume_exact, "585");
    assert_dec(r.unmatched_qty_exact, "0");
    assert_true(r.pnl == 75.0 && r.volume == 585.0 && r.unmatched_qty == 0.0);
    /* What the same sums give in binary: not 75 and 585 exactly. */
    double fp = 0, fv = 0;
    for (int k = 0; k < TRIPS; k++) {
        const int odd = k % 2 == 0;
        fp += ((odd ? 0.4 : 0.9) - (odd ? 0.3 : 0.7)) * (odd ? 0.1 : 0.2);
        fv += (odd ? 0.3 : 0.7) * (odd ? 0.1 : 0.2) + (odd ? 0.4 : 0.9) * (odd ? 0.1 : 0.2);
    }
    assert_true(fp != 75.0 && fv != 585.0);
}

static void test_ties_round_away_from_exact_value(void **state)
{
    (void)state;
    /* 1001 round trips of 0.5 bought at 100.00000002 and sold at
     * 100.00000003: each realises 0.5 * 0.00000001 = 0.000000005, so the day
     * makes exactly 0.000005005, a tie at the 9th decimal: rounded half
     * away from zero, pnl = 0.00000501.
     * volume = 1001 * (50.00000001 + 50.000000015) = 100100.000025025, also
     * a tie: 100100.00002503.
     * In binary 100.00000003 - 100.00000002 is 9.99999372e-9, so a double
     * computation lands below the tie and gives 0.000005 (checked below). */
    enum { TRIPS = 1001 };
    static pa_fill f[2 * TRIPS];
    for (int k = 0; k < TRIPS; k++) {
        const int64_t t = T0 + 10 * (int64_t)k;
        f[2 * k] = btc(2 * k + 1, t, 1, "100.00000002", "0.5");
        f[2 * k + 1] = btc(2 * k + 2, t + 1, 0, "100.00000003", "0.5");
    }
    pa_agg_result r = agg(f, 2 * TRIPS, T0, T0 + DAY);
    assert_dec(r.pnl_exact, "0.00000501");
    assert_true(r.pnl == 0.00000501);
    assert_dec(r.volume_exact, "100100.00002503");
    assert_true(r.volume == 100100.00002503);
    long double fp = 0;
    for (int k = 0; k < TRIPS; k++)
        fp += ((long double)100.00000003 - 100.00000002) * 0.5L;
    assert_true(fp < 0.000005005L); /* binary would round this tie down */
}

static void test_daily_rounding_and_pnl_sum(void **state)
{
    (void)state;
    /* Base-asset fees make 16-decimal amounts: day 1 buys 1 @ 0.12345678
     * with fee 0.00000005 (base) -> 0.00000005 * 0.12345678 =
     * 0.000000006172839; day 1 = -0.000000006172839 -> -0.00000001.
     * Day 2 sells 1 @ 0.12345679 -> +0.00000001, fee 0 -> 0.00000001.
     * pnl = -0.00000001 + 0.00000001 = 0 (the sum of the rounded days, not
     * the round of 0.000000003827161, which would also be 0 here).
     * Series [-1e-8, 1e-8]: mean 0 -> sharpe 0 (defined, not null). */
    pa_fill f[] = {mk("BTCUSDT", "BTC", "USDT", 1, T0 + HOUR, 1, "0.12345678", "1",
                      "0.00000005", "BTC"),
                   btc(2, T0 + DAY + HOUR, 0, "0.12345679", "1")};
    pa_agg_result r = agg(f, 2, T0, T0 + 2 * DAY);
    assert_dec(r.pnl_exact, "0");
    assert_true(r.pnl == 0.0 && !signbit(r.pnl));
    assert_int_equal(r.sharpe_defined, 1);
    assert_true(r.sharpe == 0.0);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    /* Amounts from the exchange cannot get there (each is below 10^11, a
     * million of them below 10^17), but a sum beyond pa_dec's 10^22 is
     * refused rather than wrapped or rounded. */
    pa_fill f[] = {btc(1, T0 + HOUR, 1, "1", "1"), btc(2, T0 + 2 * HOUR, 1, "1", "1")};
    f[0].quote_qty = dec("6000000000000000000000");
    f[1].quote_qty = dec("6000000000000000000000");
    pa_agg_params p = {.from_ms = T0, .to_ms = T0 + DAY, .currency = "USDT"};
    pa_agg_result r;
    assert_int_equal(pa_aggregate(f, 2, &p, &r), -1);
    f[1].quote_qty = dec("4000000000000000000000");
    assert_int_equal(pa_aggregate(f, 2, &p, &r), 0);
    pa_agg_result_free(&r);
    assert_dec(r.volume_exact, "10000000000000000000000");
    /* A product out of range: (10^12 - 0) * 99999999999 > 10^22. */
    pa_fill g[] = {btc(1, T0 + HOUR, 1, "0", "99999999999"), btc(2, T0 + 2 * HOUR, 0, "1", "1")};
    g[1].price = dec("1000000000000");
    g[1].qty = dec("99999999999");
    assert_int_equal(pa_aggregate(g, 2, &p, &r), -1);
}

static void test_fill_set_amounts(void **state)
{
    (void)state;
    pa_fill f;
    memset(&f, 0, sizeof f);
    assert_int_equal(pa_fill_set_amounts(&f, "60000.01000000", "0.00100000", "60.00001000",
                                         "-0.00100000"),
                     0);
    assert_dec(f.price, "60000.01");
    assert_dec(f.qty, "0.001");
    assert_dec(f.quote_qty, "60.00001");
    assert_dec(f.commission, "-0.001"); /* a rebate parses; pa_aggregate refuses it */
    pa_fill before = f;
    /* Any bad string refuses the whole fill and changes nothing. */
    static const char *const bad[][4] = {
        {"-1", "1", "1", "0"},    {"1", "-1", "1", "0"},         {"1", "1", "-1", "0"},
        {"1e5", "1", "1", "0"},   {"1", "0.000000001", "1", "0"}, {"1", "1", "1", "--1"},
        {NULL, "1", "1", "0"},    {"1", NULL, "1", "0"},         {"1", "1", NULL, "0"},
        {"1", "1", "1", NULL},    {"100000000000", "1", "1", "0"}, {"1", "1", "1", " 0"},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        assert_int_equal(pa_fill_set_amounts(&f, bad[i][0], bad[i][1], bad[i][2], bad[i][3]), -1);
        assert_memory_equal(&f, &before, sizeof f);
    }
    assert_int_equal(pa_fill_set_amounts(NULL, "1", "1", "1", "0"), -1);
}

/* ---- pa_fill_list ------------------------------------------------------- */

static void test_fill_list(void **state)
{
    (void)state;
    pa_fill_list l;
    pa_fill_list_init(&l);
    assert_null(l.v);
    assert_int_equal(l.len, 0);
    /* Enough pushes to grow several times; every fill kept in order. */
    for (int64_t i = 0; i < 5000; i++) {
        char price[32];
        snprintf(price, sizeof price, "%" PRId64 ".5", 100 + i);
        pa_fill f = btc(i, T0 + i, (int)(i % 2), price, "1");
        assert_int_equal(pa_fill_list_push(&l, &f), 0);
    }
    assert_int_equal(l.len, 5000);
    assert_true(l.cap >= 5000 && l.cap <= PA_FILLS_MAX);
    for (size_t i = 0; i < l.len; i++) {
        assert_int_equal(l.v[i].id, (int64_t)i);
        assert_int_equal(pa_dec_cmp(l.v[i].price, plus_half(100 + (int64_t)i)), 0);
    }
    assert_int_equal(pa_fill_list_push(&l, NULL), -1);
    assert_int_equal(pa_fill_list_push(NULL, &l.v[0]), -1);
    assert_int_equal(l.len, 5000);
    pa_fill_list_free(&l);
    assert_null(l.v);
    assert_int_equal(l.len, 0);
    assert_int_equal(l.cap, 0);
    pa_fill_list_free(&l); /* twice is harmless */
    pa_fill_list_free(NULL);

    /* The cap: a full list refuses the next fill without touching memory.
     * (Filling 1e6 real fills would take ~180 MB for no extra insight.) */
    pa_fill one = btc(1, T0, 1, "1", "1");
    pa_fill_list full = {.v = &one, .len = PA_FILLS_MAX, .cap = PA_FILLS_MAX};
    assert_int_equal(pa_fill_list_push(&full, &one), -1);
    assert_int_equal(full.len, PA_FILLS_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_round_trip),
        cmocka_unit_test(test_partial_fills),
        cmocka_unit_test(test_several_lots_one_sell),
        cmocka_unit_test(test_lot_opened_before_window),
        cmocka_unit_test(test_sell_beyond_inventory),
        cmocka_unit_test(test_oversell_before_window_not_reported),
        cmocka_unit_test(test_symbols_have_separate_inventories),
        cmocka_unit_test(test_equal_times_follow_id_order),
        cmocka_unit_test(test_commissions),
        cmocka_unit_test(test_base_fee_on_buy_keeps_gross_lot),
        cmocka_unit_test(test_other_quote_only_excluded),
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_sharpe_three_days),
        cmocka_unit_test(test_sharpe_counts_quiet_days_as_zero),
        cmocka_unit_test(test_sharpe_matches_python_statistics),
        cmocka_unit_test(test_sharpe_undefined),
        cmocka_unit_test(test_sharpe_ignores_binary_dust),
        cmocka_unit_test(test_metrics_doc_example),
        cmocka_unit_test(test_unsorted_input_same_result),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_thousands_of_fills_sum_exactly),
        cmocka_unit_test(test_ties_round_away_from_exact_value),
        cmocka_unit_test(test_daily_rounding_and_pnl_sum),
        cmocka_unit_test(test_overflow_refused),
        cmocka_unit_test(test_fill_set_amounts),
        cmocka_unit_test(test_fill_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
