"""The HTTP API contract of docs/API.md, checked against the real server.

Every route's success shape, the error contract (status, stable code, body of
exactly {"error", "message"}), CORS, security and rate-limit headers, and that
refused input changes nothing in the database. One stack per TestCase class:
simulator, enclave and server are real processes (tests/lib/harness.py)."""
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import reference  # noqa: E402

DAY_MS = 86_400_000
BODY_MAX = 64 * 1024
MAX_TTL = 90000  # MAX_TTL_SECONDS of the main stack (above the 86400 default)
ORIGIN = "https://app.example"
UNKNOWN_ID = "8a6e0804-2bd0-4672-b79d-d97027f9071a"  # a well-formed v4 no stack ever issues
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
JSON_CT = "application/json; charset=utf-8"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
RL_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")


def now_ms():
    return int(time.time() * 1000)


def fmt(ms, offset_minutes=0, frac=True):
    """RFC 3339 text of a time in ms, in the given UTC offset."""
    tz = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    d = datetime.datetime.fromtimestamp(ms // 1000, tz)
    s = d.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        s += ".%03d" % (ms % 1000)
    if offset_minutes == 0:
        return s + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    return s + "%s%02d:%02d" % (sign, abs(offset_minutes) // 60, abs(offset_minutes) % 60)


def parse_ms(text):
    assert TIME_RE.match(text), text
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000 + d.microsecond // 1000


def cbor_decode(data):
    """A strict decoder for the definite-length CBOR an attestation document uses."""
    def item(i, depth):
        if depth > 16:
            raise ValueError("too deep")
        ib = data[i]
        major, ai = ib >> 5, ib & 31
        i += 1
        if ai < 24:
            val = ai
        elif ai in (24, 25, 26, 27):
            n = 1 << (ai - 24)
            val = int.from_bytes(data[i:i + n], "big")
            i += n
        else:
            raise ValueError("indefinite length or reserved value")
        if major == 0:
            return val, i
        if major == 1:
            return -1 - val, i
        if major in (2, 3):
            if i + val > len(data):
                raise ValueError("string past the end")
            raw = bytes(data[i:i + val])
            return (raw if major == 2 else raw.decode()), i + val
        if major == 4:
            out = []
            for _ in range(val):
                v, i = item(i, depth + 1)
                out.append(v)
            return out, i
        if major == 5:
            out = {}
            for _ in range(val):
                k, i = item(i, depth + 1)
                v, i = item(i, depth + 1)
                if k in out:
                    raise ValueError("duplicate map key")
                out[k] = v
            return out, i
        if major == 6:
            return item(i, depth + 1)
        simple = {20: False, 21: True, 22: None}
        if ai not in simple:
            raise ValueError("unexpected simple value")
        return simple[ai], i
    value, end = item(0, 0)
    if end != len(data):
        raise ValueError("trailing bytes")
    return value


def pem_to_der(pem):
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    return base64.b64decode(body)


Response = harness.Response  # an HTTP answer: status, headers, raw body, parsed JSON


class StackTest(unittest.TestCase):
    """Helpers shared by the classes below; cls.stack is set by each class."""
    stack = None

    # -- HTTP ----------------------------------------------------------------
    def req(self, method, path, body=None, headers=None, timeout=60):
        """Sends exactly what is given (no Content-Type unless in headers)."""
        c = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return Response(r.status, r.msg, r.read())
        finally:
            c.close()

    def get(self, path, headers=None):
        return self.req("GET", path, headers=headers)

    def post(self, path, obj=None, raw=None, headers=None, content_type="application/json"):
        data = raw if raw is not None else json.dumps(obj).encode()
        h = {"Content-Type": content_type} if content_type is not None else {}
        h.update(headers or {})
        return self.req("POST", path, body=data, headers=h)

    def chunked(self, path, body, chunk=8192):
        """POSTs body with Transfer-Encoding: chunked and no Content-Length."""
        c = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30)
        try:
            c.putrequest("POST", path)
            c.putheader("Content-Type", "application/json")
            c.putheader("Transfer-Encoding", "chunked")
            c.endheaders()
            for i in range(0, len(body), chunk):
                part = body[i:i + chunk]
                c.send(b"%x\r\n" % len(part) + part + b"\r\n")
            c.send(b"0\r\n\r\n")
            r = c.getresponse()
            return Response(r.status, r.msg, r.read())
        finally:
            c.close()

    # -- assertions ------------------------------------------------------------
    def assert_security_headers(self, r, json_body=True):
        for k, v in SECURITY_HEADERS.items():
            self.assertEqual(r.h(k), v, "%s on %r" % (k, r))
        self.assertIsNone(r.h("Strict-Transport-Security"))
        if json_body:
            self.assertEqual(r.h("Content-Type"), JSON_CT, r)

    def assert_error(self, r, status, code, msg=None):
        """The error contract: status, exactly {"error", "message"}, headers."""
        self.assertEqual((r.status, r.json.get("error") if isinstance(r.json, dict) else r.raw),
                         (status, code), msg or r)
        self.assertEqual(set(r.json), {"error", "message"}, r)
        self.assertIsInstance(r.json["message"], str)
        self.assertTrue(r.json["message"].strip(), r)
        self.assert_security_headers(r)

    def assert_ok(self, r, keys):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), set(keys), r)
        self.assert_security_headers(r)

    def counts(self):
        """Rows of every table a request could write."""
        return self.stack.sql(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM credentials),"
            " (SELECT count(*) FROM used_envelopes), (SELECT count(*) FROM aggregates),"
            " (SELECT count(*) FROM merkle_logs), (SELECT count(*) FROM ops_logs),"
            " (SELECT string_agg(id || status || coalesce(label, '') || expires_at::text, ','"
            "   ORDER BY id) FROM sessions)").strip()

    def assert_not_logged(self, *ids):
        log = self.stack.logs()
        for i in ids:
            self.assertNotIn(i.encode(), log, "an id appears in a process log")
            self.assertNotIn(i.upper().encode(), log)

    def submit(self, ttl=3600, extra=(), label="main"):
        body = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], label=label,
                               ttl=ttl, extra=extra)
        r = self.post("/enclave/submit_key", body)
        self.assert_ok(r, {"session_id", "expires_at"})
        self.last_submit = r.json
        return r.json["session_id"]


def trading_account():
    t = now_ms()
    return harness.account(trades=harness.make_trades("BTCUSDT", 20, t - 5 * DAY_MS, 3_600_000, 30000.0))


