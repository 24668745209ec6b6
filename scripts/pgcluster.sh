#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster reachable only through a Unix socket.
#   scripts/pgcluster.sh start DIR   initdb (first time) + start; socket in DIR
#   scripts/pgcluster.sh stop DIR
# As root the cluster runs as the `postgres` user (initdb refuses root), so DIR
# must be reachable by it: callers use a short `mktemp -d /tmp/...` directory.
# The superuser is `postgres`; authentication is trust on the socket, which
# lives in a directory only its owner (and root) can enter.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pgcluster.sh start|stop DIR}
dir=${2:?usage: pgcluster.sh start|stop DIR}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # pgaudit (deploy/postgres/pgaudit.conf), included from postgresql.conf;
  # the copy is refreshed on every start
  as_owner tee "$dir/data/perfagg-audit.conf" <"$(dirname "${BASH_SOURCE[0]}")/../deploy/postgres/pgaudit.conf" >/dev/null
  grep -q "^include_if_exists = 'perfagg-audit.conf'" "$dir/data/postgresql.conf" ||
    echo "include_if_exists = 'perfagg-audit.conf'" | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=200 -c fsync=off" \
    start >/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  ;;
*)
  echo "usage: pgcluster.sh start|stop DIR" >&2
  exit 2
  ;;
esac
