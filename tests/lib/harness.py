"""A real perfagg stack for integration and security tests.

Every Stack gets its own PostgreSQL database (in the cluster scripts/test.sh
started: PA_TEST_PGHOST), migrated by scripts/migrate.sh, its own Binance
simulator process, enclave process and server process on free loopback ports,
and its own temporary directory holding their logs and the enclave's var/.
Nothing is mocked: the tests speak HTTP to the real server.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SOURCE = os.environ.get("PA_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("PA_BUILD_DIR") or os.path.join(SOURCE, "build")
PGHOST = os.environ.get("PA_TEST_PGHOST")
PGBIN = "/usr/lib/postgresql/15/bin"
# The simulator's spot weight limit per minute in test stacks (Stack,
# production_weight=False), a hundredfold Binance's 6000.
TEST_WEIGHT_LIMIT = 600_000


def require_pg():
    if not PGHOST:
        raise RuntimeError("PA_TEST_PGHOST is not set: run the suite with `make test`")


def psql(db, sql, user="postgres", check=True):
    """Runs SQL through psql on the test cluster; returns stdout text."""
    r = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", PGHOST,
                        "-U", user, "-d", db, "-c", sql],
                       capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("psql failed: " + r.stderr)
    return r.stdout if r.returncode == 0 else r.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=20.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise TimeoutError("timed out waiting for " + what)


def raw_exchange(port, data, timeout=30, src=None):
    """Sends raw bytes on a fresh connection to 127.0.0.1:port (from address
    src when given) and reads to EOF; returns the first response's (status,
    parsed JSON body, or None when the body is not JSON)."""
    c = socket.socket(socket.AF_INET)
    c.settimeout(timeout)
    try:
        if src:
            c.bind((src, 0))
        c.connect(("127.0.0.1", port))
        c.sendall(data)
        out = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            out += d
    finally:
        c.close()
    head, _, body = out.partition(b"\r\n\r\n")
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    return int(head.split(b" ", 2)[1]), parsed


def make_trades(symbol, n, start_ms, step_ms, price0, seed=1):
    """A deterministic alternating buy/sell trade list for the simulator."""
    import random
    rnd = random.Random(seed)
    out = []
    price = price0
    for i in range(n):
        price = round(price * (1 + rnd.uniform(-0.01, 0.011)), 2)
        qty = round(rnd.uniform(0.01, 0.2), 4)
        out.append({
            "symbol": symbol, "id": i + 1, "orderId": 1000 + i,
            "price": f"{price:.8f}", "qty": f"{qty:.8f}",
            "quoteQty": f"{price * qty:.8f}", "commission": f"{price * qty * 0.001:.8f}",
            "commissionAsset": "USDT", "time": start_ms + i * step_ms,
            "isBuyer": i % 2 == 0, "isMaker": False, "isBestMatch": True,
        })
    return out


class Response:
    """An HTTP answer as the integration tests see it."""

    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def h(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.raw[:300])


def die_with_parent():
    """preexec_fn for every process a test starts: SIGKILL when the test
    process dies (a CTest timeout kills python outright, and its tearDown never
    runs), so no simulator, relay, enclave or server outlives its test."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Stack:
    """Starts simulator, egress relay, enclave and server; stop() ends them all.

    The enclave reaches the simulator only through perfagg-relay (a CONNECT
    tunnel, as in production) unless relay=False. tls=True serves the
    simulator over HTTPS with a test CA made for this stack (tools/test-ca.sh),
    which the development enclave trusts through PERFAGG_CA_FILE. relay_args
    are extra perfagg-relay arguments (e.g. --record FILE).
    supervised=True: the server runs the enclave itself (PERFAGG_ENCLAVE_EXEC)
    and restarts it when it dies; self.enclave is then None."""

    def __init__(self, accounts, server_env=None, start_sim=True, tls=False, relay=True,
                 relay_args=(), supervised=False, production_weight=False):
        require_pg()
        # Every run scans every USDT market (~34 myTrades calls, ~700 weight):
        # a suite's concurrent runs would pass Binance's 6000 a minute. Test
        # stacks raise the simulator's spot limit and the development
        # enclave's budget alike (same 4/5 margin); production_weight=True
        # keeps Binance's real figures (the enclave's compiled-in 4800).
        self.production_weight = production_weight
        if not production_weight and start_sim:
            accounts = dict(accounts)
            config = dict(accounts.get("config", {}))
            # the wallet endpoints too: sapi (an account snapshot weighs 2400 of
            # 12000) and the per-account UID limiter (withdraw history 18000 of
            # 180000), a hundredfold as well
            config["limits"] = {"api": TEST_WEIGHT_LIMIT, "sapi": 100 * 12000,
                                "sapi_uid": 100 * 180000, **config.get("limits", {})}
            accounts["config"] = config
        self.supervised = supervised
        self.enclave = None
        self.tmp = tempfile.mkdtemp(prefix="pa-it.", dir="/tmp")
        # Searchable by others: the enclave drops to nobody after start-up and
        # then still connects to relay.sock here (its files stay 0600).
        os.chmod(self.tmp, 0o711)
        self.procs = []
        self.db = "pa_" + secrets.token_hex(6)
        self.tls, self.use_relay, self.relay_args = tls, relay, tuple(relay_args)
        try:
            self._start_all(accounts, server_env, start_sim)
        except BaseException:
            # a stack that fails to start must not leak its processes or database
            self.stop()
            raise

    def _start_all(self, accounts, server_env, start_sim):
        psql("postgres", f"CREATE DATABASE {self.db}")
        subprocess.run([os.path.join(SOURCE, "scripts", "migrate.sh")],
                       env={**os.environ, "DATABASE_URL": self.superuser_url()},
                       check=True, capture_output=True)
        # /metrics and /operator/... need an operator token (docs/OPERATIONS.md)
        self.operator_token = self.operator_token_create("harness")
        self.accounts_file = os.path.join(self.tmp, "accounts.json")
        with open(self.accounts_file, "w") as f:
            json.dump(accounts, f)
        os.chmod(self.accounts_file, 0o600)
        self.sim_port = free_port() if start_sim else None
        tls_args = []
        if self.tls:
            self.ca_dir = os.path.join(self.tmp, "test-ca")
            subprocess.run([os.path.join(SOURCE, "tools", "test-ca.sh"), self.ca_dir], check=True)
            tls_args = ["--tls-cert", os.path.join(self.ca_dir, "server.pem"),
                        "--tls-key", os.path.join(self.ca_dir, "server.key")]
        scheme_host = "https://localhost" if self.tls else "http://127.0.0.1"
        if start_sim:
            self.sim_url = f"{scheme_host}:{self.sim_port}"
            self._start("sim", ["/usr/bin/python3", os.path.join(SOURCE, "tools", "binance_sim.py"),
                                "--accounts", self.accounts_file, "--port", str(self.sim_port),
                                "--control-token-file", os.path.join(self.tmp, "sim.control"),
                                *tls_args], {})
            wait_for(self._sim_up, what="simulator")
        else:
            self.sim_url = f"{scheme_host}:{free_port()}"  # nothing listens there
        if self.use_relay:
            self.start_relay()
        self.var = os.path.join(self.tmp, "var")
        os.makedirs(self.var)
        self.sock = os.path.join(self.tmp, "enclave.sock")
        if not self.supervised:
            self.start_enclave()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {"DATABASE_URL": self.app_url(), "ENCLAVE_PORT": str(self.port),
               "LISTEN_ADDRESS": "127.0.0.1", "ENCLAVE_ADDR": "unix:" + self.sock,
               "CLEANUP_INTERVAL_SECONDS": "1", "RATE_LIMIT_MAX": "100000"}
        if self.supervised:
            env.update(self.enclave_env())
            env["PERFAGG_ENCLAVE_EXEC"] = os.path.join(BUILD, "perfagg-enclave")
        env.update(server_env or {})
        self.server_env = env
        self.start_server()
        self.dev_root = os.path.join(self.var, "dev-attest", "root.pem")

    # -- processes ---------------------------------------------------------
    def _start(self, name, argv, env):
        log = open(os.path.join(self.tmp, name + ".log"), "ab")
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "BINANCE_BASE_URL", "PERFAGG_CA_FILE",
                                 "PERFAGG_EGRESS_RELAY")}
        full_env.update(env)
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                             cwd=self.tmp, preexec_fn=die_with_parent)
        log.close()  # the child has its own descriptor
        p.name = name
        self.procs.append(p)
        return p

    def _sim_up(self):
        try:
            ctx = None
            if self.tls:
                import ssl
                ctx = ssl.create_default_context(cafile=os.path.join(self.ca_dir, "ca.pem"))
            urllib.request.urlopen(self.sim_url + "/api/v3/ping", timeout=1, context=ctx).read()
            return True
        except Exception:
            return False

    def sim_control(self, method, path, body=None):
        """The simulator's test-only control endpoint (tools/README.md), e.g.
        sim_control("POST", "/__sim/faults", {"rules": [...]}); returns its JSON."""
        with open(os.path.join(self.tmp, "sim.control")) as f:
            token = f.read().strip()
        ctx = None
        if self.tls:
            import ssl
            ctx = ssl.create_default_context(cafile=os.path.join(self.ca_dir, "ca.pem"))
        req = urllib.request.Request(self.sim_url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"X-Sim-Control": token})
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read())

    def daily_closes(self, symbols, from_ms, to_ms, futures=False):
        """The simulator's daily klines' closes, from its public API as any
        client sees them: {symbol: {day: close string}} for every completed
        UTC day of [from, to) (what the enclave marks open inventory to,
        docs/METRICS.md "Unrealized PnL"); futures: USD-M's klines."""
        ctx = None
        if self.tls:
            import ssl
            ctx = ssl.create_default_context(cafile=os.path.join(self.ca_dir, "ca.pem"))
        day_ms = 86_400_000
        now = int(time.time() * 1000)
        out = {}
        for sym in sorted(symbols):
            q = urllib.parse.urlencode({"symbol": sym, "interval": "1d", "limit": 1000,
                                        "startTime": from_ms // day_ms * day_ms,
                                        "endTime": to_ms - 1})
            path = "/fapi/v1/klines?" if futures else "/api/v3/klines?"
            with urllib.request.urlopen(self.sim_url + path + q, timeout=10,
                                        context=ctx) as r:
                rows = json.loads(r.read())
            days = {}
            for row in rows:
                day = row[0] // day_ms
                if from_ms // day_ms <= day and day * day_ms < to_ms and (day + 1) * day_ms <= now:
                    days[day] = row[4]
            if days:
                out[sym] = days
        return out

    def start_relay(self):
        """perfagg-relay on a Unix socket, allowing only the simulator."""
        self.relay_sock = os.path.join(self.tmp, "relay.sock")
        target = self.sim_url.split("://", 1)[1]
        self.relay = self._start("relay", [os.path.join(BUILD, "perfagg-relay"),
                                           "--listen", "unix:" + self.relay_sock,
                                           "--dev-allow-local", "--allow", target,
                                           *self.relay_args], {})
        wait_for(lambda: os.path.exists(self.relay_sock), what="relay socket")

    def enclave_env(self):
        env = {"PERFAGG_VAR_DIR": self.var, "ENCLAVE_ADDR": "unix:" + self.sock,
               "BINANCE_BASE_URL": self.sim_url, "PERFAGG_EXCHANGE_TIMEOUT_MS": "3000"}
        if not self.production_weight:
            env["PERFAGG_EXCHANGE_WEIGHT_BUDGET"] = str(TEST_WEIGHT_LIMIT * 4 // 5)
        if self.use_relay:
            env["PERFAGG_EGRESS_RELAY"] = "unix:" + self.relay_sock
        if self.tls:
            env["PERFAGG_CA_FILE"] = os.path.join(self.ca_dir, "ca.pem")
        return env

    def start_enclave(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.enclave = self._start("enclave", [os.path.join(BUILD, "perfagg-enclave")],
                                   self.enclave_env())
        wait_for(lambda: os.path.exists(self.sock), what="enclave socket")

    def enclave_pid(self):
        """The enclave's pid: the process we started, or the server's child."""
        if not self.supervised:
            return self.enclave.pid
        kids = []
        task_dir = f"/proc/{self.server.pid}/task"
        for tid in os.listdir(task_dir):
            try:
                with open(f"{task_dir}/{tid}/children") as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
        return kids[0] if kids else None

    def stop_enclave(self):
        self._stop(self.enclave)

    def start_server(self):
        self.server = self._start("server", [os.path.join(BUILD, "perfagg-server")],
                                  self.server_env)
        wait_for(lambda: self._health_code() in (200, 503), what="server")

    def stop_server(self):
        self._stop(self.server)

    def _health_code(self):
        try:
            return self.request("GET", "/health")[0]
        except Exception:
            return None

    def _stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop(self, keep_db=False):
        for p in reversed(self.procs):
            self._stop(p)
        # Under `make sanitize` the processes report memory errors, leaks and
        # undefined behaviour in their logs; any such report fails the test.
        logs = self.logs()
        for marker in (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:"):
            if marker in logs:
                i = logs.index(marker)
                self.sanitizer_report = logs[max(0, i - 200):i + 3000].decode(errors="replace")
                break
        else:
            self.sanitizer_report = None
        if not keep_db:
            psql("postgres", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)", check=False)
        if os.environ.get("PA_KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self.sanitizer_report:
            raise AssertionError("sanitizer report from a perfagg process:\n" + self.sanitizer_report)

    def logs(self):
        """Every log this stack's processes wrote, as bytes."""
        out = b""
        for name in os.listdir(self.tmp):
            if name.endswith(".log"):
                with open(os.path.join(self.tmp, name), "rb") as f:
                    out += f.read()
        return out

    # -- database ----------------------------------------------------------
    def superuser_url(self):
        return f"postgresql:///{self.db}?host={PGHOST}&user=postgres"

    def app_url(self):
        return f"postgresql:///{self.db}?host={PGHOST}&user=app_service"

    def sql(self, query, user="postgres", check=True):
        return psql(self.db, query, user=user, check=check)

    def admin(self, *args, check=True):
        """perfagg-admin as the database owner (tokens are not app_service's to write)."""
        r = subprocess.run([os.path.join(BUILD, "perfagg-admin"), *args], capture_output=True,
                           text=True, env={**os.environ, "DATABASE_URL": self.superuser_url()})
        if check and r.returncode != 0:
            raise RuntimeError(f"perfagg-admin {' '.join(args)} failed: {r.stderr}")
        return r

    def operator_token_create(self, name, ttl="1d"):
        return self.admin("operator-token", "create", "--name", name, "--ttl", ttl).stdout.strip()

    def operator_headers(self):
        return {"Authorization": "Bearer " + self.operator_token}

    def pg_dump(self):
        return subprocess.run([os.path.join(PGBIN, "pg_dump"), "-h", PGHOST, "-U", "postgres",
                               self.db], capture_output=True, check=True).stdout

    # -- HTTP --------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, raw=None):
        """Returns (status, headers, parsed JSON or raw text)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Content-Type": "application/json"} if data is not None else {}
        if path.split("?")[0] == "/metrics":
            h.update(self.operator_headers())
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, hdrs, text = r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            status, hdrs, text = e.code, dict(e.headers), e.read().decode()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return status, hdrs, parsed

    # -- CLI ---------------------------------------------------------------
    def cli(self, *args, stdin=None, check=True):
        r = subprocess.run([os.path.join(BUILD, "perfagg"), *args],
                           input=stdin, capture_output=True, text=True,
                           env={**os.environ, "PERFAGG_URL": self.url}, cwd=self.tmp)
        if check and r.returncode != 0:
            raise AssertionError(f"perfagg {args[0]} failed ({r.returncode}): {r.stderr}{r.stdout}")
        return r

    def write_secret(self, name, value):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(value + "\n")
        os.chmod(path, 0o600)
        return path

    def seal(self, api_key, api_secret, label="main", ttl=None, extra=()):
        """A submit body sealed by the real client to this enclave."""
        args = ["seal", "--exchange", "binance", "--label", label,
                "--api-key-file", self.write_secret("k", api_key),
                "--api-secret-file", self.write_secret("s", api_secret),
                "--dev-root", self.dev_root, *extra]
        if ttl is not None:
            args += ["--ttl", str(ttl)]
        body = json.loads(self.cli(*args).stdout)
        for n in ("k", "s"):
            os.unlink(os.path.join(self.tmp, n))
        return body

    def submit(self, api_key, api_secret, **kw):
        st, _, body = self.request("POST", "/enclave/submit_key", self.seal(api_key, api_secret, **kw))
        assert st == 200, (st, body)
        return body["session_id"]


def account(api_key=None, api_secret=None, trades=None, balances=None, **extra):
    """One simulator account; random credentials unless given."""
    a = {"api_key": api_key or secrets.token_hex(32),
         "api_secret": api_secret or secrets.token_hex(32),
         "balances": balances if balances is not None else {"BTC": "0.5", "USDT": "1000"},
         "trades": trades or []}
    a.update(extra)
    return a
