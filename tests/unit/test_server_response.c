/* Response building: error bodies, the enclave error table (keyed by the
 * contract's codes), the host's path for enclave answers (the contract's
 * check, then the typed readers and their cross-field checks), and the
 * success bodies served byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enclave_answer.h"
#include "enclave_client.h"
#include "reply.h"
#include "responses.h"
#include "timeutil.h"

#define UUID "0b6d4c3e-8f2a-4c1b-9d3e-5f6a7b8c9d0e"
#define KEY32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define SIG64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define ROOT "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LEAF "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
#define IMG "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" \
            "202122232425262728292a2b2c2d2e2f"
#define IMG_TAIL "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" \
                 "202122232425262728292a2b2c2d2e2f"
#define PAYLOAD "{\"image_hash\":\"" IMG "\",\"merkle_root\":\"" ROOT "\",\"pnl\":1.5,\"result_id\":\"" \
                UUID "\",\"type\":\"perfagg/v1/aggregates\"}"

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    if (v == NULL)
        fail_msg("bad JSON %s: %s", s, e.text);
    return v;
}

static void test_error_body(void **state)
{
    (void)state;
    char *b = pa_error_body("invalid_json", "The body \"is\" bad.");
    assert_string_equal(b, "{\"error\":\"invalid_json\",\"message\":\"The body \\\"is\\\" bad.\"}");
    free(b);

    pa_reply r;
    pa_reply_error(&r, 404, "session_not_found", "No such %s.", "session");
    assert_int_equal(r.status, 404);
    assert_string_equal(r.error_code, "session_not_found");
    assert_string_equal(r.content_type, PA_CT_JSON);
    assert_string_equal(r.body, "{\"error\":\"session_not_found\",\"message\":\"No such session.\"}");
    assert_int_equal(r.len, strlen(r.body));
    pa_reply_free(&r);
    assert_null(r.body);

    /* a long message with multi-byte characters is cut on a character
     * boundary, so the body is still valid JSON (jansson refuses bad UTF-8) */
    char longmsg[1000] = "";
    for (int i = 0; i < 300; i++)
        memcpy(longmsg + 3 * i, "\xe2\x82\xac", 4); /* €, then NUL */
    pa_reply_error(&r, 400, "invalid_request", "%s", longmsg);
    assert_int_equal(r.status, 400);
    json_t *v = parse(r.body);
    assert_true(strlen(json_string_value(json_object_get(v, "message"))) < PA_MESSAGE_MAX);
    json_decref(v);
    pa_reply_free(&r);

    pa_http_error e;
    pa_error_set(&e, 410, "session_revoked", "%s", longmsg);
    assert_true(strlen(e.message) < PA_MESSAGE_MAX);
    assert_int_equal(strlen(e.message) % 3, 0); /* whole characters only */

    pa_reply_ok(&r, NULL);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.error_code, "internal_error");
    pa_reply_free(&r);
}

static void test_truncate(void **state)
{
    (void)state;
    char s[16] = "ab\xc3\xa9"
                 "cd";
    pa_truncate_utf8(s, 3); /* would cut é in half */
    assert_string_equal(s, "ab");
    char t[16] = "abcdef";
    pa_truncate_utf8(t, 10);
    assert_string_equal(t, "abcdef");
    pa_truncate_utf8(t, 4);
    assert_string_equal(t, "abcd");
}

static void test_enclave_errors(void **state)
{
    (void)state;
    static const struct {
        pa_ipc_error code;
        const char *name;
        unsigned status;
    } table[] = {
        {PA_IPC_E_INVALID_REQUEST, "invalid_request", 400},
        {PA_IPC_E_DECRYPTION_FAILED, "decryption_failed", 400},
        {PA_IPC_E_ENCLAVE_KEY_LOST, "enclave_key_lost", 410},
        {PA_IPC_E_UNSUPPORTED_ACCOUNT_TYPE, "unsupported_account_type", 422},
        {PA_IPC_E_EXCHANGE_REJECTED_KEY, "exchange_rejected_key", 422},
        {PA_IPC_E_EXCHANGE_UNAVAILABLE, "exchange_unavailable", 502},
        {PA_IPC_E_EXCHANGE_BAD_RESPONSE, "exchange_bad_response", 502},
        {PA_IPC_E_EXCHANGE_TOO_LARGE, "exchange_too_large", 502},
        {PA_IPC_E_EXCHANGE_BANNED, "exchange_banned", 503},
        {PA_IPC_E_EXCHANGE_REGION_BLOCKED, "exchange_region_blocked", 502},
        {PA_IPC_E_KEY_NOT_READ_ONLY, "key_not_read_only", 422},
        {PA_IPC_E_SEALED_KEY_INVALID, "sealed_key_invalid", 500},
        {PA_IPC_E_JOB_NOT_FOUND, "job_not_found", 503},
        {PA_IPC_E_TOO_MANY_JOBS, "too_many_jobs", 503},
        {PA_IPC_E_INTERNAL_ERROR, "internal_error", 500},
    };
    /* every code of the contract has its row here */
    assert_int_equal(sizeof table / sizeof table[0], PA_IPC_E_COUNT);
    pa_http_error e;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        pa_enclave_error(table[i].code, &e);
        assert_int_equal(e.status, table[i].status);
        assert_string_equal(e.code, table[i].name);
        assert_true(strlen(e.message) > 10);
    }
    pa_enclave_error(PA_IPC_E_COUNT, &e);
    assert_int_equal(e.status, 500);
    assert_string_equal(e.code, "internal_error");
    pa_enclave_error((pa_ipc_error)-1, &e);
    assert_int_equal(e.status, 500);
    pa_enclave_unavailable(&e);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.code, "enclave_unavailable");
}

