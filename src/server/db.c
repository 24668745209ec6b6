/* PostgreSQL access for the untrusted host (see db.h).
 *
 * Pool: a fixed array of slots guarded by one mutex and a condition variable.
 * A caller takes a free slot (preferring one already connected), works on it
 * without holding the mutex, and hands it back. A slot connects lazily and
 * prepares every statement once per connection, so pa_db_open never needs
 * the database to be up.
 *
 * Failure model: a connection that reports CONNECTION_BAD, or a statement
 * that fails with a connection-class SQLSTATE (08xxx, 57Pxx) or with no
 * SQLSTATE at all (libpq could not talk to the server), drops the slot's
 * connection; the next use reconnects and re-prepares. When the failure came
 * before COMMIT was sent the server has rolled everything back, so the call is
 * retried once on a fresh connection: a terminated backend or a restarted
 * database costs the caller nothing. A failure during COMMIT has an unknown
 * outcome and is reported as PA_DB_UNAVAILABLE without retrying.
 *
 * Time limits: no call waits without bound. Taking a slot waits at most
 * PA_DB_ACQUIRE_TIMEOUT_MS; every connection gets PA_DB_DEFAULT_OPTIONS
 * (statement, lock and idle-transaction timeouts) and TCP keepalives unless
 * the conninfo sets its own. A timed-out statement (SQLSTATE 57014) or lock
 * wait (55P03) is PA_DB_UNAVAILABLE and is not retried: the database is up
 * but busy, and a retry would only double the wait. Those are the server's
 * limits; a server that does not answer at all (processes stopped, a hung
 * host) is bounded on this side: every statement is sent without blocking
 * and its answer awaited with poll() until PA_DB_CALL_TIMEOUT_MS, after
 * which the connection is dropped (not PQcancel'ed: PQcancel connects to
 * the postmaster and blocks reading its answer, so a hung postmaster would
 * hang it too; closing the socket ends the backend's work once it runs).
 *
 * Every value reaches PostgreSQL as a parameter of a prepared statement. Logs
 * carry statement names and SQLSTATEs only: a server error message can quote
 * the offending value (a session id, a ciphertext), so it is never logged. */
#include "db.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "buf.h"
#include "log.h"
#include "result.h"
#include "timeutil.h"
#include "uuid.h"

#define PA_DB_MAX_POOL 256

/* ---- statements ---------------------------------------------------------- */

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PING,
    ST_ENVELOPE_SEEN,
    ST_SESSION_CREATE,
    ST_SESSION_CREATE_BATCH,
    ST_SESSION_EXISTS,
    ST_SESSION_GET,
    ST_SESSION_LOCK_STORE,
    ST_RESULTS_COUNT,
    ST_SESSION_LOCK_UPDATE,
    ST_AGGREGATE_INSERT,
    ST_MERKLE_INSERT,
    ST_LOGS_GET,
    ST_CREDENTIALS_DELETE,
    ST_MERKLE_DELETE,
    ST_AGGREGATES_DELETE,
    ST_SESSION_TOMBSTONE,
    ST_OPS_LOG,
    ST_CLEANUP,
    ST_ENCLAVE_KEY_CLAIM,
    ST_ENCLAVE_KEY_DELETE,
    ST_COUNT
};

