"""The enclave dies; the service does not (make test, label integration).

The server supervises the enclave (PERFAGG_ENCLAVE_EXEC). These tests kill the
real enclave process with SIGKILL, also in the middle of an aggregate that is
waiting on a slow exchange, and show: the request in flight and the ones after
it get 503 enclave_unavailable at once (not after the exchange or IPC
timeout); the server restarts the enclave with a bounded back-off and serves
again without being restarted; nothing the service had acknowledged is lost
(stored sessions, results and their logs); sessions sealed to the dead
enclave's key answer 410 enclave_key_lost, as documented."""
import os
import re
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NOW = int(time.time() * 1000)
SLOW_MS = 20000  # the slow account's exchange answers after this long


def trades():
    return harness.make_trades("BTCUSDT", 40, NOW - 5 * 86_400_000, 3_600_000, 30000.0)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        # reaped between the kill(0) and the open, or between the open and
        # the read (the kernel answers ESRCH then)
        return False


class EnclaveCrashTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fast = harness.account(trades=trades())
        cls.slow = harness.account(trades=trades(), fault="slow", slow_ms=SLOW_MS)
        # the exchange timeout must exceed the slow answer, so only the kill ends the call
        cls.stack = harness.Stack({"accounts": [cls.fast, cls.slow]}, supervised=True)
        cls.stack.server_env["PERFAGG_EXCHANGE_TIMEOUT_MS"] = str(SLOW_MS + 20000)
        cls.stack.stop_server()
        cls.stack.start_server()
        harness.wait_for(cls.enclave_up, timeout=30, what="the supervised enclave")

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    @classmethod
    def enclave_up(cls):
        # a live call (/health and the nonce-less quote are answered from what
        # the prober saw in its last round, about a second ago)
        return cls.stack.request("GET", "/attestation/quote?nonce=AAAA")[0] == 200

    def metric(self, name):
        st, _, text = self.stack.request("GET", "/metrics")
        m = re.search(r"^" + re.escape(name) + r" (\d+)$", text, re.M)
        return int(m.group(1)) if m else None

    def kill_enclave(self):
        pid = self.stack.enclave_pid()
        self.assertIsNotNone(pid, "the server has no enclave child")
        os.kill(pid, signal.SIGKILL)
        harness.wait_for(lambda: not pid_alive(pid) or self.stack.enclave_pid() != pid,
                         timeout=10, what="the enclave to die")
        return pid

    def test_kill_mid_request_503_at_once_then_recovery(self):
        s = self.stack
        harness.wait_for(self.enclave_up, timeout=30, what="enclave up")
        # acknowledged before the crash: a session with a result, and a stored session
        sid_done = s.submit(self.fast["api_key"], self.fast["api_secret"])
        st, _, done = s.request("POST", "/enclave/request_aggregates", {"session_id": sid_done})
        self.assertEqual(st, 200, done)
        st, _, logs_before = s.request("GET", done["logs_url"])
        self.assertEqual(st, 200)
        sid_slow = s.submit(self.slow["api_key"], self.slow["api_secret"])
        restarts = self.metric("perfagg_enclave_restarts_total")

        out = {}

        def aggregate():
            t0 = time.monotonic()
            out["answer"] = s.request("POST", "/enclave/request_aggregates",
                                      {"session_id": sid_slow})
            out["done_at"] = time.monotonic()
            out["took"] = out["done_at"] - t0

        t = threading.Thread(target=aggregate)
        t.start()
        # the enclave is now waiting on the exchange, whose first signed call
        # answers after SLOW_MS
        time.sleep(2)
        self.assertNotIn("answer", out, "the slow call finished before the kill")
        old_pid = self.kill_enclave()
        killed_at = time.monotonic()
        t.join(timeout=SLOW_MS / 1000)
        self.assertFalse(t.is_alive(), "the request in flight hung after the enclave died")
        st, _, body = out["answer"]
        self.assertEqual((st, body["error"]), (503, "enclave_unavailable"), body)
        # at once: well before the exchange would have answered
        self.assertLess(out["done_at"] - killed_at, 5.0)
        self.assertLess(out["took"], SLOW_MS / 1000)

        # restarted by the server, without restarting the server
        server_pid = s.server.pid
        harness.wait_for(lambda: s.enclave_pid() not in (None, old_pid), timeout=30,
                         what="a new enclave")
        harness.wait_for(self.enclave_up, timeout=30, what="the enclave back")
        self.assertEqual(s.server.pid, server_pid)
        self.assertIsNone(s.server.poll())
        new_pid = s.enclave_pid()
        self.assertNotEqual(new_pid, old_pid)
        self.assertEqual(self.metric("perfagg_enclave_restarts_total"), restarts + 1)

        # nothing acknowledged is lost: the result and its logs are unchanged,
        # the stored sessions are still there (their key died with the enclave)
        st, _, logs_after = s.request("GET", done["logs_url"])
        self.assertEqual((st, logs_after), (200, logs_before))
        for sid in (sid_done, sid_slow):
            st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
            self.assertEqual((st, body["error"]), (410, "enclave_key_lost"))
        # and the service works: a new submission is aggregated
        sid_new = s.submit(self.fast["api_key"], self.fast["api_secret"])
        st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": sid_new})
        self.assertEqual(st, 200, body)

    def test_requests_while_down_get_503_at_once(self):
        s = self.stack
        harness.wait_for(self.enclave_up, timeout=30, what="enclave up")
        # kill, then ask at once, within the 0.1 s back-off
        old = self.kill_enclave()
        t0 = time.monotonic()
        st, _, body = s.request("GET", "/attestation/quote?nonce=AAAA")
        took = time.monotonic() - t0
        if st == 200:
            self.skipTest("the enclave was back before the request (machine too fast to observe)")
        self.assertEqual((st, body["error"]), (503, "enclave_unavailable"))
        self.assertLess(took, 2.0)  # connection refused, not a timeout
        harness.wait_for(lambda: s.enclave_pid() not in (None, old), timeout=30,
                         what="a new enclave")
        harness.wait_for(self.enclave_up, timeout=30, what="the enclave back")

    def test_cached_quote_follows_a_restarted_enclave(self):
        # The nonce-less quote comes from the prober's last round: after a
        # restart it must show the new enclave's keys within a round or two,
        # not the dead one's (a trader would seal to a key nobody holds).
        s = self.stack
        harness.wait_for(self.enclave_up, timeout=30, what="enclave up")
        harness.wait_for(lambda: s.request("GET", "/attestation/quote")[0] == 200, timeout=10,
                         what="a cached quote")
        old = s.request("GET", "/attestation/quote")[2]["enclave_pubkey"]
        self.kill_enclave()
        harness.wait_for(self.enclave_up, timeout=30, what="the enclave back")
        live = s.request("GET", "/attestation/quote?nonce=AAAA")[2]["enclave_pubkey"]
        self.assertNotEqual(live, old)

        def cached():
            st, _, body = s.request("GET", "/attestation/quote")
            return body.get("enclave_pubkey") if st == 200 else None
        harness.wait_for(lambda: cached() == live, timeout=10, what="the new keys in the cache")
        for _ in range(5):
            self.assertIn(cached(), (live, None))

    def test_repeated_crashes_back_off_and_recover(self):
        s = self.stack
        harness.wait_for(self.enclave_up, timeout=30, what="enclave up")
        before = self.metric("perfagg_enclave_restarts_total")
        for _ in range(3):
            harness.wait_for(lambda: s.enclave_pid() is not None, timeout=30, what="an enclave")
            pid = self.kill_enclave()
            harness.wait_for(lambda: s.enclave_pid() not in (None, pid), timeout=30,
                             what="a new enclave")
        harness.wait_for(self.enclave_up, timeout=30, what="the enclave back")
        self.assertEqual(self.metric("perfagg_enclave_restarts_total"), before + 3)
        logs = s.logs().decode(errors="replace")
        delays = [int(x) for x in re.findall(r"restarting the enclave in (\d+) ms", logs)]
        self.assertTrue(delays, "no restart logged")
        self.assertTrue(all(100 <= d <= 5000 for d in delays), delays)
        # quick successive crashes back off: the delays grow
        self.assertGreater(max(delays), min(delays))

    def test_server_stop_takes_the_enclave_along(self):
        st = harness.Stack({"accounts": [self.fast]}, supervised=True)
        try:
            harness.wait_for(lambda: st.request("GET", "/health")[0] == 200, timeout=30,
                             what="supervised stack")
            pid = st.enclave_pid()
            self.assertIsNotNone(pid)
            st.stop_server()
            harness.wait_for(lambda: not pid_alive(pid), timeout=10, what="the enclave to stop")
        finally:
            st.stop()

    def test_server_killed_takes_the_enclave_along(self):
        # SIGKILL leaves no time to stop anything: the enclave (which dropped
        # root) must still die with its parent rather than linger as an orphan
        st = harness.Stack({"accounts": [self.fast]}, supervised=True)
        try:
            harness.wait_for(lambda: st.request("GET", "/health")[0] == 200, timeout=30,
                             what="supervised stack")
            pid = st.enclave_pid()
            self.assertIsNotNone(pid)
            st.server.kill()
            st.server.wait()
            harness.wait_for(lambda: not pid_alive(pid), timeout=10, what="the orphan to die")
        finally:
            st.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
