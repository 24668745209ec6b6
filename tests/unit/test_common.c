/* The shared building blocks: strict base64 and hex, RFC 3339 time, UUIDs,
 * capped buffers, strict JSON input and IPC framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "codec.h"
#include "ipc.h"
#include "json_strict.h"
#include "text.h"
#include "timeutil.h"
#include "uuid.h"

/* ---------------------------------------------------------------- base64 */

/* RFC 4648 §10 test vectors. */
static const char *const B64_PLAIN[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const B64_CODED[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_b64_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < PA_ARRAY_LEN(B64_PLAIN); i++) {
        char *enc = pa_b64_encode((const uint8_t *)B64_PLAIN[i], strlen(B64_PLAIN[i]));
        assert_non_null(enc);
        assert_string_equal(enc, B64_CODED[i]);
        free(enc);

        uint8_t *dec = NULL;
        size_t len = 99;
        assert_int_equal(pa_b64_decode(B64_CODED[i], strlen(B64_CODED[i]), &dec, &len), 0);
        assert_non_null(dec); /* never NULL, even for "" */
        assert_int_equal(len, strlen(B64_PLAIN[i]));
        assert_memory_equal(dec, B64_PLAIN[i], len);
        pa_free_secret(dec, len);
    }
}

static void test_b64_all_byte_values(void **state)
{
    (void)state;
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    for (size_t n = 0; n <= sizeof all; n += 37) {
        char *enc = pa_b64_encode(all, n);
        assert_non_null(enc);
        uint8_t *dec = NULL;
        size_t len = 0;
        assert_int_equal(pa_b64_decode(enc, strlen(enc), &dec, &len), 0);
        assert_int_equal(len, n);
        if (n > 0)
            assert_memory_equal(dec, all, n);
        free(dec);
        free(enc);
    }
}

static void test_b64_strictness(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg",       /* no padding */
        "Zg=",      /* short padding */
        "Zg===",    /* long padding */
        "Z===",     /* three pad characters */
        "====",     /* only padding */
        "=Zm9",     /* padding first */
        "Zg==Zg==", /* padding in the middle */
        "Zm=v",     /* padding inside a quantum */
        "Zh==",     /* non-zero unused bits (one pad: 4 bits) */
        "Zm9=",     /* non-zero unused bits (two pad: 2 bits) */
        "Zm8/Zm9",  /* length not a multiple of 4 */
        "Zm9v\n",   /* trailing newline */
        " Zm9v",    /* leading space */
        "Zm 9v",    /* inner space */
        "Zm9v\r\nYg==",
        "Zm-_",     /* base64url alphabet */
        "Zm9v.g==", /* stray character */
        "Zm9\x80",  /* non-ASCII */
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        uint8_t *dec = (uint8_t *)"untouched";
        size_t len = 42;
        if (pa_b64_decode(bad[i], strlen(bad[i]), &dec, &len) != -1)
            fail_msg("accepted bad base64 #%zu: %s", i, bad[i]);
        assert_int_equal(len, 42);
    }
    /* Length-carrying input: an embedded NUL is just a bad character. */
    uint8_t *dec = NULL;
    size_t len = 0;
    assert_int_equal(pa_b64_decode("Zm9v\0AAA", 8, &dec, &len), -1);
    assert_int_equal(pa_b64_decode("Zm9vAAAA", 8, &dec, &len), 0);
    assert_int_equal(len, 6);
    free(dec);
    assert_int_equal(pa_b64_decode(NULL, 4, &dec, &len), -1);
    assert_int_equal(pa_b64_decode("Zm9v", 4, NULL, &len), -1);

    /* The canonical encoding of each byte string is the only one accepted:
     * "Zm8=" is the one for "fo", "Zm9=" / "Zm+=" are not. */
    uint8_t two[2];
    assert_int_equal(pa_b64_decode_exact("Zm8=", two, 2), 0);
    assert_memory_equal(two, "fo", 2);
    assert_int_equal(pa_b64_decode_exact("Zm+=", two, 2), -1);
}

