#include "text.h"

#include <stdint.h>

#include "result.h"

/* Unicode 15.0.0, General_Category=Cf (format characters), as ranges.
 * Generated from UnicodeData.txt of Debian 12's unicode-data 15.0.0-1:
 *   awk -F';' '$3 == "Cf" {print $1}' /usr/share/unicode/UnicodeData.txt
 * and merging consecutive code points. Cf holds the zero-width characters
 * (U+200B..U+200D, U+2060, U+FEFF), the bidirectional controls (U+061C,
 * U+200E/F, U+202A..U+202E, U+2066..U+2069), the soft hyphen, invisible
 * operators and tag characters: none is seen, yet each makes two strings
 * that look the same differ. A later Unicode version adds code points here:
 * tests/unit/test_common.c compares every code point with the installed
 * UnicodeData.txt, so a newer file shows what to add. One range a line. */
/* clang-format off */
static const struct {
    uint32_t lo, hi;
} format_ranges[] = {
    {0x00AD, 0x00AD},
    {0x0600, 0x0605},
    {0x061C, 0x061C},
    {0x06DD, 0x06DD},
    {0x070F, 0x070F},
    {0x0890, 0x0891},
    {0x08E2, 0x08E2},
    {0x180E, 0x180E},
    {0x200B, 0x200F},
    {0x202A, 0x202E},
    {0x2060, 0x2064},
    {0x2066, 0x206F},
    {0xFEFF, 0xFEFF},
    {0xFFF9, 0xFFFB},
    {0x110BD, 0x110BD},
    {0x110CD, 0x110CD},
    {0x13430, 0x1343F},
    {0x1BCA0, 0x1BCA3},
    {0x1D173, 0x1D17A},
    {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
};
/* clang-format on */

int pa_text_char_refused(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) /* Cc: C0, DEL, C1 */
        return 1;
    for (size_t i = 0; i < PA_ARRAY_LEN(format_ranges); i++) {
        if (cp < format_ranges[i].lo)
            return 0; /* the table is sorted */
        if (cp <= format_ranges[i].hi)
            return 1;
    }
    return 0;
}

/* jansson checks UTF-8 when parsing, but a json_t built by hand need not be,
 * so the decoder here checks well-formedness itself. */
long pa_text_display_length(const char *s, size_t len)
{
    long n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        size_t extra;
        if (c < 0x80) {
            cp = c;
            extra = 0;
        } else if (c >= 0xc2 && c <= 0xdf) {
            cp = c & 0x1f;
            extra = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            cp = c & 0x0f;
            extra = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            cp = c & 0x07;
            extra = 3;
        } else {
            return -1;
        }
        if (extra > len - i - 1)
            return -1;
        for (size_t k = 1; k <= extra; k++) {
            unsigned char cc = (unsigned char)s[i + k];
            if ((cc & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (cc & 0x3f);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return -1;
        if (pa_text_char_refused(cp))
            return -1;
        n++;
        i += extra + 1;
    }
    return n;
}
