/* pa_buf: a growable byte buffer with a hard cap fixed at init (curl's dynbuf
 * idea): nothing that grows from untrusted input can grow without bound.
 * The contents are always followed by a NUL byte so text can be used as a C
 * string. pa_buf_free wipes the memory before releasing it, so the same type
 * is safe for plaintext secrets. */
#ifndef PA_BUF_H
#define PA_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

typedef struct {
    uint8_t *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap; /* appends that would exceed this fail */
} pa_buf;

/* A read-only view: pointer + length (h2o's iovec). */
typedef struct {
    const uint8_t *data;
    size_t len;
} pa_bytes;

void pa_buf_init(pa_buf *b, size_t cap) PA_NONNULL;
PA_MUST_USE int pa_buf_append(pa_buf *b, const void *data, size_t len);
PA_MUST_USE int pa_buf_append_str(pa_buf *b, const char *s);
PA_MUST_USE int pa_buf_printf(pa_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Forget the contents (wiped) but keep the allocation. */
void pa_buf_reset(pa_buf *b);
/* Wipe and free. Safe on a zeroed or already-freed buffer. */
void pa_buf_free(pa_buf *b);
/* Hand the NUL-terminated contents to the caller (who must free() them) and
 * leave the buffer empty. Returns NULL for an empty buffer. */
char *pa_buf_steal(pa_buf *b);
const char *pa_buf_cstr(const pa_buf *b); /* "" when empty */

/* Wipe then free a heap string or block; NULL is fine. */
void pa_free_secret(void *p, size_t len);
void pa_free_secret_str(char *s);

#endif
