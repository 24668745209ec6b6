"""The JavaScript CryptoHelper (web/src/crypto-helper, built to
build/web/client/crypto-helper.js) against a real stack: development enclave,
server, Binance simulator and PostgreSQL. A Node script (web/tools/e2e-driver.mjs)
does what the page does — attest with a fresh nonce, seal the key, submit,
request aggregates, verify the result — and this test checks that the enclave
opened what the helper sealed (a session that computes the account's numbers),
and that the helper and the C client (`perfagg verify`) agree on the result
bundle and on every tampered copy of it, check by check."""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NODE = shutil.which("node")
DRIVER = os.path.join(harness.SOURCE, "web", "tools", "e2e-driver.mjs")
HELPER = os.path.join(harness.BUILD, "web", "client", "crypto-helper.js")
NOW = int(time.time() * 1000)
DAY = 86_400_000


class JsHelperTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if NODE is None or not os.path.exists(HELPER):
            raise AssertionError(f"node and {HELPER} are required (the web_build test builds it)")
        cls.acct = harness.account(
            trades=harness.make_trades("BTCUSDT", 30, NOW - 10 * DAY, 20_000_000, 30000.0, 3))
        cls.stack = harness.Stack({"accounts": [cls.acct]})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def driver(self, **inp):
        r = subprocess.run([NODE, DRIVER], input=json.dumps(inp), capture_output=True, text=True,
                           env={**os.environ, "PA_CRYPTO_HELPER": HELPER}, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    @staticmethod
    def failed(result):
        return sorted(c["name"] for c in result["checks"] if c["status"] == "failed")

    def c_verify(self, path):
        """perfagg verify: (exit code, names of the FAILED checks)."""
        r = self.stack.cli("verify", path, "--dev-root", self.stack.dev_root, check=False)
        names = re.findall(r"^  FAILED\s+(\S+)", r.stdout, re.M)
        return r.returncode, sorted(names)

    def test_attestation_of_the_dev_enclave(self):
        s = self.stack
        out = self.driver(mode="attest", url=s.url, dev_root=s.dev_root)
        a = out["attest"]
        self.assertTrue(a["ok"], a["reasons"])
        self.assertTrue(a["development"])
        self.assertEqual([c["name"] for c in a["checks"]],
                         ["attestation", "attestation_nonce", "attestation_public_key",
                          "attestation_key_binding", "image_hash"])
        self.assertIn("a DEVELOPMENT root", a["checks"][0]["detail"])
        self.assertEqual(a["claims"]["imageHash"], out["quote"]["image_hash"])
        # the same document under the built-in AWS root: refused, and the AWS
        # root wants an image hash
        aws = out["aws"]
        self.assertFalse(aws["ok"])
        self.assertEqual(self.failed(aws), ["attestation", "expected_image_hash"])
        self.assertIn("cabundle[0] is not the pinned root", aws["checks"][0]["detail"])
        # a document taken for another nonce: refused
        self.assertEqual(self.failed(out["other_nonce"]), ["attestation_nonce"])
        # a pinned image: the enclave's own passes, another one does not
        pinned = self.driver(mode="attest", url=s.url, dev_root=s.dev_root,
                             image_hash=out["quote"]["image_hash"])["attest"]
        self.assertTrue(pinned["ok"], pinned["reasons"])
        self.assertEqual(pinned["checks"][-1]["name"], "expected_image_hash")
        other = self.driver(mode="attest", url=s.url, dev_root=s.dev_root, image_hash="ab" * 48)
        self.assertEqual(self.failed(other["attest"]), ["expected_image_hash"])

    def test_sealed_by_the_helper_opened_by_the_enclave(self):
        s = self.stack
        bundle_path = os.path.join(s.tmp, "js-result.json")
        api_secret = self.acct["api_secret"]
        out = self.driver(mode="flow", url=s.url, dev_root=s.dev_root, api_key=self.acct["api_key"],
                          api_secret=api_secret, bundle_out=bundle_path)
        # the enclave opened it: a session, and numbers over the account's trades
        self.assertEqual(out["submitted"]["status"], 200)
        self.assertEqual(out["submitted"]["implementation"], "webcrypto")  # Node 20 has X25519
        self.assertNotIn(api_secret, json.dumps(out["submitted"]["body"]))
        self.assertNotIn(api_secret.encode(), s.logs())
        v = out["verified"]
        self.assertTrue(v["ok"], v["reasons"])
        self.assertEqual(v["payload"]["trades"], 30)
        self.assertEqual(v["payload"]["label"], "js helper")
        self.assertEqual(v["payload"]["challenge"], out["challenge"])
        self.assertEqual([c["name"] for c in v["checks"]],
                         ["bundle_format", "attestation", "attestation_nonce", "attestation_public_key",
                          "attestation_key_binding", "image_hash", "payload_signature", "payload_type",
                          "merkle_leaves", "merkle_root", "result_id", "environment", "challenge"])
        self.assertTrue(out["from_file"]["ok"], out["from_file"]["reasons"])
        self.assertEqual(self.failed(out["wrong_challenge"]), ["challenge"])
        # under the AWS root a development result is refused
        self.assertIn("attestation", self.failed(out["aws_root"]))
        self.assertIn("environment", self.failed(out["aws_root"]))

        # the C client verifies the bundle the helper saved
        self.assertEqual(self.c_verify(bundle_path), (0, []))

        # ... and both refuse every tampered copy, naming the same checks
        with open(bundle_path) as f:
            bundle = json.load(f)

        def b64flip(text, i=10):
            raw = bytearray(__import__("base64").b64decode(text))
            raw[i] ^= 1
            return __import__("base64").b64encode(bytes(raw)).decode()

        def edit(fn):
            b = copy.deepcopy(bundle)
            fn(b)
            return b

        resp = lambda b: b["response"]  # noqa: E731
        payload = lambda b: b["response"]["aggregates_signed"]["payload"]  # noqa: E731
        att = lambda b: b["response"]["attestation"]  # noqa: E731
        cases = {
            "pnl": edit(lambda b: payload(b).update(pnl=payload(b)["pnl"] + 1)),
            "label": edit(lambda b: payload(b).update(label="someone else")),
            "signature": edit(lambda b: resp(b)["aggregates_signed"].update(
                signature=b64flip(resp(b)["aggregates_signed"]["signature"]))),
            "log entry": edit(lambda b: b["logs"]["entries"][0]["entry"].update(count=12345)),
            "log dropped": edit(lambda b: b["logs"]["entries"].pop(0)),
            "response root": edit(lambda b: resp(b).update(merkle_root="00" * 32)),
            "quote": edit(lambda b: att(b).update(quote=b64flip(att(b)["quote"], 200))),
            "signing key": edit(lambda b: att(b).update(signing_pubkey=att(b)["enclave_pubkey"])),
            "image hash": edit(lambda b: att(b).update(image_hash="ab" * 48)),
            "result id": edit(lambda b: b["logs"].update(result_id="00000000-0000-4000-8000-000000000000")),
            "version": edit(lambda b: b.update(version=2)),
        }
        with open(bundle_path) as f:
            text = f.read()
        # a second pnl in the signed payload: which one counts? Both refuse.
        self.assertEqual(text.count('"payload":{'), 1)
        cases["duplicate key"] = text.replace('"payload":{', '"payload":{"pnl":0,')
        for name, b in cases.items():
            with self.subTest(name):
                path = os.path.join(s.tmp, "tampered.json")
                with open(path, "w") as f:
                    if isinstance(b, str):
                        f.write(b)
                    else:
                        json.dump(b, f)
                rc, c_failed = self.c_verify(path)
                js = self.driver(mode="verify", bundle=path, dev_root=s.dev_root)
                self.assertNotEqual(rc, 0)
                self.assertFalse(js["ok"])
                self.assertTrue(c_failed, "the C client names no failed check")
                self.assertEqual(self.failed(js), c_failed)


if __name__ == "__main__":
    unittest.main()
