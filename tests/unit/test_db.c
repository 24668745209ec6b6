/* The database layer against a real PostgreSQL: migrations (applied twice),
 * every function of src/server/db.h, the CHECK constraints, the roles and
 * their grants, the sweeper function, and the pool surviving killed backends.
 *
 * Needs PA_TEST_PGHOST: the socket directory of a cluster whose superuser
 * `postgres` logs in with trust auth (scripts/pgcluster.sh makes one). Each
 * run creates its own randomly named database and drops it at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_child.h"
#include "test_pg.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "codec.h"
#include "db.h"
#include "keygen_db.h"
#include "db_query.h"
#include "timeutil.h"
#include "uuid.h"

/* ---- fixture ------------------------------------------------------------- */

static char dbname[40];
static char migrate_out[2][4096]; /* stdout of the two migrate.sh runs */
static pa_db *db;                 /* the pool, as app_service */
static PGconn *admin;             /* postgres, on the test database */
static PGconn *app;               /* app_service, raw, for privilege tests */
static PGconn *op;                /* operator_readonly */

static int group_setup(void **state)
{
    (void)state;
    if (pa_test_pg_random_name(dbname, sizeof dbname) != 0)
        abort();
    if (pa_test_pg_database(1, dbname) != 0)
        return -1;
    /* Twice: the second run must find everything applied and change nothing. */
    if (pa_test_pg_migrate(dbname, migrate_out[0], sizeof migrate_out[0]) != 0 ||
        pa_test_pg_migrate(dbname, migrate_out[1], sizeof migrate_out[1]) != 0) {
        fprintf(stderr, "test_db: migrate.sh failed:\n%s%s", migrate_out[0], migrate_out[1]);
        return -1;
    }
    admin = pa_test_pg_connect("postgres", dbname);
    app = pa_test_pg_connect("app_service", dbname);
    op = pa_test_pg_connect("operator_readonly", dbname);
    char *conninfo = pa_test_pg_conninfo("app_service", dbname);
    db = conninfo ? pa_db_open(conninfo, 4) : NULL;
    free(conninfo);
    return admin && app && op && db ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    pa_db_close(db);
    PQfinish(op);
    PQfinish(app);
    PQfinish(admin);
    return pa_test_pg_database(0, dbname);
}

/* ---- helpers ------------------------------------------------------------- */

static void fake_create(pa_test_session *f, const char *label, int64_t expires_at_ms)
{
    pa_test_session_init(f, label, expires_at_ms);
    assert_int_equal(pa_db_session_create(db, &f->s), PA_DB_OK);
}

static long long count_for(const char *sql, const char *id)
{
    const char *const p[] = {id};
    return pa_test_pg_query_int(admin, sql, 1, p);
}

/* Runs sql as c, expects it to fail with SQLSTATE `state`; returns nothing,
 * asserts. When `constraint` is given, the violated constraint must be it. */
static void expect_error(PGconn *c, const char *sql, int n, const char *const *params,
                         const char *state, const char *constraint)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    const char *got = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *cons = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    if (PQresultStatus(r) != PGRES_FATAL_ERROR || got == NULL || strcmp(got, state) != 0 ||
        (constraint != NULL && (cons == NULL || strcmp(cons, constraint) != 0))) {
        fprintf(stderr, "test_db: expected %s (%s) from: %s\n  got status %s, %s %s\n", state,
                constraint ? constraint : "-", sql, PQresStatus(PQresultStatus(r)),
                got ? got : "no sqlstate", PQresultErrorMessage(r));
        PQclear(r);
        fail_msg("unexpected outcome");
    }
    PQclear(r);
}

static void expect_ok(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        fprintf(stderr, "test_db: %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        fail_msg("statement failed");
    }
    PQclear(r);
}

/* A result with `n` audit entries for session `sid`. */
typedef struct {
    char id[PA_UUID_STR_LEN];
    char *sig;
    const char *entries[3];
    const char *leaves[3];
    pa_db_result r;
} fake_result;

static const char *const sample_entries[3] = {
    "{\"count\":1000,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":1,\"last_id\":1000,"
    "\"page\":1,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}",
    /* quotes, backslashes, non-ASCII: stored and served byte for byte */
    "{\"note\":\"a \\\"q\\\" \\\\ caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"type\":\"fetch\"}",
    "{\"fills\":2,\"from\":\"2026-01-01T00:00:00.000Z\",\"symbols\":[\"BTCUSDT\"],"
    "\"to\":\"2026-01-31T00:00:00.000Z\",\"type\":\"window\"}",
};
static const char *const sample_leaves[3] = {
    "0000000000000000000000000000000000000000000000000000000000000001",
    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
};
/* Key order and number forms jsonb would rewrite. */
static const char sample_payload[] =
    "{\"type\":\"perfagg/v1/aggregates\",\"pnl\":1e+21,\"a\":1.50,\"volume\":-0}";

static void result_init(fake_result *f, const char *sid, size_t n)
{
    assert_int_equal(pa_uuid_v4(f->id), 0);
    f->sig = pa_test_b64_random(64);
    for (size_t i = 0; i < 3; i++) {
        f->entries[i] = sample_entries[i];
        f->leaves[i] = sample_leaves[i];
    }
    f->r = (pa_db_result){
        .result_id = f->id,
        .session_id = sid,
        .payload_jcs = sample_payload,
        .signature = f->sig,
        .merkle_root = "9b07a1cc69b3a3f7d2c5b85aa1fd1b96e0d8f1dbd8d64d3f67f4b37d2d3e1f10",
        .attestation = "{\"quote\":\"AA==\"}",
        .entries = f->entries,
        .leaf_hashes = f->leaves,
        .nentries = n,
        .max_results = 100,
    };
}

/* ---- migrations ---------------------------------------------------------- */

static void test_migrations_applied_once(void **state)
{
    (void)state;
    /* Every file in migrations/ is recorded, each exactly once. */
    DIR *d = opendir(PA_SOURCE_DIR "/migrations");
    assert_non_null(d);
    long long files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".sql") == 0) {
            files++;
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(l - 4), e->d_name);
            assert_int_equal(
                count_for("SELECT count(*) FROM schema_migrations WHERE version = $1", name), 1);
            char line[300];
            snprintf(line, sizeof line, "applied %s\n", name);
            assert_non_null(strstr(migrate_out[0], line));
            assert_null(strstr(migrate_out[1], line));
        }
    }
    closedir(d);
    assert_true(files >= 3);
    assert_int_equal(pa_test_pg_query_int(admin, "SELECT count(*) FROM schema_migrations", 0, NULL),
                     files);
    assert_non_null(strstr(migrate_out[1], "0 migration(s) applied"));
}

/* ---- sessions ------------------------------------------------------------ */

static void test_session_create_get(void **state)
{
    (void)state;
    pa_test_session f;
    int64_t exp = pa_now_ms() + 3600 * 1000 + 123; /* odd milliseconds round-trip */
    fake_create(&f, "main \xe2\x82\xac", exp);

    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, f.id, &s), PA_DB_OK);
    assert_string_equal(s.status, "active");
    assert_int_equal(s.expires_at_ms, exp);
    assert_string_equal(s.exchange, "binance");
    assert_string_equal(s.label, "main \xe2\x82\xac");
    assert_string_equal(s.ephemeral_pub, f.eph);
    assert_string_equal(s.nonce, f.nonce);
    assert_string_equal(s.ciphertext, f.ct);
    assert_string_equal(s.tag, f.tag);
    assert_string_equal(s.metadata_jcs, f.s.metadata_jcs);
    assert_string_equal(s.enclave_pubkey, f.enclave);
    pa_db_session_free(&s);
    assert_null(s.label);
    /* Both copies of the expiry agree. */
    assert_int_equal(count_for("SELECT count(*) FROM sessions s JOIN credentials c ON"
                               " c.session_id = s.id WHERE s.id = $1::uuid AND"
                               " s.expires_at = c.expires_at AND s.revoked_at IS NULL",
                               f.id),
                     1);
    pa_test_session_free(&f);

    /* No label, and upper-case hex in the id is the same session. */
    fake_create(&f, NULL, exp);
    char upper[PA_UUID_STR_LEN];
    for (size_t i = 0; i < sizeof upper; i++)
        upper[i] = (char)(f.id[i] >= 'a' && f.id[i] <= 'f' ? f.id[i] - 32 : f.id[i]);
    assert_int_equal(pa_db_session_get(db, upper, &s), PA_DB_OK);
    assert_null(s.label);
    assert_string_equal(s.ciphertext, f.ct);
    pa_db_session_free(&s);
    pa_test_session_free(&f);
}

