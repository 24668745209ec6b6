"""Aggregate jobs (docs/API.md, "Aggregate jobs") through the real processes:
an "all" scan of 300+ USDT markets paced to a weight budget far below its
weight (PERFAGG_EXCHANGE_WEIGHT_BUDGET), so it must wait for the next minute
of budget and outlasts request_aggregates' wait (PERFAGG_AGGREGATE_SYNC_TIMEOUT_MS):
the CLI follows the job with progress on stderr, the job reports monotonic
progress and ends with a signed result equal to a synchronous run's; and the
failure paths: a revoked session, an exchange failing mid-job, an enclave
restart, an unknown job id."""
import json
import os
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NOW = int(time.time() * 1000)
DAY = 86_400_000
# 300 listed USDT markets nobody traded, besides the traded ones
EXTRA = ["J%03dUSDT" % i for i in range(300)]
SYMBOLS = [{"symbol": s, "baseAsset": s[:-4], "quoteAsset": "USDT"} for s in EXTRA] + [
    {"symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT"},
    {"symbol": "ETHUSDT", "baseAsset": "ETH", "quoteAsset": "USDT"},
    {"symbol": "ETHBTC", "baseAsset": "ETH", "quoteAsset": "BTC"}]
USDT_MARKETS = len(EXTRA) + 2
# myTrades weighs 20: the scan needs ~6100 weight, the slow stack's budget
# holds 4000 a minute, so the scan cannot finish inside one minute.
SLOW_BUDGET = 4000
FROM = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW - 30 * DAY) // 1000))
TO = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW // 1000))


def trades():
    t = harness.make_trades("BTCUSDT", 2500, NOW - 25 * DAY, 800_000, 30000.0, 3)  # 3 pages
    t += harness.make_trades("ETHUSDT", 40, NOW - 20 * DAY, 40_000_000, 2000.0, 4)
    t += harness.make_trades("J150USDT", 20, NOW - 10 * DAY, 30_000_000, 2.0, 5)
    return t


class BudgetStack(harness.Stack):
    """A stack whose development enclave paces to budget weight a minute."""

    def __init__(self, accounts, budget, **kw):
        self.budget = budget
        super().__init__(accounts, **kw)

    def enclave_env(self):
        env = super().enclave_env()
        env["PERFAGG_EXCHANGE_WEIGHT_BUDGET"] = str(self.budget)
        return env


def strip(payload):
    """The payload without what differs between two runs on two stacks."""
    p = json.loads(json.dumps(payload))
    # account_id: HMAC under the salt each submit makes afresh
    for k in ("result_id", "issued_at", "account_id"):
        p.pop(k)
    p["scope"].pop("exchange_base_url")
    return p


class JobsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.acct = harness.account(trades=trades(), balances={"BTC": "0.5", "USDT": "10"})
        cls.others = [harness.account(trades=trades()) for _ in range(3)]
        doc = {"accounts": [cls.acct, *cls.others], "symbols": SYMBOLS}
        cls.slow = BudgetStack(doc, SLOW_BUDGET,
                               server_env={"PERFAGG_AGGREGATE_SYNC_TIMEOUT_MS": "1000"})
        try:
            # the same market at the test budget, for the reference run and
            # the failure paths
            cls.ref = harness.Stack(doc)
        except BaseException:
            cls.slow.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.slow.stop()
        cls.ref.stop()

    def job_of(self, stack, acct):
        sid = stack.submit(acct["api_key"], acct["api_secret"])
        st, h, body = stack.request("POST", "/enclave/aggregate_jobs",
                                    {"session_id": sid, "from": FROM, "to": TO})
        self.assertEqual(st, 202, body)
        self.assertRegex(body["status_url"], r"^/enclave/aggregate_jobs/[0-9a-f-]{36}$")
        self.assertEqual(body["status_url"], "/enclave/aggregate_jobs/" + body["job_id"])
        self.assertIn(body["status"], ("queued", "running"))
        self.assertIsNotNone(h.get("Retry-After"))
        return sid, body["status_url"]

    def poll(self, stack, url, until=None, timeout=60):
        """Polls until the job ends (or until(body) holds); every body seen."""
        seen = []
        end = time.time() + timeout
        while time.time() < end:
            st, _, body = stack.request("GET", url)
            self.assertEqual(st, 200, body)
            seen.append(body)
            if body["status"] in ("succeeded", "failed") or (until and until(body)):
                return seen
            time.sleep(0.2)
        self.fail("the job did not end in %d s: %r" % (timeout, seen[-1]))

    def stored(self, stack, sid):
        return int(stack.sql("SELECT count(*) FROM aggregates WHERE session_id = '%s'" % sid))

    def my_trades_calls(self, stack):
        return [r for r in stack.sim_control("GET", "/__sim/stats")["requests"]
                if r["path"] == "/api/v3/myTrades"]

    def assert_monotonic(self, seen):
        prev = (0, 0, 0)
        for b in seen:
            p = b["progress"]
            cur = (p["symbols_done"], p["symbols_total"], p["pages"])
            self.assertTrue(all(c >= q for c, q in zip(cur, prev)), (prev, cur))
            prev = cur

    def test_all_scan_as_a_job(self):
        s = self.slow
        sid = s.submit(self.acct["api_key"], self.acct["api_secret"])
        out = os.path.join(s.tmp, "bundle.json")
        # stderr is a pipe, not a TTY: one plain line per change
        cli = subprocess.Popen([os.path.join(harness.BUILD, "perfagg"), "--url", s.url,
                                "aggregates", sid, "--from", FROM, "--to", TO, "--out", out],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=harness.die_with_parent)
        lines, named = [], threading.Event()

        def read_stderr():
            for line in cli.stderr:
                lines.append(line.rstrip("\n"))
                if "the run continues as a job: " in line:
                    named.set()
        reader = threading.Thread(target=read_stderr)
        reader.start()
        try:
            # request_aggregates waited its 1 s and answered 202: the work goes on
            self.assertTrue(named.wait(30), lines)
            url = next(x for x in lines if "continues as a job" in x).split(": ", 1)[1]
            seen = self.poll(s, url, timeout=150)
            stdout = cli.stdout.read()  # stderr is the reader's
            cli.wait(timeout=30)
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait()
            reader.join()
            cli.stdout.close()
            cli.stderr.close()
        self.assertEqual(cli.returncode, 0, lines)
        final = seen[-1]
        self.assertEqual(final["status"], "succeeded", final)
        self.assertIsNotNone(final["finished_at"])
        self.assert_monotonic(seen)
        self.assertTrue(any(b["status"] == "running" and 0 < b["progress"]["symbols_done"]
                            < USDT_MARKETS for b in seen), "no progress seen mid-run")
        self.assertEqual(final["progress"]["symbols_done"], USDT_MARKETS)
        self.assertEqual(final["progress"]["symbols_total"], USDT_MARKETS)
        self.assertEqual(final["progress"]["pages"], USDT_MARKETS + 2)  # BTCUSDT: 3 pages

        # The scan was paced: it spans two minutes of the exchange's weight,
        # and no minute carries more myTrades weight than the budget.
        calls = self.my_trades_calls(s)
        per_minute = {}
        for r in calls:
            per_minute[r["t"] // 60000] = per_minute.get(r["t"] // 60000, 0) + 20
        self.assertGreaterEqual(len(per_minute), 2, per_minute)
        self.assertTrue(all(w <= SLOW_BUDGET for w in per_minute.values()), per_minute)

        # The CLI showed progress and wrote the same bundle a synchronous run does.
        progress = [x for x in lines if x.startswith("job ")]
        self.assertGreaterEqual(len(progress), 2, lines)
        self.assertEqual(progress[-1], "job succeeded: %d/%d symbols, %d pages"
                         % (USDT_MARKETS, USDT_MARKETS, USDT_MARKETS + 2))
        self.assertIn("saved to", stdout)
        with open(out) as f:
            bundle = json.load(f)
        self.assertEqual(bundle["response"], final["result"])
        s.cli("verify", out, "--dev-root", s.dev_root)
        payload = bundle["response"]["aggregates_signed"]["payload"]
        self.assertEqual(payload["scope"]["symbol_source"], "all")
        self.assertEqual(len(payload["scope"]["symbols"]), USDT_MARKETS)
        self.assertEqual(self.stored(s, sid), 1)
        self.assertNotIn(sid, json.dumps(final))
        # the job id is a capability like the session id: in no process's log
        logs = s.logs().decode(errors="replace")
        self.assertNotIn(final["job_id"], logs)
        self.assertNotIn(sid, logs)
        self.assertIn("GET /enclave/aggregate_jobs/{job_id} 200", logs)

        # A synchronous run over the same window (no pacing needed) signs the same numbers.
        r = self.ref
        rsid = r.submit(self.acct["api_key"], self.acct["api_secret"])
        st, _, body = r.request("POST", "/enclave/request_aggregates",
                                {"session_id": rsid, "from": FROM, "to": TO})
        self.assertEqual(st, 200, body)
        self.maxDiff = None
        self.assertEqual(strip(body["aggregates_signed"]["payload"]), strip(payload))

    def test_cli_async_on_a_terminal(self):
        # --async: a job at once; stderr a terminal: one bar redrawn in place
        import pty
        r, acct = self.ref, self.others[0]
        sid = r.submit(acct["api_key"], acct["api_secret"])
        out = os.path.join(r.tmp, "async.json")
        r.sim_control("POST", "/__sim/faults", {"rules": [
            {"path": "/api/v3/myTrades", "api_key": acct["api_key"], "delay_ms": 10}]})
        master, slave = pty.openpty()
        try:
            cli = subprocess.Popen([os.path.join(harness.BUILD, "perfagg"), "--url", r.url,
                                    "aggregates", sid, "--async", "--from", FROM, "--to", TO,
                                    "--out", out], stdout=subprocess.PIPE, stderr=slave,
                                   preexec_fn=harness.die_with_parent)
            os.close(slave)
            tty = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the terminal closed with the process
                    break
                if not chunk:
                    break
                tty += chunk
            stdout = cli.stdout.read().decode()
            cli.stdout.close()
            self.assertEqual(cli.wait(30), 0, tty)
        finally:
            os.close(master)
            r.sim_control("POST", "/__sim/faults", {"rules": []})
        text = tty.decode(errors="replace")
        self.assertIn("the run continues as a job: /enclave/aggregate_jobs/", text)
        self.assertIn("\r\x1b[K[", text)  # redrawn in place, not a line per update
        self.assertIn("] %d/%d symbols, %d pages (succeeded)" % (
            USDT_MARKETS, USDT_MARKETS, USDT_MARKETS + 2), text)
        self.assertGreaterEqual(text.count("\r\x1b[K["), 2, text)
        self.assertIn("saved to", stdout)
        r.cli("verify", out, "--dev-root", r.dev_root)

    def test_exchange_failure_mid_job(self):
        r, acct = self.ref, self.others[0]
        r.sim_control("POST", "/__sim/faults", {"rules": [
            {"path": "/api/v3/myTrades", "api_key": acct["api_key"],
             "params": {"symbol": "J100USDT"}, "status": 500}]})
        try:
            sid, url = self.job_of(r, acct)
            final = self.poll(r, url)[-1]
        finally:
            r.sim_control("POST", "/__sim/faults", {"rules": []})
        self.assertEqual(final["status"], "failed", final)
        self.assertEqual(final["error"]["error"], "exchange_unavailable")
        self.assertEqual(final["error"]["status"], 502)
        self.assertIn("nothing was signed", final["error"]["message"])
        self.assertNotIn("result", final)
        self.assertGreater(final["progress"]["symbols_done"], 0)  # it failed mid-scan
        self.assertLess(final["progress"]["symbols_done"], USDT_MARKETS)
        self.assertEqual(self.stored(r, sid), 0)

    def test_revoked_session_stops_the_job(self):
        r, acct = self.ref, self.others[1]
        r.sim_control("POST", "/__sim/faults", {"rules": [
            {"path": "/api/v3/myTrades", "api_key": acct["api_key"], "delay_ms": 100}]})
        try:
            sid, url = self.job_of(r, acct)
            self.poll(r, url, until=lambda b: b["progress"]["symbols_done"] >= 3)
            st, _, body = r.request("POST", "/enclave/revoke", {"session_id": sid})
            self.assertEqual(st, 200, body)
            final = self.poll(r, url, timeout=15)[-1]
            self.assertEqual(final["status"], "failed", final)
            self.assertEqual(final["error"]["error"], "session_revoked")
            self.assertEqual(final["error"]["status"], 410)
            self.assertEqual(self.stored(r, sid), 0)
            # the enclave stopped calling the exchange for it
            time.sleep(1.5)
            before = len(self.my_trades_calls(r))
            time.sleep(2)
            self.assertEqual(len(self.my_trades_calls(r)), before)
        finally:
            r.sim_control("POST", "/__sim/faults", {"rules": []})

    def test_unknown_job(self):
        st, _, body = self.ref.request("GET", "/enclave/aggregate_jobs/" + str(uuid.uuid4()))
        self.assertEqual((st, body["error"]), (404, "job_not_found"))
        st, _, body = self.ref.request("GET", "/enclave/aggregate_jobs/not-a-job")
        self.assertEqual((st, body["error"]), (400, "invalid_job_id"))
        st, _, body = self.ref.request("POST", "/enclave/aggregate_jobs",
                                       {"session_id": str(uuid.uuid4())})
        self.assertEqual((st, body["error"]), (404, "session_not_found"))

    def test_z_enclave_stop_fails_the_job(self):
        # last (names run in order): the restart loses every session's key
        r, acct = self.ref, self.others[2]
        r.sim_control("POST", "/__sim/faults", {"rules": [
            {"path": "/api/v3/myTrades", "api_key": acct["api_key"], "delay_ms": 100}]})
        try:
            sid, url = self.job_of(r, acct)
            self.poll(r, url, until=lambda b: b["progress"]["symbols_done"] >= 2)
            r.stop_enclave()
            r.start_enclave()
            final = self.poll(r, url, timeout=45)[-1]
        finally:
            r.sim_control("POST", "/__sim/faults", {"rules": []})
        # the job died with the enclave (its jobs live in its memory): failed
        # as soon as the server looked — the enclave gone (enclave_unavailable)
        # or, when no poll fell in the gap, the new one not knowing the job
        # (enclave_restarted)
        self.assertEqual(final["status"], "failed", final)
        self.assertIn(final["error"]["error"], ("enclave_unavailable", "enclave_restarted"))
        self.assertEqual(final["error"]["status"], 503)
        self.assertIn("nothing was signed or stored", final["error"]["message"])
        self.assertEqual(self.stored(r, sid), 0)
        # a new job of that session: the new enclave has a new key
        st, _, body = r.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual((st, body["error"]), (410, "enclave_key_lost"))


if __name__ == "__main__":
    unittest.main()
