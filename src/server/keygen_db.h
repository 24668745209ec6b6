/* The enclave_keys table (migrations/006_enclave_keys.sql): enclave-made
 * API keys, stored sealed. Claiming a key for a session happens inside
 * pa_db_session_create's transaction, and deleting it inside
 * pa_db_session_revoke's (db.c); the rest is here. */
#ifndef PA_KEYGEN_DB_H
#define PA_KEYGEN_DB_H

#include <stdint.h>

#include "db.h"
#include "uuid.h"

/* How long an unclaimed key waits for its submit: time to register the
 * public key at the exchange. */
#define PA_KEYGEN_TTL_S 3600

typedef struct {
    const char *key_id, *exchange, *public_key, *sealed_key, *enclave_pubkey;
    int64_t expires_at_ms;
} pa_keygen_new;

pa_db_status pa_keygen_db_insert(pa_db *db, const pa_keygen_new *k);

typedef struct {
    char exchange[32];
    char session_id[PA_UUID_STR_LEN]; /* "" while unclaimed */
    int expired;                      /* expires_at has passed (not yet swept) */
    char sealed_key[128];
} pa_keygen_row;

/* PA_DB_NOT_FOUND for an unknown (or swept) key_id. */
pa_db_status pa_keygen_db_get(pa_db *db, const char *key_id, pa_keygen_row *out);

/* Deletes every key past its expiry (cleanup_expired_enclave_keys()). */
pa_db_status pa_keygen_db_cleanup(pa_db *db, long *count);

#endif
