#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

char *pa_b64_encode(const uint8_t *data, size_t len)
{
    if (len > (size_t)1 << 30)
        return NULL;
    size_t n = 4 * ((len + 2) / 3);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    int w = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    if (w < 0 || (size_t)w != n) {
        free(out);
        return NULL;
    }
    out[n] = 0;
    return out;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int pa_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *out_len)
{
    /* OpenSSL's EVP_DecodeBlock does the decoding, but it tolerates
     * whitespace and reports padding as zero bytes, so the strict form is
     * checked here first. */
    if ((s == NULL && slen > 0) || out == NULL || out_len == NULL)
        return -1;
    if (slen % 4 != 0 || slen > (size_t)1 << 30)
        return -1;
    size_t pad = 0;
    if (slen >= 1 && s[slen - 1] == '=')
        pad++;
    if (slen >= 2 && s[slen - 2] == '=')
        pad++;
    for (size_t i = 0; i < slen - pad; i++)
        if (b64_value((unsigned char)s[i]) < 0)
            return -1;
    if (pad > 0) {
        /* The bits the padding makes unused must be zero. */
        int last = b64_value((unsigned char)s[slen - pad - 1]);
        if ((pad == 1 && (last & 0x03) != 0) || (pad == 2 && (last & 0x0f) != 0))
            return -1;
    }
    size_t n = slen / 4 * 3;
    uint8_t *buf = malloc(n + 1);
    if (buf == NULL)
        return -1;
    if (slen > 0) {
        int r = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)slen);
        if (r < 0 || (size_t)r != n) {
            OPENSSL_cleanse(buf, n + 1);
            free(buf);
            return -1;
        }
    }
    *out = buf;
    *out_len = n - pad;
    return 0;
}

int pa_b64_decode_exact(const char *s, uint8_t *out, size_t want)
{
    if (s == NULL || (out == NULL && want > 0))
        return -1;
    uint8_t *tmp = NULL;
    size_t n = 0;
    PA_GUARD(pa_b64_decode(s, strlen(s), &tmp, &n));
    int rc = -1;
    if (n == want) {
        if (n > 0)
            memcpy(out, tmp, n);
        rc = 0;
    }
    OPENSSL_cleanse(tmp, n);
    free(tmp);
    return rc;
}

void pa_hex_encode(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    out[2 * len] = 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int pa_hex_decode_exact(const char *s, uint8_t *out, size_t want)
{
    if (s == NULL || strlen(s) / 2 != want || strlen(s) % 2 != 0)
        return -1;
    for (size_t i = 0; i < want; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
