/* Text that people will read: labels and challenges are signed, stored and
 * printed on terminals, so they must not carry characters that hide, move or
 * reorder what is shown. */
#ifndef PA_TEXT_H
#define PA_TEXT_H

#include <stddef.h>

/* Number of Unicode code points in s[0..len), or -1 when it is not
 * well-formed UTF-8 (overlong forms, surrogates, values past U+10FFFF) or
 * holds a control character (C0, DEL, C1) or a bidirectional/format control
 * (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069). */
long pa_text_display_length(const char *s, size_t len);

#endif
