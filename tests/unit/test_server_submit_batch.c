/* submit_key's group commit against a real PostgreSQL: the batch statement
 * (pa_db_session_create_batch, src/server/db.c) and the batcher that feeds
 * it from many threads (src/server/submit_batch.c).
 *
 * What must hold, whatever the batch: every submit all or nothing, stored
 * exactly once with the values given; a replay 409 (PA_DB_CONFLICT) without
 * failing the submits beside it; one bad row failing only itself; a
 * database that fails under a batch failing every submit in it, with
 * nothing of any stored.
 *
 * Needs PA_TEST_PGHOST, like test_db: each run creates its own randomly
 * named database, migrates it, and drops it at the end. */
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

#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "codec.h"
#include "db.h"
#include "metrics.h"
#include "submit_batch.h"
#include "timeutil.h"
#include "uuid.h"

/* ---- fixture ------------------------------------------------------------- */

static char dbname[40];
static pa_db *db;     /* the pool, as app_service, as the server has it */
static PGconn *admin; /* postgres, on the test database */

static int group_setup(void **state)
{
    (void)state;
    const char *pghost = pa_test_pg_use("test_submit_batch", "pa_test_batch");
    if (pghost == NULL || *pghost == '\0') {
        fprintf(stderr, "test_submit_batch: FAIL: PA_TEST_PGHOST is not set (scripts/test.sh "
                        "sets it; see docs/DEVELOPING.md)\n");
        return -1;
    }
    if (pa_test_pg_random_name(dbname, sizeof dbname) != 0)
        return -1;
    if (pa_test_pg_database(1, dbname) != 0 || pa_test_pg_migrate(dbname, NULL, 0) != 0)
        return -1;
    admin = pa_test_pg_connect("postgres", dbname);
    char *conninfo = pa_test_pg_conninfo("app_service", dbname);
    db = conninfo ? pa_db_open(conninfo, 4) : NULL;
    free(conninfo);
    return admin && db ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    pa_db_close(db);
    PQfinish(admin);
    return pa_test_pg_database(0, dbname);
}

/* ---- helpers ------------------------------------------------------------- */

/* A valid new session with its own random envelope fields, expiring in ten
 * minutes. */
static void fake_init(pa_test_session *f, const char *label)
{
    pa_test_session_init(f, label, pa_now_ms() + 600000);
}

/* One integer from a query run as postgres, with at most one parameter. */
static long long query_int(const char *sql, const char *param)
{
    const char *const p[] = {param};
    return pa_test_pg_query_int(admin, sql, param ? 1 : 0, p);
}

/* Rows of the submit in each of the three tables it writes: 0 or 1 each. */
static void expect_rows(const pa_test_session *f, long long n)
{
    assert_int_equal(query_int("SELECT count(*) FROM sessions WHERE id = $1::uuid", f->id), n);
    assert_int_equal(
        query_int("SELECT count(*) FROM credentials WHERE session_id = $1::uuid", f->id), n);
}

static void expect_envelope_used(const char *eph, long long n)
{
    assert_int_equal(query_int("SELECT count(*) FROM used_envelopes WHERE ephemeral_pub = $1", eph),
                     n);
}

/* Stored exactly as given: what session_get reads back. */
static void expect_stored(const pa_test_session *f)
{
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, f->id, &s), PA_DB_OK);
    assert_string_equal(s.status, "active");
    assert_string_equal(s.exchange, f->s.exchange);
    if (f->s.label == NULL)
        assert_null(s.label);
    else
        assert_string_equal(s.label, f->s.label);
    assert_int_equal(s.expires_at_ms, f->s.expires_at_ms);
    assert_string_equal(s.ephemeral_pub, f->eph);
    assert_string_equal(s.nonce, f->nonce);
    assert_string_equal(s.ciphertext, f->ct);
    assert_string_equal(s.tag, f->tag);
    assert_string_equal(s.metadata_jcs, f->s.metadata_jcs);
    assert_string_equal(s.enclave_pubkey, f->enclave);
    pa_db_session_free(&s);
    expect_rows(f, 1);
    expect_envelope_used(f->eph, 1);
}

static void expect_absent(const pa_test_session *f)
{
    pa_db_session s;
    assert_int_equal(pa_db_session_get(db, f->id, &s), PA_DB_NOT_FOUND);
    expect_rows(f, 0);
}

/* ---- the batch statement ------------------------------------------------- */

