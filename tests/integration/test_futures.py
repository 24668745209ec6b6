"""A Binance USD-M futures account (accountType "usdm") through the real HTTP
path: perfagg CLI -> server -> enclave -> simulator (/fapi), against real
PostgreSQL. The signed numbers must equal an exact, independent
recomputation (tests/lib/reference.py, futures_metrics) from the very rows
the simulator serves."""
import json
import os
import random
import sys
import time
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import reference  # noqa: E402

NOW = int(time.time() * 1000)
DAY = 86_400_000
HOUR = 3_600_000
SYMBOLS = {"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT"), "ETHUSDC": ("ETH", "USDC")}


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def parse_ms(s):
    import calendar
    base, frac = s.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac)


def history():
    """Fills over 45 days and the income rows Binance would book for them:
    a COMMISSION row per fill (some paid in BNB), REALIZED_PNL for closing
    fills, FUNDING_FEE every 8 hours, a TRANSFER (not performance), and a
    USDC-margined contract whose rows are in USDC. Several rows share a
    millisecond, so income pages overlap."""
    rnd = random.Random(6)
    fills, income = [], []
    tran = 100
    specs = [("BTCUSDT", 2000, NOW - 45 * DAY, HOUR, 60000), ("ETHUSDT", 60, NOW - 20 * DAY,
             7 * HOUR, 3000), ("ETHUSDC", 12, NOW - 10 * DAY, 11 * HOUR, 3000)]
    for sym, n, start, step, p0 in specs:
        quote = SYMBOLS[sym][1]
        for i in range(n):
            t = start + (i // 2) * step  # two fills per instant
            price = Decimal(p0 + rnd.randint(-500, 500)) + Decimal(rnd.randint(0, 99)) / 100
            qty = Decimal(rnd.randint(1, 500)) / 1000
            fee = (price * qty * Decimal("0.0004")).quantize(Decimal("1e-8"))
            side = "SELL" if i % 3 == 2 else "BUY"
            pnl = Decimal(rnd.randint(-20000, 25000)) / 1000 if side == "SELL" else Decimal(0)
            fee_asset = "BNB" if sym == "ETHUSDT" and i % 5 == 0 else quote
            if fee_asset == "BNB":
                fee = Decimal("0.00012345")
            fills.append({"symbol": sym, "id": 1000 + i, "orderId": 9000 + i, "side": side,
                          "price": str(price), "qty": str(qty), "quoteQty": str(price * qty),
                          "realizedPnl": str(pnl), "commission": str(fee),
                          "commissionAsset": fee_asset, "time": t})
            tran += 1
            income.append({"symbol": sym, "incomeType": "COMMISSION", "income": str(-fee),
                           "asset": fee_asset, "time": t, "tranId": tran,
                           "tradeId": str(1000 + i)})
            if pnl != 0:
                income.append({"symbol": sym, "incomeType": "REALIZED_PNL", "income": str(pnl),
                               "asset": quote, "time": t, "tranId": tran,
                               "tradeId": str(1000 + i)})
    t = (NOW - 120 * DAY) // (8 * HOUR) * (8 * HOUR)
    while t < NOW:
        tran += 1
        rate = Decimal(rnd.randint(-900, 1000)) / 100000
        income.append({"symbol": "BTCUSDT", "incomeType": "FUNDING_FEE", "income": str(rate),
                       "asset": "USDT", "time": t, "tranId": tran, "tradeId": ""})
        t += 8 * HOUR
    income.append({"symbol": "", "incomeType": "TRANSFER", "income": "5000", "asset": "USDT",
                   "time": NOW - 15 * DAY, "tranId": 7, "tradeId": ""})
    return fills, income


class FuturesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fills, cls.income = history()
        cls.acct = harness.account(
            balances={"USDT": "0"},
            futures={"assets": {"USDT": "10000"}, "trades": cls.fills, "income": cls.income})
        cls.stack = harness.Stack({"accounts": [cls.acct], "futures_symbols": [
            {"symbol": k, "baseAsset": b, "quoteAsset": q} for k, (b, q) in SYMBOLS.items()]})
        cls.sid = cls.stack.submit(cls.acct["api_key"], cls.acct["api_secret"],
                                   extra=("--account-type", "usdm"))

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def check_numbers(self, payload, lo, hi):
        expect = reference.futures_metrics(self.fills, self.income, SYMBOLS, lo, hi)
        for k in ("trades", "excluded_trades", "unpriced_fees"):
            self.assertEqual(payload[k], expect[k], k)
        # Exact money: the double nearest the exact decimal rounded to 8
        # decimals, so the JCS text is the oracle's too.
        for k in ("pnl", "volume", "realized_pnl", "unrealized_pnl", "fees", "funding"):
            self.assertEqual(payload[k], expect[k], k)
            # (JSON has one number type: a whole figure reads back as an int)
            self.assertEqual(repr(float(payload[k])), repr(float(expect["exact"][k])), k)
        self.assertEqual(payload["unmatched_qty"], 0)
        self.assertAlmostEqual(payload["sharpe"], expect["sharpe"], places=9)
        return expect

    def test_signed_usdm_result(self):
        s = self.stack
        frm, to = NOW - 30 * DAY, NOW
        out = os.path.join(s.tmp, "usdm.json")
        s.cli("aggregates", self.sid, "--from", rfc3339(frm), "--to", rfc3339(to), "--out", out)
        with open(out) as f:
            bundle = json.load(f)
        payload = bundle["response"]["aggregates_signed"]["payload"]
        scope = payload["scope"]
        self.assertEqual(scope["account_type"], "usdm")
        self.assertEqual(scope["symbol_source"], "income")
        self.assertEqual(scope["symbols"], sorted(SYMBOLS))
        self.assertEqual(scope["exchange_base_url"], s.sim_url)
        self.assertEqual(scope["history_from"], rfc3339(frm))  # inside the reach: all of it
        expect = self.check_numbers(payload, frm, to)
        self.assertGreater(expect["trades"], 300)
        self.assertGreater(expect["unpriced_fees"], 0)
        self.assertGreater(expect["excluded_trades"], 0)
        # The audit log names every page of both endpoints.
        ends = [e["entry"].get("endpoint") for e in bundle["logs"]["entries"]]
        self.assertGreaterEqual(ends.count("/fapi/v1/income"), 2)
        self.assertIn("/fapi/v1/userTrades", ends)
        self.assertNotIn("/api/v3/myTrades", ends)
        # Signed and attested: the CLI verifies it, and a changed figure fails.
        r = s.cli("verify", out, "--dev-root", s.dev_root)
        self.assertIn("DEVELOPMENT", r.stdout)
        payload["funding"] = payload["funding"] + 1
        with open(out + ".bad", "w") as f:
            json.dump(bundle, f)
        self.assertNotEqual(s.cli("verify", out + ".bad", "--dev-root", s.dev_root,
                                  check=False).returncode, 0)

    def test_window_beyond_history_is_labelled(self):
        """A window older than Binance keeps income: covered from ~89 days
        back, which scope.history_from says, and the numbers are those of
        the covered part."""
        frm = NOW - 200 * DAY
        t0 = int(time.time() * 1000)
        st, _, res = self.stack.request("POST", "/enclave/request_aggregates",
                                        {"session_id": self.sid, "from": rfc3339(frm),
                                         "to": rfc3339(NOW)})
        t1 = int(time.time() * 1000)
        self.assertEqual(st, 200, res)
        payload = res["aggregates_signed"]["payload"]
        self.assertEqual(payload["from"], rfc3339(frm))
        lo = parse_ms(payload["scope"]["history_from"])
        self.assertGreaterEqual(lo, t0 - 89 * DAY - 1000)
        self.assertLessEqual(lo, t1 - 89 * DAY + 1000)
        self.check_numbers(payload, lo, NOW)

    def test_window_entirely_too_old(self):
        st, _, res = self.stack.request("POST", "/enclave/request_aggregates",
                                        {"session_id": self.sid, "from": rfc3339(NOW - 300 * DAY),
                                         "to": rfc3339(NOW - 100 * DAY)})
        # The request's fault, not the exchange's: 400, nothing signed, and
        # the session still works.
        self.assertEqual(st, 400, res)
        self.assertEqual(res["error"], "invalid_request")
        self.assertNotIn("aggregates_signed", res)
        st, _, res = self.stack.request("POST", "/enclave/request_aggregates",
                                        {"session_id": self.sid})
        self.assertEqual(st, 200, res)

    def test_account_type_checked_by_the_client(self):
        s = self.stack
        r = s.cli("seal", "--exchange", "binance", "--label", "x",
                  "--api-key-file", s.write_secret("k2", "key"),
                  "--api-secret-file", s.write_secret("s2", "secret"),
                  "--dev-root", s.dev_root, "--account-type", "coinm", check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--account-type must be spot or usdm", r.stderr)

    def test_spot_session_of_the_same_key_stays_spot(self):
        """Without --account-type the same key is a spot session: /api only."""
        sid = self.stack.submit(self.acct["api_key"], self.acct["api_secret"], label="spot")
        st, _, res = self.stack.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual(st, 200, res)
        payload = res["aggregates_signed"]["payload"]
        self.assertEqual(payload["scope"]["account_type"], "spot")
        # pnl's parts are in every result since issue 7; a spot account
        # has no funding, and none of the futures income is read.
        self.assertEqual(payload["funding"], 0)
        self.assertNotIn("history_from", payload["scope"])
        self.assertEqual(payload["trades"], 0)


if __name__ == "__main__":
    unittest.main()
