"""Returns and risk (issue 7) through the real HTTP path: a simulated Binance
account with trades, deposits, withdrawals and transfers (spot and USD-M) ->
perfagg CLI -> server -> enclave -> simulator (snapshots, capital history,
transfers, klines) -> a signed result whose every new field must equal an
independent computation from the simulator's own account definition
(tests/lib/returns_ref.py), never from the enclave's output."""
import json
import os
import sys
import time
import unittest
from fractions import Fraction

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import returns_ref  # noqa: E402

DAY = 86_400_000
HOUR = 3_600_000
NOW = int(time.time() * 1000)
T0 = NOW // DAY * DAY  # today's UTC midnight: the window ends here
FROM = T0 - 20 * DAY
# The connector values the window's days only (not the day before it), so the
# returns start the day after the window's first valuation.
BASE_DAY = False


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def at(day, hour, minute=0):
    """Day `day` of the window (0 = its first), at hour:minute UTC."""
    return FROM + day * DAY + hour * HOUR + minute * 60_000


def spot(sym, i, day, hour, price, qty, buyer, fee, fee_asset):
    p, q = Fraction(price), Fraction(qty)
    return {"symbol": sym, "id": 100 + i, "orderId": 500 + i, "price": price, "qty": qty,
            "quoteQty": format_dec(p * q), "commission": fee, "commissionAsset": fee_asset,
            "time": at(day, hour, i % 60), "isBuyer": buyer, "isMaker": False,
            "isBestMatch": True}


