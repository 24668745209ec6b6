/* perfagg-admin: creates, lists and revokes operator tokens
 * (docs/OPERATIONS.md).
 *
 *   perfagg-admin operator-token create --name NAME --ttl DURATION
 *   perfagg-admin operator-token revoke --id ID
 *   perfagg-admin operator-token list
 *
 * Connects with DATABASE_URL as a role that may write operator_tokens (the
 * database owner that runs the migrations; app_service can only read it). A
 * new token is printed once, alone on stdout, and never logged or stored:
 * only its SHA-256 reaches the database. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "operator_auth.h"

#define TTL_MAX_S (366L * 86400L)

static int usage(void)
{
    fprintf(stderr, "usage: perfagg-admin operator-token create --name NAME --ttl DURATION\n"
                    "       perfagg-admin operator-token revoke --id ID\n"
                    "       perfagg-admin operator-token list\n"
                    "DURATION: a number with s, m, h or d (e.g. 90d, 12h); at most 366d.\n"
                    "DATABASE_URL: the database, as a role allowed to write operator_tokens.\n");
    return 2;
}

/* "90d" → seconds; -1 when malformed or outside 1 s .. 366 d. */
static long parse_ttl(const char *s)
{
    if (s == NULL || *s < '1' || *s > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno != 0 || end == s || n <= 0 || n > TTL_MAX_S || end[0] == '\0' || end[1] != '\0')
        return -1;
    long unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : end[0] == 'd' ? 86400 : 0;
    if (unit == 0 || n > TTL_MAX_S / unit)
        return -1;
    return n * unit;
}

static int valid_name(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-'))
            return 0;
    }
    return 1;
}

static int valid_id(const char *s)
{
    if (s == NULL || strlen(s) != PA_OPTOKEN_ID_HEX)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static PGconn *connect_db(void)
{
    const char *url = getenv("DATABASE_URL");
    if (url == NULL || *url == '\0') {
        fprintf(stderr, "perfagg-admin: DATABASE_URL is not set\n");
        return NULL;
    }
    const char *const keys[] = {"fallback_application_name", "connect_timeout", "dbname", NULL};
    const char *const vals[] = {"perfagg-admin", "10", url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        /* libpq's message names host, port and role, not the password */
        fprintf(stderr, "perfagg-admin: cannot connect: %s", c ? PQerrorMessage(c) : "out of memory\n");
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* The first line of the server's error; it quotes no token (none is sent). */
static void report(const char *what, const PGresult *r, PGconn *c)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = PQerrorMessage(c);
    fprintf(stderr, "perfagg-admin: %s failed (SQLSTATE %s): %.*s\n", what, state ? state : "none",
            (int)strcspn(msg, "\n"), msg);
}

static int cmd_create(PGconn *c, const char *name, long ttl_s)
{
    char token[PA_OPTOKEN_LEN + 1];
    char id[PA_OPTOKEN_ID_HEX + 1];
    char hash[2 * PA_OPTOKEN_HASH_LEN + 1];
    int rc = 1;
    PGresult *r = NULL;
    if (pa_opauth_token_new(token, id, hash) != 0) {
        fprintf(stderr, "perfagg-admin: no random bytes for a token\n");
        return 1;
    }
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%ld", ttl_s);
    const char *const params[] = {id, name, hash, ttl};
    r = PQexecParams(c,
                     "INSERT INTO operator_tokens (id, name, token_hash, expires_at)"
                     " VALUES ($1, $2, $3, now() + make_interval(secs => $4::bigint))"
                     " RETURNING to_char(expires_at AT TIME ZONE 'UTC',"
                     " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                     4, NULL, params, NULL, NULL, 0);
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        report("create", r, c);
        goto cleanup;
    }
    /* The token alone on stdout, so `TOKEN=$(perfagg-admin ...)` works;
     * what it is, on stderr. */
    fprintf(stderr, "operator token %s (%s) created, expires %s; it is shown once:\n", id, name,
            PQgetvalue(r, 0, 0));
    if (printf("%s\n", token) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "perfagg-admin: cannot write the token; revoke %s\n", id);
        goto cleanup;
    }
    rc = 0;
cleanup:
    PQclear(r);
    OPENSSL_cleanse(token, sizeof token);
    return rc;
}

static int cmd_revoke(PGconn *c, const char *id)
{
    const char *const params[] = {id};
    PGresult *r = PQexecParams(c,
                               "UPDATE operator_tokens SET revoked_at = now()"
                               " WHERE id = $1 AND revoked_at IS NULL RETURNING name",
                               1, NULL, params, NULL, NULL, 0);
    int rc = 1;
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
        report("revoke", r, c);
    } else if (PQntuples(r) == 0) {
        fprintf(stderr, "perfagg-admin: no active token %s (unknown or already revoked)\n", id);
    } else {
        fprintf(stderr, "operator token %s (%s) revoked\n", id, PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

static int cmd_list(PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT id, name,"
                            " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                            " to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                            " CASE WHEN revoked_at IS NOT NULL THEN 'revoked'"
                            "      WHEN expires_at <= now() THEN 'expired' ELSE 'active' END"
                            " FROM operator_tokens ORDER BY created_at, id");
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
        report("list", r, c);
        PQclear(r);
        return 1;
    }
    printf("%-16s  %-7s  %-20s  %-20s  %s\n", "ID", "STATUS", "CREATED", "EXPIRES", "NAME");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-16s  %-7s  %-20s  %-20s  %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 4),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 1));
    PQclear(r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "operator-token") != 0)
        return usage();
    const char *cmd = argv[2];
    const char *name = NULL, *ttl = NULL, *id = NULL;
    for (int i = 3; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--name") == 0)
            name = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--ttl") == 0)
            ttl = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--id") == 0)
            id = argv[++i];
        else
            return usage();
    }
    long ttl_s = 0;
    if (strcmp(cmd, "create") == 0) {
        if (!valid_name(name)) {
            fprintf(stderr, "perfagg-admin: --name must be 1-64 of A-Z a-z 0-9 _ . @ -\n");
            return 2;
        }
        if ((ttl_s = parse_ttl(ttl)) < 0) {
            fprintf(stderr, "perfagg-admin: --ttl must be like 90d, 12h, 30m or 3600s (at most 366d)\n");
            return 2;
        }
    } else if (strcmp(cmd, "revoke") == 0) {
        if (!valid_id(id)) {
            fprintf(stderr, "perfagg-admin: --id must be a token id (16 lowercase hex digits)\n");
            return 2;
        }
    } else if (strcmp(cmd, "list") != 0) {
        return usage();
    }
    PGconn *c = connect_db();
    if (c == NULL)
        return 1;
    int rc = strcmp(cmd, "create") == 0   ? cmd_create(c, name, ttl_s)
             : strcmp(cmd, "revoke") == 0 ? cmd_revoke(c, id)
                                          : cmd_list(c);
    PQfinish(c);
    return rc;
}
