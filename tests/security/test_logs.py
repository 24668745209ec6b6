"""Logs (docs/OPERATIONS.md "Logs").

With LOG_FORMAT=json every line every perfagg process writes is one JSON
object; the server's access lines carry request id, route, status, duration
and client address; the request id is the X-Request-Id response header (an
inbound one is kept only from a trusted proxy, and only in a safe shape);
LOG_FILE is reopened on SIGHUP. A full flow (seal, submit, aggregate, fetch
the log, revoke, refusals, operator scrapes) leaves no API key, API secret,
session id, operator token or envelope field in any process log."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

DAY_MS = 86_400_000
OWN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]+$")
ACCESS_KEYS = {"time", "level", "component", "event", "request_id", "method", "route", "status",
               "error", "duration_ms", "client"}


class LogsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # inherited by every process the stack starts (simulator, relay,
        # enclave, server)
        os.environ["LOG_FORMAT"] = "json"
        t = int(time.time() * 1000)
        cls.acct = harness.account(trades=harness.make_trades("BTCUSDT", 8, t - 3 * DAY_MS,
                                                              3_600_000, 30000.0))
        cls.stack = harness.Stack({"accounts": [cls.acct]}, server_env={
            "TRUSTED_PROXIES": "127.0.0.1",
            "LOG_FILE": "server-file.log",  # relative to the stack's directory (its cwd)
        })
        cls.log_file = os.path.join(cls.stack.tmp, "server-file.log")

    @classmethod
    def tearDownClass(cls):
        os.environ.pop("LOG_FORMAT", None)
        cls.stack.stop()

    def raw_get(self, path, headers=(), source="127.0.0.1"):
        c = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30,
                                       source_address=(source, 0))
        try:
            c.putrequest("GET", path)
            for k, v in headers:
                c.putheader(k, v)
            c.endheaders()
            r = c.getresponse()
            r.read()
            return r.status, r.getheader("X-Request-Id")
        finally:
            c.close()

    def server_lines(self, path=None):
        """The server's LOG_FILE, parsed; waits out the 200 ms buffer."""
        time.sleep(0.6)
        with open(path or self.log_file, "rb") as f:
            data = f.read()
        out = []
        for line in data.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                self.fail(f"not a JSON line in the server log: {line[:200]!r}")
        return out

    def access_line(self, rid):
        for _ in range(20):
            hits = [x for x in self.server_lines() if x.get("request_id") == rid]
            if hits:
                return hits
        self.fail(f"no access line with request_id {rid}")

    # -- tests -------------------------------------------------------------
    def test_full_flow_leaks_nothing(self):
        s = self.stack
        sealed = s.seal(self.acct["api_key"], self.acct["api_secret"], label="leakcheck")
        st, hdrs, body = s.request("POST", "/enclave/submit_key", sealed)
        self.assertEqual(st, 200, body)
        sid = body["session_id"]
        st, _, res = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual(st, 200, res)
        st, _, _ = s.request("GET", res["logs_url"])
        self.assertEqual(st, 200)
        # refusals that carry the secrets' neighbours: a replayed and a
        # tampered envelope, an unknown session, a wrong operator token
        st, _, _ = s.request("POST", "/enclave/submit_key", sealed)
        self.assertEqual(st, 409)
        fresh = s.seal(self.acct["api_key"], self.acct["api_secret"], label="leakcheck2")
        tampered = dict(fresh, metadata=dict(fresh["metadata"], label="other"))
        st, _, _ = s.request("POST", "/enclave/submit_key", tampered)
        self.assertEqual(st, 400)
        st, _, _ = s.request("POST", "/enclave/request_aggregates",
                             {"session_id": "00000000-0000-4000-8000-000000000000"})
        self.assertIn(st, (404, 410))
        self.assertEqual(s.request("GET", "/metrics")[0], 200)
        wrong = s.operator_token[:-1] + ("1" if s.operator_token[-1] == "0" else "0")
        self.assertEqual(s.request("GET", "/operator/sessions",
                                   headers={"Authorization": "Bearer " + wrong})[0], 401)
        st, _, _ = s.request("POST", "/enclave/revoke", {"session_id": sid})
        self.assertEqual(st, 200)

        lines = self.server_lines()
        self.assertGreater(len(lines), 8)
        secrets_ = {
            "api key": self.acct["api_key"],
            "api secret": self.acct["api_secret"],
            "session id": sid,
            "operator token": s.operator_token,
            "operator token secret": s.operator_token.rsplit("_", 1)[1],
        }
        for field in ("ephemeral_pub", "nonce", "ciphertext", "tag"):
            secrets_["envelope " + field] = sealed[field]
            secrets_["tampered envelope " + field] = tampered[field]
        # the session id in another spelling (no dashes) must not be there either
        secrets_["session id hex"] = sid.replace("-", "")
        logs = {name: open(os.path.join(s.tmp, name), "rb").read()
                for name in os.listdir(s.tmp) if name.endswith(".log") and name != "sim.log"}
        self.assertIn("server-file.log", logs)
        self.assertIn("enclave.log", logs)
        for name, data in logs.items():
            for what, value in secrets_.items():
                self.assertNotIn(value.encode(), data, f"{what} found in {name}")
            # every perfagg process speaks JSON lines under LOG_FORMAT=json
            for line in data.splitlines():
                try:
                    obj = json.loads(line)
                except ValueError:
                    self.fail(f"{name}: not a JSON line: {line[:200]!r}")
                self.assertIsInstance(obj, dict)
                self.assertIn(obj.get("level"), ("info", "warn", "error"))
        # the access lines of this flow: complete, with the server's own ids
        access = [x for x in lines if x.get("event") == "request"]
        routes = {x["route"] for x in access}
        for r in ("/enclave/submit_key", "/enclave/request_aggregates", "/api/logs/{result_id}",
                  "/enclave/revoke", "/metrics"):
            self.assertIn(r, routes)
        for x in access:
            self.assertEqual(set(x), ACCESS_KEYS, x)
            self.assertIsInstance(x["status"], int)
            self.assertIsInstance(x["duration_ms"], int)
            self.assertEqual(x["client"], "127.0.0.1")
            self.assertTrue(x["request_id"])
        self.assertIn({"route": "/enclave/submit_key", "status": 409, "error": "envelope_replayed"},
                      [{k: x[k] for k in ("route", "status", "error")} for x in access])
        # the enclave's line per result: sizes and where its time went, in ms,
        # nothing else (make profile reads it: docs/BENCHMARKS.md)
        results = [json.loads(line)["msg"] for line in logs["enclave.log"].splitlines()
                   if b"signed result" in line]
        self.assertEqual(len(results), 1, results)
        m = re.fullmatch(r"aggregate: signed result over (\d+) fills, \d+ audit entries; ms: "
                         r"open ([\d.]+) exchange_io ([\d.]+) json_parse ([\d.]+) "
                         r"connector (-?[\d.]+) aggregate ([\d.]+) sign ([\d.]+) attest ([\d.]+)",
                         results[0])
        self.assertIsNotNone(m, results[0])
        self.assertEqual(int(m.group(1)), len(self.acct["trades"]))
        self.assertGreater(float(m.group(3)), 0.0)  # the exchange calls took some time

    def test_request_id_header_and_log(self):
        st, rid = self.raw_get("/health")
        self.assertEqual(st, 200)
        self.assertRegex(rid, OWN_ID)
        st2, rid2 = self.raw_get("/health")
        self.assertNotEqual(rid, rid2)
        (line,) = self.access_line(rid)
        self.assertEqual((line["route"], line["status"], line["method"]), ("/health", 200, "GET"))
        # a 404 carries one too
        st, rid = self.raw_get("/nowhere")
        self.assertEqual(st, 404)
        self.assertRegex(rid, OWN_ID)
        self.assertEqual(self.access_line(rid)[0]["error"], "not_found")

    def test_inbound_request_id(self):
        # from the trusted proxy (127.0.0.1): kept
        st, rid = self.raw_get("/health", [("X-Request-Id", "nginx-3f2a.77:b")])
        self.assertEqual(rid, "nginx-3f2a.77:b")
        self.access_line("nginx-3f2a.77:b")
        # from the trusted proxy but in a shape that could forge log text: replaced
        for bad in ('a" "status":500', "x" * 65, "a b", "ü"):
            st, rid = self.raw_get("/health", [("X-Request-Id", bad)])
            self.assertRegex(rid, OWN_ID, bad)
        # from anyone else (127.0.0.2 is not in TRUSTED_PROXIES): replaced
        st, rid = self.raw_get("/health", [("X-Request-Id", "client-chosen")], source="127.0.0.2")
        self.assertEqual(st, 200)
        self.assertRegex(rid, OWN_ID)
        self.assertEqual(self.access_line(rid)[0]["client"], "127.0.0.2")
        self.assertFalse([x for x in self.server_lines() if x.get("request_id") == "client-chosen"])

    def test_sighup_reopens_log_file(self):
        s = self.stack
        st, before = self.raw_get("/health")
        self.access_line(before)
        rotated = self.log_file + ".1"
        os.rename(self.log_file, rotated)
        s.server.send_signal(signal.SIGHUP)
        harness.wait_for(lambda: os.path.exists(self.log_file), timeout=10,
                         what="the server reopening LOG_FILE")
        self.assertIsNone(s.server.poll(), "SIGHUP must not stop the server")
        st, after = self.raw_get("/health")
        self.assertEqual(st, 200)
        new = self.access_line(after)
        self.assertTrue(new)
        old_ids = {x.get("request_id") for x in self.server_lines(rotated)}
        self.assertIn(before, old_ids)
        self.assertNotIn(after, old_ids)
        self.assertNotIn(before, {x.get("request_id") for x in self.server_lines()})
        self.assertTrue(any("reopened LOG_FILE" in x.get("msg", "") for x in self.server_lines()))

    def test_bad_log_format_refused(self):
        env = {k: v for k, v in self.stack.server_env.items() if k != "LOG_FILE"}
        env.update(LOG_FORMAT="xml", PATH=os.environ.get("PATH", ""))
        r = subprocess.run([os.path.join(harness.BUILD, "perfagg-server")], env=env,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"LOG_FORMAT", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
