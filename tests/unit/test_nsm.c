/* The Nitro Secure Module protocol (src/attest/nsm.c) byte for byte, and the
 * platform interface (src/attest/platform.c) without NSM hardware.
 *
 * Expected bytes are assembled by hand from RFC 8949 and the serde_cbor
 * encoding of aws-nitro-enclaves-nsm-api's Request / Response enums (a unit
 * variant is its name as a text string, a struct variant a one-entry map
 * {name: {field: value...}} with the fields in declaration order, None is
 * null, ByteBuf a byte string). Responses cover the success shapes, Error
 * answers, wrong shapes and oversize input. What cannot run here: the ioctl
 * against a real /dev/nsm (docs/NITRO.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attest_platform.h"
#include "codec.h"
#include "nsm.h"

#define PROD_DOC PA_SOURCE_DIR "/tests/data/nitro/nitro_attestation.b64"

static void assert_bytes(const pa_buf *b, const uint8_t *want, size_t want_len)
{
    if (b->len != want_len || memcmp(b->data, want, want_len) != 0) {
        char got_hex[2 * 128 + 1] = "";
        size_t n = b->len < 128 ? b->len : 128;
        pa_hex_encode(b->data, n, got_hex);
        fail_msg("encoding differs (got %zu bytes, want %zu): %s", b->len, want_len, got_hex);
    }
}

/* Builds a byte sequence from a list of literal pieces. */
typedef struct {
    uint8_t b[0x4000];
    size_t n;
} bytes;

