/* Request validation: media type, size, strict JSON, submit policy,
 * aggregates window, ids and the attestation nonce, with malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timeutil.h"
#include "validate.h"

#define DAY_MS (86400LL * 1000)
#define UUID "0b6d4c3e-8f2a-4c1b-9d3e-5f6a7b8c9d0e"

static int64_t now_ms(void)
{
    int64_t t;
    assert_int_equal(pa_time_parse("2025-06-01T12:00:00Z", &t), 0);
    return t;
}

static json_t *obj(const char *text)
{
    json_error_t e;
    /* NUL allowed so the validators' own NUL checks can be exercised */
    json_t *v = json_loads(text, JSON_ALLOW_NUL, &e);
    if (v == NULL)
        fail_msg("bad test JSON: %s", text);
    return v;
}

static void test_content_type(void **state)
{
    (void)state;
    static const char *const good[] = {
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json; charset=\"utf-8\"",
        "application/json ; charset=utf8",
        "application/json; foo=bar",
        "  application/json  ",
    };
    static const char *const bad[] = {
        "",
        "text/plain",
        "application/jsonx",
        "application/json-patch+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json; charset=latin1",
        "application/json; charset=utf-16",
        "application/json; charset",
        "application/json; charset=",
        "application/json; =x",
        "application/json, text/plain",
        "application/json; charset=\"utf-8",
        "json",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!pa_validate_content_type(good[i]))
            fail_msg("refused %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (pa_validate_content_type(bad[i]))
            fail_msg("accepted %s", bad[i]);
    assert_false(pa_validate_content_type(NULL));
}

static void test_declared_length(void **state)
{
    (void)state;
    assert_false(pa_validate_declares_too_much(NULL, PA_BODY_MAX));
    assert_false(pa_validate_declares_too_much("0", PA_BODY_MAX));
    assert_false(pa_validate_declares_too_much("65536", PA_BODY_MAX));
    assert_true(pa_validate_declares_too_much("65537", PA_BODY_MAX));
    assert_true(pa_validate_declares_too_much("99999999999999999999999999999", PA_BODY_MAX));
}

static void test_body(void **state)
{
    (void)state;
    pa_http_error err;
    json_t *v = pa_validate_body("{\"a\":1}", 7, &err);
    assert_non_null(v);
    json_decref(v);

    static const struct {
        const char *text, *code;
    } bad[] = {
        {"", "invalid_json"},
        {"{", "invalid_json"},
        {"{\"a\":1,\"a\":2}", "invalid_json"}, /* duplicate keys */
        {"{\"a\":1} x", "invalid_json"},
        {"{'a':1}", "invalid_json"},
        {"{\"a\":\"\\ud800\"}", "invalid_json"}, /* lone surrogate */
        {"{\"a\":NaN}", "invalid_json"},
        {"{\"a\":\"x\\u0000y\"}", "invalid_json"}, /* NUL inside a string */
        {"[1,2]", "invalid_request"},
        {"\"str\"", "invalid_request"},
        {"null", "invalid_request"},
        {"42", "invalid_request"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = pa_validate_body(bad[i].text, strlen(bad[i].text), &err);
        if (v != NULL)
            fail_msg("accepted %s", bad[i].text);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.code, bad[i].code);
    }
    /* invalid UTF-8 */
    v = pa_validate_body("{\"a\":\"\xff\"}", 9, &err);
    assert_null(v);
    assert_string_equal(err.code, "invalid_json");
    /* over the cap even if well-formed */
    size_t n = PA_BODY_MAX + 16;
    char *big = malloc(n);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    assert_null(pa_validate_body(big, n, &err));
    free(big);
}

static void test_known_fields(void **state)
{
    (void)state;
    static const char *const allowed[] = {"a", "b", NULL};
    pa_http_error err;
    json_t *v = obj("{\"a\":1,\"b\":2}");
    assert_int_equal(pa_validate_known_fields(v, allowed, &err), 0);
    json_decref(v);
    v = obj("{\"a\":1,\"zz\":2}");
    assert_int_equal(pa_validate_known_fields(v, allowed, &err), -1);
    assert_string_equal(err.code, "invalid_request");
    assert_non_null(strstr(err.message, "\"zz\""));
    json_decref(v);
    /* a huge client-chosen name is quoted only in part, on a character boundary */
    char name[300];
    memset(name, 'x', sizeof name);
    memcpy(name + 38, "\xc3\xa9", 2); /* 'é' straddling the 40-byte cut */
    name[sizeof name - 1] = '\0';
    v = json_object();
    json_object_set_new(v, name, json_true());
    assert_int_equal(pa_validate_known_fields(v, allowed, &err), -1);
    assert_true(strlen(err.message) < 80);
    assert_non_null(strstr(err.message, "\xc3\xa9"));
    json_decref(v);
}

static void expect_policy(const char *metadata, const char *code, int64_t *expires)
{
    pa_http_error err;
    json_t *m = obj(metadata);
    int rc = pa_validate_submit_policy(m, now_ms(), 604800, expires, &err);
    json_decref(m);
    if (code == NULL) {
        if (rc != 0)
            fail_msg("%s refused: %s %s", metadata, err.code, err.message);
    } else {
        if (rc == 0)
            fail_msg("%s accepted", metadata);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.code, code);
    }
}

