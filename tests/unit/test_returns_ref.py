"""tests/lib/returns_ref.py checked on its own: empyrical's published values at
252, and a small account whose every figure is computed by hand below (a
deposit mid-window that must not count as return, a withdrawal across a day
with no snapshot, a book that goes flat)."""
import math
import os
import statistics
import sys
import unittest
from fractions import Fraction as Fr

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import returns_ref as rr  # noqa: E402

DAY = 86_400_000
HOUR = 3_600_000


class EmpyricalValues(unittest.TestCase):
    """empyrical's tests (test_stats.py): simple_benchmark, negative_returns,
    and a drawdown of 10 % of the running peak."""

    def test_sharpe(self):
        r = [x / 100 for x in (1, 2, 1, 1, 1, 1, 1, 1, 1)]
        self.assertEqual(rr.sharpe(r, 252), 52.915026221291804)
        n = [x / 100 for x in (0, -6, -7, -1, -9, -2, -6, -8, -5)]
        self.assertEqual(rr.sharpe(n, 252), -24.406808633910085)

    def test_sortino(self):
        n = [x / 100 for x in (0, -6, -7, -1, -9, -2, -6, -8, -5)]
        # empyrical checks to 8 places; we are within 1 unit in the last place
        self.assertAlmostEqual(rr.sortino(n, 252), -13.532743075043401, places=12)
        self.assertIsNone(rr.sortino([0.01, 0.02], 252))  # no downside: undefined

    def test_max_drawdown(self):
        dd, peak, trough = rr.max_drawdown_of([Fr(1, 10), Fr(-1, 10), Fr(1, 10)])
        self.assertEqual((dd, peak, trough), (Fr(1, 10), 0, 1))
        self.assertEqual(rr.max_drawdown_of([Fr(1, 100)] * 3)[0], 0)

    def test_annualisation_is_a_parameter(self):
        r = [0.01, 0.03, -0.02]
        self.assertAlmostEqual(rr.sharpe(r, 365) / rr.sharpe(r, 252), math.sqrt(365 / 252),
                               places=12)
        self.assertIsNone(rr.sharpe([0.01], 365))
        self.assertIsNone(rr.sharpe([0.01, 0.01], 365))


B = 20000  # 2024-10-04, a day number


def hand_doc():
    t = lambda day, h: (B + day) * DAY + h * HOUR  # noqa: E731
    return {
        "accounts": [{
            "api_key": "k", "api_secret": "s",
            "deposits": [{"coin": "USDT", "amount": "1000", "time": t(0, 1)},
                         {"coin": "USDT", "amount": "500", "time": t(2, 18)},
                         {"coin": "USDT", "amount": "9", "time": t(3, 1), "status": 0}],
            "withdrawals": [{"coin": "USDT", "amount": "100", "transactionFee": "1",
                             "time": t(4, 12)}],
            "snapshot_missing": [rr.date_of(B + 4)],
            "trades": [
                {"symbol": "SOLUSDT", "id": 1, "orderId": 1, "price": "100", "qty": "2",
                 "quoteQty": "200", "commission": "0.2", "commissionAsset": "USDT",
                 "time": t(1, 10), "isBuyer": True},
                {"symbol": "SOLUSDT", "id": 2, "orderId": 2, "price": "99", "qty": "2",
                 "quoteQty": "198", "commission": "0.198", "commissionAsset": "USDT",
                 "time": t(3, 13), "isBuyer": False}],
        }],
        "prices": {"SOLUSDT": {"points": [[t(-5, 0), "100"], [t(2, 12), "110"],
                                          [t(3, 12), "99"]]}},
    }


