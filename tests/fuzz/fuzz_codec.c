/* libFuzzer driver for src/common/codec.h (base64 and hex of untrusted text).
 * Beyond "no crash":
 *  - strict base64 is canonical: whatever pa_b64_decode accepts re-encodes
 *    to exactly the input text (one encoding per byte string), and
 *    pa_b64_decode_exact agrees with it on the decoded length;
 *  - encoding the input bytes and decoding the result gives them back;
 *  - hex: whatever pa_hex_decode_exact accepts re-encodes to the input in
 *    lower case, and encode -> decode gives the input bytes back. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 4096

static void check_b64_text(const uint8_t *data, size_t size)
{
    uint8_t *dec = NULL;
    size_t dec_len = 0;
    if (pa_b64_decode((const char *)data, size, &dec, &dec_len) != 0)
        return;
    if (dec == NULL)
        abort(); /* the contract: never NULL on success */
    char *enc = pa_b64_encode(dec, dec_len);
    if (enc == NULL || strlen(enc) != size || memcmp(enc, data, size) != 0)
        abort(); /* accepted a non-canonical encoding */
    /* The NUL-terminated variant reads the same text (a NUL cannot be in
     * accepted text, so enc is the whole input). */
    uint8_t *exact = malloc(dec_len + 1);
    if (exact == NULL || pa_b64_decode_exact(enc, exact, dec_len) != 0 ||
        (dec_len > 0 && memcmp(exact, dec, dec_len) != 0))
        abort();
    if (pa_b64_decode_exact(enc, exact, dec_len + 1) == 0)
        abort(); /* the wrong length must be refused */
    free(exact);
    free(enc);
    free(dec);
}

static void check_b64_bytes(const uint8_t *data, size_t size)
{
    char *enc = pa_b64_encode(data, size);
    if (enc == NULL)
        abort();
    uint8_t *dec = NULL;
    size_t dec_len = 0;
    if (pa_b64_decode(enc, strlen(enc), &dec, &dec_len) != 0 || dec_len != size ||
        (size > 0 && memcmp(dec, data, size) != 0))
        abort(); /* our own encoding must decode to the original */
    free(dec);
    free(enc);
}

static void check_hex(const uint8_t *data, size_t size)
{
    /* As text: pa_hex_decode_exact takes a C string. */
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    size_t slen = strlen(s);
    size_t want = slen / 2;
    uint8_t *dec = calloc(want + 1, 1);
    char *enc = malloc(2 * size + 1);
    if (dec == NULL || enc == NULL)
        abort();
    if (pa_hex_decode_exact(s, dec, want) == 0) {
        if (slen % 2 != 0)
            abort(); /* an odd number of digits has no byte string */
        pa_hex_encode(dec, want, enc);
        for (size_t i = 0; i < slen; i++)
            if (enc[i] != (char)tolower(data[i]))
                abort();
    }
    /* As bytes: encode -> decode is the identity, in lower case. */
    pa_hex_encode(data, size, enc);
    if (strlen(enc) != 2 * size)
        abort();
    for (size_t i = 0; i < 2 * size; i++)
        if (!(isdigit((unsigned char)enc[i]) || (enc[i] >= 'a' && enc[i] <= 'f')))
            abort();
    uint8_t *back = malloc(size + 1);
    if (back == NULL || pa_hex_decode_exact(enc, back, size) != 0 ||
        (size > 0 && memcmp(back, data, size) != 0))
        abort();
    free(back);
    free(enc);
    free(dec);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX)
        return 0;
    check_b64_text(data, size);
    check_b64_bytes(data, size);
    check_hex(data, size);
    return 0;
}