class ApiContractTest(StackTest):
    @classmethod
    def setUpClass(cls):
        cls.acct = trading_account()
        # A sweeper period of an hour: it runs once at start and then not
        # again, so an expired session stays in the database untouched.
        cls.stack = harness.Stack({"accounts": [cls.acct]}, server_env={
            "ALLOWED_ORIGINS": ORIGIN, "MAX_TTL_SECONDS": str(MAX_TTL),
            "CLEANUP_INTERVAL_SECONDS": "3600"})
        with open(cls.stack.dev_root) as f:
            cls.root_pem = f.read()
        # one session and one result for the read-only tests
        body = cls.stack.seal(cls.acct["api_key"], cls.acct["api_secret"], ttl=3600)
        st, _, r = cls.stack.request("POST", "/enclave/submit_key", body)
        assert st == 200, (st, r)
        cls.sid = r["session_id"]
        st, _, cls.result = cls.stack.request("POST", "/enclave/request_aggregates",
                                              {"session_id": cls.sid, "challenge": "setup"})
        assert st == 200, (st, cls.result)
        cls.result_id = cls.result["aggregates_signed"]["payload"]["result_id"]

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    # == success shapes =======================================================
    def test_submit_shape_and_expires_at(self):
        cases = [  # (ttl, extra seal arguments, expected ttl in seconds or None)
            (3600, (), 3600),
            (None, (), 86400),       # the default
            (60, (), 60),            # smallest accepted
            (MAX_TTL, (), MAX_TTL),  # largest accepted, MAX_TTL_SECONDS of this stack
        ]
        for ttl, extra, secs in cases:
            with self.subTest(ttl=ttl):
                t0 = now_ms()
                sid = self.submit(ttl=ttl, extra=extra)
                t1 = now_ms()
                self.assertRegex(sid, UUID4_RE)
                exp = parse_ms(self.last_submit["expires_at"])
                self.assertEqual(self.stack.sql(
                    "SELECT (extract(epoch FROM expires_at) * 1000)::bigint FROM sessions"
                    f" WHERE id = '{sid}'").strip(), str(exp))
                self.assertEqual(self.get("/health").status, 200)  # a later log line
                self.assert_not_logged(sid)
                self.assertGreaterEqual(exp, t0 + secs * 1000 - 1000)
                self.assertLessEqual(exp, t1 + secs * 1000 + 1000)

    def test_submit_expires_at_is_min_of_ttl_and_not_after(self):
        # not_after sooner than now + ttl, given with an offset and fractional
        # seconds: expires_at is exactly not_after, in UTC with milliseconds
        na = (now_ms() // 1000 + 600) * 1000 + 250
        body = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], ttl=3600,
                               extra=("--not-after", fmt(na, offset_minutes=120)))
        self.assertEqual(body["metadata"]["not_after"], fmt(na, offset_minutes=120))
        r = self.post("/enclave/submit_key", body)
        self.assert_ok(r, {"session_id", "expires_at"})
        self.assertEqual(r.json["expires_at"], fmt(na))
        exp_db = self.stack.sql("SELECT (extract(epoch FROM expires_at) * 1000)::bigint FROM sessions"
                                " WHERE id = '%s'" % r.json["session_id"]).strip()
        self.assertEqual(int(exp_db), na)

        # not_after later than now + ttl: ttl wins
        t0 = now_ms()
        body = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], ttl=600,
                               extra=("--not-after", fmt(t0 + DAY_MS)))
        r = self.post("/enclave/submit_key", body)
        t1 = now_ms()
        self.assert_ok(r, {"session_id", "expires_at"})
        exp = parse_ms(r.json["expires_at"])
        self.assertGreaterEqual(exp, t0 + 600_000 - 1000)
        self.assertLessEqual(exp, t1 + 600_000 + 1000)

    def test_submit_response_is_exact(self):
        t0 = now_ms()
        body = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], ttl=7200)
        r = self.post("/enclave/submit_key", body,
                      content_type="Application/JSON; Charset=\"UTF-8\"")  # case-insensitive
        self.assert_ok(r, {"session_id", "expires_at"})
        self.assertRegex(r.json["session_id"], UUID4_RE)
        self.assertRegex(r.json["expires_at"], TIME_RE)
        self.assertAlmostEqual(parse_ms(r.json["expires_at"]), t0 + 7_200_000, delta=5000)
        for k in RL_HEADERS:
            self.assertIsNotNone(r.h(k), k)

    def test_aggregates_shape(self):
        r = self.post("/enclave/request_aggregates", {"session_id": self.sid, "challenge": "setup"})
        self.assert_ok(r, {"aggregates_signed", "merkle_root", "logs_url", "attestation"})
        for k in RL_HEADERS:
            self.assertIsNotNone(r.h(k), k)
        res = r.json
        self.assertEqual(set(res), {"aggregates_signed", "merkle_root", "logs_url", "attestation"})
        self.assertEqual(set(res["aggregates_signed"]), {"signature", "payload"})
        self.assertEqual(len(base64.b64decode(res["aggregates_signed"]["signature"], validate=True)), 64)
        payload = res["aggregates_signed"]["payload"]
        self.assertEqual(payload["type"], "perfagg/v1/aggregates")
        self.assertRegex(payload["result_id"], UUID4_RE)
        self.assertEqual(payload["challenge"], "setup")
        self.assertRegex(res["merkle_root"], r"^[0-9a-f]{64}$")
        self.assertEqual(payload["merkle_root"], res["merkle_root"])
        self.assertEqual(res["logs_url"], "/api/logs/" + payload["result_id"])
        self.assertEqual(set(res["attestation"]), {"quote", "enclave_pubkey", "signing_pubkey", "image_hash"})
        # the attached quote binds this very result: nonce = SHA-256(payload JCS)
        doc = cbor_decode(base64.b64decode(res["attestation"]["quote"], validate=True))
        claims = cbor_decode(doc[2])
        # the payload is served as the exact bytes that were signed and attested
        text = r.raw.decode()
        start = text.index('"payload":') + len('"payload":')
        _, end = json.JSONDecoder().raw_decode(text, start)
        self.assertEqual(claims["nonce"], hashlib.sha256(text[start:end].encode()).digest())
        self.assertEqual(claims["public_key"], base64.b64decode(res["attestation"]["enclave_pubkey"]))
        self.assertNotIn(self.sid, text)

    def test_aggregates_default_window(self):
        t0 = now_ms()
        r = self.post("/enclave/request_aggregates", {"session_id": self.sid})
        t1 = now_ms()
        self.assert_ok(r, {"aggregates_signed", "merkle_root", "logs_url", "attestation"})
        p = r.json["aggregates_signed"]["payload"]
        frm, to = parse_ms(p["from"]), parse_ms(p["to"])
        self.assertGreaterEqual(to, t0 - 1000)
        self.assertLessEqual(to, t1 + 1000)
        self.assertEqual(to - frm, 30 * DAY_MS)
        self.assertIsNone(p.get("challenge"))
        # explicit nulls are the same as absent
        r = self.post("/enclave/request_aggregates",
                      {"session_id": self.sid, "from": None, "to": None, "challenge": None})
        self.assertEqual(r.status, 200, r)
        p2 = r.json["aggregates_signed"]["payload"]
        self.assertEqual(parse_ms(p2["to"]) - parse_ms(p2["from"]), 30 * DAY_MS)
        self.assertNotEqual(p2["result_id"], p["result_id"])  # each call makes a new result

    def test_aggregates_explicit_window(self):
        t = now_ms()
        frm = t - 10 * DAY_MS - 500
        to = t - DAY_MS
        # any offset and fractional seconds in, UTC with milliseconds out;
        # the session id may be upper case
        r = self.post("/enclave/request_aggregates", {
            "session_id": self.sid.upper(), "from": fmt(frm, offset_minutes=120),
            "to": fmt(to, offset_minutes=-330)})
        self.assertEqual(r.status, 200, r)
        p = r.json["aggregates_signed"]["payload"]
        self.assertEqual((p["from"], p["to"]), (fmt(frm), fmt(to)))
        # the audit log's last entry is the same window
        logs = self.get(r.json["logs_url"])
        self.assertEqual(logs.status, 200, logs)
        last = logs.json["entries"][-1]["entry"]
        self.assertEqual((last["type"], last["from"], last["to"]), ("window", fmt(frm), fmt(to)))

    def test_challenge_length_counts_code_points(self):
        ok = "é" * 126 + "😀" + "x"  # 128 code points, 258 bytes
        r = self.post("/enclave/request_aggregates", {"session_id": self.sid, "challenge": ok})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["aggregates_signed"]["payload"]["challenge"], ok)
        for bad in ("é" * 129, "a" * 129, "😀" * 129):
            with self.subTest(n=len(bad)):
                self.assert_error(self.post("/enclave/request_aggregates",
                                            {"session_id": self.sid, "challenge": bad}),
                                  400, "invalid_challenge")

    def test_logs_shape_and_merkle_root(self):
        r = self.get("/api/logs/" + self.result_id)
        self.assert_ok(r, {"result_id", "tree_size", "merkle_root", "entries"})
        logs = r.json
        self.assertEqual(logs["result_id"], self.result_id)
        self.assertEqual(logs["merkle_root"], self.result["merkle_root"])
        self.assertEqual(logs["tree_size"], len(logs["entries"]))
        self.assertGreaterEqual(logs["tree_size"], 2)
        leaves = []
        for i, e in enumerate(logs["entries"]):
            self.assertEqual(set(e), {"index", "entry", "leaf_hash"})
            self.assertEqual(e["index"], i)
            self.assertIsInstance(e["entry"], dict)
            # served as the exact JCS text that was hashed
            jcs = json.dumps(e["entry"], sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False).encode()
            self.assertIn(b'"entry":' + jcs + b',', r.raw)
            self.assertEqual(hashlib.sha256(b"\x00" + jcs).hexdigest(), e["leaf_hash"])
            leaves.append(jcs)
        self.assertEqual(reference.merkle_root(leaves).hex(), logs["merkle_root"])
        self.assertEqual(logs["entries"][-1]["entry"]["type"], "window")
        # an upper-case id is the same result; output is lower case
        r2 = self.get("/api/logs/" + self.result_id.upper())
        self.assertEqual((r2.status, r2.json["result_id"]), (200, self.result_id))
        self.assertEqual(r2.raw, r.raw)

    def test_quote_with_and_without_nonce(self):
        with open(os.path.join(self.stack.var, "dev-attest", "root.pem")) as f:
            root_der = pem_to_der(f.read())
        nonce = b"\xfb\xff\xfe" * 10 + b"\x00\x01"  # its base64 has '+' and '/'
        enc = base64.b64encode(nonce).decode()
        self.assertIn("+", enc)
        cases = [("", None),
                 ("?nonce=" + urllib.parse.quote(enc, safe=""), nonce),
                 ("?nonce=" + enc, nonce),  # an unencoded '+' arrives as a space, read as '+'
                 ("?nonce=" + urllib.parse.quote(base64.b64encode(b"\x07" * 64)), b"\x07" * 64),
                 ("?nonce=AA%3D%3D", b"\x00")]
        for query, want in cases:
            with self.subTest(query=query):
                r = self.get("/attestation/quote" + query)
                self.assert_ok(r, {"quote", "enclave_pubkey", "signing_pubkey", "image_hash"})
                enc_pub = base64.b64decode(r.json["enclave_pubkey"], validate=True)
                sig_pub = base64.b64decode(r.json["signing_pubkey"], validate=True)
                self.assertEqual((len(enc_pub), len(sig_pub)), (32, 32))
                self.assertRegex(r.json["image_hash"], r"^[0-9a-f]{96}$")
                doc = cbor_decode(base64.b64decode(r.json["quote"], validate=True))
                # untagged COSE_Sign1: [protected {1: -35}, {}, payload, 96-byte signature]
                self.assertEqual(len(doc), 4)
                self.assertEqual(doc[0], bytes.fromhex("a1013822"))
                self.assertEqual(doc[1], {})
                self.assertEqual(len(doc[3]), 96)
                claims = cbor_decode(doc[2])
                self.assertEqual(claims["digest"], "SHA384")
                self.assertEqual(claims["nonce"], want)
                self.assertEqual(claims["public_key"], enc_pub)
                self.assertEqual(claims["pcrs"][0].hex(), r.json["image_hash"])
                self.assertEqual(claims["user_data"],
                                 hashlib.sha256(b"perfagg/v1/keys" + enc_pub + sig_pub).digest())
                self.assertEqual(claims["cabundle"][0], root_der)
                for k in RL_HEADERS:
                    self.assertIsNotNone(r.h(k), k)

    def test_quote_without_nonce_is_served_from_memory(self):
        # The health prober has the enclave make one nonce-less document per
        # round (about a second); requests in between get that same document,
        # while every nonce request is signed for itself.
        t0 = time.monotonic()
        bodies = [self.get("/attestation/quote") for _ in range(30)]
        elapsed = time.monotonic() - t0
        for r in bodies:
            self.assertEqual(r.status, 200, r)
        distinct = {r.json["quote"] for r in bodies}
        self.assertLessEqual(len(distinct), int(elapsed) + 2, (len(distinct), elapsed))
        newest = bodies[-1].json
        claims = cbor_decode(cbor_decode(base64.b64decode(newest["quote"]))[2])
        self.assertIsNone(claims["nonce"])
        # a document at most a prober round (plus this test's own time) old
        age_ms = time.time() * 1000 - claims["timestamp"]
        self.assertLess(age_ms, (elapsed + 10) * 1000, age_ms)
        # the same keys as a document signed on demand
        a = self.get("/attestation/quote?nonce=AAAA").json
        b = self.get("/attestation/quote?nonce=AAAA").json
        self.assertNotEqual(a["quote"], b["quote"])
        for k in ("enclave_pubkey", "signing_pubkey", "image_hash"):
            self.assertEqual(a[k], newest[k], k)

    def test_enclave_connections_are_reused(self):
        # Calls hand their connection back (enclave_client.c): 20 documents
        # signed one after another open at most a couple of new connections
        # (the prober may be mid-call when one is needed), not 20.
        name = "perfagg_enclave_connections_opened_total"
        before = self.metrics()[name]
        for i in range(20):
            r = self.get("/attestation/quote?nonce=" + urllib.parse.quote(
                base64.b64encode(b"reuse-%d" % i).decode(), safe=""))
            self.assertEqual(r.status, 200, r)
        self.assertLessEqual(self.metrics()[name] - before, 3)

    def test_root_is_the_dev_root_pem(self):
        r = self.get("/attestation/root")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.h("Content-Type"), "application/x-pem-file")
        self.assert_security_headers(r, json_body=False)
        with open(os.path.join(self.stack.tmp, "var", "dev-attest", "root.pem"), "rb") as f:
            self.assertEqual(r.raw.strip(), f.read().strip())
        self.assertTrue(r.raw.startswith(b"-----BEGIN CERTIFICATE-----"))
        for k in RL_HEADERS:
            self.assertIsNotNone(r.h(k), k)

    def test_health(self):
        r = self.get("/health")
        self.assert_ok(r, {"status", "database", "enclave"})
        self.assertEqual(r.json, {"status": "ok", "database": "ok", "enclave": "ok"})
        # not rate limited, so none of the headers; a query string is ignored
        for k in RL_HEADERS + ("Retry-After",):
            self.assertIsNone(r.h(k), k)
        self.assertEqual(self.get("/health?verbose=1").json, r.json)

    def test_health_is_answered_from_a_cache(self):
        # 300 calls on one keep-alive connection: the enclave (and the
        # database) are asked about once a second by the prober, not once
        # per call (they used to be: 300 info calls, 300 pings, 300 jobs).
        info = 'perfagg_enclave_call_duration_seconds_count{op="info"}'
        before = self.metrics().get(info, 0)
        t0 = time.time()
        c = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30)
        try:
            for _ in range(300):
                c.request("GET", "/health")
                r = c.getresponse()
                self.assertEqual((r.status, json.loads(r.read())["status"]), (200, "ok"))
        finally:
            c.close()
        elapsed = time.time() - t0
        calls = self.metrics().get(info, 0) - before
        # one probe a second, plus slack for a slow machine
        self.assertLessEqual(calls, elapsed + 5, (calls, elapsed))
        self.assertLess(calls, 300)

    def test_ambiguous_framing_is_refused(self):
        # Two Content-Length headers (libmicrohttpd reads the first, a proxy
        # might read the other), or Content-Length with Transfer-Encoding:
        # 400, the connection closed, nothing read or stored.
        sid = self.submit(label="framing")
        before = self.counts()
        body = json.dumps({"session_id": sid}).encode()
        head = b"POST /enclave/revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        cases = [
            head + b"Content-Length: %d\r\nContent-Length: 5\r\n\r\n" % len(body) + body,
            head + b"Content-Length: 5\r\ncontent-length: %d\r\n\r\n" % len(body) + body,
            head + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(body), len(body)) + body,
            head + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body) +
            b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        ]
        for raw in cases:
            with socket.create_connection(("127.0.0.1", self.stack.port), timeout=10) as c:
                c.sendall(raw)
                out = b""
                while True:
                    d = c.recv(65536)
                    if not d:  # the server closes the connection
                        break
                    out += d
            status = int(out.split(b" ", 2)[1])
            err = json.loads(out.split(b"\r\n\r\n", 1)[1])
            self.assertEqual((status, err["error"]), (400, "invalid_request"), out)
            self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)  # nothing after it was served
        # the session was not revoked by any of them
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.stack.sql(f"SELECT status FROM sessions WHERE id = '{sid}'").strip(),
                         "active")

    def metrics(self):
        r = self.get("/metrics", headers=self.stack.operator_headers())
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.h("Content-Type").startswith("text/plain; version=0.0.4"), r.h("Content-Type"))
        self.assert_security_headers(r, json_body=False)
        for k in RL_HEADERS:
            self.assertIsNone(r.h(k), k)
        out = {}
        for line in r.raw.decode().splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) [a-z_]+ .+$")
                continue
            m = re.match(r'^([a-z_]+(?:\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})?) ([0-9]+(?:\.[0-9]+)?)$', line)
            self.assertIsNotNone(m, "not Prometheus text: %r" % line)
            out[m.group(1)] = float(m.group(2))
        return out

    def test_metrics_counters_move(self):
        before = self.metrics()
        for name in ("perfagg_db_errors_total", "perfagg_rate_limited_total", "perfagg_server_busy_total",
                     "perfagg_sessions_created_total", "perfagg_sessions_revoked_total",
                     "perfagg_sweeper_runs_total", "perfagg_sweeper_failures_total",
                     "perfagg_sweeper_deleted_total",
                     'perfagg_enclave_call_duration_seconds_sum{op="aggregate"}',
                     'perfagg_enclave_call_failures_total{op="open"}'):
            self.assertIn(name, before)
        self.assertEqual(self.get("/api/logs/not-a-uuid").status, 400)
        self.assertEqual(self.get("/no/such/route").status, 404)
        self.assertEqual(self.get("/health").status, 200)
        sid = self.submit(label="metrics")
        self.assertEqual(self.post("/enclave/revoke", {"session_id": sid}).status, 200)
        after = self.metrics()

        def delta(name):
            return after.get(name, 0) - before.get(name, 0)
        req = 'perfagg_http_requests_total{route="%s",status="%s"}'
        self.assertEqual(delta(req % ("/api/logs/{result_id}", "4xx")), 1)
        self.assertEqual(delta(req % ("unknown", "4xx")), 1)
        self.assertEqual(delta(req % ("/health", "2xx")), 1)
        self.assertEqual(delta(req % ("/metrics", "2xx")), 1)  # the first /metrics call
        self.assertEqual(delta(req % ("/enclave/submit_key", "2xx")), 1)
        self.assertEqual(delta(req % ("/enclave/revoke", "2xx")), 1)
        self.assertGreaterEqual(delta(req % ("/attestation/quote", "2xx")), 1)  # the CLI attests
        self.assertEqual(delta("perfagg_sessions_created_total"), 1)
        self.assertEqual(delta("perfagg_sessions_revoked_total"), 1)
        self.assertEqual(delta('perfagg_enclave_call_duration_seconds_count{op="open"}'), 1)
        # attest calls without a nonce come from the health prober, about one
        # a second (quote_cache.h)
        info = 'perfagg_enclave_call_duration_seconds_count{op="attest"}'
        harness.wait_for(lambda: self.metrics().get(info, 0) > before.get(info, 0), timeout=20,
                         what="a health probe")

    def test_revoke_message_and_expired_session(self):
        # Expired but not yet swept (the sweeper runs hourly in this stack):
        # the server itself compares expires_at with now.
        sid = self.submit(label="expiring")
        self.stack.sql(f"UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = '{sid}'")
        r = self.post("/enclave/request_aggregates", {"session_id": sid})
        self.assert_error(r, 410, "session_expired")
        self.assertEqual(self.stack.sql(
            f"SELECT s.status, count(c.session_id) FROM sessions s LEFT JOIN credentials c"
            f" ON c.session_id = s.id WHERE s.id = '{sid}' GROUP BY s.status").strip(), "active|1")
        # an expired session can still be revoked; the id may be upper case
        r = self.post("/enclave/revoke", {"session_id": sid.upper()})
        self.assert_ok(r, {"success", "message"})
        self.assertEqual(r.json, {"success": True, "message": "Session revoked and data purged"})
        self.assert_error(self.post("/enclave/request_aggregates", {"session_id": sid}),
                          410, "session_revoked")
        self.assert_error(self.post("/enclave/revoke", {"session_id": sid}), 410, "session_revoked")
        self.assert_error(self.post("/enclave/revoke", {"session_id": UNKNOWN_ID}), 404, "session_not_found")
        self.assert_not_logged(sid)

    def test_concurrent_aggregates(self):
        sid = self.submit(label="parallel")
        out, errors = [], []

        def one():
            try:
                out.append(self.post("/enclave/request_aggregates", {"session_id": sid}))
            except Exception as e:  # reported below, not lost in the thread
                errors.append(repr(e))
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        self.assertEqual(errors, [])
        self.assertEqual([r.status for r in out], [200] * 8, out)
        ids = {r.json["aggregates_signed"]["payload"]["result_id"] for r in out}
        self.assertEqual(len(ids), 8)
        self.assertEqual(self.stack.sql(
            f"SELECT count(*) FROM aggregates WHERE session_id = '{sid}'").strip(), "8")
        for rid in ids:
            r = self.get("/api/logs/" + rid)
            self.assertEqual((r.status, r.json["result_id"]), (200, rid))
        self.assert_not_logged(sid)

    # == error contract =======================================================
    def test_unknown_routes_404(self):
        # "/" is the trader's page when the pages' bundle is built (tests/browser/test_pages.py)
        for method, path in [("GET", "/nope"), ("GET", "/index.html"), ("GET", "/health/"), ("GET", "/Health"),
                             ("GET", "/HEALTH"), ("POST", "/enclave/submit_key/"),
                             ("POST", "/Enclave/revoke"), ("GET", "/api/logs/"),
                             ("GET", "/api/logs/%s/x" % UNKNOWN_ID), ("GET", "/api/logs"),
                             ("GET", "/attestation"), ("DELETE", "/x"), ("OPTIONS", "/nope")]:
            with self.subTest(method=method, path=path):
                r = self.req(method, path)
                self.assert_error(r, 404, "not_found")
                self.assertIsNone(r.h("Allow"))

    def test_wrong_method_405_with_allow(self):
        post_routes = ["/enclave/submit_key", "/enclave/request_aggregates", "/enclave/revoke"]
        get_routes = ["/api/logs/" + UNKNOWN_ID, "/attestation/quote", "/attestation/root",
                      "/health", "/metrics"]
        for path in post_routes:
            for method in ("GET", "PUT", "DELETE", "PATCH"):
                with self.subTest(method=method, path=path):
                    r = self.req(method, path)
                    self.assert_error(r, 405, "method_not_allowed")
                    self.assertEqual(r.h("Allow"), "POST, OPTIONS")
        for path in get_routes:
            for method in ("POST", "PUT", "DELETE"):
                with self.subTest(method=method, path=path):
                    r = self.req(method, path)
                    self.assert_error(r, 405, "method_not_allowed")
                    self.assertEqual(r.h("Allow"), "GET, OPTIONS")
            with self.subTest(method="HEAD", path=path):  # HEAD is not served
                r = self.req("HEAD", path)
                self.assertEqual((r.status, r.h("Allow")), (405, "GET, OPTIONS"))
        # 405 is decided before the body: a JSON body on a GET route changes nothing
        r = self.req("POST", "/health", body=b"{}", headers={"Content-Type": "application/json"})
        self.assert_error(r, 405, "method_not_allowed")
        # a plain OPTIONS (no preflight) is 204 with Allow
        for path, allow in [("/enclave/revoke", "POST, OPTIONS"), ("/health", "GET, OPTIONS"),
                            ("/api/logs/" + UNKNOWN_ID, "GET, OPTIONS")]:
            r = self.req("OPTIONS", path)
            self.assertEqual((r.status, r.h("Allow"), r.raw), (204, allow, b""))
            self.assert_security_headers(r, json_body=False)

    def test_unsupported_media_type_415(self):
        body = json.dumps({"session_id": "x"}).encode()
        for ct in (None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                   "application/json; charset=latin-1", "application/json; charset=utf-16",
                   "text/json", "application/json;", "json"):
            for path in ("/enclave/submit_key", "/enclave/request_aggregates", "/enclave/revoke"):
                with self.subTest(ct=ct, path=path):
                    self.assert_error(self.post(path, raw=body, content_type=ct),
                                      415, "unsupported_media_type")
        # accepted spellings reach validation (400 on the session id, not 415)
        for ct in ("application/json", "APPLICATION/JSON", "application/json; charset=utf-8",
                   "application/json;charset=UTF-8", 'application/json; charset="utf-8"'):
            with self.subTest(ct=ct):
                self.assert_error(self.post("/enclave/revoke", raw=body, content_type=ct),
                                  400, "invalid_session_id")

    def test_payload_too_large_413(self):
        def padded(n):  # a JSON body of exactly n bytes that is otherwise valid
            head = b'{"session_id":"x"'
            return head + b" " * (n - len(head) - 1) + b"}"
        # at the limit: read and validated
        self.assert_error(self.post("/enclave/revoke", raw=padded(BODY_MAX)), 400, "invalid_session_id")
        self.assert_error(self.chunked("/enclave/revoke", padded(BODY_MAX)), 400, "invalid_session_id")
        # one byte over, with Content-Length and chunked
        for path in ("/enclave/submit_key", "/enclave/request_aggregates", "/enclave/revoke"):
            with self.subTest(path=path):
                self.assert_error(self.post(path, raw=padded(BODY_MAX + 1)), 413, "payload_too_large")
                self.assert_error(self.chunked(path, padded(BODY_MAX + 1)), 413, "payload_too_large")
        # decided from Content-Length before any of the body is read
        with socket.create_connection(("127.0.0.1", self.stack.port), timeout=10) as so:
            so.sendall(b"POST /enclave/request_aggregates HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\nContent-Length: 65537\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                chunk = so.recv(4096)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 413 "), data[:100])
        self.assertEqual(json.loads(data.split(b"\r\n\r\n", 1)[1])["error"], "payload_too_large")
        # a chunked body that goes on far past the limit is cut off, unanswered
        answered = None
        try:
            answered = self.chunked("/enclave/revoke", padded(3 * 1024 * 1024))
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            pass
        self.assertIsNone(answered, "expected the connection to be cut off")

    def test_invalid_json(self):
        U = UNKNOWN_ID.encode()
        bodies = {
            "empty": b"",
            "syntax": b'{"session_id":',
            "trailing comma": b'{"session_id":"%s",}' % U,
            "two values": b'{} {}',
            "trailing garbage": b'{}x',
            "duplicate keys": b'{"session_id":"%s","session_id":"%s"}' % (U, U),
            "duplicate keys, same value": b'{"session_id":"%s","session_id":"%s"}' % (U, U),
            "lone high surrogate": b'{"session_id":"%s","challenge":"\\ud800"}' % U,
            "lone low surrogate": b'{"session_id":"%s","challenge":"\\udc00"}' % U,
            "invalid UTF-8 byte": b'{"session_id":"%s","challenge":"\xff"}' % U,
            "overlong UTF-8": b'{"session_id":"%s","challenge":"\xc0\xaf"}' % U,
            "UTF-8 encoded surrogate": b'{"session_id":"%s","challenge":"\xed\xa0\x80"}' % U,
            "truncated UTF-8": b'{"session_id":"%s","challenge":"\xe2\x82"}' % U,
            "NUL escape in a string": b'{"session_id":"%s","challenge":"a\\u0000b"}' % U,
            "raw control character": b'{"session_id":"%s","challenge":"a\x01b"}' % U,
            "single quotes": b"{'session_id':'x'}",
            "NaN": b'{"session_id":NaN}',
            "byte order mark": b'\xef\xbb\xbf{"session_id":"%s"}' % U,
        }
        for name, raw in bodies.items():
            for path in ("/enclave/submit_key", "/enclave/request_aggregates", "/enclave/revoke"):
                with self.subTest(name=name, path=path):
                    self.assert_error(self.post(path, raw=raw), 400, "invalid_json")

    def test_invalid_request(self):
        cases = [
            ("/enclave/request_aggregates", b'[]', None),
            ("/enclave/request_aggregates", b'"x"', None),
            ("/enclave/request_aggregates", b'null', None),
            ("/enclave/request_aggregates", b'42', None),
            ("/enclave/submit_key", b'[1]', None),
            ("/enclave/revoke", b'true', None),
            ("/enclave/request_aggregates", b'{}', "session_id"),
            ("/enclave/request_aggregates", b'{"session_id":5}', "session_id"),
            ("/enclave/request_aggregates", b'{"session_id":null}', "session_id"),
            ("/enclave/request_aggregates", b'{"session_id":["%s"]}' % UNKNOWN_ID.encode(), "session_id"),
            ("/enclave/request_aggregates", b'{"session_id":"%s","extra":1}' % UNKNOWN_ID.encode(), "extra"),
            ("/enclave/request_aggregates", b'{"session_id":"%s","from":5}' % UNKNOWN_ID.encode(), "from"),
            ("/enclave/request_aggregates", b'{"session_id":"%s","to":{}}' % UNKNOWN_ID.encode(), "to"),
            ("/enclave/request_aggregates", b'{"Session_ID":"%s"}' % UNKNOWN_ID.encode(), "Session_ID"),
            ("/enclave/revoke", b'{}', "session_id"),
            ("/enclave/revoke", b'{"session_id":1.5}', "session_id"),
            ("/enclave/revoke", b'{"session_id":"%s","reason":"x"}' % UNKNOWN_ID.encode(), "reason"),
        ]
        for path, raw, field in cases:
            with self.subTest(path=path, body=raw):
                r = self.post(path, raw=raw)
                self.assert_error(r, 400, "invalid_request")
                if field:
                    self.assertIn(field, r.json["message"])
        # the quote takes no parameter but nonce
        for q in ("?x=1", "?nonce=AAAA&x=1", "?NONCE=AAAA"):
            with self.subTest(query=q):
                self.assert_error(self.get("/attestation/quote" + q), 400, "invalid_request")

    def test_challenge_of_wrong_type(self):
        # docs/API.md gives wrong types invalid_request in general and the
        # challenge row invalid_challenge: either is a 400 with one of them
        r = self.post("/enclave/request_aggregates", {"session_id": UNKNOWN_ID, "challenge": 5})
        self.assertEqual(r.status, 400, r)
        self.assertIn(r.json["error"], ("invalid_request", "invalid_challenge"))
        self.assertEqual(set(r.json), {"error", "message"})

    def test_invalid_session_id(self):
        bad = ["", "abc", "not-a-uuid", UNKNOWN_ID[:-1], UNKNOWN_ID + "0",
               "8a6e0804-2bd0-1672-b79d-d97027f9071a",   # version 1
               "8a6e0804-2bd0-4672-c79d-d97027f9071a",   # wrong variant
               "8a6e08042bd04672b79dd97027f9071a",       # no dashes
               "{8a6e0804-2bd0-4672-b79d-d97027f9071a}", "8a6e0804-2bd0-4672-b79d-d97027f9071g",
               " " + UNKNOWN_ID]
        for sid in bad:
            for path in ("/enclave/request_aggregates", "/enclave/revoke"):
                with self.subTest(sid=sid, path=path):
                    self.assert_error(self.post(path, {"session_id": sid}), 400, "invalid_session_id")
        # an upper-case v4 id is well-formed: it gets as far as the lookup
        for path in ("/enclave/request_aggregates", "/enclave/revoke"):
            self.assert_error(self.post(path, {"session_id": UNKNOWN_ID.upper()}), 404, "session_not_found")

    def test_invalid_window(self):
        t = now_ms()

        def agg(**kw):
            return self.post("/enclave/request_aggregates", {"session_id": UNKNOWN_ID, **kw})
        cases = {
            "from == to": dict(frm=fmt(t - DAY_MS), to=fmt(t - DAY_MS)),
            "from > to": dict(frm=fmt(t - DAY_MS), to=fmt(t - 2 * DAY_MS)),
            "to 2 minutes ahead": dict(to=fmt(t + 120_000)),
            "to far ahead": dict(to="2999-01-01T00:00:00Z"),
            "from after the default to": dict(frm=fmt(t + 30_000)),
            "from not RFC 3339": dict(frm="yesterday"),
            "to not RFC 3339": dict(to="2026-13-01T00:00:00Z"),
            "date only": dict(frm="2026-01-01"),
            "no offset": dict(frm="2026-01-01T00:00:00"),
            "empty": dict(to=""),
        }
        for name, w in cases.items():
            body = {}
            if "frm" in w:
                body["from"] = w["frm"]
            if "to" in w:
                body["to"] = w["to"]
            with self.subTest(name):
                self.assert_error(agg(**body), 400, "invalid_window")
        # validation comes before the session lookup: these pass it (404)
        for name, body in {"to within the minute of slack": {"to": fmt(t + 30_000)},
                           "exactly 366 days": {"from": fmt(t - 366 * DAY_MS), "to": fmt(t)},
                           "offsets": {"from": "2026-01-01T02:00:00+02:00", "to": "2026-01-01T00:00:00.001Z"}
                           }.items():
            with self.subTest(name):
                self.assert_error(agg(**body), 404, "session_not_found")
        for body in ({"from": fmt(t - 366 * DAY_MS - 1), "to": fmt(t)},
                     {"from": "2020-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}):
            with self.subTest(body=body):
                self.assert_error(agg(**body), 400, "window_too_large")

    def test_invalid_challenge(self):
        self.assert_error(self.post("/enclave/request_aggregates",
                                    {"session_id": UNKNOWN_ID, "challenge": "x" * 129}),
                          400, "invalid_challenge")
        # 128 multi-byte code points pass validation (404 for the unknown session)
        self.assert_error(self.post("/enclave/request_aggregates",
                                    {"session_id": UNKNOWN_ID, "challenge": "ü" * 128}),
                          404, "session_not_found")

    def test_submit_errors(self):
        good = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], ttl=3600)
        t = now_ms()

        def with_meta(**m):
            b = dict(good)
            b["metadata"] = {"exchange": "binance", "label": "main", **m}
            return b
        cases = [
            (with_meta(ttl=59), "invalid_ttl"),
            (with_meta(ttl=0), "invalid_ttl"),
            (with_meta(ttl=-3600), "invalid_ttl"),
            (with_meta(ttl=MAX_TTL + 1), "invalid_ttl"),
            (with_meta(ttl=10 ** 15), "invalid_ttl"),
            (with_meta(not_after="2001-01-01T00:00:00Z"), "invalid_not_after"),
            (with_meta(not_after=fmt(t - 1000)), "invalid_not_after"),
            (with_meta(not_after=fmt(t - 60_000, offset_minutes=300)), "invalid_not_after"),
            (with_meta(exchange="kraken"), "unsupported_exchange"),
            (with_meta(exchange="Binance"), "unsupported_exchange"),
            # the order of the checks: exchange, then ttl, then not_after
            (with_meta(exchange="kraken", ttl=10, not_after="2001-01-01T00:00:00Z"), "unsupported_exchange"),
            (with_meta(ttl=10, not_after="2001-01-01T00:00:00Z"), "invalid_ttl"),
            # shape errors come before all of them
            (with_meta(exchange="kraken", ttl="3600"), "invalid_envelope"),
            (with_meta(ttl=60.0), "invalid_envelope"),
            (with_meta(ttl=None), "invalid_envelope"),
            (with_meta(not_after="tomorrow"), "invalid_envelope"),
            (with_meta(label=""), "invalid_envelope"),
            (with_meta(label="x" * 65), "invalid_envelope"),
            (with_meta(label="a\tb"), "invalid_envelope"),
            (with_meta(unknown=1), "invalid_envelope"),
            ({**good, "ephemeral_pub": good["ephemeral_pub"].rstrip("=")}, "invalid_envelope"),
            ({k: v for k, v in good.items() if k != "metadata"}, "invalid_envelope"),
        ]
        for body, code in cases:
            with self.subTest(metadata=body.get("metadata"), code=code):
                self.assert_error(self.post("/enclave/submit_key", body), 400, code)
        # 64 characters is the longest label; it gets as far as the enclave,
        # which refuses it because the label is authenticated
        self.assert_error(self.post("/enclave/submit_key", with_meta(label="ü" * 64, ttl=3600)),
                          400, "decryption_failed")

    def test_invalid_nonce(self):
        for q in ("?nonce=", "?nonce=!!!!", "?nonce=AAA", "?nonce=AB%3D%3D", "?nonce=AA%3D",
                  "?nonce=QUJD%0A", "?nonce=" + urllib.parse.quote(base64.b64encode(b"x" * 65)),
                  "?nonce=" + base64.urlsafe_b64encode(b"\xfb\xff" * 6).decode(),
                  "?nonce=" + "A" * 200, "?nonce=AAAA&nonce=AAAA", "?nonce=AAAA&nonce=BBBB"):
            with self.subTest(query=q):
                self.assert_error(self.get("/attestation/quote" + q), 400, "invalid_nonce")

    def test_nonce_without_value(self):
        # "?nonce" with no "=" gives the parameter with an empty value, like
        # "?nonce=": an empty nonce is not base64 of 1..64 bytes.
        # (Was a server bug: the parameter was silently taken as absent and a
        # document without a nonce was served; fixed in src/server/http.c.)
        self.assert_error(self.get("/attestation/quote?nonce"), 400, "invalid_nonce")

    def test_invalid_result_id_and_not_found(self):
        for rid in ("xyz", UNKNOWN_ID[:-1], "8a6e0804-2bd0-1672-b79d-d97027f9071a",
                    "8a6e0804-2bd0-4672-779d-d97027f9071a", "%20" + UNKNOWN_ID, "a" * 300):
            with self.subTest(rid=rid):
                self.assert_error(self.get("/api/logs/" + rid), 400, "invalid_result_id")
        for rid in (UNKNOWN_ID, UNKNOWN_ID.upper(), self.sid):  # a session id is not a result id
            with self.subTest(rid=rid):
                self.assert_error(self.get("/api/logs/" + rid), 404, "result_not_found")

    def test_bad_input_changes_nothing(self):
        # a revoked session and a used envelope, so 409 and 410 are reachable
        sealed = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], label="victim", ttl=3600)
        r = self.post("/enclave/submit_key", sealed)
        self.assertEqual(r.status, 200, r)
        revoked = r.json["session_id"]
        self.assertEqual(self.post("/enclave/revoke", {"session_id": revoked}).status, 200)
        fresh = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], label="fresh", ttl=3600)
        before = self.counts()

        tampered = dict(fresh, metadata=dict(fresh["metadata"], label="other"))
        U = UNKNOWN_ID
        requests = [
            ("POST", "/enclave/submit_key", dict(fresh, metadata=dict(fresh["metadata"], ttl=59)), 400),
            ("POST", "/enclave/submit_key", dict(fresh, metadata=dict(fresh["metadata"], exchange="kraken")), 400),
            ("POST", "/enclave/submit_key", dict(fresh, metadata=dict(fresh["metadata"],
                                                                      not_after="2001-01-01T00:00:00Z")), 400),
            ("POST", "/enclave/submit_key", tampered, 400),  # decryption_failed
            ("POST", "/enclave/submit_key", dict(fresh, extra=1), 400),
            ("POST", "/enclave/submit_key", sealed, 409),    # replay of a revoked session's envelope
            ("POST", "/enclave/submit_key", b'{"a":1,"a":2}', 400),
            ("POST", "/enclave/submit_key", b"{" + b" " * BODY_MAX + b"}", 413),
            ("POST", "/enclave/request_aggregates", {"session_id": revoked}, 410),
            ("POST", "/enclave/request_aggregates", {"session_id": U}, 404),
            ("POST", "/enclave/request_aggregates", {"session_id": self.sid, "to": "2999-01-01T00:00:00Z"}, 400),
            ("POST", "/enclave/request_aggregates", {"session_id": self.sid, "challenge": "x" * 129}, 400),
            ("POST", "/enclave/request_aggregates", {"session_id": self.sid, "extra": True}, 400),
            ("POST", "/enclave/request_aggregates", b'{"session_id":"\\ud800"}', 400),
            ("POST", "/enclave/revoke", {"session_id": revoked}, 410),
            ("POST", "/enclave/revoke", {"session_id": U}, 404),
            ("POST", "/enclave/revoke", {"session_id": self.sid, "x": 1}, 400),
            ("POST", "/enclave/revoke", {"session_id": self.sid[:14] + "1" + self.sid[15:]}, 400),
            ("GET", "/api/logs/" + U, None, 404),
            ("GET", "/api/logs/zzz", None, 400),
            ("GET", "/attestation/quote?nonce=!!", None, 400),
            ("DELETE", "/enclave/revoke", None, 405),
            ("GET", "/nope", None, 404),
        ]
        for method, path, body, status in requests:
            with self.subTest(method=method, path=path, status=status):
                if method == "POST":
                    r = self.post(path, raw=body) if isinstance(body, bytes) else self.post(path, body)
                    # the content type is checked first; the body is never read
                    r415 = self.post(path, raw=json.dumps({"session_id": self.sid}).encode(),
                                     content_type="text/plain")
                    self.assertEqual(r415.status, 415)
                else:
                    r = self.req(method, path)
                self.assertEqual(r.status, status, r)
                self.assertEqual(set(r.json), {"error", "message"})
        self.assertEqual(self.counts(), before)
        # the session the bad requests named still works
        self.assertEqual(self.stack.sql(f"SELECT status FROM sessions WHERE id = '{self.sid}'").strip(), "active")

    # == headers ===============================================================
    def test_cors(self):
        allowed = {"Origin": ORIGIN}
        for method, path in [("GET", "/health"), ("GET", "/attestation/root"), ("GET", "/nope"),
                             ("GET", "/api/logs/zzz"), ("GET", "/metrics"), ("PUT", "/health")]:
            with self.subTest(method=method, path=path):
                r = self.req(method, path, headers=allowed)
                self.assertEqual(r.h("Access-Control-Allow-Origin"), ORIGIN)
                self.assertEqual(r.h("Vary"), "Origin")
                exposed = [x.strip() for x in r.h("Access-Control-Expose-Headers").split(",")]
                for k in RL_HEADERS:
                    self.assertIn(k, exposed)
                self.assertIsNone(r.h("Access-Control-Allow-Methods"))  # preflight only
        r = self.post("/enclave/revoke", {"session_id": "x"}, headers=allowed)
        self.assertEqual((r.status, r.h("Access-Control-Allow-Origin")), (400, ORIGIN))
        # any other origin (or none): no Access-Control-* at all, still Vary
        for origin in ("https://evil.example", "http://app.example", "https://app.example.evil",
                       "https://app.example:8443", "https://app.example/", "null", "*", None):
            with self.subTest(origin=origin):
                r = self.get("/health", headers={"Origin": origin} if origin else {})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.h("Vary"), "Origin")
                self.assertFalse([k for k in r.headers if k.lower().startswith("access-control-")],
                                 dict(r.headers))

        # preflight from the allowed origin: 204, before the rate limiter
        for path in ("/enclave/submit_key", "/api/logs/" + UNKNOWN_ID, "/health"):
            with self.subTest(preflight=path):
                r = self.req("OPTIONS", path, headers={
                    "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type"})
                self.assertEqual((r.status, r.raw), (204, b""))
                self.assertEqual(r.h("Access-Control-Allow-Origin"), ORIGIN)
                self.assertEqual(r.h("Access-Control-Allow-Methods"), "GET, POST, OPTIONS")
                self.assertEqual(r.h("Access-Control-Allow-Headers"), "Content-Type")
                self.assertEqual(r.h("Access-Control-Max-Age"), "600")
                self.assertEqual(r.h("Vary"), "Origin")
                self.assert_security_headers(r, json_body=False)
                for k in RL_HEADERS:
                    self.assertIsNone(r.h(k), k)
        # preflight from another origin, or none: 403 origin_not_allowed
        for origin in ("https://evil.example", "http://app.example", None):
            with self.subTest(preflight_origin=origin):
                h = {"Access-Control-Request-Method": "POST"}
                if origin:
                    h["Origin"] = origin
                r = self.req("OPTIONS", "/enclave/submit_key", headers=h)
                self.assert_error(r, 403, "origin_not_allowed")
                self.assertIsNone(r.h("Access-Control-Allow-Origin"))
                self.assertIsNone(r.h("Access-Control-Allow-Methods"))

    def test_security_headers_everywhere(self):
        cases = [
            ("GET", "/health", None, {}, 200),
            ("GET", "/attestation/quote", None, {}, 200),
            ("GET", "/api/logs/" + self.result_id, None, {}, 200),
            ("GET", "/nope", None, {}, 404),
            ("DELETE", "/health", None, {}, 405),
            ("GET", "/api/logs/zzz", None, {}, 400),
            ("GET", "/api/logs/" + UNKNOWN_ID, None, {}, 404),
            ("POST", "/enclave/revoke", b"{}", {}, 415),
            ("POST", "/enclave/revoke", b"{", {"Content-Type": "application/json"}, 400),
            ("POST", "/enclave/revoke", b"{" + b" " * BODY_MAX + b"}", {"Content-Type": "application/json"}, 413),
            ("OPTIONS", "/enclave/revoke", None, {"Access-Control-Request-Method": "POST"}, 403),
        ]
        for method, path, body, headers, status in cases:
            with self.subTest(method=method, path=path):
                r = self.req(method, path, body=body, headers=headers)
                self.assertEqual(r.status, status, r)
                self.assert_security_headers(r)

    def test_rate_limit_headers(self):
        limited = [("GET", "/attestation/root", None, {}),
                   ("GET", "/attestation/quote", None, {}),
                   ("GET", "/api/logs/zzz", None, {}),
                   ("GET", "/nope", None, {}),  # unknown paths count too
                   ("PUT", "/enclave/revoke", None, {}),
                   ("POST", "/enclave/revoke", b"{}", {}),  # 415
                   ("POST", "/enclave/revoke", b"{}", {"Content-Type": "application/json"})]
        for method, path, body, headers in limited:
            with self.subTest(method=method, path=path):
                r1 = self.req(method, path, body=body, headers=headers)
                r2 = self.req(method, path, body=body, headers=headers)
                for r in (r1, r2):
                    self.assertEqual(r.h("RateLimit-Limit"), "100000")
                    self.assertEqual(r.h("RateLimit-Policy"), "100000;w=900")
                    self.assertTrue(0 < int(r.h("RateLimit-Reset")) <= 900, r.h("RateLimit-Reset"))
                    self.assertIsNone(r.h("Retry-After"))
                self.assertEqual(int(r1.h("RateLimit-Remaining")) - 1, int(r2.h("RateLimit-Remaining")))
        for method, path, headers in [("GET", "/health", {}), ("GET", "/metrics", {}),
                                      ("DELETE", "/health", {}), ("OPTIONS", "/enclave/revoke", {}),
                                      ("OPTIONS", "/enclave/revoke",
                                       {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})]:
            with self.subTest(unlimited=path, method=method):
                r = self.req(method, path, headers=headers)
                for k in RL_HEADERS:
                    self.assertIsNone(r.h(k), k)
        # and they do not spend the budget
        a = int(self.get("/attestation/root").h("RateLimit-Remaining"))
        self.get("/health")
        self.get("/metrics")
        self.req("OPTIONS", "/enclave/revoke")
        b = int(self.get("/attestation/root").h("RateLimit-Remaining"))
        self.assertEqual(a - 1, b)


