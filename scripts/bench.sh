#!/usr/bin/env bash
# `make bench`: today's throughput, latency and memory of every route, each
# beside a ceiling measured in the same run on the same machine
# (docs/BENCHMARKS.md).
#   1. a Release build of the service and the bench tools in build-bench/
#   2. crypto ceilings in-process (build-bench/crypto_ceiling), and the
#      aggregation of 250,000 .. 1,000,000 fills over a year in-process
#      (build-bench/aggregate_scale: time and memory against the fill count)
#   3. the Binance simulator with a 10,000-fill account (bench/make_account.py)
#   4. the service through scripts/run.sh (private PostgreSQL with fsync on,
#      relay, server, enclave: `make run`'s defaults) with the rate limit and
#      the exchange weight budgets raised (the enclave's and the simulator's:
#      an account snapshot weighs 2400 of Binance's 12000 a minute, so real
#      Binance allows about four runs a minute per address; this measures
#      perfagg, not that limit)
#   5. wrk (2 threads, 64 connections, BENCH_SECONDS each) against nginx serving
#      /health as a static file, then every route; pgbench of submit_key's SQL
#   6. bench/report.json, bench/report.md and bench/report.svg (bench/report.py)
# Knobs: BENCH_SECONDS (15), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_PGBENCH_CLIENTS (8; also the connections of the second submit_key run),
# BENCH_CRYPTO_SECONDS (2), BENCH_SUBMIT_BODIES (6000 x BENCH_SECONDS, for
# each submit_key run: with group commit submit_key passed 4,000 a second,
# and fewer bodies ran out and measured 409s), BENCH_FILLS (10000),
# BENCH_ROUTES (all: health,quote,quote_nonce,submit_key,submit_key_c8,
# request_aggregates; a comma list runs only those, plus the ceilings they are
# compared with: nginx for health and quote, pgbench for the submit runs; the
# crypto ceilings always; the aggregation at scale only with
# request_aggregates).
# Everything it starts is stopped on exit, Ctrl-C or failure; its temporary
# directory (cluster, keys, logs) is removed. Raw outputs stay in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${BENCH_SECONDS:-15}
conns=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
pg_clients=${BENCH_PGBENCH_CLIENTS:-8}
crypto_seconds=${BENCH_CRYPTO_SECONDS:-2}
bodies=${BENCH_SUBMIT_BODIES:-$((6000 * seconds))}
fills=${BENCH_FILLS:-10000}
all_routes=health,quote,quote_nonce,submit_key,submit_key_c8,request_aggregates
routes=${BENCH_ROUTES:-$all_routes}
build=build-bench
out=$root/bench/out
unset DATABASE_URL BINANCE_BASE_URL PERFAGG_URL
stack_name=bench
# shellcheck source=scripts/lib/stack.sh
. scripts/lib/stack.sh

sampler= # the subshell that samples half way through a run
stack_on_cleanup() {
  if [ -n "$sampler" ]; then kill -TERM "$sampler" 2>/dev/null || true; fi
}

