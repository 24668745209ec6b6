/* RFC 8785 JSON Canonicalization Scheme (JCS) over jansson values.
 *
 * What a signature covers is exactly these bytes, so every rule below is the
 * RFC's (§3.2): no whitespace; object members sorted by the UTF-16 code units
 * of their names; strings with the minimal ECMAScript escaping; numbers as
 * ECMAScript Number::toString prints them. A value that has no canonical form
 * (a non-finite number, a string that is not valid UTF-8) fails instead of
 * being approximated. */
#include "jcs.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's parser stops at this depth too; the limit also turns a value
 * built by hand with a reference cycle into a failure, not a stack overflow. */
#define JCS_MAX_DEPTH 2048
/* pa_jcs_dumps output cap: far above any payload or audit entry we sign. */
#define JCS_DUMPS_CAP ((size_t)64 << 20)

/* ---------------------------------------------------------------- UTF-8 */

/* Decodes the scalar value starting at s[*i] and advances *i. Returns -1 for
 * anything RFC 3629 forbids: a stray continuation byte, a truncated or
 * overlong sequence, a surrogate (U+D800..U+DFFF) or a value past U+10FFFF. */
static int32_t utf8_next(const uint8_t *s, size_t n, size_t *i)
{
    uint8_t b0 = s[*i];
    if (b0 < 0x80) {
        (*i)++;
        return b0;
    }
    size_t extra;
    int32_t cp, min;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        extra = 1;
        cp = b0 & 0x1f;
        min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        extra = 2;
        cp = b0 & 0x0f;
        min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        extra = 3;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return -1; /* continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (n - *i <= extra)
        return -1;
    for (size_t k = 1; k <= extra; k++) {
        uint8_t b = s[*i + k];
        if ((b & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += extra + 1;
    return cp;
}

static int utf8_valid(const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < n)
        if (utf8_next(u, n, &i) < 0)
            return 0;
    return 1;
}

/* Walks a (validated) UTF-8 string as UTF-16 code units, the order RFC 8785
 * §3.2.3 sorts member names by: a supplementary character becomes its
 * surrogate pair, so U+1F600 (D83D DE00) sorts before U+FB33. */
typedef struct {
    const uint8_t *s;
    size_t n, i;
    int32_t pending; /* low surrogate still to hand out, or -1 */
} utf16_iter;

static int32_t utf16_next(utf16_iter *it)
{
    if (it->pending >= 0) {
        int32_t lo = it->pending;
        it->pending = -1;
        return lo;
    }
    if (it->i >= it->n)
        return -1;
    int32_t cp = utf8_next(it->s, it->n, &it->i);
    if (cp < 0x10000)
        return cp; /* also -1 on invalid input, which callers exclude */
    cp -= 0x10000;
    it->pending = 0xdc00 + (cp & 0x3ff);
    return 0xd800 + (cp >> 10);
}

static int utf16_compare(const char *a, size_t alen, const char *b, size_t blen)
{
    utf16_iter ia = {(const uint8_t *)a, alen, 0, -1};
    utf16_iter ib = {(const uint8_t *)b, blen, 0, -1};
    for (;;) {
        int32_t ca = utf16_next(&ia), cb = utf16_next(&ib);
        if (ca != cb)
            return ca < cb ? -1 : 1; /* end (-1) sorts before any unit */
        if (ca < 0)
            return 0;
    }
}

/* --------------------------------------------------------------- numbers */

/* True when the decimal m * 10^e reads back as exactly d. The text has no
 * decimal point, so strtod's locale cannot change the answer. */
static int decimal_is(uint64_t m, int e, double d)
{
    char text[48];
    snprintf(text, sizeof text, "%llue%d", (unsigned long long)m, e);
    return strtod(text, NULL) == d;
}

/* The correctly rounded p-significant-digit decimal of a > 0, as m * 10^e. */
static int decimal_round(double a, int p, uint64_t *m, int *e)
{
    char text[48];
    int len = snprintf(text, sizeof text, "%.*e", p - 1, a);
    if (len < 0 || (size_t)len >= sizeof text)
        return -1;
    uint64_t v = 0;
    int ndigits = 0;
    const char *c = text;
    for (; *c != 0 && *c != 'e'; c++) {
        if (*c >= '0' && *c <= '9') {
            v = v * 10 + (uint64_t)(*c - '0');
            ndigits++;
        } /* else the radix character, whatever the locale made it */
    }
    if (*c != 'e' || ndigits != p)
        return -1;
    *m = v;
    /* %e prints a sign and at least two digits; a double's exponent is
     * within +-400, so anything else means the text is not what we asked. */
    char *end = NULL;
    long x = strtol(c + 1, &end, 10);
    if (end == c + 1 || *end != 0 || x < -400 || x > 400)
        return -1;
    *e = (int)x - (p - 1);
    return 0;
}

/* Shortest round trip, as Number::toString (ECMA-262 §6.1.6.1.20) asks: the
 * fewest digits k such that the decimal reads back as the same double, and
 * among those the one closest to it. glibc's printf rounds exactly, so the
 * correctly rounded k-digit decimal m is the closest candidate. Just below a
 * power of two the rounding interval is lopsided (half as wide under the
 * value as above it): there the nearest k-digit decimal can fall outside while
 * the next one up, m + 1, still reads back, and it is then the shortest form
 * (2^-24 is 5.960464477539063e-8, not ...0625e-8). m - 1 never helps: it is
 * farther than m on the narrow side. */
static int shortest_decimal(double a, uint64_t *m_out, int *e_out)
{
    for (int p = 1; p <= 17; p++) {
        uint64_t m;
        int e;
        PA_GUARD(decimal_round(a, p, &m, &e));
        if (decimal_is(m, e, a)) {
            *m_out = m;
            *e_out = e;
            return 0;
        }
        if (decimal_is(m + 1, e, a)) {
            *m_out = m + 1;
            *e_out = e;
            return 0;
        }
    }
    return -1; /* unreachable: 17 digits always round-trip a double */
}

int pa_jcs_format_number(double d, char out[PA_JCS_NUMBER_MAX])
{
    if (out == NULL || !isfinite(d))
        return -1;
    if (d == 0) { /* both zeros: ECMAScript prints -0 as "0" */
        memcpy(out, "0", 2);
        return 0;
    }
    uint64_t m;
    int e;
    PA_GUARD(shortest_decimal(fabs(d), &m, &e));
    char digits[24];
    int k = snprintf(digits, sizeof digits, "%llu", (unsigned long long)m);
    while (k > 1 && digits[k - 1] == '0') {
        digits[--k] = 0;
        e++;
    }
    /* Value = 0.digits * 10^n in ECMA-262's terms (n is the position of the
     * decimal point relative to the first digit). */
    int n = e + k;
    char *o = out;
    if (d < 0)
        *o++ = '-';
    if (k <= n && n <= 21) {
        /* integer: the digits then n-k zeros (at most 21 characters) */
        memcpy(o, digits, (size_t)k);
        o += k;
        memset(o, '0', (size_t)(n - k));
        o += n - k;
    } else if (0 < n && n <= 21) {
        memcpy(o, digits, (size_t)n);
        o += n;
        *o++ = '.';
        memcpy(o, digits + n, (size_t)(k - n));
        o += k - n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', (size_t)-n);
        o += -n;
        memcpy(o, digits, (size_t)k);
        o += k;
    } else {
        *o++ = digits[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(k - 1));
            o += k - 1;
        }
        int x = n - 1;
        o += snprintf(o, 8, "e%c%d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    }
    *o = 0;
    return 0;
}

/* --------------------------------------------------------------- strings */

/* RFC 8785 §3.2.2.2: escape only what JSON requires, with ECMAScript's
 * spelling; everything else (U+007F, U+2028, any non-ASCII) stays literal. */
static int append_string(pa_buf *out, const char *s, size_t n)
{
    if (!utf8_valid(s, n))
        return -1;
    PA_GUARD(pa_buf_append(out, "\"", 1));
    size_t run = 0; /* start of the pending literal run */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char hex[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", c);
                esc = hex;
            }
            break;
        }
        if (esc == NULL)
            continue;
        PA_GUARD(pa_buf_append(out, s + run, i - run));
        PA_GUARD(pa_buf_append_str(out, esc));
        run = i + 1;
    }
    PA_GUARD(pa_buf_append(out, s + run, n - run));
    return pa_buf_append(out, "\"", 1);
}