class HandComputedAccount(unittest.TestCase):
    """Window: days B+1 .. B+5. Equity at the closes, by hand:
    B 1000 (the deposit); B+1 799.8 USDT + 2 SOL x 100 = 999.8; B+2 1299.8 + 2 x 110
    = 1519.8 (500 deposited at 18:00); B+3 1299.8 + 198 - 0.198 = 1497.602 (sold;
    the pending deposit credits nothing); B+4 no snapshot; B+5 1497.602 - 101 =
    1396.602 (withdrawn at B+4 12:00)."""

    @classmethod
    def setUpClass(cls):
        cls.m = rr.metrics(hand_doc(), "k", (B + 1) * DAY, (B + 6) * DAY,
                           now_ms=(B + 10) * DAY + 12 * HOUR)

    def test_equity_and_returns(self):
        m = self.m
        self.assertEqual([e["date"] for e in m["daily"]], [rr.date_of(B + i) for i in range(1, 6)])
        self.assertEqual([e["equity"] for e in m["daily"]],
                         [Fr("999.8"), Fr("1519.8"), Fr("1497.602"), None, Fr("1396.602")])
        r1 = Fr("-0.2") / 1000
        r2 = Fr(20) / (Fr("999.8") + Fr(500) * Fr(6, 24))   # the deposit is not return
        r3 = Fr("-22.198") / Fr("1519.8")
        r5 = Fr(0)  # B+3 -> B+5 across the gap; -101 weighted 36 h of 48: no gain, no loss
        self.assertEqual([e["return"] for e in m["daily"]], [r1, r2, r3, None, r5])
        self.assertEqual(m["returns_from"], rr.date_of(B + 1))
        self.assertEqual(m["return"], (1 + r1) * (1 + r2) * (1 + r3) * (1 + r5) - 1)
        fl = [float(x) for x in (r1, r2, r3, r5)]
        self.assertEqual(m["sharpe_basis"], "returns")
        want = statistics.mean(fl) / statistics.stdev(fl) * math.sqrt(365)
        self.assertAlmostEqual(m["sharpe"] / want, 1, places=12)
        self.assertAlmostEqual(m["volatility"] / (statistics.stdev(fl) * math.sqrt(365)), 1,
                               places=12)
        down = math.sqrt(sum(min(x, 0) ** 2 for x in fl) / 4)
        self.assertAlmostEqual(m["sortino"] / (statistics.mean(fl) / down * math.sqrt(365)), 1,
                               places=12)
        # the index peaks after B+2 and falls 22.198 / 1519.8 on B+3
        self.assertEqual(m["max_drawdown"], float(Fr("22.198") / Fr("1519.8")))
        self.assertEqual((m["max_drawdown_peak"], m["max_drawdown_trough"]),
                         (rr.date_of(B + 2), rr.date_of(B + 3)))
        self.assertEqual(m["max_drawdown_amount"], Fr("22.198"))
        # annualised over the 5 days the returns cover (B+1 .. B+5), not the 4 returns
        annual = (1 + float(m["return"])) ** (365 / 5) - 1
        self.assertAlmostEqual(m["calmar"] / (annual / m["max_drawdown"]), 1, places=12)

    def test_pnl_parts(self):
        m = self.m
        # B+1: the buy's fee; B+2: 2 SOL marked 100 -> 110; B+3: realized -2, the
        # mark back to 0 (-20), fee 0.198; then nothing
        self.assertEqual([e["pnl"] for e in m["daily"]],
                         [Fr("-0.2"), Fr(20), Fr("-22.198"), 0, 0])
        self.assertEqual((m["realized_pnl"], m["unrealized_pnl"], m["fees"], m["funding"]),
                         (Fr(-2), Fr(0), Fr("0.398"), Fr(0)))
        self.assertEqual(m["pnl"], m["realized_pnl"] + m["unrealized_pnl"] - m["fees"]
                         + m["funding"])
        # equity moves by exactly the pnl once flows are taken out (B+1..B+3)
        eq = [Fr(1000)] + [e["equity"] for e in m["daily"][:3]]
        self.assertEqual([eq[i + 1] - eq[i] - (500 if i == 1 else 0) for i in range(3)],
                         [e["pnl"] for e in m["daily"][:3]])
        self.assertEqual((m["round_trips"], m["win_rate"], m["profit_factor"]), (1, 0.0, 0.0))
        self.assertEqual(m["best_day"], {"date": rr.date_of(B + 2), "pnl": Fr(20)})
        self.assertEqual(m["worst_day"], {"date": rr.date_of(B + 3), "pnl": Fr("-22.198")})
        self.assertEqual(m["active_days"], 2)

    def test_open_book_at_the_end_and_no_equity(self):
        # the window ends on B+2: 2 SOL still held, marked at 110
        m = rr.metrics(hand_doc(), "k", (B + 1) * DAY, (B + 3) * DAY,
                       now_ms=(B + 10) * DAY)
        self.assertEqual((m["realized_pnl"], m["unrealized_pnl"], m["fees"]),
                         (Fr(0), Fr(20), Fr("0.2")))
        self.assertEqual(m["pnl"], Fr("19.8"))
        self.assertEqual(m["round_trips"], 0)
        self.assertIsNone(m["win_rate"])
        # the snapshots are older than a month: no equity, no returns, sharpe on pnl
        m = rr.metrics(hand_doc(), "k", (B + 1) * DAY, (B + 6) * DAY,
                       now_ms=(B + 60) * DAY)
        self.assertEqual([e["equity"] for e in m["daily"]], [None] * 5)
        self.assertIsNone(m["returns_from"])
        self.assertIsNone(m["return"])
        self.assertEqual(m["sharpe_basis"], "pnl")
        pnl = [-0.2, 20.0, -22.198, 0.0, 0.0]
        self.assertAlmostEqual(m["sharpe"] / (statistics.mean(pnl) / statistics.stdev(pnl)
                                              * math.sqrt(365)), 1, places=12)
        down = math.sqrt(sum(min(x, 0) ** 2 for x in pnl) / 5)
        self.assertAlmostEqual(m["sortino"] / (statistics.mean(pnl) / down * math.sqrt(365)), 1,
                               places=12)
        self.assertIsNone(m["max_drawdown"])
        self.assertIsNone(m["volatility"])

    def test_no_capital_no_gain(self):
        # a valuation of 0 and nothing happening: a return of 0, not undefined
        self.assertEqual(rr.modified_dietz(Fr(0), Fr(0), [], 0, DAY), (0, 0))
        # a gain on no capital: undefined
        self.assertEqual(rr.modified_dietz(Fr(0), Fr(5), [], 0, DAY), (None, 5))
        # a deposit at the start counts fully, at the end not at all
        self.assertEqual(rr.modified_dietz(Fr(100), Fr(210), [(0, Fr(100))], 0, DAY),
                         (Fr(10, 200), 10))
        self.assertEqual(rr.modified_dietz(Fr(100), Fr(210), [(DAY - 1, Fr(100))], 0, DAY),
                         (Fr(10) / (100 + Fr(100, DAY)), 10))

    def test_futures_fifo_marks_and_trips(self):
        t = lambda day, h: (B + day) * DAY + h * HOUR  # noqa: E731
        doc = {"accounts": [{"api_key": "f", "api_secret": "s",
                             "futures": {"opening_assets": {"USDT": "1000"}, "trades": [
                                 {"symbol": "ETHUSDT", "id": 1, "side": "SELL", "price": "100",
                                  "qty": "1", "commission": "0.1", "time": t(1, 1)},
                                 {"symbol": "ETHUSDT", "id": 2, "side": "SELL", "price": "120",
                                  "qty": "1", "commission": "0.1", "time": t(1, 2)},
                                 {"symbol": "ETHUSDT", "id": 3, "side": "BUY", "price": "110",
                                  "qty": "1", "realizedPnl": "-10", "commission": "0.1",
                                  "time": t(2, 1)},
                                 {"symbol": "ETHUSDT", "id": 4, "side": "BUY", "price": "90",
                                  "qty": "3", "realizedPnl": "25", "commission": "0.3",
                                  "time": t(3, 1)}],
                                        "funding": [{"symbol": "ETHUSDT", "income": "0.5",
                                                     "time": t(2, 8)}]}}],
               "prices": {"ETHUSDT": {"points": [[t(-9, 0), "100"], [t(1, 12), "105"],
                                                 [t(2, 12), "95"]]}}}
        m = rr.metrics(doc, "f", (B + 1) * DAY, (B + 4) * DAY, now_ms=(B + 5) * DAY,
                       scope="usdm")
        # B+1: short 1 @100 and 1 @120, marked at 105: (105-100)(-1) + (105-120)(-1) = 10,
        # fees 0.2 -> 9.8. B+2: the buy closes the @100 lot (FIFO), the exchange books -10
        # realized; the @120 lot marked at 95: 25; fee 0.1, funding 0.5 -> -10 + 15 - 0.1
        # + 0.5 = 5.4. B+3: closes @120 (booked +25), flips long 2 @90 marked at 95: +10;
        # the mark before was 25 -> 25 + (10 - 25) - 0.3 = 9.7
        self.assertEqual([e["pnl"] for e in m["daily"]], [Fr("9.8"), Fr("5.4"), Fr("9.7")])
        self.assertEqual((m["realized_pnl"], m["unrealized_pnl"], m["fees"], m["funding"]),
                         (Fr(15), Fr(10), Fr("0.6"), Fr("0.5")))
        # one trip, flat -> short -> through flat on B+3 (FIFO: -10 + 30 - 0.1 x 3 - 0.3
        # = 19.4, a win); the long it flips into is still open
        self.assertEqual((m["round_trips"], m["win_rate"]), (1, 1.0))
        self.assertIsNone(m["profit_factor"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
