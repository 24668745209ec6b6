"""The production edge: nginx (deploy/nginx, scripts/proxy.sh) terminating TLS
in front of perfagg-server.

- The slow-client attack of the attack run: 1,000 connections from 17
  loopback addresses, each sending one byte of its request head every 8 s.
  Straight at libmicrohttpd 0.9.75 (no deadline for a request head) they kept
  every other client out; through nginx fresh clients are still served, and
  the trickling connections are dropped at the header deadline.
- TRUSTED_PROXIES: the server rate-limits by the address nginx reports, so
  one client behind the proxy exhausting its budget leaves the others theirs;
  a client that is not a listed proxy cannot choose its address by sending
  X-Forwarded-For itself."""
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

ATTACK_ADDRESSES = ["127.0.0.%d" % i for i in range(2, 19)]  # 17
ATTACK_CONNECTIONS = 1000
TRICKLE_S = 8
RATE_LIMIT_MAX = 30


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack({"accounts": [harness.account()]}, server_env={
            "TRUSTED_PROXIES": "127.0.0.1", "RATE_LIMIT_MAX": str(RATE_LIMIT_MAX),
            "RATE_LIMIT_WINDOW": "600000"})
        try:
            cls.ca = os.path.join(cls.stack.tmp, "proxy-ca")
            subprocess.run([os.path.join(harness.SOURCE, "tools", "test-ca.sh"), cls.ca],
                           check=True, capture_output=True)
            cls.port = harness.free_port()
            cls.nginx_log = open(os.path.join(cls.stack.tmp, "nginx.log"), "ab")
            cls.nginx = subprocess.Popen(
                [os.path.join(harness.SOURCE, "scripts", "proxy.sh"),
                 os.path.join(cls.stack.tmp, "nginx"), "127.0.0.1:%d" % cls.port,
                 "127.0.0.1:%d" % cls.stack.port, os.path.join(cls.ca, "server.pem"),
                 os.path.join(cls.ca, "server.key")],
                stdout=cls.nginx_log, stderr=subprocess.STDOUT)
            cls.ctx = ssl.create_default_context(cafile=os.path.join(cls.ca, "ca.pem"))
            harness.wait_for(lambda: cls.try_status("/health") in (200, 503), what="nginx")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        p = getattr(cls, "nginx", None)
        if p is not None and p.poll() is None:
            p.terminate()  # nginx's fast shutdown
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if getattr(cls, "nginx_log", None) is not None:
            cls.nginx_log.close()
        cls.stack.stop()

    @classmethod
    def request(cls, method, path, body=None, src="127.0.0.1", headers=None, timeout=10):
        """(status, parsed JSON or raw text, headers) over HTTPS through nginx."""
        c = http.client.HTTPSConnection("localhost", cls.port, context=cls.ctx, timeout=timeout,
                                        source_address=(src, 0))
        try:
            h = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            raw = r.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
            return r.status, parsed, r
        finally:
            c.close()

    @classmethod
    def try_status(cls, path):
        try:
            return cls.request("GET", path, timeout=2)[0]
        except (OSError, http.client.HTTPException):
            return None

    # -- slow clients ------------------------------------------------------
    def attack(self, port, tls, stop, stats, total):
        """Starts the slow-client attack on port: total connections from 17
        addresses, each one byte of its request head
        further every TRICKLE_S, reopened when the server drops them."""
        lock = threading.Lock()
        head = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"a" * 4096

        def attacker(src, n):
            conns = []  # [socket, bytes sent]
            while not stop.is_set():
                while len(conns) < n and not stop.is_set():
                    try:
                        s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                                     source_address=(src, 0))
                        if tls:
                            s = self.ctx.wrap_socket(s, server_hostname="localhost")
                        s.sendall(head[:1])
                        conns.append([s, 1])
                        with lock:
                            stats["opened"] += 1
                    except OSError:
                        with lock:
                            stats["failed"] += 1
                        break
                end = time.monotonic() + TRICKLE_S
                while time.monotonic() < end and not stop.is_set():
                    time.sleep(0.2)
                alive = []
                for c in conns:
                    try:
                        c[0].sendall(head[c[1]:c[1] + 1])
                        c[1] += 1
                        alive.append(c)
                    except OSError:
                        c[0].close()
                        with lock:
                            stats["closed_by_server"] += 1
                conns = alive
            for c in conns:
                c[0].close()

        n_addr = len(ATTACK_ADDRESSES)
        threads = [threading.Thread(target=attacker, daemon=True,
                                    args=(a, total // n_addr + (1 if i < total % n_addr else 0)))
                   for i, a in enumerate(ATTACK_ADDRESSES)]
        for t in threads:
            t.start()
        return threads

    def fresh_clients(self, seconds, probe):
        """(served, [failures]) of one fresh request every 0.5 s."""
        served, failed = 0, []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.monotonic()
            st = probe()
            if st in (200, 503):  # 503: degraded health, still an answer from the server
                served += 1
            else:
                failed.append((st, round(time.monotonic() - t0, 2)))
            time.sleep(0.5)
        return served, failed

    def direct_status(self):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=3)
            try:
                c.request("GET", "/health")
                return c.getresponse().status
            finally:
                c.close()
        except (OSError, http.client.HTTPException):
            return None

    def run_attack(self, port, tls, probe, seconds, total=ATTACK_CONNECTIONS):
        stop = threading.Event()
        stats = {"opened": 0, "closed_by_server": 0, "failed": 0}
        threads = []
        try:
            threads = self.attack(port, tls, stop, stats, total)
            deadline = time.monotonic() + 120
            while (stats["opened"] + stats["failed"] < total * 0.9 and
                   time.monotonic() < deadline):
                time.sleep(0.5)
            served, failed = self.fresh_clients(seconds, probe)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        print("\nattack on port %d (tls=%s): %r; fresh clients served %d, failed %r"
              % (port, tls, stats, served, failed), file=sys.stderr)
        return stats, served, failed

    def test_slow_clients_do_not_keep_others_out(self):
        # Positive control: straight at perfagg-server the attack works (so
        # this test can tell), fresh clients get no answer. 64 connections
        # from each address (the server's per-address limit) fill its 1,024.
        stats, served, failed = self.run_attack(self.stack.port, False, self.direct_status, 5,
                                                total=64 * len(ATTACK_ADDRESSES))
        self.assertGreater(len(failed), served, (stats, served, failed))
        # let the server drop the attack's connections before going on
        harness.wait_for(lambda: self.direct_status() in (200, 503), timeout=60,
                         what="the server after the direct attack")
        # Through nginx: every fresh client is served, for three trickle periods.
        stats, served, failed = self.run_attack(self.port, True,
                                                lambda: self.try_status("/health"),
                                                3 * TRICKLE_S)
        self.assertGreaterEqual(stats["opened"], ATTACK_CONNECTIONS * 0.9, stats)
        self.assertGreaterEqual(served, 10, (served, failed, stats))
        self.assertEqual(failed, [], (served, stats))
        # nginx dropped the tricklers at its header deadline: they reconnected
        self.assertGreater(stats["closed_by_server"], ATTACK_CONNECTIONS * 0.5, stats)

    # -- TRUSTED_PROXIES ---------------------------------------------------
    def test_rate_limit_by_the_address_the_proxy_reports(self):
        # one client behind the proxy uses its budget up ...
        codes = []
        for _ in range(RATE_LIMIT_MAX + 2):
            st, body, r = self.request("POST", "/enclave/revoke",
                                       {"session_id": "8a6e0804-2bd0-4672-b79d-d97027f9071a"},
                                       src="127.0.0.40")
            codes.append((st, body.get("error") if isinstance(body, dict) else None))
            time.sleep(0.06)  # under nginx's own 20/s
        self.assertEqual(codes[0], (404, "session_not_found"), codes)
        self.assertEqual(codes[-1], (429, "rate_limited"), codes)
        # ... and it was counted by its own address, not by the proxy's: a
        # second client behind the same proxy still has its budget
        st, body, r = self.request("POST", "/enclave/revoke",
                                   {"session_id": "8a6e0804-2bd0-4672-b79d-d97027f9071a"},
                                   src="127.0.0.41")
        self.assertEqual((st, body["error"]), (404, "session_not_found"))
        self.assertEqual(r.getheader("RateLimit-Remaining"), str(RATE_LIMIT_MAX - 1))
        # a spoofed X-Forwarded-For through the proxy is replaced by nginx
        st, body, r = self.request("POST", "/enclave/revoke",
                                   {"session_id": "8a6e0804-2bd0-4672-b79d-d97027f9071a"},
                                   src="127.0.0.40", headers={"X-Forwarded-For": "127.0.0.99"})
        self.assertEqual((st, body["error"]), (429, "rate_limited"))
        # straight at the server, from an address that is not a trusted
        # proxy, X-Forwarded-For is ignored: counted by the peer address
        def direct(src, xff):
            c = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=10,
                                           source_address=(src, 0))
            try:
                c.request("POST", "/enclave/revoke",
                          json.dumps({"session_id": "8a6e0804-2bd0-4672-b79d-d97027f9071a"}),
                          {"Content-Type": "application/json", "X-Forwarded-For": xff})
                r = c.getresponse()
                r.read()
                return r.status, r.getheader("RateLimit-Remaining")
            finally:
                c.close()
        first = direct("127.0.0.50", "127.0.0.60")
        second = direct("127.0.0.50", "127.0.0.61")
        self.assertEqual(first, (404, str(RATE_LIMIT_MAX - 1)))
        self.assertEqual(second, (404, str(RATE_LIMIT_MAX - 2)))

    def test_tls_and_security_headers(self):
        st, body, r = self.request("GET", "/health")
        self.assertIn(st, (200, 503))
        self.assertEqual(r.getheader("Strict-Transport-Security"), "max-age=63072000")
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        self.assertNotIn("nginx/", r.getheader("Server") or "")  # server_tokens off
        # plain HTTP on the TLS port is refused by nginx, never reaches the server
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            out = s.recv(4096)
        self.assertIn(b"400", out.split(b"\r\n", 1)[0])

    def test_raw_nul_and_bad_header_names_stop_at_nginx(self):
        # A raw NUL in the request line is cut off by libmicrohttpd before the
        # server sees it (docs/SECURITY.md); nginx refuses it, and the other
        # edge findings, before they reach the server.
        for raw in (b"GET /metrics\x00x HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /metrics%00x HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"POST /enclave/revoke HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello"):
            with self.subTest(raw=raw):
                s = self.ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=10),
                                         server_hostname="localhost")
                try:
                    s.sendall(raw)
                    first = s.recv(4096).split(b"\r\n", 1)[0]
                finally:
                    s.close()
                self.assertEqual(first, b"HTTP/1.1 400 Bad Request")


if __name__ == "__main__":
    unittest.main(verbosity=2)
