/* libFuzzer driver for src/common/decimal.h, the parser of every amount an
 * exchange sends and the arithmetic behind the signed money figures. The
 * reference is independent code: POSIX regular expressions for the grammar
 * and GMP (exact big integers and rationals) for every value. Input: one
 * flags byte (bit 0 PA_DEC_NEG, bit 1 PA_DEC_WIDE), then two texts separated
 * by the first '\n'. Beyond "no crash":
 *  - a text is accepted exactly when it matches the grammar and its value is
 *    in range, and then holds exactly the value GMP reads from its digits;
 *  - format -> parse (wide) gives the same value, and the text is canonical
 *    (no trailing fractional zeros, no "-0");
 *  - add, sub, mul agree with GMP: the exact result when it is in range (and
 *    for mul has at most 16 fractional digits), -1 otherwise; cmp and sign
 *    agree; round8 is GMP's half-away-from-zero;
 *  - pa_dec_to_double is the nearest double (ties to even), checked with
 *    exact rationals against both neighbours.
 * The operations run on the parsed values and on two values made of the raw
 * input bytes, so the whole range is covered, not only what parses. */
#include <math.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 256

__extension__ typedef unsigned __int128 u128;

static void check(int cond)
{
    if (!cond)
        abort();
}

/* ---- GMP views of a pa_dec ----------------------------------------------- */

static void to_mpz(mpz_t z, pa_dec a)
{
    u128 mag = a.v < 0 ? (u128)0 - (u128)a.v : (u128)a.v;
    uint64_t limbs[2] = {(uint64_t)mag, (uint64_t)(mag >> 64)};
    mpz_import(z, 2, -1, sizeof limbs[0], 0, 0, limbs);
    if (a.v < 0)
        mpz_neg(z, z);
}

static mpz_t g_max, g_unit, g_step8; /* 10^38, 10^16, 10^8 */

static int in_range(const mpz_t z)
{
    return mpz_cmpabs(z, g_max) <= 0;
}

/* ---- parsing ------------------------------------------------------------- */

static regex_t g_re[4]; /* by flags */

static void init_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    static const char *const re[4] = {
        "^(0|[1-9][0-9]{0,10})(\\.[0-9]{1,8})?$",
        "^-?(0|[1-9][0-9]{0,10})(\\.[0-9]{1,8})?$",
        "^(0|[1-9][0-9]{0,22})(\\.[0-9]{1,16})?$",
        "^-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,16})?$",
    };
    for (int i = 0; i < 4; i++)
        check(regcomp(&g_re[i], re[i], REG_EXTENDED | REG_NOSUB) == 0);
    mpz_inits(g_max, g_unit, g_step8, NULL);
    mpz_ui_pow_ui(g_max, 10, 38);
    mpz_ui_pow_ui(g_unit, 10, 16);
    mpz_ui_pow_ui(g_step8, 10, 8);
}

/* The reference reading of text t (NUL-terminated, grammar already
 * matched): its value in units of 10^-16. */
static void ref_value(const char *t, mpz_t z)
{
    char digits[64];
    size_t n = 0, frac = 0;
    int neg = 0, in_frac = 0;
    for (const char *p = t; *p != '\0'; p++) {
        if (*p == '-')
            neg = 1;
        else if (*p == '.')
            in_frac = 1;
        else {
            digits[n++] = *p;
            frac += in_frac;
        }
    }
    while (frac++ < 16)
        digits[n++] = '0';
    digits[n] = '\0';
    check(mpz_set_str(z, digits, 10) == 0);
    if (neg)
        mpz_neg(z, z);
}

static int parse_checked(const char *s, size_t len, unsigned flags, pa_dec *out)
{
    pa_dec d = pa_dec_from_int(42);
    const int ok = pa_dec_parse(s, len, flags, &d) == 0;

    char t[FUZZ_MAX + 1];
    int ref_ok = memchr(s, '\0', len) == NULL;
    mpz_t want, got;
    mpz_inits(want, got, NULL);
    if (ref_ok) {
        memcpy(t, s, len);
        t[len] = '\0';
        ref_ok = regexec(&g_re[flags & 3], t, 0, NULL, 0) == 0;
    }
    if (ref_ok) {
        ref_value(t, want);
        ref_ok = in_range(want);
    }
    check(ok == ref_ok);
    if (ok) {
        to_mpz(got, d);
        check(mpz_cmp(got, want) == 0);
        *out = d;
    } else {
        check(d.v == pa_dec_from_int(42).v); /* untouched on failure */
    }
    mpz_clears(want, got, NULL);
    return ok;
}

static void check_format(pa_dec a)
{
    char s[PA_DEC_STR_MAX];
    pa_dec_format(a, s);
    const size_t n = strlen(s);
    check(n < PA_DEC_STR_MAX);
    pa_dec back;
    check(pa_dec_parse(s, n, PA_DEC_NEG | PA_DEC_WIDE, &back) == 0 && back.v == a.v);
    /* canonical: one text per value */
    if (strchr(s, '.') != NULL)
        check(s[n - 1] != '0');
    check(strcmp(s, "-0") != 0);
}

/* ---- arithmetic ---------------------------------------------------------- */

static void check_result(int rc, pa_dec r, const mpz_t want, int exact)
{
    if (exact && in_range(want)) {
        check(rc == 0);
        mpz_t got;
        mpz_init(got);
        to_mpz(got, r);
        check(mpz_cmp(got, want) == 0);
        mpz_clear(got);
    } else {
        check(rc == -1);
    }
}

