/* RFC 8785 (JCS): the RFC's own examples, then the edges of each rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "codec.h"
#include "jcs.h"
#include "json_strict.h"

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* Canonical form of a JSON text parsed the way the service parses input. */
static char *canon_text(const char *text)
{
    json_t *v = pa_json_parse(text, strlen(text), 1 << 20);
    assert_non_null(v);
    char *out = pa_jcs_dumps(v);
    json_decref(v);
    return out;
}

static void assert_canon(const char *text, const char *want)
{
    char *got = canon_text(text);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* ------------------------------------------------------ RFC 8785 App. B */

typedef struct {
    uint64_t bits;
    const char *want;
} number_row;

/* RFC 8785 Appendix B, every finite row, in the RFC's order. */
static const number_row APPENDIX_B[] = {
    {0x0000000000000000, "0"},                        /* zero */
    {0x8000000000000000, "0"},                        /* minus zero */
    {0x0000000000000001, "5e-324"},                   /* min pos number */
    {0x8000000000000001, "-5e-324"},                  /* min neg number */
    {0x7fefffffffffffff, "1.7976931348623157e+308"},  /* max pos number */
    {0xffefffffffffffff, "-1.7976931348623157e+308"}, /* max neg number */
    {0x4340000000000000, "9007199254740992"},         /* max pos int */
    {0xc340000000000000, "-9007199254740992"},        /* max neg int */
    {0x4430000000000000, "295147905179352830000"},    /* ~2**68 */
    {0x44b52d02c7e14af5, "9.999999999999997e+22"},
    {0x44b52d02c7e14af6, "1e+23"},
    {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
    {0x444b1ae4d6e2ef4e, "999999999999999700000"},
    {0x444b1ae4d6e2ef4f, "999999999999999900000"},
    {0x444b1ae4d6e2ef50, "1e+21"},
    {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
    {0x3eb0c6f7a0b5ed8d, "0.000001"},
    {0x41b3de4355555553, "333333333.3333332"},
    {0x41b3de4355555554, "333333333.33333325"},
    {0x41b3de4355555555, "333333333.3333333"},
    {0x41b3de4355555556, "333333333.3333334"},
    {0x41b3de4355555557, "333333333.33333343"},
    {0xbecbf647612f3696, "-0.0000033333333333333333"},
    {0x43143ff3c1cb0959, "1424953923781206.2"}, /* round to even */
};

/* More layout edges, each value as V8's JSON.stringify prints it (node 18):
 * both sides of the 1e21 and 1e-7 switches to exponent form, subnormals,
 * and the sample lines of the RFC author's ES6 number test file. */
static const number_row V8_NUMBERS[] = {
    {0x444b1ae4d6e2ef51, "1.0000000000000001e+21"},
    {0x444b1ae4d6e2ef4d, "999999999999999600000"},
    {0x4415af1d78b58c40, "100000000000000000000"},
    {0x4415af1d78b58c3f, "99999999999999980000"},
    {0x3e7ad7f29abcaf48, "1e-7"},
    {0x3e7ad7f29abcaf47, "9.999999999999998e-8"},
    {0x3e7ad7f29abcaf49, "1.0000000000000001e-7"},
    {0x3eb0c6f7a0b5ed8e, "0.0000010000000000000002"},
    {0x4340000000000001, "9007199254740994"},
    {0x4340000000000002, "9007199254740996"},
    {0x43e0000000000000, "9223372036854776000"},
    {0xc3e0000000000000, "-9223372036854776000"},
    {0x0010000000000000, "2.2250738585072014e-308"},
    {0x000fffffffffffff, "2.225073858507201e-308"},
    {0x7fe0000000000000, "8.98846567431158e+307"},
    {0x3ca0000000000000, "1.1102230246251565e-16"},
    {0x3ff0000000000000, "1"},
    {0xbff8000000000000, "-1.5"},
    {0x3fb999999999999a, "0.1"},
    {0x3fd5555555555555, "0.3333333333333333"},
};

static void check_rows(const number_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[PA_JCS_NUMBER_MAX];
        memset(out, 'x', sizeof out);
        assert_int_equal(pa_jcs_format_number(from_bits(rows[i].bits), out), 0);
        if (strcmp(out, rows[i].want) != 0)
            fail_msg("%016llx: got %s, want %s", (unsigned long long)rows[i].bits, out,
                     rows[i].want);
        /* The same number inside a document goes through the same path. */
        json_t *arr = json_pack("[f]", from_bits(rows[i].bits));
        assert_non_null(arr);
        char *doc = pa_jcs_dumps(arr);
        char want_doc[PA_JCS_NUMBER_MAX + 4];
        snprintf(want_doc, sizeof want_doc, "[%s]", rows[i].want);
        assert_string_equal(doc, want_doc);
        free(doc);
        json_decref(arr);
    }
}

static void test_appendix_b_numbers(void **state)
{
    (void)state;
    check_rows(APPENDIX_B, PA_ARRAY_LEN(APPENDIX_B));
}

static void test_v8_numbers(void **state)
{
    (void)state;
    check_rows(V8_NUMBERS, PA_ARRAY_LEN(V8_NUMBERS));
}

static void test_non_finite_numbers_fail(void **state)
{
    (void)state;
    char out[PA_JCS_NUMBER_MAX];
    /* Appendix B: NaN and Infinity are errors. */
    assert_int_equal(pa_jcs_format_number(from_bits(0x7fffffffffffffff), out), -1);
    assert_int_equal(pa_jcs_format_number(from_bits(0x7ff0000000000000), out), -1);
    assert_int_equal(pa_jcs_format_number(from_bits(0xfff0000000000000), out), -1);
    assert_int_equal(pa_jcs_format_number(from_bits(0x7ff8000000000001), out), -1);
    assert_int_equal(pa_jcs_format_number(1.0, NULL), -1);
    /* jansson itself refuses to hold them, so no document can carry one. */
    assert_null(json_real(from_bits(0x7ff0000000000000)));
    assert_null(json_real(from_bits(0x7fffffffffffffff)));
}

static void test_numbers_round_trip(void **state)
{
    (void)state;
    /* Every output reads back as the same double, over a spread of
     * magnitudes and digit counts. */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d = from_bits(x);
        char out[PA_JCS_NUMBER_MAX];
        if (d != d || d - d != 0) { /* NaN or infinite */
            assert_int_equal(pa_jcs_format_number(d, out), -1);
            continue;
        }
        assert_int_equal(pa_jcs_format_number(d, out), 0);
        assert_true(strlen(out) < PA_JCS_NUMBER_MAX);
        assert_true(strtod(out, NULL) == d);
    }
}

static void test_integers_are_doubles(void **state)
{
    (void)state;
    json_t *v = json_pack("[I, I, I, I, I, i]", (json_int_t)9007199254740993LL,
                          (json_int_t)INT64_MAX, (json_int_t)INT64_MIN, (json_int_t)-1,
                          (json_int_t)1000000000000LL, 0);
    assert_non_null(v);
    char *s = pa_jcs_dumps(v);
    /* 2^53 + 1 has no double: it rounds (to even) to 2^53. */
    assert_string_equal(
        s, "[9007199254740992,9223372036854776000,-9223372036854776000,-1,1000000000000,0]");
    free(s);
    json_decref(v);

    /* The textual form of the input never matters, only its value. */
    assert_canon("[1.0, 1e0, 10E-1, 0.1e1, -0, -0.0, 4.50, 1E30, 2e-3]",
                 "[1,1,1,1,0,0,4.5,1e+30,0.002]");
}

/* ------------------------------------------------------ RFC 8785 §3.2 */

/* §3.2.2's input (the JSON text), §3.2.3's canonical output, and §3.2.4's
 * UTF-8 bytes of it. */
static const char RFC_SAMPLE_IN[] =
    "{\n"
    "  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
    "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
    "  \"literals\": [null, true, false]\n"
    "}";
static const char RFC_SAMPLE_OUT[] =
    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
    "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
static const char RFC_SAMPLE_HEX[] =
    "7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b333333"
    "3333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e"
    "67223a22e282ac245c75303030665c6e4127425c225c5c5c5c5c222f227d";

static void test_rfc_sample(void **state)
{
    (void)state;
    char *got = canon_text(RFC_SAMPLE_IN);
    assert_string_equal(got, RFC_SAMPLE_OUT);
    char hex[2 * sizeof RFC_SAMPLE_OUT];
    pa_hex_encode((const uint8_t *)got, strlen(got), hex);
    assert_string_equal(hex, RFC_SAMPLE_HEX);
    free(got);
}

static void test_rfc_sorting(void **state)
{
    (void)state;
    /* §3.2.3: names compare as UTF-16 code units, so the emoji (D83D DE00)
     * sorts before U+FB33 although its code point is larger. */
    assert_canon("{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", "
                 "\"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\", \"1\": \"One\", "
                 "\"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": \"Control\", "
                 "\"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}",
                 "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                 "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                 "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                 "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* The RFC author's test data (github.com/cyberphone/json-canonicalization,
 * testdata/input and testdata/output). */
static void test_reference_testdata(void **state)
{
    (void)state;
    assert_canon("{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56.0},\n  \"10\": { },\n"
                 "  \"\": \"empty\",\n  \"a\": { },\n  \"111\": [ { } ],\n  \"A\": { }\n}",
                 "{\"\":\"empty\",\"1\":{\"\\n\":56,\"f\":{\"F\":5,\"f\":\"hi\"}},\"10\":{},"
                 "\"111\":[{}],\"A\":{},\"a\":{}}");
    assert_canon("[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
                 "[56,{\"1\":[],\"10\":null,\"d\":true}]");
    assert_canon("{\n  \"\\u20ac\": \"Euro Sign\",\n  \"1\": \"One\",\n"
                 "  \"\\u0080\": \"Control\\u007f\",\n  \"\\ud83d\\ude02\": \"Smiley\",\n"
                 "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\",\n"
                 "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
                 "  \"</script>\": \"Browser Challenge\"\n}\n",
                 "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\xc2\x80\":\"Control\x7f\","
                 "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                 "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x82\":\"Smiley\","
                 "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    /* No Unicode normalization. */
    assert_canon("{\n  \"Unnormalized Unicode\":\"\\u1e0d\\u0307\"\n}\n",
                 "{\"Unnormalized Unicode\":\"\xe1\xb8\x8d\xcc\x87\"}");
}

/* ------------------------------------------------------------- sorting */

static void test_sort_edges(void **state)
{
    (void)state;
    /* A prefix sorts first; the empty name sorts before everything. */
    assert_canon("{\"ab\":1,\"a\":2,\"\":3,\"b\":4,\"B\":5}", "{\"\":3,\"B\":5,\"a\":2,\"ab\":1,\"b\":4}");
    /* U+FFFF (one unit FFFF) sorts after U+10000 (D800 DC00), and U+E000
     * after U+10FFFF (DBFF DFFF): UTF-8 byte order would say the opposite. */
    assert_canon("{\"\\uffff\":1,\"\\ud800\\udc00\":2}",
                 "{\"\xf0\x90\x80\x80\":2,\"\xef\xbf\xbf\":1}");
    assert_canon("{\"\\ue000\":1,\"\\udbff\\udfff\":2,\"\\ud7ff\":3}",
                 "{\"\xed\x9f\xbf\":3,\"\xf4\x8f\xbf\xbf\":2,\"\xee\x80\x80\":1}");
    /* Two supplementary characters compare by high then low surrogate. */
    assert_canon("{\"\\ud83d\\ude02\":1,\"\\ud83d\\ude00\":2,\"\\ud83c\\udfff\":3}",
                 "{\"\xf0\x9f\x8f\xbf\":3,\"\xf0\x9f\x98\x80\":2,\"\xf0\x9f\x98\x82\":1}");
    /* Case and digits: plain code unit order, no locale. */
    assert_canon("{\"a\":1,\"Z\":2,\"_\":3,\"0\":4,\"~\":5}",
                 "{\"0\":4,\"Z\":2,\"_\":3,\"a\":1,\"~\":5}");
}

static void test_key_with_nul(void **state)
{
    (void)state;
    /* jansson's parser refuses NUL in names, but a value built in code can
     * carry one; it is escaped and sorts as code unit 0. */
    json_t *o = json_object();
    assert_int_equal(json_object_setn_new(o, "a\0b", 3, json_integer(1)), 0);
    assert_int_equal(json_object_set_new(o, "a", json_integer(2)), 0);
    assert_int_equal(json_object_set_new(o, "a\x01", json_integer(3)), 0);
    char *s = pa_jcs_dumps(o);
    assert_string_equal(s, "{\"a\":2,\"a\\u0000b\":1,\"a\\u0001\":3}");
    free(s);
    json_decref(o);
}

/* ------------------------------------------------------------- strings */

static void test_string_escapes(void **state)
{
    (void)state;
    /* Every C0 control: the two-letter forms where ECMAScript has them,
     * else \u00xx in lower case. */
    char raw[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (char)i;
    json_t *v = json_stringn(raw, sizeof raw);
    assert_non_null(v);
    char *s = pa_jcs_dumps(v);
    assert_string_equal(s, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
                           "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
                           "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
                           "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
    free(s);
    json_decref(v);

    /* Quote and backslash are escaped; '/', DEL, U+2028/2029, BOM and the
     * rest of Unicode are not. */
    assert_canon("[\"\\\"\\\\\\/<>&'\\u007f\\u2028\\u2029\\ufeff\\u00e9\\ud83d\\ude00\"]",
                 "[\"\\\"\\\\/<>&'\x7f\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf\xc3\xa9\xf0\x9f\x98\x80\"]");
    /* A literal (unescaped) non-ASCII input stays byte for byte. */
    assert_canon("\"\xe2\x82\xac \xf4\x8f\xbf\xbf\"", "\"\xe2\x82\xac \xf4\x8f\xbf\xbf\"");
    assert_canon("\"\"", "\"\"");
}

static void test_invalid_utf8_fails(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\x80",             /* stray continuation byte */
        "a\xbf",            /* stray continuation byte after ASCII */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xf0\x80\x80\xaf", /* overlong '/' */
        "\xed\xa0\x80",     /* lone high surrogate U+D800 */
        "\xed\xbf\xbf",     /* lone low surrogate U+DFFF */
        "\xed\xa0\xbd\xed\xb8\x80", /* CESU-8 surrogate pair */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* lead byte past U+10FFFF */
        "\xff",
        "\xe2\x82",         /* truncated */
        "\xe2\x82z",        /* bad continuation */
        "\xf0\x9f\x98",     /* truncated 4-byte */
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        json_t *v = json_stringn_nocheck(bad[i], strlen(bad[i]));
        assert_non_null(v);
        char *s = pa_jcs_dumps(v);
        if (s != NULL)
            fail_msg("bad string %zu accepted: %s", i, s);
        /* The same bytes as an object name fail too. */
        json_t *o = json_object();
        assert_int_equal(json_object_set_new_nocheck(o, bad[i], json_true()), 0);
        assert_null(pa_jcs_dumps(o));
        /* ... and deep inside a document. */
        json_t *doc = json_pack("{s:[i,{s:O}]}", "x", 1, "y", v);
        assert_null(pa_jcs_dumps(doc));
        json_decref(doc);
        json_decref(o);
        json_decref(v);
    }
    /* The extremes of each sequence length are valid. */
    static const char *const good[] = {"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80",
                                       "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
                                       "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < PA_ARRAY_LEN(good); i++) {
        json_t *v = json_string_nocheck(good[i]);
        char *s = pa_jcs_dumps(v);
        assert_non_null(s);
        assert_int_equal(strlen(s), strlen(good[i]) + 2);
        assert_memory_equal(s + 1, good[i], strlen(good[i]));
        free(s);
        json_decref(v);
    }
}

/* -------------------------------------------------------- whole values */

static void test_literals_and_nesting(void **state)
{
    (void)state;
    assert_canon("null", "null");
    assert_canon("true", "true");
    assert_canon("false", "false");
    assert_canon("[]", "[]");
    assert_canon("{}", "{}");
    assert_canon(" [ [ ] , { } , [ [ null ] ] ] ", "[[],{},[[null]]]");
    /* Members sorted at every level; array order kept. */
    assert_canon("{\"b\": [{\"z\": 1, \"a\": [3, 2, 1]}], \"a\": {\"d\": true, \"c\": null}}",
                 "{\"a\":{\"c\":null,\"d\":true},\"b\":[{\"a\":[3,2,1],\"z\":1}]}");
    /* What the enclave logs: one fetch page and the closing window. */
    assert_canon("{\"type\":\"fetch\",\"endpoint\":\"/api/v3/myTrades\",\"symbol\":\"BTCUSDT\","
                 "\"page\":1,\"count\":1000,\"first_id\":28457,\"last_id\":29456}",
                 "{\"count\":1000,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":28457,"
                 "\"last_id\":29456,\"page\":1,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}");
}

static void test_depth_limit_and_cycles(void **state)
{
    (void)state;
    /* 2048 levels (jansson's own parse limit) are fine ... */
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < 2048; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    char *s = pa_jcs_dumps(root);
    assert_non_null(s);
    assert_int_equal(strlen(s), 2 * 2049);
    free(s);
    /* ... a value nested deeper than anything parseable is refused. */
    for (int i = 0; i < 100; i++) {
        json_t *next = json_object();
        json_object_set_new(next, "k", json_array());
        json_array_append_new(cur, next);
        cur = json_object_get(next, "k");
    }
    assert_null(pa_jcs_dumps(root));
    json_decref(root);

    /* A reference cycle built by hand fails instead of recursing forever. */
    json_t *a = json_array(), *b = json_array();
    assert_int_equal(json_array_append(a, b), 0);
    assert_int_equal(json_array_append(b, a), 0);
    assert_null(pa_jcs_dumps(a));
    json_array_clear(b); /* break the cycle so both can be freed */
    json_decref(b);
    json_decref(a);
}

static void test_append_failure_leaves_buffer_unchanged(void **state)
{
    (void)state;
    pa_buf b;
    pa_buf_init(&b, 1024);
    assert_int_equal(pa_buf_append_str(&b, "prefix:"), 0);
    json_t *ok = json_pack("{s:i}", "a", 1);
    assert_int_equal(pa_jcs_append(ok, &b), 0);
    assert_string_equal(pa_buf_cstr(&b), "prefix:{\"a\":1}");

    /* A failure half-way through (the bad string comes after "a") must not
     * leave half a canonical form behind. */
    json_t *bad = json_pack("{s:i, s:o}", "a", 1, "b", json_stringn_nocheck("\xff", 1));
    assert_int_equal(pa_jcs_append(bad, &b), -1);
    assert_string_equal(pa_buf_cstr(&b), "prefix:{\"a\":1}");
    assert_int_equal(b.len, strlen("prefix:{\"a\":1}"));

    /* The buffer's cap is respected, with the same rollback. */
    pa_buf small;
    pa_buf_init(&small, 8);
    assert_int_equal(pa_buf_append_str(&small, "[]"), 0);
    json_t *big = json_pack("[s]", "0123456789");
    assert_int_equal(pa_jcs_append(big, &small), -1);
    assert_string_equal(pa_buf_cstr(&small), "[]");
    assert_int_equal(pa_jcs_append(json_null(), &small), 0);
    assert_string_equal(pa_buf_cstr(&small), "[]null");

    assert_int_equal(pa_jcs_append(NULL, &b), -1);
    assert_int_equal(pa_jcs_append(ok, NULL), -1);
    assert_null(pa_jcs_dumps(NULL));

    json_decref(big);
    json_decref(bad);
    json_decref(ok);
    pa_buf_free(&small);
    pa_buf_free(&b);
}

static void test_idempotent(void **state)
{
    (void)state;
    /* Canonicalizing a canonical text changes nothing. */
    const char *docs[] = {RFC_SAMPLE_IN, "[1e-7, 1e21, 123456789e-30, -0.0, {\"\\u00e9\":\"\\u0001\"}]",
                          "{\"\\ud83d\\ude00\":{\"\\ufb33\":[0.1,0.2,0.30000000000000004]}}"};
    for (size_t i = 0; i < PA_ARRAY_LEN(docs); i++) {
        char *once = canon_text(docs[i]);
        char *twice = canon_text(once);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
    }
}

/* Every power of two, positive and negative, against what V8 prints
 * (tests/unit/vectors/jcs_powers_of_two.txt, made with Node's JSON.stringify).
 * Powers of two are where the shortest round-trip form is easiest to miss:
 * the rounding interval below them is half as wide as above. */
static void test_powers_of_two_match_v8(void **state)
{
    (void)state;
    FILE *f = fopen(PA_SOURCE_DIR "/tests/unit/vectors/jcs_powers_of_two.txt", "r");
    assert_non_null(f);
    char line[128];
    int checked = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#')
            continue;
        int k;
        char expect[64];
        assert_int_equal(sscanf(line, "%d %63s", &k, expect), 2);
        char got[PA_JCS_NUMBER_MAX], neg[PA_JCS_NUMBER_MAX], expect_neg[72];
        assert_int_equal(pa_jcs_format_number(ldexp(1.0, k), got), 0);
        assert_string_equal(got, expect);
        assert_int_equal(pa_jcs_format_number(-ldexp(1.0, k), neg), 0);
        snprintf(expect_neg, sizeof expect_neg, "-%s", expect);
        assert_string_equal(neg, expect_neg);
        checked++;
    }
    fclose(f);
    assert_int_equal(checked, 2098);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_b_numbers),
        cmocka_unit_test(test_v8_numbers),
        cmocka_unit_test(test_non_finite_numbers_fail),
        cmocka_unit_test(test_numbers_round_trip),
        cmocka_unit_test(test_integers_are_doubles),
        cmocka_unit_test(test_rfc_sample),
        cmocka_unit_test(test_rfc_sorting),
        cmocka_unit_test(test_reference_testdata),
        cmocka_unit_test(test_sort_edges),
        cmocka_unit_test(test_key_with_nul),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_invalid_utf8_fails),
        cmocka_unit_test(test_literals_and_nesting),
        cmocka_unit_test(test_depth_limit_and_cycles),
        cmocka_unit_test(test_append_failure_leaves_buffer_unchanged),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_powers_of_two_match_v8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
