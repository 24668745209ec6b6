"""Requests whose client has gone away (docs/OPERATIONS.md, "Abandoned
requests"), through the real processes: the exchange simulator made slow
(a delay on every myTrades call of the account), the enclave queue's
workers all busy with aggregates, then

- a queued request_aggregates whose client disconnects is never started:
  perfagg_http_abandoned_total{work="skipped"} counts it, the enclave never
  sees it, and the requests around it are answered as always;
- a running request_aggregates whose client disconnects while it waits is
  cancelled in the enclave (aggregate_cancel) and stores nothing;
- POST /enclave/aggregate_jobs, whose job outlives the request, runs to its
  result although its client left at once."""
import json
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

DAY_MS = 86_400_000
WORKERS = 16  # the enclave queue's workers (src/server/main.c, queue_workers)
# each myTrades call of the slow account (under the 5 s recvWindow the
# simulator checks after the delay); a run makes two, one per symbol
DELAY_MS = 3000
SYMBOLS = "BTCUSDT,ETHUSDT"
TRADES = 20 + 10
ROUTE = "/enclave/request_aggregates"
START = 'perfagg_enclave_call_duration_seconds_count{op="aggregate_start"}'
CANCEL = 'perfagg_enclave_call_duration_seconds_count{op="aggregate_cancel"}'
SKIPPED = 'perfagg_http_abandoned_total{route="%s",work="skipped"}' % ROUTE
CANCELLED = 'perfagg_http_abandoned_total{route="%s",work="cancelled"}' % ROUTE


def request_bytes(path, obj):
    body = json.dumps(obj).encode()
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


class PatientStack(harness.Stack):
    """A stack whose enclave waits for the slow exchange rather than time
    its calls out."""

    def enclave_env(self):
        env = super().enclave_env()
        env["PERFAGG_EXCHANGE_TIMEOUT_MS"] = str(4 * DELAY_MS)
        return env


class AbandonedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t = int(time.time() * 1000)
        trades = harness.make_trades("BTCUSDT", 20, t - 5 * DAY_MS, 3_600_000, 30000.0)
        trades += harness.make_trades("ETHUSDT", 10, t - 4 * DAY_MS, 3_600_000, 2000.0, seed=2)
        cls.acct = harness.account(trades=trades)
        cls.stack = PatientStack({"accounts": [cls.acct]})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def setUp(self):
        self.stack.sim_control("POST", "/__sim/faults", {"rules": [
            {"path": "/api/v3/myTrades", "api_key": self.acct["api_key"],
             "delay_ms": DELAY_MS}]})

    def tearDown(self):
        self.stack.sim_control("POST", "/__sim/faults", {"rules": []})

    def submit(self):
        # two symbols: two slow myTrades calls per run, one after the other
        return self.stack.submit(self.acct["api_key"], self.acct["api_secret"],
                                 extra=("--symbols", SYMBOLS))

    def scrape(self):
        st, _, text = self.stack.request("GET", "/metrics")
        self.assertEqual(st, 200, text)
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def moved(self, before, series):
        return self.scrape().get(series, 0.0) - before.get(series, 0.0)

    def stored(self, sid):
        return int(self.stack.sql(
            "SELECT count(*) FROM aggregates WHERE session_id = '%s'" % sid))

    def in_background(self, n, data):
        out, threads = [], []

        def one():
            try:
                r = harness.raw_exchange(self.stack.port, data, timeout=120)
            except Exception as e:  # recorded, not lost in the thread
                r = type(e).__name__
            out.append(r)
        for _ in range(n):
            threads.append(threading.Thread(target=one, daemon=True))
            threads[-1].start()
        return threads, out

    def assert_signed(self, r):
        self.assertIsInstance(r, tuple, r)
        status, body = r
        self.assertEqual(status, 200, body)
        self.assertEqual(set(body), {"aggregates_signed", "merkle_root", "logs_url", "attestation"},
                         body)
        self.assertEqual(body["aggregates_signed"]["payload"]["trades"], TRADES)

    def test_queued_request_of_a_client_that_left_is_skipped(self):
        sid = self.submit()
        data = request_bytes(ROUTE, {"session_id": sid})
        before = self.scrape()
        fill, fill_out = self.in_background(WORKERS, data)
        # every enclave worker holds a run: the enclave started WORKERS jobs
        harness.wait_for(lambda: self.moved(before, START) >= WORKERS, timeout=60,
                         what="every enclave worker running an aggregate")
        self.assertEqual(self.moved(before, START), WORKERS)
        # queued behind them: one client that leaves, one that waits
        gone = socket.create_connection(("127.0.0.1", self.stack.port))
        gone.sendall(data)
        time.sleep(0.5)  # read and queued by the server
        stay, stay_out = self.in_background(1, data)
        time.sleep(0.5)
        self.assertEqual(fill_out, [], "the aggregates ended before the client left")
        gone.close()
        for t in fill + stay:
            t.join(120)
        # the others are answered as always, the one that waited too
        self.assertEqual(len(fill_out), WORKERS)
        self.assertEqual(len(stay_out), 1)
        for r in fill_out + stay_out:
            self.assert_signed(r)
        # the one whose client left was never started: counted, never sent
        # to the enclave, nothing stored for it
        self.assertEqual(self.moved(before, SKIPPED), 1)
        self.assertEqual(self.moved(before, START), WORKERS + 1)
        self.assertEqual(self.stored(sid), WORKERS + 1)
        self.assertEqual(self.moved(before, CANCELLED), 0)
        logs = self.stack.logs().decode(errors="replace")
        self.assertIn("POST /enclave/request_aggregates aborted", logs)

    def test_running_aggregate_of_a_client_that_left_is_cancelled(self):
        sid = self.submit()
        before = self.scrape()
        c = socket.create_connection(("127.0.0.1", self.stack.port))
        c.sendall(request_bytes(ROUTE, {"session_id": sid}))
        harness.wait_for(lambda: self.moved(before, START) == 1, timeout=30,
                         what="the aggregate running")
        c.close()
        # request_aggregates' wait noticed, and the job was cancelled in
        # the enclave while the exchange was still answering
        harness.wait_for(lambda: self.moved(before, CANCELLED) == 1, timeout=15,
                         what="the run counted cancelled")
        harness.wait_for(lambda: self.moved(before, CANCEL) == 1, timeout=15,
                         what="the enclave's job cancelled")
        self.assertEqual(self.moved(before, SKIPPED), 0)
        # the exchange's answer came after the cancel: nothing was stored
        time.sleep(2 * DELAY_MS / 1000 + 2)
        self.assertEqual(self.stored(sid), 0)
        self.assertIn(b"jobs: an aggregate job was cancelled", self.stack.logs())
        # the session serves the next request as always
        self.tearDown()
        self.assert_signed(harness.raw_exchange(
            self.stack.port, request_bytes(ROUTE, {"session_id": sid}), timeout=120))
        self.assertEqual(self.stored(sid), 1)

    def test_aggregate_job_outlives_its_client(self):
        sid = self.submit()
        before = self.scrape()
        status, body = harness.raw_exchange(
            self.stack.port, request_bytes("/enclave/aggregate_jobs", {"session_id": sid}), timeout=120)
        self.assertEqual(status, 202, body)
        # the client is gone (the connection closed with the answer); the
        # job goes on to its result
        end = time.time() + 60
        while time.time() < end:
            st, _, job = self.stack.request("GET", body["status_url"])
            self.assertEqual(st, 200, job)
            if job["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.5)
        self.assertEqual(job["status"], "succeeded", job)
        self.assertEqual(self.stored(sid), 1)
        self.assertEqual(self.moved(before, CANCEL), 0)
        self.assertEqual(self.moved(before, CANCELLED), 0)


if __name__ == "__main__":
    unittest.main()