static json_t *attestation(void)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "quote", "hKRhYmM=", "enclave_pubkey", KEY32,
                     "signing_pubkey", KEY32, "image_hash", IMG);
}

/* What the host does with an answer: the contract's check (as
 * pa_enclave_call runs it), then the typed reader. */
static int host_reads_aggregate(const json_t *a, pa_aggregate_answer *res)
{
    pa_ipc_error code;
    char why[PA_IPC_WHY_MAX];
    memset(res, 0, sizeof *res);
    if (pa_ipc_answer_check(PA_IPC_OP_AGGREGATE, a, &code, why) != PA_IPC_ANSWER_OK)
        return -1;
    return pa_answer_aggregate(a, res);
}

static int host_reads_attest(const json_t *att, pa_attest_answer *q)
{
    pa_ipc_error code;
    char why[PA_IPC_WHY_MAX];
    json_t *a = json_deep_copy(att);
    json_object_set_new(a, "ok", json_true());
    int rc = pa_ipc_answer_check(PA_IPC_OP_ATTEST, a, &code, why) == PA_IPC_ANSWER_OK
                 ? pa_answer_attest(att, q)
                 : -1;
    json_decref(a);
    return rc;
}

static int host_reads(pa_ipc_op op, const json_t *a)
{
    pa_ipc_error code;
    char why[PA_IPC_WHY_MAX];
    return pa_ipc_answer_check(op, a, &code, why) == PA_IPC_ANSWER_OK ? 0 : -1;
}

static json_t *aggregate_answer(void)
{
    return json_pack("{s:b, s:s, s:s, s:s, s:s, s:[s,s], s:[s,s], s:o}", "ok", 1, "result_id", UUID,
                     "payload_jcs", PAYLOAD, "signature", SIG64, "merkle_root", ROOT, "entries",
                     "{\"count\":2,\"type\":\"fetch\"}", "{\"fills\":2,\"type\":\"window\"}",
                     "leaf_hashes", LEAF, LEAF, "attestation", attestation());
}

static void test_aggregate_answer_and_body(void **state)
{
    (void)state;
    json_t *a = aggregate_answer();
    pa_aggregate_answer res;
    assert_int_equal(host_reads_aggregate(a, &res), 0);
    assert_int_equal(res.n, 2);
    assert_string_equal(res.entries[1], "{\"fills\":2,\"type\":\"window\"}");
    assert_string_equal(res.attestation_json,
                        "{\"quote\":\"hKRhYmM=\",\"enclave_pubkey\":\"" KEY32
                        "\",\"signing_pubkey\":\"" KEY32 "\",\"image_hash\":\"" IMG "\"}");
    char *body = pa_body_aggregates(&res);
    /* the payload is pasted in as the exact signed text */
    assert_string_equal(body, "{\"aggregates_signed\":{\"signature\":\"" SIG64
                              "\",\"payload\":" PAYLOAD "},\"merkle_root\":\"" ROOT
                              "\",\"logs_url\":\"/api/logs/" UUID "\",\"attestation\":"
                              "{\"quote\":\"hKRhYmM=\",\"enclave_pubkey\":\"" KEY32
                              "\",\"signing_pubkey\":\"" KEY32 "\",\"image_hash\":\"" IMG "\"}}");
    json_t *parsed = parse(body); /* and the whole is valid JSON */
    json_decref(parsed);
    free(body);
    pa_aggregate_answer_free(&res);
    json_decref(a);
}

