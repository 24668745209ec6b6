/* Sealing credentials to an attested enclave key.
 *
 * The plaintext JSON is written by hand into a wiped pa_buf: building it as a
 * jansson value would copy apiKey and apiSecret into strings that jansson
 * frees without wiping. Only the non-secret parts (exchange, symbols) go
 * through jansson and JCS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client_internal.h"
#include "codec.h"
#include "envelope_seal.h"
#include "jcs.h"
#include "timeutil.h"

/* Control characters are refused rather than escaped: in a key or secret
 * they are a copy-paste accident. Invalid UTF-8 would make the enclave's JSON
 * parser refuse the whole plaintext. */
static int secret_text_ok(const pa_buf *v)
{
    /* An Ed25519 API key's private key is a PEM text: its line breaks stay. */
    int pem = v->len > 11 && memcmp(v->data, "-----BEGIN ", 11) == 0;
    for (size_t i = 0; i < v->len;) {
        uint32_t cp = 0;
        size_t n = pa_client_utf8_decode(v->data + i, v->len - i, &cp);
        if (n == 0 || (cp < 0x20 && !(pem && cp == '\n')) || cp == 0x7F)
            return 0;
        i += n;
    }
    return 1;
}

/* The enclave's rule for apiKey, apiSecret and passphrase (pa_credentials_
 * parse): 1..PA_SECRET_MAX bytes of text. */
static int check_secret(const pa_buf *v, const char *field, pa_client_error *err)
{
    if (v->len == 0) {
        pa_client_set_error(err, 0, "invalid_input", "%s is empty", field);
        return -1;
    }
    if (v->len > PA_SECRET_MAX) {
        pa_client_set_error(err, 0, "invalid_input",
                            "%s is %zu bytes; the enclave accepts at most %d", field, v->len,
                            PA_SECRET_MAX);
        return -1;
    }
    if (!secret_text_ok(v)) {
        pa_client_set_error(err, 0, "invalid_input",
                            "%s must be UTF-8 text without control characters", field);
        return -1;
    }
    return 0;
}

/* Appends a JSON string of text that passed secret_text_ok: only '"',
 * '\\' and a PEM's line feeds need escaping. */
static int append_secret_string(pa_buf *out, const pa_buf *v)
{
    PA_GUARD(pa_buf_append(out, "\"", 1));
    for (size_t i = 0; i < v->len; i++) {
        uint8_t c = v->data[i];
        if (c == '\n') {
            PA_GUARD(pa_buf_append(out, "\\n", 2));
            continue;
        }
        if (c == '"' || c == '\\')
            PA_GUARD(pa_buf_append(out, "\\", 1));
        PA_GUARD(pa_buf_append(out, &c, 1));
    }
    return pa_buf_append(out, "\"", 1);
}

/* "BTCUSDT,ETHUSDT" -> ["BTCUSDT","ETHUSDT"], refusing exactly what the
 * enclave refuses: a bad symbol, more than PA_SYMBOLS_MAX, a repeat (which
 * would count the same trades twice). The enclave can only answer
 * decryption_failed, so the reason is given here, before sealing. */
static json_t *parse_symbols(const char *list, pa_client_error *err)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (!pa_symbol_ok(p, n)) {
            pa_client_set_error(err, 0, "invalid_input",
                                "--symbols: '%.*s' is not a symbol: each must be %d..%d "
                                "characters A-Z or 0-9, such as BTCUSDT, separated by commas",
                                (int)(n > 40 ? 40 : n), p, PA_SYMBOL_MIN_LEN, PA_SYMBOL_MAX_LEN);
            goto fail;
        }
        if (json_array_size(arr) >= PA_SYMBOLS_MAX) {
            pa_client_set_error(err, 0, "invalid_input",
                                "--symbols: more than %d symbols; the enclave accepts at most %d",
                                PA_SYMBOLS_MAX, PA_SYMBOLS_MAX);
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const json_t *seen = json_array_get(arr, i);
            if (json_string_length(seen) == n && memcmp(json_string_value(seen), p, n) == 0) {
                pa_client_set_error(err, 0, "invalid_input", "--symbols: %.*s is listed twice",
                                    (int)n, p);
                goto fail;
            }
        }
        if (json_array_append_new(arr, json_stringn(p, n)) != 0)
            goto fail;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}

int pa_client_resolve_not_after(int64_t now_ms, int64_t ttl, const char *given,
                                char out[PA_CLIENT_NOT_AFTER_MAX], pa_client_error *err)
{
    if (out == NULL || ttl < 0 || ttl > INT32_MAX) {
        pa_client_set_error(err, 0, "invalid_input", "ttl must be 0..%d seconds", INT32_MAX);
        return -1;
    }
    out[0] = '\0';
    if (given == NULL) {
        /* The host enforces the TTL; not_after makes the enclave enforce it
         * too, by its own clock, against a host that keeps the envelope.
         * The server's expires_at is min(now + ttl, not_after), so this
         * shortens nothing. */
        int64_t secs = ttl != 0 ? ttl : PA_CLIENT_DEFAULT_TTL;
        pa_time_format(now_ms + secs * 1000, out);
        return 0;
    }
    int64_t t = 0;
    if (strlen(given) >= PA_CLIENT_NOT_AFTER_MAX || pa_time_parse(given, &t) != 0) {
        pa_client_set_error(err, 0, "invalid_input",
                            "not_after must be an RFC 3339 date-time such as "
                            "2030-01-01T00:00:00Z");
        return -1;
    }
    if (t <= now_ms) {
        pa_client_set_error(err, 0, "invalid_input",
                            "not_after %s is not in the future: the enclave would refuse the "
                            "envelope at once",
                            given);
        return -1;
    }
    /* Verbatim: the metadata is the trader's statement, and the AAD. */
    snprintf(out, PA_CLIENT_NOT_AFTER_MAX, "%s", given);
    return 0;
}

