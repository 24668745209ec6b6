/* pa_dec (src/common/decimal.h): strict parsing of exchange decimal strings,
 * exact arithmetic with refused overflow, round8 half away from zero, the
 * nearest double and the shortest text. Every expected value is written out
 * by hand; tests/fuzz/fuzz_decimal.c checks the same functions against GMP. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decimal.h"

static pa_dec dec(const char *s)
{
    pa_dec d;
    if (pa_dec_parse_str(s, PA_DEC_NEG | PA_DEC_WIDE, &d) != 0)
        fail_msg("test literal %s does not parse", s);
    return d;
}

static void assert_text(pa_dec d, const char *want)
{
    char s[PA_DEC_STR_MAX];
    pa_dec_format(d, s);
    if (strcmp(s, want) != 0)
        fail_msg("got %s, want %s", s, want);
}

static void assert_parses(const char *s, unsigned flags, const char *want)
{
    pa_dec d;
    if (pa_dec_parse_str(s, flags, &d) != 0)
        fail_msg("\"%s\" (flags %u) refused", s, flags);
    assert_text(d, want);
}

static void assert_refused(const char *s, unsigned flags)
{
    pa_dec d = pa_dec_from_int(7);
    if (pa_dec_parse_str(s, flags, &d) == 0)
        fail_msg("\"%s\" (flags %u) accepted", s, flags);
    assert_text(d, "7"); /* untouched on failure */
}

/* ---- parsing ------------------------------------------------------------- */

static void test_parse_amounts(void **state)
{
    (void)state;
    /* What Binance writes: 8 decimals, trailing zeros included. */
    assert_parses("0.00100000", 0, "0.001");
    assert_parses("60000.00000000", 0, "60000");
    assert_parses("60000", 0, "60000");
    assert_parses("0", 0, "0");
    assert_parses("0.00000001", 0, "0.00000001");
    assert_parses("12.3", 0, "12.3");
    /* The largest amount: 11 integer and 8 fractional digits. */
    assert_parses("99999999999.99999999", 0, "99999999999.99999999");
    /* The largest 64-bit count of 10^-8 units (a likely internal ceiling) fits. */
    assert_parses("92233720368.54775807", 0, "92233720368.54775807");
    /* Signs: only with PA_DEC_NEG, and -0 is 0 (there is no negative zero). */
    assert_parses("-0.5", PA_DEC_NEG, "-0.5");
    assert_parses("-0", PA_DEC_NEG, "0");
    assert_parses("-0.00000000", PA_DEC_NEG, "0");
    pa_dec z;
    assert_int_equal(pa_dec_parse_str("-0.00000000", PA_DEC_NEG, &z), 0);
    assert_int_equal(pa_dec_sign(z), 0);
    assert_true(!signbit(pa_dec_to_double(z)));
}

static void test_parse_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",      "-",     ".",     ".5",     "5.",     "1.2.3",  "+1",     " 1",    "1 ",
        "1e5",   "1E5",   "1e-8",  "nan",    "inf",    "0x10",   "--1",    "-+1",   "01",
        "00.1",  "-01",   "1,5",   "1_000",  "١",      "0.-1",   "1.+1",   "\t1",   "-.5",
        "0.000000001",                 /* 9 fractional digits */
        "100000000000",                /* 12 integer digits */
        "0.100000000",                 /* 9 fractional digits, even if the last is 0 */
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        assert_refused(bad[i], 0);
        assert_refused(bad[i], PA_DEC_NEG);
    }
    assert_refused("-1", 0); /* a sign needs PA_DEC_NEG */
    assert_refused("-0", 0);
    /* An embedded NUL ends nothing: the length is what is parsed. */
    pa_dec d;
    assert_int_equal(pa_dec_parse("1\0002", 3, 0, &d), -1);
    assert_int_equal(pa_dec_parse("12", 1, 0, &d), 0);
    assert_text(d, "1");
    assert_int_equal(pa_dec_parse(NULL, 0, 0, &d), -1);
    assert_int_equal(pa_dec_parse_str(NULL, 0, &d), -1);
    assert_int_equal(pa_dec_parse_str("1", 0, NULL), -1);
}