static void test_session_get_unknown(void **state)
{
    (void)state;
    char id[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(id), 0);
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, id, &s), PA_DB_NOT_FOUND);
    assert_null(s.label);
    assert_null(s.ciphertext);
    assert_int_equal(pa_db_session_get(db, "not-a-uuid", &s), PA_DB_NOT_FOUND);
    assert_int_equal(pa_db_session_get(db, "'; DROP TABLE sessions; --", &s), PA_DB_NOT_FOUND);
    assert_int_equal(pa_test_pg_query_int(admin,
                                          "SELECT count(*) FROM pg_tables WHERE tablename ="
                                          " 'sessions'",
                                          0, NULL),
                     1);
}

static void test_replay_conflicts(void **state)
{
    (void)state;
    pa_test_session a;
    pa_test_session_init(&a, "a", pa_now_ms() + 600000);
    assert_int_equal(pa_db_envelope_seen(db, a.eph), PA_DB_OK);
    assert_int_equal(pa_db_session_create(db, &a.s), PA_DB_OK);
    /* The early check the server makes before asking the enclave. */
    assert_int_equal(pa_db_envelope_seen(db, a.eph), PA_DB_CONFLICT);

    /* Same envelope, new session id: refused, and nothing of it is stored. */
    pa_test_session b;
    pa_test_session_init(&b, "b", pa_now_ms() + 600000);
    b.s.ephemeral_pub = a.eph;
    assert_int_equal(pa_db_session_create(db, &b.s), PA_DB_CONFLICT);
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, b.id, &s), PA_DB_NOT_FOUND);

    /* Still refused once the original is revoked: used_envelopes outlives it. */
    assert_int_equal(pa_db_session_revoke(db, a.id), PA_DB_OK);
    assert_int_equal(count_for("SELECT count(*) FROM credentials WHERE ephemeral_pub = $1", a.eph),
                     0);
    assert_int_equal(pa_db_session_create(db, &b.s), PA_DB_CONFLICT);
    assert_int_equal(pa_db_session_get(db, b.id, &s), PA_DB_NOT_FOUND);
    assert_int_equal(pa_db_envelope_seen(db, a.eph), PA_DB_CONFLICT);
    assert_int_equal(
        count_for("SELECT count(*) FROM used_envelopes WHERE ephemeral_pub = $1", a.eph), 1);

    /* The same session id twice is not a replay: a plain failure. */
    pa_test_session c;
    pa_test_session_init(&c, "c", pa_now_ms() + 600000);
    memcpy(c.id, b.id, sizeof c.id);
    assert_int_equal(pa_db_session_create(db, &c.s), PA_DB_OK);
    pa_test_session d;
    pa_test_session_init(&d, "d", pa_now_ms() + 600000);
    d.s.session_id = c.id;
    assert_int_equal(pa_db_session_create(db, &d.s), PA_DB_UNAVAILABLE);
    pa_test_session_free(&a);
    pa_test_session_free(&b);
    pa_test_session_free(&c);
    pa_test_session_free(&d);
}

static void test_failed_create_changes_nothing(void **state)
{
    (void)state;
    /* The credentials insert fails (malformed nonce) after used_envelopes and
     * sessions rows were written in the same transaction: all rolled back,
     * so the envelope can still be submitted. */
    pa_test_session f;
    pa_test_session_init(&f, "x", pa_now_ms() + 600000);
    f.s.nonce = "AAAAAAAAAAAAAAA=";
    assert_int_equal(pa_db_session_create(db, &f.s), PA_DB_UNAVAILABLE);
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, f.id, &s), PA_DB_NOT_FOUND);
    assert_int_equal(
        count_for("SELECT count(*) FROM used_envelopes WHERE ephemeral_pub = $1", f.eph), 0);
    f.s.nonce = f.nonce;
    assert_int_equal(pa_db_session_create(db, &f.s), PA_DB_OK);

    /* Missing fields and a malformed id never reach the database. */
    pa_test_session g;
    pa_test_session_init(&g, "g", pa_now_ms() + 600000);
    g.s.ciphertext = NULL;
    assert_int_equal(pa_db_session_create(db, &g.s), PA_DB_UNAVAILABLE);
    g.s.ciphertext = g.ct;
    g.s.session_id = "not-a-uuid";
    assert_int_equal(pa_db_session_create(db, &g.s), PA_DB_UNAVAILABLE);
    assert_int_equal(
        count_for("SELECT count(*) FROM used_envelopes WHERE ephemeral_pub = $1", g.eph), 0);
    pa_test_session_free(&f);
    pa_test_session_free(&g);
}

/* ---- CHECK constraints (direct inserts as app_service) -------------------- */

static void test_credentials_checks(void **state)
{
    (void)state;
    char sid[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(sid), 0);
    const char *const sp[] = {sid};
    expect_ok(app,
              "INSERT INTO sessions (id, exchange, status, expires_at) VALUES"
              " ($1::uuid, 'binance', 'active', now() + interval '1 hour')",
              1, sp);

    char *eph = pa_test_b64_random(32), *nonce = pa_test_b64_random(12),
         *tag = pa_test_b64_random(16);
    char *ct1 = pa_test_b64_random(1), *ct8192 = pa_test_b64_random(8192),
         *ct8193 = pa_test_b64_random(8193);
    char *eph36 = pa_test_b64_random(36), *tag18 = pa_test_b64_random(18);
    assert_int_equal(strlen(ct8193), 10924); /* same length class as 8191..8192 */
    char eph43[44];
    memcpy(eph43, eph, 43);
    eph43[43] = 0;
    char eph_noncanon[45];
    memcpy(eph_noncanon, eph, 45);
    eph_noncanon[42] = 'B'; /* low bits of the last symbol set */
    char eph_url[45];
    memcpy(eph_url, eph, 45);
    eph_url[0] = '-';
    char nonce_ws[18];
    snprintf(nonce_ws, sizeof nonce_ws, "%.8s\n%.7s", nonce, nonce + 8);

    static const char ins[] =
        "INSERT INTO credentials (session_id, ephemeral_pub, nonce, ciphertext, tag,"
        " metadata_jcs, expires_at) VALUES ($1::uuid, $2, $3, $4, $5, '{}',"
        " now() + interval '1 hour')";
    struct {
        const char *eph, *nonce, *ct, *tag, *constraint;
    } bad[] = {
        {eph43, nonce, ct1, tag, "credentials_ephemeral_pub_check"},
        {eph_noncanon, nonce, ct1, tag, "credentials_ephemeral_pub_check"},
        {eph_url, nonce, ct1, tag, "credentials_ephemeral_pub_check"},
        {eph36, nonce, ct1, tag, "credentials_ephemeral_pub_check"},
        {eph, "AAAAAAAAAAAAAAA=", ct1, tag, "credentials_nonce_check"},
        {eph, "AAAAAAAAAAAAAAAAAAAA", ct1, tag, "credentials_nonce_check"},
        {eph, "AAAAAAAAAAAAAA_A", ct1, tag, "credentials_nonce_check"},
        {eph, nonce_ws, ct1, tag, "credentials_nonce_check"},
        {eph, nonce, ct1, tag18, "credentials_tag_check"},
        {eph, nonce, ct1, "AAAAAAAAAAAAAAAAAAAAAB==", "credentials_tag_check"},
        {eph, nonce, ct1, "AAAAAAAAAAAAAAAAAAAAAA=", "credentials_tag_check"},
        {eph, nonce, "", tag, "credentials_ciphertext_check"},
        {eph, nonce, "====", tag, "credentials_ciphertext_check"},
        {eph, nonce, "AAA", tag, "credentials_ciphertext_check"},
        {eph, nonce, "AB==", tag, "credentials_ciphertext_check"},
        {eph, nonce, "A===", tag, "credentials_ciphertext_check"},
        {eph, nonce, "AAAA AAA", tag, "credentials_ciphertext_check"},
        {eph, nonce, "AAAA\nAAAA", tag, "credentials_ciphertext_check"},
        {eph, nonce, ct8193, tag, "credentials_ciphertext_check"},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        const char *const p[] = {sid, bad[i].eph, bad[i].nonce, bad[i].ct, bad[i].tag};
        expect_error(app, ins, 5, p, "23514", bad[i].constraint);
    }
    assert_int_equal(count_for("SELECT count(*) FROM credentials WHERE session_id = $1::uuid", sid),
                     0);

    /* The bounds themselves are accepted: 1 and 8192 bytes. */
    const char *const ok1[] = {sid, eph, nonce, ct1, tag};
    expect_ok(app, ins, 5, ok1);
    expect_ok(app, "DELETE FROM credentials WHERE session_id = $1::uuid", 1, sp);
    const char *const ok2[] = {sid, eph, nonce, ct8192, tag};
    expect_ok(app, ins, 5, ok2);

    /* ephemeral_pub is unique across credentials too. */
    char sid2[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(sid2), 0);
    const char *const sp2[] = {sid2};
    expect_ok(app,
              "INSERT INTO sessions (id, exchange, status, expires_at) VALUES"
              " ($1::uuid, 'binance', 'active', now() + interval '1 hour')",
              1, sp2);
    const char *const dup[] = {sid2, eph, nonce, ct1, tag};
    expect_error(app, ins, 5, dup, "23505", "credentials_ephemeral_pub_key");

    free(eph);
    free(nonce);
    free(tag);
    free(ct1);
    free(ct8192);
    free(ct8193);
    free(eph36);
    free(tag18);
}

