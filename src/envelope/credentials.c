/* The decrypted credentials (enclave only): plaintext JSON -> pa_credentials.
 * Every string copied out of the plaintext is a secret or sits next to one,
 * so all of them are wiped on free. */
#include "credentials.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"
#include "json_strict.h"

/* In OpenSSL's secure heap when the process set one up (the enclave does:
 * mlocked, excluded from core dumps, wiped on free); plain heap otherwise. */
static char *dup_secret(const json_t *v)
{
    size_t len = json_string_length(v);
    char *s = OPENSSL_secure_malloc(len + 1);
    if (s != NULL) {
        memcpy(s, json_string_value(v), len);
        s[len] = 0;
    }
    return s;
}

static char *dup_str(const char *s)
{
    size_t len = strlen(s);
    char *d = OPENSSL_secure_malloc(len + 1);
    if (d != NULL)
        memcpy(d, s, len + 1);
    return d;
}

static void free_secret(char *s)
{
    if (s != NULL)
        OPENSSL_secure_clear_free(s, strlen(s) + 1);
}

/* A string of 1..PA_SECRET_MAX bytes (no NUL inside: jansson's parser refuses
 * \u0000 unless asked, and strlen-based wiping relies on it). */
static int secret_ok(const json_t *v)
{
    if (!json_is_string(v))
        return 0;
    size_t len = json_string_length(v);
    return len >= 1 && len <= PA_SECRET_MAX && strlen(json_string_value(v)) == len;
}

/* Exchange symbols as the exchanges spell them (pa_symbol_ok). */
static int symbol_ok(const json_t *v)
{
    return json_is_string(v) && pa_symbol_ok(json_string_value(v), json_string_length(v));
}

/* 1..100 valid symbols, no repeats: a repeated symbol would make the enclave
 * fetch and count the same trades twice. */
static int symbols_ok(const json_t *arr)
{
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n < 1 || n > PA_SYMBOLS_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        if (!symbol_ok(v))
            return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(arr, j)), json_string_value(v)) == 0)
                return 0;
    }
    return 1;
}

static int parse(const pa_buf *plaintext, const char *metadata_exchange, pa_credentials *out,
                 int enclave_key)
{
    static const char *const keys[] = {"exchange",    "apiKey",      "apiSecret",
                                       "passphrase",  "accountType", "symbols",
                                       "sandbox",     "accountSalt", "discloseUid",
                                       NULL};
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (plaintext == NULL || plaintext->data == NULL || plaintext->len == 0 ||
        metadata_exchange == NULL)
        return -1;

    int rc = -1;
    json_t *root = pa_json_parse((const char *)plaintext->data, plaintext->len, PA_CIPHERTEXT_MAX);
    PA_ENSURE_GOTO(json_is_object(root) && pa_json_only_keys(root, keys), cleanup);

    const json_t *exchange = json_object_get(root, "exchange");
    const json_t *api_key = json_object_get(root, "apiKey");
    const json_t *api_secret = json_object_get(root, "apiSecret");
    const json_t *passphrase = json_object_get(root, "passphrase");
    const json_t *account_type = json_object_get(root, "accountType");
    const json_t *symbols = json_object_get(root, "symbols");
    const json_t *sandbox = json_object_get(root, "sandbox");

    PA_ENSURE_GOTO(secret_ok(exchange) && secret_ok(api_key), cleanup);
    /* An enclave-made key's secret never left the enclave: the plaintext
     * cannot carry it, and any other must. */
    PA_ENSURE_GOTO(enclave_key ? api_secret == NULL : secret_ok(api_secret), cleanup);
    /* The exchange name is not secret, so an ordinary comparison is fine. It
     * must match the authenticated metadata: the host routes and the trader
     * sees results by metadata.exchange, and keys for one exchange must never
     * be sent to another. */
    PA_ENSURE_GOTO(strcmp(json_string_value(exchange), metadata_exchange) == 0, cleanup);
    PA_ENSURE_GOTO(passphrase == NULL || secret_ok(passphrase), cleanup);
    const char *account = "spot";
    if (account_type != NULL) {
        account = json_string_value(account_type);
        PA_ENSURE_GOTO(account != NULL && json_string_length(account_type) == strlen(account) &&
                           (strcmp(account, "spot") == 0 || strcmp(account, "usdm") == 0),
                       cleanup);
    }
    PA_ENSURE_GOTO(symbols == NULL || symbols_ok(symbols), cleanup);
    PA_ENSURE_GOTO(sandbox == NULL || json_is_boolean(sandbox), cleanup);
    const json_t *salt = json_object_get(root, "accountSalt");
    const json_t *disclose = json_object_get(root, "discloseUid");
    PA_ENSURE_GOTO(disclose == NULL || json_is_boolean(disclose), cleanup);
    if (salt != NULL) {
        /* exactly 32 bytes of standard base64: a short salt could be guessed */
        PA_ENSURE_GOTO(json_is_string(salt) &&
                           pa_b64_decode_exact(json_string_value(salt), out->account_salt,
                                               sizeof out->account_salt) == 0,
                       cleanup);
        out->has_account_salt = 1;
    }
    out->disclose_uid = json_is_true(disclose);

    PA_ENSURE_GOTO((out->exchange = dup_secret(exchange)) != NULL, cleanup);
    PA_ENSURE_GOTO((out->api_key = dup_secret(api_key)) != NULL, cleanup);
    if (!enclave_key)
        PA_ENSURE_GOTO((out->api_secret = dup_secret(api_secret)) != NULL, cleanup);
    if (passphrase != NULL)
        PA_ENSURE_GOTO((out->passphrase = dup_secret(passphrase)) != NULL, cleanup);
    PA_ENSURE_GOTO((out->account_type = dup_str(account)) != NULL, cleanup);
    if (symbols != NULL) {
        size_t n = json_array_size(symbols);
        out->symbols = calloc(n, sizeof *out->symbols);
        PA_ENSURE_GOTO(out->symbols != NULL, cleanup);
        for (size_t i = 0; i < n; i++) {
            out->symbols[i] = dup_secret(json_array_get(symbols, i));
            PA_ENSURE_GOTO(out->symbols[i] != NULL, cleanup);
            out->nsymbols = i + 1;
        }
    }
    out->sandbox = json_is_true(sandbox);
    rc = 0;
cleanup:
    /* Released at once: jansson's copies of the plaintext are wiped by the
     * enclave's json_set_alloc_funcs allocators when freed. */
    json_decref(root);
    if (rc != 0)
        pa_credentials_free(out);
    return rc;
}

int pa_credentials_parse(const pa_buf *plaintext, const char *metadata_exchange,
                         pa_credentials *out)
{
    return parse(plaintext, metadata_exchange, out, 0);
}

int pa_credentials_parse_enclave_key(const pa_buf *plaintext, const char *metadata_exchange,
                                     pa_credentials *out)
{
    return parse(plaintext, metadata_exchange, out, 1);
}

void pa_credentials_free(pa_credentials *c)
{
    if (c == NULL)
        return;
    free_secret(c->exchange);
    free_secret(c->api_key);
    free_secret(c->api_secret);
    free_secret(c->passphrase);
    free_secret(c->account_type);
    if (c->symbols != NULL) {
        for (size_t i = 0; i < c->nsymbols; i++)
            free_secret(c->symbols[i]);
        free(c->symbols);
    }
    OPENSSL_cleanse(c->account_salt, sizeof c->account_salt);
    memset(c, 0, sizeof *c);
}