static void test_batch_stores_each_exactly(void **state)
{
    (void)state;
    enum { N = 12 };
    /* Labels JSON must escape and PostgreSQL unescape back, and none. */
    static const char *const labels[] = {"plain",    "quote\" and \\ backslash",
                                         "ü € 漢字", "tab\tnewline\n",
                                         NULL,       "{\"not\":\"json\"}"};
    pa_test_session f[N];
    const pa_db_new_session *rows[N];
    pa_db_status out[N];
    for (int i = 0; i < N; i++) {
        fake_init(&f[i], labels[i % 6]);
        rows[i] = &f[i].s;
    }
    f[3].s.metadata_jcs = "{\"exchange\":\"binance\",\"label\":\"a\\\"b\\\\c\\u0001\"}";
    pa_db_session_create_batch(db, rows, N, out);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i], PA_DB_OK);
        expect_stored(&f[i]);
    }
    /* The same batch again: every envelope is now a replay, and a replay
     * under a fresh session id stores nothing. */
    pa_test_session again[N];
    for (int i = 0; i < N; i++) {
        fake_init(&again[i], "again");
        again[i].s.ephemeral_pub = f[i].eph;
        rows[i] = &again[i].s;
    }
    pa_db_session_create_batch(db, rows, N, out);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i], PA_DB_CONFLICT);
        expect_absent(&again[i]);
        expect_envelope_used(f[i].eph, 1);
        pa_test_session_free(&again[i]);
        pa_test_session_free(&f[i]);
    }
}

static void test_batch_replay_fails_only_itself(void **state)
{
    (void)state;
    pa_test_session used, replay, a, b;
    fake_init(&used, "used");
    assert_int_equal(pa_db_session_create(db, &used.s), PA_DB_OK);
    fake_init(&a, "a");
    fake_init(&replay, "replay");
    replay.s.ephemeral_pub = used.eph; /* a captured envelope sent again */
    fake_init(&b, "b");
    const pa_db_new_session *rows[] = {&a.s, &replay.s, &b.s};
    pa_db_status out[3];
    pa_db_session_create_batch(db, rows, 3, out);
    assert_int_equal(out[0], PA_DB_OK);
    assert_int_equal(out[1], PA_DB_CONFLICT);
    assert_int_equal(out[2], PA_DB_OK);
    expect_stored(&a);
    expect_stored(&b);
    expect_absent(&replay);
    expect_stored(&used);
    pa_test_session_free(&used);
    pa_test_session_free(&replay);
    pa_test_session_free(&a);
    pa_test_session_free(&b);
}

static void test_batch_bad_row_fails_only_itself(void **state)
{
    (void)state;
    /* A row the schema refuses (a nonce of the wrong length: the API never
     * sends one) fails the statement as a whole; the batch is then written
     * one by one, so only that row fails, and all of it. */
    pa_test_session a, bad, b, replay, used;
    fake_init(&used, "used");
    assert_int_equal(pa_db_session_create(db, &used.s), PA_DB_OK);
    fake_init(&a, "a");
    fake_init(&bad, "bad");
    bad.s.nonce = "AAAAAAAAAAAAAAA=";
    fake_init(&b, "b");
    fake_init(&replay, "replay");
    replay.s.ephemeral_pub = used.eph;
    const pa_db_new_session *rows[] = {&a.s, &bad.s, &b.s, &replay.s};
    pa_db_status out[4];
    pa_db_session_create_batch(db, rows, 4, out);
    assert_int_equal(out[0], PA_DB_OK);
    assert_int_equal(out[1], PA_DB_UNAVAILABLE);
    assert_int_equal(out[2], PA_DB_OK);
    assert_int_equal(out[3], PA_DB_CONFLICT);
    expect_stored(&a);
    expect_stored(&b);
    expect_absent(&bad);
    expect_envelope_used(bad.eph, 0); /* so it can still be submitted */
    expect_absent(&replay);
    pa_test_session_free(&a);
    pa_test_session_free(&bad);
    pa_test_session_free(&b);
    pa_test_session_free(&replay);
    pa_test_session_free(&used);
}

static long long pool_backends(void)
{
    return query_int("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND"
                     " application_name = 'perfagg-server'",
                     dbname);
}

/* Terminates every connection of the pool and waits until they are gone, so
 * the pool's next statement meets a dead socket. */
static void kill_pool_backends(void)
{
    assert_true(query_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                          " WHERE datname = $1 AND application_name = 'perfagg-server'",
                          dbname) >= 1);
    for (int i = 0; i < 200 && pool_backends() > 0; i++)
        usleep(10000);
    assert_int_equal(pool_backends(), 0);
}

