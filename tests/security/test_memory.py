"""Proof that the host never holds a plaintext key (make test-security).

A full flow (attest, seal, submit, aggregate, logs) runs with a random API key
and a random API secret that contains characters every encoding changes
(quote, backslash, slash, plus, percent, space, non-ASCII). Afterwards:
- a core image of the running perfagg-server taken with gcore contains
  neither, in any encoding we know of: raw UTF-8, UTF-16 (LE/BE), hex
  (lower/upper), base64 and base64url at each of the three byte alignments,
  URL-encoding (%20 and +), JSON string escaping (ASCII-only and UTF-8);
- neither does any file of the PostgreSQL cluster (data directory and WAL,
  read as raw bytes after a CHECKPOINT).
Each scan has a positive control that must find every needle: a process we
control that holds the encodings, imaged by the same gcore, and rows holding
them written to the same cluster, found by the same file scan."""
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NOW = int(time.time() * 1000)
CHUNK = 1 << 22


def needles(secret):
    """name -> bytes: every form of `secret` a scan looks for."""
    b = secret.encode()
    out = {
        "raw": b,
        "utf16le": secret.encode("utf-16-le"),
        "utf16be": secret.encode("utf-16-be"),
        "hex": b.hex().encode(),
        "HEX": b.hex().upper().encode(),
        "url": urllib.parse.quote(secret, safe="").encode(),
        "url_plus": urllib.parse.quote_plus(secret).encode(),
        "json_ascii": json.dumps(secret)[1:-1].encode(),
        "json_utf8": json.dumps(secret, ensure_ascii=False)[1:-1].encode(),
    }
    # base64 of a larger blob holding the secret: the characters that encode
    # only secret bits, for each offset of the secret within a 3-byte group
    for name, enc in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
        for shift in range(3):
            e = enc(b"\0" * shift + b)
            start = (4 * shift + 2) // 3
            end = ((shift + len(b)) * 8) // 6
            out[f"{name}@{shift}"] = e[start:end]
    return out


def full_forms(secret):
    """What a process would hold: whole encodings (the base64 ones padded)."""
    forms = dict(needles(secret))
    b = secret.encode()
    for name, enc in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
        for shift in range(3):
            forms[f"{name}@{shift}"] = enc(b"\0" * shift + b)
    return forms


def scan_file(path, wanted, found):
    overlap = max(len(v) for v in wanted.values())
    with open(path, "rb") as f:
        tail = b""
        while True:
            data = f.read(CHUNK)
            if not data:
                break
            buf = tail + data
            for k, v in wanted.items():
                if k not in found and v in buf:
                    found.add(k)
            tail = buf[-overlap:]


def scan_tree(root, wanted):
    found, files = set(), 0
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            try:
                scan_file(p, wanted, found)
                files += 1
            except OSError:
                pass
    return found, files


def gcore(pid, directory):
    prefix = os.path.join(directory, "core")
    r = subprocess.run(["gcore", "-o", prefix, str(pid)], capture_output=True, text=True,
                       timeout=300)
    path = f"{prefix}.{pid}"
    if r.returncode != 0 or not os.path.exists(path):
        raise AssertionError(f"gcore failed: {r.stdout}{r.stderr}")
    return path


def sanitized(pid):
    with open(f"/proc/{pid}/maps") as f:
        return any("libasan" in line or "libtsan" in line for line in f)


class HostNeverHoldsTheKeyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.key = "K" + secrets.token_hex(24)
        cls.secret = "S" + secrets.token_hex(20) + '"\\/+% é=&?' + secrets.token_hex(8)
        cls.wanted = {}
        for who, value in (("key", cls.key), ("secret", cls.secret)):
            for name, needle in needles(value).items():
                cls.wanted[f"{who}:{name}"] = needle
        acct = harness.account(api_key=cls.key, api_secret=cls.secret,
                               trades=harness.make_trades("BTCUSDT", 30, NOW - 5 * 86_400_000,
                                                          3_600_000, 30000.0))
        cls.stack = s = harness.Stack({"accounts": [acct]})
        try:
            s.cli("attest", "--dev-root", s.dev_root)
            sid = s.submit(cls.key, cls.secret)
            st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
            assert st == 200, body  # the secret reached the exchange: the HMAC matched
            st, _, _ = s.request("GET", body["logs_url"])
            assert st == 200
        except BaseException:
            s.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_server_core_image_has_no_key(self):
        s = self.stack
        if sanitized(s.server.pid):
            self.skipTest("sanitizer build: the shadow memory makes a core image impractical")
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            # positive control: a process holding every form, imaged the same way
            holder = subprocess.Popen(
                [sys.executable, "-c",
                 "import sys, json, base64\n"
                 "forms = [base64.b64decode(x) for x in json.loads(sys.stdin.readline())]\n"
                 "print('ready', flush=True)\n"
                 "sys.stdin.readline()\n"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                forms = [base64.b64encode(v).decode()
                         for value in (self.key, self.secret)
                         for v in full_forms(value).values()]
                holder.stdin.write(json.dumps(forms) + "\n")
                holder.stdin.flush()
                self.assertEqual(holder.stdout.readline().strip(), "ready")
                control = gcore(holder.pid, d)
                found = set()
                scan_file(control, self.wanted, found)
                self.assertEqual(set(self.wanted) - found, set(),
                                 "the core scan misses these encodings")
                os.unlink(control)
            finally:
                holder.kill()
                holder.wait()
                holder.stdin.close()
                holder.stdout.close()

            core = gcore(s.server.pid, d)
            size = os.path.getsize(core)
            found = set()
            scan_file(core, self.wanted, found)
            self.assertEqual(found, set(), "the host's memory holds the key or secret")
            self.assertGreater(size, 1 << 20)  # a real image, not an empty file
            self.assertIsNone(s.server.poll(), "gcore must not have stopped the server")
            self.assertEqual(s.request("GET", "/health")[0], 200)

    def test_database_files_have_no_key(self):
        s = self.stack
        data = os.path.join(harness.PGHOST, "data")
        self.assertTrue(os.path.isfile(os.path.join(data, "PG_VERSION")), data)
        harness.psql("postgres", "CHECKPOINT")
        found, files = scan_tree(data, self.wanted)
        self.assertGreater(files, 100)
        self.assertEqual(found, set(), "the cluster's files hold the key or secret")
        self.assertTrue(os.listdir(os.path.join(data, "pg_wal")))

        # positive control: the same scan finds the forms once a row holds them
        s.sql("CREATE TABLE leak_control (v bytea)")
        for v in self.wanted.values():
            s.sql(f"INSERT INTO leak_control VALUES ('\\x{v.hex()}'::bytea)")
        harness.psql("postgres", "CHECKPOINT")
        found, _ = scan_tree(data, self.wanted)
        self.assertEqual(set(self.wanted) - found, set(), "the file scan misses these forms")


if __name__ == "__main__":
    unittest.main(verbosity=2)
