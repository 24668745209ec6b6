#!/usr/bin/python3
"""A Binance-compatible REST simulator (Python 3 standard library only, plus
the `openssl` CLI for Ed25519 signature checks).

One process serves Binance's spot (api.binance.com), wallet (/sapi) and USD-M
futures (fapi.binance.com) routes on one port: the hosts differ at Binance, the
paths never collide, so a client points both its spot and its futures base URL
at this one listener. tools/README.md documents every route, rule and knob.

  spot    GET /api/v3/ping | time | exchangeInfo | klines        (public)
          GET /api/v3/account | myTrades                         (SIGNED)
  wallet  GET /sapi/v1/account/apiRestrictions | accountSnapshot
              | capital/deposit/hisrec | capital/withdraw/history
              | asset/transfer                                   (SIGNED)
  futures GET /fapi/v1/ping | time | exchangeInfo | klines        (public)
          GET /fapi/v2/account | /fapi/v3/account | /fapi/v1/userTrades
              | /fapi/v1/income                                  (SIGNED)
  control POST /__sim/faults | /__sim/account | /__sim/reset, GET /__sim/stats
          (only with --control-token-file or "control_token"; header
          X-Sim-Control must carry the token, else 404 like any unknown path)

Signed requests: X-MBX-APIKEY names an account; an HMAC account's `signature`
is hex HMAC-SHA256(secret, the query string without the signature parameter),
an Ed25519 account's is base64(Ed25519(that string)), percent-encoded. Request
weights per route as Binance documents them, counted per client IP and limiter
(spot 6000, sapi 12000, futures 2400 per minute) with X-MBX-USED-WEIGHT-1M
headers; 429 + Retry-After past the budget; 418 + Retry-After (an IP ban) when
a client keeps calling before Retry-After ends.

Usage:
  binance_sim.py --accounts FILE --port N [--host 127.0.0.1] [--port-file F] [TLS]
                 [--control-token-file F]
  binance_sim.py --demo-out DIR  --port N [--host 127.0.0.1] [--port-file F] [TLS]
  TLS: --tls-cert PEM --tls-key PEM serves HTTPS instead of HTTP.

One log line per request: method, path (never the query string or headers) and
status.
"""

import argparse
import base64
import binascii
import copy
import hashlib
import hmac
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_plus

DEFAULT_SYMBOLS = [
    ("BTCUSDT", "BTC", "USDT"), ("ETHUSDT", "ETH", "USDT"), ("SOLUSDT", "SOL", "USDT"),
    ("BNBUSDT", "BNB", "USDT"), ("XRPUSDT", "XRP", "USDT"), ("ADAUSDT", "ADA", "USDT"),
    ("DOGEUSDT", "DOGE", "USDT"), ("USDCUSDT", "USDC", "USDT"), ("FDUSDUSDT", "FDUSD", "USDT"),
    ("BTCUSDC", "BTC", "USDC"), ("ETHUSDC", "ETH", "USDC"), ("BTCFDUSD", "BTC", "FDUSD"),
    ("ETHBTC", "ETH", "BTC"), ("SOLBTC", "SOL", "BTC"), ("BNBBTC", "BNB", "BTC"),
    ("BNBETH", "BNB", "ETH"), ("SOLETH", "SOL", "ETH"), ("SOLBNB", "SOL", "BNB"),
    # more USDT pairs, so "every symbol quoted in USDT" is a real scan
    ("TRXUSDT", "TRX", "USDT"), ("DOTUSDT", "DOT", "USDT"), ("LINKUSDT", "LINK", "USDT"),
    ("LTCUSDT", "LTC", "USDT"), ("AVAXUSDT", "AVAX", "USDT"), ("MATICUSDT", "MATIC", "USDT"),
    ("ATOMUSDT", "ATOM", "USDT"), ("UNIUSDT", "UNI", "USDT"), ("NEARUSDT", "NEAR", "USDT"),
    ("APTUSDT", "APT", "USDT"), ("ARBUSDT", "ARB", "USDT"), ("OPUSDT", "OP", "USDT"),
    ("FILUSDT", "FIL", "USDT"), ("SHIBUSDT", "SHIB", "USDT"), ("PEPEUSDT", "PEPE", "USDT"),
    ("TONUSDT", "TON", "USDT"), ("SUIUSDT", "SUI", "USDT"), ("INJUSDT", "INJ", "USDT"),
    ("ETCUSDT", "ETC", "USDT"), ("BCHUSDT", "BCH", "USDT"), ("XLMUSDT", "XLM", "USDT"),
    ("ICPUSDT", "ICP", "USDT"), ("HBARUSDT", "HBAR", "USDT"), ("AAVEUSDT", "AAVE", "USDT"),
]
# Delisted: listed by exchangeInfo with status BREAK (a trader may hold history in it).
DEFAULT_BREAK_SYMBOLS = [("BUSDUSDT", "BUSD", "USDT")]
DEFAULT_FUTURES_SYMBOLS = [
    ("BTCUSDT", "BTC", "USDT"), ("ETHUSDT", "ETH", "USDT"), ("SOLUSDT", "SOL", "USDT"),
    ("BNBUSDT", "BNB", "USDT"), ("XRPUSDT", "XRP", "USDT"), ("DOGEUSDT", "DOGE", "USDT"),
    ("ADAUSDT", "ADA", "USDT"), ("LINKUSDT", "LINK", "USDT"), ("AVAXUSDT", "AVAX", "USDT"),
    ("BTCUSDC", "BTC", "USDC"), ("ETHUSDC", "ETH", "USDC"),
]
# Quote assets tried, longest first, to split a symbol met only in trades.
KNOWN_QUOTES = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY"]
# Reference USD prices for klines of symbols the accounts file gives no price for.
REF_USD = {"BTC": "60000", "ETH": "3000", "BNB": "600", "SOL": "150", "XRP": "0.5",
           "ADA": "0.4", "DOGE": "0.1", "TRX": "0.12", "DOT": "6", "LINK": "14", "LTC": "80",
           "AVAX": "30", "MATIC": "0.6", "ATOM": "8", "UNI": "7", "NEAR": "5", "APT": "8",
           "ARB": "0.9", "OP": "1.8", "FIL": "4.5", "SHIB": "0.00002", "PEPE": "0.00001",
           "TON": "5", "SUI": "1.2", "INJ": "22", "ETC": "20", "BCH": "350", "XLM": "0.1",
           "ICP": "9", "HBAR": "0.08", "AAVE": "150", "USDT": "1", "USDC": "1", "FDUSD": "1",
           "BUSD": "1"}

MAX_RECV_WINDOW = 60000
DEFAULT_SLOW_MS = 5000
DAY_MS = 86400 * 1000
HOUR_MS = 3600 * 1000

# Request weights (IP) as Binance documents them (spot: rest-api.md of
# binance/binance-spot-api-docs; wallet and futures: developers.binance.com).
LIMITER_HEADERS = {"api": "X-MBX-USED-WEIGHT-1M", "sapi": "X-SAPI-USED-IP-WEIGHT-1M",
                   "fapi": "X-MBX-USED-WEIGHT-1M"}
DEFAULT_LIMITS = {"api": 6000, "sapi": 12000, "fapi": 2400, "window_ms": 60000,
                  "ban_after": 3, "ban_seconds": 120}
INCOME_TYPES = {"TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION",
                "INSURANCE_CLEAR", "REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE",
                "CONTEST_REWARD", "CROSS_COLLATERAL_TRANSFER", "OPTIONS_PREMIUM_FEE",
                "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER", "AUTO_EXCHANGE",
                "DELIVERED_SETTELMENT", "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW",
                "POSITION_LIMIT_INCREASE_FEE", "STRATEGY_UMFUTURES_TRANSFER", "FEE_RETURN",
                "BFUSD_REWARD"}
KLINE_MS = {"1m": 60000, "3m": 180000, "5m": 300000, "15m": 900000, "30m": 1800000,
            "1h": HOUR_MS, "2h": 2 * HOUR_MS, "4h": 4 * HOUR_MS, "6h": 6 * HOUR_MS,
            "8h": 8 * HOUR_MS, "12h": 12 * HOUR_MS, "1d": DAY_MS, "3d": 3 * DAY_MS,
            "1w": 7 * DAY_MS}
# How far back the futures history endpoints reach (Binance: userTrades "the
# past 6 months", income "the last three months"); overridable per file.
DEFAULT_HISTORY_DAYS = {"userTrades": 180, "income": 90}

