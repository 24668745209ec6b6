#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "json_strict.h"
#include "text.h"
#include "timeutil.h"

#define FIELD_QUOTE_MAX 40 /* bytes of a client-chosen field name quoted back */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int pa_validate_content_type(const char *ct)
{
    static const char want[] = "application/json";
    if (ct == NULL)
        return 0;
    const char *p = skip_ws(ct);
    if (strncasecmp(p, want, sizeof want - 1) != 0)
        return 0;
    p = skip_ws(p + sizeof want - 1);
    while (*p == ';') {
        p = skip_ws(p + 1);
        const char *name = p;
        while (*p != '\0' && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t name_len = (size_t)(p - name);
        if (name_len == 0 || *p != '=')
            return 0;
        p++;
        char value[32];
        size_t vlen = 0;
        if (*p == '"') {
            p++;
            while (*p != '\0' && *p != '"') {
                if (vlen + 1 < sizeof value)
                    value[vlen] = *p;
                vlen++;
                p++;
            }
            if (*p != '"')
                return 0;
            p++;
        } else {
            while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t') {
                if (vlen + 1 < sizeof value)
                    value[vlen] = *p;
                vlen++;
                p++;
            }
        }
        if (vlen == 0)
            return 0;
        if (name_len == 7 && strncasecmp(name, "charset", 7) == 0) {
            if (vlen >= sizeof value)
                return 0;
            value[vlen] = '\0';
            if (strcasecmp(value, "utf-8") != 0 && strcasecmp(value, "utf8") != 0)
                return 0;
        }
        p = skip_ws(p);
    }
    return *p == '\0';
}

int pa_validate_declares_too_much(const char *content_length, size_t cap)
{
    if (content_length == NULL)
        return 0;
    const char *p = content_length;
    size_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > cap)
            return 1; /* already over: no need to read (or overflow on) the rest */
        v = v * 10 + (size_t)(*p - '0');
    }
    return v > cap;
}

json_t *pa_validate_body(const char *data, size_t len, pa_http_error *err)
{
    if (len == 0) {
        pa_error_set(err, 400, "invalid_json", "The request body is empty; a JSON object is required.");
        return NULL;
    }
    json_t *v = pa_json_parse(data, len, PA_BODY_MAX);
    if (v == NULL) {
        pa_error_set(err, 400, "invalid_json",
                     "The request body is not valid JSON (duplicate keys are not allowed).");
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        pa_error_set(err, 400, "invalid_request", "The request body must be a JSON object.");
        return NULL;
    }
    return v;
}

int pa_validate_known_fields(const json_t *obj, const char *const *allowed, pa_http_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        (void)v;
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok) {
            char quoted[FIELD_QUOTE_MAX * 2];
            snprintf(quoted, sizeof quoted, "%s", key);
            pa_truncate_utf8(quoted, FIELD_QUOTE_MAX);
            pa_error_set(err, 400, "invalid_request", "Unknown field \"%s\".", quoted);
            return -1;
        }
    }
    return 0;
}

int pa_validate_submit_policy(const json_t *metadata, int64_t now_ms, int64_t max_ttl_s,
                              int64_t *expires_at_ms, pa_http_error *err)
{
    const char *exchange = pa_json_str(metadata, "exchange");
    if (exchange == NULL || strcmp(exchange, "binance") != 0) {
        pa_error_set(err, 400, "unsupported_exchange",
                     "metadata.exchange must be \"binance\", the only supported exchange.");
        return -1;
    }
    /* Without a ttl the default applies, but never beyond the operator's cap. */
    int64_t ttl_s = PA_TTL_DEFAULT_S < max_ttl_s ? PA_TTL_DEFAULT_S : max_ttl_s;
    const json_t *ttl = json_object_get(metadata, "ttl");
    if (ttl != NULL) {
        if (!json_is_integer(ttl) || json_integer_value(ttl) < PA_TTL_MIN_S ||
            json_integer_value(ttl) > max_ttl_s) {
            pa_error_set(err, 400, "invalid_ttl",
                         "metadata.ttl must be a whole number of seconds from %d to %lld.",
                         PA_TTL_MIN_S, (long long)max_ttl_s);
            return -1;
        }
        ttl_s = json_integer_value(ttl);
    }
    int64_t expires = now_ms + ttl_s * 1000;
    const json_t *na = json_object_get(metadata, "not_after");
    if (na != NULL) {
        int64_t not_after_ms;
        if (!json_is_string(na) || pa_time_parse(json_string_value(na), &not_after_ms) != 0) {
            pa_error_set(err, 400, "invalid_not_after",
                         "metadata.not_after must be an RFC 3339 date-time.");
            return -1;
        }
        if (not_after_ms <= now_ms) {
            pa_error_set(err, 400, "invalid_not_after", "metadata.not_after is not in the future.");
            return -1;
        }
        if (not_after_ms < expires)
            expires = not_after_ms;
    }
    *expires_at_ms = expires;
    return 0;
}