static void test_submit_policy(void **state)
{
    (void)state;
    int64_t exp = 0;
    expect_policy("{\"exchange\":\"binance\",\"label\":\"m\"}", NULL, &exp);
    assert_int_equal(exp, now_ms() + 86400 * 1000LL); /* default ttl */
    expect_policy("{\"exchange\":\"binance\",\"label\":\"m\",\"ttl\":60}", NULL, &exp);
    assert_int_equal(exp, now_ms() + 60 * 1000LL);
    expect_policy("{\"exchange\":\"binance\",\"label\":\"m\",\"ttl\":604800}", NULL, &exp);
    assert_int_equal(exp, now_ms() + 604800 * 1000LL);
    /* not_after earlier than now + ttl wins */
    expect_policy("{\"exchange\":\"binance\",\"label\":\"m\",\"ttl\":7200,"
                  "\"not_after\":\"2025-06-01T13:00:00Z\"}",
                  NULL, &exp);
    assert_int_equal(exp, now_ms() + 3600 * 1000LL);
    /* later than now + ttl: ttl wins */
    expect_policy("{\"exchange\":\"binance\",\"label\":\"m\",\"ttl\":600,"
                  "\"not_after\":\"2025-06-01T14:00:00+01:00\"}",
                  NULL, &exp);
    assert_int_equal(exp, now_ms() + 600 * 1000LL);

    expect_policy("{\"exchange\":\"coinbase\",\"label\":\"m\"}", "unsupported_exchange", &exp);
    expect_policy("{\"exchange\":\"Binance\",\"label\":\"m\"}", "unsupported_exchange", &exp);
    expect_policy("{\"label\":\"m\"}", "unsupported_exchange", &exp);
    expect_policy("{\"exchange\":\"binance\",\"ttl\":59}", "invalid_ttl", &exp);
    expect_policy("{\"exchange\":\"binance\",\"ttl\":604801}", "invalid_ttl", &exp);
    expect_policy("{\"exchange\":\"binance\",\"ttl\":-1}", "invalid_ttl", &exp);
    expect_policy("{\"exchange\":\"binance\",\"ttl\":3600.5}", "invalid_ttl", &exp);
    expect_policy("{\"exchange\":\"binance\",\"ttl\":\"3600\"}", "invalid_ttl", &exp);
    expect_policy("{\"exchange\":\"binance\",\"ttl\":null}", "invalid_ttl", &exp);
    expect_policy("{\"exchange\":\"binance\",\"not_after\":\"2025-06-01T12:00:00Z\"}",
                  "invalid_not_after", &exp); /* not strictly in the future */
    expect_policy("{\"exchange\":\"binance\",\"not_after\":\"2020-01-01T00:00:00Z\"}",
                  "invalid_not_after", &exp);
    expect_policy("{\"exchange\":\"binance\",\"not_after\":\"tomorrow\"}", "invalid_not_after",
                  &exp);
    expect_policy("{\"exchange\":\"binance\",\"not_after\":1780000000}", "invalid_not_after", &exp);

    /* the configured maximum is honoured */
    pa_http_error err;
    json_t *m = obj("{\"exchange\":\"binance\",\"ttl\":3601}");
    assert_int_equal(pa_validate_submit_policy(m, now_ms(), 3600, &exp, &err), -1);
    assert_non_null(strstr(err.message, "3600"));
    json_decref(m);
}

/* out->challenge borrows from the body, so the last body stays alive until
 * the next call */
static json_t *last_body;

static void expect_agg(const char *body, const char *code, pa_aggregates_request *out)
{
    pa_http_error err;
    json_decref(last_body);
    json_t *b = last_body = obj(body);
    int rc = pa_validate_aggregates(b, now_ms(), out, &err);
    if (code == NULL) {
        if (rc != 0)
            fail_msg("%s refused: %s %s", body, err.code, err.message);
    } else {
        if (rc == 0)
            fail_msg("%s accepted", body);
        assert_int_equal(err.status, 400);
        if (strcmp(err.code, code) != 0)
            fail_msg("%s: got %s, want %s", body, err.code, code);
    }
}