static void test_other_checks(void **state)
{
    (void)state;
    pa_test_session f;
    fake_create(&f, "checks", pa_now_ms() + 600000);
    char rid[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(rid), 0);
    char *sig = pa_test_b64_random(64), *sig63 = pa_test_b64_random(63);
    const char root[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const char root_upper[] = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF";
    static const char ins[] =
        "INSERT INTO aggregates (result_id, session_id, payload_jcs, signature, merkle_root,"
        " attestation) VALUES ($1::uuid, $2::uuid, '{}', $3, $4, '{}')";
    const char *const p1[] = {rid, f.id, sig63, root};
    expect_error(app, ins, 4, p1, "23514", "aggregates_signature_check");
    const char *const p2[] = {rid, f.id, sig, root_upper};
    expect_error(app, ins, 4, p2, "23514", "aggregates_merkle_root_check");
    const char *const p3[] = {rid, f.id, sig, root + 2};
    expect_error(app, ins, 4, p3, "23514", "aggregates_merkle_root_check");
    const char *const good[] = {rid, f.id, sig, root};
    expect_ok(app, ins, 4, good);

    static const char log_ins[] =
        "INSERT INTO merkle_logs (result_id, idx, entry_jcs, leaf_hash) VALUES"
        " ($1::uuid, $2::integer, '{}', $3)";
    const char *const l1[] = {rid, "0", root_upper};
    expect_error(app, log_ins, 3, l1, "23514", "merkle_logs_leaf_hash_check");
    const char *const l2[] = {rid, "-1", root};
    expect_error(app, log_ins, 3, l2, "23514", "merkle_logs_idx_check");

    /* Sessions: status vocabulary and the tombstone invariants. */
    char sid[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(sid), 0);
    const char *const sp[] = {sid};
    expect_error(app,
                 "INSERT INTO sessions (id, exchange, status, expires_at) VALUES"
                 " ($1::uuid, 'binance', 'paused', now())",
                 1, sp, "23514", "sessions_status_check");
    expect_error(app,
                 "INSERT INTO sessions (id, exchange, status, expires_at) VALUES"
                 " ($1::uuid, 'Binance!', 'active', now())",
                 1, sp, "23514", "sessions_exchange_check");
    expect_error(app,
                 "INSERT INTO sessions (id, exchange, status, expires_at, revoked_at, label)"
                 " VALUES ($1::uuid, 'binance', 'revoked', now(), now(), 'kept')",
                 1, sp, "23514", "sessions_tombstone_unlabelled");
    expect_error(app,
                 "INSERT INTO sessions (id, exchange, status, expires_at) VALUES"
                 " ($1::uuid, 'binance', 'revoked', now())",
                 1, sp, "23514", "sessions_revoked_at_consistent");
    expect_error(app, "INSERT INTO used_envelopes (ephemeral_pub) VALUES ('AAAA')", 0, NULL,
                 "23514", "used_envelopes_ephemeral_pub_check");
    free(sig);
    free(sig63);
    pa_test_session_free(&f);
}

/* ---- results and logs ---------------------------------------------------- */

static void test_result_store_and_logs(void **state)
{
    (void)state;
    pa_test_session f;
    fake_create(&f, "results", pa_now_ms() + 600000);
    fake_result a;
    result_init(&a, f.id, 3);
    assert_int_equal(pa_db_result_store(db, &a.r), PA_DB_OK);

    pa_db_logs l;
    assert_int_equal(pa_db_logs_get(db, a.id, &l), PA_DB_OK);
    assert_string_equal(l.merkle_root, a.r.merkle_root);
    assert_int_equal(l.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(l.entries[i], sample_entries[i]);
        assert_string_equal(l.leaf_hashes[i], sample_leaves[i]);
    }
    pa_db_logs_free(&l);
    assert_null(l.entries);

    /* The payload is kept as the exact signed text. */
    const char *const p[] = {a.id, sample_payload};
    assert_int_equal(
        pa_test_pg_query_int(admin,
                             "SELECT count(*) FROM aggregates WHERE result_id = $1::uuid"
                             " AND payload_jcs = $2 AND attestation = '{\"quote\":\"AA==\"}'",
                             2, p),
        1);

    /* A second result for the same session; its order is its own. */
    fake_result b;
    result_init(&b, f.id, 2);
    b.entries[0] = sample_entries[2];
    b.entries[1] = sample_entries[0];
    b.leaves[0] = sample_leaves[2];
    b.leaves[1] = sample_leaves[0];
    assert_int_equal(pa_db_result_store(db, &b.r), PA_DB_OK);
    assert_int_equal(pa_db_logs_get(db, b.id, &l), PA_DB_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.entries[0], sample_entries[2]);
    assert_string_equal(l.entries[1], sample_entries[0]);
    pa_db_logs_free(&l);

    /* No entries at all. */
    fake_result c;
    result_init(&c, f.id, 0);
    assert_int_equal(pa_db_result_store(db, &c.r), PA_DB_OK);
    assert_int_equal(pa_db_logs_get(db, c.id, &l), PA_DB_OK);
    assert_int_equal(l.n, 0);
    assert_string_equal(l.merkle_root, c.r.merkle_root);
    pa_db_logs_free(&l);

    /* Unknown ids. */
    char other[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(other), 0);
    assert_int_equal(pa_db_logs_get(db, other, &l), PA_DB_NOT_FOUND);
    assert_int_equal(pa_db_logs_get(db, "zzz", &l), PA_DB_NOT_FOUND);
    fake_result d;
    result_init(&d, other, 1);
    assert_int_equal(pa_db_result_store(db, &d.r), PA_DB_NOT_FOUND);

    /* A bad leaf hash fails the whole result: nothing half-stored. */
    fake_result e;
    result_init(&e, f.id, 2);
    e.leaves[1] = "NOT-HEX";
    assert_int_equal(pa_db_result_store(db, &e.r), PA_DB_UNAVAILABLE);
    assert_int_equal(count_for("SELECT count(*) FROM aggregates WHERE result_id = $1::uuid", e.id),
                     0);
    /* Invalid UTF-8 in an entry is refused before the database. */
    fake_result g;
    result_init(&g, f.id, 1);
    g.entries[0] = "{\"x\":\"\xff\"}";
    assert_int_equal(pa_db_result_store(db, &g.r), PA_DB_UNAVAILABLE);
    assert_int_equal(count_for("SELECT count(*) FROM aggregates WHERE session_id = $1::uuid", f.id),
                     3);
    free(a.sig);
    free(b.sig);
    free(c.sig);
    free(d.sig);
    free(e.sig);
    free(g.sig);
    pa_test_session_free(&f);
}

static void test_result_store_gone(void **state)
{
    (void)state;
    /* Revoked. */
    pa_test_session f;
    fake_create(&f, "r", pa_now_ms() + 600000);
    assert_int_equal(pa_db_session_revoke(db, f.id), PA_DB_OK);
    fake_result a;
    result_init(&a, f.id, 3);
    assert_int_equal(pa_db_result_store(db, &a.r), PA_DB_GONE);

    /* Expired by the clock, not yet swept (status still 'active'). */
    pa_test_session g;
    fake_create(&g, "e", pa_now_ms() - 1000);
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, g.id, &s), PA_DB_OK);
    assert_string_equal(s.status, "active");
    pa_db_session_free(&s);
    fake_result b;
    result_init(&b, g.id, 3);
    assert_int_equal(pa_db_result_store(db, &b.r), PA_DB_GONE);

    /* Swept ('expired'). */
    long n = 0;
    assert_int_equal(pa_db_cleanup_expired(db, &n), PA_DB_OK);
    assert_true(n >= 1);
    assert_int_equal(pa_db_result_store(db, &b.r), PA_DB_GONE);

    assert_int_equal(count_for("SELECT count(*) FROM aggregates WHERE result_id = $1::uuid", a.id),
                     0);
    assert_int_equal(count_for("SELECT count(*) FROM merkle_logs WHERE result_id = $1::uuid", b.id),
                     0);
    free(a.sig);
    free(b.sig);
    pa_test_session_free(&f);
    pa_test_session_free(&g);
}

