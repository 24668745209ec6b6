#!/usr/bin/env bash
# `make soak` (not part of `make test`): the service as `make run` starts it,
# loaded for SOAK_MINUTES (10) at half of its capacity measured first in the
# same run, with processes sampled every SOAK_SAMPLE_SECONDS (10); a real
# submit + aggregate flow and a /metrics scrape every minute besides. Passes
# when no request failed and the RSS and open descriptors of the server,
# enclave and relay stay flat (docs/OPERATIONS.md "Soak").
#   1. Release build in build-bench/ (shared with `make bench`)
#   2. simulator, then scripts/run.sh (PostgreSQL, relay, server, enclave)
#   3. capacity: wrk, SOAK_THREADS (2) threads, 64 connections, 15 s, on the
#      mix of bench/wrk/soak.lua (/health, /attestation/quote, /api/logs/{id})
#   4. the soak: SOAK_CONNECTIONS (16) connections paced to half that rate
#      (a schedule of request slots in bench/wrk/soak.lua's delay())
#   5. bench/soak/report.json and report.md; exit 1 when the verdict is fail
# Everything it starts is stopped on exit; its temporary directory is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

minutes=${SOAK_MINUTES:-10}
every=${SOAK_SAMPLE_SECONDS:-10}
threads=${SOAK_THREADS:-2}
soak_conns=${SOAK_CONNECTIONS:-16}
build=build-bench
out=$root/bench/soak
unset DATABASE_URL BINANCE_BASE_URL PERFAGG_URL
stack_name=soak
# shellcheck source=scripts/lib/stack.sh
. scripts/lib/stack.sh

flows= # the subshell running a flow a minute
stack_on_cleanup() {
  if [ -n "$flows" ]; then kill -TERM "$flows" 2>/dev/null || true; wait "$flows" 2>/dev/null || true; fi
}

scripts/deps.sh wrk
stack_build -- perfagg-server perfagg-enclave perfagg-relay perfagg perfagg-admin

rm -rf "$out"
mkdir -p "$out"
stack_tmp

# ---- simulator and service ----------------------------------------------------
python3 bench/make_account.py "$tmp/account" 200 >/dev/null
stack_start_sim "$tmp/account"
# Access log to a file (LOG_FILE), as in production: it is the server's
# descriptor 2, counted with the others.
stack_start_service MAX_RESULTS_PER_SESSION=100000 LOG_FILE="$tmp/server-access.log"

owner_url="postgresql:///perfagg?host=$tmp/var/postgres&user=postgres"
token=$(DATABASE_URL=$owner_url "$build/perfagg-admin" operator-token create --name soak --ttl 1d 2>/dev/null)
printf 'Authorization: Bearer %s\n' "$token" >"$tmp/auth.header"
chmod 600 "$tmp/auth.header"
unset token

# one real flow: submit (CLI, sealed to the attested enclave) + aggregate,
# then revoke unless $1 is "keep" (a revoke deletes the session's results: the
# first flow's result is what the load reads); prints the result id, or fails
flow() {
  local sid res
  sid=$("$build/perfagg" submit --url "$url" --exchange binance --label "soak" --ttl 3600 \
    --symbols BTCUSDT --api-key-file "$tmp/account/api_key" \
    --api-secret-file "$tmp/account/api_secret" --dev-root "$tmp/var/dev-attest/root.pem" \
    2>>"$tmp/flow.err") || return 1
  res=$(printf '{"session_id":"%s"}' "$sid" |
    curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- \
      "$url/enclave/request_aggregates" 2>>"$tmp/flow.err") || return 1
  if [ "${1:-}" != keep ]; then
    printf '{"session_id":"%s"}' "$sid" |
      curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- \
        "$url/enclave/revoke" >/dev/null 2>>"$tmp/flow.err" || return 1
  fi
  printf '%s' "$res" | python3 -c 'import json, sys; print(json.load(sys.stdin)["logs_url"].rsplit("/", 1)[1])'
}
result_id=$(flow keep) || die "the first submit + aggregate failed: $(cat "$tmp/flow.err")"

