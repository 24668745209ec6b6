/* Sealing credentials to an attested enclave key.
 *
 * The plaintext JSON is written by hand into a wiped pa_buf: building it as a
 * jansson value would copy apiKey and apiSecret into strings that jansson
 * frees without wiping. Only the non-secret parts (exchange, symbols) go
 * through jansson and JCS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "envelope.h"
#include "jcs.h"

#define PA_SYMBOL_MAX 32
#define PA_SYMBOLS_MAX 200

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0.
 * Rejects overlong forms, surrogates and code points above U+10FFFF, which
 * the enclave's JSON parser would refuse (as decryption_failed). */
static size_t utf8_sequence(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Control characters are refused rather than escaped: in a key or secret
 * they are a copy-paste accident. */
static int secret_text_ok(const pa_buf *v)
{
    for (size_t i = 0; i < v->len;) {
        uint8_t c = v->data[i];
        size_t n = utf8_sequence(v->data + i, v->len - i);
        if (c < 0x20 || c == 0x7F || n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* Appends a JSON string of text that passed secret_text_ok: only '"' and
 * '\\' need escaping. */
static int append_secret_string(pa_buf *out, const pa_buf *v)
{
    PA_GUARD(pa_buf_append(out, "\"", 1));
    for (size_t i = 0; i < v->len; i++) {
        uint8_t c = v->data[i];
        if (c == '"' || c == '\\')
            PA_GUARD(pa_buf_append(out, "\\", 1));
        PA_GUARD(pa_buf_append(out, &c, 1));
    }
    return pa_buf_append(out, "\"", 1);
}

static int symbol_ok(const char *s, size_t n)
{
    if (n == 0 || n > PA_SYMBOL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* "BTCUSDT,ETHUSDT" -> ["BTCUSDT","ETHUSDT"]. */
static json_t *parse_symbols(const char *list, pa_client_error *err)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (!symbol_ok(p, n) || json_array_size(arr) >= PA_SYMBOLS_MAX) {
            pa_client_set_error(err, 0, "invalid_input",
                                "--symbols must be a comma-separated list of upper-case "
                                "exchange symbols such as BTCUSDT (at most %d)",
                                PA_SYMBOLS_MAX);
            json_decref(arr);
            return NULL;
        }
        if (json_array_append_new(arr, json_stringn(p, n)) != 0) {
            json_decref(arr);
            return NULL;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return arr;
}

static json_t *build_metadata(const pa_client_submission *in, pa_client_error *err)
{
    json_t *m = json_object();
    if (m == NULL)
        return NULL;
    int ok = json_object_set_new(m, "exchange", json_string(in->exchange)) == 0 &&
             json_object_set_new(m, "label", json_string(in->label)) == 0;
    if (ok && in->ttl != 0)
        ok = json_object_set_new(m, "ttl", json_integer(in->ttl)) == 0;
    if (ok && in->not_after != NULL)
        ok = json_object_set_new(m, "not_after", json_string(in->not_after)) == 0;
    const char *why = NULL;
    if (!ok) {
        /* json_string refuses invalid UTF-8. */
        pa_client_set_error(err, 0, "invalid_input", "exchange and label must be UTF-8 text");
        json_decref(m);
        return NULL;
    }
    if (pa_envelope_check_metadata(m, &why) != 0) {
        pa_client_set_error(err, 0, "invalid_input", "metadata: %s",
                            why ? why : "not accepted");
        json_decref(m);
        return NULL;
    }
    return m;
}

/* {"exchange":..,"apiKey":..,"apiSecret":..[,"passphrase":..][,"symbols":[..]]}
 * The only way this fails is running past the envelope's size limit. */
static int build_plaintext(const pa_client_submission *in, const json_t *symbols, pa_buf *pt)
{
    json_t *exchange = json_string(in->exchange);
    int ok = exchange != NULL && pa_buf_append_str(pt, "{\"exchange\":") == 0 &&
             pa_jcs_append(exchange, pt) == 0;
    json_decref(exchange);
    PA_ENSURE(ok);
    PA_GUARD(pa_buf_append_str(pt, ",\"apiKey\":"));
    PA_GUARD(append_secret_string(pt, in->api_key));
    PA_GUARD(pa_buf_append_str(pt, ",\"apiSecret\":"));
    PA_GUARD(append_secret_string(pt, in->api_secret));
    if (in->passphrase != NULL && in->passphrase->len > 0) {
        PA_GUARD(pa_buf_append_str(pt, ",\"passphrase\":"));
        PA_GUARD(append_secret_string(pt, in->passphrase));
    }
    if (symbols != NULL) {
        PA_GUARD(pa_buf_append_str(pt, ",\"symbols\":"));
        PA_GUARD(pa_jcs_append(symbols, pt));
    }
    return pa_buf_append(pt, "}", 1);
}

int pa_client_seal(const uint8_t enclave_pub[32], const pa_client_submission *in,
                   char **body_out, pa_client_error *err)
{
    int rc = -1;
    json_t *metadata = NULL, *symbols = NULL, *body = NULL;
    pa_envelope env;
    pa_buf pt;
    memset(&env, 0, sizeof env);
    pa_buf_init(&pt, PA_CIPHERTEXT_MAX);

    if (enclave_pub == NULL || in == NULL || body_out == NULL || in->exchange == NULL ||
        in->label == NULL || in->api_key == NULL || in->api_secret == NULL ||
        in->api_key->len == 0 || in->api_secret->len == 0) {
        pa_client_set_error(err, 0, "invalid_input",
                            "exchange, label, API key and API secret are required");
        goto cleanup;
    }
    *body_out = NULL;
    metadata = build_metadata(in, err);
    if (metadata == NULL)
        goto cleanup;
    if (in->symbols != NULL && (symbols = parse_symbols(in->symbols, err)) == NULL)
        goto cleanup;
    if (!secret_text_ok(in->api_key) || !secret_text_ok(in->api_secret) ||
        (in->passphrase != NULL && !secret_text_ok(in->passphrase))) {
        pa_client_set_error(err, 0, "invalid_input",
                            "the credentials must be UTF-8 text without control characters");
        goto cleanup;
    }
    if (build_plaintext(in, symbols, &pt) != 0) {
        pa_client_set_error(err, 0, "invalid_input", "the credentials exceed %d bytes",
                            PA_CIPHERTEXT_MAX);
        goto cleanup;
    }

    int sealed = pa_envelope_seal(enclave_pub, metadata, pt.data, pt.len, &env);
    /* The plaintext is not needed past this line. */
    pa_buf_free(&pt);
    if (sealed != 0) {
        pa_client_set_error(err, 0, "seal_failed", "cannot seal the credentials");
        goto cleanup;
    }
    body = pa_envelope_to_json(&env);
    *body_out = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (*body_out == NULL) {
        pa_client_set_error(err, 0, "internal_error", "cannot serialise the envelope");
        goto cleanup;
    }
    rc = 0;

cleanup:
    pa_buf_free(&pt);
    json_decref(metadata);
    json_decref(symbols);
    json_decref(body);
    pa_envelope_free(&env);
    return rc;
}