ERR_KEY = (401, -2015, "Invalid API-key, IP, or permissions for action.")
ERR_KEY_FORMAT = (401, -2014, "API-key format invalid.")
ERR_SIGNATURE = (400, -1022, "Signature for this request is not valid.")
ERR_TIMESTAMP = (400, -1021, "Timestamp for this request is outside of the recvWindow.")
ERR_TIMESTAMP_AHEAD = (400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
ERR_RECV_WINDOW = (400, -1131, "recvWindow must be less than 60000")
ERR_SYMBOL = (400, -1121, "Invalid symbol.")
ERR_INTERVAL = (400, -1120, "Invalid interval.")
ERR_DUPLICATE = (400, -1101, "Duplicate values for a parameter detected.")
ERR_COMBINATION = (400, -1128, "Combination of optional parameters invalid.")
ERR_RANGE = (400, -1127, "More than 24 hours between startTime and endTime.")
ERR_RANGE_7D = (400, -1127, "More than 168 hours between startTime and endTime.")
ERR_UNKNOWN = (500, -1000, "An unknown error occurred while processing the request.")
ERR_TOO_MANY = (429, -1003, "Too many requests; current limit of IP is 6000 requests per minute.")
ERR_BANNED = (418, -1003, "Way too many requests; IP banned until further notice.")
MSG_451 = ("Service unavailable from a restricted location according to 'b. Eligibility' in "
           "https://www.binance.com/en/terms. Please contact customer service if you believe "
           "you received this message in error.")
DEFAULT_5XX = {500: (-1000, "An unknown error occurred while processing the request."),
               502: (-1000, "An unknown error occurred while processing the request."),
               503: (-1008, "Server is currently overloaded with other requests. Please try "
                            "again in a few minutes."),
               504: (-1007, "Timeout waiting for response from backend server. Send status "
                            "unknown; execution status unknown.")}


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
    def __init__(self, err, headers=()):
        super().__init__(err[2])
        self.status, self.code, self.msg = err
        self.headers = list(headers)


class _BadJson(Exception):
    pass


class _Redirect(Exception):
    pass


class _Close(Exception):
    """Drop the connection without an answer (a transport failure)."""


class _Raw(Exception):
    def __init__(self, status, body, headers=()):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, list(headers)


def fmt8(x):
    return "%.8f" % x


def dec(s, what):
    try:
        d = Decimal(str(s))
    except InvalidOperation:
        raise ValueError("%s: not a decimal: %r" % (what, s))
    if not d.is_finite():
        raise ValueError("%s: not a finite decimal: %r" % (what, s))
    return d


def q8(d):
    return format(d.quantize(Decimal("0.00000001")), "f")


def split_symbol(symbol):
    for qa in KNOWN_QUOTES:
        if symbol.endswith(qa) and len(symbol) > len(qa):
            return symbol[:-len(qa)], qa
    raise ValueError("symbol %s is not in the symbol list and its quote asset is unknown" % symbol)


# --- Ed25519 (the openssl CLI: Python's standard library has no Ed25519) -----------

class Ed25519Verifier:
    """Verifies Ed25519 signatures with `openssl pkeyutl -verify -rawin`
    (OpenSSL >= 3.0, a Debian 12 package listed in scripts/deps.sh). Public
    keys, messages and signatures go through files in a private temporary
    directory; nothing secret is involved (public keys only)."""

    def __init__(self):
        self.dir = None
        self.lock = threading.Lock()
        self.n = 0

    def _tmp(self):
        with self.lock:
            if self.dir is None:
                self.dir = tempfile.mkdtemp(prefix="binance-sim.")
            self.n += 1
            return os.path.join(self.dir, "f%d" % self.n)

    def load_public_key(self, pem):
        """Checks a PEM public key is Ed25519; returns the file holding it."""
        if not isinstance(pem, str) or "BEGIN PUBLIC KEY" not in pem:
            raise ValueError("ed25519_public_key must be a PEM public key")
        path = self._tmp() + ".pem"
        with open(path, "w") as f:
            f.write(pem if pem.endswith("\n") else pem + "\n")
        r = subprocess.run(["openssl", "pkey", "-pubin", "-in", path, "-noout", "-text"],
                           capture_output=True, text=True)
        if r.returncode != 0 or not r.stdout.startswith("ED25519 Public-Key"):
            raise ValueError("ed25519_public_key is not an Ed25519 public key")
        return path

    def verify(self, key_path, message, signature):
        base = self._tmp()
        msg, sig = base + ".msg", base + ".sig"
        try:
            with open(msg, "wb") as f:
                f.write(message)
            with open(sig, "wb") as f:
                f.write(signature)
            r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", key_path,
                                "-rawin", "-in", msg, "-sigfile", sig],
                               capture_output=True)
            return r.returncode == 0
        finally:
            for p in (msg, sig):
                try:
                    os.unlink(p)
                except OSError:
                    pass

    def close(self):
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


ED25519 = Ed25519Verifier()


# --- accounts, symbols and prices ---------------------------------------------------

DEFAULT_RESTRICTIONS = {
    "ipRestrict": False, "createTime": 1698645219000, "enableReading": True,
    "enableWithdrawals": False, "enableInternalTransfer": False, "enableMargin": False,
    "enableFutures": False, "permitsUniversalTransfer": False, "enableVanillaOptions": False,
    "enableFixApiTrade": False, "enableFixReadOnly": False,
    "enableSpotAndMarginTrading": False, "enablePortfolioMarginTrading": False,
}
KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,128}$")  # visible ASCII: Binance's keys are alphanumeric


def check_restrictions(r):
    for k, v in r.items():
        if k == "tradingAuthorityExpirationTime" or k == "createTime":
            if not isinstance(v, int):
                raise ValueError("api_restrictions.%s must be an integer (ms)" % k)
        elif k in DEFAULT_RESTRICTIONS:
            if not isinstance(v, bool):
                raise ValueError("api_restrictions.%s must be true or false" % k)
        else:
            raise ValueError("api_restrictions: unknown field %s" % k)
    if r.get("enableWithdrawals") and not r.get("ipRestrict"):
        # Binance refuses to enable withdrawals on a key without an IP restriction.
        raise ValueError("api_restrictions: enableWithdrawals needs ipRestrict (as at Binance)")


class Account:
    def __init__(self, a, market):
        key = a.get("api_key")
        secret, pub = a.get("api_secret"), a.get("ed25519_public_key")
        if not isinstance(key, str) or not key:
            raise ValueError("every account needs an api_key")
        if (secret is None) == (pub is None):
            raise ValueError("account %s: give exactly one of api_secret (HMAC) and "
                             "ed25519_public_key (PEM)" % key[:6])
        self.key = key
        self.kind = "hmac" if secret is not None else "ed25519"
        if self.kind == "hmac":
            if not isinstance(secret, str) or not secret:
                raise ValueError("account %s: api_secret must be a non-empty string" % key[:6])
            self.secret = secret.encode()
            self.pub_path = None
        else:
            self.secret = None
            self.pub_path = ED25519.load_public_key(pub)
        uid = a.get("uid")
        if uid is None:  # stable per key, so a file without uids still names accounts
            uid = 100000000 + int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 900000000
        if not isinstance(uid, int) or uid <= 0:
            raise ValueError("account %s: uid must be a positive integer" % key[:6])
        self.uid = uid
        self.permissions = a.get("permissions", ["SPOT"])
        self.flags = {k: bool(a.get(k, True)) for k in ("canTrade", "canWithdraw", "canDeposit")}
        self.balances = a.get("balances", {})
        self.trades = {}
        for t in a.get("trades", []):
            self.trades.setdefault(t["symbol"], []).append(t)
        for lst in self.trades.values():
            lst.sort(key=lambda t: t["id"])  # stable: duplicate ids stay in file order
        self.restrictions = {}
        self.patch_restrictions(a.get("api_restrictions", {}))
        self.ip_allow = list(a.get("ip_allow", ["127.0.0.1", "::1"]))
        self.fault = a.get("fault")
        self.slow_ms = int(a.get("slow_ms", DEFAULT_SLOW_MS))
        self.fail_first = int(a.get("fail_first", 0))      # the first N signed calls: 500
        self.used_weight = a.get("used_weight")             # forced X-MBX-USED-WEIGHT-1M
        self.retry_after_s = int(a.get("retry_after_s", 120))  # for fault "http418"
        self.skew = int(a.get("clock_skew_ms", 0))
        self.initial = (dict(self.restrictions), list(self.permissions), self.fault, self.skew,
                        list(self.ip_allow))
        self.futures = None
        if a.get("futures") is not None:
            self.futures = Futures(a["futures"], key, a.get("transfers", []))

    def patch_restrictions(self, patch):
        if not isinstance(patch, dict):
            raise ValueError("api_restrictions must be an object")
        merged = dict(DEFAULT_RESTRICTIONS)
        merged.update(self.restrictions)
        merged.update(patch)
        check_restrictions(merged)
        if merged.get("enableSpotAndMarginTrading") and "tradingAuthorityExpirationTime" not in merged:
            merged["tradingAuthorityExpirationTime"] = now_ms() + 90 * DAY_MS
        self.restrictions = merged

    def restore(self):
        """Undoes /__sim/account patches."""
        r, p, self.fault, self.skew, ip = self.initial
        self.restrictions, self.permissions, self.ip_allow = dict(r), list(p), list(ip)

    def symbols_traded(self):
        return set(self.trades)


class Futures:
    """A USD-M futures account: fills, income and balances."""

    def __init__(self, f, key, transfers=()):
        if not isinstance(f, dict):
            raise ValueError("account %s: futures must be an object" % key[:6])
        self.assets = f.get("assets", {"USDT": "0"})
        self.positions = f.get("positions", [])
        self.trades = {}
        for t in f.get("trades", []):
            for name in ("symbol", "id", "price", "qty", "time", "side"):
                if name not in t:
                    raise ValueError("account %s: futures trade without %s" % (key[:6], name))
            if t["side"] not in ("BUY", "SELL"):
                raise ValueError("account %s: futures trade side must be BUY or SELL" % key[:6])
            self.trades.setdefault(t["symbol"], []).append(t)
        for lst in self.trades.values():
            lst.sort(key=lambda t: t["id"])
        if "income" in f:
            rows = [dict(r) for r in f["income"]]
        else:  # derived from the fills, as Binance books them, plus funding
            rows = []
            for t in sorted((t for lst in self.trades.values() for t in lst),
                            key=lambda t: (t["time"], t["id"])):
                pnl = dec(t.get("realizedPnl", "0"), "realizedPnl")
                if pnl != 0:
                    rows.append({"symbol": t["symbol"], "incomeType": "REALIZED_PNL",
                                 "income": q8(pnl), "asset": t.get("marginAsset", "USDT"),
                                 "info": "REALIZED_PNL", "time": t["time"],
                                 "tradeId": str(t["id"])})
                fee = dec(t.get("commission", "0"), "commission")
                if fee != 0:
                    rows.append({"symbol": t["symbol"], "incomeType": "COMMISSION",
                                 "income": q8(-fee), "asset": t.get("commissionAsset", "USDT"),
                                 "info": "COMMISSION", "time": t["time"],
                                 "tradeId": str(t["id"])})
            for fu in f.get("funding", []):
                rows.append({"symbol": fu["symbol"], "incomeType": "FUNDING_FEE",
                             "income": fu["income"], "asset": fu.get("asset", "USDT"),
                             "info": "FUNDING_FEE", "time": fu["time"], "tradeId": ""})
            rows += transfer_income_rows(transfers)  # issue 7: wallet history
        for n, r in enumerate(rows):
            for name in ("incomeType", "income", "time"):
                if name not in r:
                    raise ValueError("account %s: income row without %s" % (key[:6], name))
            if r["incomeType"] not in INCOME_TYPES:
                raise ValueError("account %s: unknown incomeType %s" % (key[:6], r["incomeType"]))
            r.setdefault("symbol", "")
            r.setdefault("asset", "USDT")
            r.setdefault("info", r["incomeType"])
            r.setdefault("tranId", 9689322392 + n)
            r.setdefault("tradeId", "")
        rows.sort(key=lambda r: (r["time"], r["tranId"]))
        self.income = rows

    def symbols(self):
        return set(self.trades) | {r["symbol"] for r in self.income if r["symbol"]}