static void put(bytes *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void put_text(bytes *o, const char *s)
{
    size_t n = strlen(s);
    assert_true(n < 24);
    uint8_t h = (uint8_t)(0x60 | n);
    put(o, &h, 1);
    put(o, s, n);
}
/* a byte-string head for n bytes (shortest form) followed by the bytes */
static void put_bstr(bytes *o, const uint8_t *p, size_t n)
{
    uint8_t h[3];
    if (n < 24) {
        h[0] = (uint8_t)(0x40 | n);
        put(o, h, 1);
    } else if (n < 256) {
        h[0] = 0x58;
        h[1] = (uint8_t)n;
        put(o, h, 2);
    } else {
        assert_true(n <= 0xffff);
        h[0] = 0x59;
        h[1] = (uint8_t)(n >> 8);
        h[2] = (uint8_t)n;
        put(o, h, 3);
    }
    put(o, p, n);
}
static void put_byte(bytes *o, uint8_t v)
{
    put(o, &v, 1);
}

/* ---- requests --------------------------------------------------------------- */

static void test_encode_get_random(void **state)
{
    (void)state;
    static const uint8_t want[] = {0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd', 'o', 'm'};
    pa_buf b;
    pa_buf_init(&b, PA_NSM_REQUEST_MAX);
    assert_int_equal(pa_nsm_encode_get_random(&b), 0);
    assert_bytes(&b, want, sizeof want);
    pa_buf_free(&b);
}

static void test_encode_describe_pcr(void **state)
{
    (void)state;
    static const uint8_t want0[] = {0xa1, 0x6b, 'D',  'e',  's', 'c', 'r', 'i', 'b', 'e', 'P',
                                    'C',  'R',  0xa1, 0x65, 'i', 'n', 'd', 'e', 'x', 0x00};
    static const uint8_t want16[] = {0xa1, 0x6b, 'D',  'e',  's', 'c', 'r', 'i', 'b', 'e', 'P',
                                     'C',  'R',  0xa1, 0x65, 'i', 'n', 'd', 'e', 'x', 0x10};
    static const uint8_t want24[] = {0xa1, 0x6b, 'D',  'e',  's', 'c', 'r', 'i', 'b', 'e',  'P',
                                     'C',  'R',  0xa1, 0x65, 'i', 'n', 'd', 'e', 'x', 0x18, 0x18};
    static const uint8_t want_max[] = {0xa1, 0x6b, 'D', 'e', 's',  'c',  'r',  'i',
                                       'b',  'e',  'P', 'C', 'R',  0xa1, 0x65, 'i',
                                       'n',  'd',  'e', 'x', 0x19, 0xff, 0xff};
    pa_buf b;
    pa_buf_init(&b, PA_NSM_REQUEST_MAX);
    assert_int_equal(pa_nsm_encode_describe_pcr(0, &b), 0);
    assert_bytes(&b, want0, sizeof want0);
    pa_buf_reset(&b);
    assert_int_equal(pa_nsm_encode_describe_pcr(16, &b), 0);
    assert_bytes(&b, want16, sizeof want16);
    pa_buf_reset(&b);
    assert_int_equal(pa_nsm_encode_describe_pcr(24, &b), 0);
    assert_bytes(&b, want24, sizeof want24);
    pa_buf_reset(&b);
    assert_int_equal(pa_nsm_encode_describe_pcr(UINT16_MAX, &b), 0);
    assert_bytes(&b, want_max, sizeof want_max);
    pa_buf_free(&b);
}

static void test_encode_attestation(void **state)
{
    (void)state;
    pa_buf b;
    pa_buf_init(&b, PA_NSM_REQUEST_MAX);

    /* all three absent: nulls, in the Rust struct's field order */
    static const uint8_t want_null[] = {
        0xa1, 0x6b, 'A',  't', 't', 'e', 's', 't', 'a', 't',  'i',  'o', 'n', 0xa3, 0x69,
        'u',  's',  'e',  'r', '_', 'd', 'a', 't', 'a', 0xf6, 0x65, 'n', 'o', 'n',  'c',
        'e',  0xf6, 0x6a, 'p', 'u', 'b', 'l', 'i', 'c', '_',  'k',  'e', 'y', 0xf6};
    assert_int_equal(pa_nsm_encode_attestation(NULL, 0, NULL, 0, NULL, 0, &b), 0);
    assert_bytes(&b, want_null, sizeof want_null);

    /* present but empty is an empty byte string, not null */
    static const uint8_t want_empty[] = {
        0xa1, 0x6b, 'A',  't', 't', 'e', 's', 't', 'a', 't',  'i',  'o', 'n', 0xa3, 0x69,
        'u',  's',  'e',  'r', '_', 'd', 'a', 't', 'a', 0x40, 0x65, 'n', 'o', 'n',  'c',
        'e',  0xf6, 0x6a, 'p', 'u', 'b', 'l', 'i', 'c', '_',  'k',  'e', 'y', 0xf6};
    static const uint8_t none[1] = {0};
    pa_buf_reset(&b);
    assert_int_equal(pa_nsm_encode_attestation(none, 0, NULL, 0, NULL, 0, &b), 0);
    assert_bytes(&b, want_empty, sizeof want_empty);

    /* perfagg's real use: user_data = 32-byte key binding, nonce, public_key =
     * the 32-byte X25519 key; and the 1024-byte maximum of each field */
    uint8_t ud[32], nonce[1024], pk[1024];
    for (size_t i = 0; i < sizeof ud; i++)
        ud[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)(0xff - i);
    for (size_t i = 0; i < sizeof pk; i++)
        pk[i] = (uint8_t)(i * 7);
    bytes w = {.n = 0};
    put_byte(&w, 0xa1);
    put_text(&w, "Attestation");
    put_byte(&w, 0xa3);
    put_text(&w, "user_data");
    put_bstr(&w, ud, 32); /* 58 20 ... */
    put_text(&w, "nonce");
    put_bstr(&w, nonce, 16); /* 50 ... */
    put_text(&w, "public_key");
    put_bstr(&w, pk, 32);
    pa_buf_reset(&b);
    assert_int_equal(pa_nsm_encode_attestation(ud, 32, nonce, 16, pk, 32, &b), 0);
    assert_bytes(&b, w.b, w.n);
    /* after a1, "Attestation" (12 bytes), a3, "user_data" (10): a 2-byte head */
    assert_int_equal(b.data[24], 0x58);
    assert_int_equal(b.data[25], 0x20);

    w.n = 0;
    put_byte(&w, 0xa1);
    put_text(&w, "Attestation");
    put_byte(&w, 0xa3);
    put_text(&w, "user_data");
    put_bstr(&w, nonce, 1024); /* 59 04 00 ... */
    put_text(&w, "nonce");
    put_bstr(&w, nonce, 1024);
    put_text(&w, "public_key");
    put_bstr(&w, pk, 1024);
    pa_buf_reset(&b);
    assert_int_equal(pa_nsm_encode_attestation(nonce, 1024, nonce, 1024, pk, 1024, &b), 0);
    assert_bytes(&b, w.b, w.n);
    assert_true(b.len <= PA_NSM_REQUEST_MAX); /* the largest request fits the driver's limit */

    /* refused: a field over 1024 bytes, a length without data */
    pa_buf_reset(&b);
    assert_int_equal(pa_nsm_encode_attestation(nonce, 1025, NULL, 0, NULL, 0, &b), -1);
    assert_int_equal(pa_nsm_encode_attestation(NULL, 0, NULL, 0, pk, 1025, &b), -1);
    assert_int_equal(pa_nsm_encode_attestation(NULL, 1, NULL, 0, NULL, 0, &b), -1);
    assert_int_equal(pa_nsm_encode_attestation(NULL, 0, NULL, 3, NULL, 0, &b), -1);
    assert_int_equal(pa_nsm_encode_attestation(NULL, 0, NULL, 0, NULL, 0, NULL), -1);
    pa_buf_free(&b);
}

/* ---- responses -------------------------------------------------------------- */

static void test_decode_get_random(void **state)
{
    (void)state;
    uint8_t rnd[256];
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (uint8_t)(i ^ 0x5a);
    uint8_t out[256];
    size_t n = 0;
    char err[160];

    bytes r = {.n = 0};
    put_byte(&r, 0xa1);
    put_text(&r, "GetRandom");
    put_byte(&r, 0xa1);
    put_text(&r, "random");
    put_bstr(&r, rnd, 256);
    assert_int_equal(pa_nsm_decode_get_random(r.b, r.n, out, sizeof out, &n, err, sizeof err), 0);
    assert_int_equal(n, 256);
    assert_memory_equal(out, rnd, 256);
    /* more than the caller's buffer holds is refused, not truncated */
    assert_int_equal(pa_nsm_decode_get_random(r.b, r.n, out, 255, &n, err, sizeof err), -1);

    /* 257 bytes: more than GetRandom ever answers */
    uint8_t big[257] = {0};
    r.n = 0;
    put_byte(&r, 0xa1);
    put_text(&r, "GetRandom");
    put_byte(&r, 0xa1);
    put_text(&r, "random");
    put_bstr(&r, big, 257);
    assert_int_equal(pa_nsm_decode_get_random(r.b, r.n, out, sizeof out, &n, err, sizeof err), -1);

    /* empty random */
    static const uint8_t empty[] = {0xa1, 0x69, 'G',  'e', 't', 'R', 'a', 'n', 'd', 'o',
                                    'm',  0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x40};
    assert_int_equal(
        pa_nsm_decode_get_random(empty, sizeof empty, out, sizeof out, &n, err, sizeof err), -1);
}

static void test_decode_errors(void **state)
{
    (void)state;
    uint8_t out[256];
    size_t n = 0;
    char err[160];
    static const char *const codes[] = {"Success",         "InvalidArgument", "InvalidIndex",
                                        "InvalidResponse", "ReadOnlyIndex",   "InvalidOperation",
                                        "BufferTooSmall",  "InputTooLarge",   "InternalError"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        bytes r = {.n = 0};
        put_byte(&r, 0xa1);
        put_text(&r, "Error");
        put_text(&r, codes[i]);
        err[0] = 0;
        assert_int_equal(pa_nsm_decode_get_random(r.b, r.n, out, sizeof out, &n, err, sizeof err),
                         -1);
        if (strstr(err, codes[i]) == NULL)
            fail_msg("error %s not named: %s", codes[i], err);
        int lock;
        uint8_t pcr[PA_NSM_PCR_MAX];
        assert_int_equal(pa_nsm_decode_describe_pcr(r.b, r.n, &lock, pcr, &n, err, sizeof err), -1);
        pa_buf doc;
        pa_buf_init(&doc, PA_ATTEST_DOC_MAX);
        assert_int_equal(pa_nsm_decode_attestation(r.b, r.n, &doc, err, sizeof err), -1);
        assert_int_equal(doc.len, 0);
        pa_buf_free(&doc);
    }
    /* an Error with an unknown code or a non-text code */
    static const uint8_t unknown[] = {0xa1, 0x65, 'E', 'r', 'r', 'o',
                                      'r',  0x64, 'O', 'o', 'p', 's'};
    static const uint8_t number[] = {0xa1, 0x65, 'E', 'r', 'r', 'o', 'r', 0x08};
    err[0] = 0;
    assert_int_equal(
        pa_nsm_decode_get_random(unknown, sizeof unknown, out, sizeof out, &n, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "unknown"));
    assert_null(strstr(err, "Oops")); /* device text is not echoed */
    assert_int_equal(
        pa_nsm_decode_get_random(number, sizeof number, out, sizeof out, &n, err, sizeof err), -1);
}

/* Shapes that are not the answer asked for. */
static void test_decode_wrong_shapes(void **state)
{
    (void)state;
    uint8_t out[256];
    size_t n = 0;
    char err[160];
    static const uint8_t r_ok[] = {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd',  'o', 'm',
                                   0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x42, 1,   2};
    assert_int_equal(
        pa_nsm_decode_get_random(r_ok, sizeof r_ok, out, sizeof out, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);

    static const struct {
        const char *why;
        uint8_t b[48];
        size_t n;
    } bad[] = {
        {"bare name", {0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd', 'o', 'm'}, 10},
        {"other variant",
         {0xa1, 0x67, 'L', 'o', 'c', 'k', 'P', 'C',  'R', 0xa1,
          0x66, 'r',  'a', 'n', 'd', 'o', 'm', 0x42, 1,   2},
         20},
        {"case",
         {0xa1, 0x69, 'g', 'e', 't', 'R', 'a', 'n', 'd',  'o', 'm',
          0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x42, 1,   2},
         22},
        {"extra field",
         {0xa1, 0x69, 'G', 'e', 't', 'R', 'a',  'n', 'd', 'o',  'm', 0xa2, 0x66,
          'r',  'a',  'n', 'd', 'o', 'm', 0x42, 1,   2,   0x61, 'x', 0x01},
         25},
        {"missing field", {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd', 'o', 'm', 0xa0}, 12},
        {"renamed field",
         {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd',  'o', 'm',
          0xa1, 0x66, 'r', 'a', 'n', 'd', 'u', 'm', 0x42, 1,   2},
         22},
        {"text instead of bytes",
         {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd',  'o', 'm',
          0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x62, 'a', 'b'},
         22},
        {"array body",
         {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd', 'o', 'm', 0x81, 0x42, 1, 2},
         15},
        {"two variants",
         {0xa2, 0x69, 'G', 'e', 't', 'R',  'a', 'n',  'd', 'o', 'm', 0xa1, 0x66, 'r',
          'a',  'n',  'd', 'o', 'm', 0x41, 1,   0x65, 'E', 'r', 'r', 'o',  'r',  0x6d,
          'I',  'n',  't', 'e', 'r', 'n',  'a', 'l',  'E', 'r', 'r', 'o',  'r'},
         41},
        {"trailing byte",
         {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n',  'd', 'o', 'm', 0xa1,
          0x66, 'r',  'a', 'n', 'd', 'o', 'm', 0x42, 1,   2,   0x00},
         23},
        {"truncated",
         {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd',  'o', 'm',
          0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x42, 1},
         21},
        {"indefinite map",
         {0xbf, 0x69, 'G', 'e', 't', 'R', 'a', 'n',  'd', 'o', 'm', 0xa1,
          0x66, 'r',  'a', 'n', 'd', 'o', 'm', 0x42, 1,   2,   0xff},
         23},
        {"indefinite bytes",
         {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n',  'd',  'o', 'm', 0xa1,
          0x66, 'r',  'a', 'n', 'd', 'o', 'm', 0x5f, 0x42, 1,   2,   0xff},
         24},
        {"tagged",
         {0xd8, 0x18, 0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n',  'd', 'o',
          'm',  0xa1, 0x66, 'r',  'a', 'n', 'd', 'o', 'm', 0x42, 1,   2},
         24},
        {"integer key", {0xa1, 0x00, 0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x42, 1, 2}, 13},
        {"null", {0xf6}, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (pa_nsm_decode_get_random(bad[i].b, bad[i].n, out, sizeof out, &n, err, sizeof err) !=
            -1)
            fail_msg("accepted GetRandom response: %s", bad[i].why);
    }
    assert_int_equal(pa_nsm_decode_get_random(NULL, 0, out, sizeof out, &n, err, sizeof err), -1);
    assert_int_equal(pa_nsm_decode_get_random(r_ok, 0, out, sizeof out, &n, err, sizeof err), -1);
}

static void test_decode_describe_pcr(void **state)
{
    (void)state;
    uint8_t pcr[48];
    for (size_t i = 0; i < sizeof pcr; i++)
        pcr[i] = (uint8_t)(0xa0 + i);
    uint8_t out[PA_NSM_PCR_MAX];
    size_t n = 0;
    int lock = -1;
    char err[160];

    bytes r = {.n = 0};
    put_byte(&r, 0xa1);
    put_text(&r, "DescribePCR");
    put_byte(&r, 0xa2);
    put_text(&r, "lock");
    put_byte(&r, 0xf5); /* true */
    put_text(&r, "data");
    put_bstr(&r, pcr, 48);
    assert_int_equal(pa_nsm_decode_describe_pcr(r.b, r.n, &lock, out, &n, err, sizeof err), 0);
    assert_int_equal(lock, 1);
    assert_int_equal(n, 48);
    assert_memory_equal(out, pcr, 48);

    /* the fields in the other order are the same map */
    r.n = 0;
    put_byte(&r, 0xa1);
    put_text(&r, "DescribePCR");
    put_byte(&r, 0xa2);
    put_text(&r, "data");
    put_bstr(&r, pcr, 32);
    put_text(&r, "lock");
    put_byte(&r, 0xf4); /* false */
    assert_int_equal(pa_nsm_decode_describe_pcr(r.b, r.n, &lock, out, &n, err, sizeof err), 0);
    assert_int_equal(lock, 0);
    assert_int_equal(n, 32);

    /* refused: data of another length, lock not a bool, a field twice */
    static const size_t lens[] = {0, 1, 47, 49, 65};
    uint8_t big[65] = {0};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        r.n = 0;
        put_byte(&r, 0xa1);
        put_text(&r, "DescribePCR");
        put_byte(&r, 0xa2);
        put_text(&r, "lock");
        put_byte(&r, 0xf5);
        put_text(&r, "data");
        put_bstr(&r, big, lens[i]);
        if (pa_nsm_decode_describe_pcr(r.b, r.n, &lock, out, &n, err, sizeof err) != -1)
            fail_msg("accepted a %zu-byte PCR", lens[i]);
    }
    static const uint8_t lock_int[] = {0xa1, 0x6b, 'D',  'e', 's',  'c',  'r', 'i', 'b',
                                       'e',  'P',  'C',  'R', 0xa2, 0x64, 'l', 'o', 'c',
                                       'k',  0x01, 0x64, 'd', 'a',  't',  'a', 0x40};
    static const uint8_t lock_twice[] = {0xa1, 0x6b, 'D',  'e', 's',  'c',  'r', 'i', 'b',
                                         'e',  'P',  'C',  'R', 0xa2, 0x64, 'l', 'o', 'c',
                                         'k',  0xf5, 0x64, 'l', 'o',  'c',  'k', 0xf5};
    static const uint8_t lock_null[] = {0xa1, 0x6b, 'D',  'e', 's',  'c',  'r', 'i', 'b',
                                        'e',  'P',  'C',  'R', 0xa2, 0x64, 'l', 'o', 'c',
                                        'k',  0xf6, 0x64, 'd', 'a',  't',  'a', 0x40};
    assert_int_equal(
        pa_nsm_decode_describe_pcr(lock_int, sizeof lock_int, &lock, out, &n, err, sizeof err), -1);
    assert_int_equal(
        pa_nsm_decode_describe_pcr(lock_twice, sizeof lock_twice, &lock, out, &n, err, sizeof err),
        -1);
    assert_int_equal(
        pa_nsm_decode_describe_pcr(lock_null, sizeof lock_null, &lock, out, &n, err, sizeof err),
        -1);
}

static uint8_t *read_prod_doc(size_t *len)
{
    FILE *f = fopen(PROD_DOC, "r");
    assert_non_null(f);
    static char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    text[n] = 0;
    uint8_t *doc = NULL;
    assert_int_equal(pa_b64_decode(text, n, &doc, len), 0);
    return doc;
}

/* A real AWS attestation document, as the NSM hands it over. */
static void test_decode_attestation(void **state)
{
    (void)state;
    size_t doc_len = 0;
    uint8_t *doc = read_prod_doc(&doc_len);
    assert_true(doc_len > 4000 && doc_len < PA_NSM_RESPONSE_MAX - 32);
    char err[160];

    bytes *r = calloc(1, sizeof *r);
    assert_non_null(r);
    put_byte(r, 0xa1);
    put_text(r, "Attestation");
    put_byte(r, 0xa1);
    put_text(r, "document");
    put_bstr(r, doc, doc_len);
    pa_buf out;
    pa_buf_init(&out, PA_ATTEST_DOC_MAX);
    assert_int_equal(pa_nsm_decode_attestation(r->b, r->n, &out, err, sizeof err), 0);
    assert_int_equal(out.len, doc_len);
    assert_memory_equal(out.data, doc, doc_len); /* handed on unchanged */
    pa_buf_free(&out);

    /* a document over the caller's cap is refused, not cut */
    pa_buf_init(&out, doc_len - 1);
    assert_int_equal(pa_nsm_decode_attestation(r->b, r->n, &out, err, sizeof err), -1);
    assert_int_equal(out.len, 0);
    pa_buf_free(&out);

    /* a response longer than the driver's 0x3000-byte buffer is refused
     * before parsing, even when well-formed */
    static uint8_t huge_doc[PA_NSM_RESPONSE_MAX];
    memset(huge_doc, 0x42, sizeof huge_doc);
    r->n = 0;
    put_byte(r, 0xa1);
    put_text(r, "Attestation");
    put_byte(r, 0xa1);
    put_text(r, "document");
    put_bstr(r, huge_doc, sizeof huge_doc - 64);
    assert_true(r->n <= PA_NSM_RESPONSE_MAX);
    pa_buf_init(&out, PA_ATTEST_DOC_MAX);
    assert_int_equal(pa_nsm_decode_attestation(r->b, r->n, &out, err, sizeof err), 0);
    pa_buf_reset(&out);
    r->n = 0;
    put_byte(r, 0xa1);
    put_text(r, "Attestation");
    put_byte(r, 0xa1);
    put_text(r, "document");
    put_bstr(r, huge_doc, sizeof huge_doc);
    assert_true(r->n > PA_NSM_RESPONSE_MAX);
    assert_int_equal(pa_nsm_decode_attestation(r->b, r->n, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "0x3000"));

    /* empty document, document as text, extra field */
    static const uint8_t empty[] = {0xa1, 0x6b, 'A',  't', 't', 'e', 's', 't', 'a', 't', 'i', 'o',
                                    'n',  0xa1, 0x68, 'd', 'o', 'c', 'u', 'm', 'e', 'n', 't', 0x40};
    static const uint8_t as_text[] = {0xa1, 0x6b, 'A', 't', 't',  'e',  's', 't', 'a',
                                      't',  'i',  'o', 'n', 0xa1, 0x68, 'd', 'o', 'c',
                                      'u',  'm',  'e', 'n', 't',  0x61, 'x'};
    static const uint8_t extra[] = {0xa1, 0x6b, 'A',  't',  't', 'e', 's', 't', 'a', 't', 'i',
                                    'o',  'n',  0xa2, 0x68, 'd', 'o', 'c', 'u', 'm', 'e', 'n',
                                    't',  0x41, 1,    0x65, 'n', 'o', 'n', 'c', 'e', 0xf6};
    assert_int_equal(pa_nsm_decode_attestation(empty, sizeof empty, &out, err, sizeof err), -1);
    assert_int_equal(pa_nsm_decode_attestation(as_text, sizeof as_text, &out, err, sizeof err), -1);
    assert_int_equal(pa_nsm_decode_attestation(extra, sizeof extra, &out, err, sizeof err), -1);
    /* a GetRandom answer to an Attestation request */
    static const uint8_t other[] = {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd',  'o', 'm',
                                    0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x41, 1};
    assert_int_equal(pa_nsm_decode_attestation(other, sizeof other, &out, err, sizeof err), -1);
    pa_buf_free(&out);
    free(r);
    free(doc);
}

/* The ioctl path against devices that are not an NSM: refused cleanly. */
static void test_not_an_nsm(void **state)
{
    (void)state;
    char err[160] = "";
    pa_buf req;
    pa_buf_init(&req, PA_NSM_REQUEST_MAX);
    assert_int_equal(pa_nsm_encode_get_random(&req), 0);
    static uint8_t resp[PA_NSM_RESPONSE_MAX];
    size_t n = 0;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pa_nsm_call(fd, &req, resp, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "ioctl"));
    /* an oversize request never reaches the device */
    pa_buf big;
    pa_buf_init(&big, PA_NSM_REQUEST_MAX + 2);
    static uint8_t filler[PA_NSM_REQUEST_MAX + 1];
    assert_int_equal(pa_buf_append(&big, filler, sizeof filler), 0);
    assert_int_equal(pa_nsm_call(fd, &big, resp, &n, err, sizeof err), -1);
    close(fd);
    pa_buf_free(&big);
    pa_buf_free(&req);

    assert_null(pa_attest_nitro_open("/dev/null"));
    assert_null(pa_attest_nitro_open("/nonexistent/nsm"));
    assert_null(pa_attest_nitro_open(NULL));
    err[0] = 0;
    assert_null(pa_attest_platform_open(PA_PLATFORM_NITRO, "/nonexistent/nsm", pa_attest_dev_open,
                                        "/tmp", "/dev/null", err, sizeof err));
    assert_non_null(strstr(err, "Nitro"));
}

/* ---- the Nitro provider over a scripted transport -----------------------------
 * No NSM exists where these tests run, so the device is replaced by a script
 * of responses (the ioctl itself is covered only by test_not_an_nsm). This
 * checks the provider's own logic: which requests it sends, with which
 * fields, and what it does with each answer. */

#define SCRIPT_MAX 8

typedef struct {
    bytes resp[SCRIPT_MAX];
    size_t n_resp, next;
    bytes req[SCRIPT_MAX];
    size_t n_req;
} script;

static int scripted(void *ctx, const pa_buf *request, uint8_t resp[PA_NSM_RESPONSE_MAX],
                    size_t *resp_len, char *err, size_t errlen)
{
    script *s = ctx;
    if (s->n_req < SCRIPT_MAX) {
        memcpy(s->req[s->n_req].b, request->data, request->len);
        s->req[s->n_req++].n = request->len;
    }
    if (s->next >= s->n_resp) {
        snprintf(err, errlen, "script exhausted");
        return -1;
    }
    bytes *r = &s->resp[s->next++];
    memcpy(resp, r->b, r->n);
    *resp_len = r->n;
    return 0;
}

static void script_pcr(script *s, int lock, const uint8_t *pcr, size_t n)
{
    bytes *r = &s->resp[s->n_resp++];
    r->n = 0;
    put_byte(r, 0xa1);
    put_text(r, "DescribePCR");
    put_byte(r, 0xa2);
    put_text(r, "lock");
    put_byte(r, lock ? 0xf5 : 0xf4);
    put_text(r, "data");
    put_bstr(r, pcr, n);
}

static void script_random(script *s, uint8_t first, size_t n)
{
    uint8_t v[256];
    for (size_t i = 0; i < n; i++)
        v[i] = (uint8_t)(first + i);
    bytes *r = &s->resp[s->n_resp++];
    r->n = 0;
    put_byte(r, 0xa1);
    put_text(r, "GetRandom");
    put_byte(r, 0xa1);
    put_text(r, "random");
    put_bstr(r, v, n);
}

static void script_error(script *s, const char *code)
{
    bytes *r = &s->resp[s->n_resp++];
    r->n = 0;
    put_byte(r, 0xa1);
    put_text(r, "Error");
    put_text(r, code);
}

static const uint8_t describe_pcr0_req[] = {0xa1, 0x6b, 'D', 'e', 's', 'c', 'r',
                                            'i',  'b',  'e', 'P', 'C', 'R', 0xa1,
                                            0x65, 'i',  'n', 'd', 'e', 'x', 0x00};

static void test_nitro_provider_open(void **state)
{
    (void)state;
    uint8_t pcr[48];
    for (size_t i = 0; i < sizeof pcr; i++)
        pcr[i] = (uint8_t)(0x30 + i);
    script *s = calloc(1, sizeof *s);
    assert_non_null(s);

    script_pcr(s, 1, pcr, 48);
    pa_attest_platform *p = pa_attest_nitro_open_transport(scripted, s);
    assert_non_null(p);
    /* the one request at open: DescribePCR for index 0 */
    assert_int_equal(s->n_req, 1);
    assert_int_equal(s->req[0].n, sizeof describe_pcr0_req);
    assert_memory_equal(s->req[0].b, describe_pcr0_req, sizeof describe_pcr0_req);
    assert_memory_equal(pa_attest_pcr0(p), pcr, 48); /* image_hash = PCR0 */
    assert_string_equal(pa_attest_platform_name(p), "nitro");
    assert_int_equal(pa_attest_platform_is_development(p), 0);
    assert_null(pa_attest_root_pem(p)); /* clients pin the AWS root themselves */
    pa_attest_platform_free(p);

    /* refused: PCR0 not locked, not 48 bytes, an Error, no answer */
    memset(s, 0, sizeof *s);
    script_pcr(s, 0, pcr, 48);
    assert_null(pa_attest_nitro_open_transport(scripted, s));
    memset(s, 0, sizeof *s);
    script_pcr(s, 1, pcr, 32);
    assert_null(pa_attest_nitro_open_transport(scripted, s));
    memset(s, 0, sizeof *s);
    script_error(s, "InvalidIndex");
    assert_null(pa_attest_nitro_open_transport(scripted, s));
    memset(s, 0, sizeof *s);
    assert_null(pa_attest_nitro_open_transport(scripted, s));
    assert_null(pa_attest_nitro_open_transport(NULL, s));

    /* debug mode: PCR0 all zero -> results must say development */
    memset(s, 0, sizeof *s);
    static const uint8_t zero[48] = {0};
    script_pcr(s, 1, zero, 48);
    p = pa_attest_nitro_open_transport(scripted, s);
    assert_non_null(p);
    assert_int_equal(pa_attest_platform_is_development(p), 1);
    pa_attest_platform_free(p);
    free(s);
}

static void test_nitro_provider_random(void **state)
{
    (void)state;
    uint8_t pcr[48] = {1};
    script *s = calloc(1, sizeof *s);
    assert_non_null(s);
    script_pcr(s, 1, pcr, 48);
    script_random(s, 0, 256);
    script_random(s, 100, 256);
    script_random(s, 200, 256);
    pa_attest_platform *p = pa_attest_nitro_open_transport(scripted, s);
    assert_non_null(p);

    /* 600 bytes: three GetRandom calls, the last used in part */
    uint8_t out[600];
    assert_int_equal(pa_attest_platform_random(p, out, sizeof out), 0);
    assert_int_equal(s->n_req, 4);
    for (size_t i = 1; i < 4; i++) {
        assert_int_equal(s->req[i].n, 10);
        assert_memory_equal(s->req[i].b, "\x69GetRandom", 10);
    }
    for (size_t i = 0; i < 600; i++) {
        uint8_t want = (uint8_t)(i < 256 ? i : i < 512 ? 100 + (i - 256) : 200 + (i - 512));
        if (out[i] != want)
            fail_msg("random byte %zu is %u, want %u", i, out[i], want);
    }

    /* an Error halfway: failure, and nothing half-filled is left behind */
    s->n_resp = s->next = 0;
    script_random(s, 7, 256);
    script_error(s, "InternalError");
    memset(out, 0xee, sizeof out);
    assert_int_equal(pa_attest_platform_random(p, out, 300), -1);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(out[i], 0);

    /* seeding OpenSSL takes PA_PLATFORM_SEED_LEN bytes from the NSM */
    s->n_resp = s->next = 0;
    s->n_req = 0;
    script_random(s, 1, 256);
    assert_int_equal(pa_attest_platform_seed_rng(p), 0);
    assert_int_equal(s->n_req, 1);
    s->n_resp = s->next = 0;
    script_error(s, "InternalError");
    assert_int_equal(pa_attest_platform_seed_rng(p), -1);
    pa_attest_platform_free(p);
    free(s);
}

static void test_nitro_provider_document(void **state)
{
    (void)state;
    size_t doc_len = 0;
    uint8_t *doc = read_prod_doc(&doc_len);
    uint8_t pcr[48] = {2};
    script *s = calloc(1, sizeof *s);
    assert_non_null(s);
    script_pcr(s, 1, pcr, 48);
    bytes *r = &s->resp[s->n_resp++];
    put_byte(r, 0xa1);
    put_text(r, "Attestation");
    put_byte(r, 0xa1);
    put_text(r, "document");
    put_bstr(r, doc, doc_len);
    script_error(s, "InputTooLarge");
    pa_attest_platform *p = pa_attest_nitro_open_transport(scripted, s);
    assert_non_null(p);

    /* pa_attest_document(public_key, user_data, nonce) reaches the NSM as
     * {user_data, nonce, public_key} with each field in its own place */
    uint8_t pk[32], ud[32], nonce[16];
    memset(pk, 0x11, sizeof pk);
    memset(ud, 0x22, sizeof ud);
    memset(nonce, 0x33, sizeof nonce);
    pa_buf out = {0};
    assert_int_equal(pa_attest_document(p, pk, sizeof pk, ud, sizeof ud, nonce, sizeof nonce, &out),
                     0);
    pa_buf want;
    pa_buf_init(&want, PA_NSM_REQUEST_MAX);
    assert_int_equal(
        pa_nsm_encode_attestation(ud, sizeof ud, nonce, sizeof nonce, pk, sizeof pk, &want), 0);
    assert_int_equal(s->n_req, 2);
    assert_int_equal(s->req[1].n, want.len);
    assert_memory_equal(s->req[1].b, want.data, want.len);
    /* the NSM's document is handed on unchanged */
    assert_int_equal(out.len, doc_len);
    assert_memory_equal(out.data, doc, doc_len);

    /* an Error answer: failure and an empty output */
    assert_int_equal(pa_attest_document(p, NULL, 0, NULL, 0, NULL, 0, &out), -1);
    assert_int_equal(out.len, 0);
    /* fields over 1024 bytes never reach the device */
    static uint8_t big[1025];
    size_t before = s->n_req;
    assert_int_equal(pa_attest_document(p, big, sizeof big, NULL, 0, NULL, 0, &out), -1);
    assert_int_equal(s->n_req, before);

    pa_buf_free(&want);
    pa_buf_free(&out);
    pa_attest_platform_free(p);
    free(s);
    free(doc);
}

static void test_choice_parse(void **state)
{
    (void)state;
    pa_platform_choice c;
    assert_int_equal(pa_attest_platform_choice_parse(NULL, &c), 0);
    assert_int_equal(c, PA_PLATFORM_AUTO);
    assert_int_equal(pa_attest_platform_choice_parse("", &c), 0);
    assert_int_equal(c, PA_PLATFORM_AUTO);
    assert_int_equal(pa_attest_platform_choice_parse("auto", &c), 0);
    assert_int_equal(c, PA_PLATFORM_AUTO);
    assert_int_equal(pa_attest_platform_choice_parse("nitro", &c), 0);
    assert_int_equal(c, PA_PLATFORM_NITRO);
    assert_int_equal(pa_attest_platform_choice_parse("development", &c), 0);
    assert_int_equal(c, PA_PLATFORM_DEVELOPMENT);
    assert_int_equal(pa_attest_platform_choice_parse("Nitro", &c), -1);
    assert_int_equal(pa_attest_platform_choice_parse("dev", &c), -1);
    assert_int_equal(pa_attest_platform_choice_parse("nitro ", &c), -1);
}

/* Without a development opener (the production enclave) only Nitro is
 * possible: development is refused, auto means nitro. */
static void test_production_nitro_only(void **state)
{
    (void)state;
    char perr[160] = "";
    assert_null(pa_attest_platform_open(PA_PLATFORM_DEVELOPMENT, "/nonexistent/nsm", NULL, "/tmp",
                                        "/proc/self/exe", perr, sizeof perr));
    assert_non_null(strstr(perr, "Nitro platform only"));
    perr[0] = 0;
    assert_null(pa_attest_platform_open(PA_PLATFORM_AUTO, "/nonexistent/nsm", NULL, "/tmp",
                                        "/proc/self/exe", perr, sizeof perr));
    assert_non_null(strstr(perr, "Nitro Secure Module"));
}

/* Without /dev/nsm, auto selects the development provider when one is
 * available; the interface answers for it. */
static void test_auto_development(void **state)
{
    (void)state;

    char dir[] = "/tmp/pa_test_nsm_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char dev_dir[64];
    snprintf(dev_dir, sizeof dev_dir, "%s/dev-attest", dir);
    char err[160] = "";
    pa_attest_platform *p =
        pa_attest_platform_open(PA_PLATFORM_AUTO, "/nonexistent/nsm", pa_attest_dev_open, dev_dir,
                                "/proc/self/exe", err, sizeof err);
    assert_non_null(p);
    assert_string_equal(pa_attest_platform_name(p), "development");
    assert_int_equal(pa_attest_platform_is_development(p), 1);
    uint8_t a[64] = {0}, b[64] = {0};
    assert_int_equal(pa_attest_platform_random(p, a, sizeof a), 0);
    assert_int_equal(pa_attest_platform_random(p, b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(pa_attest_platform_seed_rng(p), 0);
    /* PCR0 of the development platform: SHA-384 of the executable */
    uint8_t want[48];
    unsigned int wl = 0;
    FILE *f = fopen("/proc/self/exe", "rb");
    assert_non_null(f);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha384(), NULL), 1);
    uint8_t chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(EVP_DigestUpdate(md, chunk, n), 1);
    fclose(f);
    assert_int_equal(EVP_DigestFinal_ex(md, want, &wl), 1);
    EVP_MD_CTX_free(md);
    assert_memory_equal(pa_attest_pcr0(p), want, 48);
    char *pem = pa_attest_root_pem(p);
    assert_non_null(pem);
    free(pem);
    pa_buf doc = {0};
    assert_int_equal(pa_attest_document(p, NULL, 0, NULL, 0, NULL, 0, &doc), 0);
    assert_true(doc.len > 0);
    pa_buf_free(&doc);
    pa_attest_platform_free(p);

    /* an explicit development choice works the same */
    p = pa_attest_platform_open(PA_PLATFORM_DEVELOPMENT, NULL, pa_attest_dev_open, dev_dir,
                                "/proc/self/exe", err, sizeof err);
    assert_non_null(p);
    pa_attest_platform_free(p);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "%s/root.pem", dev_dir);
    unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/root.key", dev_dir);
    unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/intermediate.pem", dev_dir);
    unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/intermediate.key", dev_dir);
    unlink(cmd);
    rmdir(dev_dir);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_get_random),
        cmocka_unit_test(test_encode_describe_pcr),
        cmocka_unit_test(test_encode_attestation),
        cmocka_unit_test(test_decode_get_random),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_decode_wrong_shapes),
        cmocka_unit_test(test_decode_describe_pcr),
        cmocka_unit_test(test_decode_attestation),
        cmocka_unit_test(test_not_an_nsm),
        cmocka_unit_test(test_nitro_provider_open),
        cmocka_unit_test(test_nitro_provider_random),
        cmocka_unit_test(test_nitro_provider_document),
        cmocka_unit_test(test_choice_parse),
        cmocka_unit_test(test_production_nitro_only),
        cmocka_unit_test(test_auto_development),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
