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

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import simctl  # noqa: E402

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
