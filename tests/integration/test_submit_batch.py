"""POST /enclave/submit_key's group commit (docs/DATABASE.md, "Group commit")
against the real stack: concurrent submits are written several to a
transaction (src/server/submit_batch.c), and each must still behave as if it
were alone.

- many distinct submits at once: every one 200, each stored exactly once,
  with its own envelope;
- one envelope submitted from many connections at once: one 200, the rest
  409 envelope_replayed, one row;
- replays among good submits: the replays 409, every good one 200;
- the database killing a batch's connection mid-statement (the batch waits
  on a row another transaction holds, the server retries once and meets the
  lock timeout): every submit of that batch 503 database_unavailable and
  nothing of it stored (each goes through when submitted again), the batch
  before it stored.

Bodies are sealed by the real client (`perfagg seal`) to the running enclave
before the requests start, so the requests arrive together."""
import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402


class SubmitBatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.acct = harness.account()
        cls.stack = harness.Stack({"accounts": [cls.acct]})
        cls.key_file = cls.stack.write_secret("batch_k", cls.acct["api_key"])
        cls.secret_file = cls.stack.write_secret("batch_s", cls.acct["api_secret"])

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    # -- helpers -----------------------------------------------------------
    def seal_many(self, n, label):
        """n distinct bodies, sealed by `perfagg seal` (four at a time)."""

        def one(_):
            r = self.stack.cli("seal", "--exchange", "binance", "--label", label, "--ttl", "3600",
                               "--api-key-file", self.key_file, "--api-secret-file",
                               self.secret_file, "--dev-root", self.stack.dev_root)
            return json.loads(r.stdout)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            bodies = list(ex.map(one, range(n)))
        self.assertEqual(len({b["ephemeral_pub"] for b in bodies}), n)
        return bodies

    def post_all(self, bodies):
        """Every body POSTed from its own thread, released together;
        [(status, parsed body)] in the order of bodies."""
        out = [None] * len(bodies)
        go = threading.Barrier(len(bodies))

        def one(i):
            go.wait()
            st, _, r = self.stack.request("POST", "/enclave/submit_key", bodies[i])
            out[i] = (st, r)
        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(bodies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertNotIn(None, out, "a request did not finish")
        return out

    def rows_for(self, pub):
        """(sessions, credentials, used_envelopes) rows of one envelope."""
        q = pub.replace("'", "''")
        text = self.stack.sql(
            f"SELECT (SELECT count(*) FROM credentials WHERE ephemeral_pub = '{q}'),"
            f" (SELECT count(*) FROM sessions s JOIN credentials c ON c.session_id = s.id"
            f"  WHERE c.ephemeral_pub = '{q}'),"
            f" (SELECT count(*) FROM used_envelopes WHERE ephemeral_pub = '{q}')").strip()
        return tuple(int(x) for x in text.split("|"))

    def metric(self, name):
        st, _, text = self.stack.request("GET", "/metrics")
        self.assertEqual(st, 200, text)
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        self.fail(f"{name} is not exported")

    def assert_stored(self, body, reply):
        st, r = reply
        self.assertEqual(st, 200, r)
        self.assertEqual(set(r), {"session_id", "expires_at"}, r)
        self.assertEqual(self.rows_for(body["ephemeral_pub"]), (1, 1, 1))
        sid = self.stack.sql("SELECT session_id FROM credentials WHERE ephemeral_pub = '%s'"
                             % body["ephemeral_pub"]).strip()
        self.assertEqual(sid, r["session_id"])

    def assert_replay(self, reply):
        st, r = reply
        self.assertEqual((st, r.get("error") if isinstance(r, dict) else r),
                         (409, "envelope_replayed"), r)

    # -- tests -------------------------------------------------------------
    def test_many_distinct_submits_at_once(self):
        n = 48
        bodies = self.seal_many(n, "many")
        rows0 = self.metric("perfagg_submit_batch_size_sum")
        batches0 = self.metric("perfagg_submit_batch_size_count")
        out = self.post_all(bodies)
        for body, reply in zip(bodies, out):
            self.assert_stored(body, reply)
        self.assertEqual(len({r["session_id"] for _, r in out}), n)
        # each submit written by exactly one batch; how many batches depends
        # on timing (at least one, at most one per submit)
        self.assertEqual(self.metric("perfagg_submit_batch_size_sum") - rows0, n)
        batches = self.metric("perfagg_submit_batch_size_count") - batches0
        self.assertTrue(1 <= batches <= n, batches)

    def test_one_envelope_from_many_connections(self):
        body = self.seal_many(1, "storm")[0]
        out = self.post_all([body] * 16)
        ok = [r for r in out if r[0] == 200]
        self.assertEqual(len(ok), 1, out)
        for reply in out:
            if reply[0] != 200:
                self.assert_replay(reply)
        self.assert_stored(body, ok[0])

    def test_replays_among_good_submits(self):
        old = self.seal_many(1, "old")[0]
        st, _, r = self.stack.request("POST", "/enclave/submit_key", old)
        self.assertEqual(st, 200, r)
        good = self.seal_many(24, "good")
        bodies = []
        for i, b in enumerate(good):  # a replay after every fourth good one
            bodies.append(b)
            if i % 4 == 3:
                bodies.append(old)
        out = self.post_all(bodies)
        for body, reply in zip(bodies, out):
            if body is old:
                self.assert_replay(reply)
            else:
                self.assert_stored(body, reply)
        self.assertEqual(self.rows_for(old["ephemeral_pub"]), (1, 1, 1))

    def hold_envelope(self, pub):
        """A psql session that has written pub into used_envelopes and not
        committed: a batch holding pub waits for it inside its statement."""
        p = subprocess.Popen(["psql", "-X", "-q", "-h", harness.PGHOST, "-U", "postgres", "-d",
                              self.stack.db], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, text=True)
        p.stdin.write("SET application_name = 'holder';\n"
                      "BEGIN; INSERT INTO used_envelopes (ephemeral_pub) VALUES ('%s');\n" % pub)
        p.stdin.flush()
        return p

    def release(self, p):
        p.stdin.write("ROLLBACK;\n")
        p.stdin.close()
        p.wait(30)

    def batches_waiting(self):
        return int(self.stack.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'perfagg-server' AND wait_event_type = 'Lock'").strip())

    def test_database_failing_mid_batch(self):
        first, held, *others = self.seal_many(12, "killed")
        opens = 'perfagg_enclave_call_duration_seconds_count{op="open"}'
        # first's batch waits on its held envelope, so the next submits queue
        # behind it and form one batch together (held among them), which
        # then waits on held's envelope
        h1 = self.hold_envelope(first["ephemeral_pub"])
        h2 = self.hold_envelope(held["ephemeral_pub"])
        out = {}
        try:
            harness.wait_for(lambda: self.stack.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'holder' AND state = 'idle in transaction'"
            ).strip() == "2", what="the holding transactions")
            t1 = threading.Thread(target=lambda: out.update(first=self.post_all([first])),
                                  daemon=True)
            t1.start()
            harness.wait_for(lambda: self.batches_waiting() == 1, timeout=30,
                             what="the first batch waiting")
            n0 = self.metric(opens)
            t2 = threading.Thread(target=lambda: out.update(rest=self.post_all([held, *others])),
                                  daemon=True)
            t2.start()
            # every envelope of the second lot opened: their rows are queued
            harness.wait_for(lambda: self.metric(opens) - n0 >= 1 + len(others), timeout=30,
                             what="the second lot opened by the enclave")
            time.sleep(1)
            self.release(h1)
            h1 = None
            t1.join(60)
            self.assert_stored(first, out["first"][0])
            harness.wait_for(lambda: self.batches_waiting() == 1, timeout=30,
                             what="the second batch waiting on the held envelope")
            # its connection dies mid-statement; the server retries once on a
            # new connection, which waits again until lock_timeout (3 s)
            self.stack.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                           " datname = current_database() AND application_name = 'perfagg-server'"
                           " AND wait_event_type = 'Lock'")
            t2.join(120)
            self.assertIn("rest", out, "the submits did not finish")
        finally:
            for h in (h1, h2):
                if h is not None:
                    self.release(h)
        failed = []
        for body, (st, r) in zip([held, *others], out["rest"]):
            if st == 503:
                self.assertEqual(r.get("error"), "database_unavailable", r)
                self.assertEqual(self.rows_for(body["ephemeral_pub"]), (0, 0, 0))
                failed.append(body)
            else:
                self.assert_stored(body, (st, r))
        # the batch that held `held` failed as a whole: it and the submits
        # queued with it (a thread descheduled for over a second on a busy
        # machine may have missed it and been stored by a later batch)
        self.assertIn(held, failed)
        self.assertGreaterEqual(len(failed), 2, "no other submit shared the failed batch")
        self.assertIn(b"SQLSTATE 55P03 (lock timeout)", self.stack.logs())
        # nothing of a failed submit was stored, so each goes through now
        for body, reply in zip(failed, self.post_all(failed)):
            self.assert_stored(body, reply)

if __name__ == "__main__":
    unittest.main()
