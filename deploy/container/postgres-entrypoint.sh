#!/bin/sh
# PostgreSQL for the development compose file: a cluster in the volume at
# /var/lib/perfagg-postgres, reachable only through the Unix socket in
# /run/postgresql (a volume shared with the migrate and server containers),
# with pgaudit (deploy/postgres/pgaudit.conf). Trust on that socket, as in
# `make run`: whoever can reach the socket directory is the operator.
# Production uses its own database (docs/OPERATIONS.md).
set -eu
PGBIN=/usr/lib/postgresql/15/bin
data=/var/lib/perfagg-postgres/data
if [ ! -f "$data/PG_VERSION" ]; then
  "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
cp /opt/perfagg/pgaudit.conf "$data/perfagg-audit.conf"
grep -q "^include_if_exists = 'perfagg-audit.conf'" "$data/postgresql.conf" ||
  echo "include_if_exists = 'perfagg-audit.conf'" >>"$data/postgresql.conf"
opts="-c listen_addresses= -c unix_socket_directories=/run/postgresql"
"$PGBIN/pg_ctl" -D "$data" -o "$opts" -w -t 60 start >/dev/null
psql -h /run/postgresql -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'perfagg'" | grep -q 1 ||
  psql -q -h /run/postgresql -U postgres -d postgres -c 'CREATE DATABASE perfagg'
"$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
# the log goes to stderr (the container's log), pgaudit lines included
exec "$PGBIN/postgres" -D "$data" -c listen_addresses= -c unix_socket_directories=/run/postgresql
