"""Egress the host cannot read, through a host it does not trust (make test-security).

- A full flow over TLS through perfagg-relay with --record: everything the
  relay carried, both ways, holds neither the API key nor the secret in any
  encoding, nor any plaintext HTTP. Positive controls: the same flow over
  plain HTTP through the relay shows the key and the request lines in the
  recording, and the secret planted in each encoding is found by the scan.
- The relay refuses targets not on its allow-list, names that resolve to
  non-public addresses (checked after resolution), local entries without the
  explicit development flag, malformed CONNECT requests (and keeps serving),
  more tunnels than its cap, and closes idle tunnels.
"""
import base64
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NOW = int(time.time() * 1000)
RELAY = os.path.join(harness.BUILD, "perfagg-relay")


def encodings(value):
    """value as it could cross a wire: raw, base64 (standard, URL-safe, with
    and without padding), hex (both cases), URL-encoded."""
    b = value.encode()
    out = {b, base64.b64encode(b), base64.b64encode(b).rstrip(b"="),
           base64.urlsafe_b64encode(b), base64.urlsafe_b64encode(b).rstrip(b"="),
           b.hex().encode(), b.hex().upper().encode(),
           urllib.parse.quote(value, safe="").encode(),
           urllib.parse.quote_plus(value).encode()}
    return sorted(out)


def hits(data, value):
    return [e for e in encodings(value) if e in data]


def sections(data, kind):
    """The bytes of every recorded section of one kind (head, c2s, s2c, reply)."""
    out, pos = [], 0
    while True:
        i = data.find(b"\n# tunnel ", pos)
        if i < 0:
            return out
        eol = data.index(b"\n", i + 1)
        _, _, _, k, n = data[i + 1:eol].split(b" ")
        body = data[eol + 1:eol + 1 + int(n)]
        if k.decode() == kind:
            out.append(body)
        pos = eol + 1 + int(n)


def full_flow(tls):
    """A whole submit + aggregates flow through the relay; returns (recording,
    key, secret, relay log)."""
    # Characters that URL-encoding and base64 change, so every encoding differs.
    key = "K" + os.urandom(20).hex() + "+/="
    secret = "S" + os.urandom(20).hex() + "+/="
    acct = harness.account(api_key=key, api_secret=secret,
                           trades=harness.make_trades("BTCUSDT", 40, NOW - 5 * 86_400_000,
                                                      3_600_000, 30000.0))
    rec_dir = tempfile.mkdtemp(prefix="pa-rec.", dir="/tmp")
    rec = os.path.join(rec_dir, "relay.rec")
    s = harness.Stack({"accounts": [acct]}, tls=tls, relay_args=("--record", rec))
    try:
        sid = s.submit(key, secret)
        st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        assert st == 200, (st, body)
        with open(os.path.join(s.tmp, "relay.log"), "rb") as f:
            log = f.read()
    finally:
        s.stop()
    with open(rec, "rb") as f:
        data = f.read()
    shutil.rmtree(rec_dir, ignore_errors=True)
    return data, key, secret, log


