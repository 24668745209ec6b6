/* SQL of the operator endpoints (see operator_db.h). PostgreSQL builds the
 * JSON (json_build_object escapes every value); it is re-serialised
 * compactly by jansson here, which also checks that it is JSON. */
#include "operator_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db_query.h"
#include "log.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The operator's name for a session: the id stays the trader's capability. */
#define REF(col) "encode(sha256(convert_to(" col "::text, 'UTF8')), 'hex')"

/* ---- tokens -------------------------------------------------------------- */

typedef struct {
    const pa_opauth *auth;
    pa_optoken_verdict verdict;
} token_args;

static pa_db_status token_rows(const PGresult *res, void *arg)
{
    token_args *a = arg;
    if (PQntuples(res) == 0) {
        a->verdict = PA_OPTOKEN_UNKNOWN;
        return PA_DB_OK;
    }
    /* The secret is judged first, so expiry and revocation are only ever
     * reported for the real token. */
    if (!pa_opauth_hash_matches(a->auth->hash, PQgetvalue(res, 0, 0)))
        a->verdict = PA_OPTOKEN_MISMATCH;
    else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
        a->verdict = PA_OPTOKEN_REVOKED;
    else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
        a->verdict = PA_OPTOKEN_EXPIRED;
    else
        a->verdict = PA_OPTOKEN_OK;
    return PA_DB_OK;
}

pa_db_status pa_opdb_token_check(pa_db *db, const pa_opauth *auth, pa_optoken_verdict *out)
{
    *out = PA_OPTOKEN_UNKNOWN;
    if (auth == NULL || auth->state != PA_OPAUTH_PRESENT)
        return PA_DB_OK;
    /* By id, the non-secret half: how long the lookup takes depends on
     * nothing an attacker could learn the secret from. */
    static const char sql[] = "SELECT token_hash, expires_at <= now(), revoked_at IS NOT NULL"
                              " FROM operator_tokens WHERE id = $1";
    const char *const params[] = {auth->token_id};
    token_args a = {auth, PA_OPTOKEN_UNKNOWN};
    pa_db_status st = pa_db_query(db, sql, 1, params, token_rows, &a);
    if (st == PA_DB_OK)
        *out = a.verdict;
    return st;
}

const char *pa_optoken_verdict_name(pa_optoken_verdict v)
{
    switch (v) {
    case PA_OPTOKEN_OK:
        return "allowed";
    case PA_OPTOKEN_UNKNOWN:
        return "unknown_token";
    case PA_OPTOKEN_MISMATCH:
        return "wrong_secret";
    case PA_OPTOKEN_EXPIRED:
        return "expired";
    case PA_OPTOKEN_REVOKED:
        return "revoked";
    default:
        return "unknown";
    }
}

/* ---- listings ------------------------------------------------------------ */

/* One row, one column: JSON text from PostgreSQL, re-serialised. */
static pa_db_status json_row(const PGresult *res, void *arg)
{
    char **out = arg;
    if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0))
        return PA_DB_UNAVAILABLE;
    json_error_t err;
    json_t *v = json_loads(PQgetvalue(res, 0, 0), 0, &err);
    if (v == NULL) {
        pa_log_error("operator: the database built JSON jansson refuses");
        return PA_DB_UNAVAILABLE;
    }
    free(*out); /* a retried call replaces an earlier attempt's text */
    *out = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return *out != NULL ? PA_DB_OK : PA_DB_UNAVAILABLE;
}

static pa_db_status paged(pa_db *db, const char *sql, long limit, long offset, char **json)
{
    *json = NULL;
    char l[24], o[24];
    snprintf(l, sizeof l, "%ld", limit);
    snprintf(o, sizeof o, "%ld", offset);
    const char *const params[] = {l, o};
    pa_db_status st = pa_db_query(db, sql, 2, params, json_row, json);
    if (st != PA_DB_OK) {
        free(*json);
        *json = NULL;
    }
    return st;
}

