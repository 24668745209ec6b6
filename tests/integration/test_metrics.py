"""The operations series of /metrics against the real stack (docs/API.md
"GET /metrics", docs/OPERATIONS.md "What to alert on").

Each series is scraped before and after the event that should move it is
provoked through the real processes (server, enclave, relay, simulator,
PostgreSQL): active sessions, envelopes that do not open (by reason),
validation errors by code, refused operator requests, rate-limit events,
sweeper runs and deletions, enclave latency histograms per op, and the
exchange calls the enclave made, by venue and outcome."""
import os
import re
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

DAY_MS = 86_400_000
SAMPLE = re.compile(r'^([a-z_]+(?:\{(?:[a-z_]+="[^"]*",?)*\})?) (-?[0-9.e+]+|\+Inf)$')


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t = int(time.time() * 1000)
        cls.acct = harness.account(trades=harness.make_trades("BTCUSDT", 5, t - 2 * DAY_MS,
                                                              3_600_000, 30000.0))
        # The rate limiter counts by X-Forwarded-For from a trusted proxy, so
        # the test exhausts a made-up client's budget of 60 while its own
        # requests (about 20, as 127.0.0.1) stay under theirs.
        cls.stack = harness.Stack({"accounts": [cls.acct]},
                                  server_env={"TRUSTED_PROXIES": "127.0.0.1",
                                              "RATE_LIMIT_MAX": "60"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    # -- helpers -----------------------------------------------------------
    def scrape(self):
        st, hdrs, text = self.stack.request("GET", "/metrics")
        self.assertEqual(st, 200, text)
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            self.assertIsNotNone(m, f"not a Prometheus sample line: {line!r}")
            self.assertNotIn(m.group(1), out, f"series twice: {m.group(1)}")
            out[m.group(1)] = float(m.group(2)) if m.group(2) != "+Inf" else float("inf")
        return out

    def assert_moved(self, before, after, series, by=None, at_least=None):
        b, a = before.get(series, 0.0), after.get(series)
        self.assertIsNotNone(a, f"{series} is not exported")
        if by is not None:
            self.assertEqual(a - b, by, f"{series}: {b} -> {a}")
        if at_least is not None:
            self.assertGreaterEqual(a - b, at_least, f"{series}: {b} -> {a}")

    def post(self, path, body, headers=None):
        return self.stack.request("POST", path, body, headers=headers)

    # -- tests -------------------------------------------------------------
    def test_active_sessions_gauge(self):
        s = self.stack
        m0 = self.scrape()
        sid = s.submit(self.acct["api_key"], self.acct["api_secret"], label="gauge")
        m1 = self.scrape()
        self.assertEqual(m1["perfagg_sessions_active"] - m0["perfagg_sessions_active"], 1)
        # the gauge is the database's count, not a counter of submits
        db = int(s.sql("SELECT count(*) FROM sessions WHERE status = 'active' "
                       "AND expires_at > now()").strip())
        self.assertEqual(m1["perfagg_sessions_active"], db)
        st, _, body = self.post("/enclave/revoke", {"session_id": sid})
        self.assertEqual(st, 200, body)
        m2 = self.scrape()
        self.assertEqual(m2["perfagg_sessions_active"], m0["perfagg_sessions_active"])

    def test_open_failures_by_reason_and_validation_codes(self):
        s = self.stack
        before = self.scrape()
        sealed = s.seal(self.acct["api_key"], self.acct["api_secret"], label="real")
        # the label is authenticated: the enclave refuses the envelope
        tampered = dict(sealed, metadata=dict(sealed["metadata"], label="other"))
        st, _, body = self.post("/enclave/submit_key", tampered)
        self.assertEqual((st, body["error"]), (400, "decryption_failed"))
        # a validation error the server answers itself
        st, _, body = self.post("/enclave/request_aggregates", {"session_id": "not-a-session"})
        self.assertEqual(st, 400, body)
        code = body["error"]
        after = self.scrape()
        self.assert_moved(before, after,
                          'perfagg_enclave_errors_total{op="open",reason="decryption_failed"}', by=1)
        self.assert_moved(before, after,
                          'perfagg_http_errors_total{status="400",code="decryption_failed"}', by=1)
        self.assert_moved(before, after, f'perfagg_http_errors_total{{status="400",code="{code}"}}',
                          by=1)

    def test_enclave_key_lost_latency_and_exchange_calls(self):
        s = self.stack
        sid = s.submit(self.acct["api_key"], self.acct["api_secret"], label="agg")
        before = self.scrape()
        st, _, body = self.post("/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual(st, 200, body)
        # an unknown key: the simulator refuses it (HTTP 401, Binance -2015)
        bad_sid = s.submit("k" * 64, "s" * 64, label="badkey")
        st, _, body = self.post("/enclave/request_aggregates", {"session_id": bad_sid})
        self.assertEqual((st, body["error"]), (422, "exchange_rejected_key"))
        after = self.scrape()
        # request_aggregates runs each request as an enclave job (docs/API.md,
        # "Aggregate jobs"): one aggregate_start per request
        self.assert_moved(before, after,
                          'perfagg_enclave_call_duration_seconds_count{op="aggregate_start"}', by=2)
        self.assert_moved(
            before, after,
            'perfagg_enclave_call_duration_seconds_bucket{op="aggregate_start",le="+Inf"}', by=2)
        self.assertEqual(
            after['perfagg_enclave_call_duration_seconds_bucket{op="aggregate_start",le="+Inf"}'],
            after['perfagg_enclave_call_duration_seconds_count{op="aggregate_start"}'])
        # buckets are cumulative
        les = [v for k, v in after.items()
               if k.startswith('perfagg_enclave_call_duration_seconds_bucket{op="open",')]
        self.assertGreater(len(les), 10)
        self.assertEqual(les, sorted(les))
        self.assertEqual(after["perfagg_enclave_stats_up"], 1)
        self.assert_moved(before, after,
                          'perfagg_exchange_calls_total{venue="binance_spot",outcome="ok"}',
                          at_least=2)
        self.assert_moved(before, after,
                          'perfagg_exchange_calls_total{venue="binance_spot",outcome="http_4xx"}',
                          at_least=1)

        # a restarted enclave: the session's envelope no longer opens (410),
        # counted by reason; the exchange counts restart with the enclave
        s.stop_enclave()
        try:
            st, _, body = self.post("/enclave/request_aggregates", {"session_id": sid})
            self.assertEqual((st, body["error"]), (503, "enclave_unavailable"))
            down = self.scrape()
        finally:
            s.start_enclave()
        self.assertEqual(down["perfagg_enclave_stats_up"], 0)
        self.assertNotIn('perfagg_exchange_calls_total{venue="binance_spot",outcome="ok"}', down)
        self.assert_moved(after, down,
                          'perfagg_enclave_errors_total{op="aggregate_start",reason="unavailable"}', by=1)
        st, _, body = self.post("/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual((st, body["error"]), (410, "enclave_key_lost"))
        again = self.scrape()
        self.assert_moved(down, again,
                          'perfagg_enclave_errors_total{op="aggregate_job",reason="enclave_key_lost"}',
                          by=1)
        self.assertEqual(again["perfagg_enclave_stats_up"], 1)

    def test_unauthorized_operator_attempts(self):
        s = self.stack
        before = self.scrape()
        for headers in ({}, {"Authorization": "Bearer nonsense"},
                        {"Authorization": "Bearer paop_0123456789abcdef_" + "0" * 64}):
            req = urllib.request.Request(s.url + "/operator/stats", headers=headers)
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req, timeout=30)
            self.assertEqual(cm.exception.code, 401)
        after = self.scrape()
        for outcome in ("missing", "malformed", "unknown_token"):
            self.assert_moved(before, after,
                              f'perfagg_operator_unauthorized_total{{outcome="{outcome}"}}', by=1)
        self.assert_moved(before, after, 'perfagg_operator_unauthorized_total{outcome="revoked"}',
                          by=0)

    def test_rate_limit_events(self):
        before = self.scrape()
        client = {"X-Forwarded-For": "198.51.100.77"}
        limited = 0
        for _ in range(200):
            st, _, _ = self.stack.request("GET", "/api/logs/00000000-0000-4000-8000-000000000000",
                                          headers=client)
            if st == 429:
                limited += 1
                if limited == 3:
                    break
        self.assertEqual(limited, 3, "no 429 from the rate limiter")
        after = self.scrape()
        self.assert_moved(before, after, "perfagg_rate_limited_total", by=3)
        self.assert_moved(before, after,
                          'perfagg_http_errors_total{status="429",code="rate_limited"}', by=3)

    def test_ttl_cleanup_runs_and_counts(self):
        s = self.stack
        sid = s.submit(self.acct["api_key"], self.acct["api_secret"], label="expiring")
        before = self.scrape()
        # past its expiry: the sweeper (every second here) deletes its credentials
        s.sql(f"UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = '{sid}'")
        harness.wait_for(lambda: s.sql(f"SELECT count(*) FROM credentials WHERE session_id = "
                                       f"'{sid}'").strip() == "0", timeout=20,
                         what="the sweeper deleting the expired credentials")
        after = self.scrape()
        self.assert_moved(before, after, "perfagg_sweeper_runs_total", at_least=1)
        self.assert_moved(before, after, "perfagg_sweeper_deleted_total", at_least=1)
        self.assertGreaterEqual(after["perfagg_sweeper_last_success_timestamp_seconds"],
                                before["perfagg_sweeper_last_success_timestamp_seconds"])
        self.assertLess(abs(after["perfagg_sweeper_last_success_timestamp_seconds"] - time.time()),
                        30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
