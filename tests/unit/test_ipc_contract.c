/* The host <-> enclave contract (src/ipc/ipc_contract.h): for every op, a
 * valid request and a valid answer are accepted, and an unknown field, a
 * wrong type, a value over its cap and a missing required field are each
 * refused, on the enclave's side (pa_ipc_request_parse) and on the host's
 * (pa_ipc_answer_check). The host's builders produce exactly what the
 * enclave's parser accepts, and the enclave's answer writers exactly what
 * the host's checker accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc_host.h"

#define KEY32 "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw="
#define SIG64 \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define UUID "0b6d4c3e-8f2a-4c1b-9d3e-5f6a7b8c9d0e"
/* 93 zero bytes: an enclave-made key's sealed form has exactly this length */
#define SEALED93                                                                             \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define ROOT "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define IMG                                                            \
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" \
    "202122232425262728292a2b2c2d2e2f"
#define ENVELOPE                                                                                   \
    "{\"ephemeral_pub\":\"" KEY32 "\",\"nonce\":\"wWRDiIJ/3Elop/4f\",\"ciphertext\":\"AAAA\","     \
    "\"tag\":\"8YT4tqQVKEjVGO34GAGo0Q==\",\"metadata\":{\"exchange\":\"binance\",\"label\":\"m\"}" \
    "}"
#define ATTESTATION                                                                        \
    "{\"quote\":\"hKRhYmM=\",\"enclave_pubkey\":\"" KEY32 "\",\"signing_pubkey\":\"" KEY32 \
    "\",\"image_hash\":\"" IMG "\"}"

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    if (v == NULL)
        fail_msg("bad JSON %s: %s", s, e.text);
    return v;
}

/* A string of n copies of c, as a JSON value. */
static json_t *repeated(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    json_t *v = json_string(s);
    free(s);
    return v;
}

/* base64 of n zero bytes */
static json_t *b64_zeros(size_t n)
{
    size_t len = 4 * ((n + 2) / 3);
    char *s = malloc(len + 1);
    assert_non_null(s);
    memset(s, 'A', len);
    if (n % 3 == 1)
        memcpy(s + len - 2, "==", 2);
    else if (n % 3 == 2)
        s[len - 1] = '=';
    s[len] = '\0';
    json_t *v = json_string(s);
    free(s);
    return v;
}

/* Runs the enclave's parser on the text of obj. */
static int enclave_accepts(const json_t *obj, pa_ipc_op want)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    assert_non_null(text);
    pa_ipc_op op;
    json_t *req = NULL;
    char why[PA_IPC_WHY_MAX];
    int rc = pa_ipc_request_parse(text, strlen(text), &op, &req, why);
    free(text);
    if (rc == 0) {
        assert_int_equal(op, want);
        assert_non_null(req);
        json_decref(req);
        return 1;
    }
    assert_null(req);
    assert_true(strlen(why) > 0);
    return 0;
}

typedef struct {
    const char *field;
    json_t *(*value)(void); /* NULL: delete the field */
    const char *what;
} mutation;

static json_t *v_int(void)
{
    return json_integer(1);
}
static json_t *v_string(void)
{
    return json_string("x");
}
static json_t *v_null(void)
{
    return json_null();
}
static json_t *v_object(void)
{
    return json_object();
}
static json_t *v_wait_over(void)
{
    return json_integer(PA_IPC_JOB_POLL_MAX_MS + 1);
}
static json_t *v_negative(void)
{
    return json_integer(-1);
}
static json_t *v_uuid_v1(void)
{
    return json_string("0b6d4c3e-8f2a-1c1b-9d3e-5f6a7b8c9d0e");
}
static json_t *v_nonce_over(void)
{
    return b64_zeros(PA_IPC_NONCE_MAX + 1);
}
static json_t *v_nonce_max(void)
{
    return b64_zeros(PA_IPC_NONCE_MAX);
}
static json_t *v_key31(void)
{
    return b64_zeros(31);
}
static json_t *v_challenge_over(void)
{
    return repeated('c', PA_IPC_CHALLENGE_MAX + 1);
}
static json_t *v_challenge_max(void)
{
    return repeated('c', PA_IPC_CHALLENGE_MAX);
}
static json_t *v_challenge_bidi(void)
{
    return json_string("a\xe2\x80\xae"
                       "b"); /* U+202E */
}
static json_t *v_zero_width(void)
{
    return json_string("fund\xe2\x80\x8b"
                       "A"); /* U+200B, Cf: invisible, yet the text differs */
}
static json_t *v_bom(void)
{
    return json_string("\xef\xbb\xbf"
                       "m"); /* U+FEFF */
}
static json_t *v_envelope_over(void)
{
    json_t *env = parse(ENVELOPE);
    json_object_set_new(json_object_get(env, "metadata"), "label",
                        repeated('l', PA_IPC_ENVELOPE_MAX));
    return env;
}
static json_t *v_time_bad(void)
{
    return json_string("2025-01-01 00:00:00");
}
static json_t *v_sealed(void)
{
    return json_string(SEALED93);
}
static json_t *v_sealed_short(void)
{
    return json_string(KEY32); /* 32 bytes, not 93 */
}
static json_t *v_with_nul(void)
{
    return json_stringn("AAAA\0AAAA", 9);
}