# want NAME...: true when BENCH_ROUTES names any of them.
want() {
  local r
  for r in "$@"; do [[ ",$routes," == *",$r,"* ]] && return 0; done
  return 1
}
for r in ${routes//,/ }; do
  [[ ",$all_routes," == *",$r,"* ]] || die "BENCH_ROUTES: unknown run '$r' (known: $all_routes)"
done

# wrk is a bench-only dependency: `make test` never needs it.
scripts/deps.sh wrk nginx
command -v wrk >/dev/null || die "wrk is missing"
command -v nginx >/dev/null || die "nginx is missing"

stack_build -- perfagg-server perfagg-enclave perfagg-relay perfagg crypto_ceiling seal_many aggregate_scale

rm -rf "$out"
mkdir -p "$out"
stack_tmp

# ---- crypto ceilings, before anything else runs ------------------------------
cut -d' ' -f1-3 /proc/loadavg >"$out/loadavg_start"
log "crypto ceilings (${crypto_seconds}s per operation, one core)"
"$build/crypto_ceiling" "$crypto_seconds" >"$out/crypto.json"
if want request_aggregates; then
  log "aggregation of 250,000, 500,000 and 1,000,000 fills over a year (median of 3)"
  for n in 250000 500000 1000000; do "$build/aggregate_scale" "$n" 3; done >"$out/aggregate.jsonl"
fi

# ---- the exchange simulator with the 10,000-fill account --------------------
python3 bench/make_account.py "$tmp/account" "$fills"
stack_start_sim "$tmp/account"

# ---- the service, as `make run` starts it -----------------------------------
# run.sh's output holds the server's access log (a line per request): it stays
# in $tmp, and only its tail is kept in bench/out/. One session serves every
# request_aggregates run: its result limit (100 by default) is raised as the
# rate limit is.
stack_start_service PERFAGG_EXCHANGE_WEIGHT_BUDGET=10000000 MAX_RESULTS_PER_SESSION=100000

# ---- inputs prepared before any measurement ---------------------------------
quote=$(curl -fsS "$url/attestation/quote")
enclave_pub=$(printf '%s' "$quote" | python3 -c 'import json, sys; print(json.load(sys.stdin)["enclave_pubkey"])')
seal_sets=()
want submit_key && seal_sets+=(bodies:"$bodies")
want submit_key_c8 && seal_sets+=(bodies_c8:"$bodies")
[ ${#seal_sets[@]} -eq 0 ] || log "sealing distinct submit bodies: ${seal_sets[*]}"
for f in "${seal_sets[@]}"; do
  "$build/seal_many" --enclave-pubkey "$enclave_pub" --count "${f#*:}" \
    --api-key-file "$tmp/account/api_key" --api-secret-file "$tmp/account/api_secret" \
    --out "$tmp/${f%%:*}.jsonl"
done

session=
if want request_aggregates; then
log "submitting the $fills-fill account and checking one aggregates run"
session=$("$build/perfagg" submit --url "$url" --exchange binance --label bench-aggregates \
  --ttl 3600 --symbols BTCUSDT,ETHUSDT --api-key-file "$tmp/account/api_key" \
  --api-secret-file "$tmp/account/api_secret" --dev-root "$tmp/var/dev-attest/root.pem" 2>"$tmp/submit.err") ||
  die "perfagg submit failed: $(cat "$tmp/submit.err")"
# The session id is a capability: on stdin, never on a command line.
printf '{"session_id":"%s"}' "$session" |
  curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- \
    "$url/enclave/request_aggregates" >"$out/aggregates_check.json" ||
  die "request_aggregates failed before the run"
python3 - "$out/aggregates_check.json" "$fills" <<'PY' || die "the aggregates run did not see every fill"
import json, sys
trades = json.load(open(sys.argv[1]))["aggregates_signed"]["payload"]["trades"]
sys.exit(0 if trades == int(sys.argv[2]) else "payload.trades is %s" % trades)
PY
fi

# ---- nginx: the same /health JSON as a static file ---------------------------
nginx_pid=
if want health quote quote_nonce; then
  stack_start_nginx_health
fi

# ---- measurements -------------------------------------------------------------
# Memory and CPU time of each process we started, and the machine's busy time
# (bench/sample.py).
sample() {
  python3 bench/sample.py machine "perfagg-server=$server_pid" \
    "perfagg-enclave=$(child_of "$server_pid" perfagg-enclave)" "perfagg-relay=$relay_pid" \
    "binance_sim=$sim_pid" "postgres=$pg_pid+" ${nginx_pid:+"nginx=$nginx_pid+"}
}

# Transactions committed in the service's database so far: over a submit
# run, against the submits stored, it shows how many each commit carried
# (group commit, docs/DATABASE.md).
db_commits() {
  psql -X -At -h "$tmp/var/postgres" -U app_service -d perfagg \
    -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
}

# run_wrk NAME URL SCRIPT [CONNECTIONS]: one wrk run, processes sampled before,
# half way and after.
run_wrk() {
  local name=$1 target=$2 script=$3 c=${4:-$conns}
  log "wrk $name: $threads threads, $c connections, ${seconds}s"
  db_commits >"$out/$name.db_commits_start"
  sample >"$out/$name.sample_start.json"
  (sleep "$((seconds / 2))" && sample >"$out/$name.sample_mid.json") &
  sampler=$!
  BENCH_WRK_OUT=$out/$name.json BENCH_LUA_DIR=$root/bench/wrk BENCH_THREADS=$threads \
    waited wrk -t "$threads" -c "$c" -d "${seconds}s" --timeout 30s -s "bench/wrk/$script" "$target" \
    >"$out/$name.txt" 2>&1 || die "wrk $name failed: $(cat "$out/$name.txt")"
  wait "$sampler" 2>/dev/null || true
  sampler=
  sample >"$out/$name.sample_end.json"
  db_commits >"$out/$name.db_commits_end"
}

[ -z "$nginx_pid" ] || run_wrk nginx_health "http://127.0.0.1:$nginx_port/health" get.lua
want health && run_wrk health "$url/health" get.lua
want quote && run_wrk quote "$url/attestation/quote" get.lua
want quote_nonce && run_wrk quote_nonce "$url/attestation/quote" quote_nonce.lua
want submit_key && BENCH_BODIES=$tmp/bodies.jsonl run_wrk submit_key "$url" submit.lua
# as many connections as pgbench has clients: the like-for-like comparison
want submit_key_c8 && BENCH_BODIES=$tmp/bodies_c8.jsonl run_wrk submit_key_c8 "$url" submit.lua "$pg_clients"

# pgbench: submit_key's SQL, one transaction per submit, on the same cluster
# and as the same role the server uses, parameters from a real sealed body.
if want submit_key submit_key_c8; then
log "pgbench of submit_key's SQL: $pg_clients clients, ${seconds}s"
bodies_file=$tmp/bodies.jsonl
[ -s "$bodies_file" ] || bodies_file=$tmp/bodies_c8.jsonl
mapfile -t params < <(python3 - "$bodies_file" "$enclave_pub" <<'PY'
import json, sys, time
with open(sys.argv[1]) as f:
    body = json.loads(f.readline())
meta = json.dumps(body["metadata"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
for k, v in [("exchange", "binance"), ("label", "bench-pgbench"), ("nonce", body["nonce"]),
             ("ciphertext", body["ciphertext"]), ("tag", body["tag"]), ("metadata_jcs", meta),
             ("enclave_pubkey", sys.argv[2]), ("expires", int(time.time() * 1000) + 3600_000)]:
    print("-D")
    print("%s=%s" % (k, v))
PY
)
waited pgbench -n -M prepared -c "$pg_clients" -j "$threads" -T "$seconds" -f bench/pgbench_submit.sql \
  "${params[@]}" -h "$tmp/var/postgres" -U app_service perfagg >"$out/pgbench.txt" 2>&1 ||
  die "pgbench failed: $(tail -5 "$out/pgbench.txt")"
fi

want request_aggregates &&
  BENCH_SESSION=$session run_wrk request_aggregates "$url/enclave/request_aggregates" aggregates.lua

# ---- the report -----------------------------------------------------------------
python3 - "$out/meta.json" "$seconds" "$conns" "$threads" "$pg_clients" "$bodies" "$fills" <<'PY'
import json, os, platform, subprocess, sys, time
path, seconds, conns, threads, pg_clients, bodies, fills = sys.argv[1:]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                        text=True).stdout.strip()
dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True).stdout.strip())
with open("/proc/loadavg") as f:
    load = f.read().split()[:3]
with open(os.path.join(os.path.dirname(path), "loadavg_start")) as f:
    load_start = f.read().split()
json.dump({"finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "commit": commit + ("-dirty" if dirty else ""), "build": "Release (build-bench/)",
           "cpus": os.cpu_count(), "kernel": platform.release(), "loadavg_at_start": load_start,
           "loadavg_at_end": load,
           "seconds": int(seconds), "connections": int(conns), "wrk_threads": int(threads),
           "pgbench_clients": int(pg_clients), "submit_bodies": int(bodies), "fills": int(fills)},
          open(path, "w"), indent=1)
PY
tail -n 100 "$tmp/run.log" >"$out/run.log.tail" || true
# every line of the service's log but the access log's: warnings and errors
grep -v ' info perfagg-server: [A-Z]* /' "$tmp/run.log" | tail -n 1000 >"$out/run.log.notes" || true
python3 bench/report.py "$out" bench
log "report: bench/report.md, bench/report.json, bench/report.svg (raw runs in bench/out/)"
cat bench/report.md
