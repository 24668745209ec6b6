"""An independent reference for the returns and risk metrics of issue 7
(docs/METRICS.md), computed from a binance_sim.py account definition — the
same deposits, withdrawals, transfers, fills and prices the simulator serves —
never from the enclave's output. Python standard library only; money in
fractions.Fraction (exact), ratios converted to float only at the end.

What it computes, per UTC day d of the window [from, to) (days day(from) ..
day(to - 1)); where the issue text is silent it follows GIPS and empyrical,
and the choices docs/METRICS.md states:

- equity[d]: the account's value at the close of d in the currency (rounded to
  8 decimals in the series), from the balances the simulator's snapshot of d
  reports — None where the simulator has no snapshot (older than its month,
  before the account's first event, a `snapshot_missing` day, not yet
  closed). Spot: each balance valued at the day's close (`valuation="asset"`:
  ASSET+currency, else ASSETBTC x BTC+currency; or `valuation="btc"`: the
  snapshot's totalAssetOfBtc, rounded to 8 decimals as served, times
  BTC+currency). USD-M: the currency's marginBalance (wallet + unrealized PnL
  of the open positions at the futures close, as the snapshot reports it).
- flows: deposits (credited statuses) +amount, withdrawals (debited
  statuses) -(amount + transactionFee), transfers into (+) or out of (-) the
  scanned wallet (MAIN for spot, UMFUTURE for usdm); valued at the price of the
  hour they happen in (the 1h kline's open).
- returns: valuations from the close of the day before the window on; between
  two consecutive valuations (a gap of days without a snapshot makes the
  period longer) one Modified Dietz return (E1 - E0 - sum F) / (E0 + sum w F),
  w = the share of the period after the flow, on the day that ends the period.
  No capital and no gain: 0; a gain on no capital: undefined (no return that
  day). returns_from = the day after the first valuation, when there are two.
- pnl[d] = realized[d] + (U_d - U_{d-1}) - fees[d] + funding[d], rounded to 8
  decimals per day; U = the open FIFO lots of the fills quoted in the currency
  (spot long-only; usdm long or short) marked at the day's close, U_{day0-1} the
  book at `from` marked at the close of the day before. Spot realized and fees
  as docs/METRICS.md (FIFO, fees of window fills); usdm realized, fees and
  funding from the income rows. unrealized_pnl = U at the last boundary - U
  before the window, so pnl = realized + unrealized - fees + funding = the sum
  of the daily pnl.
- with returns: return = prod(1 + r) - 1; sharpe (basis "returns") = mean /
  stdev (ddof 1) x sqrt(ann); sortino = mean x ann / (sqrt(mean(min(r, 0)^2)) x
  sqrt(ann)) over all return days (empyrical); volatility = stdev x sqrt(ann);
  max_drawdown = the largest (peak - I) / peak of I = prod(1 + r) (the peak
  starting at 1 on the day before returns_from; the earliest trough on ties),
  its peak and trough dates, max_drawdown_amount = -(the Modified Dietz gains
  after the peak up to the trough); calmar = ((1 + return)^(ann / days) - 1) /
  max_drawdown, days = returns_from .. the last window day. Without returns:
  sharpe and sortino on the daily pnl (basis "pnl"), the rest None.
- round trips: a symbol's position from flat through flat (usdm: the net
  position, a flip closes one and opens the next; spot: the base the fills
  left in the account, a fee paid in the base not held, floored at 0), counted
  when the fill that ends it is in the window; its pnl = its fills' FIFO
  realized PnL - their fees in the currency; win_rate = wins / round_trips;
  profit_factor = sum of winning / |sum of the others|.
- best_day / worst_day {date, pnl} (the earliest on ties; None when every day
  is 0), active_days = days with a counted fill in the window.
"""
import calendar
import math
import time
from fractions import Fraction

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
KNOWN_QUOTES = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY"]
DEPOSIT_CREDITED = {1, 6}
WITHDRAW_DEBITED = {0, 2, 4, 6}