static void test_b64_decode_exact_lengths(void **state)
{
    (void)state;
    uint8_t key[32], raw[33];
    for (int i = 0; i < 33; i++)
        raw[i] = (uint8_t)(0xa0 + i);
    char *enc32 = pa_b64_encode(raw, 32), *enc31 = pa_b64_encode(raw, 31),
         *enc33 = pa_b64_encode(raw, 33);
    assert_int_equal(pa_b64_decode_exact(enc32, key, 32), 0);
    assert_memory_equal(key, raw, 32);
    assert_int_equal(pa_b64_decode_exact(enc31, key, 32), -1);
    assert_int_equal(pa_b64_decode_exact(enc33, key, 32), -1);
    assert_int_equal(pa_b64_decode_exact("", key, 0), 0);
    assert_int_equal(pa_b64_decode_exact("", key, 32), -1);
    assert_int_equal(pa_b64_decode_exact(NULL, key, 32), -1);
    assert_int_equal(pa_b64_decode_exact("not base64!", key, 32), -1);
    free(enc32);
    free(enc31);
    free(enc33);
}

/* ------------------------------------------------------------------- hex */

static void test_hex(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    char hex[2 * sizeof bytes + 1];
    memset(hex, 'x', sizeof hex);
    pa_hex_encode(bytes, sizeof bytes, hex);
    assert_string_equal(hex, "00017f80abcdefff");
    pa_hex_encode(bytes, 0, hex);
    assert_string_equal(hex, "");

    uint8_t out[sizeof bytes];
    assert_int_equal(pa_hex_decode_exact("00017f80abcdefff", out, sizeof out), 0);
    assert_memory_equal(out, bytes, sizeof bytes);
    assert_int_equal(pa_hex_decode_exact("00017F80ABCDEFFF", out, sizeof out), 0);
    assert_memory_equal(out, bytes, sizeof bytes);
    assert_int_equal(pa_hex_decode_exact("00017f80abcdeff", out, sizeof out), -1);   /* odd */
    assert_int_equal(pa_hex_decode_exact("00017f80abcdefff00", out, sizeof out), -1); /* long */
    assert_int_equal(pa_hex_decode_exact("00017f80abcdefgf", out, sizeof out), -1);   /* g */
    assert_int_equal(pa_hex_decode_exact("00017f80abcdef f", out, sizeof out), -1);
    assert_int_equal(pa_hex_decode_exact("0x017f80abcdefff", out, sizeof out), -1);
    assert_int_equal(pa_hex_decode_exact("", out, 0), 0);
    assert_int_equal(pa_hex_decode_exact(NULL, out, 1), -1);
    assert_int_equal(pa_hex_decode_exact("0", out, 0), -1);
}

/* ------------------------------------------------------------------ time */

typedef struct {
    const char *text;
    int64_t ms;
} time_row;

static void test_time_parse_valid(void **state)
{
    (void)state;
    /* Expected values from JavaScript's Date.parse. */
    static const time_row rows[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.000Z", 0},
        {"2023-11-14T22:13:20.123Z", 1700000000123},
        {"2023-11-14t22:13:20.123z", 1700000000123}, /* lower case T and Z */
        {"2024-02-29T12:34:56.789+05:30", 1709190296789},
        {"2024-01-01T00:00:00+01:00", 1704063600000},
        {"2024-01-01T00:00:00-00:00", 1704067200000},
        {"2024-03-10T01:02:03.1Z", 1710032523100},
        {"2024-03-10T01:02:03.12Z", 1710032523120},
        {"2024-03-10T01:02:03.123999999Z", 1710032523123}, /* truncated, not rounded */
        {"2000-02-29T00:00:00Z", 951782400000},             /* 400-year leap */
        {"2020-02-29T00:00:00Z", 1582934400000},
        {"1969-12-31T23:59:59.999Z", -1},
        {"0000-01-01T00:00:00Z", -62167219200000},
        {"9999-12-31T23:59:59.999Z", 253402300799999},
        {"2024-12-31T23:59:59-23:59", 1735775939000},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(rows); i++) {
        int64_t ms = 42;
        if (pa_time_parse(rows[i].text, &ms) != 0)
            fail_msg("rejected %s", rows[i].text);
        if (ms != rows[i].ms)
            fail_msg("%s: got %lld, want %lld", rows[i].text, (long long)ms,
                     (long long)rows[i].ms);
    }
}