/* ---- revoke -------------------------------------------------------------- */

/* A session holds at most max_results results: the one past the cap is
 * PA_DB_LIMIT and stores nothing; session_get reports the count. */
static void test_result_cap(void **state)
{
    (void)state;
    pa_test_session f;
    pa_test_session_init(&f, "cap", pa_now_ms() + 600000);
    assert_int_equal(pa_db_session_create(db, &f.s), PA_DB_OK);
    fake_result r[3];
    for (int i = 0; i < 3; i++) {
        result_init(&r[i], f.id, 2);
        r[i].r.max_results = 2;
    }
    assert_int_equal(pa_db_result_store(db, &r[0].r), PA_DB_OK);
    assert_int_equal(pa_db_result_store(db, &r[1].r), PA_DB_OK);
    assert_int_equal(pa_db_result_store(db, &r[2].r), PA_DB_LIMIT);
    assert_int_equal(count_for("SELECT count(*) FROM aggregates WHERE session_id = $1", f.id), 2);
    assert_int_equal(count_for("SELECT count(*) FROM aggregates WHERE result_id = $1", r[2].id), 0);
    assert_int_equal(count_for("SELECT count(*) FROM merkle_logs WHERE result_id = $1", r[2].id),
                     0);
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, f.id, &s), PA_DB_OK);
    assert_int_equal(s.results, 2);
    pa_db_session_free(&s);
    /* a larger cap lets it in; a cap of 0 is a contract violation */
    r[2].r.max_results = 3;
    assert_int_equal(pa_db_result_store(db, &r[2].r), PA_DB_OK);
    r[0].r.max_results = 0;
    assert_int_equal(pa_db_result_store(db, &r[0].r), PA_DB_UNAVAILABLE);
    for (int i = 0; i < 3; i++)
        free(r[i].sig);
    pa_test_session_free(&f);
}

static void test_revoke(void **state)
{
    (void)state;
    pa_test_session f, other;
    fake_create(&f, "to revoke", pa_now_ms() + 600000);
    fake_create(&other, "bystander", pa_now_ms() + 600000);
    fake_result a, b, c;
    result_init(&a, f.id, 3);
    result_init(&b, f.id, 2);
    result_init(&c, other.id, 3);
    assert_int_equal(pa_db_result_store(db, &a.r), PA_DB_OK);
    assert_int_equal(pa_db_result_store(db, &b.r), PA_DB_OK);
    assert_int_equal(pa_db_result_store(db, &c.r), PA_DB_OK);
    long long ops_before = pa_test_pg_query_int(admin,
                                                "SELECT count(*) FROM ops_logs WHERE event ="
                                                " 'session_revoked'",
                                                0, NULL);

    assert_int_equal(pa_db_session_revoke(db, f.id), PA_DB_OK);

    /* Tombstone: revoked, no label, no credentials, revoked_at set. */
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, f.id, &s), PA_DB_OK);
    assert_string_equal(s.status, "revoked");
    assert_string_equal(s.exchange, "binance");
    assert_null(s.label);
    assert_null(s.ephemeral_pub);
    assert_null(s.nonce);
    assert_null(s.ciphertext);
    assert_null(s.tag);
    assert_null(s.metadata_jcs);
    assert_null(s.enclave_pubkey);
    pa_db_session_free(&s);
    assert_int_equal(count_for("SELECT count(*) FROM sessions WHERE id = $1::uuid AND"
                               " revoked_at IS NOT NULL AND label IS NULL",
                               f.id),
                     1);
    assert_int_equal(
        count_for("SELECT count(*) FROM credentials WHERE session_id = $1::uuid", f.id), 0);
    assert_int_equal(count_for("SELECT count(*) FROM aggregates WHERE session_id = $1::uuid", f.id),
                     0);
    const char *const ids[] = {a.id, b.id};
    assert_int_equal(pa_test_pg_query_int(admin,
                                          "SELECT count(*) FROM merkle_logs WHERE result_id IN"
                                          " ($1::uuid, $2::uuid)",
                                          2, ids),
                     0);
    pa_db_logs l;
    assert_int_equal(pa_db_logs_get(db, a.id, &l), PA_DB_NOT_FOUND);
    assert_int_equal(pa_db_logs_get(db, b.id, &l), PA_DB_NOT_FOUND);

    /* One event more, and no trace of the session id anywhere in ops_logs. */
    assert_int_equal(pa_test_pg_query_int(admin,
                                          "SELECT count(*) FROM ops_logs WHERE event ="
                                          " 'session_revoked'",
                                          0, NULL),
                     ops_before + 1);
    assert_int_equal(count_for("SELECT count(*) FROM ops_logs o WHERE"
                               " strpos(lower(o::text), lower($1)) > 0",
                               f.id),
                     0);

    /* The other session is untouched. */
    assert_int_equal(pa_db_logs_get(db, c.id, &l), PA_DB_OK);
    assert_int_equal(l.n, 3);
    pa_db_logs_free(&l);
    assert_int_equal(pa_db_session_get(db, other.id, &s), PA_DB_OK);
    assert_string_equal(s.status, "active");
    assert_string_equal(s.ciphertext, other.ct);
    pa_db_session_free(&s);

    /* Again: GONE, and nothing more is written. Unknown: NOT_FOUND. */
    assert_int_equal(pa_db_session_revoke(db, f.id), PA_DB_GONE);
    assert_int_equal(pa_test_pg_query_int(admin,
                                          "SELECT count(*) FROM ops_logs WHERE event ="
                                          " 'session_revoked'",
                                          0, NULL),
                     ops_before + 1);
    char unknown[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(unknown), 0);
    assert_int_equal(pa_db_session_revoke(db, unknown), PA_DB_NOT_FOUND);
    assert_int_equal(pa_db_session_revoke(db, "nope"), PA_DB_NOT_FOUND);

    free(a.sig);
    free(b.sig);
    free(c.sig);
    pa_test_session_free(&f);
    pa_test_session_free(&other);
}

