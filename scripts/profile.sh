#!/usr/bin/env bash
# `make profile`: where the time of POST /enclave/request_aggregates on the
# bench's 10,000-fill account goes, and where GET /health's goes
# (docs/BENCHMARKS.md, "Where the time goes"). Not part of `make test`.
#   1. a Release build with debug symbols in build-profile/ (make bench's
#      flags plus -g: the same code, with what perf needs to name and unwind it)
#   2. the simulator with bench/make_account.py's account and the service as
#      `make bench` starts it (scripts/lib/stack.sh), one checked run
#   3. one run at a time, PROFILE_RUNS (20) runs: each request's wall time
#      (curl), the enclave's own timing of each phase (its log line per result:
#      open, exchange_io, json_parse, connector, aggregate, sign, attest) and
#      PostgreSQL's statement durations (log_min_duration_statement = 0 in
#      this private cluster for the while)
#   4. under load: wrk (PROFILE_THREADS 2, PROFILE_CONNECTIONS 64,
#      PROFILE_SECONDS 10) on request_aggregates while `perf record -e
#      cpu-clock --call-graph dwarf` samples the enclave, the server and the
#      relay (PROFILE_FREQ 499 Hz; cpu-clock: this VM has no hardware
#      counters), and bench/sample.py the CPU time of every process
#   5. GET /health: wrk against nginx serving the same answer as a static file
#      (make bench's ceiling) and against the server, both without perf; then
#      again with perf sampling the server
#   6. PROFILE_CALLGRIND (1): one run of build-profile/aggregate_profile (the
#      enclave's aggregate op in-process, no relay) under valgrind's callgrind
#      against the same simulator: instruction counts, the same on every run
#   7. bench/profile/: report.md and report.json (bench/profile_report.py),
#      flame graphs (*.svg, bench/flamegraph.py), folded stacks (*.folded),
#      callgrind's output and annotation
# Everything it starts is stopped on exit, Ctrl-C or failure; perf's data and
# the temporary directory are removed. Run it under `flock /tmp/bench.lock` on a
# shared machine, as make bench.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

runs=${PROFILE_RUNS:-20}
seconds=${PROFILE_SECONDS:-10}
conns=${PROFILE_CONNECTIONS:-64}
threads=${PROFILE_THREADS:-2}
freq=${PROFILE_FREQ:-499}
fills=${PROFILE_FILLS:-10000}
callgrind=${PROFILE_CALLGRIND:-1}
build=build-profile
out=$root/bench/profile
unset DATABASE_URL BINANCE_BASE_URL PERFAGG_URL
stack_name=profile
# shellcheck source=scripts/lib/stack.sh
. scripts/lib/stack.sh

perf_pid=
stack_on_cleanup() {
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true; fi
}

scripts/deps.sh wrk nginx linux-perf valgrind
# perf samples processes of other users (the enclave runs as nobody)
[ "$(id -u)" = 0 ] || [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -le -1 ] ||
  die "perf needs root (or kernel.perf_event_paranoid = -1) to sample the service's processes"
stack_build -DCMAKE_C_FLAGS=-g -- perfagg-server perfagg-enclave perfagg-relay perfagg aggregate_profile

rm -rf "$out"
mkdir -p "$out"
stack_tmp
cut -d' ' -f1-3 /proc/loadavg >"$out/loadavg_start"

python3 bench/make_account.py "$tmp/account" "$fills"
stack_start_sim "$tmp/account"
# one session serves every run: its result limit (100 by default) raised, as make bench does
stack_start_service PERFAGG_EXCHANGE_WEIGHT_BUDGET=10000000 MAX_RESULTS_PER_SESSION=100000

log "submitting the $fills-fill account"
session=$("$build/perfagg" submit --url "$url" --exchange binance --label profile \
  --ttl 3600 --symbols BTCUSDT,ETHUSDT --api-key-file "$tmp/account/api_key" \
  --api-secret-file "$tmp/account/api_secret" --dev-root "$tmp/var/dev-attest/root.pem" 2>"$tmp/submit.err") ||
  die "perfagg submit failed: $(cat "$tmp/submit.err")"

# One request_aggregates run; the session id (a capability) on stdin, never on
# a command line. Prints "HTTP_STATUS SECONDS".
aggregate() {
  printf '{"session_id":"%s"}' "$session" |
    curl -sS -o "$1" -w '%{http_code} %{time_total}\n' -X POST -H 'Content-Type: application/json' \
      --data-binary @- "$url/enclave/request_aggregates"
}
read -r status _ < <(aggregate "$tmp/check.json")
[ "$status" = 200 ] || die "request_aggregates answered $status: $(head -c 300 "$tmp/check.json")"
python3 - "$tmp/check.json" "$fills" <<'PY' || die "the aggregates run did not see every fill"
import json, sys
trades = json.load(open(sys.argv[1]))["aggregates_signed"]["payload"]["trades"]
sys.exit(0 if trades == int(sys.argv[2]) else "payload.trades is %s" % trades)
PY

nginx_pid=
sample() {
  python3 bench/sample.py machine "perfagg-server=$server_pid" "perfagg-enclave=$enclave_pid" \
    "perfagg-relay=$relay_pid" "binance_sim=$sim_pid" "postgres=$pg_pid+" ${nginx_pid:+"nginx=$nginx_pid+"}
}

