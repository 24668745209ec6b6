"""Independent re-implementations used as test oracles.

They follow docs/METRICS.md and RFC 6962 from the specification text, in
Python with the standard library only, so that the C code is checked against
something it does not share a single line with."""
import decimal
import hashlib
import hmac
import math
import statistics
from decimal import ROUND_HALF_UP, Decimal

DAY_MS = 86_400_000

# Exact decimal arithmetic: 100 significant digits hold every value the
# metrics can reach, and Inexact is trapped, so the oracle raises rather than
# round anywhere but in round8.
EXACT = decimal.Context(prec=100, rounding=ROUND_HALF_UP,
                        traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])
STEP8 = Decimal("1e-8")


def amount(s):
    """A Binance decimal string, exactly (no float in between)."""
    assert isinstance(s, str) and "e" not in s.lower(), s
    return Decimal(s)


def round8(d):
    """docs/METRICS.md: to 8 decimals, half away from zero (Python's
    ROUND_HALF_UP); the result as a Decimal, never -0."""
    r = d.quantize(STEP8, rounding=ROUND_HALF_UP, context=EXACT)
    return r if r != 0 else Decimal(0)


def as_double(d):
    """The double nearest the decimal (float() of a Decimal rounds
    correctly), as the payload carries it."""
    return float(d)


def symbols_scanned(symbols_info, currency="USDT", client=None):
    """docs/BINANCE.md, "Symbols": the client's symbols (sorted, distinct) when
    named ("client"), else every listed market whose quote asset is the
    currency, whatever it holds or its status ("all"). Returns (symbols,
    symbol_source)."""
    if client is not None:
        return sorted(set(client)), "client"
    return sorted(k for k, (_, quote) in symbols_info.items() if quote == currency), "all"


def only(trades_by_symbol, symbols):
    """The trades of exactly the scanned symbols: what metrics() must see."""
    return {k: v for k, v in trades_by_symbol.items() if k in set(symbols)}


def close_on(closes, symbol, day):
    """docs/METRICS.md, "Unrealized PnL": the symbol's daily close of that
    day, else of the latest day before it that has one; None when there is
    none (the inventory is then carried at cost). closes: {symbol: {day:
    decimal string}}."""
    days = [d for d in (closes or {}).get(symbol, {}) if d <= day]
    return amount(closes[symbol][max(days)]) if days else None


def marks(book_at, closes, from_ms, to_ms):
    """The open inventory's mark at `from` (at the close of the day before)
    and at the end of each UTC day of the window (at `to` for the last), at
    that day's close: sum over symbols of (close - lot cost) * lot qty.
    book_at(symbol, t) gives the open lots [(cost, signed qty)] after every
    fill strictly before t."""
    first, last = from_ms // DAY_MS, (to_ms - 1) // DAY_MS
    points = [(from_ms, first - 1)] + [(min(to_ms, (d + 1) * DAY_MS), d)
                                       for d in range(first, last + 1)]
    out = []
    for t, day in points:
        total = Decimal(0)
        for sym, lots in book_at(t):
            c = close_on(closes, sym, day)
            if c is not None:
                total += sum(((c - cost) * q for cost, q in lots), Decimal(0))
        out.append(total)
    return out


def metrics(trades_by_symbol, symbols_info, from_ms, to_ms, currency="USDT", closes=None):
    """trades_by_symbol: {symbol: [binance myTrades rows]};
    symbols_info: {symbol: (base, quote)}; closes: {symbol: {day: close}}
    (the daily klines' closes the enclave marks open inventory to; none:
    carried at cost). Money is computed exactly from the rows' decimal
    strings; pnl, volume, unmatched_qty and pnl's parts are the doubles
    nearest the exact results rounded to 8 decimals; exact holds those
    decimals."""
    with decimal.localcontext(EXACT):
        return _metrics(trades_by_symbol, symbols_info, from_ms, to_ms, currency, closes)


def _metrics(trades_by_symbol, symbols_info, from_ms, to_ms, currency, closes):
    fills = []
    for sym, rows in trades_by_symbol.items():
        base, quote = symbols_info[sym]
        for r in rows:
            fills.append((r["time"], r["id"], sym, base, quote, r))
    fills.sort(key=lambda f: (f[0], f[1]))
    lots = {}
    history = {}  # symbol -> [(time, open lots after that fill)]
    daily = {}
    trades = excluded = unpriced = 0
    volume = Decimal(0)
    unmatched = Decimal(0)
    realized_total = fees_total = Decimal(0)
    first_day, last_day = from_ms // DAY_MS, (to_ms - 1) // DAY_MS
    for t, _id, sym, base, quote, r in fills:
        if t >= to_ms:
            continue
        in_window = from_ms <= t < to_ms
        if quote != currency:
            if in_window:
                excluded += 1
            continue
        price, qty = amount(r["price"]), amount(r["qty"])
        day = t // DAY_MS
        realized = Decimal(0)
        if r["isBuyer"]:
            if qty > 0:
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
                if lot[1] == 0:
                    book.pop(0)
            if in_window and left > 0:
                unmatched += left
        history.setdefault(sym, []).append((t, [(c, q) for c, q in lots.get(sym, [])]))
        if not in_window:
            continue
        trades += 1
        volume += amount(r["quoteQty"])
        fee = amount(r["commission"])
        asset = r["commissionAsset"]
        if fee == 0:
            cost = Decimal(0)
        elif asset == quote:
            cost = fee
        elif asset == base:
            cost = fee * price
        else:
            cost = Decimal(0)
            unpriced += 1
        daily[day] = daily.get(day, Decimal(0)) + realized - cost
        realized_total += realized
        fees_total += cost

    def book_at(t):
        for sym, h in history.items():
            before = [b for ft, b in h if ft < t]
            if before and before[-1]:
                yield sym, before[-1]

    m = marks(book_at, closes, from_ms, to_ms)
    series = [round8(daily.get(d, Decimal(0)) + m[i + 1] - m[i])
              for i, d in enumerate(range(first_day, last_day + 1))]
    pnl = sum(series, Decimal(0))
    floats = [as_double(d) for d in series]
    sharpe = None
    if len(series) >= 2 and len(set(series)) > 1:
        sd = statistics.stdev(floats)
        if sd > 0:
            sharpe = statistics.mean(floats) / sd * math.sqrt(365)
    exact = {"pnl": round8(pnl), "volume": round8(volume), "unmatched_qty": round8(unmatched),
             "realized_pnl": round8(realized_total), "unrealized_pnl": round8(m[-1] - m[0]),
             "fees": round8(fees_total), "funding": Decimal(0), "daily": series}
    out = {k: as_double(v) for k, v in exact.items() if k != "daily"}
    out.update({"trades": trades, "excluded_trades": excluded, "unpriced_fees": unpriced,
                "sharpe": sharpe, "exact": exact})
    return out


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


