/* The PostgreSQL fixture of the C tests that need a real database (test_db,
 * test_server_submit_batch): connections as a given role, a randomly named
 * database created, migrated with scripts/migrate.sh and dropped, one-integer
 * queries, and a complete, valid new session with random envelope fields.
 *
 * The cluster is the one at PA_TEST_PGHOST (scripts/test.sh starts it): its
 * superuser `postgres` logs in with trust auth. Include after <cmocka.h>. */
#ifndef PA_TEST_PG_H
#define PA_TEST_PG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "codec.h"
#include "db.h"
#include "test_child.h"
#include "uuid.h"

/* Set once by pa_test_pg_use: the socket directory, the prefix of this
 * fixture's messages, and the application_name of its connections. */
static const char *pa_test_pg_host;
static const char *pa_test_pg_tag;
static const char *pa_test_pg_app;

/* Names the test (messages, application_name); returns PA_TEST_PGHOST,
 * NULL or empty when it is not set (the caller says how to set it). */
static inline const char *pa_test_pg_use(const char *tag, const char *app_name)
{
    pa_test_pg_tag = tag;
    pa_test_pg_app = app_name;
    pa_test_pg_host = getenv("PA_TEST_PGHOST");
    return pa_test_pg_host;
}

/* Expected warnings (a GRANT without grant option) stay out of the output. */
static inline void pa_test_pg_quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static inline PGconn *pa_test_pg_connect(const char *user, const char *database)
{
    const char *const keys[] = {"host", "user", "dbname", "application_name", NULL};
    const char *const vals[] = {pa_test_pg_host, user, database, pa_test_pg_app, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    PQsetNoticeProcessor(c, pa_test_pg_quiet_notices, NULL);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s: cannot connect as %s to %s: %s", pa_test_pg_tag, user, database,
                PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* A conninfo string for pa_db_open and migrate.sh; free() it. */
static inline char *pa_test_pg_conninfo(const char *user, const char *database)
{
    /* Values quoted as libpq's key=value syntax wants: ' and \ escaped. */
    char host[512];
    size_t j = 0;
    for (const char *p = pa_test_pg_host; *p && j + 2 < sizeof host; p++) {
        if (*p == '\'' || *p == '\\')
            host[j++] = '\\';
        host[j++] = *p;
    }
    host[j] = 0;
    char *s = NULL;
    if (asprintf(&s, "host='%s' user=%s dbname=%s", host, user, database) < 0)
        return NULL;
    return s;
}

static inline int pa_test_pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "%s: %s: %s", pa_test_pg_tag, sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* One integer from a query run as `c` with text parameters; fails the test
 * when the query does not give exactly one row. */
static inline long long pa_test_pg_query_int(PGconn *c, const char *sql, int n,
                                             const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fprintf(stderr, "%s: %s: %s", pa_test_pg_tag, sql, PQresultErrorMessage(r));
        PQclear(r);
        fail_msg("query failed");
    }
    long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* CREATE DATABASE name, or DROP DATABASE IF EXISTS name WITH (FORCE). */
static inline int pa_test_pg_database(int create, const char *name)
{
    PGconn *root = pa_test_pg_connect("postgres", "postgres");
    if (root == NULL)
        return -1;
    char *ident = PQescapeIdentifier(root, name, strlen(name));
    char sql[160];
    if (create)
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", ident);
    else
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", ident);
    PQfreemem(ident);
    int rc = pa_test_pg_exec(root, sql);
    PQfinish(root);
    return rc;
}

/* pa_test_<16 hex digits>: each run its own database. */
static inline int pa_test_pg_random_name(char *out, size_t outlen)
{
    uint8_t r[8];
    char hex[17];
    if (RAND_bytes(r, sizeof r) != 1)
        return -1;
    pa_hex_encode(r, sizeof r, hex);
    snprintf(out, outlen, "pa_test_%s", hex);
    return 0;
}

/* Runs scripts/migrate.sh on database as postgres. Its stdout goes to out
 * (outlen bytes with the NUL) when out is given, else to /dev/null. */
static inline int pa_test_pg_migrate(const char *database, char *out, size_t outlen)
{
    char *conninfo = pa_test_pg_conninfo("postgres", database);
    if (conninfo == NULL)
        return -1;
    int fds[2] = {-1, -1};
    if (out != NULL && pipe(fds) != 0) {
        free(conninfo);
        return -1;
    }
    pid_t pid = pa_test_fork(60);
    if (pid == 0) {
        if (out != NULL) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
        } else if (freopen("/dev/null", "w", stdout) == NULL) {
            _exit(126);
        }
        unsetenv("DATABASE_URL");
        execl(PA_SOURCE_DIR "/scripts/migrate.sh", "migrate.sh", conninfo, (char *)NULL);
        _exit(127);
    }
    free(conninfo);
    if (out != NULL) {
        close(fds[1]);
        size_t n = 0;
        ssize_t r;
        while ((r = read(fds[0], out + n, outlen - 1 - n)) > 0 && n + (size_t)r < outlen - 1)
            n += (size_t)r;
        if (r > 0)
            n += (size_t)r;
        out[n] = 0;
        close(fds[0]);
    }
    int status = 0;
    if (pid < 0 || pa_test_wait(pid, &status) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* n random bytes in base64; free() it. */
static inline char *pa_test_b64_random(size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    assert_int_equal(RAND_bytes(b, (int)n), 1);
    char *s = pa_b64_encode(b, n);
    free(b);
    assert_non_null(s);
    return s;
}

/* A complete, valid new session with its own random envelope fields. */
typedef struct {
    char id[PA_UUID_STR_LEN];
    char *eph, *nonce, *ct, *tag, *enclave;
    pa_db_new_session s;
} pa_test_session;

static inline void pa_test_session_init(pa_test_session *f, const char *label,
                                        int64_t expires_at_ms)
{
    assert_int_equal(pa_uuid_v4(f->id), 0);
    f->eph = pa_test_b64_random(32);
    f->nonce = pa_test_b64_random(12);
    f->ct = pa_test_b64_random(77);
    f->tag = pa_test_b64_random(16);
    f->enclave = pa_test_b64_random(32);
    f->s = (pa_db_new_session){
        .session_id = f->id,
        .exchange = "binance",
        .label = label,
        .expires_at_ms = expires_at_ms,
        .ephemeral_pub = f->eph,
        .nonce = f->nonce,
        .ciphertext = f->ct,
        .tag = f->tag,
        .metadata_jcs = "{\"exchange\":\"binance\",\"label\":\"main\",\"ttl\":3600}",
        .enclave_pubkey = f->enclave,
    };
}

static inline void pa_test_session_free(pa_test_session *f)
{
    free(f->eph);
    free(f->nonce);
    free(f->ct);
    free(f->tag);
    free(f->enclave);
}

#endif