# perf_start NAME PID,...: samples those processes (every thread) until perf_stop.
perf_start() {
  perf record -q -e cpu-clock -F "$freq" --call-graph dwarf,16384 -p "$2" -o "$tmp/$1.perf.data" \
    >"$tmp/$1.perf.log" 2>&1 &
  perf_pid=$!
  sleep 1 # perf attaches to every thread before the load starts
}
perf_stop() {
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
  perf_pid=
}
# fold NAME PID ROOT: PID's stacks of the recording NAME, folded, and its flame graph.
fold() {
  perf script -i "$tmp/$1.perf.data" --no-inline -F comm,pid,tid,time,period,event,ip,sym,dso \
    2>/dev/null | python3 bench/flamegraph.py fold --pid "$2" --root "$3" >"$out/$1.$3.folded"
  python3 bench/flamegraph.py svg --title "$4" <"$out/$1.$3.folded" >"$out/$1.$3.svg"
}

# ---- one run at a time --------------------------------------------------------
pg_psql() { psql -X -q -h "$tmp/var/postgres" -U postgres -d perfagg -tAc "$1" >/dev/null; }
log "one run at a time: $runs runs (enclave phase timing, PostgreSQL statement durations)"
pg_psql "ALTER SYSTEM SET log_min_duration_statement = 0"
pg_psql "SELECT pg_reload_conf()"
sleep 0.5
pg_mark=$(wc -l <"$tmp/var/postgres.log")
run_mark=$(wc -l <"$tmp/run.log")
for _ in $(seq 1 "$runs"); do aggregate /dev/null; done >"$out/sequential_runs.txt"
sleep 0.5 # the server's log is flushed every 200 ms
pg_psql "ALTER SYSTEM RESET log_min_duration_statement"
pg_psql "SELECT pg_reload_conf()"
# Only durations leave the logs (statements carry session ids and ciphertexts).
tail -n +"$((pg_mark + 1))" "$tmp/var/postgres.log" | grep -o 'duration: [0-9.]* ms' >"$out/sequential_db.txt" || true
tail -n +"$((run_mark + 1))" "$tmp/run.log" | grep -o 'aggregate: signed result over.*' >"$out/sequential_enclave.txt" || true

# load NAME URL LUA: one wrk run, the processes sampled before and after.
load() {
  log "wrk $1: $threads threads, $conns connections, ${seconds}s${perf_pid:+, perf at $freq Hz}"
  sample >"$out/$1.sample_start.json"
  BENCH_WRK_OUT=$out/$1.json BENCH_LUA_DIR=$root/bench/wrk \
    waited wrk -t "$threads" -c "$conns" -d "${seconds}s" --timeout 30s -s "bench/wrk/$3" "$2" \
    >"$out/$1.txt" 2>&1 || die "wrk $1 failed: $(cat "$out/$1.txt")"
  sample >"$out/$1.sample_end.json"
}

# ---- request_aggregates under load, profiled ------------------------------------
perf_start aggregates "$enclave_pid,$server_pid,$relay_pid"
BENCH_SESSION=$session load aggregates_load "$url/enclave/request_aggregates" aggregates.lua
perf_stop

# ---- GET /health: beside nginx without perf, then profiled ---------------------------
stack_start_nginx_health
load nginx_health "http://127.0.0.1:$nginx_port/health" get.lua
load health "$url/health" get.lua
perf_start health "$server_pid"
load health_load "$url/health" get.lua
perf_stop

log "folding the stacks (perf script)"
fold aggregates "$enclave_pid" enclave "perfagg-enclave during request_aggregates (10,000 fills) under load"
fold aggregates "$server_pid" server "perfagg-server during request_aggregates (10,000 fills) under load"
fold aggregates "$relay_pid" relay "perfagg-relay during request_aggregates (10,000 fills) under load"
fold health "$server_pid" server "perfagg-server during GET /health under load"
rm -f "$tmp"/*.perf.data

# ---- callgrind: instruction counts of one run, in-process -------------------------
if [ "$callgrind" = 1 ]; then
  log "callgrind: one aggregate run in-process (build-profile/aggregate_profile)"
  # one run outside valgrind first: the simulator's caches are warm for both
  "$build/aggregate_profile" "$sim_url" "$tmp/account/api_key" "$tmp/account/api_secret" \
    BTCUSDT,ETHUSDT 1 >/dev/null 2>"$tmp/aggregate_profile.log" ||
    die "aggregate_profile failed: $(tail -3 "$tmp/aggregate_profile.log")"
  waited valgrind --tool=callgrind --callgrind-out-file="$out/aggregate.callgrind.out" \
    "$build/aggregate_profile" "$sim_url" "$tmp/account/api_key" "$tmp/account/api_secret" \
    BTCUSDT,ETHUSDT 1 >"$out/aggregate.callgrind.json" 2>"$tmp/callgrind.log" ||
    die "callgrind failed: $(tail -5 "$tmp/callgrind.log")"
  callgrind_annotate --inclusive=yes --threshold=100 "$out/aggregate.callgrind.out" \
    >"$out/aggregate.callgrind.txt" 2>/dev/null
fi

cut -d' ' -f1-3 /proc/loadavg >"$out/loadavg_end"
git rev-parse --short HEAD >"$out/commit" 2>/dev/null || true
python3 bench/profile_report.py "$out"
log "report: bench/profile/report.md (flame graphs: bench/profile/*.svg)"
cat "$out/report.md"