static void test_parse_wide(void **state)
{
    (void)state;
    /* PA_DEC_WIDE: what pa_dec_format writes, the whole range. */
    assert_parses("0.0000000000000001", PA_DEC_WIDE, "0.0000000000000001");
    assert_parses("10000000000000000000000", PA_DEC_WIDE, "10000000000000000000000");
    assert_parses("-10000000000000000000000", PA_DEC_WIDE | PA_DEC_NEG,
                  "-10000000000000000000000");
    assert_parses("9999999999999999999999.9999999999999999", PA_DEC_WIDE,
                  "9999999999999999999999.9999999999999999");
    assert_refused("10000000000000000000000.0000000000000001", PA_DEC_WIDE); /* > 10^22 */
    assert_refused("10000000000000000000001", PA_DEC_WIDE);
    assert_refused("99999999999999999999999", PA_DEC_WIDE);  /* 23 digits, > 10^22 */
    assert_refused("100000000000000000000000", PA_DEC_WIDE); /* 24 digits */
    assert_refused("0.00000000000000001", PA_DEC_WIDE);      /* 17 fractional digits */
}

/* ---- arithmetic ---------------------------------------------------------- */

static void test_add_sub_carries(void **state)
{
    (void)state;
    pa_dec r;
    assert_int_equal(pa_dec_add(dec("0.1"), dec("0.2"), &r), 0);
    assert_text(r, "0.3");
    assert_true(pa_dec_cmp(r, dec("0.3")) == 0); /* not 0.30000000000000004 */
    /* Carries through every digit. */
    assert_int_equal(pa_dec_add(dec("99999999999.99999999"), dec("0.00000001"), &r), 0);
    assert_text(r, "100000000000");
    assert_int_equal(pa_dec_add(dec("0.9999999999999999"), dec("0.0000000000000001"), &r), 0);
    assert_text(r, "1");
    assert_int_equal(pa_dec_sub(dec("100000000000"), dec("0.00000001"), &r), 0);
    assert_text(r, "99999999999.99999999");
    assert_int_equal(pa_dec_sub(dec("0.1"), dec("0.3"), &r), 0);
    assert_text(r, "-0.2");
    assert_int_equal(pa_dec_sub(dec("-0.5"), dec("-0.5"), &r), 0);
    assert_text(r, "0");
    assert_int_equal(pa_dec_sign(r), 0);
}

static void test_range_refused(void **state)
{
    (void)state;
    const pa_dec max = dec("10000000000000000000000"), min = dec("-10000000000000000000000");
    const pa_dec tiny = dec("0.0000000000000001");
    pa_dec r = pa_dec_from_int(5);
    assert_int_equal(pa_dec_add(max, tiny, &r), -1);
    assert_text(r, "5"); /* untouched */
    assert_int_equal(pa_dec_add(max, max, &r), -1);
    assert_int_equal(pa_dec_add(min, min, &r), -1);
    assert_int_equal(pa_dec_sub(min, tiny, &r), -1);
    assert_int_equal(pa_dec_sub(max, min, &r), -1);
    assert_int_equal(pa_dec_add(max, min, &r), 0);
    assert_text(r, "0");
    assert_int_equal(pa_dec_sub(max, tiny, &r), 0);
    assert_text(r, "9999999999999999999999.9999999999999999");
    assert_int_equal(pa_dec_mul(max, dec("1.0000000000000001"), &r), -1);
    assert_int_equal(pa_dec_mul(max, dec("-1"), &r), 0);
    assert_text(r, "-10000000000000000000000");
    assert_int_equal(pa_dec_mul(dec("100000000000"), dec("100000000000"), &r), 0);
    assert_text(r, "10000000000000000000000");
    assert_int_equal(pa_dec_mul(dec("100000000000"), dec("100000000000.0000001"), &r), -1);
    /* An invalid value (outside the range) is refused as an input. */
    pa_dec bad = max;
    bad.v += 1;
    assert_false(pa_dec_valid(bad));
    assert_true(pa_dec_valid(max) && pa_dec_valid(min));
    assert_int_equal(pa_dec_add(bad, pa_dec_from_int(0), &r), -1);
    assert_int_equal(pa_dec_sub(pa_dec_from_int(0), bad, &r), -1);
    assert_int_equal(pa_dec_mul(bad, pa_dec_from_int(0), &r), -1);
    assert_int_equal(pa_dec_add(max, max, NULL), -1);
}

