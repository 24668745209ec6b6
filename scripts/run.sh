#!/usr/bin/env bash
# `make run`: the whole service in the foreground, for development.
#   - PostgreSQL: DATABASE_URL if set (used unchanged), else a private cluster
#     under var/postgres (Unix socket only), migrated on every start.
#   - the Binance simulator with a demo account, unless BINANCE_BASE_URL is set.
#   - perfagg-relay (the enclave's egress: CONNECT to the exchange only).
#   - perfagg-server on $LISTEN_ADDRESS:$ENCLAVE_PORT, which runs perfagg-enclave
#     itself (PERFAGG_ENCLAVE_EXEC) and restarts it if it dies.
# Ctrl-C, SIGTERM, SIGHUP or any failure stops everything this script started,
# PostgreSQL included; a cluster left behind by a run that was killed outright
# (stale postmaster.pid, or a postmaster still running) is cleaned up at start.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${PERFAGG_BUILD:-build}
var=${PERFAGG_VAR_DIR:-$root/var}
mkdir -p "$var"
chmod 711 "$var"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGBIN=/usr/lib/postgresql/15/bin

pids=()
pgdata=
cleanup() {
  trap - EXIT INT TERM HUP
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  # The postmaster runs under runuser, which need not pass the signal on:
  # stop the cluster by its data directory so it never outlives this script.
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$pgdata" stop -m fast -w -t 30 >/dev/null 2>&1 || true
  fi
  wait 2>/dev/null || true
  echo "perfagg: stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM HUP

# A postmaster.pid left by a run that was killed outright (SIGKILL, power
# loss): if its postmaster still runs on this data directory, stop it; if the
# pid is dead or now belongs to another program, the lock is stale and goes.
clear_stale_cluster() {
  local data=$1 pid
  [ -f "$data/postmaster.pid" ] || return 0
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
  if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$PGBIN/postgres" ] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-D $data "; then
    echo "perfagg: stopping the PostgreSQL cluster a previous run left running (pid $pid)"
    as_pg "$PGBIN/pg_ctl" -D "$data" stop -m fast -w -t 30 >/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  fi
  if [ -f "$data/postmaster.pid" ]; then
    echo "perfagg: removing a stale PostgreSQL lock ($data/postmaster.pid, pid ${pid:-?} is gone)"
    rm -f "$data/postmaster.pid" "$(dirname "$data")"/.s.PGSQL.*.lock
  fi
}

if [ -z "${DATABASE_URL:-}" ]; then
  pgdir=$var/postgres
  # As root the cluster runs as `postgres`, which must be able to reach var/.
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$var"; then
    key=$root
    if [ "$var" != "$root/var" ]; then key=$var; fi
    alt=/tmp/perfagg-pg-$(printf %s "$key" | sha256sum | cut -c1-12)
    echo "perfagg: postgres cannot reach $var; keeping the cluster in $alt (linked from var/postgres)"
    mkdir -p "$alt"
    [ -L "$pgdir" ] || ln -sfn "$alt" "$pgdir"
    pgdir=$alt
  fi
  mkdir -p "$pgdir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$pgdir"; fi
  chmod 700 "$pgdir"
  if [ ! -f "$pgdir/data/PG_VERSION" ]; then
    echo "perfagg: creating a private PostgreSQL cluster in $pgdir"
    as_pg "$PGBIN/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$pgdir/initdb.log"
  fi
  clear_stale_cluster "$pgdir/data"
  pgdata=$pgdir/data
  # pgaudit records every access to the credentials table in var/postgres.log
  # (deploy/postgres/pgaudit.conf, docs/OPERATIONS.md)
  as_pg tee "$pgdata/perfagg-audit.conf" <"$root/deploy/postgres/pgaudit.conf" >/dev/null
  grep -q "^include_if_exists = 'perfagg-audit.conf'" "$pgdata/postgresql.conf" ||
    echo "include_if_exists = 'perfagg-audit.conf'" | as_pg tee -a "$pgdata/postgresql.conf" >/dev/null
  # In the foreground of this script's process group: never a daemon.
  as_pg "$PGBIN/postgres" -D "$pgdir/data" -c listen_addresses='' \
    -c unix_socket_directories="$pgdir" >>"$var/postgres.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    "$PGBIN/pg_isready" -q -h "$pgdir" && break
    sleep 0.1
  done
  "$PGBIN/pg_isready" -q -h "$pgdir" || { echo "perfagg: PostgreSQL did not start (see var/postgres.log)"; exit 1; }
  psql -q -h "$pgdir" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='perfagg'" |
    grep -q 1 || psql -q -h "$pgdir" -U postgres -d postgres -c 'CREATE DATABASE perfagg'
  DATABASE_URL="postgresql:///perfagg?host=$pgdir&user=postgres" scripts/migrate.sh
  # The server connects as the least-privileged role.
  export DATABASE_URL="postgresql:///perfagg?host=$pgdir&user=app_service"
else
  echo "perfagg: using DATABASE_URL as given (run 'make migrate' to apply migrations)"
fi

if [ -z "${BINANCE_BASE_URL:-}" ]; then
  demo=$var/demo
  mkdir -p "$demo"
  chmod 700 "$demo"
  rm -f "$demo/port"
  python3 tools/binance_sim.py --demo-out "$demo" --port 0 --port-file "$demo/port" \
    >>"$var/binance-sim.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$demo/port" ] && break; sleep 0.1; done
  [ -s "$demo/port" ] || { echo "perfagg: the Binance simulator did not start (see var/binance-sim.log)"; exit 1; }
  export BINANCE_BASE_URL=http://127.0.0.1:$(cat "$demo/port")
  echo "perfagg: Binance simulator with a demo account on $BINANCE_BASE_URL"