static const struct {
    const char *name;
    const char *sql;
} statements[ST_COUNT] = {
    [ST_BEGIN] = {"pa_begin", "BEGIN"},
    [ST_COMMIT] = {"pa_commit", "COMMIT"},
    [ST_ROLLBACK] = {"pa_rollback", "ROLLBACK"},
    [ST_PING] = {"pa_ping", "SELECT 1"},
    [ST_ENVELOPE_SEEN] = {"pa_envelope_seen",
                          "SELECT 1 FROM used_envelopes WHERE ephemeral_pub = $1"},
    /* One statement, so one round trip and its own transaction: the envelope
     * marked used, the session and its ciphertext, all or nothing. A replay
     * is the unique violation on used_envelopes_pkey. The foreign key from
     * credentials to sessions is checked at the end of the statement, when
     * both rows exist. */
    [ST_SESSION_CREATE] = {"pa_session_create",
                           "WITH used AS (INSERT INTO used_envelopes (ephemeral_pub) VALUES ($2)),"
                           " s AS (INSERT INTO sessions (id, exchange, label, status, expires_at,"
                           " enclave_pubkey) VALUES ($1::uuid, $3, $4, 'active',"
                           " to_timestamp($5::double precision / 1000), $6) RETURNING id)"
                           " INSERT INTO credentials (session_id, ephemeral_pub, nonce, ciphertext,"
                           " tag, metadata_jcs, expires_at) SELECT s.id, $2, $7, $8, $9, $10,"
                           " to_timestamp($5::double precision / 1000) FROM s"},
    /* Group commit: ST_SESSION_CREATE for a whole batch, given as one JSON
     * array (json_to_recordset: jansson escapes, PostgreSQL unescapes, so
     * every value arrives exactly as sent, NULLs included). One statement,
     * so one transaction and one WAL flush for every submit in it.
     * - A replay must fail only its own submit: ON CONFLICT DO NOTHING skips
     *   an envelope already in used_envelopes (committed, or committed by a
     *   transaction this one waited for), and only the envelopes it did
     *   insert (RETURNING) get their session and credentials: each submit
     *   is all or nothing inside the one statement.
     * - ORDER BY: two batches sharing envelopes (two servers, a replay
     *   storm) insert them in the same order, so they queue, never deadlock.
     * - The answer is the index i of every submit stored; every other one
     *   was skipped as a replay (op_session_create_batch double-checks
     *   those on a retry). It reads no table: a lookup in sessions here
     *   would be planned once per connection, and a plan made while the
     *   table was small scans all of it. */
    [ST_SESSION_CREATE_BATCH] =
        {"pa_session_create_batch",
         "WITH b AS (SELECT * FROM json_to_recordset($1::json) AS t(i integer, id uuid,"
         " ephemeral_pub text, exchange text, label text, expires_ms double precision,"
         " enclave_pubkey text, nonce text, ciphertext text, tag text, metadata_jcs text)),"
         " used AS (INSERT INTO used_envelopes (ephemeral_pub) SELECT ephemeral_pub FROM b"
         " ORDER BY ephemeral_pub ON CONFLICT DO NOTHING RETURNING ephemeral_pub),"
         " s AS (INSERT INTO sessions (id, exchange, label, status, expires_at, enclave_pubkey)"
         " SELECT b.id, b.exchange, b.label, 'active', to_timestamp(b.expires_ms / 1000),"
         " b.enclave_pubkey FROM b JOIN used USING (ephemeral_pub) RETURNING id),"
         " c AS (INSERT INTO credentials (session_id, ephemeral_pub, nonce, ciphertext, tag,"
         " metadata_jcs, expires_at) SELECT b.id, b.ephemeral_pub, b.nonce, b.ciphertext, b.tag,"
         " b.metadata_jcs, to_timestamp(b.expires_ms / 1000) FROM b JOIN s USING (id)"
         " RETURNING session_id)"
         " SELECT b.i FROM b JOIN c ON c.session_id = b.id"},
    [ST_SESSION_EXISTS] = {"pa_session_exists", "SELECT 1 FROM sessions WHERE id = $1::uuid"},
    /* The enclave key is reported only while the credentials exist: db.h
     * promises all credential fields NULL once revoked or swept. */
    [ST_SESSION_GET] = {"pa_session_get",
                        "SELECT s.status, (extract(epoch FROM s.expires_at) * 1000)::bigint,"
                        " s.exchange, s.label, c.ephemeral_pub, c.nonce, c.ciphertext, c.tag,"
                        " c.metadata_jcs,"
                        " CASE WHEN c.session_id IS NULL THEN NULL ELSE s.enclave_pubkey END,"
                        " (SELECT count(*) FROM aggregates a WHERE a.session_id = s.id)"
                        " FROM sessions s LEFT JOIN credentials c ON c.session_id = s.id"
                        " WHERE s.id = $1::uuid"},
    /* result_store's lock conflicts with revoke's FOR UPDATE and with the
     * sweeper's UPDATE, so the session cannot stop being active before the
     * result commits; and with itself, so that two stores for one session
     * take turns and the count that follows (a new snapshot, read committed)
     * sees every result committed before: the cap is exact. NO KEY UPDATE
     * does not conflict with the KEY SHARE the aggregates foreign key takes. */
    [ST_SESSION_LOCK_STORE] = {"pa_session_lock_store",
                               "SELECT status = 'active' AND expires_at > now() FROM sessions"
                               " WHERE id = $1::uuid FOR NO KEY UPDATE"},
    [ST_RESULTS_COUNT] = {"pa_results_count",
                          "SELECT count(*) FROM aggregates WHERE session_id = $1::uuid"},
    [ST_SESSION_LOCK_UPDATE] = {"pa_session_lock_update",
                                "SELECT status FROM sessions WHERE id = $1::uuid FOR UPDATE"},
    [ST_AGGREGATE_INSERT] = {"pa_aggregate_insert",
                             "INSERT INTO aggregates (result_id, session_id, payload_jcs,"
                             " signature, merkle_root, attestation) VALUES ($1::uuid, $2::uuid,"
                             " $3, $4, $5, $6)"},
    /* The whole log in one statement: two JSON arrays of strings (entries and
     * leaf hashes) walked side by side. json_array_elements_text returns each
     * string exactly as given, so the stored entry is byte for byte the one
     * that was hashed. */
    [ST_MERKLE_INSERT] = {"pa_merkle_insert",
                          "INSERT INTO merkle_logs (result_id, idx, entry_jcs, leaf_hash)"
                          " SELECT $1::uuid, (t.ord - 1)::integer, t.entry, t.leaf FROM ROWS FROM"
                          " (json_array_elements_text($2::json), json_array_elements_text($3::json))"
                          " WITH ORDINALITY AS t(entry, leaf, ord)"},
    [ST_LOGS_GET] = {"pa_logs_get",
                     "SELECT a.merkle_root, m.entry_jcs, m.leaf_hash FROM aggregates a"
                     " LEFT JOIN merkle_logs m ON m.result_id = a.result_id"
                     " WHERE a.result_id = $1::uuid ORDER BY m.idx"},
    [ST_CREDENTIALS_DELETE] = {"pa_credentials_delete",
                               "DELETE FROM credentials WHERE session_id = $1::uuid"},
    [ST_MERKLE_DELETE] = {"pa_merkle_delete",
                          "DELETE FROM merkle_logs m USING aggregates a"
                          " WHERE m.result_id = a.result_id AND a.session_id = $1::uuid"},
    [ST_AGGREGATES_DELETE] = {"pa_aggregates_delete",
                              "DELETE FROM aggregates WHERE session_id = $1::uuid"},
    [ST_SESSION_TOMBSTONE] = {"pa_session_tombstone",
                              "UPDATE sessions SET status = 'revoked', label = NULL,"
                              " revoked_at = now() WHERE id = $1::uuid"},
    [ST_OPS_LOG] = {"pa_ops_log", "INSERT INTO ops_logs (event, detail) VALUES ($1, $2::jsonb)"},
    [ST_CLEANUP] = {"pa_cleanup", "SELECT cleanup_expired_credentials()"},
    /* An enclave-made key serves one session: the first submit naming it
     * claims it (migrations/006_enclave_keys.sql). */
    [ST_ENCLAVE_KEY_CLAIM] = {"pa_enclave_key_claim",
                              "UPDATE enclave_keys SET session_id = $2::uuid,"
                              " expires_at = to_timestamp($3::double precision / 1000)"
                              " WHERE key_id = $1::uuid AND session_id IS NULL"
                              " AND expires_at > now() AND exchange = $4"},
    [ST_ENCLAVE_KEY_DELETE] = {"pa_enclave_key_delete",
                               "DELETE FROM enclave_keys WHERE session_id = $1::uuid"},
};

/* ---- pool ---------------------------------------------------------------- */

typedef struct {
    PGconn *conn;
    bool ready; /* connected and every statement prepared */
    bool busy;
} pa_db_slot;

struct pa_db {
    char *conninfo;
    int size;
    pa_db_slot *slots;
    pthread_mutex_t lock;
    pthread_cond_t freed;
};

/* One call on one connection: what went wrong, for the retry decision. */
typedef struct {
    PGconn *conn;
    bool broken;      /* connection-class failure: drop the connection */
    bool commit_sent; /* from here on a broken connection means "unknown" */
    bool timed_out;   /* no answer by the deadline: dropped, never retried */
    char sqlstate[6];
    char constraint[64];
} pa_db_call;

static void notice_receiver(void *arg, const PGresult *res)
{
    (void)arg;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    pa_log_warn("db: server %s, SQLSTATE %s", severity ? severity : "notice",
                state ? state : "?");
}

