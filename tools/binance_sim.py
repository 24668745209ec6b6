#!/usr/bin/python3
"""A Binance-compatible spot REST simulator (Python 3 standard library only).

It serves the endpoints perfagg's enclave calls, for the accounts named in a
JSON file, and checks signed requests the way Binance documents it:

  GET /api/v3/ping           {}
  GET /api/v3/time           {"serverTime": ms}
  GET /api/v3/exchangeInfo   symbol | symbols=["A","B"] | symbolStatus, showPermissionSets
  GET /api/v3/account        SIGNED; omitZeroBalances
  GET /api/v3/myTrades       SIGNED; symbol, orderId, fromId, startTime, endTime, limit

Signed requests: X-MBX-APIKEY must name a configured account (else HTTP 401
-2015); `signature` = hex HMAC-SHA256(api_secret, the query string without the
signature parameter) (else HTTP 400 -1022); `timestamp` must satisfy
serverTime - recvWindow <= timestamp < serverTime + 1000 (else HTTP 400 -1021),
recvWindow <= 60000 (else -1131). Unknown symbols get HTTP 400 -1121.

Usage:
  binance_sim.py --accounts FILE --port N [--host 127.0.0.1] [--port-file F] [TLS]
  binance_sim.py --demo-out DIR  --port N [--host 127.0.0.1] [--port-file F] [TLS]
  TLS: --tls-cert PEM --tls-key PEM serves HTTPS instead of HTTP (a test
  certificate, e.g. from tools/test-ca.sh; the handshake runs in the request's
  thread, so a slow client never blocks the others).

Accounts file (secrets live in the file, never on the command line):
  {"accounts": [{"api_key": "...", "api_secret": "...",
                 "balances": {"BTC": "0.5", "ETH": {"free": "1", "locked": "0.2"}},
                 "trades": [{"symbol": "BTCUSDT", "id": 1, "orderId": 7, "price": "60000",
                             "qty": "0.01", "quoteQty": "600", "commission": "0.6",
                             "commissionAsset": "USDT", "time": 1700000000000,
                             "isBuyer": true, "isMaker": false, "isBestMatch": true}],
                 "fault": "http500",      (optional, see below)
                 "slow_ms": 5000,         (optional, for "slow")
                 "clock_skew_ms": 0}],    (optional)
   "symbols": [{"symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT",
                "status": "TRADING"}]}    (optional; a default list when absent)

Fault injection (per account, for tests):
  fault "http500"   signed calls answer HTTP 500 {"code":-1000,...}
  fault "http429"   signed calls answer HTTP 429 {"code":-1003,...} with Retry-After
  fault "slow"      signed calls sleep slow_ms (default 5000) before answering
  fault "bad_json"  signed calls answer HTTP 200 with a truncated JSON body
  fault "redirect"  signed calls answer HTTP 302 to another host and port
  fault "http418"   signed calls answer HTTP 418 (IP banned) with Retry-After: retry_after_s
                    (default 120)
  fault "http451"   signed calls answer HTTP 451 (restricted location)
  fail_first N      the first N signed calls answer HTTP 500, later ones are served
  used_weight N     answers to this account's key carry X-MBX-USED-WEIGHT-1M: N
  clock_skew_ms N   this account's server clock runs N ms ahead (negative: behind);
                    it applies to signed calls and to /api/v3/time when the request
                    carries that account's X-MBX-APIKEY header.

--demo-out DIR writes a demo account (random API key and secret in DIR/api_key and
DIR/api_secret, mode 0600, and DIR/accounts.json) with ~90 days of trades ending
now, then serves it. One log line per request: method, path (never the query
string or headers) and status.
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import secrets
import ssl
import string
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_plus

DEFAULT_SYMBOLS = [
    ("BTCUSDT", "BTC", "USDT"), ("ETHUSDT", "ETH", "USDT"), ("SOLUSDT", "SOL", "USDT"),
    ("BNBUSDT", "BNB", "USDT"), ("XRPUSDT", "XRP", "USDT"), ("ADAUSDT", "ADA", "USDT"),
    ("DOGEUSDT", "DOGE", "USDT"), ("USDCUSDT", "USDC", "USDT"), ("FDUSDUSDT", "FDUSD", "USDT"),
    ("BTCUSDC", "BTC", "USDC"), ("ETHUSDC", "ETH", "USDC"), ("BTCFDUSD", "BTC", "FDUSD"),
    ("ETHBTC", "ETH", "BTC"), ("SOLBTC", "SOL", "BTC"), ("BNBBTC", "BNB", "BTC"),
    ("BNBETH", "BNB", "ETH"), ("SOLETH", "SOL", "ETH"), ("SOLBNB", "SOL", "BNB"),
]

MAX_RECV_WINDOW = 60000
DEFAULT_SLOW_MS = 5000

ERR_KEY = (401, -2015, "Invalid API-key, IP, or permissions for action.")
ERR_SIGNATURE = (400, -1022, "Signature for this request is not valid.")
ERR_TIMESTAMP = (400, -1021, "Timestamp for this request is outside of the recvWindow.")
ERR_RECV_WINDOW = (400, -1131, "recvWindow must be less than 60000")
ERR_SYMBOL = (400, -1121, "Invalid symbol.")
ERR_DUPLICATE = (400, -1101, "Duplicate values for a parameter detected.")
ERR_COMBINATION = (400, -1128, "Combination of optional parameters invalid.")
ERR_RANGE = (400, -1127, "More than 24 hours between startTime and endTime.")
ERR_UNKNOWN = (500, -1000, "An unknown error occurred while processing the request.")
ERR_TOO_MANY = (429, -1003, "Too many requests; current limit of IP is 6000 requests per minute.")
ERR_BANNED = (418, -1003, "Way too many requests; IP banned until further notice.")
ERR_REGION = (451, 0, "Service unavailable from a restricted location.")


def now_ms():
    return int(time.time() * 1000)


def err_mandatory(name):
    return (400, -1102,
            "Mandatory parameter '%s' was not sent, was empty/null, or malformed." % name)


def err_illegal(name):
    return (400, -1100, "Illegal characters found in parameter '%s'; legal range is '^[0-9]{1,20}$'." % name)


def err_invalid(name):
    return (400, -1130, "Data sent for parameter '%s' is not valid." % name)


class ApiError(Exception):
    def __init__(self, err):
        super().__init__(err[2])
        self.status, self.code, self.msg = err


def fmt8(x):
    return "%.8f" % x


class Market:
    """The loaded accounts and symbol list (read-only once serving)."""

    def __init__(self, doc):
        if not isinstance(doc, dict) or not isinstance(doc.get("accounts"), list):
            raise ValueError("accounts file: need an object with an \"accounts\" array")
        syms = doc.get("symbols")
        if syms is None:
            syms = [{"symbol": s, "baseAsset": b, "quoteAsset": q} for s, b, q in DEFAULT_SYMBOLS]
        self.symbols = []
        self.by_symbol = {}
        for s in syms:
            entry = {"symbol": s["symbol"], "baseAsset": s["baseAsset"],
                     "quoteAsset": s["quoteAsset"], "status": s.get("status", "TRADING")}
            self.symbols.append(entry)
            self.by_symbol[entry["symbol"]] = entry
        self.accounts = {}
        for a in doc["accounts"]:
            key, secret = a.get("api_key"), a.get("api_secret")
            if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
                raise ValueError("accounts file: every account needs api_key and api_secret")
            trades = {}
            for t in a.get("trades", []):
                trades.setdefault(t["symbol"], []).append(t)
            for lst in trades.values():
                lst.sort(key=lambda t: t["id"])  # stable: duplicate ids stay in file order
            self.accounts[key] = {
                "secret": secret.encode(),
                "balances": a.get("balances", {}),
                "trades": trades,
                "fault": a.get("fault"),
                "slow_ms": int(a.get("slow_ms", DEFAULT_SLOW_MS)),
                "skew": int(a.get("clock_skew_ms", 0)),
                "fail_first": int(a.get("fail_first", 0)),
                "used_weight": a.get("used_weight"),
                "retry_after_s": int(a.get("retry_after_s", 120)),
            }


def parse_query(raw):
    """Returns (params dict, payload that was signed, signature or None)."""
    params = {}
    unsigned_parts = []
    signature = None
    if raw:
        for part in raw.split("&"):
            name, _, value = part.partition("=")
            name, value = unquote_plus(name), unquote_plus(value)
            if name in params or (name == "signature" and signature is not None):
                raise ApiError(ERR_DUPLICATE)
            if name == "signature":
                signature = value
                continue
            params[name] = value
            unsigned_parts.append(part)
    return params, "&".join(unsigned_parts), signature


def int_param(params, name, required=False):
    v = params.get(name)
    if v is None or v == "":
        if required:
            raise ApiError(err_mandatory(name))
        return None
    if not v.isdigit() or len(v) > 20:
        raise ApiError(err_illegal(name))
    return int(v)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can reuse connections
    server_version = "binance-sim/1"
    market = None  # set in main()

    # One line per request, path only: query strings carry signatures.
    def log_request(self, code="-", size="-"):
        path = self.path.split("?", 1)[0]
        sys.stderr.write("%s binance-sim: %s %s %s\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), self.command, path, code))
        sys.stderr.flush()

    def log_message(self, fmt, *args):  # errors from http.server itself
        sys.stderr.write("binance-sim: %s\n" % (fmt % args).split("?", 1)[0])

    def send_json(self, status, obj, raw=None, extra_headers=()):
        body = raw if raw is not None else json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        acct = self.header_account()
        if acct is not None and acct["used_weight"] is not None:
            self.send_header("X-MBX-USED-WEIGHT-1M", str(int(acct["used_weight"])))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, raw = self.path.partition("?")
        routes = {
            "/api/v3/ping": self.ping,
            "/api/v3/time": self.server_time,
            "/api/v3/exchangeInfo": self.exchange_info,
            "/api/v3/account": self.account,
            "/api/v3/myTrades": self.my_trades,
        }
        route = routes.get(path)
        if route is None:
            self.send_json(404, {"code": -1000, "msg": "Not found."})
            return
        try:
            params, payload, signature = parse_query(raw)
            status, obj = route(params, payload, signature)
            self.send_json(status, obj)
        except ApiError as e:
            extra = [("Retry-After", "1")] if e.status == 429 else []
            if e.status == 418:
                extra = [("Retry-After", str(self.header_account()["retry_after_s"]))]
            self.send_json(e.status, {"code": e.code, "msg": e.msg}, extra_headers=extra)
        except _BadJson:
            self.send_json(200, None, raw=b'[{"symbol":"BTCUSDT","id":1,"price":"1')
        except _Redirect:  # somewhere else entirely: a client must not follow
            self.send_json(302, {}, extra_headers=[("Location", "http://127.0.0.1:9" + path)])
        except Exception as e:  # a bug or a bad accounts file: answer like Binance's -1000
            sys.stderr.write("binance-sim: %s on %s: %s\n" % (type(e).__name__, path, e))
            status, code, msg = ERR_UNKNOWN
            self.send_json(status, {"code": code, "msg": msg})

    # --- unsigned -----------------------------------------------------------------

    def header_account(self):
        return self.market.accounts.get(self.headers.get("X-MBX-APIKEY", ""))

    def ping(self, params, payload, signature):
        return 200, {}

    def server_time(self, params, payload, signature):
        acct = self.header_account()
        return 200, {"serverTime": now_ms() + (acct["skew"] if acct else 0)}

    def exchange_info(self, params, payload, signature):
        m = self.market
        if "symbol" in params and "symbols" in params:
            raise ApiError(ERR_COMBINATION)
        wanted = None
        if "symbol" in params:
            wanted = [params["symbol"]]
        elif "symbols" in params:
            try:
                wanted = json.loads(params["symbols"])
            except ValueError:
                raise ApiError(err_invalid("symbols"))
            if not isinstance(wanted, list) or not all(isinstance(s, str) for s in wanted):
                raise ApiError(err_invalid("symbols"))
        if wanted is not None:
            if any(s not in m.by_symbol for s in wanted):
                raise ApiError(ERR_SYMBOL)
            chosen = [m.by_symbol[s] for s in wanted]
        else:
            chosen = m.symbols
            status = params.get("symbolStatus")
            if status is not None:
                chosen = [s for s in chosen if s["status"] == status]
        show_sets = params.get("showPermissionSets", "true") != "false"
        out = []
        for s in chosen:
            out.append({
                "symbol": s["symbol"], "status": s["status"],
                "baseAsset": s["baseAsset"], "baseAssetPrecision": 8,
                "quoteAsset": s["quoteAsset"], "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT",
                               "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True,
                "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True,
                "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False, "filters": [], "permissions": [],
                "permissionSets": [["SPOT"]] if show_sets else [],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER",
                                                    "EXPIRE_BOTH"],
            })
        return 200, {
            "timezone": "UTC", "serverTime": now_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                 "intervalNum": 1, "limit": 6000},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE",
                 "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [], "symbols": out,
        }

    # --- signed -------------------------------------------------------------------

    def authenticate(self, params, payload, signature):
        """Binance's checks for SIGNED endpoints, in order; returns the account."""
        acct = self.header_account()
        if acct is None:
            raise ApiError(ERR_KEY)
        fault = acct["fault"]
        if fault == "http500":
            raise ApiError(ERR_UNKNOWN)
        if fault == "http429":
            raise ApiError(ERR_TOO_MANY)
        if fault == "http418":
            raise ApiError(ERR_BANNED)
        if fault == "http451":
            raise ApiError(ERR_REGION)
        if acct["fail_first"] > 0:
            acct["fail_first"] -= 1
            raise ApiError(ERR_UNKNOWN)
        if fault == "slow":
            time.sleep(acct["slow_ms"] / 1000.0)
        if fault == "redirect":
            raise _Redirect()
        if signature is None:
            raise ApiError(err_mandatory("signature"))
        want = hmac.new(acct["secret"], payload.encode(), hashlib.sha256).hexdigest()
        # HMAC signatures are case-insensitive at Binance.
        if not hmac.compare_digest(want.encode(), signature.lower().encode()):
            raise ApiError(ERR_SIGNATURE)
        ts = int_param(params, "timestamp", required=True)
        window = int_param(params, "recvWindow")
        if window is None:
            window = 5000
        if window > MAX_RECV_WINDOW:
            raise ApiError(ERR_RECV_WINDOW)
        server = now_ms() + acct["skew"]
        if not (ts < server + 1000 and server - ts <= window):
            raise ApiError(ERR_TIMESTAMP)
        if fault == "bad_json":
            raise _BadJson()
        return acct

    def account(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        omit_zero = params.get("omitZeroBalances", "false") == "true"
        balances = []
        for asset, v in sorted(acct["balances"].items()):
            if isinstance(v, dict):
                free, locked = float(v.get("free", "0")), float(v.get("locked", "0"))
            else:
                free, locked = float(v), 0.0
            if omit_zero and free + locked == 0:
                continue
            balances.append({"asset": asset, "free": fmt8(free), "locked": fmt8(locked)})
        return 200, {
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {"maker": "0.00100000", "taker": "0.00100000",
                                "buyer": "0.00000000", "seller": "0.00000000"},
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": now_ms(), "accountType": "SPOT", "balances": balances,
            "permissions": ["SPOT"], "uid": 354937868,
        }

    def my_trades(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        symbol = params.get("symbol")
        if not symbol:
            raise ApiError(err_mandatory("symbol"))
        if symbol not in self.market.by_symbol:
            raise ApiError(ERR_SYMBOL)
        order_id = int_param(params, "orderId")
        from_id = int_param(params, "fromId")
        start = int_param(params, "startTime")
        end = int_param(params, "endTime")
        limit = int_param(params, "limit")
        if limit is None:
            limit = 500
        if limit < 1 or limit > 1000:
            raise ApiError(err_invalid("limit"))
        if from_id is not None and (start is not None or end is not None):
            raise ApiError(ERR_COMBINATION)
        if order_id is not None and (start is not None or end is not None):
            raise ApiError(ERR_COMBINATION)
        if start is not None and end is not None and end - start > 24 * 3600 * 1000:
            raise ApiError(ERR_RANGE)
        rows = acct["trades"].get(symbol, [])
        if order_id is not None:
            rows = [t for t in rows if t.get("orderId") == order_id]
        if from_id is not None:
            rows = [t for t in rows if t["id"] >= from_id][:limit]
        elif start is not None or end is not None:
            lo = start if start is not None else (end - 24 * 3600 * 1000)
            hi = end if end is not None else (start + 24 * 3600 * 1000)
            rows = [t for t in rows if lo <= t["time"] <= hi]
            rows = rows[:limit] if start is not None else rows[-limit:]
        else:
            rows = rows[-limit:]  # the most recent trades, still ascending
        out = []
        for t in rows:
            out.append({
                "symbol": symbol, "id": t["id"], "orderId": t.get("orderId", t["id"]),
                "orderListId": -1, "price": t["price"], "qty": t["qty"],
                "quoteQty": t["quoteQty"], "commission": t["commission"],
                "commissionAsset": t["commissionAsset"], "time": t["time"],
                "isBuyer": t["isBuyer"], "isMaker": t.get("isMaker", False),
                "isBestMatch": t.get("isBestMatch", True),
            })
        return 200, out


class _BadJson(Exception):
    pass


class _Redirect(Exception):
    pass


# --- demo account ---------------------------------------------------------------------

DEMO_SEED = 20240601
DAY_MS = 86400 * 1000


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data.encode())
    finally:
        os.close(fd)


def demo_account(now):
    """~90 days of trades ending now. The shape is fixed by DEMO_SEED; only the
    timestamps move with the clock."""
    rng = random.Random(DEMO_SEED)
    start = now - 90 * DAY_MS
    prices = {"BTC": 62000.0, "ETH": 3100.0, "SOL": 145.0, "BNB": 580.0}
    # (symbol, base, quote, trades per day, price decimals, qty decimals, typical quote size)
    books = [("BTCUSDT", "BTC", "USDT", 13, 2, 5, 1500.0),
             ("ETHUSDT", "ETH", "USDT", 5, 2, 4, 900.0),
             ("SOLUSDT", "SOL", "USDT", 4, 2, 2, 400.0),
             ("ETHBTC", "ETH", "BTC", 2, 5, 4, 0.012)]
    inventory = {"BTC": 0.0, "ETH": 0.0, "SOL": 0.0}
    next_id = {"BTCUSDT": 3100000000, "ETHUSDT": 1500000000, "SOLUSDT": 700000000,
               "ETHBTC": 450000000}
    order_id = 9000000
    trades = []
    for day in range(90):
        for asset in prices:  # a daily random walk with a little drift
            prices[asset] *= 1.0 + rng.gauss(0.0008, 0.025)
        for symbol, base, quote, per_day, pdec, qdec, size in books:
            for _ in range(max(1, int(rng.gauss(per_day, per_day / 3.0)))):
                t = start + day * DAY_MS + rng.randrange(DAY_MS)
                if t >= now:
                    continue
                ref = prices[base] / (prices[quote] if quote != "USDT" else 1.0)
                price = round(ref * (1.0 + rng.gauss(0.0, 0.01)), pdec)
                qty = round(size * rng.uniform(0.3, 1.7) / price, qdec)
                if qty <= 0:
                    continue
                is_buyer = rng.random() < 0.55 or inventory[base] < qty
                inventory[base] += qty if is_buyer else -qty
                if quote in inventory:  # ETHBTC spends or earns BTC
                    inventory[quote] += -qty * price if is_buyer else qty * price
                quote_qty = price * qty
                is_maker = rng.random() < 0.4
                fee_rate = 0.00075 if rng.random() < 0.3 else 0.001
                if fee_rate == 0.00075:  # paid in BNB at a discount
                    quote_usdt = quote_qty * (prices[quote] if quote != "USDT" else 1.0)
                    commission, fee_asset = quote_usdt * fee_rate / prices["BNB"], "BNB"
                elif is_buyer:  # Binance takes the fee from what is received
                    commission, fee_asset = qty * fee_rate, base
                else:
                    commission, fee_asset = quote_qty * fee_rate, quote
                order_id += 1
                # An order sometimes fills in two parts with the same orderId.
                parts = [qty] if rng.random() < 0.8 else [round(qty * 0.4, qdec),
                                                          round(qty - round(qty * 0.4, qdec), qdec)]
                for part in parts:
                    if part <= 0:
                        continue
                    share = part / qty
                    next_id[symbol] += rng.randint(1, 40)
                    trades.append({
                        "symbol": symbol, "id": next_id[symbol], "orderId": order_id,
                        "price": "%.*f" % (8, price), "qty": "%.8f" % part,
                        "quoteQty": "%.8f" % (price * part),
                        "commission": "%.8f" % (commission * share),
                        "commissionAsset": fee_asset, "time": t,
                        "isBuyer": is_buyer, "isMaker": is_maker, "isBestMatch": True,
                    })
    trades.sort(key=lambda tr: (tr["symbol"], tr["id"]))
    # Per symbol, ids and times must both ascend (Binance assigns ids in time order).
    by_symbol = {}
    for tr in trades:
        by_symbol.setdefault(tr["symbol"], []).append(tr)
    for lst in by_symbol.values():
        times = sorted(tr["time"] for tr in lst)
        for tr, tm in zip(lst, times):
            tr["time"] = tm
    balances = {a: "%.8f" % max(v, 0.0) for a, v in inventory.items()}
    balances["USDT"] = "12500.00000000"
    balances["BNB"] = "1.25000000"
    return balances, trades


def make_demo(out_dir):
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    alphabet = string.ascii_letters + string.digits
    api_key = "".join(secrets.choice(alphabet) for _ in range(64))
    api_secret = "".join(secrets.choice(alphabet) for _ in range(64))
    balances, trades = demo_account(now_ms())
    doc = {"accounts": [{"api_key": api_key, "api_secret": api_secret,
                         "balances": balances, "trades": trades}]}
    write_private(os.path.join(out_dir, "api_key"), api_key + "\n")
    write_private(os.path.join(out_dir, "api_secret"), api_secret + "\n")
    accounts_path = os.path.join(out_dir, "accounts.json")
    write_private(accounts_path, json.dumps(doc))
    sys.stderr.write("binance-sim: demo account with %d trades; key files in %s\n"
                     % (len(trades), out_dir))
    return doc


class TLSServer(ThreadingHTTPServer):
    """HTTPS: each accepted socket is wrapped without a handshake; the
    handshake happens on the first read, in the request's own thread."""
    tls = None

    def get_request(self):
        sock, addr = super().get_request()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        # A client that refuses our certificate (the point of some tests)
        # is one log line, not a traceback.
        err = sys.exc_info()[1]
        if isinstance(err, (ssl.SSLError, ConnectionError, OSError)):
            sys.stderr.write("binance-sim: TLS/connection error: %s\n" % err.__class__.__name__)
        else:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="Binance-compatible spot REST simulator")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--accounts", help="accounts JSON file (holds the API secrets)")
    src.add_argument("--demo-out", help="write a demo account into this directory and serve it")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the listening port here")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    if args.demo_out:
        doc = make_demo(args.demo_out)
    else:
        with open(args.accounts, "rb") as f:
            doc = json.load(f)
    try:
        Handler.market = Market(doc)
    except (ValueError, KeyError, TypeError) as e:
        sys.stderr.write("binance-sim: bad accounts file: %s\n" % e)
        return 2

    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server = TLSServer((args.host, args.port), Handler)
        server.tls = ctx
    else:
        server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:  # written atomically: a reader never sees a partial number
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("binance-sim: listening on %s://%s:%d\n"
                     % ("https" if args.tls_cert else "http", args.host, port))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
