/* libFuzzer driver for pa_credentials_parse: the enclave's parser of the
 * decrypted plaintext (reachable by anyone who seals an envelope to the
 * enclave's public key). Beyond "no crash":
 *  - accepted credentials obey the documented limits (exchange equal to the
 *    metadata's, secrets of 1..PA_SECRET_MAX bytes, account type spot or
 *    usdm, 1..PA_SYMBOLS_MAX distinct [A-Z0-9]{2,20} symbols);
 *  - the same plaintext is refused under any other metadata exchange;
 *  - a refusal leaves nothing allocated, and pa_credentials_free is safe to
 *    call twice (the enclave's cleanup paths rely on it). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "credentials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_empty(const pa_credentials *c)
{
    return c->exchange == NULL && c->api_key == NULL && c->api_secret == NULL &&
           c->passphrase == NULL && c->account_type == NULL && c->symbols == NULL &&
           c->nsymbols == 0 && c->sandbox == 0;
}

static int secret_len_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n >= 1 && n <= PA_SECRET_MAX;
}

static int symbol_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < PA_SYMBOL_MIN_LEN || n > PA_SYMBOL_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

static void check_accepted(const pa_credentials *c, const char *exchange)
{
    if (c->exchange == NULL || strcmp(c->exchange, exchange) != 0 || !secret_len_ok(c->api_key) ||
        !secret_len_ok(c->api_secret) || (c->passphrase != NULL && !secret_len_ok(c->passphrase)))
        abort();
    if (c->account_type == NULL ||
        (strcmp(c->account_type, "spot") != 0 && strcmp(c->account_type, "usdm") != 0))
        abort();
    if ((c->symbols == NULL) != (c->nsymbols == 0) || c->nsymbols > PA_SYMBOLS_MAX)
        abort();
    for (size_t i = 0; i < c->nsymbols; i++) {
        if (c->symbols[i] == NULL || !symbol_ok(c->symbols[i]))
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->symbols[i], c->symbols[j]) == 0)
                abort();
    }
    if (c->sandbox != 0 && c->sandbox != 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > PA_CIPHERTEXT_MAX)
        return 0; /* the plaintext is never longer than the ciphertext */
    pa_buf plain;
    pa_buf_init(&plain, PA_CIPHERTEXT_MAX);
    if (pa_buf_append(&plain, data, size) != 0)
        abort();
    static const char *const exchanges[] = {"binance", "okx"};
    for (size_t k = 0; k < 2; k++) {
        pa_credentials c;
        memset(&c, 0xa5, sizeof c); /* the parser must initialise out itself */
        if (pa_credentials_parse(&plain, exchanges[k], &c) == 0) {
            check_accepted(&c, exchanges[k]);
            /* under another exchange, the same plaintext is refused */
            pa_credentials other;
            if (pa_credentials_parse(&plain, exchanges[1 - k], &other) == 0)
                abort();
            if (!is_empty(&other))
                abort();
        } else if (!is_empty(&c)) {
            abort();
        }
        pa_credentials_free(&c);
        if (!is_empty(&c))
            abort();
        pa_credentials_free(&c); /* twice is safe */
    }
    pa_buf_free(&plain);
    return 0;
}