class TtlBelowDefaultTest(StackTest):
    """MAX_TTL_SECONDS below the 86400-second default ttl."""

    @classmethod
    def setUpClass(cls):
        cls.acct = harness.account()
        cls.stack = harness.Stack({"accounts": [cls.acct]}, server_env={"MAX_TTL_SECONDS": "3600"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_max_ttl_bounds(self):
        good = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], ttl=3600)
        bad = dict(good, metadata=dict(good["metadata"], ttl=3601))
        r = self.post("/enclave/submit_key", bad)
        self.assert_error(r, 400, "invalid_ttl")
        self.assertIn("3600", r.json["message"])
        t0 = now_ms()
        r = self.post("/enclave/submit_key", good)
        self.assert_ok(r, {"session_id", "expires_at"})
        self.assertAlmostEqual(parse_ms(r.json["expires_at"]), t0 + 3_600_000, delta=3000)

    # Without metadata.ttl the 86400 s default applies, capped at MAX_TTL_SECONDS.
    def test_default_ttl_respects_max_ttl(self):
        t0 = now_ms()
        body = self.stack.seal(self.acct["api_key"], self.acct["api_secret"])  # no --ttl
        self.assertNotIn("ttl", body["metadata"])
        r = self.post("/enclave/submit_key", body)
        t1 = now_ms()
        self.assert_ok(r, {"session_id", "expires_at"})
        self.assertLessEqual(parse_ms(r.json["expires_at"]), t1 + 3_600_000 + 1000)
        self.assertGreaterEqual(parse_ms(r.json["expires_at"]), t0 + 3_600_000 - 1000)