static void apply(json_t *obj, const mutation *m)
{
    if (m->value == NULL)
        json_object_del(obj, m->field);
    else
        json_object_set_new(obj, m->field, m->value());
}

/* ---- requests (enclave side) ------------------------------------------------------ */

typedef struct {
    pa_ipc_op op;
    const char *valid;
    mutation good[4]; /* still valid after these */
    mutation bad[13];
} request_case;

static const request_case request_cases[] = {
    {PA_IPC_OP_INFO,
     "{\"op\":\"info\"}",
     {{NULL, NULL, NULL}},
     {{"x", v_int, "unknown field"}, {"nonce", v_string, "another op's field"}}},
    {PA_IPC_OP_ATTEST,
     "{\"op\":\"attest\",\"nonce\":\"AAECAw==\"}",
     {{"nonce", NULL, "no nonce"}, {"nonce", v_null, "null nonce"}, {"nonce", v_nonce_max, "cap"}},
     {{"x", v_int, "unknown field"},
      {"nonce", v_int, "wrong type"},
      {"nonce", v_nonce_over, "over cap"},
      {"nonce", v_string, "not base64"},
      {"nonce", v_with_nul, "NUL inside"}}},
    {PA_IPC_OP_OPEN,
     "{\"op\":\"open\",\"envelope\":" ENVELOPE "}",
     {{"sealed_key", v_sealed, "an enclave-made key's sealed key"},
      {"sealed_key", v_null, "null sealed key"}},
     {{"x", v_int, "unknown field"},
      {"envelope", v_string, "wrong type"},
      {"envelope", v_envelope_over, "over cap"},
      {"envelope", NULL, "missing"},
      {"envelope", v_null, "null"},
      {"sealed_key", v_sealed_short, "sealed key of 32 bytes"},
      {"sealed_key", v_int, "sealed key of the wrong type"}}},
    {PA_IPC_OP_AGGREGATE,
     "{\"op\":\"aggregate\",\"envelope\":" ENVELOPE ",\"enclave_pubkey\":\"" KEY32
     "\",\"from\":\"2025-01-01T00:00:00Z\",\"to\":\"2025-02-01T00:00:00Z\",\"challenge\":\"c\"}",
     {{"challenge", NULL, "no challenge"},
      {"challenge", v_null, "null challenge"},
      {"challenge", v_challenge_max, "cap"},
      {"envelope", v_object, "an empty envelope object (its format is the envelope module's)"}},
     {{"x", v_int, "unknown field"},
      {"challenge", v_int, "wrong type"},
      {"challenge", v_challenge_over, "over cap"},
      {"challenge", v_challenge_bidi, "bidi control"},
      {"challenge", v_zero_width, "zero-width space"},
      {"challenge", v_bom, "byte order mark"},
      {"enclave_pubkey", v_key31, "key of 31 bytes"},
      {"enclave_pubkey", NULL, "missing key"},
      {"from", v_int, "wrong type"},
      {"to", v_time_bad, "not RFC 3339"},
      {"to", NULL, "missing"},
      {"sealed_key", v_with_nul, "sealed key with a NUL"},
      {"op", v_int, "op of the wrong type"}}},
    {PA_IPC_OP_KEYGEN,
     "{\"op\":\"keygen\",\"exchange\":\"binance\",\"nonce\":\"AAECAw==\"}",
     {{"nonce", NULL, "no nonce"}, {"nonce", v_null, "null nonce"}, {"nonce", v_nonce_max, "cap"}},
     {{"x", v_int, "unknown field"},
      {"exchange", NULL, "no exchange"},
      {"exchange", v_int, "wrong type"},
      {"exchange", v_zero_width, "zero-width space"},
      {"nonce", v_nonce_over, "over cap"},
      {"sealed_key", v_sealed, "another op's field"}}},
    {PA_IPC_OP_AGGREGATE_START,
     "{\"op\":\"aggregate_start\",\"envelope\":" ENVELOPE ",\"enclave_pubkey\":\"" KEY32
     "\",\"from\":\"2025-01-01T00:00:00Z\",\"to\":\"2025-02-01T00:00:00Z\"}",
     {{"challenge", v_challenge_max, "cap"}},
     {{"x", v_int, "unknown field"},
      {"job_id", v_string, "another op's field"},
      {"challenge", v_challenge_over, "over cap"},
      {"enclave_pubkey", NULL, "missing key"},
      {"to", v_time_bad, "not RFC 3339"}}},
    {PA_IPC_OP_AGGREGATE_JOB,
     "{\"op\":\"aggregate_job\",\"job_id\":\"" UUID "\",\"wait_ms\":1000}",
     {{"wait_ms", NULL, "no wait"}},
     {{"x", v_int, "unknown field"},
      {"job_id", NULL, "missing"},
      {"job_id", v_uuid_v1, "not a UUID v4"},
      {"job_id", v_int, "wrong type"},
      {"wait_ms", v_wait_over, "over cap"},
      {"wait_ms", v_negative, "negative"},
      {"wait_ms", v_string, "wrong type"}}},
    {PA_IPC_OP_AGGREGATE_CANCEL,
     "{\"op\":\"aggregate_cancel\",\"job_id\":\"" UUID "\"}",
     {{NULL, NULL, NULL}},
     {{"x", v_int, "unknown field"},
      {"wait_ms", v_int, "another op's field"},
      {"job_id", NULL, "missing"},
      {"job_id", v_null, "null"}}},
    {PA_IPC_OP_STATS,
     "{\"op\":\"stats\"}",
     {{NULL, NULL, NULL}},
     {{"x", v_int, "unknown field"}, {"nonce", v_string, "another op's field"}}},
};