static void test_batch_retry_finds_its_own_commit(void **state)
{
    (void)state;
    /* A batch whose connection breaks is sent again on a new one, and the
     * break may have come after its commit: the retry then meets its own
     * rows (same session ids, same envelopes). Those are stored (OK), not
     * replays; the rest of the batch is written by the retry. Staged here:
     * `first` is stored, then the pool's connections are killed, so the
     * next attempt breaks and the retry sends the batch with `first` in it
     * again. */
    pa_test_session first, later;
    fake_init(&first, "first");
    fake_init(&later, "later");
    const pa_db_new_session *one[] = {&first.s};
    pa_db_status out[2];
    pa_db_session_create_batch(db, one, 1, out);
    assert_int_equal(out[0], PA_DB_OK);
    kill_pool_backends();
    const pa_db_new_session *both[] = {&first.s, &later.s};
    pa_db_session_create_batch(db, both, 2, out);
    assert_int_equal(out[0], PA_DB_OK);
    assert_int_equal(out[1], PA_DB_OK);
    expect_stored(&first);
    expect_stored(&later);
    /* Without a broken connection the same row again is a replay like any
     * other: nothing but the connection's failure makes it "ours". */
    pa_db_session_create_batch(db, one, 1, out);
    assert_int_equal(out[0], PA_DB_CONFLICT);
    pa_test_session_free(&first);
    pa_test_session_free(&later);
}

static void test_batch_contract(void **state)
{
    (void)state;
    /* Rows the batch does not take answer unavailable and store nothing: a
     * malformed one, and one naming an enclave-made key (claimed in a
     * transaction of its own, pa_db_session_create). The others are
     * written. */
    pa_test_session ok, malformed, keyed;
    fake_init(&ok, "ok");
    fake_init(&malformed, "m");
    malformed.s.ciphertext = NULL;
    fake_init(&keyed, "k");
    char key_id[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(key_id), 0);
    keyed.s.enclave_key_id = key_id;
    const pa_db_new_session *rows[] = {&malformed.s, &ok.s, &keyed.s};
    pa_db_status out[3];
    pa_db_session_create_batch(db, rows, 3, out);
    assert_int_equal(out[0], PA_DB_UNAVAILABLE);
    assert_int_equal(out[1], PA_DB_OK);
    assert_int_equal(out[2], PA_DB_UNAVAILABLE);
    expect_stored(&ok);
    expect_absent(&malformed);
    expect_absent(&keyed);
    expect_envelope_used(keyed.eph, 0);
    pa_db_session_create_batch(NULL, rows, 3, out);
    assert_int_equal(out[1], PA_DB_UNAVAILABLE);
    pa_test_session_free(&ok);
    pa_test_session_free(&malformed);
    pa_test_session_free(&keyed);
}

/* ---- the database failing under a batch ---------------------------------- */

static long long pool_waiting_on_lock(void)
{
    return query_int("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND"
                     " application_name = 'perfagg-server' AND wait_event_type = 'Lock'",
                     dbname);
}

typedef struct {
    const pa_db_new_session *const *rows;
    size_t n;
    pa_db_status *out;
    int64_t took_ms;
} batch_call;

static void *batch_call_main(void *p)
{
    batch_call *c = p;
    int64_t t0 = pa_now_ms();
    pa_db_session_create_batch(db, c->rows, c->n, c->out);
    c->took_ms = pa_now_ms() - t0;
    return NULL;
}

static void test_killed_mid_batch_fails_all_and_stores_none(void **state)
{
    (void)state;
    enum { N = 6 };
    pa_test_session f[N];
    const pa_db_new_session *rows[N];
    pa_db_status out[N];
    for (int i = 0; i < N; i++) {
        fake_init(&f[i], "killed");
        rows[i] = &f[i].s;
    }
    /* Another transaction holds one of the batch's envelopes uncommitted:
     * the batch statement waits for it, mid-way through its inserts. */
    PGconn *holder = pa_test_pg_connect("postgres", dbname);
    assert_non_null(holder);
    const char *const p[] = {f[N - 1].eph};
    assert_int_equal(pa_test_pg_exec(holder, "BEGIN"), 0);
    PGresult *r = PQexecParams(holder, "INSERT INTO used_envelopes (ephemeral_pub) VALUES ($1)", 1,
                               NULL, p, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);

    batch_call c = {rows, N, out, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, batch_call_main, &c), 0);
    for (int i = 0; i < 500 && pool_waiting_on_lock() == 0; i++)
        usleep(10000);
    assert_int_equal(pool_waiting_on_lock(), 1);
    /* Kill its backend: the statement dies uncommitted; the pool retries on
     * a new connection, which waits again, until lock_timeout (3 s). */
    assert_int_equal(query_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                               " WHERE datname = $1 AND application_name = 'perfagg-server'"
                               " AND wait_event_type = 'Lock'",
                               dbname),
                     1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(pa_test_pg_exec(holder, "ROLLBACK"), 0);
    PQfinish(holder);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i], PA_DB_UNAVAILABLE);
        expect_absent(&f[i]);
        expect_envelope_used(f[i].eph, 0);
    }
    assert_true(c.took_ms < 15000);

    /* The database is back: the same submits go through. */
    pa_db_session_create_batch(db, rows, N, out);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i], PA_DB_OK);
        expect_stored(&f[i]);
        pa_test_session_free(&f[i]);
    }
}