static void test_mul_exact(void **state)
{
    (void)state;
    pa_dec r;
    /* Two 8-decimal amounts: 16 decimals, exact. */
    assert_int_equal(pa_dec_mul(dec("0.12345678"), dec("1.23456789"), &r), 0);
    assert_text(r, "0.1524157763907942"); /* 12345678 * 123456789 = 1524157763907942 */
    assert_int_equal(pa_dec_mul(dec("0.00000001"), dec("0.00000001"), &r), 0);
    assert_text(r, "0.0000000000000001");
    assert_int_equal(pa_dec_mul(dec("-64000"), dec("0.6"), &r), 0);
    assert_text(r, "-38400");
    assert_int_equal(pa_dec_mul(dec("-2"), dec("-0.5"), &r), 0);
    assert_text(r, "1");
    assert_int_equal(pa_dec_mul(dec("-2"), dec("0"), &r), 0);
    assert_text(r, "0");
    assert_int_equal(pa_dec_sign(r), 0);
    /* The largest product of two amounts fits. */
    assert_int_equal(pa_dec_mul(dec("99999999999.99999999"), dec("99999999999.99999999"), &r), 0);
    assert_text(r, "9999999999999999998000.0000000000000001");
    /* More than 16 fractional digits would need rounding: refused... */
    assert_int_equal(pa_dec_mul(dec("0.0000000000000001"), dec("0.1"), &r), -1);
    assert_int_equal(pa_dec_mul(dec("0.123456789"), dec("0.123456789"), &r), -1);
    /* ...unless the exact product has 16 or fewer (0.5 * 0.0000000000000002). */
    assert_int_equal(pa_dec_mul(dec("0.5"), dec("0.0000000000000002"), &r), 0);
    assert_text(r, "0.0000000000000001");
    /* A 256-bit intermediate whose exact quotient fits (the product of the
     * raw units is about 10^53, far above 2^128). */
    assert_int_equal(pa_dec_mul(dec("1234567890123.4567890123456789"),
                                dec("1000000000.0000000000000000"), &r), 0);
    assert_text(r, "1234567890123456789012.3456789");
}

static void test_cmp_sign(void **state)
{
    (void)state;
    assert_int_equal(pa_dec_cmp(dec("0.1"), dec("0.10000000")), 0);
    assert_int_equal(pa_dec_cmp(dec("0.1"), dec("0.0999999999999999")), 1);
    assert_int_equal(pa_dec_cmp(dec("-0.1"), dec("0")), -1);
    assert_int_equal(pa_dec_sign(dec("-0.0000000000000001")), -1);
    assert_int_equal(pa_dec_sign(dec("0.0000000000000001")), 1);
    assert_text(pa_dec_from_int(INT64_MIN), "-9223372036854775808");
    assert_text(pa_dec_from_int(INT64_MAX), "9223372036854775807");
    assert_text(pa_dec_from_int(0), "0");
}

/* ---- round8 -------------------------------------------------------------- */

static void test_round8(void **state)
{
    (void)state;
    /* Half away from zero at the 9th decimal. */
    assert_text(pa_dec_round8(dec("0.123456785")), "0.12345679");
    assert_text(pa_dec_round8(dec("-0.123456785")), "-0.12345679");
    assert_text(pa_dec_round8(dec("0.1234567849999999")), "0.12345678");
    assert_text(pa_dec_round8(dec("0.000000005")), "0.00000001");
    assert_text(pa_dec_round8(dec("-0.000000005")), "-0.00000001");
    assert_text(pa_dec_round8(dec("0.0000000049999999")), "0");
    /* Tiny negatives round to 0, not -0. */
    pa_dec z = pa_dec_round8(dec("-0.000000001"));
    assert_text(z, "0");
    assert_int_equal(pa_dec_sign(z), 0);
    assert_true(!signbit(pa_dec_to_double(z)));
    /* Carry into the integer part. */
    assert_text(pa_dec_round8(dec("0.999999995")), "1");
    assert_text(pa_dec_round8(dec("-99.999999995")), "-100");
    /* 8 decimals or fewer: unchanged. */
    assert_text(pa_dec_round8(dec("2.675")), "2.675");
    assert_text(pa_dec_round8(dec("-42.5")), "-42.5");
    /* The extremes stay in range. */
    assert_text(pa_dec_round8(dec("9999999999999999999999.9999999999999999")),
                "10000000000000000000000");
    assert_text(pa_dec_round8(dec("-9999999999999999999999.999999995")),
                "-10000000000000000000000");
    assert_text(pa_dec_round8(dec("-9999999999999999999999.9999999949999999")),
                "-9999999999999999999999.99999999");
}