fi

# The enclave's only way out: perfagg-relay, a CONNECT relay allowing just the
# exchange's host:port (--dev-allow-local: the simulator is on 127.0.0.1).
target=${BINANCE_BASE_URL#*://}
target=${target%%/*}
case $target in *:*) ;; *) [[ $BINANCE_BASE_URL == https://* ]] && target=$target:443 || target=$target:80 ;; esac
# USD-M futures (accountType "usdm") go to BINANCE_FUTURES_BASE_URL when set
# (else the same URL: the simulator serves /fapi too).
ftarget=$target
if [ -n "${BINANCE_FUTURES_BASE_URL:-}" ]; then
  ftarget=${BINANCE_FUTURES_BASE_URL#*://}
  ftarget=${ftarget%%/*}
  case $ftarget in *:*) ;; *) [[ $BINANCE_FUTURES_BASE_URL == https://* ]] && ftarget=$ftarget:443 || ftarget=$ftarget:80 ;; esac
fi
rm -f "$var/relay.sock"
"$build/perfagg-relay" --listen "unix:$var/relay.sock" --dev-allow-local --allow "$target" \
  --allow "$ftarget" \
  > >(tee -a "$var/relay.log") 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$var/relay.sock" ] && break; sleep 0.1; done
[ -S "$var/relay.sock" ] || { echo "perfagg: the egress relay did not start (see var/relay.log)"; exit 1; }
export PERFAGG_EGRESS_RELAY=unix:$var/relay.sock

export PERFAGG_VAR_DIR=$var
export PERFAGG_ENCLAVE_SOCKET=$var/enclave.sock
# The server supervises the enclave: it starts it, and restarts it with a
# bounded back-off if it dies, so the service survives an enclave crash.
case $build in
  /*) export PERFAGG_ENCLAVE_EXEC=$build/perfagg-enclave ;;
  *) export PERFAGG_ENCLAVE_EXEC=$root/$build/perfagg-enclave ;;
esac
rm -f "$PERFAGG_ENCLAVE_SOCKET"
# `make run-tls` (PERFAGG_TLS=1): nginx in front terminates TLS (below); the
# server counts clients by the address nginx reports.
[ "${PERFAGG_TLS:-}" = 1 ] && export TRUSTED_PROXIES=${TRUSTED_PROXIES:-127.0.0.1}
"$build/perfagg-server" > >(tee -a "$var/server.log") 2>&1 &
pids+=($!)
url="http://${LISTEN_ADDRESS:-127.0.0.1}:${ENCLAVE_PORT:-3000}"
for _ in $(seq 1 150); do curl -fsS "$url/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$url/health" >/dev/null 2>&1 ||
  echo "perfagg: the service is not healthy yet (see $var/server.log, which also has the enclave's log)"

if [ "${PERFAGG_TLS:-}" = 1 ]; then
  # nginx (deploy/nginx) with a local certificate for localhost, made anew on
  # every start (it lives one day): trust var/tls/ca.pem.
  rm -rf "$var/tls" && tools/test-ca.sh "$var/tls" >/dev/null 2>&1
  case ${LISTEN_ADDRESS:-127.0.0.1} in
    0.0.0.0 | ::) upstream=127.0.0.1 ;;
    *:*) upstream="[$LISTEN_ADDRESS]" ;;
    *) upstream=${LISTEN_ADDRESS:-127.0.0.1} ;;
  esac
  scripts/proxy.sh "$var/nginx" "127.0.0.1:${PERFAGG_TLS_PORT:-3443}" "$upstream:${ENCLAVE_PORT:-3000}" \
    "$var/tls/server.pem" "$var/tls/server.key" >>"$var/nginx.log" 2>&1 &
  pids+=($!)
  url="https://localhost:${PERFAGG_TLS_PORT:-3443}"
  for _ in $(seq 1 50); do curl -fsS --cacert "$var/tls/ca.pem" "$url/health" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS --cacert "$var/tls/ca.pem" "$url/health" >/dev/null 2>&1 ||
    echo "perfagg: nginx is not serving yet (see $var/nginx.log and $var/nginx/nginx-error.log)"
  echo "perfagg: TLS through nginx on $url (CA: $var/tls/ca.pem; plain HTTP stays on 127.0.0.1 for the server itself)"
fi

cat <<MSG

perfagg is running on $url  (Ctrl-C stops everything)

In a browser: $url/ (development root: $var/dev-attest/root.pem; demo key: $var/demo/)

Try the flow with the perfagg client (in another terminal, from $root):
  build/perfagg attest --dev-root var/dev-attest/root.pem
  SESSION=\$(build/perfagg submit --exchange binance --label demo --ttl 3600 \\
      --api-key-file var/demo/api_key --api-secret-file var/demo/api_secret \\
      --dev-root var/dev-attest/root.pem)
  build/perfagg aggregates "\$SESSION" --out result.json
  build/perfagg verify result.json --dev-root var/dev-attest/root.pem
  build/perfagg revoke "\$SESSION"

MSG
wait -n
