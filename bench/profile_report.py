#!/usr/bin/python3
"""bench/profile/report.json and report.md from what scripts/profile.sh
(`make profile`) recorded in OUT:

  profile_report.py OUT

- sequential_runs.txt: "STATUS SECONDS" per request_aggregates run, one at a
  time; sequential_enclave.txt: the enclave's log line of each result, with
  its phases in ms; sequential_db.txt: PostgreSQL's statement durations
  during those runs. Together: the per-phase breakdown of one run (means).
- aggregates_load.json / health_load.json (wrk, bench/wrk/common.lua) and
  their sample_start/sample_end (bench/sample.py): throughput, status mix,
  cores per process, memory peaks.
- *.folded (bench/flamegraph.py fold): CPU time per phase (first phase whose
  function is on a sample's stack) and the functions with the most inclusive
  time.
- aggregate.callgrind.txt (callgrind_annotate --inclusive=yes): instruction
  counts of the same phases' functions in one in-process run.
Standard library only."""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flamegraph  # noqa: E402  (bench/flamegraph.py)

ENCLAVE_PHASES = ["open", "exchange_io", "json_parse", "connector", "aggregate", "sign", "attest"]
PHASE_TEXT = {
    "open": "enclave: open the envelope (X25519, HKDF, AES-GCM), parse the credentials",
    "exchange_io": "enclave: exchange I/O — inside the HTTP calls (relay, simulator, network)",
    "json_parse": "enclave: JSON parsing of the exchange's answers (jansson)",
    "connector": "enclave: the rest of the fetch — rows into fills, request signing, bookkeeping",
    "aggregate": "enclave: aggregation (FIFO, daily series, returns and risk)",
    "sign": "enclave: audit log root, payload JCS, Ed25519 signature",
    "attest": "enclave: attestation document (P-384 COSE) for the result",
}

# CPU phases of the enclave's flame graph: a sample belongs to the first
# phase one of whose functions is on its stack.
CPU_PHASES = [
    ["envelope open", ["pa_envelope_open"]],
    ["JSON parsing", ["pa_json_parse", "json_loadb"]],
    ["freeing JSON trees", ["json_decref", "json_delete"]],
    ["rows into fills (decoding)", ["bn_take_page", "pa_bn_decode_trade", "pa_fill_list_push",
                                    "pa_exchange_dedup_fills"]],
    ["HTTP client (libcurl, sockets)", ["curl_easy_perform", "curl_easy_init",
                                        "curl_easy_cleanup", "curl_easy_setopt"]],
    ["request signing (HMAC-SHA256)", ["pa_binance_sign", "pa_binance_sign_ed25519"]],
    ["aggregation", ["pa_aggregate", "pa_aggregate_futures"]],
    ["audit log and payload signature", ["pa_audit_append", "pa_audit_root", "pa_jcs_dumps",
                                         "pa_ed25519_sign", "build_payload"]],
    ["attestation", ["pa_enclave_attestation"]],
    ["IPC frames", ["pa_ipc_request_parse", "pa_ipc_ok_answer", "pa_ipc_error_answer"]],
]
CALLGRIND_FUNCS = ["pa_enclave_handle", "pa_envelope_open", "pa_bn_get", "curl_easy_perform",
                   "pa_json_parse", "pa_bn_decode_trade", "pa_fill_list_push",
                   "pa_exchange_dedup_fills", "pa_bn_fetch_values", "pa_binance_sign",
                   "pa_aggregate", "pa_jcs_dumps", "pa_ed25519_sign", "pa_audit_root",
                   "pa_enclave_attestation"]


def read(out, name, default=None):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return f.read()