def account_id(salt, uid, venue="binance"):
    """docs/PROTOCOL.md, "Whose account": lowercase hex HMAC-SHA256(key = the
    32-byte accountSalt, message = venue ":" uid)."""
    assert len(salt) == 32
    return hmac.new(salt, f"{venue}:{uid}".encode(), hashlib.sha256).hexdigest()
def position_lots(rows):
    """Open FIFO lots [(cost, signed qty)] after each of a contract's fills,
    long or short: a fill first closes opposite lots oldest first, the rest
    opens a lot of its own side. rows in time order; yields (time, lots)."""
    lots = []
    for r in rows:
        buyer = r["buyer"] if "buyer" in r else r.get("side") == "BUY"
        q = amount(r["qty"]) if buyer else -amount(r["qty"])
        price = amount(r["price"])
        while q != 0 and lots and (lots[0][1] > 0) != (q > 0):
            cost, lq = lots[0]
            if abs(lq) <= abs(q):
                q += lq
                lots.pop(0)
            else:
                lots[0] = (cost, lq + q)
                q = Decimal(0)
        if q != 0:
            lots.append((price, q))
        yield r["time"], list(lots)


def futures_metrics(fills, income, symbols_info, from_ms, to_ms, currency="USDT", closes=None):
    """docs/METRICS.md, "USD-M futures": fills are /fapi/v1/userTrades rows,
    income /fapi/v1/income rows, [from_ms, to_ms) the covered window. Trades
    and volume from the fills quoted in the currency; pnl = the daily sums
    of REALIZED_PNL, COMMISSION and FUNDING_FEE rows in the currency plus the
    change of the open position's mark to the daily closes (none: 0), each
    day rounded to 8 decimals; commission in another asset is unpriced."""
    with decimal.localcontext(EXACT):
        history = {}
        by_symbol = {}
        for f in sorted(fills, key=lambda f: (f["time"], f["id"])):
            if f["time"] < to_ms and symbols_info[f["symbol"]][1] == currency:
                by_symbol.setdefault(f["symbol"], []).append(f)
        for sym, rows in by_symbol.items():
            history[sym] = list(position_lots(rows))

        def book_at(t):
            for sym, h in history.items():
                before = [b for ft, b in h if ft < t]
                if before and before[-1]:
                    yield sym, before[-1]

        m = marks(book_at, closes, from_ms, to_ms)
        trades = excluded = unpriced = 0
        volume = Decimal(0)
        for f in fills:
            if not from_ms <= f["time"] < to_ms:
                continue
            if symbols_info[f["symbol"]][1] != currency:
                excluded += 1
                continue
            trades += 1
            volume += amount(f["quoteQty"])
        parts = {"REALIZED_PNL": Decimal(0), "COMMISSION": Decimal(0), "FUNDING_FEE": Decimal(0)}
        daily = {}
        for r in income:
            if not from_ms <= r["time"] < to_ms or r["incomeType"] not in parts:
                continue
            if r.get("asset", "USDT") != currency:
                if r["incomeType"] == "COMMISSION" and amount(r["income"]) != 0:
                    unpriced += 1
                continue
            v = amount(r["income"])
            parts[r["incomeType"]] += v
            day = r["time"] // DAY_MS
            daily[day] = daily.get(day, Decimal(0)) + v
        first_day, last_day = from_ms // DAY_MS, (to_ms - 1) // DAY_MS
        series = [round8(daily.get(d, Decimal(0)) + m[i + 1] - m[i])
                  for i, d in enumerate(range(first_day, last_day + 1))]
        pnl = sum(series, Decimal(0))
        floats = [as_double(d) for d in series]
        sharpe = None
        if len(series) >= 2 and len(set(series)) > 1:
            sd = statistics.stdev(floats)
            if sd > 0:
                sharpe = statistics.mean(floats) / sd * math.sqrt(365)
        exact = {"pnl": round8(pnl), "volume": round8(volume),
                 "realized_pnl": round8(parts["REALIZED_PNL"]),
                 "unrealized_pnl": round8(m[-1] - m[0]),
                 "fees": round8(-parts["COMMISSION"]), "funding": round8(parts["FUNDING_FEE"])}
        out = {k: as_double(v) for k, v in exact.items()}
        out.update({"trades": trades, "excluded_trades": excluded, "unpriced_fees": unpriced,
                    "sharpe": sharpe, "exact": exact})
        return out