static void slot_drop(pa_db_slot *slot)
{
    if (slot->conn != NULL)
        PQfinish(slot->conn);
    slot->conn = NULL;
    slot->ready = false;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The result of what was just sent on conn (PQsend*), waiting at most until
 * deadline_ms (monotonic). libpq has no per-call timeout: the connection is
 * in non-blocking mode, so this flushes what is queued and reads what
 * arrives with poll() on PQsocket. NULL with *timed_out set when the
 * deadline passed (the caller drops the connection: it is mid-query); NULL
 * otherwise when the connection failed. Of several results (never sent by
 * this code) the last is returned, an error in preference. */
static PGresult *await_result(PGconn *conn, int64_t deadline_ms, bool *timed_out)
{
    *timed_out = false;
    PGresult *last = NULL;
    int fd = PQsocket(conn);
    if (fd < 0)
        return NULL;
    for (;;) {
        int pending = PQflush(conn); /* 0 all sent, 1 more to send, -1 failed */
        if (pending < 0)
            break;
        if (pending == 0 && !PQisBusy(conn)) {
            PGresult *r = PQgetResult(conn);
            if (r == NULL)
                return last; /* the statement is done */
            if (last != NULL && PQresultStatus(last) == PGRES_FATAL_ERROR) {
                PQclear(r);
            } else {
                PQclear(last);
                last = r;
            }
            continue;
        }
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0) {
            *timed_out = true;
            break;
        }
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (pending ? POLLOUT : 0))};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0 && PQconsumeInput(conn) == 0)
            break; /* the connection failed; PQstatus says so */
    }
    PQclear(last);
    return NULL;
}

/* PQexecPrepared with the client-side deadline of now + PA_DB_CALL_TIMEOUT_MS. */
static PGresult *exec_bounded(PGconn *conn, const char *name, int nparams,
                              const char *const *values, bool *timed_out)
{
    *timed_out = false;
    if (PQsendQueryPrepared(conn, name, nparams, values, NULL, NULL, 0) != 1)
        return NULL;
    return await_result(conn, mono_ms() + PA_DB_CALL_TIMEOUT_MS, timed_out);
}

/* Connects (or reconnects) the slot and prepares every statement. */
PA_MUST_USE static int slot_connect(const pa_db *db, pa_db_slot *slot)
{
    if (slot->ready && PQstatus(slot->conn) == CONNECTION_OK &&
        PQtransactionStatus(slot->conn) == PQTRANS_IDLE)
        return 0;
    slot_drop(slot);

    /* Keywords before dbname are defaults the caller's conninfo may
     * override (libpq processes them in order, a later value wins). Each
     * bounds how long a worker can wait on the database: the connect; a
     * statement (statement_timeout, SQLSTATE 57014) or a lock it queues for
     * (lock_timeout, 55P03), both answered as PA_DB_UNAVAILABLE without a
     * retry; a transaction left idle (never by this code, but a bug should
     * not hold locks forever); and, over TCP only (libpq ignores these on a
     * Unix socket), a peer that vanished without closing: keepalives while
     * waiting for an answer, tcp_user_timeout for data it never
     * acknowledges. */
    const char *const keys[] = {
        "connect_timeout",  "fallback_application_name", "options",
        "keepalives",       "keepalives_idle",           "keepalives_interval",
        "keepalives_count", "tcp_user_timeout",          "dbname",
        NULL,
    };
    const char *const vals[] = {
        PA_DB_CONNECT_TIMEOUT_S_STR, "perfagg-server", PA_DB_DEFAULT_OPTIONS,
        "1",                         "10",             "5",
        "3",                         "20000",          db->conninfo,
        NULL,
    };
    slot->conn = PQconnectdbParams(keys, vals, 1);
    if (slot->conn == NULL) {
        pa_log_error("db: out of memory connecting");
        return -1;
    }
    if (PQstatus(slot->conn) != CONNECTION_OK) {
        /* libpq's connection errors name host, port and role: no secrets. */
        const char *msg = PQerrorMessage(slot->conn);
        size_t n = strcspn(msg, "\n");
        pa_log_warn("db: cannot connect: %.*s", (int)n, msg);
        slot_drop(slot);
        return -1;
    }
    PQsetNoticeReceiver(slot->conn, notice_receiver, NULL);
    /* Non-blocking from here on: every send and wait is bounded by
     * await_result's deadline (the connect itself by connect_timeout). */
    if (PQsetnonblocking(slot->conn, 1) != 0) {
        pa_log_error("db: cannot make the connection non-blocking");
        slot_drop(slot);
        return -1;
    }
    int64_t deadline = mono_ms() + PA_DB_CALL_TIMEOUT_MS;
    for (size_t i = 0; i < ST_COUNT; i++) {
        bool timed_out = false;
        PGresult *res = NULL;
        if (PQsendPrepare(slot->conn, statements[i].name, statements[i].sql, 0, NULL) == 1)
            res = await_result(slot->conn, deadline, &timed_out);
        bool ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
        if (timed_out) {
            pa_log_warn("db: no answer to PREPARE within %d ms: connection dropped",
                        PA_DB_CALL_TIMEOUT_MS);
        } else if (!ok) {
            const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
            pa_log_error("db: cannot prepare %s: SQLSTATE %s (are the migrations applied?)",
                         statements[i].name, state ? state : "none");
        }
        PQclear(res);
        if (!ok) {
            slot_drop(slot);
            return -1;
        }
    }
    slot->ready = true;
    return 0;
}

/* A free slot, or NULL when none came free within PA_DB_ACQUIRE_TIMEOUT_MS:
 * when every connection is stuck (a held lock, a hung server) the callers
 * behind them get PA_DB_UNAVAILABLE instead of queueing without end. */
static pa_db_slot *slot_acquire(pa_db *db)
{
    struct timespec until = pa_deadline_after_ms(PA_DB_ACQUIRE_TIMEOUT_MS);
    pthread_mutex_lock(&db->lock);
    pa_db_slot *pick = NULL;
    for (;;) {
        for (int i = 0; i < db->size; i++) {
            pa_db_slot *s = &db->slots[i];
            if (s->busy)
                continue;
            /* A connected slot saves a connect; otherwise any free one. */
            if (s->ready) {
                pick = s;
                break;
            }
            if (pick == NULL)
                pick = s;
        }
        if (pick != NULL)
            break;
        if (pthread_cond_timedwait(&db->freed, &db->lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&db->lock);
            return NULL;
        }
    }
    pick->busy = true;
    pthread_mutex_unlock(&db->lock);
    return pick;
}