static void test_aggregates(void **state)
{
    (void)state;
    pa_aggregates_request r;
    int64_t t;

    expect_agg("{\"session_id\":\"" UUID "\"}", NULL, &r);
    assert_string_equal(r.session_id, UUID);
    assert_int_equal(r.to_ms, now_ms());
    assert_int_equal(r.from_ms, now_ms() - 30 * DAY_MS);
    assert_null(r.challenge);

    /* upper-case ids are accepted and normalised */
    expect_agg("{\"session_id\":\"0B6D4C3E-8F2A-4C1B-9D3E-5F6A7B8C9D0E\",\"from\":null,"
               "\"to\":null,\"challenge\":null}",
               NULL, &r);
    assert_string_equal(r.session_id, UUID);

    expect_agg("{\"session_id\":\"" UUID "\",\"from\":\"2025-01-01T00:00:00Z\","
               "\"to\":\"2025-02-01T00:00:00.500+01:00\",\"challenge\":\"abc\"}",
               NULL, &r);
    assert_int_equal(pa_time_parse("2025-01-01T00:00:00Z", &t), 0);
    assert_int_equal(r.from_ms, t);
    assert_int_equal(pa_time_parse("2025-01-31T23:00:00.500Z", &t), 0);
    assert_int_equal(r.to_ms, t);
    assert_string_equal(r.challenge, "abc");

    /* only to given: from = to - 30 days */
    expect_agg("{\"session_id\":\"" UUID "\",\"to\":\"2025-05-01T00:00:00Z\"}", NULL, &r);
    assert_int_equal(r.to_ms - r.from_ms, 30 * DAY_MS);

    /* exactly 366 days is fine, a millisecond more is not */
    expect_agg("{\"session_id\":\"" UUID "\",\"from\":\"2024-05-31T12:00:00Z\","
               "\"to\":\"2025-06-01T12:00:00Z\"}",
               NULL, &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"from\":\"2024-05-31T11:59:59.999Z\","
               "\"to\":\"2025-06-01T12:00:00Z\"}",
               "window_too_large", &r);
    /* to: up to a minute of clock skew is tolerated */
    expect_agg("{\"session_id\":\"" UUID "\",\"to\":\"2025-06-01T12:01:00Z\"}", NULL, &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"to\":\"2025-06-01T12:01:00.001Z\"}",
               "invalid_window", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"from\":\"2025-05-01T00:00:00Z\","
               "\"to\":\"2025-05-01T00:00:00Z\"}",
               "invalid_window", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"from\":\"2025-05-02T00:00:00Z\","
               "\"to\":\"2025-05-01T00:00:00Z\"}",
               "invalid_window", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"from\":\"2025-13-01T00:00:00Z\"}", "invalid_window",
               &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"from\":\"yesterday\"}", "invalid_window", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"from\":1700000000}", "invalid_request", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"to\":true}", "invalid_request", &r);

    /* session id */
    expect_agg("{}", "invalid_request", &r);
    expect_agg("{\"session_id\":42}", "invalid_request", &r);
    expect_agg("{\"session_id\":null}", "invalid_request", &r);
    expect_agg("{\"session_id\":\"nope\"}", "invalid_session_id", &r);
    expect_agg("{\"session_id\":\"0b6d4c3e-8f2a-1c1b-9d3e-5f6a7b8c9d0e\"}", "invalid_session_id",
               &r); /* version 1 */
    expect_agg("{\"session_id\":\"0b6d4c3e8f2a4c1b9d3e5f6a7b8c9d0e\"}", "invalid_session_id", &r);
    expect_agg("{\"session_id\":\" " UUID "\"}", "invalid_session_id", &r);

    /* unknown fields */
    expect_agg("{\"session_id\":\"" UUID "\",\"window\":1}", "invalid_request", &r);

    /* challenge: 128 code points, counted as characters not bytes */
    char body[1024];
    char ch[600] = "";
    for (int i = 0; i < 128; i++)
        memcpy(ch + 2 * i, "\xc3\xa9", 3); /* é, 2 bytes, then NUL */
    snprintf(body, sizeof body, "{\"session_id\":\"" UUID "\",\"challenge\":\"%s\"}", ch);
    expect_agg(body, NULL, &r);
    memcpy(ch + 256, "a", 2);
    snprintf(body, sizeof body, "{\"session_id\":\"" UUID "\",\"challenge\":\"%s\"}", ch);
    expect_agg(body, "invalid_challenge", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":\"\"}", NULL, &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":5}", "invalid_challenge", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":[\"a\"]}", "invalid_challenge", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":\"a\\u0000b\"}", "invalid_challenge", &r);
    json_decref(last_body);
    last_body = NULL;
}

