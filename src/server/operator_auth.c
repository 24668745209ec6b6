#include "operator_auth.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "codec.h"

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

int pa_opauth_token_parse(const char *token, size_t len, pa_opauth *out)
{
    const size_t plen = sizeof PA_OPTOKEN_PREFIX - 1;
    memset(out, 0, sizeof *out);
    out->state = PA_OPAUTH_MALFORMED;
    PA_ENSURE(token != NULL && len == PA_OPTOKEN_LEN);
    PA_ENSURE(memcmp(token, PA_OPTOKEN_PREFIX, plen) == 0);
    PA_ENSURE(is_lower_hex(token + plen, PA_OPTOKEN_ID_HEX));
    PA_ENSURE(token[plen + PA_OPTOKEN_ID_HEX] == '_');
    PA_ENSURE(is_lower_hex(token + plen + PA_OPTOKEN_ID_HEX + 1, PA_OPTOKEN_SECRET_HEX));
    unsigned int n = 0;
    PA_ENSURE(EVP_Digest(token, len, out->hash, &n, EVP_sha256(), NULL) == 1 &&
              n == PA_OPTOKEN_HASH_LEN);
    memcpy(out->token_id, token + plen, PA_OPTOKEN_ID_HEX);
    out->token_id[PA_OPTOKEN_ID_HEX] = '\0';
    out->state = PA_OPAUTH_PRESENT;
    return 0;
}

void pa_opauth_parse_header(const char *value, pa_opauth *out)
{
    memset(out, 0, sizeof *out);
    out->state = PA_OPAUTH_MISSING;
    if (value == NULL)
        return;
    out->state = PA_OPAUTH_MALFORMED;
    static const char scheme[] = "Bearer";
    if (strncasecmp(value, scheme, sizeof scheme - 1) != 0 || value[sizeof scheme - 1] != ' ')
        return;
    const char *t = value + sizeof scheme - 1;
    while (*t == ' ')
        t++;
    /* the whole rest must be the token: trailing text is malformed, and the
     * length check in token_parse refuses it */
    if (pa_opauth_token_parse(t, strlen(t), out) != 0)
        out->state = PA_OPAUTH_MALFORMED;
}

int pa_opauth_hash_matches(const uint8_t hash[PA_OPTOKEN_HASH_LEN], const char *stored_hex)
{
    uint8_t stored[PA_OPTOKEN_HASH_LEN];
    if (stored_hex == NULL || pa_hex_decode_exact(stored_hex, stored, sizeof stored) != 0)
        return 0;
    return CRYPTO_memcmp(hash, stored, sizeof stored) == 0;
}

int pa_opauth_token_new(char token[PA_OPTOKEN_LEN + 1], char id[PA_OPTOKEN_ID_HEX + 1],
                        char hash_hex[2 * PA_OPTOKEN_HASH_LEN + 1])
{
    uint8_t raw[PA_OPTOKEN_ID_HEX / 2 + PA_OPTOKEN_SECRET_HEX / 2];
    pa_opauth parsed;
    int rc = -1;
    const size_t plen = sizeof PA_OPTOKEN_PREFIX - 1;
    PA_GUARD_GOTO(RAND_priv_bytes(raw, sizeof raw) == 1 ? 0 : -1, cleanup);
    memcpy(token, PA_OPTOKEN_PREFIX, plen);
    pa_hex_encode(raw, PA_OPTOKEN_ID_HEX / 2, token + plen);
    token[plen + PA_OPTOKEN_ID_HEX] = '_';
    pa_hex_encode(raw + PA_OPTOKEN_ID_HEX / 2, PA_OPTOKEN_SECRET_HEX / 2,
                  token + plen + PA_OPTOKEN_ID_HEX + 1);
    token[PA_OPTOKEN_LEN] = '\0';
    PA_GUARD_GOTO(pa_opauth_token_parse(token, PA_OPTOKEN_LEN, &parsed), cleanup);
    memcpy(id, parsed.token_id, sizeof parsed.token_id);
    pa_hex_encode(parsed.hash, sizeof parsed.hash, hash_hex);
    rc = 0;
cleanup:
    OPENSSL_cleanse(raw, sizeof raw);
    pa_opauth_clear(&parsed);
    if (rc != 0)
        OPENSSL_cleanse(token, PA_OPTOKEN_LEN + 1);
    return rc;
}

void pa_opauth_clear(pa_opauth *a)
{
    if (a != NULL)
        OPENSSL_cleanse(a, sizeof *a);
}