static void slot_release(pa_db *db, pa_db_slot *slot)
{
    pthread_mutex_lock(&db->lock);
    slot->busy = false;
    pthread_cond_broadcast(&db->freed);
    pthread_mutex_unlock(&db->lock);
}

/* ---- statement execution ------------------------------------------------- */

static void call_note_failure(pa_db_call *c, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
    snprintf(c->constraint, sizeof c->constraint, "%s", cons ? cons : "");
    /* No SQLSTATE means the error came from libpq itself: the connection. */
    if (PQstatus(c->conn) != CONNECTION_OK || state == NULL || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0)
        c->broken = true;
    if (c->broken) {
        const char *msg = PQerrorMessage(c->conn);
        size_t n = strcspn(msg, "\n");
        pa_log_warn("db: %s: connection lost (SQLSTATE %s): %.*s", what,
                    state ? state : "none", (int)n, msg);
    } else if (strcmp(c->sqlstate, "57014") == 0 || strcmp(c->sqlstate, "55P03") == 0) {
        pa_log_warn("db: %s failed: SQLSTATE %s (%s timeout)", what, c->sqlstate,
                    strcmp(c->sqlstate, "57014") == 0 ? "statement" : "lock");
    } else if (strcmp(c->sqlstate, "23505") != 0) {
        pa_log_warn("db: %s failed: SQLSTATE %s%s%s", what, c->sqlstate,
                    c->constraint[0] ? ", constraint " : "", c->constraint);
    }
}

/* Runs a prepared statement; NULL (failure noted in c) unless it succeeded. */
static PGresult *call_exec(pa_db_call *c, int st, int nparams, const char *const *values)
{
    PGresult *res = exec_bounded(c->conn, statements[st].name, nparams, values, &c->timed_out);
    if (c->timed_out) {
        /* the server may be stopped or hung: this connection is mid-query
         * and is dropped; the caller answers 503 at once */
        pa_log_warn("db: %s: no answer within %d ms: connection dropped", statements[st].name,
                    PA_DB_CALL_TIMEOUT_MS);
        c->broken = true;
        return NULL;
    }
    ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK)
        return res;
    call_note_failure(c, res, statements[st].name);
    PQclear(res);
    return NULL;
}

/* A statement whose result is not needed. */
PA_MUST_USE static int call_run(pa_db_call *c, int st, int nparams, const char *const *values)
{
    PGresult *res = call_exec(c, st, nparams, values);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

PA_MUST_USE static int call_commit(pa_db_call *c)
{
    c->commit_sent = true;
    return call_run(c, ST_COMMIT, 0, NULL);
}

static bool call_is_conflict(const pa_db_call *c)
{
    return strcmp(c->sqlstate, "23505") == 0 &&
           (strcmp(c->constraint, "used_envelopes_pkey") == 0 ||
            strcmp(c->constraint, "credentials_ephemeral_pub_key") == 0);
}

typedef pa_db_status (*pa_db_op)(pa_db_call *c, void *arg);

/* Takes a slot, runs op on it (retrying once on a fresh connection when the
 * old one turned out dead before anything could have committed), rolls back
 * whatever op left open, and returns the slot. */
static pa_db_status pa_db_run(pa_db *db, pa_db_op op, void *arg)
{
    int64_t t0 = mono_ms();
    pa_db_slot *slot = slot_acquire(db);
    if (slot == NULL) {
        pa_log_warn("db: no free connection after %lld ms (all %d busy)",
                    (long long)(mono_ms() - t0), db->size);
        return PA_DB_UNAVAILABLE;
    }
    pa_db_status st = PA_DB_UNAVAILABLE;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (slot_connect(db, slot) != 0) {
            st = PA_DB_UNAVAILABLE;
            break;
        }
        pa_db_call c = {.conn = slot->conn};
        st = op(&c, arg);
        if (!c.broken && PQstatus(slot->conn) == CONNECTION_OK &&
            PQtransactionStatus(slot->conn) != PQTRANS_IDLE) {
            /* op stopped inside its transaction (a GONE, a CONFLICT, a
             * failed statement): undo everything it did. */
            bool timed_out = false;
            PGresult *res =
                exec_bounded(slot->conn, statements[ST_ROLLBACK].name, 0, NULL, &timed_out);
            if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
                c.broken = true;
            PQclear(res);
        }
        if (c.broken || PQstatus(slot->conn) != CONNECTION_OK ||
            PQtransactionStatus(slot->conn) != PQTRANS_IDLE)
            slot_drop(slot);
        /* A deadline that passed is not retried: a server that did not
         * answer in PA_DB_CALL_TIMEOUT_MS would double the wait. */
        if (!(st == PA_DB_UNAVAILABLE && c.broken && !c.commit_sent && !c.timed_out))
            break;
        pa_log_info("db: retrying on a new connection");
    }
    slot_release(db, slot);
    return st;
}

static char *dup_or_null(const PGresult *res, int row, int col, bool *oom)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    char *s = strdup(PQgetvalue(res, row, col));
    if (s == NULL)
        *oom = true;
    return s;
}

/* ---- open / close / ping ------------------------------------------------- */

pa_db *pa_db_open(const char *conninfo, int pool_size)
{
    if (conninfo == NULL || pool_size < 1 || pool_size > PA_DB_MAX_POOL)
        return NULL;
    /* Only the syntax is checked here (a typo is a configuration error worth
     * failing on); whether the server is up is found out on first use. The
     * parser's message can quote the string, password included: not logged. */
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (opts == NULL) {
        pa_log_error("db: malformed DATABASE_URL / conninfo");
        if (err != NULL)
            PQfreemem(err);
        return NULL;
    }
    PQconninfoFree(opts);

    pa_db *db = calloc(1, sizeof *db);
    if (db == NULL)
        return NULL;
    db->conninfo = strdup(conninfo);
    db->slots = calloc((size_t)pool_size, sizeof *db->slots);
    if (db->conninfo == NULL || db->slots == NULL) {
        free(db->slots);
        pa_free_secret_str(db->conninfo);
        free(db);
        return NULL;
    }
    db->size = pool_size;
    pthread_mutex_init(&db->lock, NULL);
    /* slot_acquire's deadline is on the monotonic clock: a wall-clock step
     * must not stretch or cut the wait. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&db->freed, &ca);
    pthread_condattr_destroy(&ca);
    return db;
}

void pa_db_close(pa_db *db)
{
    if (db == NULL)
        return;
    /* Wait for calls still in flight to hand their slots back. */
    pthread_mutex_lock(&db->lock);
    for (;;) {
        bool busy = false;
        for (int i = 0; i < db->size; i++)
            busy = busy || db->slots[i].busy;
        if (!busy)
            break;
        pthread_cond_wait(&db->freed, &db->lock);
    }
    pthread_mutex_unlock(&db->lock);
    for (int i = 0; i < db->size; i++)
        slot_drop(&db->slots[i]);
    pthread_cond_destroy(&db->freed);
    pthread_mutex_destroy(&db->lock);
    pa_free_secret_str(db->conninfo); /* it may hold a password */
    free(db->slots);
    free(db);
}

