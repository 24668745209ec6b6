/* Exact amounts in tests: decimal literals in, canonical text out
 * (src/common/decimal.h). Include after <cmocka.h>. */
#ifndef PA_TEST_DEC_H
#define PA_TEST_DEC_H

#include <string.h>

#include "decimal.h"

/* A test literal as an exact decimal (negative and 16 decimals allowed). */
static inline pa_dec dec(const char *s)
{
    pa_dec d;
    if (pa_dec_parse_str(s, PA_DEC_NEG | PA_DEC_WIDE, &d) != 0)
        fail_msg("test literal %s does not parse", s);
    return d;
}

/* Amounts compare as their canonical text, so a failure shows both. */
#define assert_dec(a, want) assert_dec_at((a), (want), #a)
static inline void assert_dec_at(pa_dec a, const char *want, const char *what)
{
    char s[PA_DEC_STR_MAX];
    pa_dec_format(a, s);
    if (strcmp(s, want) != 0)
        fail_msg("%s = %s, want %s", what, s, want);
}

#endif
