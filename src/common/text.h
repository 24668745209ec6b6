/* Text that people will read: labels and challenges are signed, stored and
 * printed on terminals, so they must not carry characters that hide, move or
 * reorder what is shown. */
#ifndef PA_TEXT_H
#define PA_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* 1 when cp must not appear in such text: a control character (C0, DEL,
 * C1) or a format character (Unicode General_Category Cf: zero-width,
 * bidirectional and other invisible characters, e.g. U+200B, U+200D,
 * U+2060, U+FEFF, U+202E). The one rule for labels and challenges in the
 * client, the server, the enclave and the IPC contract. */
int pa_text_char_refused(uint32_t cp);

/* Number of Unicode code points in s[0..len), or -1 when it is not
 * well-formed UTF-8 (overlong forms, surrogates, values past U+10FFFF) or
 * holds a character pa_text_char_refused names. */
long pa_text_display_length(const char *s, size_t len);

#endif