static pa_db_status op_ping(pa_db_call *c, void *arg)
{
    (void)arg;
    return call_run(c, ST_PING, 0, NULL) == 0 ? PA_DB_OK : PA_DB_UNAVAILABLE;
}

pa_db_status pa_db_ping(pa_db *db)
{
    if (db == NULL)
        return PA_DB_UNAVAILABLE;
    return pa_db_run(db, op_ping, NULL);
}

/* ---- sessions ------------------------------------------------------------ */

typedef struct {
    const pa_db_new_session *s;
    bool tried; /* an earlier attempt was sent on a connection that then broke */
} session_create_args;

static pa_db_status op_session_create(pa_db_call *c, void *arg)
{
    session_create_args *a = arg;
    const pa_db_new_session *s = a->s;
    char expires[24];
    snprintf(expires, sizeof expires, "%" PRId64, s->expires_at_ms);

    const char *const params[] = {s->session_id, s->ephemeral_pub, s->exchange, s->label,
                                  expires,        s->enclave_pubkey, s->nonce, s->ciphertext,
                                  s->tag,         s->metadata_jcs};
    const bool retry = a->tried;
    a->tried = true;
    /* An enclave-made key is claimed in the same transaction, so a session
     * never exists with a key another session holds (the rare path: a
     * transaction of its own around the statement). */
    const bool claim_key = s->enclave_key_id != NULL;
    if (claim_key && call_run(c, ST_BEGIN, 0, NULL) != 0)
        return PA_DB_UNAVAILABLE;
    if (call_run(c, ST_SESSION_CREATE, 10, params) == 0) {
        if (!claim_key)
            return PA_DB_OK;
        const char *const claim[] = {s->enclave_key_id, s->session_id, expires, s->exchange};
        PGresult *res = call_exec(c, ST_ENCLAVE_KEY_CLAIM, 4, claim);
        if (res == NULL)
            return PA_DB_UNAVAILABLE;
        bool claimed = strcmp(PQcmdTuples(res), "1") == 0;
        PQclear(res);
        if (!claimed)
            return PA_DB_KEY_USED; /* pa_db_run rolls back: nothing is stored */
        return call_commit(c) == 0 ? PA_DB_OK : PA_DB_UNAVAILABLE;
    }
    if (!call_is_conflict(c))
        return PA_DB_UNAVAILABLE;
    /* Without a transaction around it the statement commits by itself, so a
     * connection that broke under it (pa_db_run retries once) may have
     * stored it after all: the session id is this submission's own, so
     * finding it means the first attempt committed, not that the envelope
     * was replayed. */
    if (retry && !claim_key) {
        const char *const id[] = {s->session_id};
        PGresult *res = call_exec(c, ST_SESSION_EXISTS, 1, id);
        if (res == NULL)
            return PA_DB_UNAVAILABLE;
        bool ours = PQntuples(res) > 0;
        PQclear(res);
        if (ours)
            return PA_DB_OK;
    }
    return PA_DB_CONFLICT;
}

static pa_db_status op_envelope_seen(pa_db_call *c, void *arg)
{
    const char *const params[] = {arg};
    PGresult *res = call_exec(c, ST_ENVELOPE_SEEN, 1, params);
    if (res == NULL)
        return PA_DB_UNAVAILABLE;
    pa_db_status st = PQntuples(res) > 0 ? PA_DB_CONFLICT : PA_DB_OK;
    PQclear(res);
    return st;
}

pa_db_status pa_db_envelope_seen(pa_db *db, const char *ephemeral_pub)
{
    if (db == NULL || ephemeral_pub == NULL)
        return PA_DB_UNAVAILABLE;
    return pa_db_run(db, op_envelope_seen, (void *)ephemeral_pub);
}

/* Contract violations change nothing; db.h has no "invalid" status, and the
 * API validates all of this before it gets here. */
static bool new_session_valid(const pa_db_new_session *s)
{
    if (s == NULL || s->session_id == NULL || !pa_uuid_valid(s->session_id) ||
        s->exchange == NULL || s->ephemeral_pub == NULL || s->nonce == NULL ||
        s->ciphertext == NULL || s->tag == NULL || s->metadata_jcs == NULL ||
        (s->enclave_key_id != NULL && !pa_uuid_valid(s->enclave_key_id))) {
        pa_log_error("db: session_create called with missing or malformed fields");
        return false;
    }
    return true;
}

pa_db_status pa_db_session_create(pa_db *db, const pa_db_new_session *s)
{
    if (db == NULL || !new_session_valid(s))
        return PA_DB_UNAVAILABLE;
    session_create_args a = {.s = s, .tried = false};
    return pa_db_run(db, op_session_create, &a);
}

typedef struct {
    const pa_db_new_session *const *s; /* the batch's rows, each valid */
    const size_t *idx;                 /* their positions in the caller's out[] */
    size_t n;
    const char *rows_json; /* the rows as ST_SESSION_CREATE_BATCH reads them */
    pa_db_status *out;     /* the caller's, indexed through idx */
    bool tried;            /* an earlier attempt was sent on a connection that then broke */
} session_batch_args;

/* A statement failure that says nothing about any one submit: the
 * connection, or the database too busy to answer in time (statement or lock
 * timeout). Every submit of the batch then gets the same 503. */
static bool call_failed_as_a_whole(const pa_db_call *c)
{
    return c->broken || c->timed_out || strcmp(c->sqlstate, "57014") == 0 ||
           strcmp(c->sqlstate, "55P03") == 0;
}

