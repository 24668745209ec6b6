"""Enclave-made Ed25519 API keys (docs/PROTOCOL.md "Enclave-made API keys",
docs/CLIENT.md), end to end through the real HTTP path: perfagg keygen (the
quote checked by the client, binding the returned public key) -> the public
key registered at the simulator as a trader registers it at Binance -> perfagg
submit --enclave-key -> request_aggregates signed with the sealed key ->
key_origin "enclave" -> perfagg verify. Then the failure paths: unknown,
expired and reused key ids, revoke, an enclave restart, bad input and the
rate limit."""
import json
import os
import re
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NOW = int(time.time() * 1000)
DAY = 86_400_000
FROM = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW - 10 * DAY) / 1000))
TO = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW - 60_000) / 1000))


class KeygenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.acct = harness.account(
            trades=harness.make_trades("BTCUSDT", 30, NOW - 5 * DAY, 3_600_000, 30000.0, 7),
            uid=424242,
            # a USD-M wallet too: a key the enclave made serves either account type
            futures={"assets": {"USDT": "1000"}, "trades": [
                {"symbol": "BTCUSDT", "id": 7001, "orderId": 8001, "side": "BUY",
                 "price": "30000", "qty": "0.01", "quoteQty": "300", "realizedPnl": "0",
                 "commission": "0.12", "commissionAsset": "USDT", "time": NOW - 2 * DAY},
                {"symbol": "BTCUSDT", "id": 7002, "orderId": 8002, "side": "SELL",
                 "price": "31000", "qty": "0.01", "quoteQty": "310", "realizedPnl": "10",
                 "commission": "0.124", "commissionAsset": "USDT", "time": NOW - DAY}],
                "income": [
                {"symbol": "BTCUSDT", "incomeType": "COMMISSION", "income": "-0.12",
                 "asset": "USDT", "time": NOW - 2 * DAY, "tranId": 9001, "tradeId": "7001"},
                {"symbol": "BTCUSDT", "incomeType": "COMMISSION", "income": "-0.124",
                 "asset": "USDT", "time": NOW - DAY, "tranId": 9002, "tradeId": "7002"},
                {"symbol": "BTCUSDT", "incomeType": "REALIZED_PNL", "income": "10",
                 "asset": "USDT", "time": NOW - DAY, "tranId": 9003, "tradeId": "7002"}]})
        # a slow sweeper, so an expired key is still there to be refused as expired
        cls.stack = harness.Stack({"accounts": [cls.acct]},
                                  server_env={"CLEANUP_INTERVAL_SECONDS": "3600"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    # -- steps, as a trader runs them ------------------------------------------
    def keygen(self):
        """perfagg keygen: (key_id, public key PEM, stdout)."""
        s = self.stack
        pem_path = os.path.join(s.tmp, "pub-%d.pem" % time.monotonic_ns())
        r = s.cli("keygen", "--exchange", "binance", "--dev-root", s.dev_root, "--out", pem_path)
        for check in ("response_format", "attestation", "attestation_nonce",
                      "attestation_public_key", "attestation_key_binding", "public_key_pem"):
            self.assertRegex(r.stdout, r"(?m)^  ok +%s " % check)
        self.assertIn("perfagg/v1/keygen", r.stdout)
        key_id = re.search(r"(?m)^key_id +([0-9a-f-]{36})$", r.stdout).group(1)
        with open(pem_path) as f:
            pem = f.read()
        self.assertTrue(pem.startswith("-----BEGIN PUBLIC KEY-----\n"), pem)
        self.assertIn(pem, r.stdout)
        return key_id, pem, r.stdout

    def register(self, pem):
        """What the trader does at Binance: paste the public key, read-only; get an API key."""
        return self.stack.sim_control("POST", "/__sim/api_keys", {
            "account": self.acct["api_key"], "ed25519_public_key": pem})["api_key"]

    def submit(self, api_key, key_id, check=True):
        s = self.stack
        return s.cli("submit", "--exchange", "binance", "--label", "enclave-made", "--ttl", "3600",
                     "--api-key-file", s.write_secret("kg-key", api_key), "--enclave-key", key_id,
                     "--no-account-salt", "--dev-root", s.dev_root, check=check)

    def seal_body(self, api_key, key_id):
        s = self.stack
        r = s.cli("seal", "--exchange", "binance", "--label", "enclave-made",
                  "--api-key-file", s.write_secret("kg-key", api_key), "--enclave-key", key_id,
                  "--no-account-salt", "--dev-root", s.dev_root)
        return json.loads(r.stdout)

    def aggregates(self, sid):
        s = self.stack
        out = os.path.join(s.tmp, "bundle-%s.json" % sid)
        s.cli("aggregates", sid, "--from", FROM, "--to", TO, "--out", out)
        verify = s.cli("verify", out, "--dev-root", s.dev_root).stdout
        with open(out) as f:
            return json.load(f)["response"]["aggregates_signed"]["payload"], verify

    def key_row(self, key_id):
        return self.stack.sql("SELECT coalesce(session_id::text, '-') FROM enclave_keys"
                              " WHERE key_id = '%s'" % key_id).strip()

    # -- the flow ---------------------------------------------------------------
    def test_full_flow_signed_with_the_enclave_key(self):
        s = self.stack
        key_id, pem, out = self.keygen()
        self.assertEqual(self.key_row(key_id), "-")  # stored, unclaimed
        api_key = self.register(pem)
        self.assertNotEqual(api_key, self.acct["api_key"])
        sid = self.submit(api_key, key_id).stdout.strip()
        self.assertRegex(sid, r"^[0-9a-f-]{36}$")
        self.assertEqual(self.key_row(key_id), sid)  # claimed by this session

        p, verify = self.aggregates(sid)
        self.assertEqual(p["key_origin"], "enclave")
        self.assertTrue(p["key_permissions"]["read"])
        self.assertFalse(p["key_permissions"]["withdraw"])
        self.assertIn("VERIFIED", verify)
        self.assertNotIn("NOT VERIFIED", verify)
        self.assertRegex(verify, r"key origin +enclave: the API key's private key was made in "
                                 r"the enclave and never left it")

        # the same account through its HMAC key: the same numbers, key_origin "client"
        sid2 = s.submit(self.acct["api_key"], self.acct["api_secret"])
        s.cli("aggregates", sid2, "--from", FROM, "--to", TO, "--out",
              os.path.join(s.tmp, "hmac.json"))
        with open(os.path.join(s.tmp, "hmac.json")) as f:
            q = json.load(f)["response"]["aggregates_signed"]["payload"]
        self.assertEqual(q["key_origin"], "client")
        self.assertEqual(p["trades"], 30)
        for k in ("pnl", "volume", "trades", "sharpe", "from", "to"):
            self.assertEqual(p[k], q[k], k)

        # the simulator checked an Ed25519 signature on every signed call of the run
        with open(os.path.join(s.tmp, "sim.log")) as f:
            self.assertIn("/api/v3/myTrades", f.read())
        # no private key anywhere on the host side: database, logs
        self.assertNotIn(b"PRIVATE KEY", s.pg_dump())
        self.assertNotIn(b"PRIVATE KEY", s.logs())

    def test_usdm_signed_with_the_enclave_key(self):
        # The same enclave-made key signs the USD-M endpoints (/fapi/...): a
        # signed usdm result with key_origin "enclave" and the exchange's
        # numbers (realized 10, fees 0.244).
        s = self.stack
        key_id, pem, _ = self.keygen()
        api_key = self.register(pem)
        sid = s.cli("submit", "--exchange", "binance", "--label", "enclave-usdm", "--ttl", "3600",
                    "--api-key-file", s.write_secret("kg-key", api_key), "--enclave-key", key_id,
                    "--account-type", "usdm", "--no-account-salt",
                    "--dev-root", s.dev_root).stdout.strip()
        p, verify = self.aggregates(sid)
        self.assertEqual((p["key_origin"], p["scope"]["account_type"]), ("enclave", "usdm"))
        self.assertEqual(p["trades"], 2)
        self.assertEqual((p["realized_pnl"], p["fees"]), (10, 0.244))
        self.assertIn("VERIFIED", verify)
        self.assertNotIn("NOT VERIFIED", verify)

    # -- failure paths --------------------------------------------------------------
    def test_unknown_key_id(self):
        body = self.seal_body(self.acct["api_key"], str(uuid.uuid4()))
        st, _, b = self.stack.request("POST", "/enclave/submit_key", body)
        self.assertEqual((st, b["error"]), (404, "enclave_key_not_found"), b)
        self.assertEqual(self.stack.sql("SELECT count(*) FROM used_envelopes WHERE"
                                        " ephemeral_pub = '%s'" % body["ephemeral_pub"]).strip(),
                         "0")

    def test_expired_key_id(self):
        key_id, pem, _ = self.keygen()
        api_key = self.register(pem)
        self.stack.sql("UPDATE enclave_keys SET expires_at = now() - interval '1 second'"
                       " WHERE key_id = '%s'" % key_id)
        st, _, b = self.stack.request("POST", "/enclave/submit_key",
                                      self.seal_body(api_key, key_id))
        self.assertEqual((st, b["error"]), (410, "enclave_key_expired"), b)

    def test_reuse_refused_and_revoke_deletes_the_key(self):
        s = self.stack
        key_id, pem, _ = self.keygen()
        api_key = self.register(pem)
        sid = self.submit(api_key, key_id).stdout.strip()
        # a second session may not use it (one key, one session)
        st, _, b = s.request("POST", "/enclave/submit_key", self.seal_body(api_key, key_id))
        self.assertEqual((st, b["error"]), (409, "enclave_key_used"), b)
        r = self.submit(api_key, key_id, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("enclave_key_used", r.stderr)
        # the first still works
        p, _ = self.aggregates(sid)
        self.assertEqual(p["key_origin"], "enclave")
        # revoke: the sealed key is deleted with the session's credentials
        st, _, b = s.request("POST", "/enclave/revoke", {"session_id": sid})
        self.assertEqual(st, 200, b)
        self.assertEqual(self.key_row(key_id), "")
        st, _, b = s.request("POST", "/enclave/submit_key", self.seal_body(api_key, key_id))
        self.assertEqual((st, b["error"]), (404, "enclave_key_not_found"), b)

    def test_bad_requests(self):
        s = self.stack
        for body, status, code in (
                ({"exchange": "kraken"}, 400, "unsupported_exchange"),
                ({}, 400, "unsupported_exchange"),
                ({"exchange": "binance", "x": 1}, 400, "invalid_request"),
                ({"exchange": "binance", "nonce": "not base64!"}, 400, "invalid_nonce"),
                ({"exchange": "binance", "nonce": "A" * 200}, 400, "invalid_nonce"),
                ({"exchange": "binance", "nonce": 5}, 400, "invalid_nonce")):
            before = s.sql("SELECT count(*) FROM enclave_keys").strip()
            st, _, b = s.request("POST", "/enclave/keygen", body)
            self.assertEqual((st, b["error"]), (status, code), (body, b))
            self.assertEqual(s.sql("SELECT count(*) FROM enclave_keys").strip(), before)
        st, h, b = s.request("GET", "/enclave/keygen")
        self.assertEqual(st, 405)
        # a good one: the answer carries no sealed key
        st, _, b = s.request("POST", "/enclave/keygen", {"exchange": "binance", "nonce": None})
        self.assertEqual(st, 200, b)
        self.assertEqual(set(b), {"key_id", "exchange", "public_key", "public_key_pem",
                                  "attestation", "expires_at"})
        self.assertNotIn("sealed_key", b)  # the sealed half stays with the host

    # restarts last (unittest runs tests in name order): they change the stack
    def test_z1_enclave_restart_loses_the_key(self):
        s = self.stack
        key_id, pem, _ = self.keygen()
        api_key = self.register(pem)
        sid = self.submit(api_key, key_id).stdout.strip()
        key2, pem2, _ = self.keygen()
        api_key2 = self.register(pem2)
        s.stop_enclave()
        s.start_enclave()
        # a session made with an enclave-made key: gone like any other
        st, _, b = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual((st, b["error"]), (410, "enclave_key_lost"), b)
        # a key made before the restart, submitted after (to the new instance): lost too
        st, _, b = s.request("POST", "/enclave/submit_key", self.seal_body(api_key2, key2))
        self.assertEqual((st, b["error"]), (410, "enclave_key_lost"), b)
        self.assertEqual(self.key_row(key2), "-")  # nothing claimed
        # a fresh key works with the new instance
        key3, pem3, _ = self.keygen()
        sid3 = self.submit(self.register(pem3), key3).stdout.strip()
        p, verify = self.aggregates(sid3)
        self.assertEqual(p["key_origin"], "enclave")
        self.assertIn("VERIFIED", verify)

    def test_z2_rate_limited_and_swept(self):
        s = self.stack
        key_id, _, _ = self.keygen()
        s.stop_server()
        s.server_env.update({"RATE_LIMIT_MAX": "2", "CLEANUP_INTERVAL_SECONDS": "1"})
        s.start_server()
        try:
            # the sweeper removes keys past their expiry
            s.sql("UPDATE enclave_keys SET expires_at = now() - interval '1 second'"
                  " WHERE key_id = '%s'" % key_id)
            harness.wait_for(lambda: self.key_row(key_id) == "", timeout=15,
                             what="the sweeper to remove the expired key")
            # keygen costs an enclave key and signature: it counts against the limit
            codes = [s.request("POST", "/enclave/keygen", {"exchange": "binance"})[0]
                     for _ in range(3)]
            self.assertEqual(codes, [200, 200, 429])
        finally:
            s.stop_server()
            s.server_env.update({"RATE_LIMIT_MAX": "100000", "CLEANUP_INTERVAL_SECONDS": "3600"})
            s.start_server()


if __name__ == "__main__":
    unittest.main()