def sequential(out):
    rows = [l.split() for l in (read(out, "sequential_runs.txt", "") or "").splitlines() if l.strip()]
    totals = [float(s) * 1000 for code, s in rows if code == "200"]
    statuses = {}
    for code, _ in rows:
        statuses[code] = statuses.get(code, 0) + 1
    phases = {p: [] for p in ENCLAVE_PHASES}
    fills = None
    for line in (read(out, "sequential_enclave.txt", "") or "").splitlines():
        m = re.search(r"over (\d+) fills", line)
        if m:
            fills = int(m.group(1))
        for p in ENCLAVE_PHASES:
            m = re.search(r"\b%s ([0-9.]+)" % p, line)
            if m:
                phases[p].append(float(m.group(1)))
    db = [float(x) for x in re.findall(r"duration: ([0-9.]+) ms", read(out, "sequential_db.txt", "") or "")]
    n = len(totals)
    if n == 0:
        return None
    mean = {p: statistics.mean(v) for p, v in phases.items() if v}
    enclave = sum(mean.values())
    db_per_run = sum(db) / n
    total = statistics.mean(totals)
    rows = [{"phase": p, "what": PHASE_TEXT[p], "ms": round(mean[p], 2)} for p in ENCLAVE_PHASES
            if p in mean]
    rows.append({"phase": "database", "what": "database: PostgreSQL's own time for the statements "
                 "(session read, result stored), summed", "ms": round(db_per_run, 2)})
    rest = total - enclave - db_per_run
    rows.append({"phase": "rest", "what": "the rest: HTTP, the server's queues, IPC, waiting for "
                 "the job's next poll, libpq round trips", "ms": round(rest, 2)})
    for r in rows:
        r["pct"] = round(100.0 * r["ms"] / total, 1)
    return {"runs": n, "statuses": statuses, "fills": fills, "total_ms_mean": round(total, 1),
            "total_ms_median": round(statistics.median(totals), 1),
            "total_ms_min": round(min(totals), 1), "total_ms_max": round(max(totals), 1),
            "enclave_ms": round(enclave, 1), "enclave_runs_logged": len(phases["open"]),
            "db_statements_per_run": round(len(db) / n, 1), "phases": rows}


def load_run(out, name):
    w = json.loads(read(out, name + ".json", "null") or "null")
    s = json.loads(read(out, name + ".sample_start.json", "null") or "null")
    e = json.loads(read(out, name + ".sample_end.json", "null") or "null")
    if w is None:
        return None
    procs = {}
    if s and e:
        wall = e["monotonic_s"] - s["monotonic_s"]
        for k, v in e.items():
            if k == "monotonic_s" or not v or not s.get(k):
                continue
            procs[k] = {"cores": round((v["cpu_s"] - s[k]["cpu_s"]) / wall, 2)}
            if "vmhwm_kb" in v:
                procs[k]["vmrss_kb"] = v["vmrss_kb"]
                procs[k]["vmhwm_kb"] = v["vmhwm_kb"]
    return {"requests_per_s": round(w["requests_per_s"], 1), "statuses": w["statuses"],
            "errors": w.get("errors"), "latency_ms": w["latency_ms"], "processes": procs}


def folded(out, name):
    text = read(out, name + ".folded")
    if text is None:
        return None
    stacks = flamegraph.read_folded(text.splitlines())
    return stacks


def callgrind(out):
    text = read(out, "aggregate.callgrind.txt")
    if not text:
        return None
    total = None
    m = re.search(r"^\s*([\d,]+)\s*\(100\.0%\)\s*PROGRAM TOTALS", text, re.M)
    if m:
        total = int(m.group(1).replace(",", ""))
    found = {}
    for line in text.splitlines():
        # "N (P%)  file:function [object]"; function'2 is a recursion's inner level
        m = re.match(r"^\s*([\d,]+)\s*\(\s*([\d.]+)%\)\s+(\S+)\s+\[", line)
        if not m or "'" in m.group(3):
            continue
        func = m.group(3).rsplit(":", 1)[-1]
        if func in CALLGRIND_FUNCS and func not in found:
            found[func] = int(m.group(1).replace(",", ""))
    run = json.loads(read(out, "aggregate.callgrind.json", "null") or "null")
    return {"program_ir": total, "run": run,
            "functions": [{"function": f, "inclusive_ir": found[f],
                           "pct_of_run": round(100.0 * found[f] / found["pa_enclave_handle"], 1)
                           if found.get("pa_enclave_handle") else None}
                          for f in CALLGRIND_FUNCS if f in found]}


def build(out):
    rep = {"commit": (read(out, "commit", "") or "").strip(),
           "loadavg_start": (read(out, "loadavg_start", "") or "").split(),
           "loadavg_end": (read(out, "loadavg_end", "") or "").split(),
           "sequential": sequential(out),
           "aggregates_load": load_run(out, "aggregates_load"),
           "health_load": load_run(out, "health_load"), "health": load_run(out, "health"),
           "nginx_health": load_run(out, "nginx_health"), "cpu": {}}
    if rep["health"] and rep["nginx_health"]:
        rep["health_ratio_to_nginx"] = round(
            rep["health"]["requests_per_s"] / rep["nginx_health"]["requests_per_s"], 3)
    for name in ["aggregates.enclave", "aggregates.server", "aggregates.relay", "health.server"]:
        st = folded(out, name)
        if st is None:
            continue
        entry = {"top": flamegraph.top(st, 25)}
        if name == "aggregates.enclave":
            entry["phases"] = flamegraph.phases(st, CPU_PHASES)
        rep["cpu"][name] = entry
    rep["callgrind"] = callgrind(out)
    return rep


