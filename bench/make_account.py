#!/usr/bin/python3
"""The exchange account `make bench` aggregates: one Binance spot account
with FILLS fills (default 10,000) over the last 20 days, half BTCUSDT and half
ETHUSDT, for tools/binance_sim.py.

  make_account.py DIR [FILLS]

Writes DIR/accounts.json (the simulator's --accounts file, with the request
weight budget raised so that the simulator's 429s are not what is measured)
and DIR/api_key, DIR/api_secret (mode 0600; random, for this run only).
Prices are a seeded random walk: the figures are the same on every run."""
import json
import os
import random
import secrets
import sys
import time

DAY_MS = 86_400_000


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def fills(symbol, n, start, end, price, first_id, rng):
    out, t_step = [], (end - start) // n
    held = 0.0
    for i in range(n):
        price *= 1.0 + rng.gauss(0.0, 0.002)
        qty = round(rng.uniform(0.001, 0.05), 5)
        buy = held < qty or rng.random() < 0.5
        held += qty if buy else -qty
        out.append({"symbol": symbol, "id": first_id + i, "orderId": 7_000_000 + first_id + i,
                    "price": "%.2f" % price, "qty": "%.5f" % qty,
                    "quoteQty": "%.8f" % (round(price, 2) * qty),
                    "commission": "%.8f" % (qty * 0.001), "commissionAsset": symbol[:3],
                    "time": start + i * t_step, "isBuyer": buy, "isMaker": rng.random() < 0.4,
                    "isBestMatch": True})
    return out


def main():
    out_dir = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rng = random.Random(20261206)
    end = int(time.time() * 1000) - 60_000
    start = end - 20 * DAY_MS
    trades = (fills("BTCUSDT", n - n // 2, start, end, 62_000.0, 3_100_000_000, rng) +
              fills("ETHUSDT", n // 2, start, end, 3_100.0, 1_500_000_000, rng))
    key, secret = secrets.token_hex(32), secrets.token_hex(32)
    doc = {"accounts": [{"api_key": key, "api_secret": secret,
                         "balances": {"BTC": "1.5", "ETH": "20", "USDT": "10000"},
                         "trades": trades, "api_restrictions": {"enableReading": True}}],
           # Binance's weight limits are not what this measures: every limiter
           # of the simulator (spot, /sapi/, per account) is raised, as the
           # enclave's own budget is (scripts/bench.sh)
           "config": {"limits": {"api": 1_000_000_000, "sapi": 1_000_000_000,
                                 "sapi_uid": 1_000_000_000}}}
    os.makedirs(out_dir, exist_ok=True)
    write_private(os.path.join(out_dir, "accounts.json"), json.dumps(doc))
    write_private(os.path.join(out_dir, "api_key"), key)
    write_private(os.path.join(out_dir, "api_secret"), secret)


if __name__ == "__main__":
    main()