/* ---- the batcher, from many threads --------------------------------------- */

typedef struct {
    pa_submit_batch *b;
    const pa_db_new_session *s;
    pa_db_status status;
    pthread_barrier_t *go;
} submit_call;

static void *submit_main(void *p)
{
    submit_call *c = p;
    pthread_barrier_wait(c->go);
    c->status = pa_submit_batch_create(c->b, c->s);
    return NULL;
}

/* Runs pa_submit_batch_create for each row from its own thread, all
 * released together, and returns their outcomes. */
static void submit_all(pa_submit_batch *b, const pa_db_new_session *const *rows, size_t n,
                       pa_db_status *out)
{
    pthread_t *t = calloc(n, sizeof *t);
    submit_call *c = calloc(n, sizeof *c);
    pthread_barrier_t go;
    assert_non_null(t);
    assert_non_null(c);
    assert_int_equal(pthread_barrier_init(&go, NULL, (unsigned)n), 0);
    for (size_t i = 0; i < n; i++) {
        c[i] = (submit_call){b, rows[i], PA_DB_UNAVAILABLE, &go};
        assert_int_equal(pthread_create(&t[i], NULL, submit_main, &c[i]), 0);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        out[i] = c[i].status;
    }
    pthread_barrier_destroy(&go);
    free(t);
    free(c);
}

/* perfagg_submit_batch_size as the exposition shows it. */
typedef struct {
    unsigned long long rows, batches, le4, le8;
} batch_series;

static unsigned long long sample_value(const char *text, const char *series)
{
    const char *p = strstr(text, series);
    assert_non_null(p);
    return strtoull(p + strlen(series), NULL, 10);
}

static batch_series batch_metrics(void)
{
    char *text = pa_metrics_render();
    assert_non_null(text);
    batch_series m = {
        .rows = sample_value(text, "\nperfagg_submit_batch_size_sum "),
        .batches = sample_value(text, "\nperfagg_submit_batch_size_count "),
        .le4 = sample_value(text, "\nperfagg_submit_batch_size_bucket{le=\"4\"} "),
        .le8 = sample_value(text, "\nperfagg_submit_batch_size_bucket{le=\"8\"} "),
    };
    assert_int_equal(sample_value(text, "\nperfagg_submit_batch_size_bucket{le=\"+Inf\"} "),
                     m.batches);
    free(text);
    return m;
}

static void test_batcher_many_distinct(void **state)
{
    (void)state;
    enum { N = 48 };
    /* a cap below N: some batches must be full and the rest queue */
    pa_submit_batch *b = pa_submit_batch_new(db, 8);
    assert_non_null(b);
    pa_test_session f[N];
    const pa_db_new_session *rows[N];
    pa_db_status out[N];
    for (int i = 0; i < N; i++) {
        fake_init(&f[i], "many");
        rows[i] = &f[i].s;
    }
    batch_series m0 = batch_metrics();
    submit_all(b, rows, N, out);
    batch_series m1 = batch_metrics();
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i], PA_DB_OK);
        expect_stored(&f[i]);
        pa_test_session_free(&f[i]);
    }
    /* every submit written in exactly one batch of at most 8: all of them
     * in the histogram's le="8" bucket */
    unsigned long long batches = m1.batches - m0.batches;
    assert_int_equal(m1.rows - m0.rows, N);
    assert_true(batches >= N / 8 && batches <= N);
    assert_int_equal(m1.le8 - m0.le8, batches);
    assert_true(m1.le4 - m0.le4 <= batches);
    pa_submit_batch_free(b);
}