/* Every way the enclave's answer can be malformed is refused. */
static void test_aggregate_answer_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        const char *json; /* replacement value */
    } bad[] = {
        {"result_id", "\"not-a-uuid\""},
        {"result_id", "\"1b6d4c3e-8f2a-4c1b-9d3e-5f6a7b8c9d0e\""}, /* differs from payload's */
        {"signature", "\"AAAA\""},
        {"signature", "\"" SIG64 "\\\"\""},
        {"merkle_root", "\"" ROOT "0\""},
        {"merkle_root", "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\""},
        {"merkle_root", "\"0000000000000000000000000000000000000000000000000000000000000000\""},
        {"payload_jcs", "\"[1,2]\""},
        {"payload_jcs", "\"{\\\"a\\\":1} trailing\""},
        {"payload_jcs", "42"},
        {"entries", "[\"{}\"]"},                 /* count differs from leaf_hashes */
        {"entries", "[\"{}\", \"[]\"]"},         /* not an object */
        {"entries", "[\"{}\", \"{\\\"a\\\":\"]"}, /* not JSON */
        {"entries", "\"x\""},
        {"leaf_hashes", "[\"" LEAF "\", \"zz\"]"},
        {"attestation", "{}"},
        {"attestation", "null"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *a = aggregate_answer();
        json_object_set_new(a, bad[i].key, parse(bad[i].json));
        pa_aggregate_answer res;
        if (host_reads_aggregate(a, &res) == 0)
            fail_msg("accepted %s = %s", bad[i].key, bad[i].json);
        assert_null(res.entries);
        assert_null(res.attestation_json);
        json_decref(a);
    }
    /* a missing field */
    static const char *const keys[] = {"result_id", "payload_jcs", "signature", "merkle_root",
                                       "entries", "leaf_hashes", "attestation"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *a = aggregate_answer();
        json_object_del(a, keys[i]);
        pa_aggregate_answer res;
        if (host_reads_aggregate(a, &res) == 0)
            fail_msg("accepted an answer without %s", keys[i]);
        json_decref(a);
    }
    /* attestation whose image differs from the signed payload's */
    json_t *a = aggregate_answer();
    json_t *att = attestation();
    json_object_set_new(att, "image_hash", json_string("ff" IMG_TAIL));
    json_object_set_new(a, "attestation", att);
    pa_aggregate_answer res;
    assert_int_equal(host_reads_aggregate(a, &res), -1);
    json_decref(a);
    assert_int_equal(host_reads_aggregate(NULL, &res), -1);
    /* a field the contract does not know */
    a = aggregate_answer();
    json_object_set_new(a, "extra", json_integer(1));
    assert_int_equal(host_reads_aggregate(a, &res), -1);
    json_decref(a);
}