def symbol_entries(listed, defaults, extra_break=()):
    out = []
    if listed is None:
        out = [{"symbol": s, "baseAsset": b, "quoteAsset": q, "status": "TRADING"}
               for s, b, q in defaults]
        out += [{"symbol": s, "baseAsset": b, "quoteAsset": q, "status": "BREAK"}
                for s, b, q in extra_break]
    else:
        for s in listed:
            out.append({"symbol": s["symbol"], "baseAsset": s["baseAsset"],
                        "quoteAsset": s["quoteAsset"], "status": s.get("status", "TRADING")})
    return out


class Market:
    """The loaded accounts, symbol lists and prices."""

    def __init__(self, doc):
        if not isinstance(doc, dict) or not isinstance(doc.get("accounts"), list):
            raise ValueError("accounts file: need an object with an \"accounts\" array")
        self.symbols = symbol_entries(doc.get("symbols"), DEFAULT_SYMBOLS, DEFAULT_BREAK_SYMBOLS)
        self.fsymbols = symbol_entries(doc.get("futures_symbols"), DEFAULT_FUTURES_SYMBOLS)
        self.by_symbol = {s["symbol"]: s for s in self.symbols}
        self.by_fsymbol = {s["symbol"]: s for s in self.fsymbols}
        self.accounts = {}
        for a in doc["accounts"]:
            acct = Account(a, self)
            if acct.key in self.accounts:
                raise ValueError("api_key %s... is listed twice" % acct.key[:6])
            self.accounts[acct.key] = acct
        # Symbols met only in trades are listed too (a pair sold to zero stays listed).
        for acct in self.accounts.values():
            for s in sorted(acct.symbols_traded()):
                self._add(s, self.symbols, self.by_symbol)
            if acct.futures:
                for s in sorted(acct.futures.symbols()):
                    self._add(s, self.fsymbols, self.by_fsymbol)
        self.prices = doc.get("prices", {})
        if not isinstance(self.prices, dict):
            raise ValueError("prices must be an object")
        for sym, spec in self.prices.items():
            self._price_spec(sym, spec)  # fail at load, not in a request
        self.history_days = dict(DEFAULT_HISTORY_DAYS)
        self.history_days.update(doc.get("history_days", {}))
        self.control_token = doc.get("control_token")
        self.initial_config = doc.get("config", {})
        for a in doc["accounts"]:  # issue 7: balances over time need every symbol listed
            acct = self.accounts[a["api_key"]]
            acct.history = WalletHistory(a, acct, self)
            flows = any(k in a for k in ("deposits", "withdrawals", "transfers",
                                         "opening_balances"))
            if "balances" not in a and flows:  # /api/v3/account: where the history ends
                acct.balances = acct.history.current()
            if acct.futures is not None and "assets" not in a["futures"] and \
                    (flows or "opening_assets" in a["futures"]):
                acct.futures.assets = acct.history.current(futures=True) or acct.futures.assets
        self._trade_price = {}
        for acct in self.accounts.values():
            for s, lst in acct.trades.items():
                if lst and s not in self._trade_price:
                    self._trade_price[s] = lst[0]["price"]

    @staticmethod
    def _add(symbol, lst, index):
        if symbol in index:
            return
        base, quote = split_symbol(symbol)
        e = {"symbol": symbol, "baseAsset": base, "quoteAsset": quote, "status": "TRADING"}
        lst.append(e)
        index[symbol] = e

    def _price_spec(self, symbol, spec):
        """('const', d) | ('points', [(t, d)]) | ('walk', base, bp)."""
        if isinstance(spec, (str, int)):
            return ("const", dec(spec, "prices." + symbol))
        if isinstance(spec, dict) and "points" in spec:
            pts = sorted((int(t), dec(p, "prices." + symbol)) for t, p in spec["points"])
            if not pts:
                raise ValueError("prices.%s: points is empty" % symbol)
            return ("points", pts)
        if isinstance(spec, dict) and spec.get("from_trades") is True:
            # the trades' own prices (issue 7): the last fill at or before each hour
            pts = sorted((t["time"], dec(t["price"], "price"))
                         for acct in self.accounts.values()
                         for lst in (acct.trades.get(symbol, []),
                                     acct.futures.trades.get(symbol, []) if acct.futures else [])
                         for t in lst)
            if not pts:
                raise ValueError("prices.%s: from_trades, but nothing traded it" % symbol)
            return ("trades", pts)
        if isinstance(spec, dict) and "base" in spec:
            return ("walk", dec(spec["base"], "prices." + symbol), int(spec.get("wobble_bp", 100)))
        raise ValueError("prices.%s: a decimal string, {\"points\": [[t, p]...]} or "
                         "{\"base\": p, \"wobble_bp\": n} or {\"from_trades\": true}" % symbol)

    def price_spec(self, symbol, futures=False):
        spec = self.prices.get(symbol)
        if spec is not None:
            return self._price_spec(symbol, spec)
        if symbol in self._trade_price:
            return ("walk", dec(self._trade_price[symbol], "price"), 100)
        e = (self.by_fsymbol if futures else self.by_symbol)[symbol]
        b, q = REF_USD.get(e["baseAsset"], "1"), REF_USD.get(e["quoteAsset"], "1")
        return ("walk", Decimal(b) / Decimal(q), 100)

    @staticmethod
    def price_at_hour(symbol, spec, hour):
        """The price at the start of UTC hour `hour` (ms // HOUR_MS): a pure function."""
        kind = spec[0]
        if kind == "const":
            return spec[1]
        if kind in ("points", "trades"):
            t = hour * HOUR_MS
            p = spec[1][0][1]
            for pt, pp in spec[1]:
                # a point holds from its instant on; a fill sets the price after it,
                # so a fill at a kline's open instant is inside that kline only
                if pt < t or (pt == t and kind == "points"):
                    p = pp
            return p
        base, bp = spec[1], spec[2]
        h = int.from_bytes(hashlib.sha256(("%s:%d" % (symbol, hour)).encode()).digest()[:4], "big")
        r = h % (2 * bp + 1) - bp
        return (base * (Decimal(10000 + r) / Decimal(10000))).quantize(Decimal("0.00000001"))


# --- mutable state: weights, bans, fault rules, request log ------------------------

class State:
    """Everything a test may change while the simulator runs (one lock)."""

    def __init__(self, market):
        self.lock = threading.Lock()
        self.market = market
        self.reset()

    def reset(self):
        with self.lock:
            self.limits = dict(DEFAULT_LIMITS)
            self.skew = 0
            self.http451 = False
            self.rules = []
            self.ip = {}       # (limiter, ip) -> window, used, retry_until, strikes, ban_until, bans
            self.log = []
            for acct in self.market.accounts.values():
                acct.restore()
        self.configure(self.market.initial_config)

    def configure(self, cfg):
        """Applies a faults document (see tools/README.md); raises ValueError."""
        if not isinstance(cfg, dict):
            raise ValueError("need a JSON object")
        known = {"rules", "add_rules", "clock_skew_ms", "http451", "limits"}
        bad = set(cfg) - known
        if bad:
            raise ValueError("unknown field(s): %s" % ", ".join(sorted(bad)))
        rules = None
        if "rules" in cfg:
            rules = [self._rule(r) for r in cfg["rules"]]
        add = [self._rule(r) for r in cfg.get("add_rules", [])]
        limits = cfg.get("limits", {})
        if not isinstance(limits, dict) or set(limits) - set(DEFAULT_LIMITS):
            raise ValueError("limits: known fields are %s" % ", ".join(sorted(DEFAULT_LIMITS)))
        for k, v in limits.items():
            if not isinstance(v, int) or v < 1:
                raise ValueError("limits.%s must be a positive integer" % k)
        with self.lock:
            if rules is not None:
                self.rules = rules
            self.rules += add
            self.limits.update(limits)
            if "window_ms" in limits:
                self.ip = {}
            if "clock_skew_ms" in cfg:
                self.skew = int(cfg["clock_skew_ms"])
            if "http451" in cfg:
                self.http451 = bool(cfg["http451"])

    @staticmethod
    def _rule(r):
        if not isinstance(r, dict):
            raise ValueError("a rule is an object")
        known = {"path", "params", "api_key", "skip", "count", "delay_ms", "status", "code",
                 "msg", "raw", "close", "retry_after"}
        bad = set(r) - known
        if bad:
            raise ValueError("rule: unknown field(s): %s" % ", ".join(sorted(bad)))
        if not any(k in r for k in ("delay_ms", "status", "close")):
            raise ValueError("rule: needs delay_ms, status or close")
        rule = dict(r)
        rule.setdefault("skip", 0)
        rule.setdefault("count", None)  # None: forever
        rule["seen"] = 0
        rule["hits"] = 0
        return rule

    def server_ms(self, acct=None):
        return now_ms() + self.skew + (acct.skew if acct else 0)

    # -- weights (per limiter and client IP, fixed windows aligned to the epoch) --
    def charge(self, limiter, ip, weight):
        """Counts the weight; returns (used, None) or (used, ApiError for 429/418)."""
        with self.lock:
            t = now_ms()
            win = self.limits["window_ms"]
            w_id = t // win
            st = self.ip.setdefault((limiter, ip), {"window": w_id, "used": 0, "retry_until": 0,
                                                     "strikes": 0, "ban_until": 0, "bans": 0})
            if st["window"] != w_id:
                st.update(window=w_id, used=0, strikes=0)
            if st["ban_until"] > t:
                return st["used"], self._ban_error(st, t)
            if st["retry_until"] > t:  # called again before Retry-After ended
                st["strikes"] += 1
                if st["strikes"] >= self.limits["ban_after"]:
                    # Bans scale for repeat offenders (Binance: 2 minutes to 3 days).
                    secs = min(self.limits["ban_seconds"] * (2 ** st["bans"]), 3 * 86400)
                    st["ban_until"] = t + secs * 1000
                    st["bans"] += 1
                    st["strikes"] = 0
                    st["retry_until"] = 0
                    return st["used"], self._ban_error(st, t)
                return st["used"], self._limit_error(limiter, st["retry_until"] - t)
            st["used"] += weight
            if st["used"] > self.limits[limiter]:
                end = (w_id + 1) * win
                st["retry_until"] = end
                return st["used"], self._limit_error(limiter, end - t)
            return st["used"], None

    def _limit_error(self, limiter, wait_ms):
        limit = self.limits[limiter]
        err = (429, -1003, "Too much request weight used; current limit is %d request weight "
               "per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling "
               "the API." % limit)
        return ApiError(err, [("Retry-After", str(max(1, math.ceil(wait_ms / 1000))))])

    @staticmethod
    def _ban_error(st, t):
        err = (418, -1003, "Way too much request weight used; IP banned until %d. Please use "
               "WebSocket Streams for live updates to avoid bans." % st["ban_until"])
        return ApiError(err, [("Retry-After", str(max(1, math.ceil((st["ban_until"] - t) / 1000))))])

    # -- fault rules --
    def match_rule(self, path, params, api_key):
        """The first rule that fires for this request, or None (counts skip/count)."""
        with self.lock:
            for r in self.rules:
                p = r.get("path")
                if p is not None:
                    if p.endswith("*"):
                        if not path.startswith(p[:-1]):
                            continue
                    elif p != path:
                        continue
                if r.get("api_key") is not None and r["api_key"] != api_key:
                    continue
                if any(params.get(k) != str(v) for k, v in (r.get("params") or {}).items()):
                    continue
                r["seen"] += 1
                if r["seen"] <= r["skip"]:
                    continue
                if r["count"] is not None and r["hits"] >= r["count"]:
                    continue
                r["hits"] += 1
                return dict(r)
        return None

    def record(self, entry):
        with self.lock:
            self.log.append(entry)
            if len(self.log) > 20000:
                del self.log[:10000]

    def stats(self):
        with self.lock:
            return {
                "requests": list(self.log),
                "weights": {"%s %s" % k: {"used": v["used"], "ban_until": v["ban_until"],
                                          "retry_until": v["retry_until"]}
                            for k, v in self.ip.items()},
                "rules": [{k: v for k, v in r.items()} for r in self.rules],
                "limits": dict(self.limits), "clock_skew_ms": self.skew,
                "http451": self.http451,
            }


