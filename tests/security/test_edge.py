"""The HTTP edge against the findings of an attack run (issue "an edge that
holds"), each over raw sockets against the real server:

- a header name with whitespace before the colon (`Content-Length : N`),
  which libmicrohttpd keeps as another name, so the body was read as a second
  request (smuggling): 400 and the connection closed;
- an encoded NUL in the target (`/metrics%00x`), which cut the path short:
  400 invalid_target; paths match exactly or 404; a raw NUL byte in the
  target (server reached directly, no proxy): 400 invalid_target and closed;
- a Transfer-Encoding other than chunked, which got no answer until the idle
  timeout: 501 unsupported_transfer_encoding and the connection closed;
- a database whose processes are stopped: every request that needs it ends
  in 503 database_unavailable within the client-side deadline;
- zero-width and other format (Cf) characters in labels and challenges;
- the cap on stored results per session."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

# db.h PA_DB_CALL_TIMEOUT_MS, and PA_DB_ACQUIRE_TIMEOUT_MS a waiting caller
# may add; the slack is for a loaded machine, not a target.
DB_CALL_TIMEOUT_S = 12
DB_ACQUIRE_TIMEOUT_S = 5


def exchange(port, data, timeout=10):
    """Sends raw bytes on a fresh connection and reads until the server
    closes it. Returns (bytes read, closed by the server, seconds taken)."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall(data)
        out = b""
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    return out, True, time.monotonic() - t0
                out += d
        except socket.timeout:
            return out, False, time.monotonic() - t0
        except ConnectionResetError:
            return out, True, time.monotonic() - t0


def responses(raw):
    """[(status, parsed JSON body or None)] of every response in raw."""
    out = []
    rest = raw
    while rest.startswith(b"HTTP/1.1 "):
        head, _, rest = rest.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        body, rest = rest[:length], rest[length:]
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        out.append((status, parsed))
    return out


class EdgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.acct = harness.account()
        cls.stack = harness.Stack({"accounts": [cls.acct]},
                                  server_env={"MAX_RESULTS_PER_SESSION": "2"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def submit(self, label="edge"):
        return self.stack.submit(self.acct["api_key"], self.acct["api_secret"], label=label)

    def session_status(self, sid):
        return self.stack.sql(f"SELECT status FROM sessions WHERE id = '{sid}'").strip()

    def one_answer(self, raw, status, code):
        """raw gets exactly one answer, (status, code), and the server closes."""
        out, closed, took = exchange(self.stack.port, raw)
        got = responses(out)
        self.assertEqual(len(got), 1, out)
        self.assertEqual((got[0][0], (got[0][1] or {}).get("error")), (status, code), out)
        self.assertTrue(closed, "the connection was left open: %r" % out)
        return took

    # -- request smuggling -------------------------------------------------
    def test_header_name_with_whitespace_is_refused_and_closed(self):
        sid = self.submit()
        # The "body" is a whole second request: revoking the session. Read as
        # a request of its own it would revoke it.
        inner = json.dumps({"session_id": sid}).encode()
        smuggled = (b"POST /enclave/revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(inner) + inner)
        head = b"POST /enclave/revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        for name in (b"Content-Length :", b"Content-Length\t:", b"Content-Length  :"):
            with self.subTest(name=name):
                raw = head + name + b" %d\r\n\r\n" % len(smuggled) + smuggled
                self.one_answer(raw, 400, "invalid_request")
        for name in (b"Transfer-Encoding :", b"X-Other :"):
            with self.subTest(name=name):
                self.one_answer(b"GET /health HTTP/1.1\r\nHost: x\r\n" + name +
                                b" chunked\r\n\r\n", 400, "invalid_request")
        self.assertEqual(self.session_status(sid), "active")
        # The well-formed header still frames the body.
        r = self.stack.request("POST", "/enclave/revoke", {"session_id": sid})
        self.assertEqual(r[0], 200, r)

    # -- NUL in the target -------------------------------------------------
    def test_encoded_nul_in_target_is_refused(self):
        rid = str(uuid.uuid4())
        for target in (b"/metrics%00x", b"/metrics%00", b"/health%00.json",
                       b"/api/logs/" + rid.encode() + b"%00/../x",
                       b"/attestation/quote?nonce=abc%00def", b"/%00"):
            with self.subTest(target=target):
                out, _, _ = exchange(self.stack.port, b"GET " + target +
                                     b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                got = responses(out)
                self.assertEqual(len(got), 1, out)
                self.assertEqual((got[0][0], got[0][1]["error"]), (400, "invalid_target"), out)
        # POST too, and the body is not read
        body = json.dumps({"session_id": rid}).encode()
        self.one_answer(b"POST /enclave/revoke%00x HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        b"application/json\r\nContent-Length: " + str(len(body)).encode() +
                        b"\r\n\r\n" + body, 400, "invalid_target")

    def test_raw_nul_byte_in_target_is_refused_and_closed(self):
        # A NUL byte itself, not %00: libmicrohttpd hands the target over as a
        # C string, so /metrics<NUL>x was /metrics (and /health<NUL>x a 200).
        rid = str(uuid.uuid4())
        for target in (b"/metrics\0x", b"/metrics\0", b"/health\0x", b"/he\0alth",
                       b"/api/logs/" + rid.encode() + b"\0/../x",
                       b"/attestation/quote?nonce=abc\0def", b"/health?x=\0", b"/\0"):
            with self.subTest(target=target):
                # keep-alive: the server must close by itself
                self.one_answer(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                                400, "invalid_target")
        # POST too: the body is not read, nothing changes
        sid = self.submit()
        body = json.dumps({"session_id": sid}).encode()
        self.one_answer(b"POST /enclave/revoke\0x HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        b"application/json\r\nContent-Length: " + str(len(body)).encode() +
                        b"\r\n\r\n" + body, 400, "invalid_target")
        self.assertEqual(self.session_status(sid), "active")
        # the same connection shape without the NUL is served and kept open
        out, closed, _ = exchange(self.stack.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
                                  timeout=2)
        self.assertEqual([st for st, _ in responses(out)], [200], out)
        self.assertFalse(closed, out)

    def test_paths_match_exactly(self):
        rid = str(uuid.uuid4())
        for path in ("/metrics/", "/metricsx", "/metrics/x", "/health/", "/api/logs/" + rid + "/",
                     "/api/logs/" + rid + "/../x", "/api/logs/", "/attestation/quote/",
                     "/Metrics", "//metrics"):
            with self.subTest(path=path):
                st, _, body = self.stack.request("GET", path)
                self.assertEqual((st, body["error"]), (404, "not_found"), path)
        # an encoded character that is not NUL is decoded, then matched exactly
        # (/metrics is operator-only: the token goes with it)
        st, _, _ = self.stack.request("GET", "/metric%73", headers=self.stack.operator_headers())
        self.assertEqual(st, 200)

    # -- Transfer-Encoding -------------------------------------------------
    def test_unknown_transfer_encoding_is_501_and_closed(self):
        sid = self.submit()
        body = json.dumps({"session_id": sid}).encode()
        for te in (b"identity", b"gzip", b"xchunked", b"chunked, gzip", b"gzip, chunked",
                   b"chunkedx", b""):
            with self.subTest(te=te):
                raw = (b"POST /enclave/revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                       b"\r\nTransfer-Encoding: " + te + b"\r\n\r\n" + body)
                took = self.one_answer(raw, 501, "unsupported_transfer_encoding")
                self.assertLess(took, 5)  # at once, not at the 30 s idle timeout
                self.one_answer(b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                                b"\r\n\r\n", 501, "unsupported_transfer_encoding")
        # two Transfer-Encoding headers: ambiguous
        self.one_answer(b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "invalid_request")
        self.assertEqual(self.session_status(sid), "active")
        # chunked (any case) still works
        raw = (b"POST /enclave/revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n" +
               b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        out, _, _ = exchange(self.stack.port, raw)
        self.assertEqual(responses(out)[0][0], 200, out)
        self.assertEqual(self.session_status(sid), "revoked")

    # -- format characters -------------------------------------------------
    def test_format_characters_refused_in_labels_and_challenges(self):
        sid = self.submit()
        hidden = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\U000e0041",
                  "\u2062", "\u202e"]
        for ch in hidden:
            with self.subTest(challenge=repr(ch)):
                st, _, body = self.stack.request("POST", "/enclave/request_aggregates",
                                                 {"session_id": sid, "challenge": "fund" + ch + "A"})
                self.assertEqual((st, body["error"]), (400, "invalid_challenge"), body)
        # a label with one: the server refuses the envelope before any
        # decryption (the label is part of the sealed AAD, so the client
        # could only be bypassed by hand, as here)
        sealed = self.stack.seal(self.acct["api_key"], self.acct["api_secret"], label="main")
        for ch in hidden:
            with self.subTest(label=repr(ch)):
                body = json.loads(json.dumps(sealed))
                body["metadata"]["label"] = "ma" + ch + "in"
                st, _, got = self.stack.request("POST", "/enclave/submit_key", body)
                self.assertEqual((st, got["error"]), (400, "invalid_envelope"), got)
        # the client refuses to seal one
        r = self.stack.cli("seal", "--exchange", "binance", "--label", "ma\u200bin",
                           "--api-key-file", self.stack.write_secret("k", self.acct["api_key"]),
                           "--api-secret-file", self.stack.write_secret("s", self.acct["api_secret"]),
                           "--dev-root", self.stack.dev_root, check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        # visible text around them is fine
        st, _, body = self.stack.request("POST", "/enclave/request_aggregates",
                                         {"session_id": sid, "challenge": "fund\u2010A \u00e9"})
        self.assertEqual(st, 200, body)

    # -- results per session -----------------------------------------------
    def test_results_per_session_are_capped(self):
        sid = self.submit()
        for i in range(2):
            st, _, body = self.stack.request("POST", "/enclave/request_aggregates",
                                             {"session_id": sid})
            self.assertEqual(st, 200, body)
        for _ in range(2):
            st, _, body = self.stack.request("POST", "/enclave/request_aggregates",
                                             {"session_id": sid})
            self.assertEqual((st, body["error"]), (429, "result_limit_reached"), body)
        n = self.stack.sql(f"SELECT count(*) FROM aggregates WHERE session_id = '{sid}'").strip()
        self.assertEqual(n, "2")
        # concurrent requests on a fresh session never store more than the cap
        sid2 = self.submit()
        out = []

        def one():
            out.append(self.stack.request("POST", "/enclave/request_aggregates",
                                          {"session_id": sid2})[0])
        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(sorted(out), [200, 200, 429, 429, 429, 429], out)
        n = self.stack.sql(f"SELECT count(*) FROM aggregates WHERE session_id = '{sid2}'").strip()
        self.assertEqual(n, "2")


class HungDatabaseTest(unittest.TestCase):
    """The database's processes stopped (SIGSTOP, as a hung host looks):
    requests end in 503 database_unavailable within the client deadline
    instead of waiting as long as the database is stopped."""

    POOL = 3

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack({"accounts": [harness.account()]}, server_env={
            "PERFAGG_DB_POOL": str(cls.POOL), "CLEANUP_INTERVAL_SECONDS": "3600"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def backends(self):
        out = self.stack.sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                             " AND application_name = 'perfagg-server'")
        return [int(x) for x in out.split()]

    def revoke_unknown(self, results, i):
        t0 = time.monotonic()
        try:
            st, _, body = self.stack.request("POST", "/enclave/revoke",
                                             {"session_id": str(uuid.uuid4())})
            results[i] = (st, (body or {}).get("error"), time.monotonic() - t0)
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            results[i] = (None, repr(e), time.monotonic() - t0)

    def test_stopped_database_is_bounded(self):
        # Every pool connection open (concurrent calls make the pool connect
        # them all), so the stopped backends are the ones requests meet.
        deadline = time.monotonic() + 60
        while len(self.backends()) < self.POOL and time.monotonic() < deadline:
            res = [None] * (self.POOL * 2)
            ts = [threading.Thread(target=self.revoke_unknown, args=(res, i)) for i in range(len(res))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        pids = self.backends()
        self.assertGreaterEqual(len(pids), 2, pids)

        n = self.POOL + 3
        results = [None] * n
        threads = [threading.Thread(target=self.revoke_unknown, args=(results, i), daemon=True)
                   for i in range(n)]
        stopped = []
        try:
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            for t in threads:
                t.start()
            bound = DB_CALL_TIMEOUT_S + DB_ACQUIRE_TIMEOUT_S + 15
            end = time.monotonic() + bound
            for t in threads:
                t.join(max(0.1, end - time.monotonic()))
            hung = [i for i, t in enumerate(threads) if t.is_alive()]
        finally:
            for pid in stopped:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        for t in threads:
            t.join(60)
        self.assertEqual(hung, [], "requests still waiting on the stopped database after %d s: %r"
                         % (bound, results))
        codes = [(r[0], r[1]) for r in results]
        for c in codes:
            self.assertIn(c, [(503, "database_unavailable"), (404, "session_not_found")], results)
        self.assertIn((503, "database_unavailable"), codes, results)
        self.assertIn(b"no answer within", self.stack.logs())
        # resumed: everything works again, on fresh connections
        st, _, body = self.stack.request("POST", "/enclave/revoke", {"session_id": str(uuid.uuid4())})
        self.assertEqual((st, body["error"]), (404, "session_not_found"))
        st, _, body = self.stack.request("GET", "/health")
        self.assertIn(st, (200, 503))


if __name__ == "__main__":
    unittest.main(verbosity=2)