static void test_attest_and_quote_body(void **state)
{
    (void)state;
    json_t *a = attestation();
    pa_attest_answer q;
    assert_int_equal(host_reads_attest(a, &q), 0);
    char *body = pa_body_quote(&q);
    assert_string_equal(body, "{\"quote\":\"hKRhYmM=\",\"enclave_pubkey\":\"" KEY32
                              "\",\"signing_pubkey\":\"" KEY32 "\",\"image_hash\":\"" IMG "\"}");
    free(body);
    static const struct {
        const char *key, *value;
    } bad[] = {
        {"quote", ""},
        {"quote", "not base64"},
        {"enclave_pubkey", "AAAA"},
        {"signing_pubkey", KEY32 "A"},
        {"image_hash", ROOT}, /* SHA-256 length, not SHA-384 */
        {"image_hash", "zz"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *b = attestation();
        json_object_set_new(b, bad[i].key, json_string(bad[i].value));
        if (host_reads_attest(b, &q) == 0)
            fail_msg("accepted %s = %s", bad[i].key, bad[i].value);
        json_decref(b);
    }
    json_object_set_new(a, "quote", json_integer(1));
    assert_int_equal(host_reads_attest(a, &q), -1);
    json_decref(a);
}

static void test_open_and_info(void **state)
{
    (void)state;
    json_t *o = parse("{\"ok\":true,\"exchange\":\"binance\",\"label\":\"m\",\"not_after\":null,"
                      "\"enclave_pubkey\":\"" KEY32 "\"}");
    pa_open_answer oa;
    assert_int_equal(host_reads(PA_IPC_OP_OPEN, o), 0);
    assert_int_equal(pa_answer_open(o, &oa), 0);
    assert_string_equal(oa.enclave_pubkey, KEY32);
    json_object_set_new(o, "enclave_pubkey", json_string("AAAA"));
    assert_int_equal(host_reads(PA_IPC_OP_OPEN, o), -1);
    json_decref(o);

    pa_info_answer info;
    json_t *i = parse("{\"ok\":true,\"enclave_pubkey\":\"" KEY32 "\",\"signing_pubkey\":\"" KEY32
                      "\",\"image_hash\":\"" IMG "\",\"environment\":\"development\","
                      "\"dev_root_pem\":"
                      "\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}");
    assert_int_equal(host_reads(PA_IPC_OP_INFO, i), 0);
    assert_int_equal(pa_answer_info(i, &info), 0);
    assert_non_null(info.dev_root_pem);
    json_object_set_new(i, "dev_root_pem", json_null());
    assert_int_equal(host_reads(PA_IPC_OP_INFO, i), 0);
    assert_int_equal(pa_answer_info(i, &info), 0);
    assert_null(info.dev_root_pem);
    json_object_set_new(i, "dev_root_pem", json_string("<html>"));
    assert_int_equal(host_reads(PA_IPC_OP_INFO, i), -1);
    json_object_set_new(i, "dev_root_pem", json_null());
    json_object_set_new(i, "environment", json_string("test"));
    assert_int_equal(host_reads(PA_IPC_OP_INFO, i), -1);
    json_decref(i);
}

static void test_logs_body(void **state)
{
    (void)state;
    char *entries[] = {"{\"count\":2,\"type\":\"fetch\"}", "{\"fills\":2,\"type\":\"window\"}"};
    char *leaves[] = {LEAF, LEAF};
    pa_db_logs l = {.merkle_root = ROOT, .n = 2, .entries = entries, .leaf_hashes = leaves};
    char *body = pa_body_logs(UUID, &l);
    assert_string_equal(body, "{\"result_id\":\"" UUID "\",\"tree_size\":2,\"merkle_root\":\"" ROOT
                              "\",\"entries\":[{\"index\":0,\"entry\":{\"count\":2,\"type\":\"fetch\"},"
                              "\"leaf_hash\":\"" LEAF "\"},{\"index\":1,\"entry\":{\"fills\":2,"
                              "\"type\":\"window\"},\"leaf_hash\":\"" LEAF "\"}]}");
    free(body);

    pa_db_logs empty = {.merkle_root = ROOT, .n = 0};
    body = pa_body_logs(UUID, &empty);
    assert_string_equal(body, "{\"result_id\":\"" UUID "\",\"tree_size\":0,\"merkle_root\":\"" ROOT
                              "\",\"entries\":[]}");
    free(body);

    /* what the database holds is not trusted to be JSON */
    char *bad_entries[] = {"{\"count\":2", "{}"};
    l.entries = bad_entries;
    assert_null(pa_body_logs(UUID, &l));
    l.entries = entries;
    char *bad_leaves[] = {LEAF, "\"},{\"x\":\""};
    l.leaf_hashes = bad_leaves;
    assert_null(pa_body_logs(UUID, &l));
    l.leaf_hashes = leaves;
    l.merkle_root = "\"";
    assert_null(pa_body_logs(UUID, &l));
}

static void test_small_bodies(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(pa_time_parse("2025-06-02T12:00:00Z", &t), 0);
    char *b = pa_body_submit(UUID, t);
    assert_string_equal(b, "{\"session_id\":\"" UUID "\",\"expires_at\":\"2025-06-02T12:00:00.000Z\"}");
    free(b);
    b = pa_body_revoked();
    assert_string_equal(b, "{\"success\":true,\"message\":\"Session revoked and data purged\"}");
    free(b);
    unsigned status;
    b = pa_body_health(1, 1, &status);
    assert_int_equal(status, 200);
    assert_string_equal(b, "{\"status\":\"ok\",\"database\":\"ok\",\"enclave\":\"ok\"}");
    free(b);
    b = pa_body_health(0, 1, &status);
    assert_int_equal(status, 503);
    assert_string_equal(b, "{\"status\":\"degraded\",\"database\":\"down\",\"enclave\":\"ok\"}");
    free(b);
    b = pa_body_health(1, 0, &status);
    assert_int_equal(status, 503);
    assert_string_equal(b, "{\"status\":\"degraded\",\"database\":\"ok\",\"enclave\":\"down\"}");
    free(b);
    b = pa_body_health(0, 0, &status);
    assert_int_equal(status, 503);
    assert_string_equal(b,
                        "{\"status\":\"degraded\",\"database\":\"down\",\"enclave\":\"down\"}");
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_enclave_errors),
        cmocka_unit_test(test_aggregate_answer_and_body),
        cmocka_unit_test(test_aggregate_answer_rejects),
        cmocka_unit_test(test_attest_and_quote_body),
        cmocka_unit_test(test_open_and_info),
        cmocka_unit_test(test_logs_body),
        cmocka_unit_test(test_small_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