# --- requests -----------------------------------------------------------------------

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


def trade_query(params, symbols):
    """The parameters myTrades and userTrades share: symbol (one of symbols),
    orderId, fromId, startTime, endTime, limit (default 500, at most 1000)."""
    symbol = params.get("symbol")
    if not symbol:
        raise ApiError(err_mandatory("symbol"))
    if symbol not in symbols:
        raise ApiError(ERR_SYMBOL)
    return (symbol, int_param(params, "orderId"), int_param(params, "fromId"),
            int_param(params, "startTime"), int_param(params, "endTime"),
            limit_param(params, 500, 1000))


def limit_param(params, default, maximum):
    limit = int_param(params, "limit")
    if limit is None:
        return default
    if limit < 1 or limit > maximum:
        raise ApiError(err_invalid("limit"))
    return limit


def w_const(n):
    return lambda p: n


def w_fapi_klines(p):
    try:
        n = int(p.get("limit", "500"))
    except ValueError:
        n = 500
    return 1 if n < 100 else 2 if n < 500 else 5 if n <= 1000 else 10


# path -> (limiter, weight(params), handler name)
ROUTES = {
    "/api/v3/ping": ("api", w_const(1), "ping"),
    "/api/v3/time": ("api", w_const(1), "server_time"),
    "/api/v3/exchangeInfo": ("api", w_const(20), "exchange_info"),
    "/api/v3/klines": ("api", w_const(2), "klines"),
    "/api/v3/account": ("api", w_const(20), "account"),
    "/api/v3/myTrades": ("api", lambda p: 5 if "orderId" in p else 20, "my_trades"),
    "/sapi/v1/account/apiRestrictions": ("sapi", w_const(1), "api_restrictions"),
    "/fapi/v1/ping": ("fapi", w_const(1), "ping"),
    "/fapi/v1/time": ("fapi", w_const(1), "server_time"),
    "/fapi/v1/exchangeInfo": ("fapi", w_const(1), "f_exchange_info"),
    "/fapi/v1/klines": ("fapi", w_fapi_klines, "f_klines"),
    "/fapi/v2/account": ("fapi", w_const(5), "f_account"),
    "/fapi/v3/account": ("fapi", w_const(5), "f_account"),
    "/fapi/v1/userTrades": ("fapi", w_const(5), "f_user_trades"),
    "/fapi/v1/income": ("fapi", w_const(30), "f_income"),
}


# --- wallet history: snapshots, deposits, withdrawals, transfers (issue 7) ----------
#
# An account's balances over time are derived, never stored: its
# `opening_balances` (held before the simulated history; not a flow), plus its
# deposits, minus its withdrawals (amount + transactionFee), plus or minus its
# transfers, plus every spot fill (a buy adds qty of the base and takes
# quoteQty of the quote, a sell the reverse; the commission is taken in its
# asset). The USD-M wallet likewise: `futures.opening_assets` plus every
# income row (realized PnL, commissions, funding and the TRANSFER rows of the
# transfers). The daily snapshots serve those balances at each UTC day's
# close, valued with the same prices the klines serve, so a client that reads
# fills, flows, snapshots and klines sees one consistent account.

# Binance keeps the snapshots for about a month ("last month only") and the
# transfer history for six months; overridable in the file's `history_days`.
DEFAULT_HISTORY_DAYS.update({"accountSnapshot": 30, "transfer": 180})
# Per-UID weight: withdraw history costs 18000 of the account's 180000/minute.
DEFAULT_LIMITS["sapi_uid"] = 180000
LIMITER_HEADERS["sapi_uid"] = "X-SAPI-USED-UID-WEIGHT-1M"

DEPOSIT_CREDITED = {1, 6}         # 1 success, 6 credited but cannot withdraw
WITHDRAW_DEBITED = {0, 2, 4, 6}   # email sent, awaiting approval, processing, completed
TRANSFER_STATUSES = {"CONFIRMED", "FAILED", "PENDING"}
# Binance's universal-transfer types. Only the MAIN (spot) and UMFUTURE
# (USD-M) ends move simulated balances; the other wallets are not modelled.
TRANSFER_TYPES = {
    "MAIN_UMFUTURE", "MAIN_CMFUTURE", "MAIN_MARGIN", "UMFUTURE_MAIN", "UMFUTURE_MARGIN",
    "CMFUTURE_MAIN", "CMFUTURE_MARGIN", "MARGIN_MAIN", "MARGIN_UMFUTURE", "MARGIN_CMFUTURE",
    "ISOLATEDMARGIN_MARGIN", "MARGIN_ISOLATEDMARGIN", "ISOLATEDMARGIN_ISOLATEDMARGIN",
    "MAIN_FUNDING", "FUNDING_MAIN", "FUNDING_UMFUTURE", "UMFUTURE_FUNDING", "MARGIN_FUNDING",
    "FUNDING_MARGIN", "FUNDING_CMFUTURE", "CMFUTURE_FUNDING", "MAIN_OPTION", "OPTION_MAIN",
    "UMFUTURE_OPTION", "OPTION_UMFUTURE", "MARGIN_OPTION", "OPTION_MARGIN", "FUNDING_OPTION",
    "OPTION_FUNDING", "MAIN_PORTFOLIO_MARGIN", "PORTFOLIO_MARGIN_MAIN"}
ERR_RANGE_30D = (400, -1127, "More than 30 days between startTime and endTime.")
ERR_RANGE_90D = (400, -1127, "More than 90 days between startTime and endTime.")


def transfer_wallets(ttype):
    """(from, to) wallet names of a transfer type: "MAIN_UMFUTURE" -> ("MAIN", "UMFUTURE")."""
    for w in ("ISOLATEDMARGIN", "PORTFOLIO_MARGIN", "MAIN", "UMFUTURE", "CMFUTURE", "MARGIN",
              "FUNDING", "OPTION"):
        if ttype.startswith(w + "_"):
            return w, ttype[len(w) + 1:]
    raise ValueError("transfer type %s" % ttype)


def ymd(ms):
    return time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))


def ymd_hms(ms):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000))


def day_of(text, what):
    import calendar  # here, not at the top: the imports block is a merge hot spot
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%d")) // 86400
    except (ValueError, OverflowError, TypeError):
        raise ValueError("%s: a date YYYY-MM-DD: %r" % (what, text))


def transfer_income_rows(transfers):
    """The USD-M income rows Binance books for transfers into and out of the
    USD-M wallet (incomeType TRANSFER, positive in, negative out)."""
    rows = []
    for n, t in enumerate(transfers):
        if t.get("status", "CONFIRMED") != "CONFIRMED":
            continue
        src, dst = transfer_wallets(t["type"])
        amt = dec(t["amount"], "transfer amount")
        if "UMFUTURE" not in (src, dst) or src == dst:
            continue
        rows.append({"symbol": "", "incomeType": "TRANSFER",
                     "income": q8(amt if dst == "UMFUTURE" else -amt), "asset": t["asset"],
                     "info": "TRANSFER", "time": t["time"], "tradeId": "",
                     "tranId": t.get("tranId", 11415955596 + n)})  # the transfer's own id
    return rows


