"""Starting tools/binance_sim.py on its own and talking to it as a Binance
client would (standard library plus the `openssl` CLI for Ed25519), for tests
of the simulator itself and for tests that steer its fault knobs.

    sim = Sim({"accounts": [...]})          # a process on a free loopback port
    st, hdrs, body = sim.signed("/api/v3/account", key, secret=s)
    sim.faults({"rules": [...]})            # POST /__sim/faults (token-guarded)
    sim.stop()
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SOURCE = os.environ.get("PA_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SIM = os.path.join(SOURCE, "tools", "binance_sim.py")


def ed25519_keypair(directory):
    """(private key PEM path, public key PEM text), made by the openssl CLI."""
    priv = os.path.join(directory, "ed25519-%s.pem" % secrets.token_hex(4))
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", priv],
                   check=True, capture_output=True)
    os.chmod(priv, 0o600)
    pub = subprocess.run(["openssl", "pkey", "-in", priv, "-pubout"], check=True,
                         capture_output=True, text=True).stdout
    return priv, pub


def ed25519_sign(priv_path, message):
    # -rawin needs the whole message as a file (Ed25519 is one-shot, no pipe)
    with tempfile.NamedTemporaryFile(dir=os.path.dirname(priv_path)) as f:
        f.write(message)
        f.flush()
        r = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", priv_path, "-rawin",
                            "-in", f.name], check=True, capture_output=True)
    return base64.b64encode(r.stdout).decode()


class Sim:
    def __init__(self, doc, extra_args=()):
        self.tmp = tempfile.mkdtemp(prefix="pa-sim.")
        self.accounts_file = os.path.join(self.tmp, "accounts.json")
        with open(self.accounts_file, "w") as f:
            json.dump(doc, f)
        os.chmod(self.accounts_file, 0o600)
        port_file = os.path.join(self.tmp, "port")
        token_file = os.path.join(self.tmp, "control")
        self.log_path = os.path.join(self.tmp, "sim.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", SIM, "--accounts", self.accounts_file, "--port", "0",
             "--port-file", port_file, "--control-token-file", token_file, *extra_args],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("binance_sim.py did not start: " + self.log())
            time.sleep(0.05)
        with open(port_file) as f:
            self.url = "http://127.0.0.1:%d" % int(f.read())
        with open(token_file) as f:
            self.token = f.read().strip()

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- HTTP --
    def request(self, method, path, query="", headers=None, body=None, timeout=10):
        url = self.url + path + ("?" + query if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
            return e.code, dict(e.headers), parsed

    def get(self, path, params=None, **kw):
        return self.request("GET", path, urllib.parse.urlencode(params or {}), **kw)

    def signed(self, path, api_key, params=None, secret=None, ed25519_key=None,
               timestamp=None, tamper=None, **kw):
        """A SIGNED GET as Binance documents it: HMAC hex or Ed25519 base64,
        percent-encoded. tamper(query, signature) -> signature lets a test
        break the signature on purpose."""
        p = dict(params or {})
        p["timestamp"] = timestamp if timestamp is not None else int(time.time() * 1000)
        query = urllib.parse.urlencode(p)
        if ed25519_key is not None:
            sig = ed25519_sign(ed25519_key, query.encode())
        else:
            sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        if tamper is not None:
            sig = tamper(query, sig)
        query += "&signature=" + urllib.parse.quote(sig, safe="")
        return self.request("GET", path, query, headers={"X-MBX-APIKEY": api_key}, **kw)

    # -- control --
    def control(self, method, path, body=None):
        st, _, out = self.request(method, path, headers={"X-Sim-Control": self.token}, body=body)
        if st != 200:
            raise RuntimeError("%s %s: %s %s" % (method, path, st, out))
        return out

    def faults(self, doc):
        return self.control("POST", "/__sim/faults", doc)

    def reset(self):
        return self.control("POST", "/__sim/reset", {})

    def patch_account(self, doc):
        return self.control("POST", "/__sim/account", doc)

    def stats(self):
        return self.control("GET", "/__sim/stats")
