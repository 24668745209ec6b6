"""The browser pages end to end: a real headless Chromium (Debian's chromium,
driven by playwright-core from web/package-lock.json, tests/browser/pages.mjs)
against a real stack (simulator, relay, enclave, server, PostgreSQL) from
tests/lib/harness.py. This file starts the stack, checks what the server
sends for the pages (exact paths, types, CSP, SRI, caching), hands the Node
test what it needs through a 0600 file (never a command line), and then checks
what the browser left behind against the server and the C client: the bundle
the page downloaded verifies with `perfagg verify`, and the revoked session
is gone. Screenshots: build/browser-test/*.png (docs/DEVELOPING.md)."""
import base64
import hashlib
import http.client
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NOW = int(time.time() * 1000)
DAY = 86_400_000
OUT = os.path.join(harness.BUILD, "browser-test")
WEB = os.path.join(harness.BUILD, "web")
CHROMIUM = "/usr/bin/chromium"


def sha384_b64(data):
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


def ensure_chromium():
    """Debian's chromium, installed if missing (never a browser download)."""
    if not os.path.exists(CHROMIUM):
        subprocess.run([os.path.join(harness.SOURCE, "scripts", "deps.sh"), "chromium"], check=True)


class PagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_chromium()
        # The secret is random per run, so finding it anywhere means it leaked.
        cls.acct = harness.account(
            trades=harness.make_trades("BTCUSDT", 120, NOW - 20 * DAY, 12_000_000, 30000.0, 5),
            balances={"BTC": "0.5", "USDT": "1000"})
        cls.stack = harness.Stack({"accounts": [cls.acct], "symbols": [
            {"symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT"}]})
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(OUT)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def get(self, path, headers=None, method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30)
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def test_1_server_serves_exactly_the_bundle(self):
        with open(os.path.join(WEB, "manifest.json")) as f:
            manifest = json.load(f)
        paths = {e["path"]: e for e in manifest["files"]}
        self.assertEqual(set(paths), {"/", "/verify", "/assets/app.js", "/assets/style.css",
                                      "/favicon.svg", "/client/crypto-helper.js"})
        types = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
        for path, e in paths.items():
            st, h, body = self.get(path)
            self.assertEqual(st, 200, path)
            with open(os.path.join(WEB, e["file"]), "rb") as f:
                self.assertEqual(body, f.read(), path)
            self.assertEqual(sha384_b64(body), e["sha384"], path)
            self.assertEqual(h["content-type"], types[os.path.splitext(e["file"])[1]], path)
            self.assertEqual(h["x-content-type-options"], "nosniff")
            self.assertEqual(h["cache-control"], "no-cache")
            self.assertEqual(h["etag"], f'"sha384-{e["sha384"]}"')
            self.assertEqual(h["x-frame-options"], "DENY")
            self.assertEqual(h["referrer-policy"], "no-referrer")
            if path in ("/", "/verify"):
                self.assertEqual(h["content-security-policy"], e["csp"])
                for d in ("default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'",
                          "require-trusted-types-for 'script'"):
                    self.assertIn(d, e["csp"], path)
                self.assertNotIn("unsafe", e["csp"])
                self.assertNotRegex(e["csp"], r"https?:")  # no other origin
            else:
                self.assertEqual(h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'")
            # revalidation: an unchanged file costs a 304 without a body
            st, h2, body = self.get(path, {"If-None-Match": h["etag"]})
            self.assertEqual((st, body), (304, b""), path)
            self.assertEqual(h2["etag"], h["etag"])
            st, _, _ = self.get(path, {"If-None-Match": '"sha384-other"'})
            self.assertEqual(st, 200)
        # exact paths only, GET only
        for p in ("/index.html", "/verify/", "/verify.html", "/assets/", "/assets", "/assets/app.js/",
                  "/client/", "/manifest.json", "/SHA384SUMS", "/Verify", "/assets/../index.html",
                  "/favicon.ico"):
            st, h, body = self.get(p)
            self.assertEqual(st, 404, p)
            self.assertEqual(json.loads(body)["error"], "not_found", p)
        for m in ("POST", "PUT", "DELETE"):
            st, h, body = self.get("/", method=m)
            self.assertEqual((st, h["allow"], json.loads(body)["error"]), (405, "GET, HEAD, OPTIONS", "method_not_allowed"))
        st, h, _ = self.get("/verify", method="OPTIONS")
        self.assertEqual((st, h["allow"]), (204, "GET, HEAD, OPTIONS"))
        st, h, body = self.get("/assets/app.js", method="HEAD")
        self.assertEqual((st, body, h["content-type"]), (200, b"", "text/javascript; charset=utf-8"))
        self.assertEqual(int(h["content-length"]), os.path.getsize(os.path.join(WEB, "assets", "app.js")))
        # the API keeps its own policy and caching
        st, h, _ = self.get("/health")
        self.assertEqual(h["cache-control"], "no-store")
        self.assertEqual(h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'")

        # Subresource Integrity: index.html pins the bytes the server serves
        _, _, index = self.get("/")
        for tag, attr in ((r"<script[^>]*>", "src"), (r"<link rel=\"stylesheet\"[^>]*>", "href")):
            m = re.search(tag, index.decode())
            url = re.search(attr + r'="([^"]+)"', m.group(0)).group(1)
            sri = re.search(r'integrity="sha384-([^"]+)"', m.group(0)).group(1)
            _, _, asset = self.get(url)
            self.assertEqual(sri, sha384_b64(asset), url)
        self.assertNotRegex(index.decode(), r"<script>|<script [^>]*>[^<]|<style|\sstyle=|\son[a-z]+=")
        # /verify: its only script and style are the inlined ones its CSP pins
        _, h, verify = self.get("/verify")
        text = verify.decode()
        scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
        styles = re.findall(r"<style>(.*?)</style>", text, re.S)
        self.assertEqual((len(scripts), len(styles)), (1, 1))
        self.assertEqual(len(re.findall(r"<script", text)), 1)
        csp = h["content-security-policy"]
        self.assertIn(f"script-src 'sha384-{sha384_b64(scripts[0].encode())}'", csp)
        self.assertIn(f"style-src 'sha384-{sha384_b64(styles[0].encode())}'", csp)
        self.assertIn("connect-src", csp.replace("default-src 'none'", "connect-src"))  # nothing allowed

    def test_2_browser_flow(self):
        s = self.stack
        with open(os.path.join(harness.BUILD, "perfagg-enclave"), "rb") as f:
            image_hash = hashlib.sha384(f.read()).hexdigest()  # PCR0 of the development enclave
        cfg = os.path.join(s.tmp, "browser.json")
        with open(os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump({"url": s.url, "devRoot": s.dev_root, "imageHash": image_hash,
                       "apiKey": self.acct["api_key"], "apiSecret": self.acct["api_secret"],
                       "outDir": OUT, "chromium": CHROMIUM, "simUrl": s.sim_url,
                       "simControl": pathlib.Path(s.tmp, "sim.control").read_text().strip(),
                       "verifyFile": os.path.join(WEB, "verify.html")}, f)
        node = subprocess.run(
            ["node", "--test", "--test-reporter=spec", "--test-concurrency=1",
             os.path.join(harness.SOURCE, "tests", "browser", "pages.mjs")],
            env={**os.environ, "PA_BROWSER_CONFIG": cfg,
                 "NODE_PATH": os.path.join(harness.SOURCE, "web", "node_modules")},
            capture_output=True, text=True, timeout=280)
        sys.stdout.write(node.stdout[-20000:])
        sys.stderr.write(node.stderr[-5000:])
        self.assertEqual(node.returncode, 0, "the browser tests failed (output above)")
        with open(os.path.join(OUT, "results.json")) as f:
            res = json.load(f)

        # The bundle the page downloaded is the file `perfagg verify` reads.
        bundle = os.path.join(OUT, "result.json")
        r = s.cli("verify", bundle, "--dev-root", s.dev_root, "--image-hash", image_hash)
        self.assertIn("ok      payload_signature", r.stdout)
        with open(bundle) as f:
            text = f.read()
        self.assertNotIn(res["sessionId"], text)
        self.assertNotIn(self.acct["api_secret"], text)
        # and the session the page revoked is gone
        st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": res["sessionId"]})
        self.assertEqual((st, body["error"]), (410, "session_revoked"))
        # every screenshot a person would look at
        for name in res["screenshots"]:
            self.assertGreater(os.path.getsize(os.path.join(OUT, name)), 1000, name)
        # the server saw only ciphertext: the secret is in none of its logs
        self.assertNotIn(self.acct["api_secret"].encode(), s.logs())


if __name__ == "__main__":
    unittest.main(verbosity=2)