static pa_db_status op_session_create_batch(pa_db_call *c, void *arg)
{
    session_batch_args *a = arg;
    const bool retry = a->tried;
    a->tried = true;
    for (size_t k = 0; k < a->n; k++)
        a->out[a->idx[k]] = PA_DB_UNAVAILABLE;

    const char *const params[] = {a->rows_json};
    PGresult *res = call_exec(c, ST_SESSION_CREATE_BATCH, 1, params);
    if (res != NULL) {
        /* Committed. A submit not in the answer was skipped by ON CONFLICT:
         * its envelope had been used before. */
        for (size_t k = 0; k < a->n; k++)
            a->out[a->idx[k]] = PA_DB_CONFLICT;
        for (int r = 0; r < PQntuples(res); r++) {
            long k = strtol(PQgetvalue(res, r, 0), NULL, 10);
            if (k >= 0 && (size_t)k < a->n)
                a->out[a->idx[k]] = PA_DB_OK;
        }
        PQclear(res);
        /* On a retry (the first attempt's connection broke, maybe after its
         * commit) a "replay" can be this batch's own row, stored by that
         * first attempt: its session id is this submit's own fresh UUID,
         * so finding it means stored, not replayed. Rare: one lookup each. */
        for (size_t k = 0; retry && k < a->n; k++) {
            if (a->out[a->idx[k]] != PA_DB_CONFLICT)
                continue;
            const char *const id[] = {a->s[k]->session_id};
            res = call_exec(c, ST_SESSION_EXISTS, 1, id);
            if (res == NULL) {
                /* not known which: 503, as for a COMMIT that broke */
                for (size_t j = k; j < a->n; j++)
                    if (a->out[a->idx[j]] == PA_DB_CONFLICT)
                        a->out[a->idx[j]] = PA_DB_UNAVAILABLE;
                return PA_DB_UNAVAILABLE;
            }
            if (PQntuples(res) > 0)
                a->out[a->idx[k]] = PA_DB_OK;
            PQclear(res);
        }
        return PA_DB_OK;
    }
    if (call_failed_as_a_whole(c))
        return PA_DB_UNAVAILABLE; /* pa_db_run retries a connection that broke */
    /* The statement failed on the data of some submit (a CHECK the API's
     * validation let through, a colliding session id, a deadlock with a
     * transaction outside this server): being one statement, it stored
     * nothing. Each submit alone then, so only the faulty one fails. The
     * slow path; it keeps every submit's outcome its own. */
    pa_log_warn("db: session batch of %zu failed as a whole (SQLSTATE %s): one by one", a->n,
                c->sqlstate);
    for (size_t k = 0; k < a->n; k++) {
        session_create_args one = {.s = a->s[k], .tried = retry};
        a->out[a->idx[k]] = op_session_create(c, &one);
        if (call_failed_as_a_whole(c))
            return PA_DB_UNAVAILABLE; /* the rest stay unavailable */
    }
    return PA_DB_OK;
}

/* The rows of a batch as one JSON array of objects, the column names of
 * ST_SESSION_CREATE_BATCH's record type; i is the row's index in the batch. */
static char *batch_rows_json(const pa_db_new_session *const *s, size_t n)
{
    json_t *arr = json_array();
    char *out = NULL;
    if (arr == NULL)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        /* json_pack refuses invalid UTF-8 (PostgreSQL would too) and takes
         * NULL for the optional label and enclave key ("s?"). */
        json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:I, s:s?, s:s, s:s, s:s, s:s}", "i",
                                (json_int_t)k, "id", s[k]->session_id, "ephemeral_pub",
                                s[k]->ephemeral_pub, "exchange", s[k]->exchange, "label",
                                s[k]->label, "expires_ms", (json_int_t)s[k]->expires_at_ms,
                                "enclave_pubkey", s[k]->enclave_pubkey, "nonce", s[k]->nonce,
                                "ciphertext", s[k]->ciphertext, "tag", s[k]->tag,
                                "metadata_jcs", s[k]->metadata_jcs);
        if (row == NULL || json_array_append_new(arr, row) != 0)
            goto cleanup;
    }
    out = json_dumps(arr, JSON_COMPACT);
cleanup:
    json_decref(arr);
    return out;
}

void pa_db_session_create_batch(pa_db *db, const pa_db_new_session *const *s, size_t n,
                                pa_db_status *out)
{
    if (out == NULL)
        return;
    const pa_db_new_session *rows[PA_DB_BATCH_MAX];
    size_t idx[PA_DB_BATCH_MAX];
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        out[i] = PA_DB_UNAVAILABLE;
    if (db == NULL || s == NULL || n > PA_DB_BATCH_MAX) {
        pa_log_error("db: session batch called without a pool, rows, or with too many");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        /* an enclave-made key is claimed in a transaction of its own
         * (op_session_create): never batched */
        if (!new_session_valid(s[i]) || s[i]->enclave_key_id != NULL)
            continue;
        rows[m] = s[i];
        idx[m++] = i;
    }
    if (m == 0)
        return;
    char *json = batch_rows_json(rows, m);
    if (json == NULL) {
        pa_log_error("db: session batch: rows cannot be encoded");
        return;
    }
    session_batch_args a = {
        .s = rows, .idx = idx, .n = m, .rows_json = json, .out = out, .tried = false};
    (void)pa_db_run(db, op_session_create_batch, &a);
    free(json);
}

typedef struct {
    const char *session_id;
    pa_db_session *out;
} session_get_args;

static pa_db_status op_session_get(pa_db_call *c, void *arg)
{
    session_get_args *a = arg;
    const char *const params[] = {a->session_id};
    PGresult *res = call_exec(c, ST_SESSION_GET, 1, params);
    if (res == NULL)
        return PA_DB_UNAVAILABLE;
    pa_db_status st = PA_DB_UNAVAILABLE;
    pa_db_session tmp = {0};
    bool oom = false;
    if (PQntuples(res) == 0) {
        st = PA_DB_NOT_FOUND;
        goto cleanup;
    }
    /* The CHECK constraints keep status and exchange short; a longer value
     * would be a schema this code does not know. */
    if (strlen(PQgetvalue(res, 0, 0)) >= sizeof tmp.status ||
        strlen(PQgetvalue(res, 0, 2)) >= sizeof tmp.exchange) {
        pa_log_error("db: session row does not fit pa_db_session");
        goto cleanup;
    }
    snprintf(tmp.status, sizeof tmp.status, "%s", PQgetvalue(res, 0, 0));
    tmp.expires_at_ms = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    snprintf(tmp.exchange, sizeof tmp.exchange, "%s", PQgetvalue(res, 0, 2));
    tmp.label = dup_or_null(res, 0, 3, &oom);
    tmp.ephemeral_pub = dup_or_null(res, 0, 4, &oom);
    tmp.nonce = dup_or_null(res, 0, 5, &oom);
    tmp.ciphertext = dup_or_null(res, 0, 6, &oom);
    tmp.tag = dup_or_null(res, 0, 7, &oom);
    tmp.metadata_jcs = dup_or_null(res, 0, 8, &oom);
    tmp.enclave_pubkey = dup_or_null(res, 0, 9, &oom);
    tmp.results = strtol(PQgetvalue(res, 0, 10), NULL, 10);
    if (oom)
        goto cleanup;
    *a->out = tmp;
    memset(&tmp, 0, sizeof tmp);
    st = PA_DB_OK;
cleanup:
    pa_db_session_free(&tmp);
    PQclear(res);
    return st;
}

