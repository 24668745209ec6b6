/* libFuzzer driver for the NSM codec (src/attest/nsm.c): the responses the
 * enclave reads from /dev/nsm and the requests it writes. Beyond "no crash":
 *  - a response over 0x3000 bytes is never accepted;
 *  - an accepted GetRandom answer yields 1..256 bytes that occur in the
 *    input; an accepted DescribePCR answer yields 32, 48 or 64 bytes that
 *    occur in the input and a 0/1 lock; an accepted Attestation answer
 *    yields a non-empty document within the cap that occurs in the input;
 *  - at most one decoder accepts any input (the variants exclude each
 *    other);
 *  - requests built from the input (fields null or present, lengths up to
 *    the 1024-byte maximum) have exactly the length serde_cbor's encoding
 *    gives, carry each field's bytes at its offset, and stay within the
 *    driver's 0x1000-byte limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest_produce.h"
#include "nsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int occurs(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t n)
{
    return n <= hay_len && memmem(hay, hay_len, needle, n) != NULL;
}

static size_t head_len(size_t n)
{
    return n < 24 ? 1 : n < 256 ? 2 : 3; /* fields never reach 65536 */
}

static void check_responses(const uint8_t *data, size_t size)
{
    char err[160];
    int accepted = 0;

    uint8_t rnd[PA_NSM_RANDOM_MAX];
    size_t n = 0;
    if (pa_nsm_decode_get_random(data, size, rnd, sizeof rnd, &n, err, sizeof err) == 0) {
        accepted++;
        if (size > PA_NSM_RESPONSE_MAX || n == 0 || n > PA_NSM_RANDOM_MAX ||
            !occurs(data, size, rnd, n))
            abort();
    }

    uint8_t pcr[PA_NSM_PCR_MAX];
    int lock = -1;
    if (pa_nsm_decode_describe_pcr(data, size, &lock, pcr, &n, err, sizeof err) == 0) {
        accepted++;
        if (size > PA_NSM_RESPONSE_MAX || (n != 32 && n != 48 && n != 64) ||
            (lock != 0 && lock != 1) || !occurs(data, size, pcr, n))
            abort();
    }

    pa_buf doc;
    pa_buf_init(&doc, PA_ATTEST_DOC_MAX);
    if (pa_nsm_decode_attestation(data, size, &doc, err, sizeof err) == 0) {
        accepted++;
        if (size > PA_NSM_RESPONSE_MAX || doc.len == 0 || doc.len > PA_ATTEST_DOC_MAX ||
            !occurs(data, size, doc.data, doc.len))
            abort();
    }
    pa_buf_free(&doc);
    if (accepted > 1)
        abort();
}

static void check_request(const uint8_t *data, size_t size)
{
    if (size < 6)
        return;
    /* per field: a presence bit and a length up to 1024 taken from the
     * input; the bytes themselves come from the rest of the input (cycled) */
    size_t len[3];
    int present[3];
    for (int i = 0; i < 3; i++) {
        present[i] = (data[2 * i] & 1) != 0;
        len[i] = present[i] ? (((size_t)data[2 * i] << 8 | data[2 * i + 1]) >> 1) % 1025 : 0;
    }
    static uint8_t field[3][1024];
    const uint8_t *src = data + 6;
    size_t src_len = size - 6;
    for (int i = 0; i < 3; i++)
        for (size_t k = 0; k < len[i]; k++)
            field[i][k] = src_len > 0 ? src[(k * 3 + (size_t)i) % src_len] : (uint8_t)k;

    pa_buf req;
    pa_buf_init(&req, PA_NSM_REQUEST_MAX);
    if (pa_nsm_encode_attestation(present[0] ? field[0] : NULL, len[0],
                                  present[1] ? field[1] : NULL, len[1],
                                  present[2] ? field[2] : NULL, len[2], &req) != 0)
        abort(); /* every field within 1024 bytes is encodable */
    /* a1 "Attestation" a3 "user_data" X "nonce" X "public_key" X */
    static const size_t key_len[3] = {10, 6, 11};
    size_t off = 1 + 12 + 1, want = off;
    for (int i = 0; i < 3; i++)
        want += key_len[i] + (present[i] ? head_len(len[i]) + len[i] : 1);
    if (req.len != want || req.len > PA_NSM_REQUEST_MAX)
        abort();
    for (int i = 0; i < 3; i++) {
        off += key_len[i];
        if (!present[i]) {
            if (req.data[off] != 0xf6)
                abort();
            off += 1;
            continue;
        }
        off += head_len(len[i]);
        if (len[i] > 0 && memcmp(req.data + off, field[i], len[i]) != 0)
            abort();
        off += len[i];
    }
    pa_buf_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * PA_NSM_RESPONSE_MAX)
        return 0;
    check_responses(data, size);
    check_request(data, size);
    return 0;
}