static void check_round8(pa_dec a, const mpz_t za)
{
    mpz_t q, r, want, got;
    mpz_inits(q, r, want, got, NULL);
    mpz_abs(q, za);
    mpz_tdiv_qr(q, r, q, g_step8);
    mpz_mul_2exp(r, r, 1);
    if (mpz_cmp(r, g_step8) >= 0) /* 2r >= 10^8: half or more goes away from zero */
        mpz_add_ui(q, q, 1);
    mpz_mul(want, q, g_step8);
    if (mpz_sgn(za) < 0)
        mpz_neg(want, want);
    to_mpz(got, pa_dec_round8(a));
    check(mpz_cmp(got, want) == 0);
    mpz_clears(q, r, want, got, NULL);
}

/* |x - d| compared with |x - e| for doubles d, e and the rational x. */
static int closer_or_equal(const mpq_t x, double d, double e, int *tie)
{
    mpq_t qd, qe;
    mpq_inits(qd, qe, NULL);
    mpq_set_d(qd, d);
    mpq_set_d(qe, e);
    mpq_sub(qd, qd, x);
    mpq_sub(qe, qe, x);
    mpq_abs(qd, qd);
    mpq_abs(qe, qe);
    const int c = mpq_cmp(qd, qe);
    mpq_clears(qd, qe, NULL);
    *tie = c == 0;
    return c <= 0;
}

static void check_double(pa_dec a, const mpz_t za)
{
    const double d = pa_dec_to_double(a);
    check(isfinite(d));
    if (a.v == 0) {
        check(d == 0 && !signbit(d));
        return;
    }
    mpq_t x;
    mpq_init(x);
    mpq_set_num(x, za);
    mpq_set_den(x, g_unit);
    mpq_canonicalize(x);
    int tie_lo, tie_hi;
    check(closer_or_equal(x, d, nextafter(d, -INFINITY), &tie_lo));
    check(closer_or_equal(x, d, nextafter(d, INFINITY), &tie_hi));
    if (tie_lo || tie_hi) { /* ties to even: the last bit of the significand is 0 */
        int e;
        const double m = frexp(fabs(d), &e); /* |d| = m * 2^e, 0.5 <= m < 1 */
        check(fmod(ldexp(m, 53), 2.0) == 0.0);
    }
    mpq_clear(x);
}

static void check_ops(pa_dec a, pa_dec b)
{
    mpz_t za, zb, want, rem;
    mpz_inits(za, zb, want, rem, NULL);
    to_mpz(za, a);
    to_mpz(zb, b);
    pa_dec r = {0};

    mpz_add(want, za, zb);
    check_result(pa_dec_add(a, b, &r), r, want, 1);
    mpz_sub(want, za, zb);
    check_result(pa_dec_sub(a, b, &r), r, want, 1);
    mpz_mul(want, za, zb);
    mpz_tdiv_qr(want, rem, want, g_unit);
    check_result(pa_dec_mul(a, b, &r), r, want, mpz_sgn(rem) == 0);

    const int c = mpz_cmp(za, zb);
    check(pa_dec_cmp(a, b) == (c > 0) - (c < 0));
    check(pa_dec_sign(a) == mpz_sgn(za));
    check_round8(a, za);
    check_double(a, za);
    check_format(a);
    mpz_clears(za, zb, want, rem, NULL);
}

/* A valid value from 16 raw bytes: anywhere in [-10^38, 10^38] units, with
 * small magnitudes and exact multiples of 10^-8 also likely. */
static pa_dec raw_value(const uint8_t *p)
{
    u128 u = 0;
    for (int k = 0; k < 16; k++)
        u = (u << 8) | p[k];
    const int neg = (int)(u & 1), kind = (int)((u >> 1) & 3);
    u >>= 3;
    const u128 max = (u128)10000000000000000000ULL * 10000000000000000000ULL; /* 10^38 */
    u %= max + 1;
    if (kind == 1)
        u %= (u128)1 << 40; /* small */
    else if (kind == 2)
        u -= u % 100000000; /* 8 decimals, like every rounded figure */
    pa_dec d;
    d.v = neg ? -(pa_dec_int)u : (pa_dec_int)u;
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX)
        return 0;
    init_once();
    const unsigned flags = data[0] & 3;
    const char *text = (const char *)data + 1;
    const size_t tlen = size - 1;
    const char *nl = memchr(text, '\n', tlen);
    const size_t len1 = nl != NULL ? (size_t)(nl - text) : tlen;
    const char *s2 = nl != NULL ? nl + 1 : text + tlen;
    const size_t len2 = nl != NULL ? tlen - len1 - 1 : 0;

    pa_dec a = pa_dec_from_int(0), b = pa_dec_from_int(0);
    const int ok1 = parse_checked(text, len1, flags, &a);
    const int ok2 = parse_checked(s2, len2, flags, &b);
    if (ok1 || ok2) {
        check_ops(a, b);
        check_ops(b, a);
    }
    if (size >= 33) {
        const pa_dec x = raw_value(data + 1), y = raw_value(data + 17);
        check_ops(x, y);
        check_ops(y, x);
        check_ops(x, a);
        check_ops(a, x);
    }
    return 0;
}