/* ---- the sweeper --------------------------------------------------------- */

static void test_cleanup_expired(void **state)
{
    (void)state;
    long n = -1;
    /* Sweep what earlier tests left, so the counts below are this test's. */
    assert_int_equal(pa_db_cleanup_expired(db, &n), PA_DB_OK);

    int64_t now = pa_now_ms();
    pa_test_session e1, e2, live, tomb, kept;
    fake_create(&e1, "e1", now - 5000);
    fake_create(&e2, "e2", now - 1);
    fake_create(&live, "live", now + 600000);
    fake_create(&tomb, "tomb", now - 5000);
    assert_int_equal(pa_db_session_revoke(db, tomb.id), PA_DB_OK);
    /* A result stored while active keeps its logs after the expiry sweep. */
    fake_create(&kept, "kept", now + 600000);
    fake_result r;
    result_init(&r, kept.id, 3);
    assert_int_equal(pa_db_result_store(db, &r.r), PA_DB_OK);
    const char *const kp[] = {kept.id};
    expect_ok(admin,
              "UPDATE sessions SET expires_at = now() - interval '1 second'"
              " WHERE id = $1::uuid",
              1, kp);

    assert_int_equal(pa_db_cleanup_expired(db, &n), PA_DB_OK);
    assert_int_equal(n, 3);

    pa_db_session s;
    pa_test_session *expired[] = {&e1, &e2, &kept};
    for (size_t i = 0; i < PA_ARRAY_LEN(expired); i++) {
        assert_int_equal(pa_db_session_get(db, expired[i]->id, &s), PA_DB_OK);
        assert_string_equal(s.status, "expired");
        assert_non_null(s.label); /* expiry is not revoke: the label stays */
        assert_null(s.ciphertext);
        assert_null(s.ephemeral_pub);
        assert_null(s.enclave_pubkey);
        pa_db_session_free(&s);
    }
    assert_int_equal(pa_db_session_get(db, live.id, &s), PA_DB_OK);
    assert_string_equal(s.status, "active");
    assert_string_equal(s.ciphertext, live.ct);
    pa_db_session_free(&s);
    assert_int_equal(pa_db_session_get(db, tomb.id, &s), PA_DB_OK);
    assert_string_equal(s.status, "revoked");
    pa_db_session_free(&s);

    pa_db_logs l;
    assert_int_equal(pa_db_logs_get(db, r.id, &l), PA_DB_OK);
    assert_int_equal(l.n, 3);
    pa_db_logs_free(&l);

    /* Nothing left to sweep. An expired session can still be revoked. */
    assert_int_equal(pa_db_cleanup_expired(db, &n), PA_DB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pa_db_session_revoke(db, kept.id), PA_DB_OK);
    assert_int_equal(pa_db_logs_get(db, r.id, &l), PA_DB_NOT_FOUND);

    free(r.sig);
    pa_test_session_free(&e1);
    pa_test_session_free(&e2);
    pa_test_session_free(&live);
    pa_test_session_free(&tomb);
    pa_test_session_free(&kept);
}

/* ---- ops log ------------------------------------------------------------- */

static void test_ops_log(void **state)
{
    (void)state;
    long long before = pa_test_pg_query_int(admin, "SELECT count(*) FROM ops_logs", 0, NULL);
    assert_int_equal(pa_db_ops_log(db, "sweep", "{\"deleted\":2}"), PA_DB_OK);
    assert_int_equal(pa_db_ops_log(db, "server_started", NULL), PA_DB_OK);
    assert_int_equal(pa_db_ops_log(db, "sweep", "{not json"), PA_DB_UNAVAILABLE);
    assert_int_equal(pa_db_ops_log(db, "sweep", "[1,2]"), PA_DB_UNAVAILABLE);
    assert_int_equal(pa_db_ops_log(db, "Bad Event!", NULL), PA_DB_UNAVAILABLE);
    assert_int_equal(pa_test_pg_query_int(admin, "SELECT count(*) FROM ops_logs", 0, NULL),
                     before + 2);
    assert_int_equal(
        pa_test_pg_query_int(op,
                             "SELECT (detail->>'deleted')::int FROM ops_logs WHERE event ="
                             " 'sweep' ORDER BY id DESC LIMIT 1",
                             0, NULL),
        2);
}

/* ---- ad-hoc statements (db_query.h) -------------------------------------- */

static pa_db_status rows_sum(const PGresult *res, void *arg)
{
    long long *out = arg;
    if (PQntuples(res) != 1)
        return PA_DB_UNAVAILABLE;
    *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    return PA_DB_OK;
}

static void test_query(void **state)
{
    (void)state;
    long long v = 0;
    /* values are parameters: a quote in one is data, not SQL */
    const char *const p[] = {"40", "2", "x'; DROP TABLE sessions; --"};
    assert_int_equal(
        pa_db_query(db, "SELECT $1::int + $2::int + length($3) * 0", 3, p, rows_sum, &v), PA_DB_OK);
    assert_int_equal(v, 42);
    /* a failing statement, and a table app_service may not read */
    assert_int_equal(pa_db_query(db, "SELECT nope FROM nowhere", 0, NULL, rows_sum, &v),
                     PA_DB_UNAVAILABLE);
    assert_int_equal(pa_db_query(db, "SELECT count(*) FROM users", 0, NULL, rows_sum, &v),
                     PA_DB_UNAVAILABLE);
    /* the operator token check reads only the columns it was granted */
    assert_int_equal(pa_db_query(db,
                                 "SELECT count(*) FROM operator_tokens WHERE revoked_at IS NULL", 0,
                                 NULL, rows_sum, &v),
                     PA_DB_OK);
    assert_int_equal(pa_db_query(db, "SELECT 1", 0, NULL, NULL, NULL), PA_DB_OK);
    assert_int_equal(pa_db_query(db, NULL, 0, NULL, NULL, NULL), PA_DB_UNAVAILABLE);
    /* the pool still works after the failures */
    assert_int_equal(pa_db_ping(db), PA_DB_OK);
}

/* ---- roles --------------------------------------------------------------- */

/* Enclave-made keys (migrations/006_enclave_keys.sql, keygen_db.c, and the
 * claim and delete inside session_create and revoke). */
static void key_insert(char key_id[PA_UUID_STR_LEN], int64_t expires_at_ms)
{
    assert_int_equal(pa_uuid_v4(key_id), 0);
    char *pub = pa_test_b64_random(32), *sealed = pa_test_b64_random(93),
         *enclave = pa_test_b64_random(32);
    pa_keygen_new k = {key_id, "binance", pub, sealed, enclave, expires_at_ms};
    assert_int_equal(pa_keygen_db_insert(db, &k), PA_DB_OK);
    free(pub);
    free(sealed);
    free(enclave);
}

