#!/usr/bin/python3
"""`make profile`'s tooling (bench/flamegraph.py, bench/profile_report.py) on
inputs shaped exactly like what it reads: `perf script -F
comm,pid,tid,time,period,event,ip,sym,dso` output, and the enclave's log line
per result (src/enclave/enclave_ops.c, log_result). Standard library only."""
import json
import os
import sys
import tempfile
import unittest
import xml.dom.minidom

ROOT = os.environ.get("PA_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
import flamegraph  # noqa: E402
import profile_report  # noqa: E402

# Three samples of two processes: perf script's layout (header, one frame a
# line innermost first, blank line), periods in nanoseconds of cpu-clock.
PERF_SCRIPT = """\
perfagg-enclave 4242/4250 1234.500000:    2004008 cpu-clock:
\t    7f00aa001000 [unknown] (/usr/lib/x86_64-linux-gnu/libjansson.so.4.14.0)
\t    7f00aa002000 json_loadb+0x4f (/usr/lib/x86_64-linux-gnu/libjansson.so.4.14.0)
\t    55555555a000 pa_json_parse+0x1a (/build/perfagg-enclave)
\t    55555555b000 bn_perform.constprop.0+0x99 (/build/perfagg-enclave)
\t    55555555c000 job_main+0x10 (/build/perfagg-enclave)

perfagg-enclave 4242/4251 1234.502000:    2004008 cpu-clock:
\t    55555555d000 pa_aggregate+0x20 (/build/perfagg-enclave)
\t    55555555c000 job_main+0x10 (/build/perfagg-enclave)

perfagg-server 777/778 1234.503000:    1002004 cpu-clock:
\t    55555555e000 pa_body_health+0x5 (/build/perfagg-server)
\t    55555555f000 on_request+0x77 (/build/perfagg-server)

"""


class FlameGraphTest(unittest.TestCase):
    def test_fold_per_process_in_microseconds(self):
        folded = flamegraph.fold(PERF_SCRIPT.splitlines(True), {4242}, "enclave")
        self.assertEqual(dict(folded), {
            "enclave;job_main;bn_perform.constprop.0;pa_json_parse;json_loadb;"
            "[libjansson.so.4.14.0]": 2004,
            "enclave;job_main;pa_aggregate": 2004,
        })
        server = flamegraph.fold(PERF_SCRIPT.splitlines(True), {777}, None)
        self.assertEqual(dict(server), {"perfagg-server;on_request;pa_body_health": 1002})

    def test_top_and_phases(self):
        stacks = [("e;job_main;pa_json_parse;json_loadb".split(";"), 3000),
                  ("e;job_main;pa_aggregate".split(";"), 1000)]
        top = flamegraph.top(stacks, 10)
        self.assertEqual(top["total_ms"], 4.0)
        rows = {r["function"]: r for r in top["functions"]}
        self.assertEqual(rows["job_main"]["inclusive_pct"], 100.0)
        self.assertEqual(rows["json_loadb"]["self_pct"], 75.0)
        ph = flamegraph.phases(stacks, [["JSON", ["pa_json_parse"]], ["agg", ["pa_aggregate"]],
                                        ["never", ["nothing"]]])
        self.assertEqual([(p["phase"], p["pct"]) for p in ph["phases"]],
                         [("JSON", 75.0), ("agg", 25.0), ("never", 0.0), ("other", 0.0)])

    def test_svg_is_well_formed_and_proportional(self):
        stacks = [("e;a;b".split(";"), 750), ("e;c".split(";"), 250)]
        text = flamegraph.svg(stacks, "t <&>", 0.001, width=1020)
        doc = xml.dom.minidom.parseString(text)
        rects = {}
        for g in doc.getElementsByTagName("g"):
            title = g.getElementsByTagName("title")[0].firstChild.data
            rects[title.split(" (")[0]] = float(g.getElementsByTagName("rect")[0].getAttribute("width"))
        plot = 1020 - 20
        self.assertAlmostEqual(rects["e"], plot, places=1)
        self.assertAlmostEqual(rects["a"], 0.75 * plot, places=1)
        self.assertAlmostEqual(rects["c"], 0.25 * plot, places=1)
        self.assertIn("t &lt;&amp;&gt;", text)


class ReportTest(unittest.TestCase):
    def test_sequential_breakdown(self):
        line = ("aggregate: signed result over 10000 fills, 31 audit entries; ms: open 0.2 "
                "exchange_io 80.0 json_parse 50.0 connector 20.0 aggregate 3.0 sign 0.5 attest 1.3")
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "sequential_runs.txt"), "w") as f:
                f.write("200 0.200\n200 0.220\n")
            with open(os.path.join(d, "sequential_enclave.txt"), "w") as f:
                f.write(line + "\n" + line + "\n")
            with open(os.path.join(d, "sequential_db.txt"), "w") as f:
                f.write("duration: 1.000 ms\nduration: 3.000 ms\n")
            s = profile_report.sequential(d)
        self.assertEqual(s["runs"], 2)
        self.assertEqual(s["fills"], 10000)
        self.assertEqual(s["total_ms_mean"], 210.0)
        ms = {r["phase"]: r["ms"] for r in s["phases"]}
        self.assertEqual(ms["exchange_io"], 80.0)
        self.assertEqual(ms["json_parse"], 50.0)
        self.assertEqual(ms["database"], 2.0)  # 4 ms over 2 runs
        self.assertAlmostEqual(ms["rest"], 210.0 - 155.0 - 2.0, places=2)
        self.assertAlmostEqual(sum(r["pct"] for r in s["phases"]), 100.0, delta=0.3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
