"""Operator access (docs/OPERATIONS.md, docs/API.md "Operator routes").

/metrics and /operator/{sessions,aggregates,stats} against the real stack:
anonymous, malformed, unknown, wrong, expired and revoked tokens are 401 with
a stable code; a valid token pages correctly and never sees a session id, a
revoked session's label, ciphertext or a signed payload; every request,
allowed or refused, leaves exactly one ops_logs row with the token's id
(never the token); when that row cannot be written nothing is served."""
import hashlib
import http.client
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

DAY_MS = 86_400_000
OP_ROUTES = ("/operator/sessions", "/operator/aggregates", "/operator/stats", "/metrics")


Response = harness.Response  # an HTTP answer: status, headers, raw body, parsed JSON


class OperatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t = int(time.time() * 1000)
        cls.acct = harness.account(trades=harness.make_trades("BTCUSDT", 10, t - 3 * DAY_MS,
                                                              3_600_000, 30000.0))
        # No sweeper run during the suite: test_sessions_paging moves a session's
        # expiry into the past for a moment, and a sweep then would mark it
        # expired for good (seen under make sanitize, where the moment is longer).
        cls.stack = harness.Stack({"accounts": [cls.acct]},
                                  server_env={"CLEANUP_INTERVAL_SECONDS": "86400"})
        s = cls.stack
        # Three sessions: one revoked (its label must never be shown), two
        # active, one of them with a stored result.
        cls.revoked_label = "gone-label-5f1c"
        cls.sid_revoked = s.submit(cls.acct["api_key"], cls.acct["api_secret"], label=cls.revoked_label)
        cls.sid_a = s.submit(cls.acct["api_key"], cls.acct["api_secret"], label="alpha-visible")
        cls.sid_b = s.submit(cls.acct["api_key"], cls.acct["api_secret"], label="beta-visible")
        st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": cls.sid_a})
        assert st == 200, body
        cls.result = body
        # ciphertext of the revoked session, captured before revoke deletes it
        cls.ciphertexts = s.sql("SELECT ciphertext FROM credentials").split()
        assert len(cls.ciphertexts) == 3
        st, _, body = s.request("POST", "/enclave/revoke", {"session_id": cls.sid_revoked})
        assert st == 200, body
        cls.token = s.operator_token_create("it-operator")

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    # -- helpers -----------------------------------------------------------
    def req(self, method, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=60)
        try:
            c.putrequest(method, path)
            for k, v in (headers or []):
                c.putheader(k, v)
            c.endheaders()
            r = c.getresponse()
            return Response(r.status, r.msg, r.read())
        finally:
            c.close()

    def get(self, path, token=None, headers=()):
        h = list(headers)
        if token is not None:
            h.append(("Authorization", "Bearer " + token))
        return self.req("GET", path, h)

    def audit_rows(self):
        out = self.stack.sql("SELECT detail::text FROM ops_logs WHERE event = 'operator_request'"
                             " ORDER BY id")
        return [json.loads(line) for line in out.splitlines() if line]

    def audited(self, fn):
        """Runs fn() (one request); returns (response, the one new audit row)."""
        before = len(self.audit_rows())
        r = fn()
        rows = self.audit_rows()
        self.assertEqual(len(rows), before + 1, (r, rows[before:]))
        return r, rows[-1]

    def assert_401(self, r, code):
        self.assertEqual(r.status, 401, r)
        self.assertEqual(set(r.json), {"error", "message"}, r)
        self.assertEqual(r.json["error"], code, r)
        self.assertTrue(r.h("WWW-Authenticate").startswith('Bearer realm="perfagg-operator"'),
                        r.h("WWW-Authenticate"))
        for k in ("sessions", "aggregates"):
            self.assertNotIn(k.encode(), r.raw)

    # -- refusals ------------------------------------------------------------
    def test_anonymous_is_401_and_audited(self):
        for path in OP_ROUTES:
            with self.subTest(path=path):
                r, row = self.audited(lambda: self.get(path))
                self.assert_401(r, "operator_token_required")
                self.assertNotIn("error=", r.h("WWW-Authenticate"))
                self.assertEqual(row, {"token_id": None, "route": path, "method": "GET",
                                       "status": 401, "client": "127.0.0.1", "outcome": "missing"})
        # an anonymous caller learns nothing about the query either
        r = self.get("/operator/sessions?limit=9999")
        self.assert_401(r, "operator_token_required")

    def test_malformed_tokens_401(self):
        tid = self.token[5:21]
        cases = [
            [("Authorization", "Bearer")],
            [("Authorization", "Bearer ")],
            [("Authorization", "Basic " + self.token)],
            [("Authorization", self.token)],
            [("Authorization", "Bearer " + self.token[:-1])],
            [("Authorization", "Bearer " + self.token + "0")],
            [("Authorization", "Bearer " + self.token.upper())],
            [("Authorization", "Bearer " + self.token + " x")],
            [("Authorization", "Bearer paop_" + tid + "-" + self.token[22:])],
            # two headers: which one a proxy reads is unclear, so neither counts
            [("Authorization", "Bearer " + self.token), ("Authorization", "Bearer " + self.token)],
        ]
        for headers in cases:
            with self.subTest(headers=headers):
                r, row = self.audited(lambda: self.req("GET", "/operator/stats", headers))
                self.assert_401(r, "operator_token_invalid")
                self.assertIn('error="invalid_token"', r.h("WWW-Authenticate"))
                self.assertEqual((row["token_id"], row["outcome"], row["status"]),
                                 (None, "malformed", 401))
        # the scheme is case-insensitive (RFC 7235), and more than one space is allowed
        for auth in ("bearer " + self.token, "BEARER  " + self.token):
            with self.subTest(auth=auth[:8]):
                self.assertEqual(self.req("GET", "/operator/stats", [("Authorization", auth)]).status, 200)

    def test_wrong_and_unknown_tokens_401(self):
        tid = self.token[5:21]
        wrong_secret = self.token[:-4] + ("0000" if not self.token.endswith("0000") else "1111")
        unknown_id = "paop_" + ("0" * 16 if tid != "0" * 16 else "1" * 16) + self.token[21:]
        for token, outcome, audited_id in [(wrong_secret, "wrong_secret", tid),
                                           (unknown_id, "unknown_token", unknown_id[5:21])]:
            for path in OP_ROUTES:
                with self.subTest(outcome=outcome, path=path):
                    r, row = self.audited(lambda: self.get(path, token))
                    self.assert_401(r, "operator_token_invalid")
                    self.assertEqual(row, {"token_id": audited_id, "route": path, "method": "GET",
                                           "status": 401, "client": "127.0.0.1", "outcome": outcome})

    def test_expired_token_401(self):
        tok = self.stack.operator_token_create("short-lived", ttl="2s")
        self.assertEqual(self.get("/operator/stats", tok).status, 200)
        time.sleep(2.5)
        r, row = self.audited(lambda: self.get("/operator/stats", tok))
        self.assert_401(r, "operator_token_invalid")
        self.assertEqual((row["token_id"], row["outcome"]), (tok[5:21], "expired"))

    def test_revoked_token_401(self):
        tok = self.stack.operator_token_create("to-revoke")
        tid = tok[5:21]
        self.assertEqual(self.get("/metrics", tok).status, 200)
        out = self.stack.admin("operator-token", "revoke", "--id", tid)
        self.assertIn(tid, out.stderr)
        for path in OP_ROUTES:
            with self.subTest(path=path):
                r, row = self.audited(lambda: self.get(path, tok))
                self.assert_401(r, "operator_token_invalid")
                self.assertEqual((row["token_id"], row["outcome"]), (tid, "revoked"))
        # revoking twice is an error that changes nothing
        again = self.stack.admin("operator-token", "revoke", "--id", tid, check=False)
        self.assertNotEqual(again.returncode, 0)
        listing = self.stack.admin("operator-token", "list").stdout
        self.assertRegex(listing, r"(?m)^%s\s+revoked\s" % tid)
        self.assertNotIn(tok[21:], listing)

    def test_method_and_query_errors(self):
        r = self.req("POST", "/operator/sessions", [("Authorization", "Bearer " + self.token),
                                                    ("Content-Length", "0")])
        self.assertEqual((r.status, r.json["error"], r.h("Allow")), (405, "method_not_allowed", "GET, OPTIONS"))
        for q in ("limit=0", "limit=501", "limit=abc", "limit=", "limit=01", "offset=-1",
                  "offset=1000001", "limit=1&limit=2", "cursor=x", "limit=+5", "limit=5%20"):
            with self.subTest(q=q):
                r, row = self.audited(lambda: self.get("/operator/sessions?" + q, self.token))
                self.assertEqual((r.status, r.json["error"]), (400, "invalid_query"), r)
                self.assertEqual((row["status"], row["outcome"]), (400, "allowed"))
        for path in ("/operator/stats?limit=1", "/metrics?x=1"):
            with self.subTest(path=path):
                r = self.get(path, self.token)
                self.assertEqual((r.status, r.json["error"]), (400, "invalid_query"), r)

    # -- allowed ---------------------------------------------------------------
    def forbidden_absent(self, raw):
        text = raw.decode()
        self.assertNotIn(self.revoked_label, text)
        for sid in (self.sid_revoked, self.sid_a, self.sid_b):
            self.assertNotIn(sid, text.lower())
        for ct in self.ciphertexts:
            self.assertNotIn(ct, text)
        self.assertNotIn(self.token, text)

    def test_sessions_paging(self):
        ref = lambda sid: hashlib.sha256(sid.encode()).hexdigest()  # noqa: E731
        r, row = self.audited(lambda: self.get("/operator/sessions?limit=2", self.token))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.h("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(row, {"token_id": self.token[5:21], "route": "/operator/sessions",
                               "method": "GET", "status": 200, "client": "127.0.0.1",
                               "outcome": "allowed"})
        p1 = r.json
        self.assertEqual(set(p1), {"sessions", "limit", "offset", "next_offset", "total"})
        self.assertEqual((p1["limit"], p1["offset"], p1["next_offset"], p1["total"]), (2, 0, 2, 3))
        self.assertEqual(len(p1["sessions"]), 2)
        r2 = self.get("/operator/sessions?offset=2&limit=2", self.token)
        p2 = r2.json
        self.assertEqual((p2["offset"], p2["next_offset"], len(p2["sessions"])), (2, None, 1))
        rows = p1["sessions"] + p2["sessions"]
        # newest first, every session once
        self.assertEqual([x["session_ref"] for x in rows],
                         [ref(self.sid_b), ref(self.sid_a), ref(self.sid_revoked)])
        for x in rows:
            self.assertEqual(set(x), {"session_ref", "exchange", "status", "label", "created_at",
                                      "expires_at", "revoked_at"})
            self.assertEqual(x["exchange"], "binance")
            self.assertRegex(x["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        by = {x["session_ref"]: x for x in rows}
        self.assertEqual((by[ref(self.sid_a)]["status"], by[ref(self.sid_a)]["label"]),
                         ("active", "alpha-visible"))
        gone = by[ref(self.sid_revoked)]
        self.assertEqual((gone["status"], gone["label"]), ("revoked", None))
        self.assertIsNotNone(gone["revoked_at"])
        self.forbidden_absent(r.raw + r2.raw)
        # default page: everything (3 < 50); past the end: empty
        d = self.get("/operator/sessions", self.token).json
        self.assertEqual((d["limit"], len(d["sessions"]), d["next_offset"]), (50, 3, None))
        self.forbidden_absent(json.dumps(d).encode())
        e = self.get("/operator/sessions?offset=3", self.token).json
        self.assertEqual((e["sessions"], e["next_offset"], e["total"]), ([], None, 3))
        # an active session past its expiry shows as expired
        self.stack.sql(f"UPDATE sessions SET expires_at = now() - interval '1 second'"
                       f" WHERE id = '{self.sid_b}'")
        try:
            d = self.get("/operator/sessions", self.token).json
            self.assertEqual({x["session_ref"]: x["status"] for x in d["sessions"]}[ref(self.sid_b)],
                             "expired")
        finally:
            self.stack.sql(f"UPDATE sessions SET expires_at = now() + interval '1 hour'"
                           f" WHERE id = '{self.sid_b}'")

    def test_aggregates_metadata_only(self):
        r = self.get("/operator/aggregates?limit=1", self.token)
        self.assertEqual(r.status, 200, r)
        d = r.json
        self.assertEqual((d["limit"], d["offset"], d["next_offset"], d["total"]), (1, 0, None, 1))
        [a] = d["aggregates"]
        signed = self.result["aggregates_signed"]
        self.assertEqual(set(a), {"result_id", "session_ref", "created_at", "merkle_root",
                                  "payload_bytes", "log_entries"})
        self.assertEqual(a["result_id"], signed["payload"]["result_id"])
        self.assertEqual(a["session_ref"], hashlib.sha256(self.sid_a.encode()).hexdigest())
        db = self.stack.sql("SELECT merkle_root, octet_length(payload_jcs), (SELECT count(*) FROM"
                            " merkle_logs) FROM aggregates").strip().split("|")
        self.assertEqual([a["merkle_root"], a["payload_bytes"], a["log_entries"]],
                         [db[0], int(db[1]), int(db[2])])
        self.assertGreater(a["log_entries"], 0)
        payload = self.stack.sql("SELECT payload_jcs FROM aggregates").strip()
        self.assertNotIn(payload, r.raw.decode())
        self.assertNotIn(signed["signature"], r.raw.decode())
        self.assertNotIn(b"payload_jcs", r.raw)
        self.forbidden_absent(r.raw)

    def test_stats(self):
        r = self.get("/operator/stats", self.token)
        self.assertEqual(r.status, 200, r)
        d = r.json
        self.assertEqual(d["sessions"], {"active": 2, "expired": 0, "revoked": 1, "total": 3})
        self.assertEqual(d["credentials_stored"], 2)
        self.assertEqual(d["aggregates"], {"total": 1, "last_24h": 1})
        active = int(self.stack.sql("SELECT count(*) FROM operator_tokens WHERE revoked_at IS NULL"
                                    " AND expires_at > now()"))
        self.assertEqual(d["operator_tokens_active"], active)
        self.forbidden_absent(r.raw)

    def test_metrics_with_token(self):
        r, row = self.audited(lambda: self.get("/metrics", self.token))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.h("Content-Type").startswith("text/plain; version=0.0.4"))
        self.assertIn(b"perfagg_http_requests_total", r.raw)
        self.assertEqual((row["route"], row["status"], row["outcome"]), ("/metrics", 200, "allowed"))

    def test_audit_unwritable_refuses_service(self):
        # Without INSERT on ops_logs the server cannot record the request:
        # it serves nothing (503), and refusals stay refusals.
        self.stack.sql("REVOKE INSERT ON ops_logs FROM app_service")
        try:
            r = self.get("/operator/sessions", self.token)
            self.assertEqual((r.status, r.json["error"]), (503, "audit_unavailable"), r)
            self.assertNotIn(b"session_ref", r.raw)
            self.assert_401(self.get("/operator/sessions"), "operator_token_required")
        finally:
            self.stack.sql("GRANT INSERT ON ops_logs TO app_service")
        self.assertEqual(self.get("/operator/sessions", self.token).status, 200)

    # -- tokens at rest and in logs --------------------------------------------
    def test_token_stored_hashed_and_never_logged(self):
        tid = self.token[5:21]
        stored = self.stack.sql(f"SELECT token_hash FROM operator_tokens WHERE id = '{tid}'").strip()
        self.assertEqual(stored, hashlib.sha256(self.token.encode()).hexdigest())
        dump = self.stack.pg_dump().decode()
        self.assertNotIn(self.token[21:], dump)
        self.assertIn(tid, dump)
        self.get("/operator/stats", self.token)
        self.assertNotIn(self.token[21:].encode(), self.stack.logs())
        # app_service reads tokens, never writes them
        for sql in ("INSERT INTO operator_tokens (id, name, token_hash, expires_at) VALUES"
                    " ('00000000000000aa', 'x', repeat('0', 64), now() + interval '1 day')",
                    "UPDATE operator_tokens SET revoked_at = NULL",
                    "DELETE FROM operator_tokens", "SELECT name FROM operator_tokens"):
            with self.subTest(sql=sql):
                out = self.stack.sql(sql, user="app_service", check=False)
                self.assertIn("permission denied", out)

    def test_admin_cli(self):
        r = self.stack.admin("operator-token", "create", "--name", "cli-check", "--ttl", "1h")
        tok = r.stdout.strip()
        self.assertEqual(r.stdout, tok + "\n")  # the token alone on stdout
        self.assertRegex(tok, r"^paop_[0-9a-f]{16}_[0-9a-f]{64}$")
        self.assertNotIn(tok[21:], r.stderr)
        self.assertIn(tok[5:21], r.stderr)
        self.assertEqual(self.get("/operator/stats", tok).status, 200)
        for args in (["create", "--name", "x"], ["create", "--name", "x", "--ttl", "0d"],
                     ["create", "--name", "x", "--ttl", "367d"], ["create", "--name", "a b", "--ttl", "1d"],
                     ["create", "--name", "x", "--ttl", "5"], ["revoke", "--id", "XYZ"], ["nope"]):
            with self.subTest(args=args):
                bad = self.stack.admin("operator-token", *args, check=False)
                self.assertEqual(bad.returncode, 2, bad.stderr)
                self.assertEqual(bad.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