static void test_enclave_keys(void **state)
{
    (void)state;
    char key[PA_UUID_STR_LEN], expired[PA_UUID_STR_LEN];
    key_insert(key, pa_now_ms() + 3600000);
    key_insert(expired, pa_now_ms() - 1000);
    pa_keygen_row row;
    assert_int_equal(pa_keygen_db_get(db, key, &row), PA_DB_OK);
    assert_string_equal(row.exchange, "binance");
    assert_string_equal(row.session_id, "");
    assert_false(row.expired);
    assert_int_equal(strlen(row.sealed_key), 124);
    assert_int_equal(pa_keygen_db_get(db, expired, &row), PA_DB_OK);
    assert_true(row.expired);
    char unknown[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(unknown), 0);
    assert_int_equal(pa_keygen_db_get(db, unknown, &row), PA_DB_NOT_FOUND);

    /* the first session claims it, with the session's expiry */
    pa_test_session a, b, c;
    int64_t exp_ms = pa_now_ms() + 7200000;
    pa_test_session_init(&a, "enclave key", exp_ms);
    a.s.enclave_key_id = key;
    assert_int_equal(pa_db_session_create(db, &a.s), PA_DB_OK);
    assert_int_equal(pa_keygen_db_get(db, key, &row), PA_DB_OK);
    assert_string_equal(row.session_id, a.id);
    char exp_text[24];
    snprintf(exp_text, sizeof exp_text, "%lld", (long long)exp_ms);
    const char *const ke[] = {key, exp_text};
    assert_int_equal(
        pa_test_pg_query_int(admin,
                             "SELECT count(*) FROM enclave_keys WHERE key_id = $1::uuid AND"
                             " abs(extract(epoch FROM expires_at) * 1000 -"
                             " $2::double precision) < 2",
                             2, ke),
        1);
    /* a second session naming it: refused, and nothing of it stored */
    pa_test_session_init(&b, "reuse", exp_ms);
    b.s.enclave_key_id = key;
    assert_int_equal(pa_db_session_create(db, &b.s), PA_DB_KEY_USED);
    assert_int_equal(count_for("SELECT count(*) FROM sessions WHERE id = $1::uuid", b.id), 0);
    assert_int_equal(
        count_for("SELECT count(*) FROM used_envelopes WHERE ephemeral_pub = $1", b.eph), 0);
    /* an expired key cannot be claimed either */
    pa_test_session_init(&c, "expired key", exp_ms);
    c.s.enclave_key_id = expired;
    assert_int_equal(pa_db_session_create(db, &c.s), PA_DB_KEY_USED);

    /* the sweeper removes the expired key, not the claimed one */
    long n = 0;
    assert_int_equal(pa_keygen_db_cleanup(db, &n), PA_DB_OK);
    assert_true(n >= 1);
    assert_int_equal(pa_keygen_db_get(db, expired, &row), PA_DB_NOT_FOUND);
    assert_int_equal(pa_keygen_db_get(db, key, &row), PA_DB_OK);

    /* revoking the session deletes its key */
    assert_int_equal(pa_db_session_revoke(db, a.id), PA_DB_OK);
    assert_int_equal(pa_keygen_db_get(db, key, &row), PA_DB_NOT_FOUND);

    /* app_service cannot rewrite a sealed key or a key's owner exchange */
    expect_error(app, "UPDATE enclave_keys SET sealed_key = sealed_key", 0, NULL, "42501", NULL);
    expect_error(app, "UPDATE enclave_keys SET exchange = 'x'", 0, NULL, "42501", NULL);
    pa_test_session_free(&a);
    pa_test_session_free(&b);
    pa_test_session_free(&c);
}

static void test_operator_readonly(void **state)
{
    (void)state;
    /* The encrypted credentials are closed to the operator... */
    PGresult *r = PQexec(op, "SELECT ciphertext FROM credentials");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
    assert_non_null(strstr(PQresultErrorMessage(r), "permission denied"));
    PQclear(r);
    expect_error(op, "SELECT count(*) FROM credentials", 0, NULL, "42501", NULL);

    /* ...everything else is readable, and nothing is writable. */
    static const char *const readable[] = {
        "SELECT count(*) FROM sessions",          "SELECT count(*) FROM users",
        "SELECT count(*) FROM used_envelopes",    "SELECT count(*) FROM aggregates",
        "SELECT count(*) FROM merkle_logs",       "SELECT count(*) FROM ops_logs",
        "SELECT count(*) FROM schema_migrations", "SELECT count(*) FROM operator_tokens",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(readable); i++)
        assert_true(pa_test_pg_query_int(op, readable[i], 0, NULL) >= 0);
    assert_true(pa_test_pg_query_int(op, "SELECT count(*) FROM sessions", 0, NULL) > 0);

    /* The same, for every table the migrations made (new ones included). */
    assert_int_equal(
        pa_test_pg_query_int(admin,
                             "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND"
                             " has_table_privilege('operator_readonly',"
                             " format('%I.%I', schemaname, tablename), 'SELECT')"
                             " <> (tablename NOT IN ('credentials', 'enclave_keys'))",
                             0, NULL),
        0);
    assert_int_equal(
        pa_test_pg_query_int(admin,
                             "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND"
                             " has_table_privilege('operator_readonly',"
                             " format('%I.%I', schemaname, tablename),"
                             " 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')",
                             0, NULL),
        0);
    /* enclave-made keys: every column but the sealed private key */
    assert_true(pa_test_pg_query_int(op, "SELECT count(key_id) FROM enclave_keys", 0, NULL) >= 0);
    expect_error(op, "SELECT sealed_key FROM enclave_keys", 0, NULL, "42501", NULL);
    expect_error(op, "DELETE FROM sessions", 0, NULL, "42501", NULL);
    expect_error(op, "SELECT cleanup_expired_credentials()", 0, NULL, "42501", NULL);
    expect_error(op, "CREATE TABLE op_t (i int)", 0, NULL, "42501", NULL);
}

static void test_app_service_limits(void **state)
{
    (void)state;
    static const char *const denied[] = {
        "DROP TABLE credentials",
        "TRUNCATE sessions",
        "TRUNCATE ops_logs",
        "ALTER TABLE sessions ADD COLUMN x integer",
        "ALTER TABLE credentials DROP CONSTRAINT credentials_nonce_check",
        "CREATE TABLE app_t (i integer)",
        "DROP FUNCTION cleanup_expired_credentials()",
        "DELETE FROM sessions",
        "UPDATE sessions SET exchange = 'x'",
        "UPDATE sessions SET expires_at = now()",
        "UPDATE credentials SET nonce = nonce",
        "SELECT first_seen FROM used_envelopes", /* only ephemeral_pub is readable */
        "DELETE FROM used_envelopes",
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM ops_logs",
        "UPDATE ops_logs SET event = 'x'",
        "DELETE FROM schema_migrations",
        "CREATE ROLE app_t",
        "GRANT SELECT ON users TO app_service",
        /* operator tokens: readable columns only, never written */
        "SELECT name FROM operator_tokens",
        "SELECT created_at FROM operator_tokens",
        "INSERT INTO operator_tokens (id, name, token_hash, expires_at) VALUES"
        " ('00000000000000aa', 'x', repeat('0', 64), now() + interval '1 day')",
        "UPDATE operator_tokens SET revoked_at = NULL",
        "DELETE FROM operator_tokens",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(denied); i++)
        expect_error(app, denied[i], 0, NULL, "42501", NULL);
    /* Without grant option a GRANT is only a warning; it must still give the
     * operator nothing. */
    PQclear(PQexec(app, "GRANT SELECT ON credentials TO operator_readonly"));
    assert_int_equal(
        pa_test_pg_query_int(admin,
                             "SELECT count(*) FROM pg_class WHERE relname = 'credentials'"
                             " AND has_table_privilege('operator_readonly', oid, 'SELECT')",
                             0, NULL),
        0);

    /* No TRUNCATE anywhere, no ownership, no role powers. */
    assert_int_equal(
        pa_test_pg_query_int(admin,
                             "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND"
                             " (has_table_privilege('app_service',"
                             " format('%I.%I', schemaname, tablename), 'TRUNCATE, REFERENCES,"
                             " TRIGGER') OR tableowner = 'app_service')",
                             0, NULL),
        0);
    assert_int_equal(
        pa_test_pg_query_int(admin,
                             "SELECT count(*) FROM pg_roles WHERE rolname IN ('app_service',"
                             " 'operator_readonly') AND rolcanlogin AND NOT rolsuper AND NOT"
                             " rolcreatedb AND NOT rolcreaterole AND NOT rolbypassrls",
                             0, NULL),
        2);
    /* The schema is unchanged by all of the above. */
    assert_int_equal(pa_test_pg_query_int(admin,
                                          "SELECT count(*) FROM information_schema.columns WHERE"
                                          " table_name = 'sessions' AND column_name = 'x'",
                                          0, NULL),
                     0);
}