pa_db_status pa_db_session_get(pa_db *db, const char *session_id, pa_db_session *out)
{
    if (out == NULL)
        return PA_DB_UNAVAILABLE;
    memset(out, 0, sizeof *out);
    if (db == NULL || session_id == NULL)
        return PA_DB_UNAVAILABLE;
    /* Every stored id is a v4 UUID: anything else names no session. */
    if (!pa_uuid_valid(session_id))
        return PA_DB_NOT_FOUND;
    session_get_args a = {session_id, out};
    return pa_db_run(db, op_session_get, &a);
}

void pa_db_session_free(pa_db_session *s)
{
    if (s == NULL)
        return;
    free(s->label);
    free(s->ephemeral_pub);
    free(s->nonce);
    free(s->ciphertext);
    free(s->tag);
    free(s->metadata_jcs);
    free(s->enclave_pubkey);
    memset(s, 0, sizeof *s);
}

/* ---- results and their logs ---------------------------------------------- */

typedef struct {
    const pa_db_result *r;
    const char *entries_json; /* NULL when there are no entries */
    const char *leaves_json;
} result_store_args;

static pa_db_status op_result_store(pa_db_call *c, void *arg)
{
    result_store_args *a = arg;
    const pa_db_result *r = a->r;
    const char *const lock[] = {r->session_id};
    const char *const agg[] = {r->result_id, r->session_id, r->payload_jcs,
                               r->signature, r->merkle_root, r->attestation};
    const char *const logs[] = {r->result_id, a->entries_json, a->leaves_json};

    if (call_run(c, ST_BEGIN, 0, NULL) != 0)
        return PA_DB_UNAVAILABLE;
    PGresult *res = call_exec(c, ST_SESSION_LOCK_STORE, 1, lock);
    if (res == NULL)
        return PA_DB_UNAVAILABLE;
    pa_db_status st = PQntuples(res) == 0                        ? PA_DB_NOT_FOUND
                      : strcmp(PQgetvalue(res, 0, 0), "t") != 0 ? PA_DB_GONE
                                                                 : PA_DB_OK;
    PQclear(res);
    if (st != PA_DB_OK)
        return st; /* pa_db_run rolls back */
    res = call_exec(c, ST_RESULTS_COUNT, 1, lock);
    if (res == NULL)
        return PA_DB_UNAVAILABLE;
    long stored = PQntuples(res) == 1 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    if (stored < 0)
        return PA_DB_UNAVAILABLE;
    if (stored >= r->max_results)
        return PA_DB_LIMIT;
    if (call_run(c, ST_AGGREGATE_INSERT, 6, agg) != 0)
        return PA_DB_UNAVAILABLE;
    if (r->nentries > 0) {
        res = call_exec(c, ST_MERKLE_INSERT, 3, logs);
        if (res == NULL)
            return PA_DB_UNAVAILABLE;
        bool all = strtoull(PQcmdTuples(res), NULL, 10) == r->nentries;
        PQclear(res);
        if (!all) {
            pa_log_error("db: merkle log rows do not match the entries given");
            return PA_DB_UNAVAILABLE;
        }
    }
    return call_commit(c) == 0 ? PA_DB_OK : PA_DB_UNAVAILABLE;
}

/* A JSON array of the n strings (jansson does the escaping). */
static char *json_string_array(const char *const *v, size_t n)
{
    json_t *arr = json_array();
    char *out = NULL;
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        /* json_string refuses invalid UTF-8, which PostgreSQL would too. */
        if (v[i] == NULL || json_array_append_new(arr, json_string(v[i])) != 0)
            goto cleanup;
    }
    out = json_dumps(arr, JSON_COMPACT);
cleanup:
    json_decref(arr);
    return out;
}

pa_db_status pa_db_result_store(pa_db *db, const pa_db_result *r)
{
    if (db == NULL || r == NULL || r->result_id == NULL || !pa_uuid_valid(r->result_id) ||
        r->session_id == NULL || r->payload_jcs == NULL || r->signature == NULL ||
        r->merkle_root == NULL || r->attestation == NULL || r->max_results < 1 ||
        (r->nentries > 0 && (r->entries == NULL || r->leaf_hashes == NULL))) {
        pa_log_error("db: result_store called with missing or malformed fields");
        return PA_DB_UNAVAILABLE;
    }
    if (!pa_uuid_valid(r->session_id))
        return PA_DB_NOT_FOUND;
    result_store_args a = {r, NULL, NULL};
    char *entries = NULL, *leaves = NULL;
    pa_db_status st = PA_DB_UNAVAILABLE;
    if (r->nentries > 0) {
        entries = json_string_array(r->entries, r->nentries);
        leaves = json_string_array(r->leaf_hashes, r->nentries);
        if (entries == NULL || leaves == NULL) {
            pa_log_error("db: result_store: audit entries are not valid UTF-8 strings");
            goto cleanup;
        }
        a.entries_json = entries;
        a.leaves_json = leaves;
    }
    st = pa_db_run(db, op_result_store, &a);
cleanup:
    free(entries);
    free(leaves);
    return st;
}

typedef struct {
    const char *result_id;
    pa_db_logs *out;
} logs_get_args;

static pa_db_status op_logs_get(pa_db_call *c, void *arg)
{
    logs_get_args *a = arg;
    const char *const params[] = {a->result_id};
    PGresult *res = call_exec(c, ST_LOGS_GET, 1, params);
    if (res == NULL)
        return PA_DB_UNAVAILABLE;
    pa_db_status st = PA_DB_UNAVAILABLE;
    pa_db_logs tmp = {0};
    bool oom = false;
    int rows = PQntuples(res);
    if (rows == 0) {
        st = PA_DB_NOT_FOUND;
        goto cleanup;
    }
    tmp.merkle_root = dup_or_null(res, 0, 0, &oom);
    /* One row with NULL log columns: a result stored without entries. */
    size_t n = PQgetisnull(res, 0, 1) ? 0 : (size_t)rows;
    if (n > 0) {
        tmp.entries = calloc(n, sizeof *tmp.entries);
        tmp.leaf_hashes = calloc(n, sizeof *tmp.leaf_hashes);
        if (tmp.entries == NULL || tmp.leaf_hashes == NULL)
            oom = true;
        for (size_t i = 0; i < n && !oom; i++) {
            tmp.n = i + 1; /* so a partial copy is freed */
            tmp.entries[i] = dup_or_null(res, (int)i, 1, &oom);
            tmp.leaf_hashes[i] = dup_or_null(res, (int)i, 2, &oom);
        }
    }
    if (oom || tmp.merkle_root == NULL)
        goto cleanup;
    tmp.n = n;
    *a->out = tmp;
    memset(&tmp, 0, sizeof tmp);
    st = PA_DB_OK;
cleanup:
    pa_db_logs_free(&tmp);
    PQclear(res);
    return st;
}