static void test_requests(void **state)
{
    (void)state;
    assert_int_equal(PA_ARRAY_LEN(request_cases), PA_IPC_OP_COUNT);
    for (size_t i = 0; i < PA_ARRAY_LEN(request_cases); i++) {
        const request_case *c = &request_cases[i];
        json_t *base = parse(c->valid);
        if (!enclave_accepts(base, c->op))
            fail_msg("%s: the valid request was refused", pa_ipc_op_name(c->op));
        for (size_t k = 0; k < PA_ARRAY_LEN(c->good) && c->good[k].field != NULL; k++) {
            json_t *r = json_deep_copy(base);
            apply(r, &c->good[k]);
            if (!enclave_accepts(r, c->op))
                fail_msg("%s: refused with %s", pa_ipc_op_name(c->op), c->good[k].what);
            json_decref(r);
        }
        for (size_t k = 0; k < PA_ARRAY_LEN(c->bad) && c->bad[k].field != NULL; k++) {
            json_t *r = json_deep_copy(base);
            apply(r, &c->bad[k]);
            if (enclave_accepts(r, c->op))
                fail_msg("%s: accepted %s (%s)", pa_ipc_op_name(c->op), c->bad[k].field,
                         c->bad[k].what);
            json_decref(r);
        }
        json_decref(base);
    }
}

static void test_request_frames(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"op\":\"info\",\"x\":1}",         /* the example */
        "{\"op\":\"info\",\"op\":\"info\"}", /* duplicate key */
        "{\"op\":\"sign\"}",                 /* no such op */
        "{\"op\":\"INFO\"}",                 /* names are exact */
        "{\"op\":\"info\\u0000\"}",          /* NUL inside the op */
        "{\"op\":1}",                        /* op of the wrong type */
        "{}",                                /* no op */
        "[\"info\"]",                        /* not an object */
        "{\"op\":\"info\"} {}",              /* trailing data */
        "",                                  /* empty frame */
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        pa_ipc_op op;
        json_t *req = NULL;
        char why[PA_IPC_WHY_MAX] = "";
        if (pa_ipc_request_parse(bad[i], strlen(bad[i]), &op, &req, why) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_null(req);
        assert_true(strlen(why) > 0);
    }
    /* the refusal does not echo the sender's field name */
    pa_ipc_op op;
    json_t *req = NULL;
    char why[PA_IPC_WHY_MAX];
    const char *f = "{\"op\":\"info\",\"<script>\":1}";
    assert_int_equal(pa_ipc_request_parse(f, strlen(f), &op, &req, why), -1);
    assert_null(strstr(why, "<script>"));
}

/* ---- the host's builders ------------------------------------------------------------ */