class WalletHistory:
    """An account's deposits, withdrawals and transfers, and the spot and USD-M
    balances they imply day by day (see the section comment)."""

    def __init__(self, a, acct, market):
        key = acct.key[:6]
        self.deposits, self.withdrawals, self.transfers = [], [], []
        for n, d in enumerate(a.get("deposits", [])):
            for name in ("coin", "amount", "time"):
                if name not in d:
                    raise ValueError("account %s: deposit without %s" % (key, name))
            dec(d["amount"], "deposit amount")
            row = dict(d)
            row.setdefault("status", 1)
            row.setdefault("id", str(769800519366885376 + n))
            row.setdefault("network", d["coin"])
            row.setdefault("address", "sim-deposit-address")
            row.setdefault("addressTag", "")
            row.setdefault("txId", hashlib.sha256(("dep:%s:%d" % (acct.key, n)).encode())
                           .hexdigest())
            row.setdefault("completeTime", d["time"])
            self.deposits.append(row)
        for n, w in enumerate(a.get("withdrawals", [])):
            for name in ("coin", "amount", "time"):
                if name not in w:
                    raise ValueError("account %s: withdrawal without %s" % (key, name))
            dec(w["amount"], "withdrawal amount")
            row = dict(w)
            row.setdefault("transactionFee", "0")
            dec(row["transactionFee"], "withdrawal transactionFee")
            row.setdefault("status", 6)
            row.setdefault("id", hashlib.sha256(("wd:%s:%d" % (acct.key, n)).encode())
                           .hexdigest()[:32])
            row.setdefault("network", w["coin"])
            row.setdefault("address", "sim-withdraw-address")
            row.setdefault("txId", "0x" + hashlib.sha256(("wtx:%s:%d" % (acct.key, n)).encode())
                           .hexdigest())
            if row["status"] == 6:
                row.setdefault("completeTime", w["time"] + 10 * 60 * 1000)
            self.withdrawals.append(row)
        for n, t in enumerate(a.get("transfers", [])):
            for name in ("type", "asset", "amount", "time"):
                if name not in t:
                    raise ValueError("account %s: transfer without %s" % (key, name))
            if t["type"] not in TRANSFER_TYPES:
                raise ValueError("account %s: unknown transfer type %s" % (key, t["type"]))
            dec(t["amount"], "transfer amount")
            row = dict(t)
            row.setdefault("status", "CONFIRMED")
            if row["status"] not in TRANSFER_STATUSES:
                raise ValueError("account %s: transfer status %s" % (key, row["status"]))
            row.setdefault("tranId", 11415955596 + n)
            self.transfers.append(row)
        self.deposits.sort(key=lambda r: r["time"])
        self.withdrawals.sort(key=lambda r: r["time"])
        self.transfers.sort(key=lambda r: (r["time"], r["tranId"]))
        self.missing = {day_of(s, "snapshot_missing") for s in a.get("snapshot_missing", [])}
        # spot balance changes: (time, asset, delta)
        ev = []
        for d in self.deposits:
            if d["status"] in DEPOSIT_CREDITED:
                ev.append((d["time"], d["coin"], dec(d["amount"], "amount")))
        for w in self.withdrawals:
            if w["status"] in WITHDRAW_DEBITED:
                ev.append((w["time"], w["coin"],
                           -(dec(w["amount"], "amount") + dec(w["transactionFee"], "fee"))))
        for t in self.transfers:
            if t["status"] != "CONFIRMED":
                continue
            src, dst = transfer_wallets(t["type"])
            amt = dec(t["amount"], "amount")
            if src == "MAIN":
                ev.append((t["time"], t["asset"], -amt))
            if dst == "MAIN":
                ev.append((t["time"], t["asset"], amt))
        for symbol, lst in acct.trades.items():
            e = market.by_symbol[symbol]
            for t in lst:
                try:
                    qty, quote = dec(t["qty"], "qty"), dec(t["quoteQty"], "quoteQty")
                    fee = dec(t["commission"], "commission")
                    tm = int(t["time"])
                except (ValueError, KeyError, TypeError):
                    continue  # a deliberately malformed trade (fault tests) moves no balance
                sign = 1 if t["isBuyer"] is True else -1
                ev.append((tm, e["baseAsset"], sign * qty))
                ev.append((tm, e["quoteAsset"], -sign * quote))
                ev.append((tm, t["commissionAsset"], -fee))
        ev.sort(key=lambda x: x[0])
        self.spot_events = ev
        self.opening = self._opening(a.get("opening_balances"), a.get("balances"), ev,
                                     "opening_balances")
        # USD-M wallet changes: every income row (transfers included), and the fills
        self.f_opening, self.f_events, self.f_fills = {}, [], []
        if acct.futures is not None:
            self.f_events = []
            for r in acct.futures.income:
                try:
                    self.f_events.append((int(r["time"]), r["asset"], dec(r["income"], "income")))
                except (ValueError, KeyError, TypeError):
                    continue  # a deliberately malformed row (fault tests) moves no balance
            self.f_events.sort(key=lambda x: x[0])
            self.f_opening = self._opening(a["futures"].get("opening_assets"),
                                           a["futures"].get("assets"), self.f_events,
                                           "futures.opening_assets")
            self.f_fills = sorted((t for lst in acct.futures.trades.values() for t in lst),
                                  key=lambda t: (t["time"], t["id"]))
        # Snapshots only for an account that describes its wallet history: an
        # account of fills alone keeps "no equity" (as the suites written
        # before issue 7 expect)
        self.has_history = any(k in a for k in ("deposits", "withdrawals", "transfers",
                                                 "opening_balances", "snapshot_from",
                                                 "snapshot_missing")) or \
            (acct.futures is not None and "opening_assets" in a["futures"])
        if "snapshot_from" in a:
            self.first_day = int(a["snapshot_from"]) // DAY_MS
        elif self.opening or self.f_opening:
            self.first_day = None  # the account existed before its history
        else:
            times = [x[0] for x in ev] + [x[0] for x in self.f_events]
            self.first_day = min(times) // DAY_MS if times else None

    @staticmethod
    def _opening(given, current, events, what):
        """The balances held before the history: as given; else those that make
        the history end at the account's current balances (so /api/v3/account
        and the last snapshot agree); else none."""
        if given is not None:
            return {k: dec(v, what + "." + k) for k, v in given.items()}
        if not current:
            return {}
        out = {}
        for k, v in current.items():
            if isinstance(v, dict):
                v = dec(v.get("free", "0"), k) + dec(v.get("locked", "0"), k)
            out[k] = dec(v, k)
        for _, asset, d in events:
            out[asset] = out.get(asset, Decimal(0)) - d
        return {k: v for k, v in out.items() if v != 0}

    def current(self, futures=False):
        """The balances after the whole history, as decimal strings."""
        bal = self.futures_state(2 ** 62)[0] if futures else self.spot_balances(2 ** 62)
        return {k: q8(v) for k, v in sorted(bal.items())}

    def spot_balances(self, until):
        """Balances after every event before `until` (ms): {asset: Decimal}."""
        bal = dict(self.opening)
        for t, asset, d in self.spot_events:
            if t >= until:
                break
            bal[asset] = bal.get(asset, Decimal(0)) + d
        return bal

    def futures_state(self, until):
        """Wallet balances and open positions {symbol: (amt, entry)} before `until`."""
        bal = dict(self.f_opening)
        for t, asset, d in self.f_events:
            if t >= until:
                break
            bal[asset] = bal.get(asset, Decimal(0)) + d
        pos = {}
        for t in self.f_fills:
            if t["time"] >= until:
                break
            qty = dec(t["qty"], "qty") * (1 if t["side"] == "BUY" else -1)
            price = dec(t["price"], "price")
            amt, entry = pos.get(t["symbol"], (Decimal(0), Decimal(0)))
            new = amt + qty
            if amt == 0 or (amt > 0) == (qty > 0):      # opens or adds: average entry
                entry = (entry * abs(amt) + price * abs(qty)) / abs(new)
            elif new != 0 and (new > 0) != (amt > 0):   # flips: the rest opens at this price
                entry = price
            if new == 0:
                entry = Decimal(0)
            pos[t["symbol"]] = (new, entry)
        return bal, {s: v for s, v in pos.items() if v[0] != 0}


def day_close(market, symbol, day, futures=False):
    """The close of the 1d kline of UTC day `day`: the price at the hour the day ends."""
    spec = market.price_spec(symbol, futures)
    return market.price_at_hour(symbol, spec, (day + 1) * 24)


def btc_value(market, asset, day):
    """One unit of `asset` in BTC at the day's close, from the daily klines:
    ASSETBTC, else BTCASSET inverted, else ASSETUSDT / BTCUSDT; None: no price."""
    if asset == "BTC":
        return Decimal(1)
    if asset + "BTC" in market.by_symbol:
        return day_close(market, asset + "BTC", day)
    if "BTC" + asset in market.by_symbol:
        p = day_close(market, "BTC" + asset, day)
        return Decimal(1) / p if p else None
    if asset + "USDT" in market.by_symbol and "BTCUSDT" in market.by_symbol:
        b = day_close(market, "BTCUSDT", day)
        return day_close(market, asset + "USDT", day) / b if b else None
    return None


