"""The enclave process keeps its secrets (make test-security).

Against the real perfagg-enclave of a harness stack:
- it runs as an unprivileged user (when started as root) with only
  CAP_IPC_LOCK, under its seccomp filter (mode 2, no_new_privs), with
  RLIMIT_CORE 0, and is not dumpable: another process of the same user can
  neither ptrace it nor read its memory;
- SIGSEGV leaves no core file: the kernel reports no dump, and no core file
  appears in the enclave's working directory, its var directory, /tmp,
  /var/crash or systemd-coredump's directory (a positive control, a process
  we let dump, shows the check sees a core where the kernel writes one);
- 200 idle connections and 20 half-sent frames to its socket do not keep it
  from answering (the health report stays "ok"; live calls are answered);
- its exchange paths work under the filter: a TLS handshake (local
  `openssl s_server`) and a DNS lookup through the resolver end in a clean
  502, not a process killed for a system call the filter lacks.
The unit test test_enclave_process shows that a forbidden system call kills
a process under the same filter."""
import ctypes
import glob
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

NOW = int(time.time() * 1000)
NOBODY = 65534
CAP_IPC_LOCK = 14


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def core_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def core_files(dirs, since):
    """Files that look like core dumps, modified after `since`."""
    found = []
    for d in dirs:
        for path in glob.glob(os.path.join(d, "*core*")):
            try:
                if os.path.isfile(path) and os.path.getmtime(path) >= since:
                    found.append(path)
            except OSError:
                pass
    return found


def sanitizer_build():
    with open(os.path.join(harness.BUILD, "CMakeCache.txt")) as f:
        return "PERFAGG_SANITIZE:BOOL=ON" in f.read()