def post_raw(path, obj, close=True):
    body = json.dumps(obj).encode()
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
            (b"Connection: close\r\n" if close else b"") +
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


class Background:
    """Requests run on threads; results() waits for them (bounded)."""

    def __init__(self, fn, n):
        self.out = []
        self.lock = threading.Lock()

        def one():
            try:
                r = fn()
            except Exception as e:  # recorded, not lost in the thread
                r = type(e).__name__
            with self.lock:
                self.out.append(r)
        self.threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
        for t in self.threads:
            t.start()

    def results(self, timeout=120):
        end = time.time() + timeout
        for t in self.threads:
            t.join(max(0.1, end - time.time()))
        return list(self.out)


def stalled_enclave(stack):
    """SIGSTOP the enclave for a with-block: it accepts connections (the
    kernel queues them) and answers nothing, like a hung enclave."""
    class Ctx:
        def __enter__(self):
            os.kill(stack.enclave.pid, signal.SIGSTOP)

        def __exit__(self, *exc):
            os.kill(stack.enclave.pid, signal.SIGCONT)
    return Ctx()


class ResilienceTest(StackTest):
    """Hung dependencies, held locks and idle connections: every request
    still gets an answer in bounded time, and /health stays cheap."""

    @classmethod
    def setUpClass(cls):
        cls.acct = trading_account()
        cls.stack = harness.Stack({"accounts": [cls.acct]},
                                  server_env={"CLEANUP_INTERVAL_SECONDS": "3600"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def submit(self, ttl=3600, extra=(), label="main"):
        # One symbol per run: these tests make ~25 runs within a minute, and
        # with balance-derived symbols (~200 weight each) they would spend the
        # enclave's shared weight budget (4800 per minute) and fail as
        # exchange_unavailable, depending on where the minute boundary falls.
        return super().submit(ttl=ttl, extra=("--symbols", "BTCUSDT", *extra), label=label)

    def metric(self, name):
        r = self.get("/metrics", headers=self.stack.operator_headers())
        for line in r.raw.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0

    def test_health_answers_while_workers_are_stuck(self):
        # Every worker waits on a hung enclave and more requests queue behind
        # them: /health is still answered at once, from its cache (it used to
        # be one more job in that queue, answered after the enclave timeout).
        sid = self.submit(label="stuck")
        with stalled_enclave(self.stack):
            bg = Background(lambda: harness.raw_exchange(self.stack.port, post_raw(
                "/enclave/request_aggregates", {"session_id": sid}), timeout=120), 20)
            time.sleep(2)
            t0 = time.time()
            r = self.req("GET", "/health", timeout=15)
            took = time.time() - t0
            self.assertIn(r.status, (200, 503), r)
            self.assertEqual(r.json["database"], "ok", r)
            self.assertLess(took, 10)
            # the hung enclave shows as down within the staleness bound
            harness.wait_for(lambda: self.get("/health").json["enclave"] == "down", timeout=30,
                             what="the enclave reported down")
            self.assertEqual(self.get("/health").status, 503)
        results = bg.results()
        self.assertEqual(len(results), 20, results)
        harness.wait_for(lambda: self.get("/health").status == 200, timeout=30,
                         what="the enclave reported up again")

    def test_database_routes_do_not_wait_behind_enclave_work(self):
        # Each route runs on its own kind of worker (router.h, pa_queue): with
        # every enclave worker stuck on a hung enclave and more aggregates
        # queued behind them, revoke and the logs are answered while the
        # enclave is still hung (they used to queue behind the aggregates for
        # the enclave timeout, ~45 s).
        stuck = self.submit(label="stuck")
        other = self.submit(label="other")
        with stalled_enclave(self.stack):
            bg = Background(lambda: harness.raw_exchange(self.stack.port, post_raw(
                "/enclave/request_aggregates", {"session_id": stuck}), timeout=120), 20)
            time.sleep(2)
            r = self.req("POST", "/enclave/revoke", json.dumps({"session_id": other}).encode(),
                         {"Content-Type": "application/json"}, timeout=30)
            self.assertEqual(r.status, 200, r)
            r = self.req("GET", "/api/logs/" + str(uuid.uuid4()), timeout=30)
            self.assert_error(r, 404, "result_not_found")
            with bg.lock:
                self.assertEqual(bg.out, [], "the aggregates ended before the check")
        self.assertEqual(len(bg.results()), 20)

    def check_gone_while_computing(self, sql, code):
        # every run is an aggregate job (docs/API.md, "Aggregate jobs")
        agg = 'perfagg_enclave_call_duration_seconds_count{op="aggregate_start"}'
        # The change must land while the request waits on the enclave, past
        # the session check. On a very slow machine the request may not have
        # got that far after the pause: then the enclave was never called,
        # and the scenario is tried again with a longer pause.
        for pause in (3, 8, 20):
            sid = self.submit(label="gone")
            calls = self.metric(agg)
            with stalled_enclave(self.stack):
                bg = Background(lambda: self.post("/enclave/request_aggregates",
                                                  {"session_id": sid}), 1)
                time.sleep(pause)
                self.stack.sql(sql.format(sid=sid))
            r = bg.results()[0]
            if self.metric(agg) - calls == 1:
                break
        # the answer came from the result store's refusal, after the enclave
        # computed (not from the session check before it)
        self.assertEqual(self.metric(agg) - calls, 1)
        self.assertIsInstance(r, Response, r)
        self.assert_error(r, 410, code)
        self.assertEqual(self.stack.sql(
            f"SELECT count(*) FROM aggregates WHERE session_id = '{sid}'").strip(), "0")
        self.assert_not_logged(sid)

    def test_session_expiring_while_enclave_works_is_expired(self):
        self.check_gone_while_computing(
            "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = '{sid}'",
            "session_expired")

    def test_session_revoked_while_enclave_works_is_revoked(self):
        self.check_gone_while_computing(
            "UPDATE sessions SET status = 'revoked', label = NULL, revoked_at = now()"
            " WHERE id = '{sid}'", "session_revoked")

    def test_held_lock_gives_503_not_a_hang(self):
        # An operator's transaction holding sessions: requests that need it
        # get 503 database_unavailable after the lock timeout (3 s), not
        # whenever the lock goes away.
        sid = self.submit(label="locked")
        p = subprocess.Popen(["psql", "-X", "-q", "-h", harness.PGHOST, "-U", "postgres", "-d",
                              self.stack.db], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, text=True)
        try:
            p.stdin.write("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE;\n"
                          "SELECT 'locked';\n")
            p.stdin.flush()
            harness.wait_for(lambda: self.stack.sql(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE c.relname = 'sessions' AND l.mode = 'AccessExclusiveLock'"
                " AND l.granted").strip() == "1", what="the lock")
            bg = Background(lambda: self.post("/enclave/request_aggregates", {"session_id": sid}), 3)
            t0 = time.time()
            results = bg.results(timeout=45)
            took = time.time() - t0
            self.assertEqual(len(results), 3, results)
            for r in results:
                self.assert_error(r, 503, "database_unavailable")
            self.assertLess(took, 40)
            self.assertEqual(self.get("/health").status, 200)  # cached, and the db answers pings
        finally:
            p.stdin.write("ROLLBACK;\n")
            p.stdin.close()
            p.wait(30)
        r = self.post("/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"SQLSTATE 55P03 (lock timeout)", self.stack.logs())

    def test_per_address_connection_limit(self):
        # One address holding idle, half-sent requests gets at most 64
        # connections (it used to get 256; four addresses held all 1024).
        socks = []
        try:
            for _ in range(100):
                c = socket.socket()
                c.bind(("127.0.9.1", 0))
                c.connect(("127.0.0.1", self.stack.port))
                c.sendall(b"GET /health HTTP/1.1\r\nX-a: ")
                socks.append(c)
            for c in socks:
                c.setblocking(False)

            def count_closed():
                n = 0
                for c in socks:
                    try:
                        n += c.recv(1, socket.MSG_PEEK) == b""
                    except BlockingIOError:
                        pass
                    except OSError:
                        n += 1
                return n
            end = time.time() + 15
            while count_closed() < 100 - 64 and time.time() < end:
                time.sleep(0.1)
            closed = count_closed()
            self.assertGreaterEqual(closed, 100 - 64)
            self.assertLess(closed, 100)
            # another client is served meanwhile
            self.assertEqual(self.get("/health").status, 200)
        finally:
            for c in socks:
                c.close()

    def test_enclave_connect_failure_names_the_reason(self):
        s = self.stack
        sid = self.submit(label="down")
        s.stop_enclave()
        try:
            r = self.post("/enclave/request_aggregates", {"session_id": sid})
            self.assert_error(r, 503, "enclave_unavailable")
            self.assertRegex(s.logs().decode(errors="replace"),
                             r"cannot connect to the enclave socket: (No such file or directory|"
                             r"Connection refused)")
        finally:
            s.start_enclave()
        harness.wait_for(lambda: self.get("/health").status == 200, timeout=30,
                         what="the enclave reported up again")


class ShutdownTest(StackTest):
    """SIGTERM with requests queued behind a hung enclave."""

    def setUp(self):
        self.acct = trading_account()
        self.stack = harness.Stack({"accounts": [self.acct]})

    def tearDown(self):
        try:
            os.kill(self.stack.enclave.pid, signal.SIGCONT)
        except OSError:
            pass
        self.stack.stop()

    def test_stop_is_bounded_and_refuses_new_clients(self):
        s = self.stack
        sid = self.submit(label="shutdown")
        os.kill(s.enclave.pid, signal.SIGSTOP)
        # 16 workers stuck on the enclave, more requests queued behind them
        bg = Background(lambda: harness.raw_exchange(s.port, post_raw(
            "/enclave/request_aggregates", {"session_id": sid}), timeout=120), 30)
        time.sleep(3)
        t0 = time.time()
        s.server.send_signal(signal.SIGTERM)
        time.sleep(1)
        self.assertIsNone(s.server.poll())  # still waiting for the running requests
        # a new client is refused at once instead of waiting in the backlog
        c = socket.socket()
        c.settimeout(10)
        try:
            with self.assertRaises((ConnectionRefusedError, ConnectionResetError)):
                c.connect(("127.0.0.1", s.port))
                c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                if c.recv(100) == b"":
                    raise ConnectionResetError("closed")
        finally:
            c.close()
        # the server gives up on the hung requests after its 10 s grace
        rc = s.server.wait(60)
        took = time.time() - t0
        self.assertLess(took, 45)
        self.assertEqual(rc, 1)
        results = bg.results(60)
        self.assertEqual(len(results), 30, results)
        busy = [r for r in results if r == (503, {"error": "server_busy", "message":
                                                 "The server is shutting down; try again shortly."})]
        # the queued ones were answered 503; the running ones were cut off
        self.assertGreaterEqual(len(busy), 1, results)
        for r in results:
            self.assertTrue(r in busy or isinstance(r, str), r)
        log = s.logs().decode(errors="replace")
        self.assertIn("request(s) still running after 10000 ms", log)

    def test_stop_without_work_is_clean(self):
        s = self.stack
        self.assertEqual(self.get("/health").status, 200)
        t0 = time.time()
        s.server.send_signal(signal.SIGTERM)
        self.assertEqual(s.server.wait(30), 0)
        self.assertLess(time.time() - t0, 20)
        self.assertIn(b"perfagg-server: stopped", s.logs())


class DualStackTest(StackTest):
    """LISTEN_ADDRESS=:: serves IPv6 and IPv4 (the harness itself reaches
    the server over 127.0.0.1)."""

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack({"accounts": [harness.account()]})
        try:
            cls.restart_dual_stack()
        except BaseException:
            cls.stack.stop()
            raise

    @classmethod
    def restart_dual_stack(cls):
        # "::" (dual stack) needs its port free for IPv6 and every IPv4
        # address, which the harness's 127.0.0.1 port need not be; another
        # process may also take a port between the check and the bind, so a
        # server that cannot bind is retried on another port.
        s = cls.stack
        s.stop_server()
        s.procs.remove(s.server)
        for _ in range(5):
            try:
                with socket.socket(socket.AF_INET6) as probe:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    probe.bind(("::", 0))
                    port = probe.getsockname()[1]
            except OSError as e:
                raise unittest.SkipTest("no IPv6 here: %s" % e)
            s.server_env = dict(s.server_env, LISTEN_ADDRESS="::", ENCLAVE_PORT=str(port))
            s.port, s.url = port, "http://127.0.0.1:%d" % port
            s.server = s._start("server", [os.path.join(harness.BUILD, "perfagg-server")],
                                s.server_env)
            harness.wait_for(lambda: s.server.poll() is not None or
                             s._health_code() in (200, 503), what="server")
            if s.server.poll() is None:
                return
            s.procs.remove(s.server)
        raise RuntimeError("no dual-stack server could bind a port")

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_ipv4_and_ipv6(self):
        self.assertEqual(self.get("/health").status, 200)
        try:
            c = socket.socket(socket.AF_INET6)
            c.connect(("::1", self.stack.port))
        except OSError as e:
            self.skipTest("no IPv6 loopback here: %s" % e)
        with c:
            c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertTrue(c.recv(100).startswith(b"HTTP/1.1 200 "))
        # an IPv4 client over the dual-stack socket is still limited as IPv4
        r = self.get("/attestation/root")
        self.assertIsNotNone(r.h("RateLimit-Remaining"))


class DescriptorBudgetTest(StackTest):
    """A server started with a low open-files limit raises its soft limit to
    the hard one and keeps descriptors for enclave and database calls, so
    idle clients cannot starve real requests of them."""

    HARD = 300

    @classmethod
    def setUpClass(cls):
        if not os.path.exists("/usr/bin/prlimit"):
            raise unittest.SkipTest("prlimit (util-linux) is not installed")
        cls.stack = harness.Stack({"accounts": [harness.account()]})
        s = cls.stack
        s.stop_server()
        s.procs.remove(s.server)
        s.server = s._start("server", ["/usr/bin/prlimit", "--nofile=200:%d" % cls.HARD, "--",
                                       os.path.join(harness.BUILD, "perfagg-server")],
                            s.server_env)
        harness.wait_for(lambda: s._health_code() in (200, 503), what="server")

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def nofile(self):
        with open("/proc/%d/limits" % self.stack.server.pid) as f:
            line = next(x for x in f if x.startswith("Max open files"))
        soft, hard = line.split()[3:5]
        return int(soft), int(hard)

    def test_soft_limit_raised_and_reserve_kept(self):
        s = self.stack
        self.assertEqual(self.nofile(), (self.HARD, self.HARD))
        socks = []
        try:
            # more idle connections than descriptors, from 5 addresses
            for i in range(self.HARD + 20):
                c = socket.socket()
                c.bind(("127.0.10.%d" % (1 + i % 5), 0))
                c.setblocking(False)
                try:
                    c.connect(("127.0.0.1", s.port))
                except BlockingIOError:
                    pass
                socks.append(c)
            time.sleep(1)
            for c in socks:
                try:
                    c.send(b"GET /health HTTP/1.1\r\nX-a: ")
                except OSError:
                    pass
            time.sleep(2)
            used = len(os.listdir("/proc/%d/fd" % s.server.pid))
            # at least a worker's and a database connection's worth free
            self.assertLessEqual(used, self.HARD - 16 - 8, used)
        finally:
            for c in socks:
                c.close()
        harness.wait_for(lambda: s._health_code() == 200, timeout=30, what="the server")
        r = self.get("/attestation/quote")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"Too many open files", s.logs())


if __name__ == "__main__":
    unittest.main(verbosity=2)