static void test_time_parse_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2023-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z", /* century, not a leap year */
        "2024-02-30T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-01-00T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T23:60:00Z",
        "2024-12-31T23:59:60Z", /* leap second: no POSIX time */
        "2024-01-01T00:00:00",  /* no offset */
        "2024-01-01T00:00:00+0100",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+01:60",
        "2024-01-01T00:00:00+01",
        "2024-01-01T00:00:00.Z", /* empty fraction */
        "2024-01-01T00:00:00,5Z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00ZZ",
        "2024-01-01T00:00:00Z ",
        " 2024-01-01T00:00:00Z",
        "24-01-01T00:00:00Z",
        "+2024-01-01T00:00:00Z",
        "2024-1-01T00:00:00Z",
        "2024/01/01T00:00:00Z",
        "2024-01-01T0:00:00Z",
        "2024-01-01",
        "",
        "1700000000",
        "2024-01-01T00:00:00.00000000000000000000000000000000000000000000000Z", /* > 64 */
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        int64_t ms = 42;
        if (pa_time_parse(bad[i], &ms) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(ms, 42);
    }
    int64_t ms;
    assert_int_equal(pa_time_parse(NULL, &ms), -1);
}

static void test_time_format(void **state)
{
    (void)state;
    /* Expected values from JavaScript's Date.prototype.toISOString. */
    static const time_row rows[] = {
        {"1970-01-01T00:00:00.000Z", 0},
        {"1969-12-31T23:59:59.999Z", -1},
        {"2023-11-14T22:13:20.123Z", 1700000000123},
        {"2000-02-29T00:00:00.000Z", 951782400000},
        {"2024-02-29T00:00:00.000Z", 1709164800000},
        {"1969-12-31T00:00:00.000Z", -86400000},
        {"1969-12-30T23:59:59.999Z", -86400001},
        {"1970-01-01T23:59:59.999Z", 86399999},
        {"0000-01-01T00:00:00.000Z", -62167219200000},
        {"9999-12-31T23:59:59.999Z", 253402300799999},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(rows); i++) {
        char out[PA_TIME_STR_LEN];
        pa_time_format(rows[i].ms, out);
        assert_string_equal(out, rows[i].text);
        int64_t back = 0;
        assert_int_equal(pa_time_parse(out, &back), 0);
        assert_true(back == rows[i].ms);
    }
    /* Extremes must not crash or overflow (the output is clamped). */
    char out[PA_TIME_STR_LEN];
    pa_time_format(INT64_MIN, out);
    assert_int_equal(strlen(out), 24);
    pa_time_format(INT64_MAX, out);
    assert_int_equal(strlen(out), 24);
}

static void test_time_day(void **state)
{
    (void)state;
    assert_true(pa_time_day(0) == 0);
    assert_true(pa_time_day(86399999) == 0);
    assert_true(pa_time_day(86400000) == 1);
    assert_true(pa_time_day(-1) == -1);
    assert_true(pa_time_day(-86400000) == -1);
    assert_true(pa_time_day(-86400001) == -2);
    assert_true(pa_time_day(1709190296789) == 19782); /* 2024-02-29 */
    assert_true(pa_time_day(INT64_MAX) == INT64_MAX / 86400000);
    assert_true(pa_time_day(INT64_MIN) == INT64_MIN / 86400000 - 1);
    int64_t now = pa_now_ms();
    assert_true(now > 1700000000000); /* after 2023-11 */
}

/* ------------------------------------------------------------------ uuid */