def wait_status(pid, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return st
        time.sleep(0.02)
    raise TimeoutError("process did not end")


class EnclaveProcessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.acct = harness.account(trades=harness.make_trades(
            "BTCUSDT", 20, NOW - 3 * 86_400_000, 3_600_000, 30000.0))
        cls.stack = harness.Stack({"accounts": [cls.acct]})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def setUp(self):
        if self.stack.enclave.poll() is not None:  # a test before this one killed it
            self.restart_enclave()

    def restart_enclave(self, **env):
        s = self.stack
        s.stop_enclave()
        old = s.enclave_env
        s.enclave_env = lambda: {**old(), **env}
        try:
            s.start_enclave()
        finally:
            s.enclave_env = old
        # a nonce: the nonce-less quote may still be the old enclave's cached document
        harness.wait_for(lambda: s.request("GET", "/attestation/quote?nonce=AAAA")[0] == 200,
                         timeout=20, what="enclave answering")

    def test_unprivileged_filtered_not_dumpable(self):
        pid = self.stack.enclave.pid
        st = status(pid)
        if not sanitizer_build():  # sanitizer runtimes need ptrace: no filter there
            self.assertEqual(st["Seccomp"], "2", "no seccomp filter")
            self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(core_limit(pid), ["0", "0"])
        if os.geteuid() == 0:
            self.assertEqual({int(x) for x in st["Uid"].split()}, {NOBODY})
            self.assertEqual({int(x) for x in st["Gid"].split()}, {NOBODY})
            self.assertEqual(st["Groups"], "")
            self.assertEqual(int(st["CapEff"], 16) & ~(1 << CAP_IPC_LOCK), 0, st["CapEff"])
            self.assertEqual(int(st["CapPrm"], 16) & ~(1 << CAP_IPC_LOCK), 0, st["CapPrm"])
            # not dumpable: the kernel hands its memory file to root, not to its user
            self.assertEqual(os.stat(f"/proc/{pid}/mem").st_uid, 0)
            self.assertEqual(self.same_user_probe(pid), "refused")
            # positive control: a dumpable process of that user can be traced
            ctl = subprocess.Popen(["/bin/sleep", "30"], user=NOBODY, group=NOBODY,
                                   extra_groups=[])
            try:
                time.sleep(0.1)
                self.assertEqual(self.same_user_probe(ctl.pid), "attached")
            finally:
                ctl.kill()
                ctl.wait()

    def same_user_probe(self, pid):
        """PTRACE_ATTACH and a /proc/pid/mem read from a process running as nobody."""
        code = (
            "import ctypes, os, sys\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]\n"
            f"r = libc.ptrace(16, {pid}, None, None)\n"
            "if r == 0:\n"
            f"    libc.ptrace(17, {pid}, None, None)\n"
            "    print('attached'); sys.exit(0)\n"
            "try:\n"
            f"    open('/proc/{pid}/mem', 'rb').read(1)\n"
            "    print('mem-readable')\n"
            "except OSError:\n"
            "    print('refused')\n")
        r = subprocess.run([sys.executable, "-c", code], user=NOBODY, group=NOBODY,
                           extra_groups=[], capture_output=True, text=True, timeout=30)
        return r.stdout.strip()

    def test_sigsegv_leaves_no_core(self):
        if sanitizer_build():
            self.skipTest("AddressSanitizer catches SIGSEGV itself (report, exit 1)")
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        print(f"\nnote: core_pattern is {pattern!r}", file=sys.stderr)
        s = self.stack
        var = s.var
        dirs = [s.tmp, var, os.path.join(var, "dev-attest"), "/tmp", "/var/crash",
                "/var/lib/systemd/coredump", os.getcwd()]
        if not pattern.startswith("|") and os.path.dirname(pattern):
            dirs.append(os.path.dirname(pattern))

        # positive control: a process allowed to dump, killed the same way
        with tempfile.TemporaryDirectory(dir="/tmp") as ctl_dir:
            t0 = time.time() - 1
            ctl = subprocess.Popen(["/bin/sh", "-c", "ulimit -c unlimited && exec sleep 30"],
                                   cwd=ctl_dir)
            time.sleep(0.2)
            os.kill(ctl.pid, signal.SIGSEGV)
            st = wait_status(ctl.pid)
            ctl.returncode = -signal.SIGSEGV
            self.assertTrue(os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGSEGV)
            control_dumped = os.WCOREDUMP(st)
            if not pattern.startswith("|"):
                self.assertTrue(control_dumped, "the control process did not dump: check is blind")
                harness.wait_for(lambda: core_files(dirs + [ctl_dir], t0), timeout=10,
                                 what="the control's core file")
                for f in core_files(dirs + [ctl_dir], t0):
                    os.unlink(f)
            else:
                print("note: cores are piped to a handler; the check relies on the kernel's "
                      "dump flag and the handler's usual directories", file=sys.stderr)

        t0 = time.time() - 1
        pid = s.enclave.pid
        self.assertEqual(core_limit(pid), ["0", "0"])
        os.kill(pid, signal.SIGSEGV)
        st = wait_status(pid)
        s.enclave.returncode = -signal.SIGSEGV
        self.assertTrue(os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGSEGV)
        self.assertFalse(os.WCOREDUMP(st), "the kernel dumped the enclave's core")
        time.sleep(1)  # a piped handler writes after the process is gone
        self.assertEqual(core_files(dirs, t0), [])
        self.restart_enclave()

    @staticmethod
    def dial(path):
        """Connects, retrying while the listen backlog is full; an enclave that
        stops accepting (a thread per connection, all taken) fails after 10 s."""
        end = time.monotonic() + 10
        while True:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(path)
                c.setblocking(True)
                return c
            except BlockingIOError:
                c.close()
                if time.monotonic() > end:
                    raise AssertionError("the enclave stopped accepting connections")
                time.sleep(0.01)

    def test_deepest_json_fits_the_worker_stack(self):
        # Worker threads have 1 MiB stacks (serve.c: locked memory, kept
        # small). The deepest recursion an input can cause is jansson's parser
        # at its nesting limit (2048): frames that deep, and far deeper, are
        # refused with an answer, and the enclave lives on.
        s = self.stack
        for depth in (2040, 2048, 2049, 200000):
            frame = b"[" * depth + b"]" * depth
            c = self.dial(s.sock)
            try:
                c.settimeout(20)
                c.sendall(struct.pack(">I", len(frame)) + frame)
                hdr = c.recv(4, socket.MSG_WAITALL)
                self.assertEqual(len(hdr), 4, "no answer at depth %d" % depth)
                n = struct.unpack(">I", hdr)[0]
                answer = c.recv(n, socket.MSG_WAITALL)
                self.assertIn(b'"ok":false', answer)
            finally:
                c.close()
            self.assertIsNone(s.enclave.poll(), "the enclave died at depth %d" % depth)

    def test_idle_connections_do_not_starve(self):
        s = self.stack
        conns = []
        try:
            for _ in range(200):
                conns.append(self.dial(s.sock))
            for _ in range(20):
                c = self.dial(s.sock)
                c.sendall(struct.pack(">I", 1000) + b'{"op":')  # half a frame
                conns.append(c)
            # a live call through the server (a nonce: not the prober's cached document)
            st, _, body = s.request("GET", "/attestation/quote?nonce=AAAA")
            self.assertEqual(st, 200, body)
            # a frame of our own on yet another connection
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(10)
            c.connect(s.sock)
            req = b'{"op":"info"}'
            c.sendall(struct.pack(">I", len(req)) + req)
            n = struct.unpack(">I", c.recv(4, socket.MSG_WAITALL))[0]
            answer = c.recv(n, socket.MSG_WAITALL)
            c.close()
            self.assertIn(b'"ok":true', answer)
            # the prober has run since the connections were opened (once a second)
            time.sleep(2.5)
            st, _, body = s.request("GET", "/health")
            self.assertEqual((st, body["enclave"]), (200, "ok"))
        finally:
            for c in conns:
                c.close()

    def test_exchange_paths_work_under_the_filter(self):
        s = self.stack
        sid = None
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            key, cert = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "1", "-subj", "/CN=localhost"],
                           check=True, capture_output=True)
            port = harness.free_port()
            tls = subprocess.Popen(["openssl", "s_server", "-quiet", "-accept", str(port),
                                    "-key", key, "-cert", cert],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            try:
                time.sleep(0.3)
                # a name (resolved through NSS: /etc/hosts), TLS with the system
                # CA store: the self-signed peer is refused, cleanly
                for url in (f"https://localhost:{port}", "https://perfagg-test.invalid"):
                    self.restart_enclave(BINANCE_BASE_URL=url)
                    pid = s.enclave.pid
                    sid = s.submit(self.acct["api_key"], self.acct["api_secret"])
                    st, _, body = s.request("POST", "/enclave/request_aggregates",
                                            {"session_id": sid})
                    self.assertEqual((st, body.get("error")), (502, "exchange_unavailable"),
                                     (url, body))
                    self.assertIsNone(s.enclave.poll(), f"the enclave died on {url}")
                    self.assertEqual(s.enclave.pid, pid)
                    self.assertEqual(s.request("GET", "/attestation/quote")[0], 200)
            finally:
                tls.kill()
                tls.wait()
        self.restart_enclave()


if __name__ == "__main__":
    unittest.main(verbosity=2)