class WalletHistoryRoutes:
    """The Handler's wallet-history routes (mixed into Handler)."""

    def _window(self, params, default_ms, max_ms, err):
        """startTime/endTime with Binance's defaults: neither -> the last
        default_ms; only startTime -> to now; only endTime -> default_ms before
        it. A span over max_ms -> err."""
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        now = self.state.server_ms(self.header_account())
        hi = end if end is not None else now
        lo = start if start is not None else hi - default_ms
        if hi < lo:
            raise ApiError(err_invalid("endTime"))
        if max_ms is not None and hi - lo > max_ms:
            raise ApiError(err)
        return lo, hi, now

    def account_snapshot(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        kind = params.get("type")
        if not kind:
            raise ApiError(err_mandatory("type"))
        if kind not in ("SPOT", "MARGIN", "FUTURES"):
            raise ApiError(err_invalid("type"))
        limit = int_param(params, "limit")
        limit = 7 if limit is None else limit
        if limit < 7 or limit > 30:
            raise ApiError(err_invalid("limit"))
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        # "The query time period must be less than 30 days"
        if start is not None and end is not None and end - start >= 30 * DAY_MS:
            raise ApiError(ERR_RANGE_30D)
        lo, hi, now = self._window(params, 7 * DAY_MS, None, None)
        # "Support query within the last one month only"
        lo = max(lo, now - self.market.history_days["accountSnapshot"] * DAY_MS)
        out = []
        h = acct.history
        if kind == "MARGIN" or (kind == "FUTURES" and acct.futures is None) or \
                not h.has_history:
            return 200, {"code": 200, "msg": "", "snapshotVos": out}
        day = lo // DAY_MS
        while len(out) < limit:
            update = (day + 1) * DAY_MS - 1000  # 23:59:59.000 UTC, as Binance stamps it
            if update > hi or update >= now:
                break
            if update >= lo and day not in h.missing and (h.first_day is None
                                                          or day >= h.first_day):
                out.append(self._snapshot(acct, kind, day, update))
            day += 1
        return 200, {"code": 200, "msg": "", "snapshotVos": out}

    def _snapshot(self, acct, kind, day, update):
        m, h = self.market, acct.history
        end = (day + 1) * DAY_MS
        if kind == "SPOT":
            bal = h.spot_balances(end)
            total = Decimal(0)
            rows = []
            for asset in sorted(bal):
                if bal[asset] == 0:
                    continue
                rows.append({"asset": asset, "free": q8(bal[asset]), "locked": q8(Decimal(0))})
                px = btc_value(m, asset, day)
                if px is not None:
                    total += bal[asset] * px
            return {"data": {"balances": rows, "totalAssetOfBtc": q8(total)},
                    "type": "spot", "updateTime": update}
        bal, pos = h.futures_state(end)
        upnl = {}
        prows = []
        for symbol in sorted(pos):
            amt, entry = pos[symbol]
            mark = day_close(m, symbol, day, futures=True)
            u = (mark - entry) * amt
            margin = m.by_fsymbol[symbol]["quoteAsset"]
            upnl[margin] = upnl.get(margin, Decimal(0)) + u
            prows.append({"entryPrice": q8(entry), "markPrice": q8(mark),
                          "positionAmt": q8(amt), "symbol": symbol,
                          "unRealizedProfit": q8(u)})
        arows = [{"asset": a, "marginBalance": q8(bal.get(a, Decimal(0)) + upnl.get(a, Decimal(0))),
                  "walletBalance": q8(bal.get(a, Decimal(0)))}
                 for a in sorted(set(bal) | set(upnl))]
        return {"data": {"assets": arows, "position": prows}, "type": "futures",
                "updateTime": update}

    def deposit_history(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        lo, hi, _ = self._window(params, 90 * DAY_MS, 90 * DAY_MS, ERR_RANGE_90D)
        coin, status, tx = params.get("coin"), int_param(params, "status"), params.get("txId")
        offset = int_param(params, "offset") or 0
        limit = limit_param(params, 1000, 1000)
        rows = [d for d in acct.history.deposits if lo <= d["time"] <= hi
                and (not coin or d["coin"] == coin)
                and (status is None or d["status"] == status) and (not tx or d["txId"] == tx)]
        rows.sort(key=lambda d: d["time"], reverse=True)  # newest first
        source = params.get("includeSource") == "true"
        out = []
        for d in rows[offset:offset + limit]:
            r = {"id": d["id"], "amount": d["amount"], "coin": d["coin"], "network": d["network"],
                 "status": d["status"], "address": d["address"], "addressTag": d["addressTag"],
                 "txId": d["txId"], "insertTime": d["time"], "completeTime": d["completeTime"],
                 "transferType": 0, "confirmTimes": "1/1", "unlockConfirm": 0, "walletType": 0}
            if source:
                r["sourceAddress"] = d.get("sourceAddress", "sim-source-address")
            out.append(r)
        return 200, out

    def withdraw_history(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        order_id = params.get("withdrawOrderId")
        if order_id:  # with withdrawOrderId: 7 days at most, the last 7 by default
            lo, hi, _ = self._window(params, 7 * DAY_MS, 7 * DAY_MS, ERR_RANGE_7D)
        else:
            lo, hi, _ = self._window(params, 90 * DAY_MS, 90 * DAY_MS, ERR_RANGE_90D)
        coin, status = params.get("coin"), int_param(params, "status")
        ids = set(params["idList"].split(",")) if params.get("idList") else None
        offset = int_param(params, "offset") or 0
        limit = limit_param(params, 1000, 1000)
        rows = [w for w in acct.history.withdrawals if lo <= w["time"] <= hi
                and (not coin or w["coin"] == coin)
                and (status is None or w["status"] == status)
                and (not order_id or w.get("withdrawOrderId") == order_id)
                and (ids is None or w["id"] in ids)]
        rows.sort(key=lambda w: w["time"], reverse=True)  # newest first
        out = []
        for w in rows[offset:offset + limit]:
            r = {"id": w["id"], "amount": w["amount"], "transactionFee": w["transactionFee"],
                 "coin": w["coin"], "status": w["status"], "address": w["address"],
                 "txId": w["txId"], "applyTime": ymd_hms(w["time"]), "network": w["network"],
                 "transferType": 0, "info": "", "confirmNo": 3, "walletType": 0, "txKey": ""}
            if w.get("withdrawOrderId"):
                r["withdrawOrderId"] = w["withdrawOrderId"]
            if w.get("completeTime") is not None:
                r["completeTime"] = ymd_hms(w["completeTime"])
            out.append(r)
        return 200, out

    def asset_transfer(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        ttype = params.get("type")
        if not ttype:
            raise ApiError(err_mandatory("type"))
        if ttype not in TRANSFER_TYPES:
            raise ApiError(err_invalid("type"))
        if ttype in ("ISOLATEDMARGIN_MARGIN", "ISOLATEDMARGIN_ISOLATEDMARGIN") \
                and not params.get("fromSymbol"):
            raise ApiError(err_mandatory("fromSymbol"))
        if ttype in ("MARGIN_ISOLATEDMARGIN", "ISOLATEDMARGIN_ISOLATEDMARGIN") \
                and not params.get("toSymbol"):
            raise ApiError(err_mandatory("toSymbol"))
        current = int_param(params, "current") or 1
        size = int_param(params, "size")
        size = 10 if size is None else size
        if size < 1 or size > 100:
            raise ApiError(err_invalid("size"))
        lo, hi, now = self._window(params, 7 * DAY_MS, None, None)
        if int_param(params, "startTime") is None and int_param(params, "endTime") is not None:
            lo = 0  # only endTime: everything kept up to it
        lo = max(lo, now - self.market.history_days["transfer"] * DAY_MS)  # 6 months only
        rows = [t for t in acct.history.transfers
                if t["type"] == ttype and lo <= t["time"] <= hi]
        rows.sort(key=lambda t: (t["time"], t["tranId"]), reverse=True)  # newest first
        page = rows[(current - 1) * size:(current - 1) * size + size]
        doc = {"total": len(rows)}
        if page:  # Binance leaves `rows` out of an empty answer
            doc["rows"] = [{"asset": t["asset"], "amount": t["amount"], "type": t["type"],
                            "status": t["status"], "tranId": t["tranId"],
                            "timestamp": t["time"]} for t in page]
        return 200, doc


ROUTES.update({
    "/sapi/v1/accountSnapshot": ("sapi", w_const(2400), "account_snapshot"),
    "/sapi/v1/capital/deposit/hisrec": ("sapi", w_const(1), "deposit_history"),
    "/sapi/v1/capital/withdraw/history": ("sapi_uid", w_const(18000), "withdraw_history"),
    "/sapi/v1/asset/transfer": ("sapi", w_const(1), "asset_transfer"),
})


class Handler(WalletHistoryRoutes, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can reuse connections
    # The headers and the body are two writes: with Nagle's algorithm the
    # body waited for the client's delayed ACK of the headers, about 40 ms a
    # response (a run of 24 calls spent ~1 s idle; docs/BENCHMARKS.md, "Where
    # the time goes"). Binance's own front ends answer without such a stall.
    disable_nagle_algorithm = True
    server_version = "binance-sim/2"
    market = None  # set in main()
    state = None
    control_token = None

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
        self._status = status
        self._record_pending()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    # -- control endpoint (tests only) --
    def control(self, path):
        tok = self.control_token
        given = self.headers.get("X-Sim-Control", "")
        if not tok or not hmac.compare_digest(given.encode(), tok.encode()):
            self.send_json(404, {"code": -1000, "msg": "Not found."})
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            doc = json.loads(body) if body else {}
            if self.command == "GET" and path == "/__sim/stats":
                self.send_json(200, self.state.stats())
            elif self.command == "POST" and path == "/__sim/faults":
                self.state.configure(doc)
                self.send_json(200, self.state.stats() | {"requests": []})
            elif self.command == "POST" and path == "/__sim/reset":
                self.state.reset()
                self.send_json(200, {})
            elif self.command == "POST" and path == "/__sim/account":
                self.patch_account(doc)
                self.send_json(200, {})
            elif self.command == "POST" and path == "/__sim/api_keys":
                self.send_json(200, {"api_key": self.register_key(doc)})
            else:
                self.send_json(404, {"code": -1000, "msg": "Not found."})
        except (ValueError, KeyError, TypeError) as e:
            self.send_json(400, {"error": str(e)})

    def patch_account(self, doc):
        acct = self.market.accounts.get(doc.get("api_key"))
        if acct is None:
            raise ValueError("no such api_key")
        with self.state.lock:
            if "api_restrictions" in doc:
                acct.patch_restrictions(doc["api_restrictions"])
            if "permissions" in doc:
                acct.permissions = list(doc["permissions"])
            if "fault" in doc:
                acct.fault = doc["fault"]
            if "clock_skew_ms" in doc:
                acct.skew = int(doc["clock_skew_ms"])
            if "ip_allow" in doc:
                acct.ip_allow = list(doc["ip_allow"])

    def register_key(self, doc):
        """What a trader does at Binance (API Management > Create API >
        Self-generated): paste an Ed25519 public key (PEM) for an account;
        Binance shows a new API key whose requests must be signed with the
        matching private key. Read-only unless api_restrictions say more."""
        owner = self.market.accounts.get(doc.get("account"))
        if owner is None:
            raise ValueError("no such account (name it by one of its api_keys)")
        pub = doc.get("ed25519_public_key")
        if not isinstance(pub, str):
            raise ValueError("ed25519_public_key (PEM) is required")
        acct = copy.copy(owner)  # the same account: uid, trades, balances
        alphabet = string.ascii_letters + string.digits  # Binance's keys: 64 alphanumerics
        acct.key = "".join(secrets.choice(alphabet) for _ in range(64))
        acct.kind, acct.secret = "ed25519", None
        acct.pub_path = ED25519.load_public_key(pub)
        acct.restrictions = {}
        acct.patch_restrictions(doc.get("api_restrictions", {}))
        acct.initial = (dict(acct.restrictions),) + owner.initial[1:]
        with self.state.lock:
            self.market.accounts[acct.key] = acct
        return acct.key

    def do_POST(self):
        path = self.path.partition("?")[0]
        if path.startswith("/__sim/"):
            self.control(path)
        else:
            self.send_json(404, {"code": -1000, "msg": "Not found."})

    def do_GET(self):
        path, _, raw = self.path.partition("?")
        if path.startswith("/__sim/"):
            self.control(path)
            return
        route = ROUTES.get(path)
        if route is None:
            self.send_json(404, {"code": -1000, "msg": "Not found."})
            return
        limiter, weight_fn, name = route
        self._status = None
        params = {}
        try:
            params = parse_query(raw)[0]
        except ApiError:
            pass
        params.pop("signature", None)
        acct = self.market.accounts.get(self.headers.get("X-MBX-APIKEY", ""))
        # Recorded by send_json before the answer leaves, so a client that
        # reads the stats after its answer always finds its request there.
        self._pending = {"t": now_ms(), "method": "GET", "path": path, "params": params,
                         "uid": acct.uid if acct else None}
        try:
            self.serve(path, raw, limiter, weight_fn, name)
        finally:
            self._record_pending()  # no answer sent (a dropped connection)

    def _record_pending(self):
        entry, self._pending = getattr(self, "_pending", None), None
        if entry is not None:
            self.state.record(entry | {"status": self._status})

    def serve(self, path, raw, limiter, weight_fn, name):
        st = self.state
        if st.http451:  # a region block happens before the API: no weight header
            self.send_json(451, {"code": 0, "msg": MSG_451})
            return
        try:
            params, payload, signature = parse_query(raw)
        except ApiError as e:
            params, payload, signature, parse_err = {}, "", None, e
        else:
            parse_err = None
        who = self.client_address[0]
        if limiter == "sapi_uid":  # counted per account (UID), not per IP
            a = self.market.accounts.get(self.headers.get("X-MBX-APIKEY") or "")
            who = "uid:%d" % a.uid if a is not None else who
        used, limit_err = st.charge(limiter, who, weight_fn(params))
        forced = self.market.accounts.get(self.headers.get("X-MBX-APIKEY") or "")
        if forced is not None and forced.used_weight is not None:
            used = int(forced.used_weight)  # a test's knob: what the exchange claims
        weight_hdr = [(LIMITER_HEADERS[limiter], str(used))]
        if limiter in ("api", "fapi"):
            weight_hdr.append(("X-MBX-USED-WEIGHT", str(used)))
        try:
            if limit_err is not None:
                raise limit_err
            if parse_err is not None:
                raise parse_err
            rule = st.match_rule(path, params, self.headers.get("X-MBX-APIKEY"))
            if rule is not None:
                if rule.get("delay_ms"):
                    time.sleep(rule["delay_ms"] / 1000.0)
                if rule.get("close"):
                    raise _Close()
                if rule.get("status"):
                    s = int(rule["status"])
                    hdrs = [("Retry-After", str(rule["retry_after"]))] if rule.get("retry_after") else []
                    if rule.get("raw") is not None:
                        raise _Raw(s, rule["raw"].encode(), hdrs)
                    code, msg = DEFAULT_5XX.get(s, (-1000, "An unknown error occurred while "
                                                           "processing the request."))
                    raise ApiError((s, rule.get("code", code), rule.get("msg", msg)), hdrs)
            status, obj = getattr(self, name)(params, payload, signature)
            self.send_json(status, obj, extra_headers=weight_hdr)
        except ApiError as e:
            extra = list(e.headers)
            if e.status == 429 and not any(k == "Retry-After" for k, _ in extra):
                extra.append(("Retry-After", "1"))
            self.send_json(e.status, {"code": e.code, "msg": e.msg}, extra_headers=weight_hdr + extra)
        except _Raw as e:
            self.send_json(e.status, None, raw=e.body, extra_headers=weight_hdr + e.headers)
        except _Close:
            self._status = "closed"
            self.close_connection = True
        except _BadJson:
            self.send_json(200, None, raw=b'[{"symbol":"BTCUSDT","id":1,"price":"1')
        except _Redirect:  # somewhere else entirely: a client must not follow
            self.send_json(302, {}, extra_headers=[("Location", "http://127.0.0.1:9" + path)])
        except Exception as e:  # a bug or a bad accounts file: answer like Binance's -1000
            sys.stderr.write("binance-sim: %s on %s: %s\n" % (type(e).__name__, path, e))
            status, code, msg = ERR_UNKNOWN
            self.send_json(status, {"code": code, "msg": msg}, extra_headers=weight_hdr)

    # --- public -------------------------------------------------------------------

    def header_account(self):
        return self.market.accounts.get(self.headers.get("X-MBX-APIKEY", ""))

    def ping(self, params, payload, signature):
        return 200, {}

    def server_time(self, params, payload, signature):
        return 200, {"serverTime": self.state.server_ms(self.header_account())}

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
            "timezone": "UTC", "serverTime": self.state.server_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                 "intervalNum": 1, "limit": self.state.limits["api"]},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE",
                 "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [], "symbols": out,
        }

    def f_exchange_info(self, params, payload, signature):
        out = []
        for s in self.market.fsymbols:
            out.append({
                "symbol": s["symbol"], "pair": s["symbol"], "contractType": "PERPETUAL",
                "deliveryDate": 4133404800000, "onboardDate": 1569398400000,
                "status": s["status"], "baseAsset": s["baseAsset"], "quoteAsset": s["quoteAsset"],
                "marginAsset": s["quoteAsset"], "pricePrecision": 2, "quantityPrecision": 3,
                "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
                "filters": [], "orderTypes": ["LIMIT", "MARKET"], "timeInForce": ["GTC"],
            })
        return 200, {
            "timezone": "UTC", "serverTime": self.state.server_ms(), "futuresType": "U_MARGINED",
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                            "intervalNum": 1, "limit": self.state.limits["fapi"]}],
            "exchangeFilters": [], "assets": [], "symbols": out,
        }

    def klines(self, params, payload, signature, futures=False):
        m = self.market
        symbol = params.get("symbol")
        if not symbol:
            raise ApiError(err_mandatory("symbol"))
        if symbol not in (m.by_fsymbol if futures else m.by_symbol):
            raise ApiError(ERR_SYMBOL)
        interval = params.get("interval")
        if not interval:
            raise ApiError(err_mandatory("interval"))
        step = KLINE_MS.get(interval)
        if step is None:
            raise ApiError(ERR_INTERVAL)
        limit = limit_param(params, 500, 1500 if futures else 1000)
        start = int_param(params, "startTime")
        end = int_param(params, "endTime")
        now = self.state.server_ms()
        last = (min(end, now) if end is not None else now) // step * step
        if start is not None:
            first = -(-start // step) * step  # the first open time >= startTime
            opens = []
            t = first
            while t <= last and len(opens) < limit:
                opens.append(t)
                t += step
        else:
            opens = [last - i * step for i in range(limit)][::-1]
        spec = m.price_spec(symbol, futures)
        out = []
        for o in opens:
            h0 = o // HOUR_MS
            h1 = max(h0, (o + step) // HOUR_MS) if o + step <= now else max(h0, now // HOUR_MS)
            pts = [m.price_at_hour(symbol, spec, h) for h in range(h0, h1 + 1)]
            op, cl = pts[0], pts[-1]
            if spec[0] == "trades":  # every fill inside the kline lies within its high/low
                pts += [p for t, p in spec[1] if o <= t < min(o + step, now)]
            vol = Decimal("100")
            out.append([o, q8(op), q8(max(pts)), q8(min(pts)), q8(cl), q8(vol), o + step - 1,
                        q8(vol * cl), 100, q8(vol / 2), q8(vol / 2 * cl), "0"])
        return 200, out

    def f_klines(self, params, payload, signature):
        return self.klines(params, payload, signature, futures=True)

    # --- signed -------------------------------------------------------------------

    def authenticate(self, params, payload, signature):
        """Binance's checks for SIGNED endpoints, in order; returns the account."""
        key = self.headers.get("X-MBX-APIKEY")
        if key is None or not KEY_FORMAT.match(key):
            raise ApiError(ERR_KEY_FORMAT)
        acct = self.market.accounts.get(key)
        if acct is None:
            raise ApiError(ERR_KEY)
        fault = acct.fault
        if fault == "http500":
            raise ApiError(ERR_UNKNOWN)
        if fault == "http429":
            raise ApiError(ERR_TOO_MANY)
        if fault == "http418":
            raise ApiError(ERR_BANNED, [("Retry-After", str(acct.retry_after_s))])
        if fault == "http451":
            raise ApiError((451, 0, MSG_451))
        with self.state.lock:
            failing = acct.fail_first > 0
            if failing:
                acct.fail_first -= 1
        if failing:
            raise ApiError(ERR_UNKNOWN)
        if fault == "slow":
            time.sleep(acct.slow_ms / 1000.0)
        if fault == "redirect":
            raise _Redirect()
        if signature is None:
            raise ApiError(err_mandatory("signature"))
        if acct.kind == "hmac":
            want = hmac.new(acct.secret, payload.encode(), hashlib.sha256).hexdigest()
            # HMAC signatures are case-insensitive at Binance.
            if not hmac.compare_digest(want.encode(), signature.lower().encode()):
                raise ApiError(ERR_SIGNATURE)
        else:
            # Ed25519: base64 of 64 bytes, case-sensitive; the signed payload is
            # the query string as sent (percent-encoded), without signature.
            try:
                sig = base64.b64decode(signature.encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError, ValueError):
                raise ApiError(ERR_SIGNATURE)
            if len(sig) != 64 or not ED25519.verify(acct.pub_path, payload.encode(), sig):
                raise ApiError(ERR_SIGNATURE)
        ts = int_param(params, "timestamp", required=True)
        if ts > 10 ** 14:  # microseconds, which Binance also accepts
            ts //= 1000
        window_s = params.get("recvWindow")
        window = 5000.0
        if window_s not in (None, ""):
            if not re.match(r"^[0-9]{1,10}(\.[0-9]{1,3})?$", window_s):
                raise ApiError(err_illegal("recvWindow"))
            window = float(window_s)
        if window > MAX_RECV_WINDOW:
            raise ApiError(ERR_RECV_WINDOW)
        server = self.state.server_ms(acct)
        if ts >= server + 1000:
            raise ApiError(ERR_TIMESTAMP_AHEAD)
        if server - ts > window:
            raise ApiError(ERR_TIMESTAMP)
        r = acct.restrictions
        if not r.get("enableReading"):
            raise ApiError(ERR_KEY)
        if r.get("ipRestrict") and self.client_address[0] not in acct.ip_allow:
            raise ApiError(ERR_KEY)
        if fault == "bad_json":
            raise _BadJson()
        return acct

    def account(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        omit_zero = params.get("omitZeroBalances", "false") == "true"
        balances = []
        for asset, v in sorted(acct.balances.items()):
            if isinstance(v, dict):
                free, locked = dec(v.get("free", "0"), asset), dec(v.get("locked", "0"), asset)
            else:
                free, locked = dec(v, asset), Decimal(0)
            if omit_zero and free + locked == 0:
                continue
            balances.append({"asset": asset, "free": q8(free), "locked": q8(locked)})
        return 200, {
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {"maker": "0.00100000", "taker": "0.00100000",
                                "buyer": "0.00000000", "seller": "0.00000000"},
            "canTrade": acct.flags["canTrade"], "canWithdraw": acct.flags["canWithdraw"],
            "canDeposit": acct.flags["canDeposit"], "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": now_ms(), "accountType": "SPOT", "balances": balances,
            "permissions": list(acct.permissions), "uid": acct.uid,
        }

    def api_restrictions(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        return 200, dict(acct.restrictions)

    def my_trades(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        symbol, order_id, from_id, start, end, limit = trade_query(params, self.market.by_symbol)
        if from_id is not None and (start is not None or end is not None):
            raise ApiError(ERR_COMBINATION)
        if order_id is not None and (start is not None or end is not None):
            raise ApiError(ERR_COMBINATION)
        if start is not None and end is not None and end - start > DAY_MS:
            raise ApiError(ERR_RANGE)
        rows = acct.trades.get(symbol, [])
        if order_id is not None:
            rows = [t for t in rows if t.get("orderId") == order_id]
        if from_id is not None:
            rows = [t for t in rows if t["id"] >= from_id][:limit]
        elif start is not None or end is not None:
            lo = start if start is not None else (end - DAY_MS)
            hi = end if end is not None else (start + DAY_MS)
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

    # --- USD-M futures (signed) -----------------------------------------------------

    def f_authenticate(self, params, payload, signature):
        acct = self.authenticate(params, payload, signature)
        if acct.futures is None:  # no futures account opened for this key
            raise ApiError(ERR_KEY)
        return acct

    def f_account(self, params, payload, signature):
        acct = self.f_authenticate(params, payload, signature)
        f = acct.futures
        assets = []
        total = Decimal(0)
        for asset, v in sorted(f.assets.items()):
            d = dec(v, asset)
            if asset in ("USDT", "USDC", "FDUSD", "BFUSD"):
                total += d
            z = q8(Decimal(0))
            assets.append({"asset": asset, "walletBalance": q8(d), "unrealizedProfit": z,
                           "marginBalance": q8(d), "maintMargin": z, "initialMargin": z,
                           "positionInitialMargin": z, "openOrderInitialMargin": z,
                           "crossWalletBalance": q8(d), "crossUnPnl": z,
                           "availableBalance": q8(d), "maxWithdrawAmount": q8(d),
                           "updateTime": now_ms()})
        z = q8(Decimal(0))
        return 200, {
            "feeTier": 0, "feeBurn": False, "canTrade": acct.flags["canTrade"],
            "canDeposit": acct.flags["canDeposit"], "canWithdraw": acct.flags["canWithdraw"],
            "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1,
            "totalInitialMargin": z, "totalMaintMargin": z, "totalWalletBalance": q8(total),
            "totalUnrealizedProfit": z, "totalMarginBalance": q8(total),
            "totalPositionInitialMargin": z, "totalOpenOrderInitialMargin": z,
            "totalCrossWalletBalance": q8(total), "totalCrossUnPnl": z,
            "availableBalance": q8(total), "maxWithdrawAmount": q8(total),
            "assets": assets, "positions": list(f.positions),
        }

    def f_user_trades(self, params, payload, signature):
        acct = self.f_authenticate(params, payload, signature)
        symbol, order_id, from_id, start, end, limit = trade_query(params, self.market.by_fsymbol)
        # Binance: fromId cannot be sent with startTime or endTime; at most 7
        # days between them; only the past 6 months are kept.
        if from_id is not None and (start is not None or end is not None):
            raise ApiError(ERR_COMBINATION)
        if start is not None and end is not None:
            if end < start:
                raise ApiError(err_invalid("endTime"))
            if end - start > 7 * DAY_MS:
                raise ApiError(ERR_RANGE_7D)
        now = self.state.server_ms(acct)
        cutoff = now - self.market.history_days["userTrades"] * DAY_MS
        rows = [t for t in acct.futures.trades.get(symbol, []) if t["time"] >= cutoff]
        if order_id is not None:
            rows = [t for t in rows if t.get("orderId") == order_id]
        if from_id is not None:
            rows = [t for t in rows if t["id"] >= from_id][:limit]
        else:
            if start is None and end is None:  # the last 7 days
                lo, hi = now - 7 * DAY_MS, now
            else:
                lo = start if start is not None else end - 7 * DAY_MS
                hi = end if end is not None else start + 7 * DAY_MS
            rows = [t for t in rows if lo <= t["time"] <= hi]
            rows = rows[:limit] if start is not None else rows[-limit:]
        out = []
        for t in rows:
            qty, price = dec(t["qty"], "qty"), dec(t["price"], "price")
            out.append({
                "buyer": t.get("buyer", t["side"] == "BUY"),
                "commission": t.get("commission", "0"),
                "commissionAsset": t.get("commissionAsset", "USDT"), "id": t["id"],
                "maker": t.get("maker", False), "orderId": t.get("orderId", t["id"]),
                "price": t["price"], "qty": t["qty"],
                "quoteQty": t.get("quoteQty", q8(qty * price)),
                "realizedPnl": t.get("realizedPnl", "0"), "side": t["side"],
                "positionSide": t.get("positionSide", "BOTH"), "symbol": symbol,
                "time": t["time"],
            })
        return 200, out

    def f_income(self, params, payload, signature):
        acct = self.f_authenticate(params, payload, signature)
        symbol = params.get("symbol")
        if symbol and symbol not in self.market.by_fsymbol:
            raise ApiError(ERR_SYMBOL)
        itype = params.get("incomeType")
        if itype is not None and itype not in INCOME_TYPES:
            raise ApiError(err_invalid("incomeType"))
        start = int_param(params, "startTime")
        end = int_param(params, "endTime")
        page = int_param(params, "page")
        limit = limit_param(params, 100, 1000)
        now = self.state.server_ms(acct)
        cutoff = now - self.market.history_days["income"] * DAY_MS
        if start is None and end is None:  # the recent 7 days
            lo, hi = now - 7 * DAY_MS, now
        else:
            lo = start if start is not None else end - 7 * DAY_MS
            hi = end if end is not None else now
        lo = max(lo, cutoff)
        rows = [r for r in acct.futures.income
                if lo <= r["time"] <= hi and (not symbol or r["symbol"] == symbol)
                and (itype is None or r["incomeType"] == itype)]
        # From startTime on, `limit` at a time; `page` (1-based) pages further.
        off = ((page or 1) - 1) * limit
        rows = rows[off:off + limit]
        return 200, [{"symbol": r["symbol"], "incomeType": r["incomeType"],
                      "income": r["income"], "asset": r["asset"], "info": r["info"],
                      "time": r["time"], "tranId": r["tranId"], "tradeId": r["tradeId"]}
                     for r in rows]


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


def demo_futures(now):
    """~60 days of USD-M BTCUSDT fills (round trips with realized PnL) and
    8-hourly funding, fixed by DEMO_SEED; only the timestamps move."""
    rng = random.Random(DEMO_SEED + 1)
    start = now - 60 * DAY_MS
    price = Decimal("62000")
    trades, funding = [], []
    tid, oid = 880000000, 4400000
    for day in range(60):
        price = (price * Decimal(str(1 + rng.gauss(0.0005, 0.02)))).quantize(Decimal("0.1"))
        for _ in range(rng.randint(0, 2)):  # a round trip: open, then close later that day
            t = start + day * DAY_MS + rng.randrange(DAY_MS // 2)
            if t + DAY_MS // 2 >= now:
                continue
            qty = Decimal(rng.randint(1, 20)) / Decimal(1000)
            side = "BUY" if rng.random() < 0.5 else "SELL"
            exit_px = (price * Decimal(str(1 + rng.gauss(0, 0.01)))).quantize(Decimal("0.1"))
            pnl = (exit_px - price) * qty * (1 if side == "BUY" else -1)
            for k, (px, sd, rp) in enumerate(((price, side, Decimal(0)),
                                              (exit_px, "SELL" if side == "BUY" else "BUY", pnl))):
                tid += rng.randint(1, 50)
                oid += 1
                notional = px * qty
                trades.append({"symbol": "BTCUSDT", "id": tid, "orderId": oid, "side": sd,
                               "price": format(px, "f"), "qty": format(qty, "f"),
                               "quoteQty": q8(notional), "realizedPnl": q8(rp),
                               "commission": q8(notional * Decimal("0.0004")),
                               "commissionAsset": "USDT", "maker": False,
                               "time": t + k * (DAY_MS // 3)})
        for k in range(3):
            t = start + day * DAY_MS + k * 8 * HOUR_MS
            if t < now:
                funding.append({"symbol": "BTCUSDT", "income": q8(Decimal(str(rng.gauss(0, 0.05)))),
                                "time": t})
    # ids ascend with time, as at Binance
    times = sorted(tr["time"] for tr in trades)
    trades.sort(key=lambda tr: tr["id"])
    for tr, tm in zip(trades, times):
        tr["time"] = tm
    return {"assets": {"USDT": "5000.00000000"}, "trades": trades, "funding": funding}


def make_demo(out_dir):
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    alphabet = string.ascii_letters + string.digits
    api_key = "".join(secrets.choice(alphabet) for _ in range(64))
    api_secret = "".join(secrets.choice(alphabet) for _ in range(64))
    balances, trades = demo_account(now_ms())
    now = now_ms() // HOUR_MS * HOUR_MS
    doc = {"accounts": [{"api_key": api_key, "api_secret": api_secret,
                         "balances": balances, "trades": trades,
                         "futures": demo_futures(now_ms()),
                         # cash flows for the returns (the opening balances are inferred)
                         "deposits": [{"coin": "USDT", "amount": "5000", "time": now - 20 * DAY_MS}],
                         "withdrawals": [{"coin": "USDT", "amount": "1000", "transactionFee": "1",
                                          "time": now - 8 * DAY_MS + 5 * HOUR_MS}],
                         "transfers": [{"type": "MAIN_UMFUTURE", "asset": "USDT", "amount": "2000",
                                        "time": now - 25 * DAY_MS + 2 * HOUR_MS}]}]}
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
    ap = argparse.ArgumentParser(description="Binance-compatible REST simulator")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--accounts", help="accounts JSON file (holds the API secrets)")
    src.add_argument("--demo-out", help="write a demo account into this directory and serve it")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the listening port here")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="the certificate's private key (PEM)")
    ap.add_argument("--control-token-file",
                    help="enable /__sim/*: write a random control token here (mode 0600)")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    if args.demo_out:
        doc = make_demo(args.demo_out)
    else:
        with open(args.accounts, "rb") as f:
            doc = json.load(f)
    try:
        market = Market(doc)
        Handler.market = market
        Handler.state = State(market)
    except (ValueError, KeyError, TypeError) as e:
        sys.stderr.write("binance-sim: bad accounts file: %s\n" % e)
        ED25519.close()
        return 2
    Handler.control_token = market.control_token
    if args.control_token_file:
        Handler.control_token = secrets.token_hex(32)
        write_private(args.control_token_file, Handler.control_token + "\n")

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
    def on_term(signum, frame):  # leave through finally: the Ed25519 temp dir is removed
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        ED25519.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
