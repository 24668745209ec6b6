"""pgaudit on the credentials table (docs/OPERATIONS.md "Audit of the
credentials table").

The test cluster is started by scripts/pgcluster.sh with
deploy/postgres/pgaudit.conf, as `make run`'s is. Every statement that reads
or writes credentials, by any role (the server's app_service, the owner
postgres), is in the PostgreSQL log as an AUDIT: OBJECT line naming this
database; statements on other tables are not; the parameters (ciphertext,
session ids) are not logged."""
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402

DAY_MS = 86_400_000


class AuditTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_pg()
        cls.pg_log = os.path.join(harness.PGHOST, "postgres.log")
        t = int(time.time() * 1000)
        cls.acct = harness.account(trades=harness.make_trades("BTCUSDT", 4, t - 2 * DAY_MS,
                                                              3_600_000, 30000.0))
        cls.stack = harness.Stack({"accounts": [cls.acct]},
                                  server_env={"CLEANUP_INTERVAL_SECONDS": "3600"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def log_from(self, offset):
        # the log is written by the postgres user; the server flushes each
        # line as it goes
        time.sleep(0.3)
        with open(self.pg_log, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def audit_lines(self, text, who):
        """AUDIT lines of this stack's database, by role."""
        prefix = f"{who}@{self.stack.db} "
        return [line for line in text.splitlines() if prefix in line and "AUDIT: " in line]

    def test_pgaudit_loaded(self):
        out = self.stack.sql("SHOW shared_preload_libraries").strip()
        self.assertIn("pgaudit", out)
        self.assertEqual(self.stack.sql("SHOW pgaudit.role").strip(), "perfagg_auditor")
        self.assertEqual(self.stack.sql("SHOW pgaudit.log_parameter").strip(), "off")
        # the role is only a marker: nobody can log in as it or is a member
        self.assertEqual(self.stack.sql(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'perfagg_auditor'").strip(), "f")
        self.assertEqual(self.stack.sql(
            "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
            " WHERE r.rolname = 'perfagg_auditor'").strip(), "0")

    def test_reads_and_writes_of_credentials_are_logged(self):
        s = self.stack
        start = os.path.getsize(self.pg_log)
        sealed = s.seal(self.acct["api_key"], self.acct["api_secret"], label="audited")
        st, _, body = s.request("POST", "/enclave/submit_key", sealed)
        self.assertEqual(st, 200, body)
        sid = body["session_id"]
        st, _, body = s.request("POST", "/enclave/request_aggregates", {"session_id": sid})
        self.assertEqual(st, 200, body)
        # an operator reading the table by hand, as the owner
        marker = f"audit_probe_{int(time.time() * 1000)}"
        s.sql(f"SELECT count(*) AS {marker} FROM credentials")
        # a read of another table only: not an object-audit event
        other = f"other_probe_{int(time.time() * 1000)}"
        s.sql(f"SELECT count(*) AS {other} FROM sessions")
        st, _, _ = s.request("POST", "/enclave/revoke", {"session_id": sid})
        self.assertEqual(st, 200)
        text = self.log_from(start)

        app = self.audit_lines(text, "app_service")
        kinds = {(m.group(1), m.group(2)) for m in
                 (re.search(r"AUDIT: OBJECT,\d+,\d+,(\w+),([A-Z ]+),TABLE,public\.credentials,",
                            line) for line in app) if m}
        # submit INSERTs, the aggregate SELECTs, revoke DELETEs: the server's
        # every access is on record
        self.assertIn(("WRITE", "INSERT"), kinds, app)
        self.assertIn(("READ", "SELECT"), kinds, app)
        self.assertIn(("WRITE", "DELETE"), kinds, app)

        owner = self.audit_lines(text, "postgres")
        mine = [line for line in owner if marker in line]
        self.assertEqual(len(mine), 1, owner)
        self.assertRegex(mine[0], r"AUDIT: OBJECT,\d+,\d+,READ,SELECT,TABLE,public\.credentials,")
        self.assertFalse([line for line in owner if other in line and "OBJECT" in line])

        # statement text only: no ciphertext, envelope field or session id
        for field in ("ciphertext", "tag", "nonce", "ephemeral_pub"):
            self.assertNotIn(sealed[field], text, field)
        self.assertNotIn(sid, "\n".join(app))
        self.assertIn("<not logged>", "\n".join(app))


if __name__ == "__main__":
    unittest.main(verbosity=2)
