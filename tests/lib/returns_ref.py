"""An independent reference for the returns and risk metrics of issue 7
(docs/METRICS.md), computed from a binance_sim.py account definition — the
same deposits, withdrawals, transfers, fills and prices the simulator serves —
never from the enclave's output. Python standard library only; money in
fractions.Fraction (exact), ratios converted to float only at the end.

What it computes, per UTC day d of the window [from, to) (days day(from) ..
day(to - 1)):

- equity[d]: the account's value at the close of d in the currency, from the
  balances the simulator's snapshot of d reports (so None where the simulator
  has no snapshot: older than its month, before the account's first event, a
  `snapshot_missing` day, a day not yet closed). Spot: each balance valued at
  the day's close (`valuation="asset"`: ASSET+currency, else via BTC; or
  `valuation="btc"`: the snapshot's totalAssetOfBtc, rounded to 8 decimals as
  served, times BTC+currency). USD-M: the currency's marginBalance (wallet +
  unrealized PnL of open positions at the futures close).
- flows: deposits (credited statuses) +, withdrawals (debited statuses)
  -(amount + transactionFee), transfers into (+) or out of (-) the scanned
  wallet (MAIN for spot, UMFUTURE for usdm); valued at the price of the hour
  they happen in (the 1h kline's open).
- return[d] by Modified Dietz over the period since the previous day with
  known equity p (normally d - 1; a longer period bridges days without a
  snapshot): (E_d - E_p - sum F) / (E_p + sum F_i * w_i), w_i = the fraction of
  the period left after the flow. Undefined (None) when E_d or E_p is unknown
  or the denominator is not positive.
- returns_from: the first window day whose return is defined.
- pnl[d] = realized[d] + (U_d - U_{d-1}) - fees[d] + funding[d], rounded to 8
  decimals per day; U_d = the open inventory marked to d's close (spot: the
  FIFO lots of fills quoted in the currency; usdm: positions at average entry).
  realized/fees as in docs/METRICS.md (spot FIFO; usdm income rows).
  unrealized_pnl = U at the window's last close - U at the close before it, so
  pnl = realized + unrealized - fees + funding = sum of the daily pnl.
- return = prod(1 + r) - 1 over the defined days; sharpe = mean / stdev
  (ddof 1) x sqrt(annualisation) of the defined daily returns (basis
  "returns", needs >= 2 of them), else of the daily pnl (basis "pnl");
  sortino = mean / sqrt(mean(min(r, 0)^2)) x sqrt(ann) (empyrical, over all
  return days); volatility = stdev x sqrt(ann); max_drawdown = max over days of
  (peak - I) / peak of the index I = prod(1 + r) (peak starting at 1 on the day
  before returns_from), with the dates of that peak and trough and
  max_drawdown_amount = -(sum of daily pnl after the peak day up to the trough
  day); calmar = annual return ((1 + return)^(ann / n) - 1) / max_drawdown.
- round trips: a symbol's position from flat to flat (spot: FIFO inventory;
  usdm: net position, a flip ends one), counted when it ends in the window;
  its pnl = its realized PnL - its fees (all its fills); win_rate = wins /
  round_trips; profit_factor = sum of winning / |sum of losing| pnl.
- best_day / worst_day {date, pnl} (the first on ties), active_days = days
  with a fill in the window.
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
        return (update < now_ms and update >= now_ms - month_days * DAY_MS
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


def _spot_book(acct, prices, from_ms, to_ms, currency, days):
    """Realized and fees per day, U at each day close, round trips, active days
    (spot: FIFO lots of the fills quoted in the currency, docs/METRICS.md)."""
    fills = [t for t in sorted(acct.a.get("trades", []), key=lambda t: (t["time"], t["id"]))
             if t["time"] < to_ms and acct.sym(t["symbol"])[1] == currency]
    lots, trip = {}, {}
    realized, fees, marks = {}, {}, {}
    trips, active = [], set()
    # (instant, day): U of the day before the window is the book at `from`
    # marked at that day's close; each window day's, the book at its close
    checkpoints = [(from_ms, days[0] - 1)] + [(min((d + 1) * DAY_MS, to_ms), d) for d in days]
    i = 0
    for until, mark_day in checkpoints:
        while i < len(fills) and fills[i]["time"] < until:
            t = fills[i]
            i += 1
            base, quote = acct.sym(t["symbol"])
            in_win = from_ms <= t["time"]
            day = t["time"] // DAY_MS
            p, q = F(t["price"]), F(t["qty"])
            fee_amt, fa = F(t["commission"]), t["commissionAsset"]
            fee = fee_amt if fa == quote else fee_amt * p if fa == base else Fraction(0)
            book = lots.setdefault(t["symbol"], [])
            r = Fraction(0)
            if t["isBuyer"]:
                if q > 0:
                    if not book:
                        trip[t["symbol"]] = Fraction(0)  # flat -> open: a round trip starts
                    book.append([p, q])
            else:
                left = q
                while left > 0 and book:
                    m = min(left, book[0][1])
                    r += (p - book[0][0]) * m
                    book[0][1] -= m
                    left -= m
                    if book[0][1] == 0:
                        book.pop(0)
            if trip.get(t["symbol"]) is not None:
                trip[t["symbol"]] += r - fee
                if not book:  # back to flat: the round trip ends
                    if in_win:
                        trips.append(trip[t["symbol"]])
                    trip[t["symbol"]] = None
            if in_win:
                active.add(day)
                realized[day] = realized.get(day, Fraction(0)) + r
                fees[day] = fees.get(day, Fraction(0)) + fee
        u = Fraction(0)
        for s, book in lots.items():
            for p, q in book:
                u += (prices.close(s, mark_day) - p) * q
        marks[mark_day] = u
    return realized, fees, {}, marks, trips, active


def _futures_book(acct, prices, from_ms, to_ms, currency, days):
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
    marks = {}
    for d in [days[0] - 1] + days:
        u = Fraction(0)
        for s, (amt, entry) in acct.futures_positions((d + 1) * DAY_MS
                                                      if d >= days[0] else from_ms).items():
            if acct.sym(s)[1] == currency:
                u += (prices.close(s, d) - entry) * amt
        marks[d] = u
    fills = sorted((acct.a.get("futures") or {}).get("trades", []),
                   key=lambda t: (t["time"], t["id"]))
    pos, trip, trips, active = {}, {}, [], set()
    for t in fills:
        if t["time"] >= to_ms or acct.sym(t["symbol"])[1] != currency:
            continue
        q = F(t["qty"]) * (1 if t["side"] == "BUY" else -1)
        amt = pos.get(t["symbol"], Fraction(0))
        v = F(t.get("realizedPnl", "0")) - (F(t.get("commission", "0"))
                                             if t.get("commissionAsset", "USDT") == currency else 0)
        if amt == 0:
            trip[t["symbol"]] = Fraction(0)
        trip[t["symbol"]] = trip.get(t["symbol"], Fraction(0)) + v
        new = amt + q
        pos[t["symbol"]] = new
        in_win = from_ms <= t["time"] < to_ms
        if in_win:
            active.add(t["time"] // DAY_MS)
        if new == 0 or (new > 0) != (amt > 0) and amt != 0:
            if in_win:
                trips.append(trip[t["symbol"]])
            trip[t["symbol"]] = Fraction(0)
    return realized, fees, funding, marks, trips, active


def metrics(doc, api_key, from_ms, to_ms, now_ms, scope="spot", currency="USDT",
            annualization=365, valuation="asset"):
    """The issue-7 metrics of one simulator account (see the module text)."""
    acct = Account(doc, api_key)
    prices = Prices(doc)
    days = list(range(from_ms // DAY_MS, (to_ms - 1) // DAY_MS + 1))
    book = _spot_book if scope == "spot" else _futures_book
    realized, fees, funding, marks, trips, active = book(acct, prices, from_ms, to_ms,
                                                         currency, days)
    # equity at every day close from before the window (a base for its first day)
    known = {}
    lookback = days[0] - 40
    for d in range(lookback, days[-1] + 1):
        if acct.has_snapshot(d, now_ms):
            known[d] = equity(acct, prices, d, scope, currency, valuation)
    fl = flows(acct, prices, scope, currency)
    daily = []
    returns = {}
    for d in days:
        u_prev = marks.get(d - 1, Fraction(0))
        pnl = round8(realized.get(d, 0) + (marks.get(d, Fraction(0)) - u_prev)
                     - fees.get(d, 0) + funding.get(d, 0))
        r = None
        if d in known:
            prev = max((p for p in known if p < d), default=None)
            if prev is not None:
                p0, p1 = (prev + 1) * DAY_MS, (d + 1) * DAY_MS
                inside = [(t, v) for t, v in fl if p0 <= t < p1]
                net = sum((v for _, v in inside), Fraction(0))
                den = known[prev] + sum((v * Fraction(p1 - t, p1 - p0) for t, v in inside),
                                        Fraction(0))
                if den > 0:
                    r = (known[d] - known[prev] - net) / den
        if r is not None:
            returns[d] = r
        daily.append({"date": date_of(d), "pnl": pnl, "return": r,
                      "equity": known.get(d)})
    rdays = sorted(returns)
    rs = [returns[d] for d in rdays]
    out = {"daily": daily, "returns_from": date_of(rdays[0]) if rdays else None}
    pnl_days = [e["pnl"] for e in daily]
    out["realized_pnl"] = round8(sum(realized.values(), Fraction(0)))
    out["fees"] = round8(sum(fees.values(), Fraction(0)))
    out["funding"] = round8(sum(funding.values(), Fraction(0)))
    out["unrealized_pnl"] = round8(marks.get(days[-1], Fraction(0))
                                   - marks.get(days[0] - 1, Fraction(0)))
    out["pnl"] = sum(pnl_days, Fraction(0))
    # time-weighted return and the ratios
    idx = Fraction(1)
    for r in rs:
        idx *= 1 + r
    out["return"] = idx - 1 if rs else None
    fr = [float(r) for r in rs]
    if len(fr) >= 2:
        out["sharpe"], out["sharpe_basis"] = sharpe(fr, annualization), "returns"
    else:
        out["sharpe"], out["sharpe_basis"] = sharpe([float(p) for p in pnl_days],
                                                     annualization), "pnl"
    out["sortino"] = sortino(fr, annualization) if fr else None
    out["volatility"] = volatility(fr, annualization) if len(fr) >= 2 else None
    dd = max_drawdown_of(rs)
    out["max_drawdown"] = float(dd[0]) if rs else None
    if rs and dd[0] > 0:
        peak_day = rdays[dd[1]] if dd[1] >= 0 else rdays[0] - 1
        trough_day = rdays[dd[2]]
        out["max_drawdown_peak"], out["max_drawdown_trough"] = date_of(peak_day), date_of(trough_day)
        out["max_drawdown_amount"] = -sum((e["pnl"] for e, d in zip(daily, days)
                                           if peak_day < d <= trough_day), Fraction(0))
    else:
        out["max_drawdown_peak"] = out["max_drawdown_trough"] = None
        out["max_drawdown_amount"] = Fraction(0)
    if rs and dd[0] > 0:
        annual = (1 + float(out["return"])) ** (annualization / len(rs)) - 1
        out["calmar"] = annual / float(dd[0])
    else:
        out["calmar"] = None
    wins = [p for p in trips if p > 0]
    losses = [p for p in trips if p < 0]
    out["round_trips"] = len(trips)
    out["win_rate"] = len(wins) / len(trips) if trips else None
    out["profit_factor"] = (float(sum(wins, Fraction(0)) / -sum(losses, Fraction(0)))
                            if losses else None)
    if daily:
        best = max(daily, key=lambda e: e["pnl"])
        worst = min(daily, key=lambda e: e["pnl"])
        out["best_day"] = {"date": best["date"], "pnl": best["pnl"]}
        out["worst_day"] = {"date": worst["date"], "pnl": worst["pnl"]}
    out["active_days"] = len(active)
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
    """(fraction, peak index, trough index) of the cumulative index prod(1 + r)
    against its running peak, which starts at 1 (index -1: before the first day)."""
    idx, peak, peak_i = Fraction(1), Fraction(1), -1
    best = (Fraction(0), -1, -1)
    for i, r in enumerate(returns):
        idx *= 1 + (r if isinstance(r, Fraction) else Fraction(r))
        if idx > peak:
            peak, peak_i = idx, i
        dd = (peak - idx) / peak
        if dd > best[0]:
            best = (dd, peak_i, i)
    return best