/* ---------------------------------------------------------------- values */

typedef struct {
    const char *key;
    size_t len;
    json_t *value;
} jcs_member;

static int member_compare(const void *pa, const void *pb)
{
    const jcs_member *a = pa, *b = pb;
    return utf16_compare(a->key, a->len, b->key, b->len);
}

static int append_value(const json_t *v, pa_buf *out, int depth);

static int append_object(const json_t *v, pa_buf *out, int depth)
{
    size_t n = json_object_size(v);
    if (n == 0)
        return pa_buf_append(out, "{}", 2);
    if (n > SIZE_MAX / sizeof(jcs_member))
        return -1;
    int rc = -1;
    jcs_member *m = malloc(n * sizeof *m);
    if (m == NULL)
        return -1;
    size_t i = 0;
    const char *key;
    size_t key_len;
    json_t *value;
    json_object_keylen_foreach((json_t *)v, key, key_len, value) {
        if (i == n || !utf8_valid(key, key_len))
            goto cleanup;
        m[i].key = key;
        m[i].len = key_len;
        m[i].value = value;
        i++;
    }
    if (i != n)
        goto cleanup;
    /* Names are unique in a jansson object, so the order is total. */
    qsort(m, n, sizeof *m, member_compare);
    PA_GUARD_GOTO(pa_buf_append(out, "{", 1), cleanup);
    for (i = 0; i < n; i++) {
        if (i > 0)
            PA_GUARD_GOTO(pa_buf_append(out, ",", 1), cleanup);
        PA_GUARD_GOTO(append_string(out, m[i].key, m[i].len), cleanup);
        PA_GUARD_GOTO(pa_buf_append(out, ":", 1), cleanup);
        PA_GUARD_GOTO(append_value(m[i].value, out, depth + 1), cleanup);
    }
    PA_GUARD_GOTO(pa_buf_append(out, "}", 1), cleanup);
    rc = 0;
cleanup:
    free(m);
    return rc;
}

