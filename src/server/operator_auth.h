/* Operator bearer tokens (docs/OPERATIONS.md): their format, their hash, and
 * the constant-time check of a presented token against a stored hash.
 *
 * A token is `paop_<id>_<secret>`: <id> is 16 lowercase hex digits (8 random
 * bytes) naming the database row, <secret> 64 lowercase hex digits (32 random
 * bytes). The database keeps SHA-256 of the whole token text, never the
 * token. No I/O here: the lookup is operator_db.h's, the HTTP glue
 * handler_operator.c's. */
#ifndef PA_OPERATOR_AUTH_H
#define PA_OPERATOR_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define PA_OPTOKEN_PREFIX "paop_"
#define PA_OPTOKEN_ID_HEX 16
#define PA_OPTOKEN_SECRET_HEX 64
#define PA_OPTOKEN_LEN (sizeof PA_OPTOKEN_PREFIX - 1 + PA_OPTOKEN_ID_HEX + 1 + PA_OPTOKEN_SECRET_HEX)
#define PA_OPTOKEN_HASH_LEN 32

typedef enum {
    PA_OPAUTH_MISSING,   /* no Authorization header */
    PA_OPAUTH_MALFORMED, /* not "Bearer <token>", or not a token's shape */
    PA_OPAUTH_PRESENT,   /* a well-formed token: id and hash are set */
} pa_opauth_parse;

/* What the poll thread keeps of a request's credentials: the token itself
 * is hashed at once and never stored. */
typedef struct {
    pa_opauth_parse state;
    char token_id[PA_OPTOKEN_ID_HEX + 1];
    uint8_t hash[PA_OPTOKEN_HASH_LEN];
} pa_opauth;

/* token (len bytes, not necessarily NUL-terminated) → its id and SHA-256.
 * -1 unless it has exactly the shape above. */
PA_MUST_USE int pa_opauth_token_parse(const char *token, size_t len, pa_opauth *out);

/* An Authorization header value (NULL when absent) → out. The scheme is
 * matched case-insensitively (RFC 7235 §2.1), then one or more spaces, then
 * the token and nothing after it. */
void pa_opauth_parse_header(const char *value, pa_opauth *out);

/* 1 when hash equals the stored lowercase-hex SHA-256, else 0 (also for a
 * stored value that is not 64 hex digits). The comparison of the 32 bytes
 * is constant-time (CRYPTO_memcmp). */
int pa_opauth_hash_matches(const uint8_t hash[PA_OPTOKEN_HASH_LEN], const char *stored_hex);

/* A fresh token from the OS CSPRNG, with its id and the hex SHA-256 to
 * store. The caller wipes token (OPENSSL_cleanse) once it is shown. */
PA_MUST_USE int pa_opauth_token_new(char token[PA_OPTOKEN_LEN + 1],
                                    char id[PA_OPTOKEN_ID_HEX + 1],
                                    char hash_hex[2 * PA_OPTOKEN_HASH_LEN + 1]);

/* Wipes what pa_opauth holds (the hash is not a secret, but it is a
 * password-equivalent lookup value for this request only). */
void pa_opauth_clear(pa_opauth *a);

#endif