static void test_builders(void **state)
{
    (void)state;
    json_t *env = parse(ENVELOPE);
    json_t *r = pa_ipc_request_info();
    assert_true(enclave_accepts(r, PA_IPC_OP_INFO));
    assert_int_equal(json_object_size(r), 1);
    json_decref(r);

    r = pa_ipc_request_attest("AAECAw==");
    assert_true(enclave_accepts(r, PA_IPC_OP_ATTEST));
    json_decref(r);
    r = pa_ipc_request_attest(NULL);
    assert_true(enclave_accepts(r, PA_IPC_OP_ATTEST));
    assert_null(json_object_get(r, "nonce"));
    json_decref(r);

    r = pa_ipc_request_open(env);
    assert_true(enclave_accepts(r, PA_IPC_OP_OPEN));
    assert_true(json_equal(json_object_get(r, "envelope"), env));
    json_decref(r);

    r = pa_ipc_request_aggregate(env, KEY32, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z",
                                 "fund X");
    assert_true(enclave_accepts(r, PA_IPC_OP_AGGREGATE));
    assert_string_equal(json_string_value(json_object_get(r, "challenge")), "fund X");
    json_decref(r);
    r = pa_ipc_request_aggregate(env, KEY32, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", NULL);
    assert_true(enclave_accepts(r, PA_IPC_OP_AGGREGATE));
    json_decref(r);

    r = pa_ipc_request_aggregate_start(env, KEY32, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z",
                                       NULL);
    assert_true(enclave_accepts(r, PA_IPC_OP_AGGREGATE_START));
    json_decref(r);
    r = pa_ipc_request_aggregate_job(UUID, PA_IPC_JOB_POLL_MAX_MS);
    assert_true(enclave_accepts(r, PA_IPC_OP_AGGREGATE_JOB));
    json_decref(r);
    r = pa_ipc_request_aggregate_job(UUID, 0);
    assert_true(enclave_accepts(r, PA_IPC_OP_AGGREGATE_JOB));
    assert_null(json_object_get(r, "wait_ms"));
    json_decref(r);
    r = pa_ipc_request_aggregate_cancel(UUID);
    assert_true(enclave_accepts(r, PA_IPC_OP_AGGREGATE_CANCEL));
    json_decref(r);

    /* what the enclave would refuse is never built */
    assert_null(pa_ipc_request_aggregate_job("not-a-uuid", 0));
    assert_null(pa_ipc_request_aggregate_job(UUID, PA_IPC_JOB_POLL_MAX_MS + 1));
    assert_null(pa_ipc_request_aggregate_cancel(NULL));
    assert_null(pa_ipc_request_attest("not base64"));
    assert_null(pa_ipc_request_open(NULL));
    assert_null(pa_ipc_request_aggregate(env, "AAAA", "2025-01-01T00:00:00Z",
                                         "2025-02-01T00:00:00Z", NULL));
    assert_null(pa_ipc_request_aggregate(env, KEY32, "yesterday", "2025-02-01T00:00:00Z", NULL));
    assert_null(pa_ipc_request_aggregate(env, KEY32, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z",
                                         "a\x1b[2Jb"));
    json_t *v[] = {json_integer(1)};
    assert_null(pa_ipc_request_build(PA_IPC_OP_INFO, v, 1)); /* more values than fields */
    json_decref(env);
}

/* ---- answers (host side) -------------------------------------------------------------- */

typedef struct {
    pa_ipc_op op;
    const char *valid;
    mutation good[3];
    mutation bad[12];
} answer_case;

static json_t *v_entries_over(void)
{
    json_t *a = json_array();
    for (int i = 0; i <= PA_IPC_ENTRIES_MAX; i++)
        json_array_append_new(a, json_string("{}"));
    return a;
}
static json_t *v_entries_not_object(void)
{
    return parse("[\"[]\"]");
}
static json_t *v_entry_over(void)
{
    json_t *a = json_array();
    char *s = malloc(PA_IPC_ENTRY_MAX + 16);
    assert_non_null(s);
    int n = snprintf(s, PA_IPC_ENTRY_MAX + 16, "{\"a\":\"%0*d\"}", (int)PA_IPC_ENTRY_MAX, 0);
    assert_true(n > 0);
    json_array_append_new(a, json_string(s));
    free(s);
    return a;
}
static json_t *v_leaves_upper(void)
{
    return parse("[\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"]");
}
static json_t *v_attestation_extra(void)
{
    json_t *a = parse(ATTESTATION);
    json_object_set_new(a, "debug", json_true());
    return a;
}
static json_t *v_quote_over(void)
{
    return b64_zeros(PA_IPC_QUOTE_MAX + 1);
}
static json_t *v_label_over(void)
{
    return repeated('l', PA_IPC_LABEL_MAX + 1);
}
static json_t *v_pem_over(void)
{
    json_t *s = repeated('A', PA_IPC_PEM_MAX + 1);
    char *t = strdup(json_string_value(s));
    memcpy(t, "-----BEGIN CERTIFICATE-----", 27);
    json_decref(s);
    s = json_string(t);
    free(t);
    return s;
}
static json_t *v_env_test(void)
{
    return json_string("test");
}
static json_t *v_hex_short(void)
{
    return json_string("e3b0");
}
static json_t *v_uuid_bad(void)
{
    return json_string("0b6d4c3e-8f2a-1c1b-9d3e-5f6a7b8c9d0e"); /* version 1 */
}
static json_t *v_payload_array(void)
{
    return json_string("[1,2]");
}

#define AGG_ANSWER                                                                     \
    "{\"result_id\":\"" UUID "\",\"payload_jcs\":\"{\\\"a\\\":1}\",\"signature\":\"" SIG64 \
    "\",\"merkle_root\":\"" ROOT "\",\"entries\":[\"{}\"],\"leaf_hashes\":[\"" ROOT          \
    "\"],\"attestation\":" ATTESTATION "}"
#define PROGRESS "{\"symbols_done\":3,\"symbols_total\":300,\"pages\":4}"
static json_t *v_result(void)
{
    return parse(AGG_ANSWER);
}
static json_t *v_result_with_ok(void)
{
    json_t *r = parse(AGG_ANSWER);
    json_object_set_new(r, "ok", json_true());
    return r;
}
static json_t *v_refusal(void)
{
    return parse("{\"error\":\"exchange_unavailable\",\"message\":\"m\"}");
}
static json_t *v_progress_extra(void)
{
    json_t *p = parse(PROGRESS);
    json_object_set_new(p, "eta", json_integer(1));
    return p;
}
static json_t *v_progress_over(void)
{
    json_t *p = parse(PROGRESS);
    json_object_set_new(p, "pages", json_integer(PA_IPC_PROGRESS_MAX + 1));
    return p;
}
static json_t *v_status_queued(void)
{
    return json_string("queued");
}
static json_t *v_empty_array(void)
{
    return json_array();
}
static json_t *v_calls_bad_venue(void)
{
    return parse("[{\"venue\":\"okx\",\"outcome\":\"ok\",\"count\":1}]");
}
static json_t *v_calls_bad_outcome(void)
{
    return parse("[{\"venue\":\"binance_spot\",\"outcome\":\"teapot\",\"count\":1}]");
}
static json_t *v_calls_negative(void)
{
    return parse("[{\"venue\":\"binance_spot\",\"outcome\":\"ok\",\"count\":-1}]");
}
static json_t *v_calls_extra(void)
{
    return parse("[{\"venue\":\"binance_spot\",\"outcome\":\"ok\",\"count\":1,"
                 "\"path\":\"/api/v3/account\"}]");
}
static json_t *v_calls_over(void)
{
    json_t *a = json_array();
    for (size_t i = 0; i <= PA_IPC_STATS_ROWS_MAX; i++)
        json_array_append_new(a, parse("{\"venue\":\"binance_spot\",\"outcome\":\"ok\","
                                       "\"count\":1}"));
    return a;
}

static const answer_case answer_cases[] = {
    {PA_IPC_OP_INFO,
     "{\"ok\":true,\"enclave_pubkey\":\"" KEY32 "\",\"signing_pubkey\":\"" KEY32
     "\",\"image_hash\":\"" IMG "\",\"environment\":\"production\",\"dev_root_pem\":null}",
     {{NULL, NULL, NULL}},
     {{"x", v_int, "unknown field"},
      {"environment", v_env_test, "not an environment"},
      {"environment", v_int, "wrong type"},
      {"dev_root_pem", v_pem_over, "over cap"},
      {"dev_root_pem", v_string, "not PEM"},
      {"dev_root_pem", NULL, "missing"},
      {"image_hash", v_hex_short, "short hash"}}},
    {PA_IPC_OP_ATTEST,
     "{\"ok\":true,\"quote\":\"hKRhYmM=\",\"enclave_pubkey\":\"" KEY32
     "\",\"signing_pubkey\":\"" KEY32 "\",\"image_hash\":\"" IMG "\"}",
     {{NULL, NULL, NULL}},
     {{"nonce", v_string, "unknown field"},
      {"quote", v_int, "wrong type"},
      {"quote", v_quote_over, "over cap"},
      {"signing_pubkey", v_key31, "short key"},
      {"quote", NULL, "missing"}}},
    {PA_IPC_OP_OPEN,
     "{\"ok\":true,\"exchange\":\"binance\",\"label\":\"m\",\"not_after\":\"2030-01-01T00:00:00Z\","
     "\"enclave_pubkey\":\"" KEY32 "\"}",
     {{"not_after", v_null, "null not_after"}},
     {{"api_key", v_string, "unknown field"},
      {"label", v_int, "wrong type"},
      {"label", v_label_over, "over cap"},
      {"label", v_zero_width, "zero-width space"},
      {"label", v_bom, "byte order mark"},
      {"not_after", v_time_bad, "not RFC 3339"},
      {"not_after", NULL, "missing"},
      {"enclave_pubkey", v_with_nul, "NUL inside"}}},
    {PA_IPC_OP_AGGREGATE,
     "{\"ok\":true,\"result_id\":\"" UUID
     "\",\"payload_jcs\":\"{\\\"a\\\":1}\",\"signature\":\"" SIG64 "\",\"merkle_root\":\"" ROOT
     "\",\"entries\":[\"{}\"],\"leaf_hashes\":[\"" ROOT "\"],\"attestation\":" ATTESTATION "}",
     {{NULL, NULL, NULL}},
     {{"x", v_int, "unknown field"},
      {"attestation", v_attestation_extra, "unknown field in the nested attestation"},
      {"entries", v_string, "wrong type"},
      {"entries", v_entries_over, "over cap (count)"},
      {"entries", v_entry_over, "over cap (entry bytes)"},
      {"entries", v_entries_not_object, "entry not an object"},
      {"leaf_hashes", v_leaves_upper, "uppercase hex"},
      {"result_id", v_uuid_bad, "not a UUID v4"},
      {"payload_jcs", v_payload_array, "payload not an object"},
      {"signature", v_key31, "short signature"}}},
    {PA_IPC_OP_KEYGEN,
     "{\"ok\":true,\"key_id\":\"" UUID "\",\"exchange\":\"binance\",\"public_key\":\"" KEY32
     "\",\"public_key_pem\":\"-----BEGIN PUBLIC KEY-----\\n\",\"sealed_key\":\"" SEALED93
     "\",\"attestation\":" ATTESTATION "}",
     {{NULL, NULL, NULL}},
     {{"x", v_int, "unknown field"},
      {"key_id", v_uuid_bad, "not a UUID v4"},
      {"public_key", v_key31, "short key"},
      {"sealed_key", v_sealed_short, "short sealed key"},
      {"sealed_key", NULL, "missing sealed key"},
      {"public_key_pem", v_pem_over, "over cap"},
      {"public_key_pem", v_with_nul, "NUL inside"},
      {"attestation", v_attestation_extra, "unknown field in the nested attestation"}}},
    {PA_IPC_OP_AGGREGATE_START,
     "{\"ok\":true,\"job_id\":\"" UUID "\"}",
     {{NULL, NULL, NULL}},
     {{"x", v_int, "unknown field"}, {"job_id", v_uuid_bad, "not a UUID v4"}, {"job_id", NULL, "missing"}}},
    {PA_IPC_OP_AGGREGATE_JOB,
     "{\"ok\":true,\"status\":\"running\",\"progress\":" PROGRESS "}",
     {{"result", v_result, "a result"}, {"error", v_refusal, "an error"}},
     {{"x", v_int, "unknown field"},
      {"status", v_status_queued, "not a job state"},
      {"progress", NULL, "missing"},
      {"progress", v_progress_extra, "unknown field in progress"},
      {"progress", v_progress_over, "counter over cap"},
      {"result", v_result_with_ok, "\"ok\" inside the result"},
      {"result", v_string, "wrong type"},
      {"error", v_object, "an empty refusal"}}},
    {PA_IPC_OP_AGGREGATE_CANCEL,
     "{\"ok\":true}",
     {{NULL, NULL, NULL}},
     {{"x", v_int, "unknown field"}, {"job_id", v_string, "an echoed field"}}},
    {PA_IPC_OP_STATS,
     "{\"ok\":true,\"exchange_calls\":[{\"venue\":\"binance_spot\",\"outcome\":\"ok\","
     "\"count\":3},{\"venue\":\"binance_usdm\",\"outcome\":\"http_5xx\",\"count\":0}]}",
     {{"exchange_calls", v_empty_array, "no calls yet"}},
     {{"x", v_int, "unknown field"},
      {"exchange_calls", NULL, "missing"},
      {"exchange_calls", v_calls_bad_venue, "a venue not in the contract"},
      {"exchange_calls", v_calls_bad_outcome, "an outcome not in the contract"},
      {"exchange_calls", v_calls_negative, "a negative count"},
      {"exchange_calls", v_calls_extra, "an unknown field in a row (a path, say)"},
      {"exchange_calls", v_calls_over, "more rows than the cap"}}},
};

static pa_ipc_answer_kind host_check(pa_ipc_op op, const json_t *a)
{
    pa_ipc_error code;
    char why[PA_IPC_WHY_MAX] = "";
    pa_ipc_answer_kind k = pa_ipc_answer_check(op, a, &code, why);
    if (k == PA_IPC_ANSWER_MALFORMED)
        assert_true(strlen(why) > 0);
    return k;
}

static void test_answers(void **state)
{
    (void)state;
    assert_int_equal(PA_ARRAY_LEN(answer_cases), PA_IPC_OP_COUNT);
    for (size_t i = 0; i < PA_ARRAY_LEN(answer_cases); i++) {
        const answer_case *c = &answer_cases[i];
        json_t *base = parse(c->valid);
        if (host_check(c->op, base) != PA_IPC_ANSWER_OK)
            fail_msg("%s: the valid answer was refused", pa_ipc_op_name(c->op));
        for (size_t k = 0; k < PA_ARRAY_LEN(c->good) && c->good[k].field != NULL; k++) {
            json_t *r = json_deep_copy(base);
            apply(r, &c->good[k]);
            if (host_check(c->op, r) != PA_IPC_ANSWER_OK)
                fail_msg("%s: refused with %s", pa_ipc_op_name(c->op), c->good[k].what);
            json_decref(r);
        }
        for (size_t k = 0; k < PA_ARRAY_LEN(c->bad) && c->bad[k].field != NULL; k++) {
            json_t *r = json_deep_copy(base);
            apply(r, &c->bad[k]);
            if (host_check(c->op, r) != PA_IPC_ANSWER_MALFORMED)
                fail_msg("%s: accepted %s (%s)", pa_ipc_op_name(c->op), c->bad[k].field,
                         c->bad[k].what);
            json_decref(r);
        }
        /* an answer of another op's shape is not this op's answer */
        pa_ipc_op other = (pa_ipc_op)((c->op + 1) % PA_IPC_OP_COUNT);
        assert_int_equal(host_check(other, base), PA_IPC_ANSWER_MALFORMED);
        json_decref(base);
    }
    /* info in development: a PEM root */
    json_t *i = parse(answer_cases[0].valid);
    json_object_set_new(i, "environment", json_string("development"));
    json_object_set_new(
        i, "dev_root_pem",
        json_string("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"));
    assert_int_equal(host_check(PA_IPC_OP_INFO, i), PA_IPC_ANSWER_OK);
    json_decref(i);
    /* not protocol answers at all */
    assert_int_equal(host_check(PA_IPC_OP_INFO, NULL), PA_IPC_ANSWER_MALFORMED);
    json_t *n = parse("{\"ok\":1}");
    assert_int_equal(host_check(PA_IPC_OP_INFO, n), PA_IPC_ANSWER_MALFORMED);
    json_decref(n);
}

static void test_refusals(void **state)
{
    (void)state;
    /* every code round-trips through the enclave's writer and the host's checker */
    for (int c = 0; c < PA_IPC_E_COUNT; c++) {
        char *text = pa_ipc_error_answer((pa_ipc_error)c, "why it failed");
        assert_non_null(text);
        json_t *a = parse(text);
        pa_ipc_error got = PA_IPC_E_COUNT;
        char why[PA_IPC_WHY_MAX];
        for (int op = 0; op < PA_IPC_OP_COUNT; op++)
            assert_int_equal(pa_ipc_answer_check((pa_ipc_op)op, a, &got, why),
                             PA_IPC_ANSWER_REFUSED);
        assert_int_equal(got, c);
        pa_ipc_error back;
        assert_int_equal(pa_ipc_error_from_name(pa_ipc_error_name((pa_ipc_error)c), &back), 0);
        assert_int_equal(back, c);
        assert_true(strlen(pa_ipc_error_meaning((pa_ipc_error)c)) > 10);
        json_decref(a);
        free(text);
    }
    pa_ipc_error back;
    assert_int_equal(pa_ipc_error_from_name("something_new", &back), -1);
    assert_int_equal(pa_ipc_error_from_name(NULL, &back), -1);
    assert_string_equal(pa_ipc_error_name(PA_IPC_E_COUNT), "internal_error");

    static const char *const bad[] = {
        "{\"ok\":false,\"error\":\"something_new\",\"message\":\"m\"}",          /* unknown code */
        "{\"ok\":false,\"error\":\"internal_error\"}",                           /* no message */
        "{\"ok\":false,\"error\":\"internal_error\",\"message\":\"\"}",          /* empty message */
        "{\"ok\":false,\"error\":\"internal_error\",\"message\":\"m\",\"x\":1}", /* unknown field */
        "{\"ok\":false,\"error\":3,\"message\":\"m\"}",                          /* wrong type */
        /* retry_after: an integer of 1..PA_IPC_RETRY_AFTER_MAX seconds */
        "{\"ok\":false,\"error\":\"exchange_banned\",\"message\":\"m\",\"retry_after\":0}",
        "{\"ok\":false,\"error\":\"exchange_banned\",\"message\":\"m\",\"retry_after\":-5}",
        "{\"ok\":false,\"error\":\"exchange_banned\",\"message\":\"m\",\"retry_after\":86401}",
        "{\"ok\":false,\"error\":\"exchange_banned\",\"message\":\"m\",\"retry_after\":\"90\"}",
        "{\"ok\":false,\"error\":\"exchange_banned\",\"message\":\"m\",\"retry_after\":1.5}",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        json_t *a = parse(bad[i]);
        if (host_check(PA_IPC_OP_INFO, a) != PA_IPC_ANSWER_MALFORMED)
            fail_msg("accepted %s", bad[i]);
        json_decref(a);
    }
    /* the writer's retry_after: present only when positive, capped */
    static const struct {
        long in, out;
    } ra[] = {{90, 90}, {1, 1}, {86400, 86400}, {1000000, 86400}, {0, 0}, {-3, 0}};
    for (size_t i = 0; i < PA_ARRAY_LEN(ra); i++) {
        char *t = pa_ipc_error_answer_retry(PA_IPC_E_EXCHANGE_BANNED, "banned", ra[i].in);
        json_t *a = parse(t);
        assert_int_equal(host_check(PA_IPC_OP_AGGREGATE, a), PA_IPC_ANSWER_REFUSED);
        const json_t *v = json_object_get(a, "retry_after");
        if (ra[i].out == 0)
            assert_null(v);
        else
            assert_int_equal(json_integer_value(v), ra[i].out);
        json_decref(a);
        free(t);
    }
    /* a message over the cap is cut by the writer (at a character boundary)
     * and then fits; over the cap on the wire it is refused */
    char long_msg[PA_IPC_MESSAGE_MAX + 40];
    memset(long_msg, 'm', sizeof long_msg);
    memcpy(long_msg + PA_IPC_MESSAGE_MAX - 1, "\xc3\xa9", 2); /* é across the cut */
    long_msg[sizeof long_msg - 1] = '\0';
    char *text = pa_ipc_error_answer(PA_IPC_E_EXCHANGE_UNAVAILABLE, long_msg);
    json_t *a = parse(text);
    assert_int_equal(host_check(PA_IPC_OP_AGGREGATE, a), PA_IPC_ANSWER_REFUSED);
    assert_int_equal(json_string_length(json_object_get(a, "message")), PA_IPC_MESSAGE_MAX - 1);
    json_object_set_new(a, "message", json_string(long_msg));
    assert_int_equal(host_check(PA_IPC_OP_AGGREGATE, a), PA_IPC_ANSWER_MALFORMED);
    json_decref(a);
    free(text);
    /* a message that is not UTF-8 is replaced, not dropped */
    text = pa_ipc_error_answer(PA_IPC_E_EXCHANGE_BAD_RESPONSE, "bad \xff byte");
    a = parse(text);
    assert_int_equal(host_check(PA_IPC_OP_AGGREGATE, a), PA_IPC_ANSWER_REFUSED);
    json_decref(a);
    free(text);
}

static void test_ok_answers(void **state)
{
    (void)state;
    char *text = pa_ipc_ok_answer(parse(ATTESTATION));
    json_t *a = parse(text);
    assert_int_equal(host_check(PA_IPC_OP_ATTEST, a), PA_IPC_ANSWER_OK);
    json_decref(a);
    free(text);
    /* a failed json_pack becomes internal_error, not a crash or "ok" */
    text = pa_ipc_ok_answer(NULL);
    a = parse(text);
    pa_ipc_error code;
    char why[PA_IPC_WHY_MAX];
    assert_int_equal(pa_ipc_answer_check(PA_IPC_OP_INFO, a, &code, why), PA_IPC_ANSWER_REFUSED);
    assert_int_equal(code, PA_IPC_E_INTERNAL_ERROR);
    json_decref(a);
    free(text);
}

static void test_names(void **state)
{
    (void)state;
    for (int op = 0; op < PA_IPC_OP_COUNT; op++) {
        pa_ipc_op back;
        assert_int_equal(pa_ipc_op_from_name(pa_ipc_op_name((pa_ipc_op)op), &back), 0);
        assert_int_equal(back, op);
        const pa_ipc_op_desc *d = pa_ipc_op_desc_get((pa_ipc_op)op);
        assert_non_null(d);
        assert_non_null(d->request);
        assert_non_null(d->answer);
    }
    assert_null(pa_ipc_op_desc_get(PA_IPC_OP_COUNT));
    assert_string_equal(pa_ipc_op_name(PA_IPC_OP_COUNT), "unknown");
    pa_ipc_op back;
    assert_int_equal(pa_ipc_op_from_name("sign", &back), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests), cmocka_unit_test(test_request_frames),
        cmocka_unit_test(test_builders), cmocka_unit_test(test_answers),
        cmocka_unit_test(test_refusals), cmocka_unit_test(test_ok_answers),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