sample() { # one CSV row: t, then rss_kb and fds per process
  local row=$1 p rss fds
  for p in "$server_pid" "$enclave_pid" "$relay_pid" "$pg_pid"; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo -1)
    fds=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
    row="$row,${rss:--1},$fds"
  done
  echo "$row"
}

# ---- capacity -------------------------------------------------------------------
log "capacity: wrk $threads threads, 64 connections, 15 s on the soak mix"
SOAK_RESULT_ID=$result_id SOAK_RATE=0 BENCH_WRK_OUT=$out/capacity.json BENCH_LUA_DIR=$root/bench/wrk \
  waited wrk -t "$threads" -c 64 -d 15s --timeout 30s -s bench/wrk/soak.lua "$url" \
  >"$out/capacity.txt" 2>&1 || die "wrk (capacity) failed: $(cat "$out/capacity.txt")"
capacity=$(python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["requests_per_s"]))' "$out/capacity.json")
target=$((capacity / 2))
[ "$target" -ge 1 ] || die "measured capacity too low: $capacity/s"
log "capacity $capacity/s: soaking at $target/s ($soak_conns connections) for $minutes min"

# ---- the soak -----------------------------------------------------------------
echo "t_s,server_rss_kb,server_fds,enclave_rss_kb,enclave_fds,relay_rss_kb,relay_fds,postgres_rss_kb,postgres_fds" >"$out/samples.csv"
: >"$out/flows.txt"
# every minute: one real flow and one /metrics scrape
(
  i=0
  while sleep 60; do
    i=$((i + 1))
    if flow >/dev/null; then echo "flow $i ok" >>"$out/flows.txt"; else echo "flow $i FAILED" >>"$out/flows.txt"; fi
    if curl -fsS -H @"$tmp/auth.header" "$url/metrics" >"$out/metrics.last" 2>/dev/null; then
      echo "metrics $i ok" >>"$out/flows.txt"
    else
      echo "metrics $i FAILED" >>"$out/flows.txt"
    fi
  done
) &
flows=$!
start=$(date +%s)
SOAK_RESULT_ID=$result_id SOAK_RATE=$target SOAK_THREADS=$threads BENCH_WRK_OUT=$out/soak.json BENCH_LUA_DIR=$root/bench/wrk \
  wrk -t "$threads" -c "$soak_conns" -d "$((minutes * 60))s" --timeout 30s -s bench/wrk/soak.lua "$url" \
  >"$out/soak.txt" 2>&1 &
cur=$!
while kill -0 "$cur" 2>/dev/null; do
  sample "$(($(date +%s) - start))" >>"$out/samples.csv"
  sleep "$every"
done
wait "$cur" || die "wrk (soak) failed: $(cat "$out/soak.txt")"
cur=
kill -TERM "$flows" 2>/dev/null || true
wait "$flows" 2>/dev/null || true
flows=
sample "$(($(date +%s) - start))" >>"$out/samples.csv"
grep -c '"level":"error"\| error perfagg' "$tmp/server-access.log" >"$out/server_error_lines.txt" || true
grep -E ' (warn|error) ' "$tmp/server-access.log" | tail -n 20 >"$out/server_warnings.tail" || true

# ---- the report -------------------------------------------------------------------
python3 - "$out" "$minutes" "$capacity" "$target" "$soak_conns" <<'PY'
import csv, json, os, sys, time
out, minutes, capacity, target, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
soak = json.load(open(os.path.join(out, "soak.json")))
rows = list(csv.DictReader(open(os.path.join(out, "samples.csv"))))
flows = open(os.path.join(out, "flows.txt")).read().split("\n")
flow_ok = sum(1 for l in flows if l.startswith("flow") and l.endswith("ok"))
flow_bad = sum(1 for l in flows if "FAILED" in l)
errs = soak["errors"]
non2xx = sum(n for s, n in soak["statuses"].items() if not s.startswith("2"))
# Flat: after a warm-up of the first fifth, the last fifth's mean RSS is
# within 10 % (and 8 MiB) of the second fifth's, and the descriptors within 8.
procs = ["server", "enclave", "relay", "postgres"]
n = len(rows)
def window(lo, hi, key):
    vals = [int(r[key]) for r in rows[int(n * lo):max(int(n * hi), int(n * lo) + 1)]]
    return sum(vals) / len(vals)