/* ---- the pool ------------------------------------------------------------ */

static long long pool_backends(void)
{
    const char *const p[] = {dbname};
    return pa_test_pg_query_int(admin,
                                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND"
                                " application_name = 'perfagg-server'",
                                1, p);
}

static long long kill_pool_backends(void)
{
    const char *const p[] = {dbname};
    long long n =
        pa_test_pg_query_int(admin,
                             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                             " WHERE datname = $1 AND application_name = 'perfagg-server'",
                             1, p);
    /* Wait until they are really gone, so the pool meets dead sockets. */
    for (int i = 0; i < 200 && pool_backends() > 0; i++)
        usleep(10000);
    assert_int_equal(pool_backends(), 0);
    return n;
}

typedef struct {
    int ops;
    int failures;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    for (int i = 0; i < w->ops; i++) {
        pa_test_session f;
        pa_test_session_init(&f, "w", pa_now_ms() + 600000);
        pa_db_session s;
        if (pa_db_session_create(db, &f.s) != PA_DB_OK ||
            pa_db_session_get(db, f.id, &s) != PA_DB_OK)
            w->failures++;
        else if (strcmp(s.ciphertext, f.ct) != 0)
            w->failures++;
        pa_db_session_free(&s);
        pa_test_session_free(&f);
    }
    return NULL;
}

static void test_pool_concurrency(void **state)
{
    (void)state;
    enum { THREADS = 8 };
    pthread_t t[THREADS];
    worker_arg w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_arg){.ops = 25, .failures = 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    /* Eight threads, never more connections than the pool's four. */
    long long n = pool_backends();
    assert_true(n >= 1 && n <= 4);
}

static void test_pool_survives_killed_backends(void **state)
{
    (void)state;
    assert_int_equal(pa_db_ping(db), PA_DB_OK);
    assert_true(kill_pool_backends() >= 1);
    /* The next call of every kind succeeds, on a fresh connection. */
    assert_int_equal(pa_db_ping(db), PA_DB_OK);
    assert_true(pool_backends() >= 1);

    kill_pool_backends();
    pa_test_session f;
    pa_test_session_init(&f, "after kill", pa_now_ms() + 600000);
    assert_int_equal(pa_db_session_create(db, &f.s), PA_DB_OK);

    kill_pool_backends();
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, f.id, &s), PA_DB_OK);
    assert_string_equal(s.ciphertext, f.ct);
    pa_db_session_free(&s);

    kill_pool_backends();
    fake_result r;
    result_init(&r, f.id, 3);
    assert_int_equal(pa_db_result_store(db, &r.r), PA_DB_OK);

    kill_pool_backends();
    long n;
    assert_int_equal(pa_db_cleanup_expired(db, &n), PA_DB_OK);

    kill_pool_backends();
    assert_int_equal(pa_db_session_revoke(db, f.id), PA_DB_OK);
    /* Exactly once: the retry did not run the revoke twice. */
    assert_int_equal(pa_db_session_revoke(db, f.id), PA_DB_GONE);

    /* Several connections killed at once, then used by concurrent callers. */
    worker_arg w = {.ops = 5, .failures = 0};
    pthread_t t[3];
    worker_arg ws[3] = {w, w, w};
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &ws[i]), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    kill_pool_backends();
    for (int i = 0; i < 3; i++) {
        ws[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker, &ws[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(ws[i].failures, 0);
    }
    free(r.sig);
    pa_test_session_free(&f);
}

/* ---- time limits --------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One db.h call on its own thread, so the test can watch it with a deadline
 * instead of hanging with it. */
typedef struct {
    pa_db *pool;
    int ping; /* 1: pa_db_ping, 0: pa_db_session_get of an unknown id */
    atomic_int done;
    pa_db_status status;
    int64_t started_ms, elapsed_ms;
    pthread_t thread;
} timed_call;

static void *timed_call_main(void *p)
{
    timed_call *c = p;
    char id[PA_UUID_STR_LEN];
    if (pa_uuid_v4(id) != 0)
        abort();
    pa_db_session s;
    c->status = c->ping ? pa_db_ping(c->pool) : pa_db_session_get(c->pool, id, &s);
    if (!c->ping)
        pa_db_session_free(&s);
    c->elapsed_ms = mono_ms() - c->started_ms;
    atomic_store(&c->done, 1);
    return NULL;
}

static void timed_call_start(timed_call *c, pa_db *pool, int ping)
{
    c->pool = pool;
    c->ping = ping;
    atomic_init(&c->done, 0);
    c->started_ms = mono_ms();
    assert_int_equal(pthread_create(&c->thread, NULL, timed_call_main, c), 0);
}

/* 1 when the call ended within timeout_ms. */
static int timed_call_wait(timed_call *c, int64_t timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    while (!atomic_load(&c->done) && mono_ms() < end)
        usleep(20000);
    return atomic_load(&c->done);
}

/* A connection of its own holding ACCESS EXCLUSIVE on sessions, as an
 * operator's or a migration's long transaction would. */
static PGconn *lock_sessions(void)
{
    PGconn *c = pa_test_pg_connect("postgres", dbname);
    assert_non_null(c);
    assert_int_equal(pa_test_pg_exec(c, "BEGIN"), 0);
    assert_int_equal(pa_test_pg_exec(c, "LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE"), 0);
    return c;
}

static void unlock_sessions(PGconn *c)
{
    (void)pa_test_pg_exec(c, "ROLLBACK");
    PQfinish(c);
}

/* Backends of a pool that wait for a lock right now. */
static long long pool_lock_waiters(void)
{
    const char *const p[] = {dbname};
    return pa_test_pg_query_int(admin,
                                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND"
                                " application_name = 'perfagg-server' AND wait_event_type = 'Lock'",
                                1, p);
}

/* The default lock_timeout (3 s) turns a call stuck behind a held lock into
 * PA_DB_UNAVAILABLE; without it the call waits as long as the lock is held. */
static void test_lock_wait_is_bounded(void **state)
{
    (void)state;
    PGconn *locker = lock_sessions();
    timed_call c;
    timed_call_start(&c, db, 0);
    /* Generous: 3 s expected, a loaded machine may add some. */
    int ended = timed_call_wait(&c, 30000);
    unlock_sessions(locker);
    if (!ended)
        (void)timed_call_wait(&c, 60000);
    assert_int_equal(pthread_join(c.thread, NULL), 0);
    assert_true(ended);
    assert_int_equal(c.status, PA_DB_UNAVAILABLE);
    /* It did wait for the lock (not an instant failure of another kind). */
    assert_true(c.elapsed_ms >= 1000);
    /* The connection survives the timeout: nothing is broken afterwards. */
    assert_int_equal(pa_db_ping(db), PA_DB_OK);
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, "7c1f6f4e-0a8b-4c55-9d0e-2b1a3c4d5e6f", &s),
                     PA_DB_NOT_FOUND);
}

/* A server that stops answering (its backend SIGSTOPped, as a hung host or
 * a frozen VM would look) gets no server-side timeout to help: the client
 * deadline PA_DB_CALL_TIMEOUT_MS ends the call with PA_DB_UNAVAILABLE, the
 * connection is dropped, and the next call works on a new one. */
