/* Exact decimal money: fixed point with 16 fractional digits in a signed
 * 128-bit integer. Exchanges send amounts as decimal strings ("0.00100000");
 * binary floating point cannot hold 0.1, and sums of thousands of such
 * values drift. docs/METRICS.md ("Exact arithmetic") states the rules.
 *
 * Why 16 digits and 128 bits: Binance amounts have at most 8 decimals, and
 * every product the metrics need (price x qty, commission x price) is of two
 * such amounts, so it has at most 16 decimals and is held exactly. The range
 * is |x| <= 10^22 (10^38 units, below 2^127 ~ 1.7 * 10^38). A parsed amount
 * is below 10^11 (11 integer digits; a larger one fails the run), so any
 * product of two is below 10^22: it always fits. Sums are checked: a result
 * outside the range is refused (-1), never wrapped or rounded.
 *
 * Every operation is exact or fails: nothing rounds except pa_dec_round8,
 * whose rule is stated there. Values are plain structs passed by value. */
#ifndef PA_DECIMAL_H
#define PA_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define PA_DEC_FRAC 16       /* fractional digits held: value = v * 10^-16 */
#define PA_DEC_AMOUNT_FRAC 8 /* fractional digits an exchange amount may have */
#define PA_DEC_AMOUNT_INT 11 /* integer digits an exchange amount may have */
#define PA_DEC_STR_MAX 48    /* pa_dec_format's buffer: "-" 23 digits "." 16 digits NUL */

__extension__ typedef __int128 pa_dec_int;

typedef struct {
    pa_dec_int v; /* units of 10^-16; |v| <= 10^38 */
} pa_dec;

/* pa_dec_parse flags. Without PA_DEC_WIDE the text is an exchange amount:
 * at most PA_DEC_AMOUNT_INT integer and PA_DEC_AMOUNT_FRAC fractional
 * digits. */
#define PA_DEC_NEG 1u  /* a leading '-' is allowed ("-0" is 0: there is no -0) */
#define PA_DEC_WIDE 2u /* up to 16 fractional digits and the whole range: what pa_dec_format writes */

/* Strict decimal text, exactly len bytes: -?(0|[1-9][0-9]*)(\.[0-9]+)?
 * No exponent, no '+', no spaces, no leading zeros, no bare '.', no
 * "inf"/"nan"; digit counts as the flags say. Anything else is -1 and *out
 * is left unchanged. */
PA_MUST_USE int pa_dec_parse(const char *s, size_t len, unsigned flags, pa_dec *out);
/* The same for a NUL-terminated string; NULL is -1. */
PA_MUST_USE int pa_dec_parse_str(const char *s, unsigned flags, pa_dec *out);

/* An integer (every int64_t fits). */
pa_dec pa_dec_from_int(int64_t n);
/* |v| <= 10^38: what every function here produces and requires. */
int pa_dec_valid(pa_dec a);

/* Exact, or -1 (out unchanged) when an input is not valid or the result is
 * outside the range; pa_dec_mul is also -1 when the exact product has more
 * than 16 fractional digits (never for two amounts of at most 8). */
PA_MUST_USE int pa_dec_add(pa_dec a, pa_dec b, pa_dec *out);
PA_MUST_USE int pa_dec_sub(pa_dec a, pa_dec b, pa_dec *out);
PA_MUST_USE int pa_dec_mul(pa_dec a, pa_dec b, pa_dec *out);

int pa_dec_cmp(pa_dec a, pa_dec b); /* -1, 0, 1 */
int pa_dec_sign(pa_dec a);          /* -1, 0, 1 */

/* To 8 decimals, half away from zero (0.000000005 -> 0.00000001,
 * -0.000000005 -> -0.00000001). Exact, never overflows (10^22 is a multiple
 * of 10^-8), and a result of zero is 0. */
pa_dec pa_dec_round8(pa_dec a);

/* The double nearest to a (ties to even), as a correctly rounding strtod
 * reads its decimal text; 0 is +0. */
double pa_dec_to_double(pa_dec a);

/* The shortest exact text: no trailing fractional zeros, no '.' for an
 * integer, '-' only before a non-zero value ("0", "-1.5", "0.00000001").
 * pa_dec_parse(text, PA_DEC_NEG | PA_DEC_WIDE) reads it back to a. Does
 * not depend on the C locale. */
void pa_dec_format(pa_dec a, char out[PA_DEC_STR_MAX]);

#endif