flat = {}
ok = n >= 5
for p in procs:
    r0, r1 = window(0.2, 0.4, p + "_rss_kb"), window(0.8, 1.0, p + "_rss_kb")
    f0, f1 = window(0.2, 0.4, p + "_fds"), window(0.8, 1.0, p + "_fds")
    rss_flat = (r1 - r0) <= max(0.10 * r0, 8192)
    fds_flat = abs(f1 - f0) <= 8
    flat[p] = {"rss_kb_start": int(r0), "rss_kb_end": int(r1), "rss_kb_min": min(int(r[p + "_rss_kb"]) for r in rows),
               "rss_kb_max": max(int(r[p + "_rss_kb"]) for r in rows), "fds_start": round(f0, 1),
               "fds_end": round(f1, 1), "fds_max": max(int(r[p + "_fds"]) for r in rows),
               "rss_flat": rss_flat, "fds_flat": fds_flat}
    # postgres is one backend only (the postmaster): shown, not judged
    if p != "postgres":
        ok = ok and rss_flat and fds_flat
wrk_errors = sum(errs.values())
ok = ok and wrk_errors == 0 and non2xx == 0 and flow_bad == 0 and flow_ok >= max(1, minutes - 1)
rep = {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "minutes": minutes,
       "capacity_per_s": capacity, "target_per_s": target, "connections": conns,
       "achieved_per_s": round(soak["requests_per_s"], 1),
       "achieved_of_capacity": round(soak["requests_per_s"] / capacity, 3), "requests": soak["requests"],
       "statuses": soak["statuses"], "wrk_errors": errs, "latency_ms": soak["latency_ms"],
       "flows_ok": flow_ok, "flows_failed": flow_bad, "samples": n, "processes": flat,
       "verdict": "pass" if ok else "fail"}
json.dump(rep, open(os.path.join(out, "report.json"), "w"), indent=1)
L = [f"# Soak: {minutes} min at half capacity — {rep['verdict'].upper()}", "",
     f"Capacity (wrk, 64 connections, 15 s, soak mix): **{capacity}/s**; soak target {target}/s with "
     f"{conns} paced connections; achieved **{rep['achieved_per_s']}/s** "
     f"({100 * rep['achieved_of_capacity']:.1f} % of capacity), {soak['requests']} requests, "
     f"statuses {soak['statuses']}, wrk errors {errs}, latency p50 {soak['latency_ms']['p50']:.2f} ms, "
     f"p99 {soak['latency_ms']['p99']:.2f} ms, max {soak['latency_ms']['max']:.1f} ms.",
     f"Real submit + aggregate + revoke flows (one a minute): {flow_ok} ok, {flow_bad} failed.", "",
     "| process | RSS start (KiB) | RSS end (KiB) | RSS min–max | fds start | fds end | fds max | flat |",
     "|---|---|---|---|---|---|---|---|"]
for p in procs:
    f = flat[p]
    L.append(f"| {p} | {f['rss_kb_start']} | {f['rss_kb_end']} | {f['rss_kb_min']}–{f['rss_kb_max']} | "
             f"{f['fds_start']} | {f['fds_end']} | {f['fds_max']} | "
             f"{'yes' if f['rss_flat'] and f['fds_flat'] else 'NO'}{' (not judged)' if p == 'postgres' else ''} |")
L += ["", f"Start/end: means of the second and last fifth of {n} samples (the first fifth is warm-up). "
      "Flat: RSS grew by at most 10 % (or 8 MiB) and descriptors moved by at most 8. "
      "Raw data: samples.csv, soak.json, capacity.json, flows.txt."]
open(os.path.join(out, "report.md"), "w").write("\n".join(L) + "\n")
print("\n".join(L))
sys.exit(0 if ok else 1)
PY