static json_t *build_metadata(const pa_client_submission *in, const char *not_after,
                              pa_client_error *err)
{
    json_t *m = json_object();
    if (m == NULL)
        return NULL;
    int ok = json_object_set_new(m, "exchange", json_string(in->exchange)) == 0 &&
             json_object_set_new(m, "label", json_string(in->label)) == 0 &&
             json_object_set_new(m, "not_after", json_string(not_after)) == 0;
    if (ok && in->ttl != 0)
        ok = json_object_set_new(m, "ttl", json_integer(in->ttl)) == 0;
    if (ok && in->enclave_key_id != NULL)
        ok = json_object_set_new(m, "enclave_key_id", json_string(in->enclave_key_id)) == 0;
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

/* {"exchange":..,"apiKey":..,"apiSecret":..[,"passphrase":..][,"symbols":[..]]
 *  [,"accountSalt":..][,"discloseUid":true]}
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
    if (in->enclave_key_id == NULL) { /* an enclave-made key's secret is the enclave's */
        PA_GUARD(pa_buf_append_str(pt, ",\"apiSecret\":"));
        PA_GUARD(append_secret_string(pt, in->api_secret));
    }
    if (in->passphrase != NULL && in->passphrase->len > 0) {
        PA_GUARD(pa_buf_append_str(pt, ",\"passphrase\":"));
        PA_GUARD(append_secret_string(pt, in->passphrase));
    }
    if (in->account_type != NULL) { /* checked by pa_client_seal: no escaping needed */
        PA_GUARD(pa_buf_append_str(pt, ",\"accountType\":\""));
        PA_GUARD(pa_buf_append_str(pt, in->account_type));
        PA_GUARD(pa_buf_append_str(pt, "\""));
    }
    if (symbols != NULL) {
        PA_GUARD(pa_buf_append_str(pt, ",\"symbols\":"));
        PA_GUARD(pa_jcs_append(symbols, pt));
    }
    if (in->account_salt != NULL) {
        char *salt = pa_b64_encode(in->account_salt, PA_CLIENT_ACCOUNT_SALT_LEN);
        PA_ENSURE(salt != NULL);
        int bad = pa_buf_printf(pt, ",\"accountSalt\":\"%s\"", salt);
        OPENSSL_cleanse(salt, strlen(salt));
        free(salt);
        PA_GUARD(bad);
    }
    if (in->disclose_uid)
        PA_GUARD(pa_buf_append_str(pt, ",\"discloseUid\":true"));
    return pa_buf_append(pt, "}", 1);
}

int pa_client_seal(const uint8_t enclave_pub[32], const pa_client_submission *in,
                   char **body_out, pa_client_error *err)
{
    int rc = -1;
    json_t *metadata = NULL, *symbols = NULL, *body = NULL;
    char not_after[PA_CLIENT_NOT_AFTER_MAX];
    pa_envelope env;
    pa_buf pt;
    memset(&env, 0, sizeof env);
    pa_buf_init(&pt, PA_CIPHERTEXT_MAX);

    if (enclave_pub == NULL || in == NULL || body_out == NULL || in->exchange == NULL ||
        in->label == NULL || in->api_key == NULL ||
        (in->api_secret == NULL) == (in->enclave_key_id == NULL)) {
        pa_client_set_error(err, 0, "invalid_input",
                            "exchange, label, API key and either an API secret or an "
                            "enclave-made key are required");
        goto cleanup;
    }
    *body_out = NULL;
    PA_GUARD_GOTO(pa_client_resolve_not_after(pa_now_ms(), in->ttl, in->not_after, not_after, err),
                  cleanup);
    metadata = build_metadata(in, not_after, err);
    if (metadata == NULL)
        goto cleanup;
    if (in->symbols != NULL && (symbols = parse_symbols(in->symbols, err)) == NULL)
        goto cleanup;
    if (in->account_type != NULL && strcmp(in->account_type, "spot") != 0 &&
        strcmp(in->account_type, "usdm") != 0) {
        pa_client_set_error(err, 0, "invalid_input", "--account-type must be spot or usdm");
        goto cleanup;
    }
    /* Everything pa_credentials_parse would refuse is refused here, with a
     * reason: the enclave can only say decryption_failed. */
    PA_GUARD_GOTO(check_secret(in->api_key, "apiKey", err), cleanup);
    if (in->enclave_key_id != NULL && !pa_uuid_valid(in->enclave_key_id)) {
        pa_client_set_error(err, 0, "invalid_input",
                            "the enclave key id must be the key_id perfagg keygen printed");
        goto cleanup;
    }
    if (in->api_secret != NULL)
        PA_GUARD_GOTO(check_secret(in->api_secret, "apiSecret", err), cleanup);
    if (in->passphrase != NULL && in->passphrase->len > 0)
        PA_GUARD_GOTO(check_secret(in->passphrase, "passphrase", err), cleanup);
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
