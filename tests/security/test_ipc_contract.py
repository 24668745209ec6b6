"""The host <-> enclave contract enforced by the real enclave (src/ipc).

Starts perfagg-enclave alone (no database, no exchange) on a Unix socket in a
temporary directory and talks the framed protocol to it directly, as a
compromised host could: a request with a field the contract does not know, of
the wrong type or over its cap is refused with invalid_request, on the same
connection that keeps serving well-formed requests."""
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest


def die_with_parent():
    """The enclave dies with this test process (PR_SET_PDEATHSIG)."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)

BUILD = os.path.abspath(os.environ.get("PA_BUILD_DIR",
                                       os.path.join(os.path.dirname(__file__), "..", "..", "build")))

# The info answer's keys (src/ipc/ipc_contract.c, info_answer): nothing more.
INFO_KEYS = {"ok", "enclave_pubkey", "signing_pubkey", "image_hash", "environment",
             "dev_root_pem"}
REFUSAL_KEYS = {"ok", "error", "message"}


def frame(obj_or_text):
    data = obj_or_text if isinstance(obj_or_text, bytes) else (
        obj_or_text.encode() if isinstance(obj_or_text, str) else
        json.dumps(obj_or_text, separators=(",", ":")).encode())
    return struct.pack(">I", len(data)) + data


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("enclave closed the connection")
        buf += chunk
    return buf


class EnclaveContractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pa-ipc.", dir="/tmp")
        cls.sock = os.path.join(cls.tmp, "enclave.sock")
        env = {k: v for k, v in os.environ.items() if k not in ("BINANCE_BASE_URL",)}
        env.update({"PERFAGG_VAR_DIR": os.path.join(cls.tmp, "var"),
                    "PERFAGG_ENCLAVE_SOCKET": cls.sock, "ENCLAVE_ADDR": "unix:" + cls.sock,
                    "BINANCE_BASE_URL": "http://127.0.0.1:9",
                    "PERFAGG_EXCHANGE_TIMEOUT_MS": "200"})
        cls.log = open(os.path.join(cls.tmp, "enclave.log"), "wb")
        cls.proc = subprocess.Popen([os.path.join(BUILD, "perfagg-enclave")], env=env,
                                    stdout=cls.log, stderr=subprocess.STDOUT, cwd=cls.tmp,
                                    preexec_fn=die_with_parent)
        deadline = time.monotonic() + 20
        while not os.path.exists(cls.sock):
            if cls.proc.poll() is not None or time.monotonic() > deadline:
                cls.tearDownClass()
                raise RuntimeError("perfagg-enclave did not start")
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.proc.wait(10)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
        cls.log.close()
        if not os.environ.get("PA_KEEP_TMP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.conn.settimeout(10)
        self.conn.connect(self.sock)
        self.addCleanup(self.conn.close)

    def call(self, req):
        self.conn.sendall(frame(req))
        (n,) = struct.unpack(">I", read_exact(self.conn, 4))
        return json.loads(read_exact(self.conn, n))

    def assertRefused(self, req, code="invalid_request"):
        a = self.call(req)
        self.assertEqual(set(a), REFUSAL_KEYS, a)
        self.assertIs(a["ok"], False)
        self.assertEqual(a["error"], code, a)
        return a

    def test_unknown_field_in_info_refused(self):
        # the example: accepted before the contract module
        a = self.assertRefused('{"op":"info","x":1}')
        self.assertNotIn('"x"', a["message"])
        # positive control on the same connection: the well-formed request works
        ok = self.call({"op": "info"})
        self.assertIs(ok["ok"], True)
        self.assertEqual(set(ok), INFO_KEYS)

    def test_unknown_field_refused_for_every_op(self):
        envelope = {"ephemeral_pub": base64.b64encode(bytes(32)).decode(), "nonce":
                    base64.b64encode(bytes(12)).decode(), "ciphertext": "AAAA",
                    "tag": base64.b64encode(bytes(16)).decode(),
                    "metadata": {"exchange": "binance", "label": "x"}}
        key = self.call({"op": "info"})["enclave_pubkey"]
        requests = [
            {"op": "attest", "nonce": None, "extra": 1},
            {"op": "open", "envelope": envelope, "extra": 1},
            {"op": "aggregate", "envelope": envelope, "enclave_pubkey": key,
             "from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z", "extra": 1},
        ]
        for req in requests:
            with self.subTest(op=req["op"]):
                self.assertRefused(req)
                # without the extra field the request passes the contract: the
                # enclave gets as far as the envelope (which does not open)
                del req["extra"]
                a = self.call(req)
                if req["op"] == "attest":
                    self.assertIs(a["ok"], True)
                else:
                    self.assertEqual(a.get("error"), "decryption_failed", a)

    def test_jobs(self):
        # aggregate_start takes exactly the aggregate request; its outcome is
        # the refusal aggregate answers, handed over once
        envelope = {"ephemeral_pub": base64.b64encode(bytes(32)).decode(), "nonce":
                    base64.b64encode(bytes(12)).decode(), "ciphertext": "AAAA",
                    "tag": base64.b64encode(bytes(16)).decode(),
                    "metadata": {"exchange": "binance", "label": "x"}}
        key = self.call({"op": "info"})["enclave_pubkey"]
        req = {"op": "aggregate_start", "envelope": envelope, "enclave_pubkey": key,
               "from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"}
        self.assertRefused({**req, "job_id": "x"})
        a = self.call(req)
        self.assertEqual((a["ok"], set(a)), (True, {"ok", "job_id"}), a)
        job = a["job_id"]
        a = self.call({"op": "aggregate_job", "job_id": job, "wait_ms": 5000})
        self.assertIs(a["ok"], True, a)
        self.assertEqual(a["status"], "failed", a)
        self.assertEqual(a["error"]["error"], "decryption_failed", a)
        self.assertNotIn("result", a)
        self.assertEqual(set(a["progress"]), {"symbols_done", "symbols_total", "pages"})
        self.assertRefused({"op": "aggregate_job", "job_id": job}, "job_not_found")
        self.assertRefused({"op": "aggregate_cancel", "job_id": job}, "job_not_found")
        self.assertRefused({"op": "aggregate_job", "job_id": "not-a-uuid"})
        self.assertRefused({"op": "aggregate_job", "job_id": job, "wait_ms": 10001})

    def test_wrong_type_and_over_cap_refused(self):
        self.assertRefused({"op": "attest", "nonce": 5})
        self.assertRefused({"op": "attest", "nonce": base64.b64encode(bytes(65)).decode()})
        a = self.call({"op": "attest", "nonce": base64.b64encode(bytes(64)).decode()})
        self.assertIs(a["ok"], True)  # exactly at the cap
        self.assertRefused({"op": "open", "envelope": "{}"})
        self.assertRefused({"op": 1})
        self.assertRefused({"op": "sign", "data": "AAAA"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
