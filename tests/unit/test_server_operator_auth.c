/* Operator tokens (operator_auth.h): the token's exact shape, the
 * Authorization header's parsing, the hash and its constant-time compare,
 * and fresh tokens from the CSPRNG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "operator_auth.h"

/* A fixed token and its SHA-256, computed independently:
 *   printf %s "$TOK" | sha256sum */
#define TOK "paop_0123456789abcdef_" \
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define TOK_SHA256 "f0d50377d9fba8d33b62ce511d75da012503f7a3bc39e5260873ffbce7dbb6d4"

static void test_token_shape(void **state)
{
    (void)state;
    pa_opauth a;
    assert_int_equal(strlen(TOK), PA_OPTOKEN_LEN);
    assert_int_equal(pa_opauth_token_parse(TOK, strlen(TOK), &a), 0);
    assert_int_equal(a.state, PA_OPAUTH_PRESENT);
    assert_string_equal(a.token_id, "0123456789abcdef");

    static const char *const bad[] = {
        "",
        "paop_",
        "paop_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
        TOK "0",
        "PAOP_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "paop_0123456789ABCDEF_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "paop_0123456789abcdef-00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "paop_0123456789abcdeg_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "paop_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeFF",
        "paop_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddee f",
        "paox_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(pa_opauth_token_parse(bad[i], strlen(bad[i]), &a), -1);
        assert_int_equal(a.state, PA_OPAUTH_MALFORMED);
        assert_string_equal(a.token_id, "");
    }
    /* a NUL inside the given length is not a token either */
    char withnul[] = TOK;
    withnul[40] = '\0';
    assert_int_equal(pa_opauth_token_parse(withnul, PA_OPTOKEN_LEN, &a), -1);
    assert_int_equal(pa_opauth_token_parse(NULL, 0, &a), -1);
}

static void test_hash(void **state)
{
    (void)state;
    pa_opauth a;
    assert_int_equal(pa_opauth_token_parse(TOK, strlen(TOK), &a), 0);
    char hex[2 * PA_OPTOKEN_HASH_LEN + 1];
    pa_hex_encode(a.hash, sizeof a.hash, hex);
    assert_string_equal(hex, TOK_SHA256);
}

static void test_compare(void **state)
{
    (void)state;
    pa_opauth a;
    assert_int_equal(pa_opauth_token_parse(TOK, strlen(TOK), &a), 0);
    char hex[2 * PA_OPTOKEN_HASH_LEN + 1];
    pa_hex_encode(a.hash, sizeof a.hash, hex);
    assert_int_equal(pa_opauth_hash_matches(a.hash, hex), 1);
    /* one bit off, in the first and in the last byte */
    for (size_t pos = 0; pos < 2; pos++) {
        char other[sizeof hex];
        memcpy(other, hex, sizeof hex);
        size_t i = pos == 0 ? 0 : sizeof hex - 2;
        other[i] = other[i] == '0' ? '1' : '0';
        assert_int_equal(pa_opauth_hash_matches(a.hash, other), 0);
    }
    /* a stored value that is not 64 lowercase hex digits matches nothing */
    assert_int_equal(pa_opauth_hash_matches(a.hash, NULL), 0);
    assert_int_equal(pa_opauth_hash_matches(a.hash, ""), 0);
    char shorter[sizeof hex];
    memcpy(shorter, hex, sizeof hex);
    shorter[62] = '\0';
    assert_int_equal(pa_opauth_hash_matches(a.hash, shorter), 0);
}

static void test_header(void **state)
{
    (void)state;
    pa_opauth a;
    pa_opauth_parse_header(NULL, &a);
    assert_int_equal(a.state, PA_OPAUTH_MISSING);
    static const char *const good[] = {"Bearer " TOK, "bearer " TOK, "BEARER " TOK,
                                       "Bearer   " TOK};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        pa_opauth_parse_header(good[i], &a);
        assert_int_equal(a.state, PA_OPAUTH_PRESENT);
        assert_string_equal(a.token_id, "0123456789abcdef");
    }
    static const char *const bad[] = {"",        "Bearer",        "Bearer ",      TOK,
                                      "Basic " TOK, "Bearer\t" TOK, "Bearer" TOK, "Bearer " TOK " ",
                                      "Bearer " TOK ",x", "Bearers " TOK, "Bearer  x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pa_opauth_parse_header(bad[i], &a);
        assert_int_equal(a.state, PA_OPAUTH_MALFORMED);
        assert_string_equal(a.token_id, "");
    }
}

static void test_new_tokens(void **state)
{
    (void)state;
    char t1[PA_OPTOKEN_LEN + 1], t2[PA_OPTOKEN_LEN + 1];
    char id1[PA_OPTOKEN_ID_HEX + 1], id2[PA_OPTOKEN_ID_HEX + 1];
    char h1[2 * PA_OPTOKEN_HASH_LEN + 1], h2[2 * PA_OPTOKEN_HASH_LEN + 1];
    assert_int_equal(pa_opauth_token_new(t1, id1, h1), 0);
    assert_int_equal(pa_opauth_token_new(t2, id2, h2), 0);
    assert_int_equal(strlen(t1), PA_OPTOKEN_LEN);
    assert_string_not_equal(t1, t2);
    assert_string_not_equal(id1, id2);
    pa_opauth a;
    assert_int_equal(pa_opauth_token_parse(t1, strlen(t1), &a), 0);
    assert_string_equal(a.token_id, id1);
    assert_memory_equal(t1 + 5, id1, PA_OPTOKEN_ID_HEX);
    assert_int_equal(pa_opauth_hash_matches(a.hash, h1), 1);
    assert_int_equal(pa_opauth_hash_matches(a.hash, h2), 0);
    pa_opauth_clear(&a);
    assert_int_equal(a.state, 0);
    assert_string_equal(a.token_id, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_shape), cmocka_unit_test(test_hash),
        cmocka_unit_test(test_compare),     cmocka_unit_test(test_header),
        cmocka_unit_test(test_new_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