static void stopped_backend_case(int ping)
{
    (void)kill_pool_backends(); /* so the one backend left is this pool's */
    char *ci = pa_test_pg_conninfo("app_service", dbname);
    assert_non_null(ci);
    pa_db *one = pa_db_open(ci, 1);
    free(ci);
    assert_non_null(one);
    assert_int_equal(pa_db_ping(one), PA_DB_OK);
    const char *const p[] = {dbname};
    long long pid =
        pa_test_pg_query_int(admin,
                             "SELECT max(pid) FROM pg_stat_activity WHERE datname = $1 AND"
                             " application_name = 'perfagg-server'",
                             1, p);
    assert_true(pid > 0);
    assert_int_equal(kill((pid_t)pid, SIGSTOP), 0);
    timed_call c;
    timed_call_start(&c, one, ping);
    /* Generous: PA_DB_CALL_TIMEOUT_MS expected, a loaded machine may add. */
    int ended = timed_call_wait(&c, PA_DB_CALL_TIMEOUT_MS + 20000);
    /* always resumed, whatever happened above */
    (void)kill((pid_t)pid, SIGCONT);
    if (!ended)
        (void)timed_call_wait(&c, 60000);
    assert_int_equal(pthread_join(c.thread, NULL), 0);
    assert_true(ended);
    assert_int_equal(c.status, PA_DB_UNAVAILABLE);
    /* it was the deadline (not another failure) that ended it */
    assert_true(c.elapsed_ms >= PA_DB_CALL_TIMEOUT_MS - 100);
    /* the stuck connection was dropped: the next call works */
    assert_int_equal(pa_db_ping(one), PA_DB_OK);
    pa_db_close(one);
}

static void test_stopped_backend_is_bounded(void **state)
{
    (void)state;
    stopped_backend_case(1); /* a single statement */
    stopped_backend_case(0); /* a read on a fresh, connected slot */
}

/* A conninfo's own `options` replace the defaults (here: timeouts of a
 * minute), and a caller that finds every connection busy gives up after
 * PA_DB_ACQUIRE_TIMEOUT_MS instead of waiting for one. */
static void test_conninfo_overrides_timeouts_and_slot_wait_is_bounded(void **state)
{
    (void)state;
    char *base = pa_test_pg_conninfo("app_service", dbname);
    assert_non_null(base);
    char *conninfo = NULL;
    assert_true(asprintf(&conninfo, "%s options='-c lock_timeout=60000 -c statement_timeout=60000'",
                         base) > 0);
    free(base);
    pa_db *one = pa_db_open(conninfo, 1);
    free(conninfo);
    assert_non_null(one);
    assert_int_equal(pa_db_ping(one), PA_DB_OK); /* connected */

    PGconn *locker = lock_sessions();
    timed_call a, b;
    timed_call_start(&a, one, 0);
    /* a holds the pool's only connection, waiting for the lock */
    for (int i = 0; i < 1500 && pool_lock_waiters() < 1; i++)
        usleep(20000);
    int a_waits = pool_lock_waiters() >= 1;
    timed_call_start(&b, one, 1);
    int b_ended = a_waits ? timed_call_wait(&b, 30000) : 0;
    /* Well past the default lock_timeout of 3 s: a still waits, because
     * its conninfo asked for a minute. */
    while (a_waits && mono_ms() - a.started_ms < 6000)
        usleep(20000);
    int a_still_waiting = !atomic_load(&a.done);
    unlock_sessions(locker);
    int a_ended = timed_call_wait(&a, 60000);
    (void)timed_call_wait(&b, 60000);
    assert_int_equal(pthread_join(a.thread, NULL), 0);
    assert_int_equal(pthread_join(b.thread, NULL), 0);
    pa_db_close(one);

    assert_true(a_waits);
    assert_true(b_ended);
    assert_int_equal(b.status, PA_DB_UNAVAILABLE);
    assert_true(b.elapsed_ms >= PA_DB_ACQUIRE_TIMEOUT_MS - 500);
    assert_true(a_still_waiting);
    assert_true(a_ended);
    assert_int_equal(a.status, PA_DB_NOT_FOUND); /* the lock went away: answered */
}

static void test_open_without_database(void **state)
{
    (void)state;
    /* Nothing listens there: open succeeds, calls report UNAVAILABLE. */
    pa_db *down = pa_db_open("host=/nonexistent/pa-socket-dir user=app_service dbname=x", 2);
    assert_non_null(down);
    assert_int_equal(pa_db_ping(down), PA_DB_UNAVAILABLE);
    pa_db_session s;
    char id[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(id), 0);
    assert_int_equal(pa_db_session_get(down, id, &s), PA_DB_UNAVAILABLE);
    long n;
    assert_int_equal(pa_db_cleanup_expired(down, &n), PA_DB_UNAVAILABLE);
    pa_db_close(down);

    /* A database that appears (and gets its schema) after open is used as
     * soon as it is there. */
    char later[40];
    if (pa_test_pg_random_name(later, sizeof later) != 0)
        abort();
    char *conninfo = pa_test_pg_conninfo("app_service", later);
    assert_non_null(conninfo);
    pa_db *lazy = pa_db_open(conninfo, 2);
    free(conninfo);
    assert_non_null(lazy);
    assert_int_equal(pa_db_ping(lazy), PA_DB_UNAVAILABLE);
    assert_int_equal(pa_test_pg_database(1, later), 0);
    /* Connected but not migrated: statements cannot be prepared. */
    assert_int_equal(pa_db_ping(lazy), PA_DB_UNAVAILABLE);
    char out[4096];
    int migrated = pa_test_pg_migrate(later, out, sizeof out);
    pa_db_status st = pa_db_ping(lazy);
    pa_db_close(lazy);
    assert_int_equal(pa_test_pg_database(0, later), 0);
    assert_int_equal(migrated, 0);
    assert_int_equal(st, PA_DB_OK);

    /* Configuration errors are reported at open. */
    assert_null(pa_db_open("host=/tmp user", 2));
    assert_null(pa_db_open("postgresql://a:b@host:notaport/db?x=%zz", 2));
    assert_null(pa_db_open("dbname=x", 0));
    assert_null(pa_db_open(NULL, 2));
    assert_int_equal(pa_db_ping(NULL), PA_DB_UNAVAILABLE);
}

int main(void)
{
    const char *pghost = pa_test_pg_use("test_db", "pa_test_db");
    if (pghost == NULL || pghost[0] == 0) {
        fprintf(stderr,
                "test_db: FAIL: PA_TEST_PGHOST is not set. This test needs a running PostgreSQL:\n"
                "  d=$(mktemp -d /tmp/pa-pg.XXXXXX); scripts/pgcluster.sh start $d;"
                " export PA_TEST_PGHOST=$d\n"
                "(superuser `postgres`, trust auth on the socket in $d).\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations_applied_once),
        cmocka_unit_test(test_session_create_get),
        cmocka_unit_test(test_session_get_unknown),
        cmocka_unit_test(test_replay_conflicts),
        cmocka_unit_test(test_failed_create_changes_nothing),
        cmocka_unit_test(test_credentials_checks),
        cmocka_unit_test(test_other_checks),
        cmocka_unit_test(test_result_store_and_logs),
        cmocka_unit_test(test_result_store_gone),
        cmocka_unit_test(test_result_cap),
        cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_cleanup_expired),
        cmocka_unit_test(test_ops_log),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_enclave_keys),
        cmocka_unit_test(test_operator_readonly),
        cmocka_unit_test(test_app_service_limits),
        cmocka_unit_test(test_pool_concurrency),
        cmocka_unit_test(test_pool_survives_killed_backends),
        cmocka_unit_test(test_lock_wait_is_bounded),
        cmocka_unit_test(test_stopped_backend_is_bounded),
        cmocka_unit_test(test_conninfo_overrides_timeouts_and_slot_wait_is_bounded),
        cmocka_unit_test(test_open_without_database),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
