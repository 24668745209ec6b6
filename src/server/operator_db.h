/* The operator endpoints' database side: token lookup, the paged listings,
 * the stats, and the audit row every operator request leaves in ops_logs.
 * Listings never carry ciphertext, a revoked session's label, a session id
 * (only its SHA-256, "session_ref": the id is the trader's bearer capability)
 * or a result's signed payload. */
#ifndef PA_OPERATOR_DB_H
#define PA_OPERATOR_DB_H

#include "db.h"
#include "operator_auth.h"

typedef enum {
    PA_OPTOKEN_OK,
    PA_OPTOKEN_UNKNOWN,  /* no row with that id */
    PA_OPTOKEN_MISMATCH, /* the id exists, the secret is wrong */
    PA_OPTOKEN_EXPIRED,
    PA_OPTOKEN_REVOKED,
} pa_optoken_verdict;

/* Looks the token up by its id and compares its hash in constant time. The
 * verdict is meaningful only when PA_DB_OK is returned. */
pa_db_status pa_opdb_token_check(pa_db *db, const pa_opauth *auth, pa_optoken_verdict *out);
const char *pa_optoken_verdict_name(pa_optoken_verdict v);

/* Page caps (docs/API.md). */
#define PA_OPDB_LIMIT_DEFAULT 50
#define PA_OPDB_LIMIT_MAX 500
#define PA_OPDB_OFFSET_MAX 1000000

/* Each sets *json (malloc'd compact JSON text) on PA_DB_OK. */
pa_db_status pa_opdb_sessions(pa_db *db, long limit, long offset, char **json);
pa_db_status pa_opdb_aggregates(pa_db *db, long limit, long offset, char **json);
pa_db_status pa_opdb_stats(pa_db *db, char **json);
/* /metrics' perfagg_sessions_active: sessions with status 'active' and
 * expires_at in the future. The partial index sessions_expiring_idx
 * (expires_at WHERE status = 'active') answers it, so a scrape costs one
 * index scan over the active sessions only, however many expired or
 * revoked rows the table holds. */
pa_db_status pa_opdb_active_sessions(pa_db *db, long long *out);

typedef struct {
    const char *token_id; /* a well-formed token's id, else NULL */
    const char *route;    /* the route template */
    unsigned status;      /* the HTTP status answered */
    const char *client;   /* the peer address, or NULL */
    const char *outcome;  /* "allowed", "missing", "malformed", or a verdict name */
} pa_opdb_audit_entry;

/* One ops_logs row, event 'operator_request'. */
pa_db_status pa_opdb_audit(pa_db *db, const pa_opdb_audit_entry *e);

#endif