static void test_uuid(void **state)
{
    (void)state;
    char prev[PA_UUID_STR_LEN] = "";
    for (int i = 0; i < 1000; i++) {
        char id[PA_UUID_STR_LEN];
        assert_int_equal(pa_uuid_v4(id), 0);
        assert_int_equal(strlen(id), 36);
        assert_true(pa_uuid_valid(id));
        assert_int_equal(id[14], '4');
        assert_non_null(strchr("89ab", id[19]));
        for (int k = 0; k < 36; k++)
            assert_true(id[k] == '-' || (id[k] >= '0' && id[k] <= '9') ||
                        (id[k] >= 'a' && id[k] <= 'f'));
        assert_string_not_equal(id, prev);
        memcpy(prev, id, sizeof prev);
    }
    assert_true(pa_uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950e"));
    assert_true(pa_uuid_valid("0F8FAD5B-D9CB-469F-A165-70867728950E"));
    assert_true(pa_uuid_valid("0f8fad5b-d9cb-469f-b165-70867728950e"));
    static const char *const bad[] = {
        "0f8fad5b-d9cb-169f-a165-70867728950e",  /* version 1 */
        "0f8fad5b-d9cb-469f-c165-70867728950e",  /* variant bits 11 */
        "0f8fad5b-d9cb-469f-7165-70867728950e",  /* variant bits 0 */
        "0f8fad5bd9cb469fa16570867728950e",      /* no dashes */
        "0f8fad5b-d9cb-469f-a165-70867728950",   /* short */
        "0f8fad5b-d9cb-469f-a165-70867728950e0", /* long */
        "0f8fad5b-d9cb-469f-a165_70867728950e",
        "{0f8fad5b-d9cb-469f-a165-70867728950e}",
        "0f8fad5g-d9cb-469f-a165-70867728950e",
        "0f8fad5b-d9cb-469f-a165-70867728950e ",
        "",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++)
        if (pa_uuid_valid(bad[i]))
            fail_msg("accepted %s", bad[i]);
    assert_false(pa_uuid_valid(NULL));
}

/* ------------------------------------------------------------------- buf */

static void test_buf_cap(void **state)
{
    (void)state;
    pa_buf b;
    pa_buf_init(&b, 10);
    assert_string_equal(pa_buf_cstr(&b), "");
    assert_int_equal(pa_buf_append(&b, "0123456789", 10), 0); /* exactly the cap */
    assert_int_equal(pa_buf_append(&b, "x", 1), -1);
    assert_int_equal(pa_buf_append(&b, "", 0), 0);
    assert_int_equal(pa_buf_printf(&b, "%d", 1), -1);
    assert_int_equal(b.len, 10);
    assert_string_equal(pa_buf_cstr(&b), "0123456789");
    pa_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(pa_buf_cstr(&b), "");
    assert_int_equal(pa_buf_printf(&b, "%s-%03d", "ab", 7), 0);
    assert_string_equal(pa_buf_cstr(&b), "ab-007");
    assert_int_equal(pa_buf_printf(&b, "%s", "long!"), -1); /* 6 + 5 > 10 */
    assert_string_equal(pa_buf_cstr(&b), "ab-007");
    assert_int_equal(pa_buf_append_str(&b, "cdef"), 0);
    assert_string_equal(pa_buf_cstr(&b), "ab-007cdef");
    pa_buf_free(&b);
    pa_buf_free(&b); /* twice is harmless */
    assert_null(b.data);

    /* A huge length cannot wrap the cap check. */
    pa_buf_init(&b, 100);
    assert_int_equal(pa_buf_append(&b, "a", 1), 0);
    assert_int_equal(pa_buf_append(&b, "a", SIZE_MAX), -1);
    assert_int_equal(pa_buf_append(&b, "a", SIZE_MAX - 1), -1);
    pa_buf_free(&b);

    /* A cap of zero holds only the empty string. */
    pa_buf_init(&b, 0);
    assert_int_equal(pa_buf_append(&b, "", 0), 0);
    assert_string_equal(pa_buf_cstr(&b), "");
    assert_int_equal(pa_buf_append(&b, "a", 1), -1);
    pa_buf_free(&b);
}

static void test_buf_growth_and_steal(void **state)
{
    (void)state;
    pa_buf b;
    pa_buf_init(&b, 100000);
    char chunk[777];
    memset(chunk, 'q', sizeof chunk);
    size_t total = 0;
    while (total + sizeof chunk <= 100000) {
        assert_int_equal(pa_buf_append(&b, chunk, sizeof chunk), 0);
        total += sizeof chunk;
    }
    assert_int_equal(b.len, total);
    assert_true(b.alloc <= 100001); /* never allocates past cap + NUL */
    assert_int_equal(b.data[b.len], 0);
    assert_int_equal(pa_buf_append(&b, chunk, sizeof chunk), -1);
    char *s = pa_buf_steal(&b);
    assert_non_null(s);
    assert_int_equal(strlen(s), total);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    /* The buffer is usable again after a steal, with the same cap. */
    assert_int_equal(pa_buf_append_str(&b, "again"), 0);
    assert_string_equal(pa_buf_cstr(&b), "again");
    pa_buf_free(&b);

    pa_buf empty;
    pa_buf_init(&empty, 10);
    assert_null(pa_buf_steal(&empty));

    /* No cap at all (SIZE_MAX) must still grow correctly. */
    pa_buf big;
    pa_buf_init(&big, SIZE_MAX);
    for (int i = 0; i < 100; i++)
        assert_int_equal(pa_buf_append(&big, chunk, sizeof chunk), 0);
    assert_int_equal(big.len, 100 * sizeof chunk);
    assert_true(big.alloc > big.len);
    pa_buf_free(&big);

    pa_free_secret(NULL, 10);
    pa_free_secret_str(NULL);
    char *secret = strdup("hunter2");
    pa_free_secret_str(secret);
}

/* ----------------------------------------------------------- strict JSON */

static json_t *parse(const char *text)
{
    return pa_json_parse(text, strlen(text), 4096);
}

static void test_json_strict(void **state)
{
    (void)state;
    json_t *v = parse("{\"a\": 1, \"b\": {\"c\": [true, null]}}");
    assert_non_null(v);
    json_decref(v);

    static const char *const bad[] = {
        "{\"a\": 1, \"a\": 2}",                 /* duplicate key */
        "{\"a\": 1, \"\\u0061\": 2}",           /* duplicate after unescaping */
        "{\"x\": {\"k\": 1, \"k\": 1}}",        /* nested duplicate */
        "[{\"k\": 1, \"k\": 1}]",
        "\"\\ud800\"",                          /* lone high surrogate */
        "\"\\udc00\"",                          /* lone low surrogate */
        "\"\\ud800\\ud800\"",                   /* two highs */
        "{\"\\ud83d\": 1}",                     /* lone surrogate in a key */
        "\"\\u0000\"",                          /* NUL character */
        "\"\xff\"",                             /* invalid UTF-8 */
        "\"\xed\xa0\x80\"",                     /* UTF-8-encoded surrogate */
        "\"\xc0\xaf\"",                         /* overlong */
        "{\"a\": 1} x",                         /* trailing garbage */
        "{\"a\": 1}{}",
        "{\"a\": 1,}",                          /* trailing comma */
        "{'a': 1}",
        "[NaN]",
        "[Infinity]",
        "[1e999]",                              /* overflows a double */
        "[123456789012345678901234567890]",     /* overflows an integer */
        "[01]",
        "",
        "   ",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        json_t *r = parse(bad[i]);
        if (r != NULL) {
            json_decref(r);
            fail_msg("accepted bad JSON #%zu: %s", i, bad[i]);
        }
    }

    /* A proper surrogate pair is fine. */
    v = parse("\"\\ud83d\\ude00\"");
    assert_non_null(v);
    assert_string_equal(json_string_value(v), "\xf0\x9f\x98\x80");
    json_decref(v);
    /* Any value at the top level. */
    v = parse("42");
    assert_true(json_is_integer(v));
    json_decref(v);
    assert_null(pa_json_parse(NULL, 0, 10));
}

static void test_json_cap_and_depth(void **state)
{
    (void)state;
    const char *text = "{\"abc\": \"defgh\"}"; /* 16 bytes */
    json_t *v = pa_json_parse(text, 16, 16);
    assert_non_null(v);
    json_decref(v);
    assert_null(pa_json_parse(text, 16, 15));
    /* The length is honoured: the text need not be NUL-terminated, and
     * bytes past len are not read. */
    v = pa_json_parse("[1]garbage", 3, 100);
    assert_non_null(v);
    json_decref(v);

    /* Nesting far past jansson's limit is refused, not a stack overflow. */
    enum { DEPTH = 5000 };
    char *deep = malloc(2 * DEPTH + 1);
    memset(deep, '[', DEPTH);
    memset(deep + DEPTH, ']', DEPTH);
    deep[2 * DEPTH] = 0;
    assert_null(pa_json_parse(deep, 2 * DEPTH, 1 << 20));
    free(deep);
}

static void test_json_helpers(void **state)
{
    (void)state;
    static const char *const allowed[] = {"exchange", "label", "ttl", NULL};
    json_t *ok = parse("{\"exchange\": \"binance\", \"label\": \"main\"}");
    json_t *extra = parse("{\"exchange\": \"binance\", \"labels\": \"main\"}");
    json_t *arr = parse("[\"exchange\"]");
    json_t *empty = parse("{}");
    assert_true(pa_json_only_keys(ok, allowed));
    assert_false(pa_json_only_keys(extra, allowed));
    assert_false(pa_json_only_keys(arr, allowed));
    assert_true(pa_json_only_keys(empty, allowed));
    assert_string_equal(pa_json_str(ok, "exchange"), "binance");
    assert_null(pa_json_str(ok, "ttl"));
    json_t *typed = parse("{\"ttl\": 3600, \"label\": null}");
    assert_null(pa_json_str(typed, "ttl"));
    assert_null(pa_json_str(typed, "label"));
    assert_null(pa_json_str(arr, "exchange"));
    json_decref(typed);
    json_decref(empty);
    json_decref(arr);
    json_decref(extra);
    json_decref(ok);
}

/* ------------------------------------------------------------------- ipc */

static void test_ipc_frames(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pa_buf in;
    pa_buf_init(&in, PA_IPC_MAX_FRAME);

    assert_int_equal(pa_ipc_write_frame(sv[0], "{\"op\":\"attest\"}", 15), 0);
    assert_int_equal(pa_ipc_write_frame(sv[0], "", 0), 0);
    char big[20000];
    memset(big, 'z', sizeof big);
    assert_int_equal(pa_ipc_write_frame(sv[0], big, sizeof big), 0);

    assert_int_equal(pa_ipc_read_frame(sv[1], &in), 0);
    assert_string_equal(pa_buf_cstr(&in), "{\"op\":\"attest\"}");
    assert_int_equal(pa_ipc_read_frame(sv[1], &in), 0);
    assert_int_equal(in.len, 0);
    assert_string_equal(pa_buf_cstr(&in), "");
    assert_int_equal(pa_ipc_read_frame(sv[1], &in), 0);
    assert_int_equal(in.len, sizeof big);
    assert_memory_equal(in.data, big, sizeof big);

    /* Too large to send. */
    assert_int_equal(pa_ipc_write_frame(sv[0], big, (size_t)PA_IPC_MAX_FRAME + 1), -1);
    /* A header announcing more than the maximum is refused before reading. */
    const uint8_t huge[4] = {0x00, 0x10, 0x00, 0x01}; /* 1 MiB + 1 */
    assert_int_equal(send(sv[0], huge, 4, 0), 4);
    assert_int_equal(pa_ipc_read_frame(sv[1], &in), -1);
    close(sv[0]);
    close(sv[1]);

    /* A frame larger than the reader's buffer cap fails. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pa_buf small;
    pa_buf_init(&small, 8);
    assert_int_equal(pa_ipc_write_frame(sv[0], "123456789", 9), 0);
    assert_int_equal(pa_ipc_read_frame(sv[1], &small), -1);
    pa_buf_free(&small);
    close(sv[0]);
    close(sv[1]);

    /* Clean end of stream before a frame: 1. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[0]);
    assert_int_equal(pa_ipc_read_frame(sv[1], &in), 1);
    close(sv[1]);

    /* End of stream inside the header or the body: an error. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(send(sv[0], "\x00\x00", 2, 0), 2);
    close(sv[0]);
    assert_int_equal(pa_ipc_read_frame(sv[1], &in), -1);
    close(sv[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(send(sv[0], "\x00\x00\x00\x05" "abc", 7, 0), 7);
    close(sv[0]);
    assert_int_equal(pa_ipc_read_frame(sv[1], &in), -1);
    close(sv[1]);

    /* Writing to a closed peer fails instead of raising SIGPIPE. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    assert_int_equal(pa_ipc_write_frame(sv[0], "x", 1), -1);
    close(sv[0]);
    pa_buf_free(&in);
}

static void test_ipc_connect(void **state)
{
    (void)state;
    char dir[] = "/tmp/pa_test_ipc_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/enclave.sock", dir);

    assert_int_equal(pa_ipc_connect(path, 1000), -1); /* nobody listening */

    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(srv >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(srv, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(srv, 1), 0);
    int c = pa_ipc_connect(path, 1000);
    assert_true(c >= 0);
    int s = accept(srv, NULL, NULL);
    assert_true(s >= 0);
    assert_int_equal(pa_ipc_write_frame(c, "ping", 4), 0);
    pa_buf in;
    pa_buf_init(&in, 64);
    assert_int_equal(pa_ipc_read_frame(s, &in), 0);
    assert_string_equal(pa_buf_cstr(&in), "ping");
    pa_buf_free(&in);
    close(s);
    close(c);
    close(srv);
    unlink(path);
    rmdir(dir);

    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = 0;
    assert_int_equal(pa_ipc_connect(longpath, 1000), -1);
}

/* Text shown to people: code points counted, control and bidi characters
 * and malformed UTF-8 refused. */
static void test_text_display_length(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        long want;
    } rows[] = {
        {"", 0},
        {"main", 4},
        {"Haupt-Konto \xe2\x82\xac", 13},       /* euro sign: 3 bytes, 1 character */
        {"\xf0\x9f\x98\x80", 1},               /* U+1F600 */
        {"a\x1b[2Ab", -1},                     /* ESC: moves the cursor */
        {"a\rb", -1},
        {"a\x7f", -1},                          /* DEL */
        {"a\xc2\x85", -1},                      /* U+0085, C1 */
        {"a\xe2\x80\xae" "b", -1},               /* U+202E right-to-left override */
        {"a\xe2\x81\xa6" "b", -1},               /* U+2066 left-to-right isolate */
        {"a\xe2\x80\x8f", -1},                  /* U+200F right-to-left mark */
        {"a\xd8\x9c", -1},                      /* U+061C Arabic letter mark */
        {"\xc0\xaf", -1},                       /* overlong '/' */
        {"\xed\xa0\x80", -1},                   /* a surrogate */
        {"\xf4\x90\x80\x80", -1},               /* past U+10FFFF */
        {"\xe2\x82", -1},                       /* truncated */
        /* format characters (Cf): invisible, yet they make strings differ */
        {"a\xe2\x80\x8b" "b", -1},               /* U+200B zero width space */
        {"a\xe2\x80\x8c" "b", -1},               /* U+200C zero width non-joiner */
        {"a\xe2\x80\x8d" "b", -1},               /* U+200D zero width joiner */
        {"a\xe2\x81\xa0" "b", -1},               /* U+2060 word joiner */
        {"\xef\xbb\xbf" "main", -1},             /* U+FEFF byte order mark */
        {"a\xc2\xad" "b", -1},                    /* U+00AD soft hyphen */
        {"a\xf3\xa0\x80\x81", -1},              /* U+E0001 language tag */
        {"a\xf0\x9d\x85\xb3", -1},              /* U+1D173 musical symbol begin beam */
        /* their visible neighbours stay allowed */
        {"a\xe2\x80\x8a" "b", 3},                /* U+200A hair space (Zs) */
        {"a\xe2\x80\x90" "b", 3},                /* U+2010 hyphen (Pd) */
        {"a\xef\xbb\xbe", 2},                    /* U+FEFE arabic ligature (Lo) */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (pa_text_display_length(rows[i].s, strlen(rows[i].s)) != rows[i].want)
            fail_msg("row %zu: want %ld", i, rows[i].want);
}

/* The whole table against Unicode's own data: every code point the
 * installed UnicodeData.txt (Debian's unicode-data) lists as Cc or Cf is
 * refused, every other one allowed. */
static void test_text_refuses_exactly_cc_and_cf(void **state)
{
    (void)state;
    FILE *f = fopen("/usr/share/unicode/UnicodeData.txt", "r");
    if (f == NULL)
        fail_msg("/usr/share/unicode/UnicodeData.txt missing: install unicode-data (scripts/deps.sh)");
    static unsigned char want[0x110000];
    memset(want, 0, sizeof want);
    char line[512];
    size_t listed = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char *semi = strchr(line, ';');
        char *cat = semi != NULL ? strchr(semi + 1, ';') : NULL;
        if (cat == NULL)
            continue;
        unsigned long cp = strtoul(line, NULL, 16);
        if (cp < sizeof want && (strncmp(cat + 1, "Cf;", 3) == 0 || strncmp(cat + 1, "Cc;", 3) == 0)) {
            want[cp] = 1;
            listed++;
        }
    }
    fclose(f);
    assert_true(listed >= 65 + 170); /* Cc, and Cf as of Unicode 15.0 */
    for (uint32_t cp = 0; cp < sizeof want; cp++)
        if (pa_text_char_refused(cp) != want[cp])
            fail_msg("U+%04X: refused %d, UnicodeData.txt says %d", (unsigned)cp,
                     pa_text_char_refused(cp), want[cp]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_display_length),
        cmocka_unit_test(test_text_refuses_exactly_cc_and_cf),
        cmocka_unit_test(test_b64_rfc4648_vectors),
        cmocka_unit_test(test_b64_all_byte_values),
        cmocka_unit_test(test_b64_strictness),
        cmocka_unit_test(test_b64_decode_exact_lengths),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_time_parse_valid),
        cmocka_unit_test(test_time_parse_invalid),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_day),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_buf_growth_and_steal),
        cmocka_unit_test(test_json_strict),
        cmocka_unit_test(test_json_cap_and_depth),
        cmocka_unit_test(test_json_helpers),
        cmocka_unit_test(test_ipc_frames),
        cmocka_unit_test(test_ipc_connect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
