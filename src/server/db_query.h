/* A parameterised read or single statement outside db.c's prepared set, run
 * on db.c's pool with the same time limits, reconnect and retry rules. For
 * the operator queries (operator_db.c); every value is a parameter, never
 * text pasted into the SQL. */
#ifndef PA_DB_QUERY_H
#define PA_DB_QUERY_H

#include <libpq-fe.h>

#include "db.h"

/* Reads the rows of a successful result; returns the call's status. Called
 * at most once per attempt (a retried call calls it again with the new
 * result, so it must not keep state from an earlier call). */
typedef pa_db_status (*pa_db_rows_fn)(const PGresult *res, void *arg);

/* sql with $1..$nparams (text values, NULL for SQL NULL). rows may be NULL
 * for a statement whose result is not needed. */
pa_db_status pa_db_query(pa_db *db, const char *sql, int nparams, const char *const *values,
                         pa_db_rows_fn rows, void *arg);

#endif
