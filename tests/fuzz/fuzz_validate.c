/* libFuzzer driver for the server's request validation (src/server/validate.h),
 * the code that reads every request before the database or the enclave sees
 * it. The input is used as a request body for each of submit_key (body ->
 * envelope -> submit policy), request_aggregates and revoke, and (up to its
 * first NUL) as the ?nonce= value, a result id, a Content-Type and a
 * Content-Length. The clock is fixed, so a run is reproducible. Beyond "no
 * crash":
 *  - every refusal is a 400 with one of the route's documented codes;
 *  - what is accepted obeys the documented limits: expires_at in
 *    (now, now + max_ttl], windows non-empty, at most 366 days and not in
 *    the future, session and result ids canonical lower-case UUID v4,
 *    challenges of at most 128 code points;
 *  - a larger MAX_TTL_SECONDS never refuses what a smaller one accepts;
 *  - an accepted nonce is returned as canonical base64 of 1..64 bytes equal
 *    to the value sent (with ' ' read as '+');
 *  - pa_validate_known_fields accepts exactly the objects whose keys are
 *    all allowed, and pa_validate_declares_too_much agrees with a plain
 *    reading of the digits. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "envelope_format.h"
#include "jcs.h"
#include "text.h"
#include "uuid.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define MAX_TTL_SMALL 60
#define MAX_TTL_DEFAULT 604800

static void expect_refusal(const pa_http_error *err, const char *const *codes)
{
    if (err->status != 400 || err->code == NULL)
        abort();
    for (const char *const *c = codes; *c != NULL; c++)
        if (strcmp(*c, err->code) == 0)
            return;
    abort(); /* a code the route does not document */
}

static void expect_canonical_uuid(const char *id)
{
    if (strlen(id) != PA_UUID_STR_LEN - 1 || !pa_uuid_valid(id))
        abort();
    for (const char *p = id; *p != '\0'; p++)
        if (isupper((unsigned char)*p))
            abort();
}

static void check_submit(const json_t *body)
{
    static const char *const codes[] = {"unsupported_exchange", "invalid_ttl", "invalid_not_after",
                                        NULL};
    pa_envelope env;
    const char *why = NULL;
    if (pa_envelope_parse(body, &env, &why) != 0)
        return; /* 400 invalid_envelope; fuzz_envelope checks the parser */
    static const int64_t caps[] = {MAX_TTL_SMALL, MAX_TTL_DEFAULT};
    int accepted_before = 0;
    for (size_t i = 0; i < 2; i++) {
        pa_http_error err = {0};
        int64_t expires = 0;
        if (pa_validate_submit_policy(env.metadata, NOW_MS, caps[i], &expires, &err) != 0) {
            expect_refusal(&err, codes);
            if (accepted_before)
                abort(); /* a larger cap refused what a smaller one accepted */
            continue;
        }
        accepted_before = 1;
        if (expires <= NOW_MS || expires > NOW_MS + caps[i] * 1000)
            abort();
        if (strcmp(json_string_value(json_object_get(env.metadata, "exchange")), "binance") != 0)
            abort();
        char *aad = pa_jcs_dumps(env.metadata); /* what submit_key stores */
        if (aad == NULL)
            abort();
        free(aad);
    }
    pa_envelope_free(&env);
}

static void check_aggregates(const json_t *body)
{
    static const char *const codes[] = {"invalid_request",  "invalid_session_id", "invalid_window",
                                        "window_too_large", "invalid_challenge",  NULL};
    pa_aggregates_request req;
    pa_http_error err = {0};
    if (pa_validate_aggregates(body, NOW_MS, &req, &err) != 0) {
        expect_refusal(&err, codes);
        return;
    }
    expect_canonical_uuid(req.session_id);
    if (req.from_ms >= req.to_ms || req.to_ms - req.from_ms > PA_IPC_WINDOW_MAX_MS ||
        req.to_ms > NOW_MS + PA_IPC_FUTURE_SLACK_MS)
        abort();
    if (req.challenge != NULL) {
        long n = pa_text_display_length(req.challenge, strlen(req.challenge));
        if (n < 0 || n > PA_IPC_CHALLENGE_MAX)
            abort();
    }
}

static void check_revoke(const json_t *body)
{
    static const char *const codes[] = {"invalid_request", "invalid_session_id", NULL};
    char id[PA_UUID_STR_LEN];
    pa_http_error err = {0};
    if (pa_validate_revoke(body, id, &err) != 0)
        expect_refusal(&err, codes);
    else
        expect_canonical_uuid(id);
}

static void check_known_fields(const json_t *body)
{
    static const char *const allowed[] = {"session_id", "from", "to", "challenge", NULL};
    int all_known = 1;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        (void)v;
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL; a++)
            ok |= strcmp(*a, key) == 0;
        all_known &= ok;
    }
    pa_http_error err = {0};
    int rc = pa_validate_known_fields(body, allowed, &err);
    if ((rc == 0) != all_known)
        abort();
}

static void check_nonce(const char *s)
{
    static const char *const codes[] = {"invalid_nonce", NULL};
    char *out = NULL;
    pa_http_error err = {0};
    if (pa_validate_nonce(s, &out, &err) != 0) {
        if (out != NULL)
            abort();
        expect_refusal(&err, codes);
        return;
    }
    size_t n = strlen(s);
    if (out == NULL || strlen(out) != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (out[i] != (s[i] == ' ' ? '+' : s[i]))
            abort();
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    if (pa_b64_decode(out, n, &raw, &raw_len) != 0 || raw_len < 1 || raw_len > PA_IPC_NONCE_MAX)
        abort();
    char *again = pa_b64_encode(raw, raw_len);
    if (again == NULL || strcmp(again, out) != 0)
        abort();
    free(again);
    free(raw);
    free(out);
}

static void check_result_id(const char *s)
{
    static const char *const codes[] = {"invalid_result_id", NULL};
    char id[PA_UUID_STR_LEN];
    pa_http_error err = {0};
    if (pa_validate_result_id(s, id, &err) != 0) {
        expect_refusal(&err, codes);
        return;
    }
    expect_canonical_uuid(id);
    for (size_t i = 0; i < PA_UUID_STR_LEN - 1; i++)
        if (id[i] != (char)tolower((unsigned char)s[i]))
            abort();
}

static void check_content_length(const char *s)
{
    /* Reference reading: the leading decimal digits, saturated. */
    uint64_t v = 0;
    int over = 0;
    for (const char *p = s; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            over = 1;
        else
            v = v * 10 + (uint64_t)(*p - '0');
    }
    int want = over || v > PA_BODY_MAX;
    if (pa_validate_declares_too_much(s, PA_BODY_MAX) != want)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > PA_BODY_MAX)
        return 0;

    pa_http_error err = {0};
    json_t *body = pa_validate_body((const char *)data, size, &err);
    if (body == NULL) {
        static const char *const codes[] = {"invalid_json", "invalid_request", NULL};
        expect_refusal(&err, codes);
    } else {
        if (!json_is_object(body))
            abort();
        check_submit(body);
        check_aggregates(body);
        check_revoke(body);
        check_known_fields(body);
        json_decref(body);
    }

    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    check_nonce(s);
    check_result_id(s);
    check_content_length(s);
    (void)pa_validate_content_type(s);
    free(s);
    return 0;
}
