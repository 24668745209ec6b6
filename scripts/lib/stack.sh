# The start-up shared by `make bench`, `make soak` and `make profile`
# (scripts/bench.sh, soak.sh, profile.sh): a Release build, a temporary
# directory, the Binance simulator with a generated account, the service as
# `make run` starts it (scripts/run.sh), and one trap that stops all of it.
# Sourced, not run. Before sourcing, set:
#   stack_name   the prefix of log lines ("bench", "soak", "profile")
#   build        the build directory (build-bench, build-profile)
# It defines log, die, waited, free_port, child_of and:
#   stack_build CMAKE_ARGS... -- TARGETS...  configure (Release) and build
#   stack_tmp                 make $tmp (mode 711: run.sh's PostgreSQL, user
#                             postgres when root, lives below it)
#   stack_start_sim DIR       tools/binance_sim.py on DIR/accounts.json
#                             (bench/make_account.py writes it): sets sim_pid,
#                             sim_url
#   stack_start_service [VAR=VALUE ...]
#                             scripts/run.sh with the simulator, a free port and
#                             the rate limit raised, plus the given variables;
#                             waits for /health; sets url, run_pid, server_pid,
#                             relay_pid, enclave_pid, pg_pid. Its output (the
#                             access log among it) goes to $tmp/run.log.
#   stack_start_nginx_health  nginx serving /health's answer as a static file
#                             (the HTTP ceiling): sets nginx_port, nginx_pid
# Everything started is stopped on exit, Ctrl-C or failure: first the
# caller's stack_on_cleanup (if defined), then the measuring command running
# now ($cur), run.sh (which stops its children and its PostgreSQL), then
# $pids in reverse order; $tmp is removed.

log() { printf '%s: %s\n' "$stack_name" "$*" >&2; }
die() {
  log "$*"
  exit 1
}

pids=() # ours, stopped in reverse order
run_pid=
cur= # the measuring command running now, if any
tmp=
stack_cleanup() {
  trap - EXIT INT TERM HUP
  if declare -F stack_on_cleanup >/dev/null; then stack_on_cleanup || true; fi
  if [ -n "$cur" ]; then kill -TERM "$cur" 2>/dev/null || true; wait "$cur" 2>/dev/null || true; fi
  # run.sh stops its own children and its PostgreSQL cluster on TERM.
  if [ -n "$run_pid" ]; then kill -TERM "$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true; fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap stack_cleanup EXIT
trap 'exit 130' INT TERM HUP

# Runs a measuring tool in the background and waits for it: a signal then
# interrupts `wait` and the trap runs at once (bash defers traps while a
# foreground child runs, and skips them when the child handles SIGINT itself,
# as wrk does).
waited() {
  local rc=0
  "$@" &
  cur=$!
  wait "$cur" || rc=$?
  cur=
  return "$rc"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

child_of() { pgrep -P "$1" -x "$2" | head -n 1 || true; }

stack_build() {
  local args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    args+=("$1")
    shift
  done
  shift
  log "Release build in $build/"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPERFAGG_BENCH=ON "${args[@]}" >/dev/null
  ninja -C "$build" "$@" >/dev/null
}

stack_tmp() {
  tmp=$(mktemp -d "/tmp/perfagg-$stack_name.XXXXXX")
  chmod 711 "$tmp"
}

stack_start_sim() {
  python3 tools/binance_sim.py --accounts "$1/accounts.json" --port 0 \
    --port-file "$tmp/sim.port" >"$tmp/sim.log" 2>&1 &
  sim_pid=$!
  pids+=("$sim_pid")
  for _ in $(seq 1 100); do [ -s "$tmp/sim.port" ] && break; sleep 0.1; done
  [ -s "$tmp/sim.port" ] || die "the simulator did not start: $(tail -5 "$tmp/sim.log")"
  sim_url=http://127.0.0.1:$(cat "$tmp/sim.port")
}

stack_start_service() {
  local port
  port=$(free_port)
  url=http://127.0.0.1:$port
  log "starting the service on $url (scripts/run.sh)"
  env PERFAGG_BUILD="$build" PERFAGG_VAR_DIR="$tmp/var" ENCLAVE_PORT="$port" \
    BINANCE_BASE_URL="$sim_url" RATE_LIMIT_MAX=1000000000 "$@" \
    scripts/run.sh >"$tmp/run.log" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 300); do curl -fsS "$url/health" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "$url/health" >/dev/null || die "the service did not become healthy: $(tail -20 "$tmp/run.log")"
  server_pid=$(child_of "$run_pid" perfagg-server)
  relay_pid=$(child_of "$run_pid" perfagg-relay)
  enclave_pid=
  [ -n "$server_pid" ] && [ -n "$relay_pid" ] || die "cannot find the server and relay processes"
  for _ in $(seq 1 50); do
    enclave_pid=$(child_of "$server_pid" perfagg-enclave)
    [ -n "$enclave_pid" ] && break
    sleep 0.1
  done
  [ -n "$enclave_pid" ] || die "cannot find the enclave process"
  pg_pid=$(head -n 1 "$tmp/var/postgres/data/postmaster.pid")
}

# nginx serving the service's own /health answer (fetched now) as a static
# file, access log off: the HTTP ceiling GET /health is compared with. Sets
# nginx_port, nginx_pid.
stack_start_nginx_health() {
  mkdir -p "$tmp/nginx/www"
  chmod 755 "$tmp/nginx" "$tmp/nginx/www"
  curl -fsS "$url/health" >"$tmp/nginx/www/health.json"
  chmod 644 "$tmp/nginx/www/health.json"
  nginx_port=$(free_port)
  cat >"$tmp/nginx/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/nginx/www;
    location = /health { default_type application/json; try_files /health.json =404; }
  }
}
CONF
  nginx -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$nginx_port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://127.0.0.1:$nginx_port/health" >/dev/null || die "nginx did not start"
}
