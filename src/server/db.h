/* PostgreSQL access for the untrusted host: a fixed pool of libpq connections,
 * each with its statements prepared once at connect. Every function takes a
 * connection from the pool, blocks until it gets one or
 * PA_DB_ACQUIRE_TIMEOUT_MS passes (callers are worker threads, never the HTTP
 * poll thread), and reconnects a broken connection on the next use. Only
 * ciphertext and public data pass through here. */
#ifndef PA_DB_H
#define PA_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct pa_db pa_db;

typedef enum {
    PA_DB_OK = 0,
    PA_DB_NOT_FOUND,   /* no such row */
    PA_DB_CONFLICT,    /* unique violation: the envelope was already submitted */
    PA_DB_GONE,        /* the session is revoked or expired */
    PA_DB_UNAVAILABLE, /* connection or server failure: nothing was changed */
    PA_DB_LIMIT,       /* the session already holds its maximum of results */
    PA_DB_KEY_USED,    /* the enclave-made key is claimed, expired or gone */
} pa_db_status;

/* Time limits (docs/DATABASE.md). A call that finds every connection busy
 * waits at most this long for one, then answers PA_DB_UNAVAILABLE. */
#define PA_DB_ACQUIRE_TIMEOUT_MS 5000
/* The client-side deadline of every statement (and of each PREPARE on a new
 * connection): past it the connection is dropped and the call answers
 * PA_DB_UNAVAILABLE without a retry. statement_timeout below is the server's
 * own limit and fires first on a live server; this one bounds a server that
 * does not answer at all (stopped, hung, its socket full), which no
 * server-side setting can and which libpq, having no per-call timeout,
 * would wait on forever. */
#define PA_DB_CALL_TIMEOUT_MS 12000
/* Defaults placed before the caller's conninfo, so a conninfo that names the
 * same keyword replaces them: libpq's connect_timeout (seconds), and the
 * server-side timeouts (milliseconds) sent as the `options` keyword. A
 * conninfo with its own `options` replaces all three settings. */
#define PA_DB_CONNECT_TIMEOUT_S_STR "10"
#define PA_DB_DEFAULT_OPTIONS                                                                      \
    "-c statement_timeout=10000 -c lock_timeout=3000 -c idle_in_transaction_session_timeout=30000"

/* conninfo as libpq takes it (URL or key=value). Connects lazily, so a
 * database that is down at start-up is not fatal. */
pa_db *pa_db_open(const char *conninfo, int pool_size);
void pa_db_close(pa_db *db);
pa_db_status pa_db_ping(pa_db *db);

typedef struct {
    const char *session_id;   /* caller-generated UUID v4 */
    const char *exchange;
    const char *label;        /* may be NULL */
    int64_t expires_at_ms;
    const char *ephemeral_pub; /* base64 as received (44 chars) */
    const char *nonce;         /* base64 (16 chars) */
    const char *ciphertext;    /* base64 */
    const char *tag;           /* base64 (24 chars) */
    const char *metadata_jcs;  /* the AAD: JCS text of metadata as sent */
    const char *enclave_pubkey; /* base64 of the enclave key it was sealed to */
    const char *enclave_key_id; /* metadata.enclave_key_id, or NULL */
} pa_db_new_session;

/* Inserts the session and its credentials in one transaction, and records the
 * envelope's ephemeral_pub as used forever (survives revoke). PA_DB_CONFLICT
 * when that ephemeral_pub was seen before. With enclave_key_id, the same
 * transaction claims that unclaimed, unexpired key of the same exchange for
 * the session (its expiry becomes the session's); PA_DB_KEY_USED, and
 * nothing stored, when it cannot. */
pa_db_status pa_db_session_create(pa_db *db, const pa_db_new_session *s);

/* Group commit (src/server/submit_batch.h): n submits, none naming an
 * enclave_key_id, in ONE statement, so one transaction and one WAL flush for
 * all of them. out[i] is the i-th submit's own outcome, as session_create
 * would give it: PA_DB_OK (stored), PA_DB_CONFLICT (its envelope was used
 * before), PA_DB_UNAVAILABLE (the database failed: nothing of it stored, or,
 * as for a COMMIT that broke, not known). Each submit is all or nothing and
 * one submit's replay or bad row does not fail the others. No two of the n
 * may share an ephemeral_pub (the batcher defers a duplicate to the next
 * batch); at most PA_DB_BATCH_MAX. */
#define PA_DB_BATCH_MAX 64
void pa_db_session_create_batch(pa_db *db, const pa_db_new_session *const *s, size_t n,
                                pa_db_status *out);

/* PA_DB_CONFLICT when this ephemeral_pub was ever submitted, PA_DB_OK when
 * not. A read-only early check: session_create's unique constraint stays the
 * authority (two racing submits). */
pa_db_status pa_db_envelope_seen(pa_db *db, const char *ephemeral_pub);

typedef struct {
    char status[16]; /* "active", "revoked" or "expired" (as stored) */
    int64_t expires_at_ms;
    char exchange[32];
    char *label;          /* NULL for tombstones */
    /* credentials: all NULL once revoked or swept */
    char *ephemeral_pub;
    char *nonce;
    char *ciphertext;
    char *tag;
    char *metadata_jcs;
    char *enclave_pubkey;
    long results; /* results stored for the session now */
} pa_db_session;

pa_db_status pa_db_session_get(pa_db *db, const char *session_id, pa_db_session *out);
void pa_db_session_free(pa_db_session *s);

typedef struct {
    const char *result_id;
    const char *session_id;
    const char *payload_jcs; /* the exact signed bytes, stored as text */
    const char *signature;   /* base64 */
    const char *merkle_root; /* hex */
    const char *attestation; /* JSON text {quote, enclave_pubkey, signing_pubkey, image_hash} */
    const char *const *entries;     /* JCS text of each audit entry, in order */
    const char *const *leaf_hashes; /* hex, same order */
    size_t nentries;
    long max_results; /* the session's cap of stored results (> 0) */
} pa_db_result;

/* Stores the result and its merkle log in one transaction, only while the
 * session is still active and unexpired (PA_DB_GONE otherwise) and holds
 * fewer than max_results results (PA_DB_LIMIT otherwise). */
pa_db_status pa_db_result_store(pa_db *db, const pa_db_result *r);

typedef struct {
    char *merkle_root;
    size_t n;
    char **entries;     /* JCS text */
    char **leaf_hashes; /* hex */
} pa_db_logs;

pa_db_status pa_db_logs_get(pa_db *db, const char *result_id, pa_db_logs *out);
void pa_db_logs_free(pa_db_logs *l);

/* In one transaction: deletes the session's credentials, enclave-made key,
 * aggregates and merkle logs, turns the session into a tombstone (status revoked, label
 * NULL) and writes an ops_logs entry. PA_DB_NOT_FOUND for an unknown id,
 * PA_DB_GONE when already revoked. */
pa_db_status pa_db_session_revoke(pa_db *db, const char *session_id);

/* Calls cleanup_expired_credentials(): deletes expired credentials, marks
 * their sessions expired, returns how many. */
pa_db_status pa_db_cleanup_expired(pa_db *db, long *count);

/* A non-sensitive operational event (no secrets, no ids a trader would not
 * share): event name plus an optional JSON object text. */
pa_db_status pa_db_ops_log(pa_db *db, const char *event, const char *detail_json);

#endif