/* limit + 1 rows are read to know whether a next page exists. */
pa_db_status pa_opdb_sessions(pa_db *db, long limit, long offset, char **json)
{
    static const char sql[] =
        "WITH page AS ("
        " SELECT s.id, s.exchange, s.created_at, s.expires_at, s.revoked_at,"
        "  CASE WHEN s.status = 'active' AND s.expires_at <= now() THEN 'expired'"
        "       ELSE s.status END AS status,"
        /* a revoked session's label is gone from the row already (the
         * tombstone constraint); the CASE says so here too */
        "  CASE WHEN s.status = 'revoked' THEN NULL ELSE s.label END AS label"
        " FROM sessions s ORDER BY s.created_at DESC, s.id"
        " LIMIT $1::int + 1 OFFSET $2::int),"
        " shown AS (SELECT * FROM page ORDER BY created_at DESC, id LIMIT $1::int)"
        " SELECT json_build_object("
        "  'sessions', coalesce((SELECT json_agg(json_build_object("
        "    'session_ref', " REF("id") ", 'exchange', exchange, 'status', status,"
        "    'label', label, 'created_at', " TS("created_at") ","
        "    'expires_at', " TS("expires_at") ", 'revoked_at', " TS("revoked_at") ")"
        "   ORDER BY created_at DESC, id) FROM shown), '[]'::json),"
        "  'limit', $1::int, 'offset', $2::int,"
        "  'next_offset', CASE WHEN (SELECT count(*) FROM page) > $1::int"
        "                 THEN $2::int + $1::int END,"
        "  'total', (SELECT count(*) FROM sessions))::text";
    return paged(db, sql, limit, offset, json);
}

pa_db_status pa_opdb_aggregates(pa_db *db, long limit, long offset, char **json)
{
    static const char sql[] =
        "WITH page AS ("
        " SELECT a.result_id, a.session_id, a.merkle_root, a.created_at,"
        "  octet_length(a.payload_jcs) AS payload_bytes,"
        "  (SELECT count(*) FROM merkle_logs m WHERE m.result_id = a.result_id) AS log_entries"
        " FROM aggregates a ORDER BY a.created_at DESC, a.result_id"
        " LIMIT $1::int + 1 OFFSET $2::int),"
        " shown AS (SELECT * FROM page ORDER BY created_at DESC, result_id LIMIT $1::int)"
        " SELECT json_build_object("
        "  'aggregates', coalesce((SELECT json_agg(json_build_object("
        "    'result_id', result_id, 'session_ref', " REF("session_id") ","
        "    'created_at', " TS("created_at") ", 'merkle_root', merkle_root,"
        "    'payload_bytes', payload_bytes, 'log_entries', log_entries)"
        "   ORDER BY created_at DESC, result_id) FROM shown), '[]'::json),"
        "  'limit', $1::int, 'offset', $2::int,"
        "  'next_offset', CASE WHEN (SELECT count(*) FROM page) > $1::int"
        "                 THEN $2::int + $1::int END,"
        "  'total', (SELECT count(*) FROM aggregates))::text";
    return paged(db, sql, limit, offset, json);
}

pa_db_status pa_opdb_stats(pa_db *db, char **json)
{
    static const char sql[] =
        "SELECT json_build_object("
        " 'sessions', (SELECT json_build_object("
        "   'active', count(*) FILTER (WHERE status = 'active' AND expires_at > now()),"
        "   'expired', count(*) FILTER (WHERE status = 'expired'"
        "                               OR (status = 'active' AND expires_at <= now())),"
        "   'revoked', count(*) FILTER (WHERE status = 'revoked'),"
        "   'total', count(*)) FROM sessions),"
        " 'credentials_stored', (SELECT count(*) FROM credentials),"
        " 'aggregates', (SELECT json_build_object('total', count(*),"
        "   'last_24h', count(*) FILTER (WHERE created_at > now() - interval '24 hours'))"
        "   FROM aggregates),"
        " 'operator_tokens_active', (SELECT count(*) FROM operator_tokens"
        "   WHERE revoked_at IS NULL AND expires_at > now()),"
        " 'database_time', " TS("now()") ")::text";
    *json = NULL;
    pa_db_status st = pa_db_query(db, sql, 0, NULL, json_row, json);
    if (st != PA_DB_OK) {
        free(*json);
        *json = NULL;
    }
    return st;
}

static pa_db_status count_row(const PGresult *res, void *arg)
{
    if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0))
        return PA_DB_UNAVAILABLE;
    *(long long *)arg = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    return PA_DB_OK;
}

pa_db_status pa_opdb_active_sessions(pa_db *db, long long *out)
{
    static const char sql[] =
        "SELECT count(*) FROM sessions WHERE status = 'active' AND expires_at > now()";
    *out = -1;
    return pa_db_query(db, sql, 0, NULL, count_row, out);
}

/* ---- audit --------------------------------------------------------------- */

pa_db_status pa_opdb_audit(pa_db *db, const pa_opdb_audit_entry *e)
{
    static const char sql[] =
        "INSERT INTO ops_logs (event, detail) VALUES ('operator_request',"
        " jsonb_build_object('token_id', $1::text, 'route', $2::text, 'method', 'GET',"
        " 'status', $3::int, 'client', $4::text, 'outcome', $5::text))";
    char status[8];
    snprintf(status, sizeof status, "%u", e->status);
    const char *const params[] = {e->token_id, e->route, status, e->client, e->outcome};
    return pa_db_query(db, sql, 5, params, NULL, NULL);
}