/* ---- doubles and text ---------------------------------------------------- */

static void test_to_double(void **state)
{
    (void)state;
    /* The nearest double: the same one the C literal and Python's float()
     * give. */
    assert_true(pa_dec_to_double(dec("0.3")) == 0.3);
    assert_true(pa_dec_to_double(dec("0.1")) == 0.1);
    assert_true(pa_dec_to_double(dec("2022.3")) == 2022.3);
    assert_true(pa_dec_to_double(dec("-0.00000001")) == -1e-8);
    assert_true(pa_dec_to_double(dec("0.0000000000000001")) == 1e-16);
    assert_true(pa_dec_to_double(dec("123456789.12345679")) == 123456789.12345679);
    assert_true(pa_dec_to_double(dec("10000000000000000000000")) == 1e22);
    assert_true(pa_dec_to_double(dec("-10000000000000000000000")) == -1e22);
    /* 2^53 + 1 is a tie between 2^53 and 2^53 + 2: to even. */
    assert_true(pa_dec_to_double(dec("9007199254740993")) == 9007199254740992.0);
    assert_true(pa_dec_to_double(dec("9007199254740995")) == 9007199254740996.0);
    /* Just above the tie goes up. */
    assert_true(pa_dec_to_double(dec("9007199254740993.0000000000000001")) ==
                9007199254740994.0);
    double z = pa_dec_to_double(dec("-0"));
    assert_true(z == 0.0 && !signbit(z));
}

static void test_format_round_trip(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "0", "1", "-1", "0.5", "-0.0000000000000001", "12345678901.12345678",
        "10000000000000000000000", "-10000000000000000000000", "0.1000000000000001",
        "9999999999999999999999.9999999999999999",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(texts); i++) {
        pa_dec d = dec(texts[i]);
        char s[PA_DEC_STR_MAX];
        pa_dec_format(d, s);
        assert_string_equal(s, texts[i]);
        pa_dec back;
        assert_int_equal(pa_dec_parse_str(s, PA_DEC_NEG | PA_DEC_WIDE, &back), 0);
        assert_int_equal(pa_dec_cmp(back, d), 0);
    }
    /* The longest text fits the buffer. */
    char s[PA_DEC_STR_MAX];
    pa_dec_format(dec("-9999999999999999999999.9999999999999999"), s);
    assert_int_equal(strlen(s), 40);
}

/* 0.1 + 0.2 + ... summed a hundred thousand times: binary doubles drift, the
 * decimal sum is exact. */
static void test_long_sum_exact(void **state)
{
    (void)state;
    pa_dec sum = pa_dec_from_int(0), a = dec("0.1"), b = dec("0.2");
    double fsum = 0;
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(pa_dec_add(sum, a, &sum), 0);
        assert_int_equal(pa_dec_add(sum, b, &sum), 0);
        fsum += 0.1;
        fsum += 0.2;
    }
    assert_text(sum, "30000");
    assert_true(pa_dec_to_double(sum) == 30000.0);
    assert_true(fsum != 30000.0); /* what the old code would have had to round away */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_amounts),   cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_parse_wide),      cmocka_unit_test(test_add_sub_carries),
        cmocka_unit_test(test_range_refused),   cmocka_unit_test(test_mul_exact),
        cmocka_unit_test(test_cmp_sign),        cmocka_unit_test(test_round8),
        cmocka_unit_test(test_to_double),       cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_long_sum_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
