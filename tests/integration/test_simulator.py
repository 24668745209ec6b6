"""tools/binance_sim.py on its own: the simulator must refuse what Binance
refuses (bad HMAC and Ed25519 signatures, bad keys, stale timestamps, long
windows) and misbehave exactly when told to (weights, 429 then 418, 451, 5xx
bursts, delays, dropped connections, a page that fails for good), because every
failure-path test of the connector trusts it."""
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
from decimal import Decimal
from fractions import Fraction

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import simctl  # noqa: E402
import returns_ref  # noqa: E402

NOW = int(time.time() * 1000)
DAY = 86_400_000
HOUR = 3_600_000


def spot_trades(symbol, n, start, step, first_id=1):
    return [{"symbol": symbol, "id": first_id + i, "orderId": 1000 + i, "price": "100.5",
             "qty": "0.1", "quoteQty": "10.05", "commission": "0.01", "commissionAsset": "USDT",
             "time": start + i * step, "isBuyer": i % 2 == 0, "isMaker": False,
             "isBestMatch": True} for i in range(n)]


def fut_trade(i, t, side, pnl="0", fee="0.02"):
    return {"symbol": "BTCUSDT", "id": 500 + i, "orderId": 900 + i, "side": side,
            "price": "60000.1", "qty": "0.002", "realizedPnl": pnl, "commission": fee,
            "commissionAsset": "USDT", "time": t}


class SimulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="pa-simkeys.")
        cls.ed_priv, ed_pub = simctl.ed25519_keypair(cls.keydir)
        cls.other_priv, _ = simctl.ed25519_keypair(cls.keydir)
        futures = {
            "assets": {"USDT": "1000.5"},
            "trades": [fut_trade(0, NOW - 200 * DAY, "BUY"),           # beyond 6 months
                       fut_trade(1, NOW - 10 * DAY, "BUY"),
                       fut_trade(2, NOW - 9 * DAY, "SELL", pnl="1.5"),
                       fut_trade(3, NOW - 2 * DAY, "BUY"),
                       fut_trade(4, NOW - 1 * DAY, "SELL", pnl="-0.25")],
            "funding": [{"symbol": "BTCUSDT", "income": "-0.031", "time": NOW - 3 * DAY}],
        }
        cls.doc = {
            "accounts": [
                {"api_key": "hmackey", "api_secret": "hmacsecret", "uid": 354937868,
                 "permissions": ["SPOT", "MARGIN"],
                 "balances": {"BTC": "0.5", "SOL": "0", "USDT": "10"},
                 "trades": spot_trades("BTCUSDT", 2500, NOW - 5 * DAY, 60_000)
                 + spot_trades("SOLUSDT", 3, NOW - 3 * DAY, 1000)
                 + spot_trades("ETHUSDT", 2100, NOW - 4 * DAY, 60_000)
                 + spot_trades("PEPEFDUSD", 2, NOW - DAY, 1000),
                 "futures": futures},
                {"api_key": "edkey", "ed25519_public_key": ed_pub, "balances": {}},
                {"api_key": "withdrawkey", "api_secret": "w",
                 "api_restrictions": {"ipRestrict": True, "enableWithdrawals": True,
                                      "enableSpotAndMarginTrading": True}},
                {"api_key": "elsewhere", "api_secret": "e",
                 "api_restrictions": {"ipRestrict": True}, "ip_allow": ["203.0.113.9"]},
            ],
            "prices": {"BNBUSDT": "612.5",
                       "ETHBTC": {"points": [[NOW - 30 * DAY, "0.05"], [NOW - DAY, "0.06"]]}},
        }
        cls.sim = simctl.Sim(cls.doc)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        shutil.rmtree(cls.keydir, ignore_errors=True)

    def setUp(self):
        self.sim.reset()

    def hmac_get(self, path, params=None, **kw):
        return self.sim.signed(path, "hmackey", params, secret="hmacsecret", **kw)

    def assertError(self, res, status, code):
        st, _, body = res
        self.assertEqual((st, body.get("code") if isinstance(body, dict) else body),
                         (status, code), body)

    # --- signatures and keys ----------------------------------------------------

    def test_hmac_signature(self):
        st, _, acct = self.hmac_get("/api/v3/account")
        self.assertEqual(st, 200, acct)
        self.assertEqual(acct["uid"], 354937868)
        self.assertEqual(acct["permissions"], ["SPOT", "MARGIN"])
        # HMAC signatures are case-insensitive at Binance
        st, _, _ = self.hmac_get("/api/v3/account", tamper=lambda q, s: s.upper())
        self.assertEqual(st, 200)
        flip = lambda q, s: ("0" if s[0] != "0" else "1") + s[1:]  # noqa: E731
        self.assertError(self.hmac_get("/api/v3/account", tamper=flip), 400, -1022)
        self.assertError(self.sim.signed("/api/v3/account", "hmackey", secret="wrong"), 400, -1022)
        # a signature over other parameters than those sent
        other = lambda q, s: hmac.new(b"hmacsecret", q.replace("true", "false").encode(),  # noqa: E731
                                      hashlib.sha256).hexdigest()
        self.assertError(self.hmac_get("/api/v3/account", {"omitZeroBalances": "true"},
                                       tamper=other), 400, -1022)

    def test_ed25519_signature(self):
        st, _, acct = self.sim.signed("/api/v3/account", "edkey", ed25519_key=self.ed_priv)
        self.assertEqual(st, 200, acct)
        self.assertIsInstance(acct["uid"], int)
        st, _, r = self.sim.signed("/sapi/v1/account/apiRestrictions", "edkey",
                                   ed25519_key=self.ed_priv)
        self.assertEqual(st, 200, r)
        # another key's signature, a case change (Ed25519 signatures are
        # case-sensitive), a truncated signature, an HMAC hex string
        self.assertError(self.sim.signed("/api/v3/account", "edkey", ed25519_key=self.other_priv),
                         400, -1022)
        swap = lambda q, s: s.swapcase()  # noqa: E731
        self.assertError(self.sim.signed("/api/v3/account", "edkey", ed25519_key=self.ed_priv,
                                         tamper=swap), 400, -1022)
        self.assertError(self.sim.signed("/api/v3/account", "edkey", ed25519_key=self.ed_priv,
                                         tamper=lambda q, s: s[:40]), 400, -1022)
        self.assertError(self.sim.signed("/api/v3/account", "edkey", secret="edkey"), 400, -1022)
        # a base64 signature sent without percent-encoding: '+' arrives as a space
        q = "timestamp=%d" % int(time.time() * 1000)
        sig = simctl.ed25519_sign(self.ed_priv, q.encode())
        for _ in range(20):  # find a signature with '+' or '/' to send raw
            if "+" in sig:
                break
            q = "timestamp=%d" % (int(time.time() * 1000) + _)
            sig = simctl.ed25519_sign(self.ed_priv, q.encode())
        self.assertIn("+", sig)
        st, _, body = self.sim.request("GET", "/api/v3/account", q + "&signature=" + sig,
                                       headers={"X-MBX-APIKEY": "edkey"})
        self.assertEqual((st, body["code"]), (400, -1022))

    def test_key_errors(self):
        self.assertError(self.sim.signed("/api/v3/account", "nobody", secret="x"), 401, -2015)
        self.assertError(self.sim.request("GET", "/api/v3/account", "timestamp=1&signature=00"),
                         401, -2014)
        self.assertError(self.sim.signed("/api/v3/account", "bad key", secret="x"), 401, -2014)
        # enableReading off: every USER_DATA call is refused
        self.sim.patch_account({"api_key": "hmackey", "api_restrictions": {"enableReading": False}})
        self.assertError(self.hmac_get("/api/v3/account"), 401, -2015)
        # an IP-restricted key called from elsewhere
        self.assertError(self.sim.signed("/api/v3/account", "elsewhere", secret="e"), 401, -2015)

    def test_timestamp_window(self):
        now = int(time.time() * 1000)
        self.assertError(self.hmac_get("/api/v3/account", timestamp=now - 10_000), 400, -1021)
        st, _, body = self.hmac_get("/api/v3/account", timestamp=now + 5_000)
        self.assertEqual((st, body["code"]), (400, -1021))
        self.assertIn("ahead", body["msg"])
        self.assertEqual(self.hmac_get("/api/v3/account", {"recvWindow": "30000"},
                                       timestamp=now - 10_000)[0], 200)
        self.assertError(self.hmac_get("/api/v3/account", {"recvWindow": "60001"}), 400, -1131)

    def test_clock_skew_knob(self):
        self.sim.faults({"clock_skew_ms": -3_600_000})
        st, _, t = self.sim.get("/api/v3/time")
        self.assertLess(abs(t["serverTime"] + 3_600_000 - int(time.time() * 1000)), 5_000)
        self.assertError(self.hmac_get("/api/v3/account"), 400, -1021)
        self.assertError(self.hmac_get("/fapi/v1/userTrades", {"symbol": "BTCUSDT"}), 400, -1021)
        # a client that resyncs from /api/v3/time gets through
        self.assertEqual(self.hmac_get("/api/v3/account", timestamp=t["serverTime"])[0], 200)

    # --- weights, 429, 418, 451 -------------------------------------------------

    def wait_clear_of_window_end(self, window_ms):
        left = window_ms - int(time.time() * 1000) % window_ms
        if left < 5000:
            time.sleep(left / 1000 + 0.1)

    def test_weights_then_429_then_418(self):
        win = 600_000
        self.sim.faults({"limits": {"api": 50, "window_ms": win, "ban_after": 2,
                                    "ban_seconds": 4}})
        self.wait_clear_of_window_end(win)
        st, h, _ = self.sim.get("/api/v3/ping")
        self.assertEqual((st, h["X-MBX-USED-WEIGHT-1M"]), (200, "1"))
        st, h, _ = self.sim.get("/api/v3/exchangeInfo")
        self.assertEqual((st, h["X-MBX-USED-WEIGHT-1M"]), (200, "21"))
        st, h, _ = self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": "1000"})
        self.assertEqual((st, h["X-MBX-USED-WEIGHT-1M"]), (200, "26"))  # 5 with orderId
        st, h, _ = self.hmac_get("/api/v3/account")
        self.assertEqual((st, h["X-MBX-USED-WEIGHT-1M"]), (200, "46"))
        st, h, body = self.sim.get("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1h"})
        self.assertEqual((st, h["X-MBX-USED-WEIGHT-1M"]), (200, "48"))
        # over the budget: 429, Retry-After until the window ends
        st, h, body = self.sim.get("/api/v3/exchangeInfo")
        self.assertEqual((st, body["code"]), (429, -1003), body)
        self.assertGreaterEqual(int(h["Retry-After"]), 1)
        self.assertLessEqual(int(h["Retry-After"]), win // 1000)
        # other limiters are separate budgets
        st, h, _ = self.hmac_get("/sapi/v1/account/apiRestrictions")
        self.assertEqual((st, h["X-SAPI-USED-IP-WEIGHT-1M"]), (200, "1"))
        st, h, _ = self.hmac_get("/fapi/v1/income")
        self.assertEqual((st, h["X-MBX-USED-WEIGHT-1M"]), (200, "30"))
        # calling on before Retry-After: once more 429, then the ban
        self.assertEqual(self.sim.get("/api/v3/ping")[0], 429)
        st, h, body = self.sim.get("/api/v3/ping")
        self.assertEqual((st, body["code"]), (418, -1003), body)
        self.assertIn("banned until", body["msg"])
        self.assertEqual(h["Retry-After"], "4")
        self.assertEqual(self.hmac_get("/api/v3/account")[0], 418)
        # the ban ends; the window's weight is still spent, so 429 (not 418)
        time.sleep(4.2)
        st, h, _ = self.sim.get("/api/v3/ping")
        self.assertEqual(st, 429)
        stats = self.sim.stats()
        # The log's pings: served ones (one here; a loaded machine once showed a
        # second served ping before the first weight check), then 429, 418, 429.
        pings = [r["status"] for r in stats["requests"] if r["path"] == "/api/v3/ping"]
        self.assertEqual(pings[-3:], [429, 418, 429])
        self.assertTrue(pings[:-3] and set(pings[:-3]) == {200}, pings)

    def test_weight_window_resets(self):
        self.sim.faults({"limits": {"api": 20, "window_ms": 3000}})
        left = 3000 - int(time.time() * 1000) % 3000
        if left < 2000:  # both calls below fall in one window, even on a loaded machine
            time.sleep(left / 1000 + 0.05)
        self.assertEqual(self.sim.get("/api/v3/exchangeInfo")[0], 200)
        st, h, _ = self.sim.get("/api/v3/ping")
        self.assertEqual(st, 429)
        time.sleep(int(h["Retry-After"]) + 0.05)
        st, h, _ = self.sim.get("/api/v3/ping")
        self.assertEqual((st, h["X-MBX-USED-WEIGHT-1M"]), (200, "1"))

    def test_http451(self):
        self.sim.faults({"http451": True})
        for res in (self.sim.get("/api/v3/ping"), self.hmac_get("/api/v3/account"),
                    self.hmac_get("/fapi/v1/income")):
            st, h, body = res
            self.assertEqual(st, 451)
            self.assertIn("restricted location", body["msg"])
            self.assertNotIn("X-MBX-USED-WEIGHT-1M", h)
        self.sim.faults({"http451": False})
        self.assertEqual(self.sim.get("/api/v3/ping")[0], 200)

    # --- fault rules --------------------------------------------------------------

    def test_5xx_burst(self):
        self.sim.faults({"rules": [{"path": "/api/v3/myTrades", "status": 503, "count": 2}]})
        q = {"symbol": "BTCUSDT", "fromId": "1", "limit": "10"}
        self.assertError(self.hmac_get("/api/v3/myTrades", q), 503, -1008)
        self.assertError(self.hmac_get("/api/v3/myTrades", q), 503, -1008)
        st, _, rows = self.hmac_get("/api/v3/myTrades", q)
        self.assertEqual((st, [r["id"] for r in rows]), (200, list(range(1, 11))))
        self.assertEqual(self.hmac_get("/api/v3/account")[0], 200)  # other paths untouched

    def test_delay_and_dropped_connection(self):
        self.sim.faults({"rules": [{"path": "/api/v3/account", "delay_ms": 1500, "count": 1},
                                   {"path": "/api/v3/myTrades", "close": True, "count": 1}]})
        with self.assertRaises((socket.timeout, TimeoutError, urllib.error.URLError)):
            self.hmac_get("/api/v3/account", timeout=0.5)
        self.assertEqual(self.hmac_get("/api/v3/account")[0], 200)
        with self.assertRaises((ConnectionError, urllib.error.URLError,
                                http.client.RemoteDisconnected)):
            self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT"})
        self.assertEqual(self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT"})[0], 200)

    def test_page_that_fails_for_good(self):
        self.sim.faults({"rules": [{"path": "/api/v3/myTrades", "params": {"symbol": "ETHUSDT"},
                                    "skip": 1, "status": 500}]})
        st, _, rows = self.hmac_get("/api/v3/myTrades", {"symbol": "ETHUSDT", "fromId": "1",
                                                         "limit": "1000"})
        self.assertEqual((st, len(rows)), (200, 1000))
        for _ in range(3):  # the second page never comes
            self.assertError(self.hmac_get("/api/v3/myTrades",
                                           {"symbol": "ETHUSDT", "fromId": "1001",
                                            "limit": "1000"}), 500, -1000)
        self.assertEqual(self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT"})[0], 200)

    def test_control_needs_token(self):
        for hdrs in ({}, {"X-Sim-Control": "not-the-token"}):
            st, _, _ = self.sim.request("GET", "/__sim/stats", headers=hdrs)
            self.assertEqual(st, 404)
            st, _, _ = self.sim.request("POST", "/__sim/faults", headers=hdrs,
                                        body={"http451": True})
            self.assertEqual(st, 404)
        self.assertEqual(self.sim.get("/api/v3/ping")[0], 200)
        with self.assertRaises(RuntimeError):  # a bad document is refused, not half-applied
            self.sim.faults({"rules": [{"path": "/x"}]})

    # --- windows and paging -------------------------------------------------------

    def test_my_trades_windows_and_paging(self):
        t0 = NOW - 5 * DAY
        self.assertError(self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT", "startTime": t0,
                                                            "endTime": t0 + DAY + 1}), 400, -1127)
        self.assertError(self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT", "fromId": 5,
                                                            "startTime": t0}), 400, -1128)
        self.assertError(self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT", "limit": 1001}),
                         400, -1130)
        self.assertError(self.hmac_get("/api/v3/myTrades", {"symbol": "NOPEUSDT"}), 400, -1121)
        ids, from_id = [], 0
        while True:
            st, _, rows = self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT",
                                                             "fromId": from_id, "limit": 1000})
            self.assertEqual(st, 200, rows)
            ids += [r["id"] for r in rows]
            if len(rows) < 1000:
                break
            from_id = rows[-1]["id"] + 1
        self.assertEqual(ids, list(range(1, 2501)))
        # a 24 h window: exactly the trades inside it
        st, _, rows = self.hmac_get("/api/v3/myTrades", {"symbol": "BTCUSDT", "startTime": t0,
                                                         "endTime": t0 + 999 * 60_000,
                                                         "limit": 1000})
        self.assertEqual([r["id"] for r in rows], list(range(1, 1001)))

    def test_futures_user_trades(self):
        self.assertError(self.hmac_get("/fapi/v1/userTrades",
                                       {"symbol": "BTCUSDT", "startTime": NOW - 8 * DAY,
                                        "endTime": NOW}), 400, -1127)
        self.assertError(self.hmac_get("/fapi/v1/userTrades",
                                       {"symbol": "BTCUSDT", "fromId": 1, "endTime": NOW}),
                         400, -1128)
        # neither startTime nor endTime: the last 7 days
        st, _, rows = self.hmac_get("/fapi/v1/userTrades", {"symbol": "BTCUSDT"})
        self.assertEqual((st, [r["id"] for r in rows]), (200, [503, 504]))
        self.assertEqual(rows[1]["realizedPnl"], "-0.25")
        self.assertEqual((rows[1]["side"], rows[1]["buyer"], rows[1]["positionSide"]),
                         ("SELL", False, "BOTH"))
        st, _, rows = self.hmac_get("/fapi/v1/userTrades",
                                    {"symbol": "BTCUSDT", "startTime": NOW - 11 * DAY,
                                     "endTime": NOW - 4 * DAY})
        self.assertEqual([r["id"] for r in rows], [501, 502])
        # fromId pages, but never beyond the 6 months Binance keeps
        st, _, rows = self.hmac_get("/fapi/v1/userTrades",
                                    {"symbol": "BTCUSDT", "fromId": 0, "limit": 2})
        self.assertEqual([r["id"] for r in rows], [501, 502])
        st, _, rows = self.hmac_get("/fapi/v1/userTrades",
                                    {"symbol": "BTCUSDT", "fromId": 503, "limit": 2})
        self.assertEqual([r["id"] for r in rows], [503, 504])
        # a key without a futures account
        self.assertError(self.sim.signed("/fapi/v1/userTrades", "edkey", {"symbol": "BTCUSDT"},
                                         ed25519_key=self.ed_priv), 401, -2015)
        st, _, acct = self.hmac_get("/fapi/v2/account")
        self.assertEqual((st, acct["totalWalletBalance"]), (200, "1000.50000000"))
        st, _, info = self.sim.get("/fapi/v1/exchangeInfo")
        self.assertIn("BTCUSDT", [s["symbol"] for s in info["symbols"]])

    def test_futures_income(self):
        st, _, rows = self.hmac_get("/fapi/v1/income", {"startTime": NOW - 30 * DAY})
        self.assertEqual(st, 200, rows)
        got = [(r["incomeType"], r["income"]) for r in rows]
        self.assertEqual(got, [("COMMISSION", "-0.02000000"), ("REALIZED_PNL", "1.50000000"),
                               ("COMMISSION", "-0.02000000"), ("FUNDING_FEE", "-0.031"),
                               ("COMMISSION", "-0.02000000"), ("REALIZED_PNL", "-0.25000000"),
                               ("COMMISSION", "-0.02000000")])
        self.assertEqual(len({r["tranId"] for r in rows}), len(rows))
        # without times: the recent 7 days only
        st, _, rows = self.hmac_get("/fapi/v1/income")
        self.assertEqual(len(rows), 4)
        # types, paging by startTime + limit and by page
        st, _, rows = self.hmac_get("/fapi/v1/income", {"startTime": NOW - 30 * DAY,
                                                        "incomeType": "REALIZED_PNL"})
        self.assertEqual([r["income"] for r in rows], ["1.50000000", "-0.25000000"])
        st, _, p1 = self.hmac_get("/fapi/v1/income", {"startTime": NOW - 30 * DAY, "limit": 3})
        st, _, p2 = self.hmac_get("/fapi/v1/income", {"startTime": p1[-1]["time"] + 1,
                                                      "limit": 3})
        st, _, p2b = self.hmac_get("/fapi/v1/income", {"startTime": NOW - 30 * DAY, "limit": 3,
                                                       "page": 2})
        self.assertEqual([r["tranId"] for r in p1 + p2][:6], [r["tranId"] for r in p1 + p2b])
        self.assertError(self.hmac_get("/fapi/v1/income", {"incomeType": "NOPE"}), 400, -1130)
        self.assertError(self.hmac_get("/fapi/v1/income", {"limit": 1001}), 400, -1130)
        # history older than three months is gone
        st, _, rows = self.hmac_get("/fapi/v1/income", {"startTime": NOW - 300 * DAY,
                                                        "endTime": NOW - 100 * DAY})
        self.assertEqual(rows, [])

    # --- klines, restrictions, exchangeInfo ------------------------------------------

    def test_klines(self):
        start = (NOW - 10 * DAY) // HOUR * HOUR
        st, _, k = self.sim.get("/api/v3/klines", {"symbol": "BNBUSDT", "interval": "1h",
                                                   "startTime": start, "limit": 5})
        self.assertEqual(st, 200, k)
        self.assertEqual([r[0] for r in k], [start + i * HOUR for i in range(5)])
        self.assertEqual({tuple(r[1:5]) for r in k}, {("612.50000000",) * 4})
        self.assertEqual(k[0][6], start + HOUR - 1)
        # startTime inside an hour: the first kline opens at or after it
        st, _, k2 = self.sim.get("/api/v3/klines", {"symbol": "BNBUSDT", "interval": "1h",
                                                    "startTime": start + 1, "limit": 1})
        self.assertEqual(k2[0][0], start + HOUR)
        # a step function of the file's points; 1d klines
        day = (NOW - 3 * DAY) // DAY * DAY
        st, _, d = self.sim.get("/api/v3/klines", {"symbol": "ETHBTC", "interval": "1d",
                                                   "startTime": day, "endTime": day + DAY - 1})
        self.assertEqual(len(d), 1)
        self.assertEqual(d[0][1:5], ["0.05000000"] * 4)
        # deterministic: the same question, the same answer
        q = {"symbol": "BTCUSDT", "interval": "1h", "startTime": start, "limit": 48}
        a, b = self.sim.get("/api/v3/klines", q)[2], self.sim.get("/api/v3/klines", q)[2]
        self.assertEqual(a, b)
        self.assertEqual(len(a), 48)
        self.assertGreater(len({r[4] for r in a}), 1)  # a walk, not a constant
        for r in a:
            self.assertTrue(float(r[3]) <= min(float(r[1]), float(r[4])))
        # the most recent klines without times
        st, _, k = self.sim.get("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1h",
                                                   "limit": 3})
        self.assertEqual(k[-1][0], int(time.time() * 1000) // HOUR * HOUR)
        self.assertError(self.sim.get("/api/v3/klines", {"symbol": "BTCUSDT",
                                                         "interval": "7h"}), 400, -1120)
        self.assertError(self.sim.get("/api/v3/klines", {"symbol": "NOPEUSDT",
                                                         "interval": "1h"}), 400, -1121)

    def test_api_restrictions(self):
        fields = {"ipRestrict", "createTime", "enableReading", "enableWithdrawals",
                  "enableInternalTransfer", "enableMargin", "enableFutures",
                  "permitsUniversalTransfer", "enableVanillaOptions", "enableFixApiTrade",
                  "enableFixReadOnly", "enableSpotAndMarginTrading",
                  "enablePortfolioMarginTrading"}
        st, _, r = self.hmac_get("/sapi/v1/account/apiRestrictions")
        self.assertEqual((st, set(r)), (200, fields))
        self.assertEqual([k for k, v in r.items() if v is True], ["enableReading"])
        st, _, r = self.sim.signed("/sapi/v1/account/apiRestrictions", "withdrawkey", secret="w")
        self.assertEqual(st, 200, r)
        self.assertTrue(r["enableWithdrawals"] and r["ipRestrict"] and r["enableSpotAndMarginTrading"])
        self.assertGreater(r["tradingAuthorityExpirationTime"], NOW)
        # a key that gains the right to move money while the simulator runs
        self.sim.patch_account({"api_key": "hmackey",
                                "api_restrictions": {"permitsUniversalTransfer": True}})
        st, _, r = self.hmac_get("/sapi/v1/account/apiRestrictions")
        self.assertTrue(r["permitsUniversalTransfer"])
        with self.assertRaises(RuntimeError):  # Binance: no withdrawals without an IP restriction
            self.sim.patch_account({"api_key": "hmackey",
                                    "api_restrictions": {"enableWithdrawals": True}})

    def test_exchange_info_lists_everything_traded(self):
        st, _, info = self.sim.get("/api/v3/exchangeInfo")
        syms = {s["symbol"]: s for s in info["symbols"]}
        usdt = [s for s in syms.values() if s["quoteAsset"] == "USDT" and s["status"] == "TRADING"]
        self.assertGreaterEqual(len(usdt), 30)
        self.assertEqual(syms["BUSDUSDT"]["status"], "BREAK")
        # traded, not in the default list: listed anyway
        self.assertEqual((syms["PEPEFDUSD"]["baseAsset"], syms["PEPEFDUSD"]["quoteAsset"]),
                         ("PEPE", "FDUSD"))
        # SOL was sold to zero: its balance is 0 and its trades are still there
        st, _, acct = self.hmac_get("/api/v3/account")
        self.assertIn({"asset": "SOL", "free": "0.00000000", "locked": "0.00000000"},
                      acct["balances"])
        st, _, acct = self.hmac_get("/api/v3/account", {"omitZeroBalances": "true"})
        self.assertNotIn("SOL", [b["asset"] for b in acct["balances"]])
        st, _, rows = self.hmac_get("/api/v3/myTrades", {"symbol": "SOLUSDT"})
        self.assertEqual(len(rows), 3)


T0 = NOW // DAY * DAY  # today's UTC midnight


def d(x):
    return Decimal(str(x))


def q8s(x):
    return format(d(x).quantize(Decimal("0.00000001")), "f")


class WalletHistoryTest(unittest.TestCase):
    """Account snapshots, deposits, withdrawals and transfers (issue 7): the
    balances the snapshots report must be those implied by the account's
    opening balances, flows and fills, valued with the klines' daily closes."""

    @classmethod
    def setUpClass(cls):
        T = T0
        cls.doc = {
            "accounts": [{
                "api_key": "histkey", "api_secret": "histsecret",
                "opening_balances": {"USDT": "1000"},
                "snapshot_missing": [time.strftime("%Y-%m-%d", time.gmtime((T - 7 * DAY) // 1000))],
                "deposits": [
                    {"coin": "USDT", "amount": "10000", "time": T - 20 * DAY + HOUR},
                    {"coin": "BTC", "amount": "0.05", "time": T - 12 * DAY},
                    {"coin": "USDT", "amount": "777", "time": T - 11 * DAY, "status": 0},
                    {"coin": "USDT", "amount": "5", "time": T - 100 * DAY}],
                "withdrawals": [
                    {"coin": "USDT", "amount": "500", "transactionFee": "1",
                     "time": T - 5 * DAY + 2 * HOUR, "withdrawOrderId": "W1"},
                    {"coin": "USDT", "amount": "300", "transactionFee": "1",
                     "time": T - 4 * DAY, "status": 3}],
                "transfers": [{"type": "MAIN_UMFUTURE", "asset": "USDT", "amount": "2000",
                               "time": T - 15 * DAY},
                              {"type": "UMFUTURE_MAIN", "asset": "USDT", "amount": "100",
                               "time": T - 3 * DAY}]
                + [{"type": "MAIN_UMFUTURE", "asset": "USDT", "amount": "1",
                    "time": T - 14 * DAY + i * HOUR} for i in range(12)],
                "trades": [
                    {"symbol": "BTCUSDT", "id": 1, "orderId": 1, "price": "60000", "qty": "0.1",
                     "quoteQty": "6000", "commission": "0.0001", "commissionAsset": "BTC",
                     "time": T - 10 * DAY + 5000, "isBuyer": True},
                    {"symbol": "BTCUSDT", "id": 2, "orderId": 2, "price": "66000", "qty": "0.05",
                     "quoteQty": "3300", "commission": "3.3", "commissionAsset": "USDT",
                     "time": T - 4 * DAY, "isBuyer": False},
                    {"symbol": "ETHBTC", "id": 3, "orderId": 3, "price": "0.05", "qty": "1",
                     "quoteQty": "0.05", "commission": "0.001", "commissionAsset": "ETH",
                     "time": T - 9 * DAY, "isBuyer": True}],
                "futures": {
                    "trades": [
                        {"symbol": "ETHUSDT", "id": 7, "side": "BUY", "price": "3000", "qty": "1",
                         "commission": "1.2", "time": T - 8 * DAY},
                        {"symbol": "ETHUSDT", "id": 8, "side": "SELL", "price": "3200",
                         "qty": "0.4", "realizedPnl": "80", "commission": "0.512",
                         "time": T - 6 * DAY}],
                    "funding": [{"symbol": "ETHUSDT", "income": "-0.5", "time": T - 7 * DAY}]}},
                {"api_key": "nohist", "api_secret": "s", "balances": {"USDT": "500"},
                 "snapshot_from": T - 30 * DAY},
                {"api_key": "fillsonly", "api_secret": "s", "balances": {"USDT": "5"}}],
            "prices": {"BTCUSDT": {"points": [[T - 40 * DAY, "60000"],
                                              [T - 5 * DAY + 12 * HOUR, "66000"]]},
                       "ETHUSDT": {"points": [[T - 40 * DAY, "3000"],
                                              [T - 7 * DAY + 6 * HOUR, "3200"]]},
                       "ETHBTC": "0.05",
                       "SOLUSDT": {"from_trades": True}},
        }
        # a symbol priced by its own fills
        cls.doc["accounts"][1]["trades"] = [
            {"symbol": "SOLUSDT", "id": 10 + i, "orderId": 10 + i, "price": p, "qty": "1",
             "quoteQty": p, "commission": "0", "commissionAsset": "USDT",
             "time": T - 2 * DAY + i * 20 * 60 * 1000, "isBuyer": i % 2 == 0}
            for i, p in enumerate(["150", "151.5", "149", "155", "152", "150.25"])]
        cls.sim = simctl.Sim(cls.doc)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.reset()

    def get(self, path, params=None, key="histkey", secret="histsecret"):
        return self.sim.signed(path, key, params, secret=secret)

    def assertError(self, res, status, code):
        st, _, body = res
        self.assertEqual((st, body.get("code") if isinstance(body, dict) else body),
                         (status, code), body)

    def snapshots(self, kind, start, end, limit=30):
        st, _, body = self.get("/sapi/v1/accountSnapshot", {"type": kind, "startTime": start,
                                                            "endTime": end, "limit": limit})
        self.assertEqual((st, body["code"], body["msg"]), (200, 200, ""), body)
        return body["snapshotVos"]

    def daily_close(self, symbol, day_start):
        st, _, k = self.sim.get("/api/v3/klines", {"symbol": symbol, "interval": "1d",
                                                   "startTime": day_start, "limit": 1})
        self.assertEqual(st, 200, k)
        self.assertEqual(k[0][0], day_start)
        return d(k[0][4])

    def test_spot_snapshot_follows_flows_and_fills(self):
        T = T0
        snaps = self.snapshots("SPOT", T - 25 * DAY, T - DAY)
        days = [s["updateTime"] for s in snaps]
        # one per UTC day at 23:59:59.000, ascending; none for the missing day
        self.assertIn(T - 2 * DAY - 1000, days)
        self.assertNotIn(T - 6 * DAY - 1000, days)  # the day T-7d ends at T-6d
        self.assertEqual(days, sorted(days))
        for t in days:
            self.assertEqual(t % DAY, DAY - 1000)
        by_day = {s["updateTime"]: s for s in snaps}
        for s in snaps:
            self.assertEqual(s["type"], "spot")
            self.assertEqual(set(s["data"]), {"balances", "totalAssetOfBtc"})

        def bal(t):
            return {b["asset"]: (b["free"], b["locked"]) for b in by_day[t]["data"]["balances"]}
        # day T-13d: opening 1000 + deposits 10000 and 5 - transfer 2000 - 12 x 1; the BTC
        # deposit at exactly T-12d belongs to the next day; no pending deposit
        self.assertEqual(bal(T - 12 * DAY - 1000), {"USDT": ("8993.00000000", "0.00000000")})
        # day T-2d: everything. USDT 8993 - 6000 (buy) - 501 (withdrawal + fee; the
        # rejected one not) + 3300 - 3.3 (sell) + 100 (back from futures)
        self.assertEqual(bal(T - DAY - 1000),
                         {"USDT": ("5888.70000000", "0.00000000"),
                          "BTC": ("0.04990000", "0.00000000"),     # .05 + .1 - .0001 - .05 - .05
                          "ETH": ("0.99900000", "0.00000000")})
        # valued at the day's close with the klines' prices
        day = T - 2 * DAY
        want = (d("5888.7") / self.daily_close("BTCUSDT", day) + d("0.0499")
                + d("0.999") * self.daily_close("ETHBTC", day))
        self.assertEqual(by_day[T - DAY - 1000]["data"]["totalAssetOfBtc"], q8s(want))
        # the account existed from its first event on (opening balances: always)
        self.assertEqual(days[0], T - 25 * DAY + DAY - 1000)

    def test_futures_snapshot(self):
        T = T0
        snaps = self.snapshots("FUTURES", T - 10 * DAY, T - DAY)
        last = snaps[-1]
        self.assertEqual((last["type"], last["updateTime"]), ("futures", T - DAY - 1000))
        # 2000 + 12 - 100 transferred, -1.2 - 0.512 fees, +80 realized, -0.5 funding
        self.assertEqual(last["data"]["assets"],
                         [{"asset": "USDT", "marginBalance": "2109.78800000",
                           "walletBalance": "1989.78800000"}])
        self.assertEqual(last["data"]["position"],
                         [{"entryPrice": "3000.00000000", "markPrice": "3200.00000000",
                           "positionAmt": "0.60000000", "symbol": "ETHUSDT",
                           "unRealizedProfit": "120.00000000"}])
        first = [s for s in snaps if s["updateTime"] == T - 9 * DAY - 1000][0]
        self.assertEqual(first["data"]["position"], [])
        # the transfers are TRANSFER rows of the futures income
        st, _, inc = self.get("/fapi/v1/income", {"incomeType": "TRANSFER",
                                                  "startTime": T - 20 * DAY, "limit": 1000})
        self.assertEqual(st, 200, inc)
        self.assertEqual(sorted(d(r["income"]) for r in inc), [d(-100)] + [d(1)] * 12 + [d(2000)])
        # the current wallet (fapi account) is where the history ends
        st, _, fa = self.get("/fapi/v2/account")
        self.assertEqual(fa["totalWalletBalance"], "1989.78800000")
        # spot account balances likewise (no `balances` given)
        st, _, sa = self.get("/api/v3/account", {"omitZeroBalances": "true"})
        self.assertIn({"asset": "USDT", "free": "5888.70000000", "locked": "0.00000000"},
                      sa["balances"])

    def test_snapshot_rules(self):
        T = T0
        self.sim.faults({"limits": {"sapi": 10 ** 6}})  # many 2400-weight calls below
        # no times: the last 7 days; limit 7 by default
        st, h, body = self.get("/sapi/v1/accountSnapshot", {"type": "SPOT"})
        self.assertEqual(st, 200, body)
        vos = body["snapshotVos"]
        self.assertLessEqual(len(vos), 7)
        self.assertEqual(vos[-1]["updateTime"], T - 1000)  # yesterday's
        self.assertGreaterEqual(vos[0]["updateTime"], NOW - 7 * DAY)
        # "last month only": a start 60 days back gets the last 30 days
        vos = self.snapshots("SPOT", T - 60 * DAY, T - 31 * DAY, 30)
        self.assertEqual(vos, [])
        st, _, body = self.get("/sapi/v1/accountSnapshot", {"type": "SPOT", "limit": 30,
                                                            "startTime": T - 60 * DAY})
        self.assertTrue(body["snapshotVos"])
        self.assertGreaterEqual(body["snapshotVos"][0]["updateTime"], NOW - 30 * DAY - 1000)
        # limit caps the count, ascending from the start
        vos = self.snapshots("SPOT", T - 20 * DAY, T - DAY, 7)
        self.assertEqual([v["updateTime"] for v in vos],
                         [T - 20 * DAY + i * DAY + DAY - 1000 for i in range(7)])
        # margin is not modelled: no snapshots; an account without futures: none
        self.assertEqual(self.snapshots("MARGIN", T - 5 * DAY, T), [])
        st, _, body = self.get("/sapi/v1/accountSnapshot", {"type": "FUTURES"},
                               key="nohist", secret="s")
        self.assertEqual((st, body.get("snapshotVos")), (200, []), body)
        # errors
        self.assertError(self.get("/sapi/v1/accountSnapshot"), 400, -1102)
        self.assertError(self.get("/sapi/v1/accountSnapshot", {"type": "OPTIONS"}), 400, -1130)
        for bad in (6, 31):
            self.assertError(self.get("/sapi/v1/accountSnapshot", {"type": "SPOT", "limit": bad}),
                             400, -1130)
        self.assertError(self.get("/sapi/v1/accountSnapshot",
                                  {"type": "SPOT", "startTime": T - 30 * DAY, "endTime": T}),
                         400, -1127)
        self.assertError(self.sim.signed("/sapi/v1/accountSnapshot", "histkey", {"type": "SPOT"},
                                         secret="wrong"), 400, -1022)
        # an account with current balances, fills and no flows: the history ends at
        # those balances (the SOL round trips earned 5.75 USDT)
        st, _, body = self.get("/sapi/v1/accountSnapshot", {"type": "SPOT", "limit": 30,
                                                            "startTime": T - 10 * DAY},
                               key="nohist", secret="s")
        self.assertEqual(body["snapshotVos"][0]["data"]["balances"],
                         [{"asset": "USDT", "free": "494.25000000", "locked": "0.00000000"}])
        self.assertEqual(body["snapshotVos"][-1]["data"]["balances"],
                         [{"asset": "USDT", "free": "500.00000000", "locked": "0.00000000"}])
        # an account that describes no wallet history has no snapshots at all
        st, _, body = self.get("/sapi/v1/accountSnapshot", {"type": "SPOT"},
                               key="fillsonly", secret="s")
        self.assertEqual((st, body.get("snapshotVos")), (200, []), body)

    def test_snapshot_weight(self):
        win = 600_000
        self.sim.faults({"limits": {"window_ms": win}})
        self.wait_clear_of_window_end(win)
        used = []
        for _ in range(5):
            st, h, _ = self.get("/sapi/v1/accountSnapshot", {"type": "SPOT"})
            self.assertEqual(st, 200)
            used.append(int(h["X-SAPI-USED-IP-WEIGHT-1M"]))
        self.assertEqual(used, [2400, 4800, 7200, 9600, 12000])
        st, h, body = self.get("/sapi/v1/accountSnapshot", {"type": "SPOT"})
        self.assertEqual((st, body["code"]), (429, -1003), body)

    def wait_clear_of_window_end(self, window_ms):
        left = window_ms - int(time.time() * 1000) % window_ms
        if left < 5000:
            time.sleep(left / 1000 + 0.1)

    def test_deposit_history(self):
        T = T0
        st, h, rows = self.get("/sapi/v1/capital/deposit/hisrec")
        self.assertEqual(st, 200, rows)
        self.assertEqual(h["X-SAPI-USED-IP-WEIGHT-1M"], "1")
        # the last 90 days by default, newest first; the 100-day-old one is left out
        self.assertEqual([(r["coin"], r["amount"], r["status"], r["insertTime"]) for r in rows],
                         [("USDT", "777", 0, T - 11 * DAY), ("BTC", "0.05", 1, T - 12 * DAY),
                          ("USDT", "10000", 1, T - 20 * DAY + HOUR)])
        for r in rows:
            for k in ("id", "network", "address", "addressTag", "txId", "completeTime",
                      "transferType", "confirmTimes", "unlockConfirm", "walletType"):
                self.assertIn(k, r)
        st, _, rows = self.get("/sapi/v1/capital/deposit/hisrec",
                               {"startTime": T - 110 * DAY, "endTime": T - 30 * DAY})
        self.assertEqual([r["amount"] for r in rows], ["5"])
        st, _, rows = self.get("/sapi/v1/capital/deposit/hisrec", {"status": 1, "coin": "USDT"})
        self.assertEqual([r["amount"] for r in rows], ["10000"])
        st, _, rows = self.get("/sapi/v1/capital/deposit/hisrec", {"offset": 1, "limit": 1})
        self.assertEqual([r["amount"] for r in rows], ["0.05"])
        # a window over 90 days, explicit or by default from an old startTime
        self.assertError(self.get("/sapi/v1/capital/deposit/hisrec",
                                  {"startTime": T - 120 * DAY, "endTime": T - 29 * DAY}),
                         400, -1127)
        self.assertError(self.get("/sapi/v1/capital/deposit/hisrec",
                                  {"startTime": T - 100 * DAY}), 400, -1127)
        self.assertError(self.get("/sapi/v1/capital/deposit/hisrec", {"limit": 1001}),
                         400, -1130)
        self.assertError(self.sim.signed("/sapi/v1/capital/deposit/hisrec", "histkey",
                                         secret="x"), 400, -1022)

    def test_withdraw_history(self):
        T = T0
        st, h, rows = self.get("/sapi/v1/capital/withdraw/history")
        self.assertEqual(st, 200, rows)
        self.assertEqual(h["X-SAPI-USED-UID-WEIGHT-1M"], "18000")
        self.assertEqual([(r["amount"], r["transactionFee"], r["status"]) for r in rows],
                         [("300", "1", 3), ("500", "1", 6)])
        ok = rows[1]
        self.assertEqual(ok["applyTime"], time.strftime(
            "%Y-%m-%d %H:%M:%S", time.gmtime((T - 5 * DAY + 2 * HOUR) // 1000)))
        self.assertEqual(ok["withdrawOrderId"], "W1")
        self.assertIn("completeTime", ok)
        self.assertNotIn("withdrawOrderId", rows[0])
        st, _, rows = self.get("/sapi/v1/capital/withdraw/history",
                               {"withdrawOrderId": "W1"})
        self.assertEqual([r["amount"] for r in rows], ["500"])
        self.assertError(self.get("/sapi/v1/capital/withdraw/history",
                                  {"withdrawOrderId": "W1", "startTime": T - 9 * DAY,
                                   "endTime": T}), 400, -1127)
        self.assertError(self.get("/sapi/v1/capital/withdraw/history",
                                  {"startTime": T - 91 * DAY, "endTime": T}), 400, -1127)
        # UID weight 18000 of 180000 a minute: the 11th call in a window is refused
        win = 600_000
        self.sim.faults({"limits": {"window_ms": win}})
        self.wait_clear_of_window_end(win)
        codes = [self.get("/sapi/v1/capital/withdraw/history")[0] for _ in range(11)]
        self.assertEqual(codes, [200] * 10 + [429])
        # the per-UID budget is not the IP one
        self.assertEqual(self.get("/sapi/v1/capital/deposit/hisrec")[0], 200)

    def test_transfer_history(self):
        T = T0
        st, h, doc = self.get("/sapi/v1/asset/transfer", {"type": "MAIN_UMFUTURE",
                                                          "startTime": T - 30 * DAY})
        self.assertEqual(st, 200, doc)
        self.assertEqual(h["X-SAPI-USED-IP-WEIGHT-1M"], "1")
        self.assertEqual(doc["total"], 13)
        self.assertEqual(len(doc["rows"]), 10)  # size 10 by default
        self.assertEqual(set(doc["rows"][0]), {"asset", "amount", "type", "status", "tranId",
                                               "timestamp"})
        times = [r["timestamp"] for r in doc["rows"]]
        self.assertEqual(times, sorted(times, reverse=True))  # newest first
        pages = []
        for cur in (1, 2, 3, 4):
            st, _, p = self.get("/sapi/v1/asset/transfer", {"type": "MAIN_UMFUTURE",
                                                            "startTime": T - 30 * DAY,
                                                            "current": cur, "size": 5})
            self.assertEqual(p["total"], 13)
            pages.append(p.get("rows", []))
        self.assertEqual([len(p) for p in pages], [5, 5, 3, 0])
        self.assertNotIn("rows", p)  # an empty page has no rows at all
        self.assertEqual(len({r["tranId"] for pg in pages for r in pg}), 13)
        # no times: the last 7 days
        st, _, p = self.get("/sapi/v1/asset/transfer", {"type": "UMFUTURE_MAIN"})
        self.assertEqual((p["total"], p["rows"][0]["amount"]), (1, "100"))
        st, _, p = self.get("/sapi/v1/asset/transfer", {"type": "MAIN_UMFUTURE"})
        self.assertEqual(p, {"total": 0})
        self.assertError(self.get("/sapi/v1/asset/transfer"), 400, -1102)
        self.assertError(self.get("/sapi/v1/asset/transfer", {"type": "MAIN_MOON"}), 400, -1130)
        self.assertError(self.get("/sapi/v1/asset/transfer", {"type": "MAIN_UMFUTURE",
                                                              "size": 101}), 400, -1130)
        self.assertError(self.get("/sapi/v1/asset/transfer", {"type": "ISOLATEDMARGIN_MARGIN"}),
                         400, -1102)

    def test_reference_reads_the_same_account(self):
        # tests/lib/returns_ref.py derives balances on its own: both must agree
        # with what the simulator serves, day by day (spot and USD-M)
        T = T0
        ref = returns_ref.Account(self.doc, "histkey")
        prices = returns_ref.Prices(self.doc)
        snaps = self.snapshots("SPOT", T - 25 * DAY, T - DAY)
        self.assertGreater(len(snaps), 15)
        for s in snaps:
            day = s["updateTime"] // DAY
            bal = ref._balances(ref.opening, ref.spot_ev, (day + 1) * DAY)
            self.assertEqual({b["asset"]: Decimal(b["free"]) for b in s["data"]["balances"]},
                             {k: Decimal(v.numerator) / v.denominator
                              for k, v in bal.items() if v != 0})
            self.assertEqual(returns_ref.equity(ref, prices, day, "spot", "USDT", "btc"),
                             Fraction(s["data"]["totalAssetOfBtc"])
                             * prices.close("BTCUSDT", day))
        for s in self.snapshots("FUTURES", T - 25 * DAY, T - DAY):
            day = s["updateTime"] // DAY
            usdt = [a for a in s["data"]["assets"] if a["asset"] == "USDT"]
            self.assertEqual(returns_ref.equity(ref, prices, day, "usdm", "USDT", "asset"),
                             Fraction(usdt[0]["marginBalance"]) if usdt else 0)

    def test_klines_consistent_with_trades(self):
        T = T0
        # step prices: each fill lies within its kline's low..high (1h and 1d)
        acct = self.doc["accounts"][0]
        for t in acct["trades"]:
            for interval, step in (("1h", HOUR), ("1d", DAY)):
                o = t["time"] // step * step
                st, _, k = self.sim.get("/api/v3/klines", {"symbol": t["symbol"],
                                                           "interval": interval,
                                                           "startTime": o, "limit": 1})
                self.assertEqual(k[0][0], o)
                self.assertTrue(d(k[0][3]) <= d(t["price"]) <= d(k[0][2]), (t, k))
        # from_trades: the hourly price is the last fill's, high/low cover every fill
        sol = self.doc["accounts"][1]["trades"]
        st, _, k = self.sim.get("/api/v3/klines", {"symbol": "SOLUSDT", "interval": "1d",
                                                   "startTime": T - 2 * DAY, "limit": 1})
        self.assertEqual(k[0][1:5], ["150.00000000", "155.00000000", "149.00000000",
                                     "150.25000000"])
        st, _, k = self.sim.get("/api/v3/klines", {"symbol": "SOLUSDT", "interval": "1h",
                                                   "startTime": T - 2 * DAY, "limit": 3})
        # hour 0 holds the fills at :00, :20, :40 (150, 151.5, 149); hour 1 the next
        # three (155, 152, 150.25); a kline closes at its last fill, the next opens there
        self.assertEqual(k[0][1:5], ["150.00000000", "151.50000000", "149.00000000",
                                     "149.00000000"])
        self.assertEqual(k[1][1:5], ["149.00000000", "155.00000000", "149.00000000",
                                     "150.25000000"])
        self.assertEqual(k[2][1:5], ["150.25000000"] * 4)
        self.assertEqual(len(sol), 6)


class BadConfigTest(unittest.TestCase):
    def start_fails(self, doc, needle):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "a.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            r = subprocess.run(["/usr/bin/python3", simctl.SIM, "--accounts", path, "--port", "0"],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(needle, r.stderr)

    def test_refused(self):
        rsa = subprocess.run("openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 "
                             "2>/dev/null | openssl pkey -pubout", shell=True,
                             capture_output=True, text=True, check=True).stdout
        self.start_fails({"accounts": [{"api_key": "k", "ed25519_public_key": rsa}]},
                         "not an Ed25519 public key")
        self.start_fails({"accounts": [{"api_key": "k", "api_secret": "s",
                                        "ed25519_public_key": rsa}]}, "exactly one")
        self.start_fails({"accounts": [{"api_key": "k", "api_secret": "s", "api_restrictions":
                                        {"enableWithdrawals": True}}]}, "ipRestrict")
        self.start_fails({"accounts": [{"api_key": "k", "api_secret": "s", "trades": [
            {"symbol": "FOOBAR", "id": 1}]}]}, "quote asset is unknown")


if __name__ == "__main__":
    unittest.main(verbosity=2)