pa_db_status pa_db_logs_get(pa_db *db, const char *result_id, pa_db_logs *out)
{
    if (out == NULL)
        return PA_DB_UNAVAILABLE;
    memset(out, 0, sizeof *out);
    if (db == NULL || result_id == NULL)
        return PA_DB_UNAVAILABLE;
    if (!pa_uuid_valid(result_id))
        return PA_DB_NOT_FOUND;
    logs_get_args a = {result_id, out};
    return pa_db_run(db, op_logs_get, &a);
}

void pa_db_logs_free(pa_db_logs *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        if (l->entries != NULL)
            free(l->entries[i]);
        if (l->leaf_hashes != NULL)
            free(l->leaf_hashes[i]);
    }
    free(l->entries);
    free(l->leaf_hashes);
    free(l->merkle_root);
    memset(l, 0, sizeof *l);
}

/* ---- revoke, sweep, ops log ---------------------------------------------- */

static pa_db_status op_session_revoke(pa_db_call *c, void *arg)
{
    const char *const id[] = {arg};
    /* The event says that a revoke happened, never which session: the id is
     * the trader's capability and stays only as the tombstone's key. */
    const char *const event[] = {"session_revoked", NULL};

    if (call_run(c, ST_BEGIN, 0, NULL) != 0)
        return PA_DB_UNAVAILABLE;
    /* Locking the session first serialises against result_store (FOR SHARE)
     * and the sweeper (same order), so nothing is stored for it afterwards. */
    PGresult *res = call_exec(c, ST_SESSION_LOCK_UPDATE, 1, id);
    if (res == NULL)
        return PA_DB_UNAVAILABLE;
    pa_db_status st = PQntuples(res) == 0                              ? PA_DB_NOT_FOUND
                      : strcmp(PQgetvalue(res, 0, 0), "revoked") == 0 ? PA_DB_GONE
                                                                       : PA_DB_OK;
    PQclear(res);
    if (st != PA_DB_OK)
        return st;
    if (call_run(c, ST_CREDENTIALS_DELETE, 1, id) != 0 ||
        call_run(c, ST_ENCLAVE_KEY_DELETE, 1, id) != 0 ||
        call_run(c, ST_MERKLE_DELETE, 1, id) != 0 ||
        call_run(c, ST_AGGREGATES_DELETE, 1, id) != 0 ||
        call_run(c, ST_SESSION_TOMBSTONE, 1, id) != 0 ||
        call_run(c, ST_OPS_LOG, 2, event) != 0 || call_commit(c) != 0)
        return PA_DB_UNAVAILABLE;
    return PA_DB_OK;
}

pa_db_status pa_db_session_revoke(pa_db *db, const char *session_id)
{
    if (db == NULL || session_id == NULL)
        return PA_DB_UNAVAILABLE;
    if (!pa_uuid_valid(session_id))
        return PA_DB_NOT_FOUND;
    return pa_db_run(db, op_session_revoke, (void *)session_id);
}

static pa_db_status op_cleanup(pa_db_call *c, void *arg)
{
    long *count = arg;
    PGresult *res = call_exec(c, ST_CLEANUP, 0, NULL);
    if (res == NULL)
        return PA_DB_UNAVAILABLE;
    pa_db_status st = PA_DB_UNAVAILABLE;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        *count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        st = PA_DB_OK;
    }
    PQclear(res);
    return st;
}

pa_db_status pa_db_cleanup_expired(pa_db *db, long *count)
{
    if (db == NULL || count == NULL)
        return PA_DB_UNAVAILABLE;
    *count = 0;
    return pa_db_run(db, op_cleanup, count);
}

static pa_db_status op_ops_log(pa_db_call *c, void *arg)
{
    return call_run(c, ST_OPS_LOG, 2, arg) == 0 ? PA_DB_OK : PA_DB_UNAVAILABLE;
}

pa_db_status pa_db_ops_log(pa_db *db, const char *event, const char *detail_json)
{
    if (db == NULL || event == NULL)
        return PA_DB_UNAVAILABLE;
    const char *params[] = {event, detail_json};
    return pa_db_run(db, op_ops_log, params);
}

/* ---- ad-hoc parameterised statements (db_query.h) ------------------------ */

#include "db_query.h"

typedef struct {
    const char *sql;
    int nparams;
    const char *const *values;
    pa_db_rows_fn rows;
    void *arg;
} query_args;

static pa_db_status op_query(pa_db_call *c, void *arg)
{
    query_args *a = arg;
    /* The same client-side deadline as the prepared statements (call_exec). */
    PGresult *res = NULL;
    c->timed_out = false;
    if (PQsendQueryParams(c->conn, a->sql, a->nparams, NULL, a->values, NULL, NULL, 0) == 1)
        res = await_result(c->conn, mono_ms() + PA_DB_CALL_TIMEOUT_MS, &c->timed_out);
    if (c->timed_out) {
        pa_log_warn("db: query: no answer within %d ms: connection dropped", PA_DB_CALL_TIMEOUT_MS);
        c->broken = true;
        return PA_DB_UNAVAILABLE;
    }
    ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        call_note_failure(c, res, "query");
        PQclear(res);
        return PA_DB_UNAVAILABLE;
    }
    pa_db_status st = a->rows != NULL ? a->rows(res, a->arg) : PA_DB_OK;
    PQclear(res);
    return st;
}

pa_db_status pa_db_query(pa_db *db, const char *sql, int nparams, const char *const *values,
                         pa_db_rows_fn rows, void *arg)
{
    if (db == NULL || sql == NULL || nparams < 0 || (nparams > 0 && values == NULL))
        return PA_DB_UNAVAILABLE;
    query_args a = {sql, nparams, values, rows, arg};
    return pa_db_run(db, op_query, &a);
}