static void test_revoke(void **state)
{
    (void)state;
    char id[PA_UUID_STR_LEN];
    pa_http_error err;
    json_t *b = obj("{\"session_id\":\"" UUID "\"}");
    assert_int_equal(pa_validate_revoke(b, id, &err), 0);
    assert_string_equal(id, UUID);
    json_decref(b);
    b = obj("{\"session_id\":\"" UUID "\",\"reason\":\"x\"}");
    assert_int_equal(pa_validate_revoke(b, id, &err), -1);
    assert_string_equal(err.code, "invalid_request");
    assert_non_null(strstr(err.message, "reason"));
    json_decref(b);
    b = obj("{\"session_id\":\"x\"}");
    assert_int_equal(pa_validate_revoke(b, id, &err), -1);
    assert_string_equal(err.code, "invalid_session_id");
    json_decref(b);
}

static void test_result_id(void **state)
{
    (void)state;
    char id[PA_UUID_STR_LEN];
    pa_http_error err;
    assert_int_equal(pa_validate_result_id(UUID, id, &err), 0);
    assert_string_equal(id, UUID);
    assert_int_equal(pa_validate_result_id("0B6D4C3E-8F2A-4C1B-9D3E-5F6A7B8C9D0E", id, &err), 0);
    assert_string_equal(id, UUID);
    assert_int_equal(pa_validate_result_id("..%2f..", id, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "invalid_result_id");
    assert_int_equal(pa_validate_result_id("", id, &err), -1);
    assert_int_equal(pa_validate_result_id(UUID "0", id, &err), -1);
}

static void test_nonce(void **state)
{
    (void)state;
    char *n = NULL;
    pa_http_error err;
    assert_int_equal(pa_validate_nonce(NULL, &n, &err), 0);
    assert_null(n);
    assert_int_equal(pa_validate_nonce("AAECAw==", &n, &err), 0);
    assert_string_equal(n, "AAECAw==");
    free(n);
    /* an unencoded '+' arrives as a space */
    assert_int_equal(pa_validate_nonce("ab c", &n, &err), 0);
    assert_string_equal(n, "ab+c");
    free(n);
    /* 64 bytes: fine; 65: too long */
    char b64[100];
    memset(b64, 'A', 88);
    b64[86] = b64[87] = '=';
    b64[88] = '\0';
    assert_int_equal(pa_validate_nonce(b64, &n, &err), 0); /* 64 bytes */
    free(n);
    memset(b64, 'A', 88);
    b64[87] = '=';
    assert_int_equal(pa_validate_nonce(b64, &n, &err), -1); /* 65 bytes */
    assert_string_equal(err.code, "invalid_nonce");
    static const char *const bad[] = {"", "AAECAw", "AAECAw=", "AAECA===", "AAE*Aw==",
                                      "AAECAx==", /* non-zero unused bits */
                                      "AAEC Aw==x", "-_-_"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = NULL;
        if (pa_validate_nonce(bad[i], &n, &err) != -1)
            fail_msg("accepted nonce %s", bad[i]);
        assert_null(n);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.code, "invalid_nonce");
    }
}

/* A challenge is signed and printed by verifiers: characters that move the
 * cursor or reorder text are refused, ordinary Unicode is fine. */
static void test_challenge_text(void **state)
{
    (void)state;
    pa_aggregates_request r;
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":\"fund-42 \\u00e9\\u20ac\\ud83d\\ude00\"}",
               NULL, &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":\"a\\u001b[2Ab\"}", "invalid_challenge",
               &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":\"a\\rb\"}", "invalid_challenge", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":\"a\\u202eb\"}", "invalid_challenge", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":\"a\\u0085b\"}", "invalid_challenge", &r);
    expect_agg("{\"session_id\":\"" UUID "\",\"challenge\":5}", "invalid_challenge", &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_type), cmocka_unit_test(test_declared_length),
        cmocka_unit_test(test_body),         cmocka_unit_test(test_known_fields),
        cmocka_unit_test(test_submit_policy), cmocka_unit_test(test_aggregates),
        cmocka_unit_test(test_revoke),       cmocka_unit_test(test_result_id),
        cmocka_unit_test(test_nonce),        cmocka_unit_test(test_challenge_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