def format_dec(x):
    """An exact Fraction with a terminating decimal as Binance writes it."""
    n, d = x.numerator, x.denominator
    k = 0
    while 10 ** k % d:
        k += 1
        if k > 16:
            raise ValueError(x)
    s = str(abs(n) * (10 ** k // d))
    s = s.rjust(k + 1, "0")
    out = (s[:-k] + "." + s[-k:]) if k else s
    return ("-" if n < 0 else "") + out


def account_doc():
    """20 days: a deposit mid-window (not return), a BTC deposit valued at its
    hour, a withdrawal with its fee, transfers to and from USD-M, a day
    without a snapshot, spot round trips won and lost, a base-asset fee, an
    open position at the end; USD-M fills long and short, funding."""
    trades = [
        spot("BTCUSDT", 1, 1, 10, "60000", "0.05", True, "3", "USDT"),
        spot("BTCUSDT", 2, 3, 15, "63000", "0.05", False, "3.15", "USDT"),      # won
        spot("ETHUSDT", 3, 4, 9, "3000", "1", True, "0.001", "ETH"),             # base fee
        spot("ETHUSDT", 4, 6, 16, "2900", "0.999", False, "2.8971", "USDT"),     # lost
        spot("SOLUSDT", 5, 7, 11, "150", "10", True, "1.5", "USDT"),
        spot("SOLUSDT", 6, 9, 14, "160", "4", False, "0.64", "USDT"),
        spot("BTCUSDT", 7, 12, 8, "61000", "0.03", True, "1.83", "USDT"),
        spot("SOLUSDT", 8, 14, 13, "140", "6", False, "0.84", "USDT"),          # SOL flat: lost
        spot("ETHUSDT", 9, 16, 10, "3100", "0.5", True, "1.55", "USDT"),        # held at the end
    ]
    futures = [
        {"symbol": "ETHUSDT", "id": 900, "side": "BUY", "price": "3000", "qty": "0.5",
         "commission": "0.6", "commissionAsset": "USDT", "time": at(5, 10)},
        {"symbol": "ETHUSDT", "id": 901, "side": "SELL", "price": "3050", "qty": "1",
         "realizedPnl": "25", "commission": "1.22", "commissionAsset": "USDT",
         "time": at(8, 12)},                                                      # flips short
        {"symbol": "ETHUSDT", "id": 902, "side": "BUY", "price": "2950", "qty": "0.5",
         "realizedPnl": "50", "commission": "0.59", "commissionAsset": "USDT",
         "time": at(13, 9)},                                                      # flat
    ]
    return {
        "accounts": [harness.account(
            balances={"USDT": "1"},  # /api/v3/account only; the history starts from:
            opening_balances={"USDT": "2000"},
            trades=trades,
            deposits=[{"coin": "USDT", "amount": "5000", "time": at(2, 6)},
                      {"coin": "BTC", "amount": "0.02", "time": at(10, 3)},
                      {"coin": "USDT", "amount": "999", "time": at(11, 1), "status": 0}],
            withdrawals=[{"coin": "USDT", "amount": "300", "transactionFee": "1",
                          "time": at(15, 20)}],
            transfers=[{"type": "MAIN_UMFUTURE", "asset": "USDT", "amount": "1000",
                        "time": at(4, 12)},
                       {"type": "UMFUTURE_MAIN", "asset": "USDT", "amount": "200",
                        "time": at(17, 9)}],
            snapshot_missing=[returns_ref.date_of((FROM // DAY) + 9)],
            futures={"opening_assets": {"USDT": "0"}, "trades": futures,
                     "funding": [{"symbol": "ETHUSDT", "income": "-0.75", "time": at(9, 8)},
                                 {"symbol": "ETHUSDT", "income": "0.3", "time": at(11, 16)}]})],
        # Step prices that agree with the fills; changes at noon, never in a flow's hour.
        "prices": {
            "BTCUSDT": {"points": [[FROM - 40 * DAY, "60000"], [at(2, 12), "62000"],
                                   [at(3, 12), "63000"], [at(6, 12), "59000"],
                                   [at(11, 12), "61000"], [at(13, 12), "64000"],
                                   [at(18, 12), "62500"]]},
            "ETHUSDT": {"points": [[FROM - 40 * DAY, "3000"], [at(5, 12), "3050"],
                                   [at(6, 12), "2900"], [at(8, 12), "3050"],
                                   [at(12, 12), "2950"], [at(15, 12), "3100"],
                                   [at(18, 12), "3180"]]},
            "SOLUSDT": {"points": [[FROM - 40 * DAY, "150"], [at(8, 12), "160"],
                                   [at(13, 12), "140"]]},
        },
    }


class ReturnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = account_doc()
        cls.acct = cls.doc["accounts"][0]
        cls.stack = harness.Stack(cls.doc)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def signed_payload(self, extra=()):
        s = self.stack
        sid = s.submit(self.acct["api_key"], self.acct["api_secret"], extra=tuple(extra))
        out = os.path.join(s.tmp, "returns%s.json" % ("-".join(extra)))
        s.cli("aggregates", sid, "--from", rfc3339(FROM), "--to", rfc3339(T0), "--out", out)
        s.cli("verify", out, "--dev-root", s.dev_root)
        with open(out) as f:
            return json.load(f)["response"]["aggregates_signed"]["payload"]

    def money(self, x):
        return None if x is None else float(x)

    def ratio(self, got, want, what):
        if want is None:
            self.assertIsNone(got, what)
            return
        self.assertIsNotNone(got, what)
        self.assertAlmostEqual(got, float(want), delta=1e-12 * max(1.0, abs(float(want))),
                               msg=what)

    def compare(self, payload, ref):
        # the daily series: money exact, returns to 1e-12
        self.assertEqual([d["date"] for d in payload["daily"]], [d["date"] for d in ref["daily"]])
        for got, want in zip(payload["daily"], ref["daily"]):
            self.assertEqual(got["pnl"], float(want["pnl"]), want["date"])
            self.assertEqual(got["equity"], self.money(want["equity"]), want["date"])
            self.ratio(got["return"], want["return"], "return " + want["date"])
        for k in ("realized_pnl", "unrealized_pnl", "fees", "funding", "pnl",
                  "max_drawdown_amount"):
            self.assertEqual(payload[k], self.money(ref[k]), k)
        for k in ("return", "sharpe", "sortino", "volatility", "max_drawdown", "calmar",
                  "win_rate", "profit_factor"):
            self.ratio(payload[k], ref[k], k)
        for k in ("sharpe_basis", "round_trips", "active_days", "max_drawdown_peak",
                  "max_drawdown_trough"):
            self.assertEqual(payload[k], ref[k], k)
        self.assertEqual((payload["returns_from"] or "")[:10], ref["returns_from"] or "")
        for k in ("best_day", "worst_day"):
            want = ref[k] and {"date": ref[k]["date"], "pnl": float(ref[k]["pnl"])}
            self.assertEqual(payload[k], want, k)

    def test_spot(self):
        payload = self.signed_payload()
        ref = returns_ref.metrics(self.doc, self.acct["api_key"], FROM, T0, NOW, scope="spot",
                                  base_day=BASE_DAY)
        # the account is what the test means it to be
        self.assertEqual(ref["sharpe_basis"], "returns")
        self.assertIsNone(ref["daily"][9]["equity"])           # the missing snapshot
        self.assertGreaterEqual(ref["round_trips"], 3)
        self.assertGreater(ref["max_drawdown"], 0)
        self.assertNotEqual(ref["unrealized_pnl"], 0)          # ETH held at the end
        self.compare(payload, ref)

    def test_usdm(self):
        payload = self.signed_payload(("--account-type", "usdm"))
        ref = returns_ref.metrics(self.doc, self.acct["api_key"], FROM, T0, NOW, scope="usdm",
                                  base_day=BASE_DAY)
        self.assertNotEqual(ref["funding"], 0)
        self.assertEqual(ref["round_trips"], 2)  # long, flipped short, then flat
        self.compare(payload, ref)


if __name__ == "__main__":
    unittest.main(verbosity=2)