int pa_validate_session_id(const json_t *body, char out[PA_UUID_STR_LEN], pa_http_error *err)
{
    const json_t *v = json_object_get(body, "session_id");
    if (v == NULL) {
        pa_error_set(err, 400, "invalid_request", "Field \"session_id\" is required.");
        return -1;
    }
    if (!json_is_string(v)) {
        pa_error_set(err, 400, "invalid_request", "Field \"session_id\" must be a string.");
        return -1;
    }
    const char *s = json_string_value(v);
    if (!pa_uuid_valid(s)) {
        pa_error_set(err, 400, "invalid_session_id", "session_id is not a valid session id.");
        return -1;
    }
    for (size_t i = 0; i < PA_UUID_STR_LEN - 1; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[PA_UUID_STR_LEN - 1] = '\0';
    return 0;
}

/* An optional RFC 3339 field: absent or null leaves *ms untouched. */
static int optional_time(const json_t *body, const char *name, int64_t *ms, int *present,
                         pa_http_error *err)
{
    const json_t *v = json_object_get(body, name);
    *present = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        pa_error_set(err, 400, "invalid_request", "Field \"%s\" must be an RFC 3339 string.", name);
        return -1;
    }
    if (pa_time_parse(json_string_value(v), ms) != 0) {
        pa_error_set(err, 400, "invalid_window", "Field \"%s\" is not an RFC 3339 date-time.", name);
        return -1;
    }
    *present = 1;
    return 0;
}

int pa_validate_aggregates(const json_t *body, int64_t now_ms, pa_aggregates_request *out,
                           pa_http_error *err)
{
    static const char *const allowed[] = {"session_id", "from", "to", "challenge", NULL};
    memset(out, 0, sizeof *out);
    PA_GUARD(pa_validate_known_fields(body, allowed, err));
    PA_GUARD(pa_validate_session_id(body, out->session_id, err));

    int has_from, has_to;
    int64_t from = 0, to = now_ms;
    PA_GUARD(optional_time(body, "from", &from, &has_from, err));
    PA_GUARD(optional_time(body, "to", &to, &has_to, err));
    if (!has_from)
        from = to - PA_WINDOW_DEFAULT_MS;
    if (to > now_ms + PA_IPC_FUTURE_SLACK_MS) {
        pa_error_set(err, 400, "invalid_window", "\"to\" is in the future.");
        return -1;
    }
    if (from >= to) {
        pa_error_set(err, 400, "invalid_window", "\"from\" must be before \"to\".");
        return -1;
    }
    if (to - from > PA_IPC_WINDOW_MAX_MS) {
        pa_error_set(err, 400, "window_too_large", "The window may span at most 366 days.");
        return -1;
    }
    out->from_ms = from;
    out->to_ms = to;

    const json_t *ch = json_object_get(body, "challenge");
    if (ch != NULL && !json_is_null(ch)) {
        /* Signed into the payload and printed by verifiers: no NUL, control
         * or bidi characters (src/common/text.h), at most 128 code points. */
        long n = json_is_string(ch) ? pa_text_display_length(json_string_value(ch),
                                                             json_string_length(ch))
                                    : -1;
        if (n < 0 || n > PA_IPC_CHALLENGE_MAX) {
            pa_error_set(err, 400, "invalid_challenge",
                         "challenge must be a string of at most %d characters, without control "
                         "or bidirectional-override characters.",
                         PA_IPC_CHALLENGE_MAX);
            return -1;
        }
        out->challenge = json_string_value(ch);
    }
    return 0;
}

int pa_validate_revoke(const json_t *body, char session_id[PA_UUID_STR_LEN], pa_http_error *err)
{
    static const char *const allowed[] = {"session_id", NULL};
    PA_GUARD(pa_validate_known_fields(body, allowed, err));
    return pa_validate_session_id(body, session_id, err);
}

int pa_validate_result_id(const char *segment, char out[PA_UUID_STR_LEN], pa_http_error *err)
{
    if (!pa_uuid_valid(segment)) {
        pa_error_set(err, 400, "invalid_result_id", "The result id is not a valid UUID v4.");
        return -1;
    }
    for (size_t i = 0; i < PA_UUID_STR_LEN - 1; i++)
        out[i] = (char)tolower((unsigned char)segment[i]);
    out[PA_UUID_STR_LEN - 1] = '\0';
    return 0;
}

int pa_validate_nonce(const char *value, char **out, pa_http_error *err)
{
    *out = NULL;
    if (value == NULL)
        return 0;
    size_t len = strlen(value);
    /* the longest base64 of PA_IPC_NONCE_MAX bytes */
    if (len == 0 || len > (size_t)4 * ((PA_IPC_NONCE_MAX + 2) / 3)) {
        pa_error_set(err, 400, "invalid_nonce", "nonce must be base64 of 1 to %d bytes.",
                     PA_IPC_NONCE_MAX);
        return -1;
    }
    char *s = strdup(value);
    if (s == NULL) {
        pa_error_set(err, 500, "internal_error", "Out of memory.");
        return -1;
    }
    for (char *p = s; *p != '\0'; p++)
        if (*p == ' ')
            *p = '+';
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    if (pa_b64_decode(s, len, &raw, &raw_len) != 0 || raw_len == 0 || raw_len > PA_IPC_NONCE_MAX) {
        free(raw);
        free(s);
        pa_error_set(err, 400, "invalid_nonce", "nonce must be base64 of 1 to %d bytes.",
                     PA_IPC_NONCE_MAX);
        return -1;
    }
    free(raw);
    *out = s;
    return 0;
}
