/* Exact decimal money (decimal.h). Magnitudes are handled as unsigned
 * 128-bit integers and every bound is checked before an operation could
 * leave the range, so no step relies on wrapping or on compiler overflow
 * builtins (clang lowers the 128-bit multiply-overflow builtin to a
 * compiler-rt routine that libgcc lacks). */
#include "decimal.h"

#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 dec_u128;

/* 10^0 .. 10^38 */
static dec_u128 pow10_u(unsigned k)
{
    dec_u128 p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

#define DEC_ONE_U ((dec_u128)10000000000000000ULL)          /* 10^16: the unit 1 */
#define DEC_MAX_U (DEC_ONE_U * DEC_ONE_U * (dec_u128)1000000) /* 10^38 = 10^22 in units */
#define DEC_HALF8 ((dec_u128)50000000ULL)                     /* half of 10^-8 in units */
#define DEC_STEP8 ((dec_u128)100000000ULL)                    /* 10^-8 in units */

static dec_u128 dec_abs(pa_dec a)
{
    return a.v < 0 ? (dec_u128)0 - (dec_u128)a.v : (dec_u128)a.v;
}

/* A magnitude (<= DEC_MAX_U) with a sign as a value. */
static pa_dec dec_make(int neg, dec_u128 mag)
{
    pa_dec r;
    r.v = neg ? -(pa_dec_int)mag : (pa_dec_int)mag;
    return r;
}

int pa_dec_valid(pa_dec a)
{
    return dec_abs(a) <= DEC_MAX_U;
}

pa_dec pa_dec_from_int(int64_t n)
{
    /* |INT64_MIN| = 2^63 < 10^22: in range. */
    dec_u128 mag = n < 0 ? (dec_u128)0 - (dec_u128)(pa_dec_int)n : (dec_u128)n;
    return dec_make(n < 0, mag * DEC_ONE_U);
}

/* ---- parsing ------------------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int pa_dec_parse(const char *s, size_t len, unsigned flags, pa_dec *out)
{
    PA_ENSURE(s != NULL && out != NULL);
    const size_t max_int = (flags & PA_DEC_WIDE) ? 23 : PA_DEC_AMOUNT_INT;
    const size_t max_frac = (flags & PA_DEC_WIDE) ? PA_DEC_FRAC : PA_DEC_AMOUNT_FRAC;
    size_t i = 0;
    int neg = 0;
    if (i < len && s[i] == '-') {
        PA_ENSURE(flags & PA_DEC_NEG);
        neg = 1;
        i++;
    }
    /* Integer part: at least one digit, no leading zero ("007" is not what
     * an exchange writes, and one text per value keeps the audit honest). */
    const size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    const size_t nint = i - int_start;
    PA_ENSURE(nint >= 1 && nint <= max_int);
    PA_ENSURE(nint == 1 || s[int_start] != '0');
    size_t frac_start = i, nfrac = 0;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        nfrac = i - frac_start;
        PA_ENSURE(nfrac >= 1 && nfrac <= max_frac);
    }
    PA_ENSURE(i == len);

    /* At most 23 + 16 = 39 digits: below 2^128 ~ 3.4 * 10^38 only while the
     * value is in range, so the integer part is checked before scaling. */
    dec_u128 ip = 0, fp = 0;
    for (size_t k = int_start; k < int_start + nint; k++)
        ip = ip * 10 + (dec_u128)(s[k] - '0');
    for (size_t k = frac_start; k < frac_start + nfrac; k++)
        fp = fp * 10 + (dec_u128)(s[k] - '0');
    PA_ENSURE(ip <= DEC_MAX_U / DEC_ONE_U);
    dec_u128 mag = ip * DEC_ONE_U + fp * pow10_u((unsigned)(PA_DEC_FRAC - nfrac));
    PA_ENSURE(mag <= DEC_MAX_U);
    *out = dec_make(neg, mag);
    return 0;
}

int pa_dec_parse_str(const char *s, unsigned flags, pa_dec *out)
{
    PA_ENSURE(s != NULL);
    return pa_dec_parse(s, strlen(s), flags, out);
}

/* ---- arithmetic ---------------------------------------------------------- */

int pa_dec_add(pa_dec a, pa_dec b, pa_dec *out)
{
    PA_ENSURE(out != NULL && pa_dec_valid(a) && pa_dec_valid(b));
    /* |a|, |b| <= 10^38 but 2 * 10^38 > 2^127: compare before adding. */
    const pa_dec_int max = (pa_dec_int)DEC_MAX_U;
    if (b.v > 0)
        PA_ENSURE(a.v <= max - b.v);
    else
        PA_ENSURE(a.v >= -max - b.v);
    out->v = a.v + b.v;
    return 0;
}