def F(s):
    """A decimal string (or int) as an exact fraction."""
    if isinstance(s, int):
        return Fraction(s)
    assert isinstance(s, str) and "e" not in s.lower(), s
    return Fraction(s)


def round8(x):
    """Half away from zero to 8 decimals (docs/METRICS.md), as a Fraction."""
    n = x * 10 ** 8
    q = (abs(n.numerator) * 2 + n.denominator) // (2 * n.denominator)  # |n| rounded half up
    return Fraction(q if n >= 0 else -q, 10 ** 8)


def round8_even(x):
    """Decimal.quantize's default (half even) to 8 decimals: how the simulator
    prints its sums."""
    return Fraction(round(x * 10 ** 8), 10 ** 8)


def date_of(day):
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86400))


def split_symbol(symbol, listed=None):
    if listed and symbol in listed:
        return listed[symbol]
    for q in KNOWN_QUOTES:
        if symbol.endswith(q) and len(symbol) > len(q):
            return symbol[:-len(q)], q
    raise ValueError(symbol)


class Prices:
    """The simulator's `prices` for constant and step (`points`) symbols and
    `from_trades`: a step holds from its instant on, a fill sets the price
    after it."""

    def __init__(self, doc):
        self.spec = doc.get("prices", {})
        self.fills = {}
        for a in doc["accounts"]:
            for t in a.get("trades", []):
                self.fills.setdefault(t["symbol"], []).append((t["time"], F(t["price"])))
            for t in (a.get("futures") or {}).get("trades", []):
                self.fills.setdefault(t["symbol"], []).append((t["time"], F(t["price"])))
        for v in self.fills.values():
            v.sort()

    def has(self, symbol):
        return symbol in self.spec

    def at(self, symbol, instant):
        """The price at an instant that starts an hour (ms)."""
        s = self.spec[symbol]
        if isinstance(s, (str, int)):
            return F(s)
        if "points" in s:
            pts = sorted((int(t), F(p)) for t, p in s["points"])
            p = pts[0][1]
            for t, v in pts:
                if t <= instant:
                    p = v
            return p
        if s.get("from_trades"):
            pts = self.fills[symbol]
            p = pts[0][1]
            for t, v in pts:
                if t < instant:
                    p = v
            return p
        raise ValueError("returns_ref prices only constant, points or from_trades: " + symbol)

    def close(self, symbol, day):
        return self.at(symbol, (day + 1) * DAY_MS)

    def hour_open(self, symbol, t):
        return self.at(symbol, t // HOUR_MS * HOUR_MS)


def asset_price(prices, asset, currency, when):
    """An asset in the currency: 1, ASSET+currency, else ASSETBTC x BTC+currency."""
    if asset == currency:
        return Fraction(1)
    if prices.has(asset + currency):
        return when(asset + currency)
    if prices.has(asset + "BTC") and prices.has("BTC" + currency):
        return when(asset + "BTC") * when("BTC" + currency)
    raise ValueError("returns_ref: no price for %s in %s" % (asset, currency))


def btc_price(prices, asset, day):
    """As the simulator values totalAssetOfBtc."""
    if asset == "BTC":
        return Fraction(1)
    if prices.has(asset + "BTC"):
        return prices.close(asset + "BTC", day)
    if prices.has("BTC" + asset):
        return 1 / prices.close("BTC" + asset, day)
    if prices.has(asset + "USDT") and prices.has("BTCUSDT"):
        return prices.close(asset + "USDT", day) / prices.close("BTCUSDT", day)
    return Fraction(0)


def transfer_ends(ttype):
    for w in ("ISOLATEDMARGIN", "PORTFOLIO_MARGIN", "MAIN", "UMFUTURE", "CMFUTURE", "MARGIN",
              "FUNDING", "OPTION"):
        if ttype.startswith(w + "_"):
            return w, ttype[len(w) + 1:]
    raise ValueError(ttype)


def futures_income(acct):
    """The income rows: as given, else as the simulator derives them."""
    f = acct.get("futures") or {}
    if "income" in f:
        return [dict(r, asset=r.get("asset", "USDT")) for r in f["income"]]
    rows = []
    for t in f.get("trades", []):
        if F(t.get("realizedPnl", "0")) != 0:
            rows.append({"incomeType": "REALIZED_PNL", "income": t["realizedPnl"],
                         "asset": "USDT", "time": t["time"]})
        if F(t.get("commission", "0")) != 0:
            rows.append({"incomeType": "COMMISSION", "income": str(-F(t["commission"])),
                         "asset": t.get("commissionAsset", "USDT"), "time": t["time"]})
    for fu in f.get("funding", []):
        rows.append({"incomeType": "FUNDING_FEE", "income": fu["income"],
                     "asset": fu.get("asset", "USDT"), "time": fu["time"]})
    for t in acct.get("transfers", []):
        if t.get("status", "CONFIRMED") != "CONFIRMED":
            continue
        src, dst = transfer_ends(t["type"])
        if "UMFUTURE" in (src, dst) and src != dst:
            amt = F(t["amount"])
            rows.append({"incomeType": "TRANSFER", "income": str(amt if dst == "UMFUTURE" else -amt),
                         "asset": t["asset"], "time": t["time"]})
    return rows


class Account:
    """Balances over time, flows and fills of one simulator account."""

    def __init__(self, doc, api_key):
        self.doc = doc
        self.a = [a for a in doc["accounts"] if a["api_key"] == api_key][0]
        listed = {s["symbol"]: (s["baseAsset"], s["quoteAsset"]) for s in doc.get("symbols", [])}
        self.sym = lambda s: split_symbol(s, listed)
        a = self.a
        ev = []   # spot: (time, asset, delta)
        for d in a.get("deposits", []):
            if d.get("status", 1) in DEPOSIT_CREDITED:
                ev.append((d["time"], d["coin"], F(d["amount"])))
        for w in a.get("withdrawals", []):
            if w.get("status", 6) in WITHDRAW_DEBITED:
                ev.append((w["time"], w["coin"], -(F(w["amount"]) + F(w.get("transactionFee", "0")))))
        for t in a.get("transfers", []):
            if t.get("status", "CONFIRMED") != "CONFIRMED":
                continue
            src, dst = transfer_ends(t["type"])
            if src == "MAIN":
                ev.append((t["time"], t["asset"], -F(t["amount"])))
            if dst == "MAIN":
                ev.append((t["time"], t["asset"], F(t["amount"])))
        for t in a.get("trades", []):
            base, quote = self.sym(t["symbol"])
            s = 1 if t["isBuyer"] else -1
            ev += [(t["time"], base, s * F(t["qty"])), (t["time"], quote, -s * F(t["quoteQty"])),
                   (t["time"], t["commissionAsset"], -F(t["commission"]))]
        self.spot_ev = sorted(ev, key=lambda e: e[0])
        self.income = futures_income(a)
        self.f_ev = sorted(((r["time"], r["asset"], F(r["income"])) for r in self.income),
                           key=lambda e: e[0])
        self.opening = self._opening(a.get("opening_balances"), a.get("balances"), self.spot_ev)
        fut = a.get("futures") or {}
        self.f_opening = self._opening(fut.get("opening_assets"), fut.get("assets"), self.f_ev)
        if "snapshot_from" in a:
            self.first_day = int(a["snapshot_from"]) // DAY_MS
        elif self.opening or self.f_opening:
            self.first_day = None
        else:
            times = [e[0] for e in self.spot_ev] + [e[0] for e in self.f_ev]
            self.first_day = min(times) // DAY_MS if times else None
        self.has_history = any(k in a for k in ("deposits", "withdrawals", "transfers",
                                                 "opening_balances", "snapshot_from",
                                                 "snapshot_missing")) or "opening_assets" in fut
        self.missing = set()
        for s in a.get("snapshot_missing", []):
            self.missing.add(calendar.timegm(time.strptime(s, "%Y-%m-%d")) // 86400)

    @staticmethod
    def _opening(given, current, events):
        if given is not None:
            return {k: F(v) for k, v in given.items()}
        if not current:
            return {}
        out = {}
        for k, v in current.items():
            out[k] = (F(v.get("free", "0")) + F(v.get("locked", "0"))) if isinstance(v, dict) else F(v)
        for _, asset, dlt in events:
            out[asset] = out.get(asset, Fraction(0)) - dlt
        return {k: v for k, v in out.items() if v != 0}

    @staticmethod
    def _balances(opening, events, until):
        bal = dict(opening)
        for t, asset, dlt in events:
            if t < until:
                bal[asset] = bal.get(asset, Fraction(0)) + dlt
        return bal

    def futures_positions(self, until):
        """{symbol: (amount, average entry)} after the fills before `until`."""
        pos = {}
        fills = sorted((self.a.get("futures") or {}).get("trades", []),
                       key=lambda t: (t["time"], t["id"]))
        for t in fills:
            if t["time"] >= until:
                break
            q = F(t["qty"]) * (1 if t["side"] == "BUY" else -1)
            p = F(t["price"])
            amt, entry = pos.get(t["symbol"], (Fraction(0), Fraction(0)))
            new = amt + q
            if amt == 0 or (amt > 0) == (q > 0):
                entry = (entry * abs(amt) + p * abs(q)) / abs(new)
            elif new != 0 and (new > 0) != (amt > 0):
                entry = p
            if new == 0:
                entry = Fraction(0)
            pos[t["symbol"]] = (new, entry)
        return {s: v for s, v in pos.items() if v[0] != 0}

    def has_snapshot(self, day, now_ms, month_days=30):
        update = (day + 1) * DAY_MS - 1000
        return (self.has_history and update < now_ms and update >= now_ms - month_days * DAY_MS
                and day not in self.missing
                and (self.first_day is None or day >= self.first_day))


def equity(acct, prices, day, scope, currency, valuation):
    end = (day + 1) * DAY_MS
    if scope == "spot":
        bal = acct._balances(acct.opening, acct.spot_ev, end)
        if valuation == "btc":
            tot = round8_even(sum((v * btc_price(prices, k, day) for k, v in bal.items() if v != 0),
                                  Fraction(0)))
            return tot * prices.close("BTC" + currency, day)
        return sum((v * asset_price(prices, k, currency, lambda s: prices.close(s, day))
                    for k, v in bal.items() if v != 0), Fraction(0))
    bal = acct._balances(acct.f_opening, acct.f_ev, end)
    u = Fraction(0)
    for s, (amt, entry) in acct.futures_positions(end).items():
        if acct.sym(s)[1] == currency:
            u += (prices.close(s, day) - entry) * amt
    return bal.get(currency, Fraction(0)) + u


def flows(acct, prices, scope, currency):
    """[(time, value in the currency)] of the external flows of the scanned wallet."""
    out = []
    wallet = "MAIN" if scope == "spot" else "UMFUTURE"
    a = acct.a

    def val(asset, amt, t):
        return amt * asset_price(prices, asset, currency, lambda s: prices.hour_open(s, t))
    if scope == "spot":
        for d in a.get("deposits", []):
            if d.get("status", 1) in DEPOSIT_CREDITED:
                out.append((d["time"], val(d["coin"], F(d["amount"]), d["time"])))
        for w in a.get("withdrawals", []):
            if w.get("status", 6) in WITHDRAW_DEBITED:
                amt = F(w["amount"]) + F(w.get("transactionFee", "0"))
                out.append((w["time"], -val(w["coin"], amt, w["time"])))
    for t in a.get("transfers", []):
        if t.get("status", "CONFIRMED") != "CONFIRMED":
            continue
        src, dst = transfer_ends(t["type"])
        if src == dst or wallet not in (src, dst):
            continue
        v = val(t["asset"], F(t["amount"]), t["time"])
        out.append((t["time"], v if dst == wallet else -v))
    return sorted(out)


class _Book:
    """One symbol's FIFO lots, long (qty > 0) or short (< 0)."""

    def __init__(self):
        self.lots = []  # [price, signed qty], all of one sign

    def fill(self, price, sq, allow_short):
        """Closes opposite lots oldest first; returns the realized PnL."""
        realized = Fraction(0)
        left = sq
        while left != 0 and self.lots and (self.lots[0][1] > 0) != (left > 0):
            lot = self.lots[0]
            take = -left if abs(left) < abs(lot[1]) else lot[1]   # the lot's signed part closed
            realized += (price - lot[0]) * take
            lot[1] -= take
            left += take
            if lot[1] == 0:
                self.lots.pop(0)
        if left != 0 and (allow_short or left > 0):
            self.lots.append([price, left])
        return realized

    def mark(self, close):
        return sum(((close - p) * q for p, q in self.lots), Fraction(0))


def _books(acct, prices, from_ms, to_ms, currency, days, scope):
    """Per day: realized and fees booked (spot) and the counted fills; the
    inventory's mark at every boundary (the day before the window: the book
    at `from` at that day's close; each window day: the book at its end, or
    at `to`); round trips closed in the window."""
    if scope == "spot":
        fills = [dict(t, _sq=F(t["qty"]) * (1 if t["isBuyer"] else -1))
                 for t in acct.a.get("trades", [])]
    else:
        fills = [dict(t, _sq=F(t["qty"]) * (1 if t["side"] == "BUY" else -1))
                 for t in (acct.a.get("futures") or {}).get("trades", [])]
    fills = [t for t in fills if t["time"] < to_ms and acct.sym(t["symbol"])[1] == currency]
    fills.sort(key=lambda t: (t["symbol"], t["time"], t["id"]))
    realized, fees, nfills, marks = {}, {}, {}, {}
    trips = []
    bounds = [(from_ms, days[0] - 1)] + [(min((d + 1) * DAY_MS, to_ms), d) for d in days]
    for symbol in sorted({t["symbol"] for t in fills}):
        base, quote = acct.sym(symbol)
        book, held, trip = _Book(), Fraction(0), None
        mine = [t for t in fills if t["symbol"] == symbol]
        i = 0
        for until, mark_day in bounds:
            while i < len(mine) and mine[i]["time"] < until:
                t = mine[i]
                i += 1
                p = F(t["price"])
                c, ca = F(t.get("commission", "0")), t.get("commissionAsset", "USDT")
                if scope == "spot":
                    fee = c if ca == quote else c * p if ca == base else Fraction(0)
                else:
                    fee = c if ca == quote else Fraction(0)
                r = book.fill(p, t["_sq"], scope != "spot")
                # the position a round trip follows: usdm the net quantity;
                # spot the base the fills left in the account (a fee in the
                # base is not held), never below 0
                delta = t["_sq"] - (c if scope == "spot" and ca == base else 0)
                after = held + delta
                if scope == "spot" and after < 0:
                    after = Fraction(0)
                if trip is not None:
                    trip += r - fee
                elif after != 0:
                    trip = r - fee
                if trip is not None and held != 0 and (after > 0) - (after < 0) != \
                        (held > 0) - (held < 0):
                    if t["time"] >= from_ms:
                        trips.append(trip)
                    trip = Fraction(0) if after != 0 else None
                held = after
                if t["time"] >= from_ms:
                    day = t["time"] // DAY_MS
                    nfills[day] = nfills.get(day, 0) + 1
                    if scope == "spot":
                        realized[day] = realized.get(day, Fraction(0)) + r
                        fees[day] = fees.get(day, Fraction(0)) + fee
            marks[mark_day] = marks.get(mark_day, Fraction(0)) + (
                book.mark(prices.close(symbol, mark_day)) if book.lots else 0)
    for _, d in bounds:
        marks.setdefault(d, Fraction(0))
    return realized, fees, nfills, marks, trips


def _income_days(acct, from_ms, to_ms, currency):
    """USD-M: the income rows in the window, in the currency, per day."""
    realized, fees, funding = {}, {}, {}
    for r in acct.income:
        if not from_ms <= r["time"] < to_ms or r.get("asset", "USDT") != currency:
            continue
        d = r["time"] // DAY_MS
        v = F(r["income"])
        if r["incomeType"] == "REALIZED_PNL":
            realized[d] = realized.get(d, Fraction(0)) + v
        elif r["incomeType"] == "COMMISSION":
            fees[d] = fees.get(d, Fraction(0)) - v
        elif r["incomeType"] == "FUNDING_FEE":
            funding[d] = funding.get(d, Fraction(0)) + v
    return realized, fees, funding


def modified_dietz(v0, v1, flows, start, end):
    """(return or None, gain): (v1 - v0 - sum F) / (v0 + sum w F), w = the share
    of [start, end) after the flow. No capital and no gain: 0; a gain or loss
    on no capital: undefined."""
    inside = [(t, v) for t, v in flows if start <= t < end]
    gain = v1 - v0 - sum((v for _, v in inside), Fraction(0))
    den = v0 + sum((v * Fraction(end - t, end - start) for t, v in inside), Fraction(0))
    if den > 0:
        return gain / den, gain
    return (Fraction(0) if gain == 0 else None), gain


def metrics(doc, api_key, from_ms, to_ms, now_ms, scope="spot", currency="USDT",
            annualization=365, valuation="asset", base_day=True):
    """The issue-7 metrics of one simulator account (see the module text).
    base_day False: no valuation of the day before the window (the returns
    then start the day after the window's first valuation)."""
    acct = Account(doc, api_key)
    prices = Prices(doc)
    days = list(range(from_ms // DAY_MS, (to_ms - 1) // DAY_MS + 1))
    realized, fees, nfills, marks, trips = _books(acct, prices, from_ms, to_ms, currency,
                                                  days, scope)
    funding = {}
    if scope != "spot":
        realized, fees, funding = _income_days(acct, from_ms, to_ms, currency)
    # valuations: the close of the day before the window, then each window day
    vals = [(d, equity(acct, prices, d, scope, currency, valuation))
            for d in ([days[0] - 1] if base_day else []) + days
            if acct.has_snapshot(d, now_ms)]
    fl = flows(acct, prices, scope, currency)
    returns, gains = {}, {}
    returns_from = None
    for (d0, e0), (d1, e1) in zip(vals, vals[1:]):
        if returns_from is None:
            returns_from = d0 + 1
        r, g = modified_dietz(e0, e1, fl, (d0 + 1) * DAY_MS, (d1 + 1) * DAY_MS)
        if r is not None:
            returns[d1], gains[d1] = r, g
    known = dict(vals)
    daily = []
    for d in days:
        pnl = round8(realized.get(d, 0) + (marks[d] - marks[d - 1])
                     - fees.get(d, 0) + funding.get(d, 0))
        daily.append({"date": date_of(d), "pnl": pnl, "return": returns.get(d),
                      "equity": round8(known[d]) if d in known else None})
    out = {"daily": daily, "returns_from": date_of(returns_from) if returns_from else None}
    pnl_days = [e["pnl"] for e in daily]
    out["realized_pnl"] = round8(sum(realized.values(), Fraction(0)))
    out["fees"] = round8(sum(fees.values(), Fraction(0)))
    out["funding"] = round8(sum(funding.values(), Fraction(0)))
    out["unrealized_pnl"] = round8(marks[days[-1]] - marks[days[0] - 1])
    out["pnl"] = sum(pnl_days, Fraction(0))
    rdays = sorted(returns)
    rs = [returns[d] for d in rdays]
    fr = [float(r) for r in rs]
    for k in ("return", "volatility", "max_drawdown", "max_drawdown_peak",
              "max_drawdown_trough", "calmar", "sortino"):
        out[k] = None
    out["max_drawdown_amount"] = None
    if returns_from is not None:
        idx = Fraction(1)
        for r in rs:
            idx *= 1 + r
        out["return"] = idx - 1
        out["sharpe"], out["sharpe_basis"] = sharpe(fr, annualization), "returns"
        out["sortino"] = sortino(fr, annualization) if fr else None
        out["volatility"] = volatility(fr, annualization) if len(fr) >= 2 else None
        if rs:
            dd, peak, trough = max_drawdown_of(rs)
            out["max_drawdown"] = float(dd)
            out["max_drawdown_amount"] = Fraction(0)
            if dd > 0:
                out["max_drawdown_peak"] = date_of(rdays[peak] if peak >= 0 else returns_from - 1)
                out["max_drawdown_trough"] = date_of(rdays[trough])
                out["max_drawdown_amount"] = round8(-sum((gains[d] for d in rdays[peak + 1:trough + 1]),
                                                         Fraction(0)))
                base = 1 + float(out["return"])
                if base > 0:
                    annual = base ** (annualization / (days[-1] - returns_from + 1)) - 1
                    out["calmar"] = annual / float(dd)
    else:
        pf = [float(p) for p in pnl_days]
        out["sharpe"] = sharpe(pf, annualization) if len(set(pnl_days)) > 1 else None
        out["sharpe_basis"] = "pnl"
        out["sortino"] = sortino(pf, annualization) if pf else None
    wins = [p for p in trips if p > 0]
    losses = [p for p in trips if p <= 0]
    out["round_trips"] = len(trips)
    out["win_rate"] = len(wins) / len(trips) if trips else None
    lost = -sum(losses, Fraction(0))
    out["profit_factor"] = float(sum(wins, Fraction(0)) / lost) if lost > 0 else None
    out["best_day"] = out["worst_day"] = None
    if any(p != 0 for p in pnl_days):
        best = max(daily, key=lambda e: e["pnl"])    # max/min keep the earliest on ties
        worst = min(daily, key=lambda e: e["pnl"])
        out["best_day"] = {"date": best["date"], "pnl": best["pnl"]}
        out["worst_day"] = {"date": worst["date"], "pnl": worst["pnl"]}
    out["active_days"] = sum(1 for d in days if nfills.get(d))
    return out


# --- the ratios (floats: a ratio is not money) -------------------------------------

def _sum(a):
    """numpy's pairwise summation (blocks of 8 partial sums up to 128 values,
    halves above), so that empyrical's published values come out bit for bit."""
    n = len(a)
    if n < 8:
        s = 0.0
        for v in a:
            s += v
        return s
    if n <= 128:
        r = list(a[:8])
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            s += a[i]
            i += 1
        return s
    h = n // 2
    h -= h % 8
    return _sum(a[:h]) + _sum(a[h:])


def _mean(x):
    return _sum(list(x)) / len(x)


def _stdev(x):
    m = _mean(x)
    return math.sqrt(_sum([(v - m) * (v - m) for v in x]) / (len(x) - 1))


def sharpe(returns, annualization=365):
    """mean / sample stdev (ddof 1) x sqrt(annualization), risk-free 0; None when
    undefined (fewer than 2 values, or no dispersion)."""
    if len(returns) < 2:
        return None
    sd = _stdev(returns)
    if not sd > 0:
        return None
    return _mean(returns) / sd * math.sqrt(annualization)


def sortino(returns, annualization=365):
    """empyrical.sortino_ratio with required return 0: mean x ann / (downside
    deviation x sqrt(ann)), the downside deviation sqrt(mean(min(r, 0)^2)) over
    all days."""
    dd = math.sqrt(_sum([min(r, 0.0) * min(r, 0.0) for r in returns]) / len(returns))
    if not dd > 0:
        return None
    return _mean(returns) * annualization / (dd * math.sqrt(annualization))


def volatility(returns, annualization=365):
    return _stdev(returns) * math.sqrt(annualization)


def max_drawdown_of(returns):
    """(fraction, peak, trough) of the cumulative index prod(1 + r) against its
    running peak, which starts at 1 (peak -1: before the first return); the
    earliest trough wins a tie. Indices are positions in `returns`."""
    idx, top, top_at = Fraction(1), Fraction(1), -1
    best = (Fraction(0), -1, -1)
    for i, r in enumerate(returns):
        idx *= 1 + (r if isinstance(r, Fraction) else Fraction(r))
        if idx > top:
            top, top_at = idx, i
            continue
        dd = (top - idx) / top
        if dd > best[0]:
            best = (dd, top_at, i)
    return best
