/* returns.c: empyrical's published test values at 252 periods a year, and
 * Modified Dietz by hand. The empyrical constants are those of its own test
 * suite (empyrical/tests/test_stats.py: simple_benchmark, negative_returns,
 * and the drawdown of [10%, -10%, 10%]). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_dec.h"

#include "returns.h"

#define DAY 86400000LL
#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */

static void assert_rel(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g (relative tolerance %g)", got, want, rel);
}

static const double simple_benchmark[] = {0.01, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
static const double negative_returns[] = {0.00,  -0.06, -0.07, -0.01, -0.09,
                                          -0.02, -0.06, -0.08, -0.05};

static void test_empyrical_sharpe(void **state)
{
    (void)state;
    double s;
    assert_int_equal(pa_ret_sharpe(simple_benchmark, 9, 252, &s), 1);
    assert_rel(s, 52.915026221291804, 1e-14);
    assert_int_equal(pa_ret_sharpe(negative_returns, 9, 252, &s), 1);
    assert_rel(s, -24.406808633910085, 1e-14);
    /* The service's factor: the same ratio times sqrt(365 / 252). */
    double s365;
    assert_int_equal(pa_ret_sharpe(simple_benchmark, 9, 365, &s365), 1);
    assert_rel(s365, 52.915026221291804 * sqrt(365.0 / 252.0), 1e-14);
}

static void test_empyrical_sortino(void **state)
{
    (void)state;
    double s;
    assert_int_equal(pa_ret_sortino(negative_returns, 9, 252, &s), 1);
    assert_rel(s, -13.532743075043401, 1e-14);
    /* No period below 0: no downside deviation, no ratio (empyrical: inf). */
    assert_int_equal(pa_ret_sortino(simple_benchmark, 9, 252, &s), 0);
    /* [0.1, -0.1]: mean 0 -> 0; downside sqrt(0.01 / 2) * sqrt(365). */
    const double two[] = {0.1, -0.1};
    assert_int_equal(pa_ret_sortino(two, 2, 365, &s), 1);
    assert_true(s == 0.0);
}

static void test_empyrical_max_drawdown(void **state)
{
    (void)state;
    const double r[] = {0.10, -0.10, 0.10};
    double dd;
    size_t peak, trough;
    /* index 1, 1.1, 0.99, 1.089: (1.1 - 0.99) / 1.1 = 0.1, peak after r[0]. */
    assert_int_equal(pa_ret_max_drawdown(r, 3, &dd, &peak, &trough), 1);
    assert_rel(dd, 0.10, 1e-15);
    assert_int_equal(peak, 1);
    assert_int_equal(trough, 2);
    /* Rising only: no fall, both positions 0. */
    assert_int_equal(pa_ret_max_drawdown(simple_benchmark, 9, &dd, &peak, &trough), 1);
    assert_true(dd == 0.0);
    assert_int_equal(peak, 0);
    assert_int_equal(trough, 0);
    /* A fall from the start: the peak is the starting value (position 0).
     * -6%, then 1.02: index 0.94, 0.9588; deepest 0.06 at position 1. */
    const double down[] = {-0.06, 0.02};
    assert_int_equal(pa_ret_max_drawdown(down, 2, &dd, &peak, &trough), 1);
    assert_rel(dd, 0.06, 1e-15);
    assert_int_equal(peak, 0);
    assert_int_equal(trough, 1);
    assert_int_equal(pa_ret_max_drawdown(down, 0, &dd, &peak, &trough), 0);
}

static void test_volatility_cumulative_calmar(void **state)
{
    (void)state;
    double v, c, a, k;
    /* sd (ddof 1) of simple_benchmark is 1/300 (mean 10/900; squared
     * deviations 8 * (1/900)^2 + (8/900)^2 = 72/810000; / 8 -> 1/90000). */
    assert_int_equal(pa_ret_volatility(simple_benchmark, 9, 252, &v), 1);
    assert_rel(v, sqrt(252.0) / 300.0, 1e-14);
    assert_int_equal(pa_ret_volatility(simple_benchmark, 1, 252, &v), 0);
    const double flat[] = {0, 0, 0};
    assert_int_equal(pa_ret_volatility(flat, 3, 365, &v), 1);
    assert_true(v == 0.0);
    assert_int_equal(pa_ret_sharpe(flat, 3, 365, &v), 0); /* constant: no ratio */
    /* 1.1 * 0.9 * 1.1 - 1 = 0.089 */
    const double r[] = {0.10, -0.10, 0.10};
    assert_int_equal(pa_ret_cumulative(r, 3, &c), 1);
    assert_rel(c, 0.089, 1e-14);
    assert_int_equal(pa_ret_cumulative(r, 0, &c), 1);
    assert_true(c == 0.0);
    /* Over 3 periods at 252: 1.089^(252/3) - 1, and calmar = that / 0.1. */
    assert_int_equal(pa_ret_annual_return(0.089, 3, 252, &a), 1);
    assert_rel(a, pow(1.089, 84.0) - 1.0, 1e-12);
    assert_int_equal(pa_ret_calmar(a, 0.1, &k), 1);
    assert_rel(k, a / 0.1, 1e-15);
    assert_int_equal(pa_ret_calmar(a, 0.0, &k), 0);
    assert_int_equal(pa_ret_annual_return(-1.0, 3, 252, &a), 0); /* the index at 0 */
}

static pa_flow flow(int64_t t, const char *amount)
{
    pa_flow f;
    memset(&f, 0, sizeof f);
    f.time_ms = t;
    f.amount = dec(amount);
    f.kind = f.amount.v > 0 ? PA_FLOW_DEPOSIT : PA_FLOW_WITHDRAWAL;
    return f;
}

static void test_modified_dietz(void **state)
{
    (void)state;
    double r;
    pa_dec gain;
    /* No flow: (1010 - 1000) / 1000. */
    assert_int_equal(
        pa_ret_modified_dietz(dec("1000"), dec("1010"), NULL, 0, T0, T0 + DAY, &r, &gain), 1);
    assert_rel(r, 0.01, 1e-15);
    assert_dec(gain, "10");
    /* A deposit of 1000 at noon is invested half the day:
     * gain = 2030 - 1010 - 1000 = 20; base = 1010 + 0.5 * 1000 = 1510. */
    pa_flow f[] = {flow(T0 - 1, "777"), flow(T0 + DAY / 2, "1000"), flow(T0 + DAY, "555")};
    assert_int_equal(pa_ret_modified_dietz(dec("1010"), dec("2030"), f, 3, T0, T0 + DAY, &r, &gain),
                     1);
    assert_rel(r, 20.0 / 1510.0, 1e-15);
    assert_dec(gain, "20");
    /* A withdrawal of 500 at 06:00 (weight 18/24): gain = 1530 - 2000 + 500
     * = 30; base = 2000 - 0.75 * 500 = 1625. */
    pa_flow w[] = {flow(T0 + DAY / 4, "-500")};
    assert_int_equal(pa_ret_modified_dietz(dec("2000"), dec("1530"), w, 1, T0, T0 + DAY, &r, &gain),
                     1);
    assert_rel(r, 30.0 / 1625.0, 1e-15);
    /* A flow at the start counts in full, one at the end is the next
     * period's. */
    pa_flow e[] = {flow(T0, "100"), flow(T0 + DAY, "100")};
    assert_int_equal(pa_ret_modified_dietz(dec("0"), dec("110"), e, 2, T0, T0 + DAY, &r, &gain), 1);
    assert_rel(r, 0.1, 1e-15);
    /* Nothing invested, nothing gained: 0. A gain on no capital: undefined. */
    assert_int_equal(pa_ret_modified_dietz(dec("0"), dec("0"), NULL, 0, T0, T0 + DAY, &r, &gain),
                     1);
    assert_true(r == 0.0);
    assert_int_equal(pa_ret_modified_dietz(dec("0"), dec("5"), NULL, 0, T0, T0 + DAY, &r, &gain),
                     0);
    assert_int_equal(pa_ret_modified_dietz(dec("1"), dec("1"), NULL, 0, T0, T0, &r, &gain), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empyrical_sharpe),
        cmocka_unit_test(test_empyrical_sortino),
        cmocka_unit_test(test_empyrical_max_drawdown),
        cmocka_unit_test(test_volatility_cumulative_calmar),
        cmocka_unit_test(test_modified_dietz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