def markdown(rep):
    L = ["# Where the time goes (`make profile`)", "",
         "Commit %s; load average %s at the start, %s at the end (a shared, noisy machine: times "
         "move between runs; callgrind's instruction counts do not)." % (
             rep["commit"] or "?", " ".join(rep["loadavg_start"]), " ".join(rep["loadavg_end"])), ""]
    s = rep["sequential"]
    if s:
        L += ["## One request_aggregates run at a time (%d runs, %s fills, means)" % (
            s["runs"], s["fills"]), "",
              "Request: mean %.1f ms, median %.1f, min %.1f, max %.1f (curl, statuses %s); the "
              "enclave's phases sum to %.1f ms; %.1f SQL statements a run." % (
                  s["total_ms_mean"], s["total_ms_median"], s["total_ms_min"], s["total_ms_max"],
                  s["statuses"], s["enclave_ms"], s["db_statements_per_run"]), "",
              "| phase | ms per run | share |", "|---|---:|---:|"]
        for r in s["phases"]:
            L.append("| %s | %.1f | %.1f %% |" % (r["what"], r["ms"], r["pct"]))
        L.append("")
    h, n = rep["health"], rep["nginx_health"]
    if h and n:
        L += ["## GET /health beside nginx (no perf attached)", "",
              "perfagg %.0f requests/s (p99 %.1f ms, statuses %s), nginx serving the same answer as "
              "a static file %.0f requests/s (p99 %.1f ms): **%.3f × nginx** (target ≥ 0.8)." % (
                  h["requests_per_s"], h["latency_ms"]["p99"], h["statuses"], n["requests_per_s"],
                  n["latency_ms"]["p99"], rep["health_ratio_to_nginx"]), ""]
    for key, title in [("aggregates_load", "request_aggregates under load (perf attached)"),
                       ("health_load", "GET /health under load (perf attached)")]:
        r = rep[key]
        if not r:
            continue
        lat = r["latency_ms"]
        L += ["## %s" % title, "",
              "%.1f requests/s, statuses %s, wrk errors %s; latency p50 %.1f ms, p99 %.1f ms." % (
                  r["requests_per_s"], r["statuses"], r["errors"], lat["p50"], lat["p99"]), "",
              "| process | cores | RSS (MB) | peak RSS (MB) |", "|---|---:|---:|---:|"]
        for p, v in sorted(r["processes"].items()):
            L.append("| %s | %.2f | %s | %s |" % (
                p, v["cores"], "%.1f" % (v["vmrss_kb"] / 1024) if "vmrss_kb" in v else "–",
                "%.1f" % (v["vmhwm_kb"] / 1024) if "vmhwm_kb" in v else "–"))
        L.append("")
    enc = rep["cpu"].get("aggregates.enclave")
    if enc:
        L += ["## The enclave's CPU under the aggregates load, by phase (perf, cpu-clock)", "",
              "%.0f ms of CPU sampled; flame graph `aggregates.enclave.svg`." % enc["phases"]["total_ms"],
              "", "| phase | CPU ms | share |", "|---|---:|---:|"]
        for p in enc["phases"]["phases"]:
            L.append("| %s | %.0f | %.1f %% |" % (p["phase"], p["cpu_ms"], p["pct"]))
        L.append("")
    for name, v in rep["cpu"].items():
        L += ["## Top functions: %s (inclusive CPU, perf)" % name, "",
              "| function | inclusive | self |", "|---|---:|---:|"]
        for f in v["top"]["functions"]:
            L.append("| `%s` | %.1f %% | %.1f %% |" % (f["function"][:80], f["inclusive_pct"],
                                                      f["self_pct"]))
        L.append("")
    cg = rep["callgrind"]
    if cg:
        L += ["## callgrind: one run in-process (`aggregate_profile`), instructions", "",
              "Program total %s instructions (set-up included); run %s." % (
                  "{:,}".format(cg["program_ir"]) if cg["program_ir"] else "?", cg["run"]), "",
              "| function | inclusive instructions | share of the op |", "|---|---:|---:|"]
        for f in cg["functions"]:
            L.append("| `%s` | %s | %s |" % (f["function"], "{:,}".format(f["inclusive_ir"]),
                                             "%.1f %%" % f["pct_of_run"] if f["pct_of_run"] is not None else "–"))
        L.append("")
    return "\n".join(L) + "\n"


def main():
    out = sys.argv[1]
    rep = build(out)
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(rep, f, indent=1)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(markdown(rep))


if __name__ == "__main__":
    main()