int pa_dec_sub(pa_dec a, pa_dec b, pa_dec *out)
{
    PA_ENSURE(pa_dec_valid(b));
    pa_dec nb = {.v = -b.v}; /* the range is symmetric */
    return pa_dec_add(a, nb, out);
}

/* 128 x 128 -> 256 bits, as four 64-bit limbs, least significant first. */
static void mul_256(dec_u128 a, dec_u128 b, uint64_t r[4])
{
    const uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
    const uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
    const dec_u128 p00 = (dec_u128)a0 * b0, p01 = (dec_u128)a0 * b1;
    const dec_u128 p10 = (dec_u128)a1 * b0, p11 = (dec_u128)a1 * b1;
    /* Column 1 collects three 64-bit halves: at most 3 * (2^64 - 1). */
    const dec_u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    const dec_u128 hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    r[0] = (uint64_t)p00;
    r[1] = (uint64_t)mid;
    r[2] = (uint64_t)hi;
    r[3] = (uint64_t)(hi >> 64);
}

int pa_dec_mul(pa_dec a, pa_dec b, pa_dec *out)
{
    PA_ENSURE(out != NULL && pa_dec_valid(a) && pa_dec_valid(b));
    /* The exact product in units is |a| * |b| / 10^16: form the 256-bit
     * product, divide it by 10^16 (< 2^64) limb by limb, and accept only a
     * zero remainder and a quotient in range. */
    uint64_t n[4];
    mul_256(dec_abs(a), dec_abs(b), n);
    const uint64_t d = (uint64_t)DEC_ONE_U;
    uint64_t q[4];
    dec_u128 rem = 0;
    for (int k = 3; k >= 0; k--) {
        const dec_u128 cur = (rem << 64) | n[k]; /* rem < d < 2^64: no loss */
        q[k] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    PA_ENSURE(rem == 0 && q[3] == 0 && q[2] == 0);
    const dec_u128 mag = ((dec_u128)q[1] << 64) | q[0];
    PA_ENSURE(mag <= DEC_MAX_U);
    *out = dec_make((a.v < 0) != (b.v < 0), mag);
    return 0;
}

int pa_dec_cmp(pa_dec a, pa_dec b)
{
    return (a.v > b.v) - (a.v < b.v);
}

int pa_dec_sign(pa_dec a)
{
    return (a.v > 0) - (a.v < 0);
}

pa_dec pa_dec_round8(pa_dec a)
{
    const dec_u128 mag = dec_abs(a);
    dec_u128 q = mag / DEC_STEP8;
    if (mag % DEC_STEP8 >= DEC_HALF8)
        q++; /* the tie goes away from zero */
    /* A valid a gives q * 10^8 <= 10^38, since 10^38 is itself a step. */
    return dec_make(a.v < 0, q * DEC_STEP8);
}

/* ---- text and doubles ---------------------------------------------------- */

/* The decimal digits of m, most significant first, no leading zeros ("0"
 * for 0); returns the count. out has room for 40. */
static size_t u128_digits(dec_u128 m, char *out)
{
    char rev[40];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m != 0);
    for (size_t k = 0; k < n; k++)
        out[k] = rev[n - 1 - k];
    return n;
}

void pa_dec_format(pa_dec a, char out[PA_DEC_STR_MAX])
{
    const dec_u128 mag = dec_abs(a);
    size_t n = 0;
    if (a.v < 0)
        out[n++] = '-';
    n += u128_digits(mag / DEC_ONE_U, out + n);
    dec_u128 frac = mag % DEC_ONE_U;
    if (frac != 0) {
        char f[PA_DEC_FRAC];
        for (int k = PA_DEC_FRAC - 1; k >= 0; k--) {
            f[k] = (char)('0' + (int)(frac % 10));
            frac /= 10;
        }
        size_t nf = PA_DEC_FRAC;
        while (f[nf - 1] == '0')
            nf--;
        out[n++] = '.';
        memcpy(out + n, f, nf);
        n += nf;
    }
    out[n] = '\0';
}

double pa_dec_to_double(pa_dec a)
{
    if (a.v == 0)
        return 0.0;
    /* "<units>e-16": no radix character, so the C locale cannot change how
     * strtod reads it; glibc's strtod rounds correctly (to nearest, ties to
     * even), which is what Python's float(Decimal) does too. */
    char s[PA_DEC_STR_MAX + 8];
    size_t n = 0;
    if (a.v < 0)
        s[n++] = '-';
    n += u128_digits(dec_abs(a), s + n);
    memcpy(s + n, "e-16", 5);
    return strtod(s, NULL);
}