static int append_array(const json_t *v, pa_buf *out, int depth)
{
    PA_GUARD(pa_buf_append(out, "[", 1));
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (i > 0)
            PA_GUARD(pa_buf_append(out, ",", 1));
        PA_GUARD(append_value(json_array_get(v, i), out, depth + 1));
    }
    return pa_buf_append(out, "]", 1);
}

static int append_number(double d, pa_buf *out)
{
    char text[PA_JCS_NUMBER_MAX];
    PA_GUARD(pa_jcs_format_number(d, text));
    return pa_buf_append_str(out, text);
}

static int append_value(const json_t *v, pa_buf *out, int depth)
{
    if (v == NULL || depth > JCS_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return append_object(v, out, depth);
    case JSON_ARRAY:
        return append_array(v, out, depth);
    case JSON_STRING:
        return append_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        /* RFC 8785 has one number type, the IEEE double: an integer past
         * 2^53 is printed as the double it rounds to (Appendix B, note 2). */
        return append_number((double)json_integer_value(v), out);
    case JSON_REAL:
        return append_number(json_real_value(v), out);
    case JSON_TRUE:
        return pa_buf_append(out, "true", 4);
    case JSON_FALSE:
        return pa_buf_append(out, "false", 5);
    case JSON_NULL:
        return pa_buf_append(out, "null", 4);
    default:
        return -1;
    }
}

int pa_jcs_append(const json_t *v, pa_buf *out)
{
    if (v == NULL || out == NULL)
        return -1;
    size_t start = out->len;
    if (append_value(v, out, 0) == 0)
        return 0;
    /* Leave out as it was: half a canonical form must never be signed. */
    if (out->data != NULL) {
        out->len = start;
        out->data[start] = 0;
    }
    return -1;
}

char *pa_jcs_dumps(const json_t *v)
{
    pa_buf b;
    pa_buf_init(&b, JCS_DUMPS_CAP);
    if (pa_jcs_append(v, &b) != 0) {
        pa_buf_free(&b);
        return NULL;
    }
    return pa_buf_steal(&b);
}
