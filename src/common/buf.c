#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void pa_buf_init(pa_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

/* Grow by copying into a fresh block and wiping the old one: realloc could
 * leave a copy of a secret in freed memory. */
static int buf_reserve(pa_buf *b, size_t need)
{
    if (need <= b->alloc)
        return 0;
    /* Callers guarantee need <= cap + 1. Doubling stops at that limit, and
     * neither the doubling nor cap + 1 may wrap (cap can be SIZE_MAX). */
    size_t limit = b->cap < SIZE_MAX ? b->cap + 1 : SIZE_MAX;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > limit / 2 ? limit : n * 2;
    if (n > limit)
        n = limit;
    uint8_t *p = malloc(n);
    if (p == NULL)
        return -1;
    if (b->data != NULL) {
        memcpy(p, b->data, b->len + 1);
        OPENSSL_cleanse(b->data, b->alloc);
        free(b->data);
    }
    b->data = p;
    b->alloc = n;
    return 0;
}

int pa_buf_append(pa_buf *b, const void *data, size_t len)
{
    if (len > b->cap || b->len > b->cap - len)
        return -1;
    PA_GUARD(buf_reserve(b, b->len + len + 1));
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

int pa_buf_append_str(pa_buf *b, const char *s)
{
    return pa_buf_append(b, s, strlen(s));
}

int pa_buf_printf(pa_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n > b->cap || b->len > b->cap - (size_t)n)
        return -1;
    PA_GUARD(buf_reserve(b, b->len + (size_t)n + 1));
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void pa_buf_reset(pa_buf *b)
{
    if (b->data != NULL) {
        OPENSSL_cleanse(b->data, b->alloc);
        b->data[0] = 0;
    }
    b->len = 0;
}

void pa_buf_free(pa_buf *b)
{
    if (b->data != NULL) {
        OPENSSL_cleanse(b->data, b->alloc);
        free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

char *pa_buf_steal(pa_buf *b)
{
    char *s = (char *)b->data;
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return s;
}

const char *pa_buf_cstr(const pa_buf *b)
{
    return b->data ? (const char *)b->data : "";
}

void pa_free_secret(void *p, size_t len)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, len);
    free(p);
}

void pa_free_secret_str(char *s)
{
    if (s != NULL)
        pa_free_secret(s, strlen(s));
}
