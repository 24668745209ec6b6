#!/usr/bin/python3
"""The report of `make bench` (scripts/bench.sh), from its raw outputs.

  report.py OUT_DIR DEST_DIR

OUT_DIR holds what the run wrote: NAME.json per wrk run (bench/wrk/common.lua),
NAME.rss_mid.json / NAME.rss_end.json, crypto.json, pgbench.txt, meta.json.
DEST_DIR receives report.json (every figure, each route also as a ratio to its
ceilings), report.md (the same as tables) and report.svg (throughput and p99
per route beside its ceiling, log scales). Standard library only."""
import json
import math
import os
import re
import sys

RSS_TARGET_KB = 64 * 1024


def load(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def parse_pgbench(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read()

    def num(pattern):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else None

    return {"tps": num(r"tps = ([0-9.]+) \(without initial connection time\)"),
            "latency_avg_ms": num(r"latency average = ([0-9.]+) ms"),
            "transactions": num(r"number of transactions actually processed: ([0-9]+)"),
            "failed": num(r"number of failed transactions: ([0-9]+)")}


def processes(out, name):
    """Per process over one run: cores used (CPU seconds / wall seconds
    between the samples before and after), VmRSS half way, VmHWM after."""
    start, mid, end = (load(out, "%s.sample_%s.json" % (name, w)) for w in ("start", "mid", "end"))
    if not start or not end:
        return {}
    wall = end["monotonic_s"] - start["monotonic_s"]
    res = {}
    for proc, e in end.items():
        s = start.get(proc)
        if proc == "monotonic_s" or not isinstance(e, dict) or not isinstance(s, dict):
            continue
        m = (mid or {}).get(proc) or {}
        res[proc] = {"cores": round((e["cpu_s"] - s["cpu_s"]) / wall, 2),
                     "vmrss_mid_kb": m.get("vmrss_kb"), "vmhwm_kb": e.get("vmhwm_kb")}
    return res


def ok_share(run):
    total = sum(run["statuses"].values())
    good = sum(n for s, n in run["statuses"].items() if s.startswith("2"))
    return good / total if total else 0.0


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def build(out):
    meta = load(out, "meta.json") or {}
    crypto = load(out, "crypto.json")
    pg = parse_pgbench(os.path.join(out, "pgbench.txt"))
    nginx = load(out, "nginx_health.json")
    # A run limited by BENCH_ROUTES (scripts/bench.sh) measures only the
    # ceilings its routes need: the others are left out.
    ceilings = {
        "nginx_static_health": None if nginx is None else {
            "what": "nginx (Debian), the same /health JSON as a static file, same wrk load, access log off",
            "per_s": nginx["requests_per_s"], "p99_ms": nginx["latency_ms"]["p99"],
            "p50_ms": nginx["latency_ms"]["p50"], "statuses": nginx["statuses"]},
        "pgbench_submit_sql": None if pg is None else {
            "what": "pgbench -M prepared, submit_key's SQL (bench/pgbench_submit.sql), one transaction "
                    "per submit, %s clients, fsync on" % meta.get("pgbench_clients"),
            "per_s": pg["tps"], "latency_avg_ms": pg["latency_avg_ms"],
            "transactions": pg["transactions"], "failed": pg["failed"]},
        "envelope_open_1core": None if crypto is None else {
            "what": "pa_envelope_open (X25519 + HKDF-SHA256 + AES-256-GCM), in-process, one core",
            "per_s": crypto["envelope_open_per_s"]},
        "ed25519_sign_1core": None if crypto is None else {"what": "Ed25519 sign of 1 KiB, OpenSSL, in-process, one core",
                               "per_s": crypto["ed25519_sign_per_s"]},
        "p384_sign_1core": None if crypto is None else {"what": "ECDSA P-384/SHA-384 sign of 4 KiB, OpenSSL, in-process, one core",
                            "per_s": crypto["p384_sign_per_s"]},
    }
    ceilings = {k: v for k, v in ceilings.items() if v is not None}
    # (route, run name, [(ceiling, target ratio or None)], p99 target ms)
    plan = [
        ("GET /health", "health", [("nginx_static_health", 0.8)], None),
        ("GET /attestation/quote (no nonce)", "quote",
         [("nginx_static_health", 0.5), ("p384_sign_1core", None)], None),
        ("GET /attestation/quote?nonce=", "quote_nonce", [("p384_sign_1core", 0.8)], None),
        ("POST /enclave/submit_key", "submit_key",
         [("pgbench_submit_sql", 1.0), ("envelope_open_1core", None)], 10.0),
        ("POST /enclave/submit_key, %s connections" % meta.get("pgbench_clients", "?"),
         "submit_key_c8", [("pgbench_submit_sql", 1.0)], 10.0),
        ("POST /enclave/request_aggregates (%s fills)" % meta.get("fills", "?"),
         "request_aggregates", [], None),
    ]
    routes = []
    for title, name, cs, p99_target in plan:
        run = load(out, name + ".json")
        if run is None:
            continue
        cs = [(c, t) for c, t in cs if c in ceilings]
        entry = {
            "route": title, "run": name, "requests_per_s": round(run["requests_per_s"], 1),
            "requests": run["requests"], "latency_ms": run["latency_ms"],
            "statuses": run["statuses"], "wrk_errors": run["errors"],
            "ok_share": round(ok_share(run), 4), "extra": run.get("extra") or {},
            "ceilings": [{"ceiling": c, "per_s": ceilings[c]["per_s"],
                          "ratio": ratio(run["requests_per_s"], ceilings[c]["per_s"]),
                          "target_ratio": t,
                          "meets_target": None if t is None else
                          ratio(run["requests_per_s"], ceilings[c]["per_s"]) >= t}
                         for c, t in cs],
            "p99_target_ms": p99_target,
            "processes": processes(out, name),
        }
        if not cs:
            entry["ceilings_note"] = ("no ceiling defined: the issue asks for runs/s and a profile of "
                                      "where the time goes")
        routes.append(entry)

    # RSS: the largest VmRSS seen half way through any run, and VmHWM (the
    # peak since start) at the end of the last run.
    rss = {}
    for r in routes:
        for proc, v in r["processes"].items():
            if proc == "machine" or v.get("vmhwm_kb") is None:
                continue
            cur = rss.setdefault(proc, {"vmrss_max_kb": 0, "vmhwm_kb": 0})
            cur["vmrss_max_kb"] = max(cur["vmrss_max_kb"], v.get("vmrss_mid_kb") or 0)
            cur["vmhwm_kb"] = max(cur["vmhwm_kb"], v["vmhwm_kb"])
    for proc, v in rss.items():
        # the kernel folds per-thread RSS counters in lazily, so a VmRSS read
        # half way can exceed a later VmHWM by a few pages: the peak is both
        v["vmhwm_kb"] = max(v["vmhwm_kb"], v["vmrss_max_kb"])
        v["target_kb"] = RSS_TARGET_KB if proc.startswith("perfagg") else None
        v["ratio_to_target"] = ratio(v["vmhwm_kb"], v["target_kb"])
    nginx_run = {"route": "nginx static /health (ceiling)", "processes": processes(out, "nginx_health")}
    aggregation = []
    path = os.path.join(out, "aggregate.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            aggregation = [json.loads(line) for line in f if line.strip()]
    return {"meta": meta, "ceilings": ceilings, "routes": routes, "rss": rss, "nginx_run": nginx_run,
            "aggregation": aggregation}


def fmt(x, digits=0):
    if x is None:
        return "–"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{}f}".format(x, digits)


def markdown(rep):
    m = rep["meta"]
    lines = ["# make bench: %s (commit %s)" % (m.get("finished_at", "?"), m.get("commit", "?")), "",
             "%s CPUs, kernel %s, load average (1, 5, 15 min) at the start %s, at the end %s. wrk: %s threads, %s connections, %s s per "
             "run; pgbench: %s clients. Release build." % (
                 m.get("cpus"), m.get("kernel"), " ".join(m.get("loadavg_at_start", [])),
                 " ".join(m.get("loadavg_at_end", [])),
                 m.get("wrk_threads"), m.get("connections"), m.get("seconds"),
                 m.get("pgbench_clients")), "",
             "| route | req/s | p50 ms | p99 ms | status mix | ceiling | ceiling /s | ratio | target |",
             "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |"]
    for r in rep["routes"]:
        mix = ", ".join("%s: %s" % (k, fmt(v)) for k, v in sorted(r["statuses"].items()))
        errs = {k: v for k, v in r["wrk_errors"].items() if v and k != "status"}
        if errs:
            mix += "; wrk errors " + ", ".join("%s %s" % kv for kv in sorted(errs.items()))
        if r["extra"].get("replayed_bodies"):
            mix += "; %s replayed bodies" % fmt(r["extra"]["replayed_bodies"])
        cs = r["ceilings"] or [{"ceiling": "(none)", "per_s": None, "ratio": None,
                                "target_ratio": None}]
        for i, c in enumerate(cs):
            head = ("| %s | %s | %s | %s | %s " % (
                r["route"], fmt(r["requests_per_s"], 1 if r["requests_per_s"] < 100 else 0),
                fmt(r["latency_ms"]["p50"], 1), fmt(r["latency_ms"]["p99"], 1), mix)
                if i == 0 else "| | | | | ")
            target = "≥ %s" % c["target_ratio"] if c["target_ratio"] is not None else ""
            if i == 0 and r["p99_target_ms"]:
                target += ", p99 < %s ms" % r["p99_target_ms"]
            lines.append(head + "| %s | %s | %s | %s |" % (
                c["ceiling"], fmt(c["per_s"]), fmt(c["ratio"], 3), target))
    lines += ["", "## Ceilings (same run)", "", "| ceiling | /s | latency | what |",
              "| --- | ---: | --- | --- |"]
    for name, c in rep["ceilings"].items():
        lat = ""
        if "p99_ms" in c:
            lat = "p50 %s ms, p99 %s ms" % (fmt(c["p50_ms"], 2), fmt(c["p99_ms"], 2))
        elif c.get("latency_avg_ms") is not None:
            lat = "average %s ms" % fmt(c["latency_avg_ms"], 2)
        else:
            lat = "%s µs per operation" % fmt(1e6 / c["per_s"], 1)
        lines.append("| %s | %s | %s | %s |" % (name, fmt(c["per_s"]), lat, c["what"]))
    procs = ["perfagg-server", "perfagg-enclave", "perfagg-relay", "postgres", "binance_sim", "nginx"]
    lines += ["", "## Where the cores went (CPU seconds per second of each run; 2.0 = both cores)", "",
              "| run | " + " | ".join(procs) + " | whole machine | rest (wrk, other work) |",
              "| --- |" + " ---: |" * (len(procs) + 2)]
    for r in rep["routes"] + [rep["nginx_run"]]:
        p = r["processes"]
        if not p:
            continue
        ours = sum(p[x]["cores"] for x in procs if x in p)
        mach = p.get("machine", {}).get("cores")
        lines.append("| %s | " % r["route"] + " | ".join(
            fmt(p[x]["cores"], 2) if x in p else "–" for x in procs) +
            " | %s | %s |" % (fmt(mach, 2), fmt(mach - ours if mach is not None else None, 2)))
    lines += ["", "## Memory under load (target < 64 MB per perfagg process)", "",
              "| process | largest VmRSS sampled | VmHWM (peak) | ratio to 64 MB |",
              "| --- | ---: | ---: | ---: |"]
    for proc, v in sorted(rep["rss"].items()):
        lines.append("| %s | %s MB | %s MB | %s |" % (
            proc, fmt(v["vmrss_max_kb"] / 1024, 1), fmt(v["vmhwm_kb"] / 1024, 1),
            fmt(v["ratio_to_target"], 2)))
    if rep.get("aggregation"):
        lines += ["", "## Aggregation in-process (bench/aggregate_scale: a year, 50 markets, closes, "
                  "equity and flows; median of %s)" % rep["aggregation"][0]["repeats"], "",
                  "| fills | spot s (CPU s) | usdm s (CPU s) | memory the aggregation added |",
                  "| ---: | ---: | ---: | ---: |"]
        for a in rep["aggregation"]:
            lines.append("| %s | %s (%s) | %s (%s) | %s MB |" % (
                fmt(a["fills"]), fmt(a["spot_s"], 3), fmt(a["spot_cpu_s"], 3), fmt(a["usdm_s"], 3),
                fmt(a["usdm_cpu_s"], 3), fmt(a["aggregate_kb"] / 1024, 1)))
    return "\n".join(lines) + "\n"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(rep):
    """Two panels: throughput (/s) and p99 (ms), log scale; per route the
    perfagg bar and, under it, its first ceiling's bar."""
    rows = []
    for r in rep["routes"]:
        c = r["ceilings"][0] if r["ceilings"] else None
        cdef = rep["ceilings"][c["ceiling"]] if c else None
        c_lat = None
        if cdef:
            c_lat = cdef.get("p99_ms") or cdef.get("latency_avg_ms") or 1000.0 / cdef["per_s"]
        rows.append(((r["route"], "%.3f × its ceiling" % c["ratio"] if c and c["ratio"] else
                      "no ceiling defined"), r["requests_per_s"], r["latency_ms"]["p99"],
                     c["ceiling"] if c else None, cdef["per_s"] if cdef else None, c_lat))
    label_w, panel_w, bar_h, gap = 290, 440, 13, 14
    area = panel_w - 210  # the rest of a panel holds the value labels
    row_h = 2 * bar_h + gap
    top = 62
    height = top + row_h * len(rows) + 40
    width = label_w + 2 * panel_w
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="11">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="18" font-size="14" font-weight="bold">make bench: %s, commit %s</text>' % (
               esc(rep["meta"].get("finished_at", "")), esc(rep["meta"].get("commit", ""))),
           '<rect x="10" y="28" width="10" height="10" fill="#1f77b4"/>'
           '<text x="24" y="37">perfagg</text>'
           '<rect x="90" y="28" width="10" height="10" fill="#bbbbbb"/>'
           '<text x="104" y="37">ceiling in the same run (name at the bar; latency: p99 for nginx, '
           'average for pgbench, one operation for crypto)</text>']

    def panel(x0, title, values, fmt_v):
        vals = [v for v in values if v]
        lo = 10 ** math.floor(math.log10(min(vals)))
        hi = 10 ** math.ceil(math.log10(max(vals)))
        span = math.log10(hi) - math.log10(lo)
        out.append('<text x="%d" y="54" font-weight="bold">%s (log scale)</text>' % (x0, title))
        d = lo
        while d <= hi * 1.0001:
            x = x0 + (math.log10(d) - math.log10(lo)) / span * area
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e5e5"/>' % (
                x, top - 4, x, height - 34))
            out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#666">%s</text>' % (
                x, height - 22, fmt_v(d)))
            d *= 10

        def bar_w(v):
            return max(1.0, (math.log10(v) - math.log10(lo)) / span * area) if v else 0
        return bar_w

    tw = panel(label_w, "throughput per second", [r[1] for r in rows] + [r[4] for r in rows],
               lambda v: "{:,.0f}".format(v) if v >= 1 else "%g" % v)
    lw = panel(label_w + panel_w, "p99 latency, ms", [r[2] for r in rows] + [r[5] for r in rows],
               lambda v: "%g" % v)
    for i, (route, rps, p99, cname, cps, clat) in enumerate(rows):
        y = top + i * row_h
        out.append('<text x="10" y="%d">%s</text>' % (y + bar_h - 2, esc(route[0])))
        out.append('<text x="10" y="%d" fill="#555">%s</text>' % (y + 2 * bar_h, esc(route[1])))
        for x0, w, v, cw, cv, unit in ((label_w, tw, rps, tw, cps, "/s"),
                                       (label_w + panel_w, lw, p99, lw, clat, " ms")):
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="#1f77b4"/>' % (
                x0, y, w(v), bar_h))
            out.append('<text x="%.1f" y="%d">%s%s</text>' % (
                x0 + w(v) + 3, y + bar_h - 2, fmt(v, 1 if v < 100 else 0), unit))
            if cv:
                out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="#bbbbbb"/>' % (
                    x0, y + bar_h + 1, cw(cv), bar_h))
                out.append('<text x="%.1f" y="%d" fill="#555">%s%s (%s)</text>' % (
                    x0 + cw(cv) + 3, y + 2 * bar_h - 1, fmt(cv, 2 if cv < 10 else 0), unit,
                    esc(cname)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    out, dest = sys.argv[1], sys.argv[2]
    rep = build(out)
    with open(os.path.join(dest, "report.json"), "w") as f:
        json.dump(rep, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(dest, "report.md"), "w") as f:
        f.write(markdown(rep))
    with open(os.path.join(dest, "report.svg"), "w") as f:
        f.write(svg(rep))


if __name__ == "__main__":
    main()
