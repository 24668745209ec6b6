/* Text from elsewhere, on this terminal. Every string the client prints that
 * came from a server or a bundle goes through pa_client_escape: a signed
 * string is authentic, not harmless, and an ESC, CR or right-to-left override
 * inside a label or a challenge could otherwise redraw or reorder the numbers
 * printed next to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "text.h"

size_t pa_client_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp_out)
{
    if (n == 0)
        return 0;
    uint8_t c = s[0];
    size_t len;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    cp = cp << 6 | (s[1] & 0x3Fu);
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    *cp_out = cp;
    return len;
}

/* The shared rule of src/common/text.h: controls and every format (Cf)
 * character, zero-width ones included, are shown escaped. */
int pa_client_char_is_control(uint32_t cp)
{
    return pa_text_char_refused(cp);
}

char *pa_client_escape(const char *s, size_t len)
{
    if (s == NULL)
        return NULL;
    /* Worst case: every byte becomes \xNN (4 characters); \uNNNN replaces
     * at least two bytes, so it never needs more. */
    if (len > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(4 * len + 1);
    if (out == NULL)
        return NULL;
    const uint8_t *p = (const uint8_t *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = pa_client_utf8_decode(p + i, len - i, &cp);
        if (n == 0 || (n == 1 && pa_client_char_is_control(cp))) {
            /* A control byte, or a byte that starts no valid sequence. */
            o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
            i++;
        } else if (pa_client_char_is_control(cp)) {
            /* Past U+FFFF (tag characters) \U and eight digits: still within
             * the 4 bytes of output each input byte may take. */
            if (cp > 0xFFFF)
                o += (size_t)snprintf(out + o, 11, "\\U%08x", (unsigned)cp);
            else
                o += (size_t)snprintf(out + o, 7, "\\u%04x", (unsigned)cp);
            i += n;
        } else if (cp == '\\') {
            /* So that "\x1b" in the output always means an escaped byte,
             * never the four characters a sender wrote. */
            out[o++] = '\\';
            out[o++] = '\\';
            i++;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}
