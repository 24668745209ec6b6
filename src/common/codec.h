/* Base64 (RFC 4648 §4, standard alphabet, padding required) and lowercase hex. */
#ifndef PA_CODEC_H
#define PA_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* Returns a malloc'd NUL-terminated string, or NULL on allocation failure. */
char *pa_b64_encode(const uint8_t *data, size_t len);

/* Strict decode: only the standard alphabet, length a multiple of 4, '=' only
 * as 1 or 2 final padding characters, no whitespace, and unused bits of the
 * last symbol must be zero (so every byte string has exactly one encoding).
 * On success *out is malloc'd (free with pa_free_secret when it held a secret;
 * it is never NULL, even for empty input) and *out_len set. */
PA_MUST_USE int pa_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *out_len);

/* Decode into a caller buffer of exactly `want` bytes: fails unless the decoded
 * length is exactly `want`. */
PA_MUST_USE int pa_b64_decode_exact(const char *s, uint8_t *out, size_t want);

/* hex: out must have room for 2*len+1 chars. */
void pa_hex_encode(const uint8_t *data, size_t len, char *out);
/* Accepts upper or lower case; fails unless strlen(s) == 2*want. */
PA_MUST_USE int pa_hex_decode_exact(const char *s, uint8_t *out, size_t want);

#endif