static void test_batcher_concurrent_replays(void **state)
{
    (void)state;
    /* The same envelope from 16 threads at once (a replay storm), with
     * distinct session ids: exactly one is stored, every other one is a
     * replay, and none of theirs exists. Also when they queue together:
     * the batcher never puts one envelope twice in a statement. */
    enum { N = 16 };
    pa_submit_batch *b = pa_submit_batch_new(db, PA_DB_BATCH_MAX);
    assert_non_null(b);
    pa_test_session f[N];
    const pa_db_new_session *rows[N];
    pa_db_status out[N];
    for (int i = 0; i < N; i++) {
        fake_init(&f[i], "storm");
        f[i].s.ephemeral_pub = f[0].eph;
        rows[i] = &f[i].s;
    }
    submit_all(b, rows, N, out);
    int stored = -1, conflicts = 0;
    for (int i = 0; i < N; i++) {
        if (out[i] == PA_DB_OK) {
            assert_int_equal(stored, -1);
            stored = i;
        } else {
            assert_int_equal(out[i], PA_DB_CONFLICT);
            conflicts++;
        }
    }
    assert_true(stored >= 0);
    assert_int_equal(conflicts, N - 1);
    for (int i = 0; i < N; i++)
        expect_rows(&f[i], i == stored ? 1 : 0);
    expect_envelope_used(f[0].eph, 1);
    for (int i = 0; i < N; i++)
        pa_test_session_free(&f[i]);
    pa_submit_batch_free(b);
}

static void test_batcher_replays_beside_good_submits(void **state)
{
    (void)state;
    /* 24 good submits and 8 replays of an envelope stored before, all at
     * once: the good ones are stored, the replays refused, whatever batches
     * they fell into. */
    enum { GOOD = 24, BAD = 8, N = GOOD + BAD };
    pa_submit_batch *b = pa_submit_batch_new(db, PA_DB_BATCH_MAX);
    assert_non_null(b);
    pa_test_session used;
    fake_init(&used, "used");
    assert_int_equal(pa_db_session_create(db, &used.s), PA_DB_OK);
    pa_test_session f[N];
    const pa_db_new_session *rows[N];
    pa_db_status out[N];
    for (int i = 0; i < N; i++) {
        fake_init(&f[i], i < GOOD ? "good" : "replay");
        if (i >= GOOD)
            f[i].s.ephemeral_pub = used.eph;
    }
    /* every fourth row a replay, so replays sit between good rows */
    for (int p = 0, good = 0; p < N; p++)
        rows[p] = p % 4 == 3 ? &f[GOOD + p / 4].s : &f[good++].s;
    submit_all(b, rows, N, out);
    for (int i = 0; i < N; i++) {
        int replay = rows[i]->ephemeral_pub == used.eph;
        assert_int_equal(out[i], replay ? PA_DB_CONFLICT : PA_DB_OK);
    }
    for (int i = 0; i < N; i++) {
        if (i < GOOD)
            expect_stored(&f[i]);
        else
            expect_absent(&f[i]);
        pa_test_session_free(&f[i]);
    }
    expect_stored(&used);
    pa_test_session_free(&used);
    pa_submit_batch_free(b);
}

static void test_batcher_enclave_key_goes_alone(void **state)
{
    (void)state;
    /* A submit naming an enclave-made key takes session_create's own path:
     * an unknown key is PA_DB_KEY_USED and stores nothing. */
    pa_submit_batch *b = pa_submit_batch_new(db, PA_DB_BATCH_MAX);
    assert_non_null(b);
    pa_test_session k;
    fake_init(&k, "keyed");
    char key_id[PA_UUID_STR_LEN];
    assert_int_equal(pa_uuid_v4(key_id), 0);
    k.s.enclave_key_id = key_id;
    assert_int_equal(pa_submit_batch_create(b, &k.s), PA_DB_KEY_USED);
    expect_absent(&k);
    expect_envelope_used(k.eph, 0);
    pa_test_session_free(&k);
    assert_null(pa_submit_batch_new(db, 0));
    assert_null(pa_submit_batch_new(db, PA_DB_BATCH_MAX + 1));
    assert_null(pa_submit_batch_new(NULL, 8));
    pa_submit_batch_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_stores_each_exactly),
        cmocka_unit_test(test_batch_replay_fails_only_itself),
        cmocka_unit_test(test_batch_bad_row_fails_only_itself),
        cmocka_unit_test(test_batch_retry_finds_its_own_commit),
        cmocka_unit_test(test_batch_contract),
        cmocka_unit_test(test_killed_mid_batch_fails_all_and_stores_none),
        cmocka_unit_test(test_batcher_many_distinct),
        cmocka_unit_test(test_batcher_concurrent_replays),
        cmocka_unit_test(test_batcher_replays_beside_good_submits),
        cmocka_unit_test(test_batcher_enclave_key_goes_alone),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
