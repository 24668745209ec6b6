"""A misbehaving exchange never becomes a wrong number: through the real HTTP
path (server -> enclave -> relay -> simulator process), every fault gives its
status code, nothing is signed or stored, and the session stays usable.
docs/BINANCE.md, "Misbehaving exchanges"."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NOW = int(time.time() * 1000)
DAY = 86_400_000
BAN_S = 90


def trades():
    return harness.make_trades("BTCUSDT", 20, NOW - 5 * DAY, 3_600_000, 30000.0)


class ExchangeFaultsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ok = harness.account(trades=trades())
        cls.flaky = harness.account(trades=trades(), fail_first=2)
        cls.region = harness.account(trades=trades(), fault="http451")
        cls.ban = harness.account(trades=trades(), fault="http418", retry_after_s=BAN_S)
        cls.stack = harness.Stack({"accounts": [cls.ok, cls.flaky, cls.region, cls.ban]})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def aggregate(self, sid):
        return self.stack.request("POST", "/enclave/request_aggregates", {"session_id": sid})

    def sim_calls(self):
        with open(os.path.join(self.stack.tmp, "sim.log")) as f:
            return f.read().count("GET /api/v3/")

    def stored(self):
        return int(self.stack.sql("SELECT count(*) FROM aggregates").strip())

    # Named in the order they must run: the ban (last) holds for every session.
    def test_1_rejected_key_carries_the_exchange_message(self):
        sid = self.stack.submit("not-a-key-the-exchange-knows", self.ok["api_secret"])
        before = self.stored()
        st, _, body = self.aggregate(sid)
        self.assertEqual((st, body["error"]), (422, "exchange_rejected_key"))
        self.assertIn("-2015 Invalid API-key, IP, or permissions for action.", body["message"])
        self.assertEqual(self.stored(), before)

    def test_2_5xx_burst_is_retried(self):
        sid = self.stack.submit(self.flaky["api_key"], self.flaky["api_secret"])
        st, _, body = self.aggregate(sid)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["aggregates_signed"]["payload"]["trades"], 20)

    def test_3_region_blocked(self):
        sid = self.stack.submit(self.region["api_key"], self.region["api_secret"])
        before = self.stored()
        st, _, body = self.aggregate(sid)
        self.assertEqual((st, body["error"]), (502, "exchange_region_blocked"))
        self.assertIn("451", body["message"])
        self.assertEqual(self.stored(), before)
        # the session is still there: the same request gets the same clear answer
        st, _, body = self.aggregate(sid)
        self.assertEqual((st, body["error"]), (502, "exchange_region_blocked"))

    def test_4_ban_stops_every_session(self):
        good = self.stack.submit(self.ok["api_key"], self.ok["api_secret"])
        st, _, body = self.aggregate(good)
        self.assertEqual(st, 200, body)
        before = self.stored()
        sid = self.stack.submit(self.ban["api_key"], self.ban["api_secret"])
        st, hdrs, body = self.aggregate(sid)
        self.assertEqual((st, body["error"]), (503, "exchange_banned"), body)
        self.assertEqual(hdrs.get("Retry-After"), str(BAN_S))
        # Another session, a good key: refused at once, no call to the host.
        calls = self.sim_calls()
        self.assertGreater(calls, 0)
        st, hdrs, body = self.aggregate(good)
        self.assertEqual((st, body["error"]), (503, "exchange_banned"), body)
        self.assertTrue(0 < int(hdrs["Retry-After"]) <= BAN_S, hdrs)
        self.assertEqual(self.sim_calls(), calls)
        self.assertEqual(self.stored(), before)


if __name__ == "__main__":
    unittest.main()
