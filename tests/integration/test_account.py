"""Whose account, and which key (docs/PROTOCOL.md "Whose account", docs/BINANCE.md
"Account and key"), through the real HTTP path: CLI -> server -> enclave ->
relay -> simulator process. account_id is recomputed here with Python's hmac,
independently of the C code."""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import reference  # noqa: E402

NOW = int(time.time() * 1000)
DAY = 86_400_000
UID = 354937868


def trades():
    return harness.make_trades("BTCUSDT", 30, NOW - 5 * DAY, 3_600_000, 30000.0, 3)


def ed25519_pair():
    """A fresh Ed25519 key pair from the openssl CLI: (private PEM, public PEM)."""
    with tempfile.TemporaryDirectory() as d:
        key = os.path.join(d, "k.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                       check=True, capture_output=True)
        pub = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"], check=True,
                             capture_output=True, text=True).stdout
        with open(key) as f:
            return f.read(), pub


def expected_account_id(salt, uid):
    return reference.account_id(salt, uid)


class AccountTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A futures account too (empty): the usdm test below uses the same key.
        cls.ro = harness.account(trades=trades(), uid=UID,
                                 futures={"assets": {"USDT": "10"}, "trades": [], "income": []})
        cls.fut_trade = harness.account(
            uid=UID + 2, futures={"assets": {"USDT": "10"}, "trades": [], "income": []},
            api_restrictions={"enableReading": True, "enableFutures": True})
        cls.withdraw = harness.account(trades=trades(), api_restrictions={
            "enableReading": True, "enableWithdrawals": True, "ipRestrict": True})
        cls.ed_priv, ed_pub = ed25519_pair()
        cls.ed = harness.account(trades=trades(), uid=UID + 1)
        del cls.ed["api_secret"]
        cls.ed["ed25519_public_key"] = ed_pub
        cls.stack = harness.Stack({"accounts": [cls.ro, cls.withdraw, cls.ed, cls.fut_trade]})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def submit_cli(self, key, secret, *extra):
        s = self.stack
        r = s.cli("submit", "--exchange", "binance", "--label", "main", "--ttl", "3600",
                  "--api-key-file", s.write_secret("key", key),
                  "--api-secret-file", s.write_secret("secret", secret),
                  "--dev-root", s.dev_root, *extra)
        sid = r.stdout.strip()
        self.assertRegex(sid, r"^[0-9a-f-]{36}$")
        m = re.search(r"^account_salt=(\S+)$", r.stderr, re.M)
        return sid, (base64.b64decode(m.group(1), validate=True) if m else None)

    def aggregates(self, sid):
        s = self.stack
        out = os.path.join(s.tmp, "bundle-%s.json" % sid)
        s.cli("aggregates", sid, "--out", out)
        with open(out) as f:
            bundle = json.load(f)
        self.verify_out = s.cli("verify", out, "--dev-root", s.dev_root).stdout
        return bundle["response"]["aggregates_signed"]["payload"]

    def stored(self):
        return int(self.stack.sql("SELECT count(*) FROM aggregates").strip())

    def test_account_id_and_disclosed_uid(self):
        sid, salt = self.submit_cli(self.ro["api_key"], self.ro["api_secret"], "--disclose-uid")
        self.assertIsNotNone(salt)
        self.assertEqual(len(salt), 32)
        p = self.aggregates(sid)
        self.assertEqual(p["account_id"], expected_account_id(salt, UID))
        self.assertEqual(p["account_uid"], str(UID))
        self.assertEqual(p["key_permissions"], {
            "read": True, "spot_trade": False, "margin": False, "futures": False,
            "withdraw": False, "internal_transfer": False, "universal_transfer": False,
            "ip_restricted": False})
        # the verifier's helper recomputes it from the salt the trader disclosed
        r = self.stack.cli("account-id", "--account-salt", base64.b64encode(salt).decode(),
                           "--uid", str(UID))
        self.assertEqual(r.stdout.strip(), p["account_id"])
        # and `perfagg verify` shows both next to the numbers
        self.assertRegex(self.verify_out, r"account_id +%s \(uid %d\)" % (p["account_id"], UID))
        self.assertRegex(self.verify_out, r"key rights +read\n")

    def test_same_salt_same_account_id_uid_withheld(self):
        salt = os.urandom(32)
        b64 = base64.b64encode(salt).decode()
        ids = []
        for _ in range(2):
            sid, echoed = self.submit_cli(self.ro["api_key"], self.ro["api_secret"],
                                          "--account-salt", b64)
            self.assertEqual(echoed, salt)
            p = self.aggregates(sid)
            self.assertIsNone(p["account_uid"])
            ids.append(p["account_id"])
        self.assertEqual(ids, [expected_account_id(salt, UID)] * 2)

    def test_no_salt_no_account_id(self):
        sid, salt = self.submit_cli(self.ro["api_key"], self.ro["api_secret"], "--no-account-salt")
        self.assertIsNone(salt)
        p = self.aggregates(sid)
        self.assertIsNone(p["account_id"])
        self.assertIsNone(p["account_uid"])
        self.assertTrue(p["key_permissions"]["read"])
        self.assertRegex(self.verify_out, r"account_id +none: nothing ties this result")

    def test_withdraw_key_refused_nothing_stored(self):
        s = self.stack
        sid, _ = self.submit_cli(self.withdraw["api_key"], self.withdraw["api_secret"])
        before = self.stored()
        with open(os.path.join(s.tmp, "sim.log")) as f:
            trades_calls = f.read().count("/api/v3/myTrades")
        st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual((st, body["error"]), (422, "key_not_read_only"), body)
        self.assertIn("withdraw", body["message"])
        self.assertEqual(self.stored(), before)
        with open(os.path.join(s.tmp, "sim.log")) as f:
            self.assertEqual(f.read().count("/api/v3/myTrades"), trades_calls)
        # the session stays usable: once the key is read-only, the same session signs
        s.sim_control("POST", "/__sim/account", {"api_key": self.withdraw["api_key"],
                                                  "api_restrictions": {"enableWithdrawals": False}})
        st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual(st, 200, body)
        self.assertEqual(self.stored(), before + 1)

    def test_usdm_key_check_and_account_id(self):
        """apiRestrictions covers usdm runs too: a key that can trade futures
        is refused before any /fapi/ call; a read-only key's usdm result
        carries the same account_id as its spot one (the uid is account-wide)."""
        s = self.stack
        sid, _ = self.submit_cli(self.fut_trade["api_key"], self.fut_trade["api_secret"],
                                 "--account-type", "usdm")
        before = self.stored()
        with open(os.path.join(s.tmp, "sim.log")) as f:
            fapi_calls = f.read().count("/fapi/")
        st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual((st, body["error"]), (422, "key_not_read_only"), body)
        self.assertIn("futures", body["message"])
        self.assertEqual(self.stored(), before)
        with open(os.path.join(s.tmp, "sim.log")) as f:
            self.assertEqual(f.read().count("/fapi/"), fapi_calls)
        salt = os.urandom(32)
        b64 = base64.b64encode(salt).decode()
        sid, _ = self.submit_cli(self.ro["api_key"], self.ro["api_secret"], "--account-salt", b64,
                                 "--disclose-uid", "--account-type", "usdm")
        p = self.aggregates(sid)
        self.assertEqual(p["scope"]["account_type"], "usdm")
        self.assertEqual(p["account_id"], expected_account_id(salt, UID))
        self.assertEqual(p["account_uid"], str(UID))
        self.assertTrue(p["key_permissions"]["read"])
        self.assertFalse(p["key_permissions"]["futures"])

    def test_ed25519_key_signs(self):
        sid, salt = self.submit_cli(self.ed["api_key"], self.ed_priv, "--disclose-uid")
        p = self.aggregates(sid)
        self.assertEqual(p["trades"], 30)
        self.assertEqual(p["account_uid"], str(UID + 1))
        self.assertEqual(p["account_id"], expected_account_id(salt, UID + 1))
        # nothing of the private key anywhere the host keeps
        self.assertNotIn(self.ed_priv.splitlines()[1].encode(), self.stack.logs())

    def test_ed25519_wrong_key_rejected(self):
        other, _ = ed25519_pair()
        sid, _ = self.submit_cli(self.ed["api_key"], other)
        before = self.stored()
        st, _, body = self.stack.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual((st, body["error"]), (422, "exchange_rejected_key"), body)
        self.assertEqual(self.stored(), before)


if __name__ == "__main__":
    unittest.main()
