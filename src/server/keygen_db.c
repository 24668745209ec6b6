/* The enclave_keys table (keygen_db.h). Every value is a parameter. */
#include "keygen_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_query.h"

pa_db_status pa_keygen_db_insert(pa_db *db, const pa_keygen_new *k)
{
    if (k == NULL || !pa_uuid_valid(k->key_id))
        return PA_DB_UNAVAILABLE;
    static const char sql[] =
        "INSERT INTO enclave_keys (key_id, exchange, public_key, sealed_key, enclave_pubkey,"
        " expires_at) VALUES ($1::uuid, $2, $3, $4, $5,"
        " to_timestamp($6::double precision / 1000))";
    char expires[24];
    snprintf(expires, sizeof expires, "%" PRId64, k->expires_at_ms);
    const char *const params[] = {k->key_id,     k->exchange,       k->public_key,
                                  k->sealed_key, k->enclave_pubkey, expires};
    return pa_db_query(db, sql, 6, params, NULL, NULL);
}

static pa_db_status row_of(const PGresult *res, void *arg)
{
    pa_keygen_row *out = arg;
    memset(out, 0, sizeof *out);
    if (PQntuples(res) == 0)
        return PA_DB_NOT_FOUND;
    /* The table's CHECKs keep these short; longer is a schema we do not know. */
    if (strlen(PQgetvalue(res, 0, 0)) >= sizeof out->exchange ||
        strlen(PQgetvalue(res, 0, 1)) >= sizeof out->session_id ||
        strlen(PQgetvalue(res, 0, 3)) >= sizeof out->sealed_key)
        return PA_DB_UNAVAILABLE;
    snprintf(out->exchange, sizeof out->exchange, "%s", PQgetvalue(res, 0, 0));
    snprintf(out->session_id, sizeof out->session_id, "%s", PQgetvalue(res, 0, 1));
    out->expired = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    snprintf(out->sealed_key, sizeof out->sealed_key, "%s", PQgetvalue(res, 0, 3));
    return PA_DB_OK;
}

pa_db_status pa_keygen_db_get(pa_db *db, const char *key_id, pa_keygen_row *out)
{
    memset(out, 0, sizeof *out);
    if (!pa_uuid_valid(key_id))
        return PA_DB_NOT_FOUND;
    static const char sql[] = "SELECT exchange, coalesce(session_id::text, ''),"
                              " expires_at <= now(), sealed_key"
                              " FROM enclave_keys WHERE key_id = $1::uuid";
    const char *const params[] = {key_id};
    return pa_db_query(db, sql, 1, params, row_of, out);
}

static pa_db_status count_of(const PGresult *res, void *arg)
{
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
        return PA_DB_UNAVAILABLE;
    *(long *)arg = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    return PA_DB_OK;
}

pa_db_status pa_keygen_db_cleanup(pa_db *db, long *count)
{
    *count = 0;
    return pa_db_query(db, "SELECT cleanup_expired_enclave_keys()", 0, NULL, count_of, count);
}
