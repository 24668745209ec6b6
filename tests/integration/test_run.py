"""`make run` (scripts/run.sh) survives what used to break it (label integration).

Runs the real script with its own var directory (PERFAGG_VAR_DIR), a private
PostgreSQL cluster, the simulator and the server that supervises the enclave:
- SIGKILL of the enclave: the server restarts it, run.sh keeps serving;
- a run killed outright (SIGKILL, so no cleanup) that leaves its PostgreSQL
  running: the next run stops that cluster and starts;
- a stale postmaster.pid naming a live process that is not PostgreSQL (a
  reused pid): the next run removes it and starts (PostgreSQL alone refuses);
- SIGTERM: the script stops everything, PostgreSQL included."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

PGBIN = "/usr/lib/postgresql/15/bin"


def procs():
    """(pid, ppid, exe, cmdline) of every process we can see."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            try:
                exe = os.readlink(f"/proc/{d}/exe")
            except OSError:
                exe = ""
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        out.append((int(d), int(fields[1]), exe, cmd))
    return out


class RunScriptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pa-run.", dir="/tmp")
        self.var = os.path.join(self.tmp, "var")
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.run = None

    def tearDown(self):
        if self.run is not None and self.run.poll() is None:
            os.killpg(self.run.pid, signal.SIGTERM)
            try:
                self.run.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.run.pid, signal.SIGKILL)
        for pid in self.postmasters():
            os.kill(pid, signal.SIGKILL)
        pgdir = os.path.realpath(os.path.join(self.var, "postgres"))
        shutil.rmtree(self.tmp, ignore_errors=True)
        if pgdir.startswith("/tmp/perfagg-pg-"):
            shutil.rmtree(pgdir, ignore_errors=True)

    def start(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "BINANCE_BASE_URL")}
        env.update({"PERFAGG_VAR_DIR": self.var, "ENCLAVE_PORT": str(self.port),
                    "LISTEN_ADDRESS": "127.0.0.1", "PERFAGG_BUILD": harness.BUILD})
        log = open(os.path.join(self.tmp, "run.out"), "ab")
        self.run = subprocess.Popen([os.path.join(harness.SOURCE, "scripts", "run.sh")],
                                    stdout=log, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
        log.close()
        harness.wait_for(self.quote_ok, timeout=120, what="make run serving")

    def output(self):
        with open(os.path.join(self.tmp, "run.out"), "rb") as f:
            return f.read().decode(errors="replace")

    def quote_ok(self):
        try:
            with urllib.request.urlopen(self.url + "/attestation/quote", timeout=5) as r:
                return r.status == 200
        except Exception:
            return False

    def datadir(self):
        return os.path.realpath(os.path.join(self.var, "postgres", "data"))

    def postmasters(self):
        data = self.datadir()
        return [p for p, _, exe, cmd in procs()
                if exe == f"{PGBIN}/postgres" and f"-D {data} " in cmd]

    def in_session(self, name):
        sid = self.run.pid
        out = []
        for pid, _, exe, _ in procs():
            try:
                if os.getsid(pid) == sid and os.path.basename(exe) == name:
                    out.append(pid)
            except OSError:
                pass
        return out

    def enclave_pid(self):
        servers = self.in_session("perfagg-server")
        kids = [p for p, ppid, exe, _ in procs()
                if ppid in servers and os.path.basename(exe) == "perfagg-enclave"]
        return kids[0] if kids else None

    def test_run_survives_enclave_crash_and_cleans_up(self):
        self.start()
        pid = self.enclave_pid()
        self.assertIsNotNone(pid, self.output())
        os.kill(pid, signal.SIGKILL)
        harness.wait_for(lambda: self.enclave_pid() not in (None, pid), timeout=30,
                         what="the enclave restarted")
        harness.wait_for(self.quote_ok, timeout=30, what="serving again")
        self.assertIsNone(self.run.poll(), "run.sh ended when the enclave died")
        self.assertEqual(len(self.in_session("perfagg-server")), 1)

        # SIGTERM: everything stops, PostgreSQL included
        self.assertTrue(self.postmasters())
        os.killpg(self.run.pid, signal.SIGTERM)
        self.run.wait(timeout=60)
        harness.wait_for(lambda: not self.postmasters(), timeout=30,
                         what="PostgreSQL stopped with run.sh")

    def test_next_run_after_a_hard_kill(self):
        self.start()
        # killed outright: the script, the server, the simulator, but PostgreSQL
        # survives (as it did when runuser did not pass the signal on)
        postmaster = self.postmasters()
        self.assertEqual(len(postmaster), 1)
        keep = set(postmaster)
        for pid, _, _, _ in procs():
            try:
                if os.getsid(pid) == self.run.pid and pid not in keep:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.run.wait(timeout=30)
        harness.wait_for(lambda: self.enclave_pid() is None and not self.quote_ok(), timeout=30,
                         what="the service gone")
        self.assertEqual(self.postmasters(), postmaster, "PostgreSQL should have survived here")

        self.start()  # stops the leftover cluster, then starts its own
        self.assertIn("left running", self.output())
        self.assertNotIn(postmaster[0], self.postmasters())
        os.killpg(self.run.pid, signal.SIGTERM)
        self.run.wait(timeout=60)
        harness.wait_for(lambda: not self.postmasters(), timeout=30, what="PostgreSQL stopped")

        # a stale lock naming a live process that is not PostgreSQL (pid reuse):
        # PostgreSQL alone would refuse to start
        with open(os.path.join(self.datadir(), "postmaster.pid"), "w") as f:
            f.write(f"{os.getpid()}\n{self.datadir()}\n")
        self.start()
        self.assertIn("stale PostgreSQL lock", self.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)