class RecordingTest(unittest.TestCase):
    def test_tls_recording_holds_no_secret(self):
        data, key, secret, log = full_flow(tls=True)
        # The recording is real: the tunnel was used, and carried TLS both ways.
        self.assertIn(b"CONNECT localhost:", data)
        self.assertIn(b" c2s ", data)
        self.assertIn(b" s2c ", data)
        self.assertIn(b"\n\x16\x03", data, "no TLS handshake record in the tunnel")
        self.assertGreater(len(data), 20000)
        self.assertIn(b"open to localhost:", log)
        for value in (key, secret):
            self.assertEqual(hits(data, value), [], "a credential crossed the relay readably")
        # Nor anything of the HTTP inside: no header, no path, no signature.
        for plain in (b"X-MBX-APIKEY", b"x-mbx-apikey", b"/api/v3/", b"signature=",
                      b"HTTP/1.1 200 OK"):
            self.assertNotIn(plain, data)
        # Positive control for the secret (it never travels, even in plain
        # HTTP: only its HMAC does): planted, each encoding is found.
        for enc in encodings(secret):
            planted = data[:len(data) // 2] + enc + data[len(data) // 2:]
            self.assertIn(enc, hits(planted, secret))
        # The relay's log names the tunnel, never its content.
        for value in (key, secret):
            self.assertEqual(hits(log, value), [])
        self.assertNotIn(b"/api/v3/", log)

    def test_plain_http_recording_shows_the_key(self):
        """Positive control: without TLS the same scan finds the key."""
        data, key, secret, _ = full_flow(tls=False)
        self.assertIn(b"CONNECT 127.0.0.1:", data)
        self.assertNotEqual(hits(data, key), [], "the scan cannot see a key in plain HTTP")
        self.assertIn(b"X-MBX-APIKEY", data)
        self.assertIn(b"/api/v3/myTrades", data)
        self.assertIn(b"signature=", data)
        # Even then the relay's own part, the CONNECT head, carries no key:
        # custom headers go to the exchange only (CURLOPT_HEADEROPT).
        heads = sections(data, "head")
        self.assertTrue(heads and all(h.startswith(b"CONNECT 127.0.0.1:") for h in heads), heads)
        for h in heads:
            self.assertEqual(hits(h, key), [])
            self.assertNotIn(b"X-MBX-APIKEY", h)
        self.assertTrue(any(hits(c, key) for c in sections(data, "c2s")))


class Relay:
    """A perfagg-relay process on a Unix socket of its own."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="pa-relay.", dir="/tmp")
        self.sock = os.path.join(self.dir, "relay.sock")
        self.log_path = os.path.join(self.dir, "relay.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([RELAY, "--listen", "unix:" + self.sock, *args],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=harness.die_with_parent)
        # The socket file exists from bind(), before listen(): wait for the
        # log line written after listen() instead, or a connect can be refused.
        harness.wait_for(lambda: b"listening on" in self.log() or self.proc.poll() is not None,
                         what="relay socket")

    def connect(self, head, timeout=5, end=False):
        """Sends head (then ends our side when end); returns (status line or
        b"", socket)."""
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(timeout)
        c.connect(self.sock)
        try:
            if head:
                c.sendall(head)
            if end:
                c.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed early (503, or a refusal): read the answer
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                d = c.recv(4096)
                if not d:
                    break
                buf += d
        except (socket.timeout, ConnectionResetError):
            pass
        return buf.split(b"\r\n", 1)[0], c

    def status(self, head, **kw):
        line, c = self.connect(head, **kw)
        c.close()
        return line

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Upstream:
    """A TCP echo server on loopback: a reachable target for the relay."""

    def __init__(self, host="127.0.0.1"):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.srv = socket.socket(fam, socket.SOCK_STREAM)
        self.srv.bind((host, 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        with c:
            while True:
                try:
                    d = c.recv(4096)
                except OSError:
                    return
                if not d:
                    return
                c.sendall(d)

    def close(self):
        self.srv.close()


def connect_head(target):
    return f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()


def private_names():
    """Names (not localhost, not literals) that this machine resolves to a
    non-public address through its resolver, e.g. its own host name."""
    out = []
    for name in (socket.gethostname(), "ip6-localhost", "ip6-loopback", "runsc", "vm"):
        if name in ("localhost",) or name in out:
            continue
        try:
            infos = socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)
        except OSError:
            continue
        if infos:
            out.append(name)
    return out


class RelayPolicyTest(unittest.TestCase):
    def setUp(self):
        self.up = Upstream()
        self.target = f"127.0.0.1:{self.up.port}"

    def tearDown(self):
        self.up.close()

    def test_allow_list(self):
        r = Relay("--dev-allow-local", "--allow", self.target)
        try:
            line, c = r.connect(connect_head(self.target))
            self.assertEqual(line, b"HTTP/1.1 200 Connection established")
            c.sendall(b"ping through the tunnel")
            self.assertEqual(c.recv(100), b"ping through the tunnel")
            c.close()
            for other in ("api.binance.com:443", "example.com:443", f"127.0.0.1:{self.up.port + 1}",
                          f"localhost:{self.up.port}", f"[::1]:{self.up.port}", "169.254.169.254:80"):
                self.assertEqual(r.status(connect_head(other)), b"HTTP/1.1 403 Forbidden", other)
            self.assertIn(b"not on the allow-list", r.log())
            self.assertEqual(self.up.accepted, 1)
        finally:
            r.stop()

    def test_default_allow_list_is_the_exchange(self):
        r = Relay()
        try:
            self.assertEqual(r.status(connect_head(self.target)), b"HTTP/1.1 403 Forbidden")
            # spot and USD-M futures (accountType "usdm")
            self.assertIn(b"allow api.binance.com:443 fapi.binance.com:443;", r.log())
        finally:
            r.stop()

    def test_local_entries_need_the_development_flag(self):
        for entry in (self.target, f"localhost:{self.up.port}", "[::1]:443"):
            r = subprocess.run([RELAY, "--listen", "unix:/tmp/pa-relay-never.sock", "--allow", entry],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, entry)
            self.assertIn("--dev-allow-local", r.stderr)
        self.assertFalse(os.path.exists("/tmp/pa-relay-never.sock"))

    def test_name_resolving_to_a_private_address(self):
        names = private_names()
        if not names:
            self.skipTest("no name here resolves to a private address")
        # Even with the development flag: the flag exempts explicit localhost
        # and literal entries only, never a name the resolver answers for.
        args = ["--dev-allow-local"]
        for n in names:
            args += ["--allow", f"{n}:{self.up.port}"]
        r = Relay(*args)
        try:
            for n in names:
                self.assertEqual(r.status(connect_head(f"{n}:{self.up.port}")),
                                 b"HTTP/1.1 403 Forbidden", n)
            self.assertIn(b"resolves to a non-public address", r.log())
            self.assertEqual(self.up.accepted, 0, "the relay connected to a private address")
        finally:
            r.stop()

    def test_malformed_requests(self):
        r = Relay("--dev-allow-local", "--allow", self.target)
        rnd = random.Random(5)
        valid = connect_head(self.target)
        cases = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
                 b"CONNECT " + self.target.encode() + b" HTTP/1.1\n\n",
                 b"CONNECT " + self.target.encode() + b" HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n",
                 b"CONNECT " + self.target.encode() + b"\x00 HTTP/1.1\r\n\r\n",
                 b"CONNECT user:pw@" + self.target.encode() + b" HTTP/1.1\r\n\r\n",
                 b"CONNECT " + self.target.encode() + b" HTTP/1.1\r\nHost " + b"\r\n\r\n",
                 b"CONNECT [" + self.target.encode() + b" HTTP/1.1\r\n\r\n"]
        for _ in range(150):
            b = bytearray(valid)
            for _ in range(rnd.randint(1, 4)):
                op, pos = rnd.randrange(3), rnd.randrange(len(b))
                if op == 0:
                    b[pos] = rnd.randrange(256)
                elif op == 1:
                    del b[pos]
                else:
                    b.insert(pos, rnd.randrange(256))
            cases.append(bytes(b))
        try:
            opened = 0
            for case in cases:
                line, c = r.connect(case, timeout=12, end=True)
                c.close()
                if line == b"HTTP/1.1 200 Connection established":
                    opened += 1  # a mutation that is still a valid CONNECT to the target
                    continue
                self.assertRegex(line, rb"^(HTTP/1\.1 (400|403|405|408|431) [A-Za-z ]+)?$", case)
            self.assertEqual(r.proc.poll(), None, "the relay died")
            self.assertEqual(r.status(valid), b"HTTP/1.1 200 Connection established")
            # (the echo server counts its accepts in another thread)
            harness.wait_for(lambda: self.up.accepted >= opened + 1, timeout=30, what="accepts")
            time.sleep(0.2)
            self.assertEqual(self.up.accepted, opened + 1, "a malformed request opened a tunnel")
            self.assertIn(b"malformed CONNECT request", r.log())
        finally:
            r.stop()

    def test_tunnel_cap_and_idle_timeout(self):
        r = Relay("--dev-allow-local", "--allow", self.target, "--max-tunnels", "2",
                  "--idle-timeout", "1")
        try:
            l1, c1 = r.connect(connect_head(self.target))
            l2, c2 = r.connect(connect_head(self.target))
            self.assertEqual((l1, l2), (b"HTTP/1.1 200 Connection established",) * 2)
            self.assertEqual(r.status(connect_head(self.target)),
                             b"HTTP/1.1 503 Service Unavailable")
            # Idle for over a second: the relay closes both tunnels ...
            t0 = time.time()
            c1.settimeout(10)
            self.assertEqual(c1.recv(10), b"")
            self.assertLess(time.time() - t0, 8)
            c1.close()
            c2.close()
            # ... and their slots are free again.
            harness.wait_for(lambda: r.status(connect_head(self.target)) ==
                             b"HTTP/1.1 200 Connection established", timeout=10, what="a free slot")
            self.assertIn(b"idle timeout", r.log())
            self.assertIn(b"2 tunnels open", r.log())
        finally:
            r.stop()

    def test_out_of_descriptors_does_not_spin(self):
        """With its descriptors used up, the relay cannot accept the next
        client, which stays queued and keeps the listener readable: it must
        wait for a descriptor, not spin on accept (any local user can queue
        connections)."""
        def low_nofile():
            resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
        d = tempfile.mkdtemp(prefix="pa-relay-fd.", dir="/tmp")
        sock = os.path.join(d, "relay.sock")
        log = open(os.path.join(d, "relay.log"), "wb")
        p = subprocess.Popen([RELAY, "--listen", "unix:" + sock, "--max-tunnels", "100",
                              "--dev-allow-local", "--allow", self.target],
                             preexec_fn=low_nofile, stdout=log, stderr=subprocess.STDOUT)
        clients = []
        try:
            harness.wait_for(lambda: b"listening on" in open(log.name, "rb").read() or
                             p.poll() is not None, what="relay")
            for _ in range(30):  # idle clients: more than 16 descriptors' worth
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(sock)
                clients.append(c)

            def cpu():
                with open(f"/proc/{p.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            time.sleep(0.5)
            before = cpu()
            time.sleep(2)
            used = cpu() - before
            # spinning costs a whole core (~2 s here); waiting costs nothing
            self.assertLess(used, 0.5, f"the relay used {used:.2f} s of CPU in 2 s")
            self.assertIsNone(p.poll(), "the relay died")
        finally:
            for c in clients:
                c.close()
            p.terminate()
            p.wait(timeout=10)
            log.close()
            shutil.rmtree(d, ignore_errors=True)

    def test_idle_client_before_head(self):
        """A client that connects and says nothing is dropped, without a slot
        held forever (the head deadline is 10 s)."""
        r = Relay("--dev-allow-local", "--allow", self.target, "--max-tunnels", "1")
        try:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(r.sock)
            c.settimeout(20)
            self.assertEqual(c.recv(10), b"")
            c.close()
            self.assertEqual(r.status(connect_head(self.target)),
                             b"HTTP/1.1 200 Connection established")
        finally:
            r.stop()


MODULE_C = r"""
#include <stdio.h>
__attribute__((constructor)) static void ran(void)
{
    FILE *f = fopen(MARKER, "w");
    if (f != NULL) { fputs("module code ran in the enclave\n", f); fclose(f); }
}
int OSSL_provider_init(void) { return 0; }
"""


class OpenSSLConfigTest(unittest.TestCase):
    """$OPENSSL_CONF is the host's, and a configuration can load a provider
    module (code in the enclave process, before any check of ours) and change
    TLS defaults: neither enclave build reads an OpenSSL configuration."""

    def test_no_build_loads_a_host_openssl_config(self):
        d = tempfile.mkdtemp(prefix="pa-osslconf.", dir="/tmp")
        try:
            marker = os.path.join(d, "module-ran")
            src, so, conf = (os.path.join(d, n) for n in ("m.c", "m.so", "evil.cnf"))
            with open(src, "w") as f:
                f.write(MODULE_C)
            subprocess.run(["cc", "-shared", "-fPIC", f'-DMARKER="{marker}"', "-o", so, src],
                           check=True, timeout=60)
            with open(conf, "w") as f:
                f.write("openssl_conf = init\n[init]\nproviders = prov\n[prov]\nevil = evil\n"
                        f"[evil]\nmodule = {so}\nactivate = 1\n")
            # Positive control: the module runs in a program that loads the config.
            subprocess.run(["openssl", "version"], env={**os.environ, "OPENSSL_CONF": conf},
                           capture_output=True, timeout=30)
            self.assertTrue(os.path.exists(marker), "the control did not load the module")
            os.unlink(marker)
            for exe in ("perfagg-enclave", "perfagg-enclave-production"):
                env = {k: v for k, v in os.environ.items() if k not in ("BINANCE_BASE_URL",
                       "PERFAGG_CA_FILE", "PERFAGG_EXCHANGE_TIMEOUT_MS", "PERFAGG_EGRESS_RELAY")}
                env.update({"PERFAGG_VAR_DIR": os.path.join(d, "var"), "OPENSSL_CONF": conf,
                            "PERFAGG_ENCLAVE_SOCKET": os.path.join(d, exe + ".sock"),
                            "PERFAGG_EGRESS_RELAY": "unix:/tmp/pa-no-relay.sock"})
                log_path = os.path.join(d, exe + ".log")
                with open(log_path, "wb") as log:
                    p = subprocess.Popen([os.path.join(harness.BUILD, exe)], env=env,
                                         stdout=log, stderr=subprocess.STDOUT)
                try:
                    # development: serves; production: refuses OPENSSL_CONF (exit 2)
                    harness.wait_for(lambda: p.poll() is not None or
                                     b"listening on" in open(log_path, "rb").read(),
                                     timeout=20, what=exe)
                finally:
                    p.terminate()
                    p.wait(timeout=10)
                self.assertFalse(os.path.exists(marker), f"{exe} loaded the host's OpenSSL config")
        finally:
            shutil.rmtree(d, ignore_errors=True)


class ProductionBinaryTest(unittest.TestCase):
    """perfagg-enclave-production itself, as an operator would start it."""

    def run_enclave(self, extra_env):
        env = {k: v for k, v in os.environ.items()
               if k not in ("BINANCE_BASE_URL", "PERFAGG_CA_FILE", "PERFAGG_EXCHANGE_TIMEOUT_MS",
                            "PERFAGG_EGRESS_RELAY")}
        d = tempfile.mkdtemp(prefix="pa-prod.", dir="/tmp")
        env.update({"PERFAGG_VAR_DIR": os.path.join(d, "var"),
                    "PERFAGG_ENCLAVE_SOCKET": os.path.join(d, "enclave.sock")})
        env.update(extra_env)
        try:
            return subprocess.run([os.path.join(harness.BUILD, "perfagg-enclave-production")],
                                  env=env, capture_output=True, text=True, timeout=20)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_refuses_result_changing_overrides(self):
        relay = {"PERFAGG_EGRESS_RELAY": "unix:/tmp/pa-no-relay.sock"}
        for name, value in (("BINANCE_BASE_URL", "http://127.0.0.1:9"),
                            ("BINANCE_BASE_URL", ""),
                            ("PERFAGG_CA_FILE", "/tmp/evil-ca.pem"),
                            ("PERFAGG_EXCHANGE_TIMEOUT_MS", "100")):
            r = self.run_enclave({**relay, name: value})
            self.assertEqual(r.returncode, 2, (name, r.stderr))
            self.assertIn(f"{name} is set, but the production enclave", r.stderr)
            self.assertNotIn("listening on", r.stderr)

    def test_refuses_tls_exposing_env(self):
        """libcurl writes TLS secrets to $SSLKEYLOGFILE and loads $OPENSSL_CONF
        whatever the enclave sets on its handles: the host could decrypt the
        relay's traffic, or load code and weaken TLS."""
        relay = {"PERFAGG_EGRESS_RELAY": "unix:/tmp/pa-no-relay.sock"}
        d = tempfile.mkdtemp(prefix="pa-keylog.", dir="/tmp")
        try:
            for name in ("SSLKEYLOGFILE", "OPENSSL_CONF"):
                path = os.path.join(d, name)
                r = self.run_enclave({**relay, name: path})
                self.assertEqual(r.returncode, 2, (name, r.stderr))
                self.assertIn(f"{name} is set, but the production enclave", r.stderr)
                self.assertNotIn("listening on", r.stderr)
                # (libcurl opens the key log at its global init, before the
                # configuration is read: it may exist, but holds no secret)
                self.assertFalse(os.path.exists(path) and os.path.getsize(path) > 0, name)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
