"""Independent re-implementations used as test oracles.

They follow docs/METRICS.md and RFC 6962 from the specification text, in
Python with the standard library only, so that the C code is checked against
something it does not share a single line with."""
import hashlib
import math
import statistics
from decimal import ROUND_HALF_UP, Decimal

DAY_MS = 86_400_000


def round8(x):
    d = Decimal(repr(x)).quantize(Decimal("1e-8"), rounding=ROUND_HALF_UP)
    return 0.0 if d == 0 else float(d)


def metrics(trades_by_symbol, symbols_info, from_ms, to_ms, currency="USDT"):
    """trades_by_symbol: {symbol: [binance myTrades rows]};
    symbols_info: {symbol: (base, quote)}."""
    fills = []
    for sym, rows in trades_by_symbol.items():
        base, quote = symbols_info[sym]
        for r in rows:
            fills.append((r["time"], r["id"], sym, base, quote, r))
    fills.sort(key=lambda f: (f[0], f[1]))
    lots = {}
    daily = {}
    trades = excluded = unpriced = 0
    volume = 0.0
    unmatched = 0.0
    first_day, last_day = from_ms // DAY_MS, (to_ms - 1) // DAY_MS
    for t, _id, sym, base, quote, r in fills:
        if t >= to_ms:
            continue
        in_window = from_ms <= t < to_ms
        if quote != currency:
            if in_window:
                excluded += 1
            continue
        price, qty = float(r["price"]), float(r["qty"])
        day = t // DAY_MS
        realized = 0.0
        if r["isBuyer"]:
            lots.setdefault(sym, []).append([price, qty])
        else:
            left = qty
            book = lots.setdefault(sym, [])
            while left > 0 and book:
                lot = book[0]
                m = min(left, lot[1])
                realized += (price - lot[0]) * m
                lot[1] -= m
                left -= m
                if lot[1] <= 0:
                    book.pop(0)
            if in_window and left > 0:
                unmatched += left
        if not in_window:
            continue
        trades += 1
        volume += float(r["quoteQty"])
        fee = float(r["commission"])
        asset = r["commissionAsset"]
        if asset == quote:
            cost = fee
        elif asset == base:
            cost = fee * price
        else:
            cost = 0.0
            unpriced += 1
        daily[day] = daily.get(day, 0.0) + realized - cost
    series = [daily.get(d, 0.0) for d in range(first_day, last_day + 1)]
    pnl = sum(series)
    sharpe = None
    if len(series) >= 2:
        sd = statistics.stdev(series)
        if sd > 0:
            sharpe = statistics.mean(series) / sd * math.sqrt(365)
    return {"pnl": round8(pnl), "volume": round8(volume), "trades": trades,
            "excluded_trades": excluded, "unpriced_fees": unpriced,
            "unmatched_qty": round8(unmatched), "sharpe": sharpe}


def merkle_root(leaves):
    """RFC 6962 §2.1 Merkle Tree Hash over a list of byte strings."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:])).digest()


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).hexdigest()
