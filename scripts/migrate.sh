#!/usr/bin/env bash
# Applies pending migrations (migrations/NNN_name.sql, in name order) to a
# PostgreSQL database.
#   scripts/migrate.sh [CONNINFO]      CONNINFO defaults to $DATABASE_URL
# Run it as the database owner or a superuser: it creates tables, roles
# (only if absent) and grants. The server itself connects as app_service,
# which owns nothing and cannot change the schema.
#
# Each file runs in its own transaction together with the INSERT of its
# version into schema_migrations, under an advisory lock, so a file is either
# fully applied and recorded or not at all, and two runners at once do not
# both apply it. Re-running is safe: recorded versions are skipped.
# Migration files therefore must not contain BEGIN/COMMIT.
#
# A password is never passed on a command line: one found in a URL is moved
# to PGPASSWORD for psql; otherwise use PGPASSWORD or ~/.pgpass (PGPASSFILE).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${PA_MIGRATIONS_DIR:-$root/migrations}
conn=${1:-${DATABASE_URL:-}}
if [ -z "$conn" ]; then
  echo "migrate.sh: no database: set DATABASE_URL or pass a conninfo" >&2
  exit 2
fi

# postgres[ql]://user:password@host... -> PGPASSWORD + URL without password.
url_re='^(postgres(ql)?://)([^:@/?#]*):([^@/?#]*)@(.*)$'
if [[ $conn =~ $url_re ]]; then
  enc=${BASH_REMATCH[4]}
  conn="${BASH_REMATCH[1]}${BASH_REMATCH[3]}@${BASH_REMATCH[5]}"
  PGPASSWORD=$(printf '%b' "${enc//%/\\x}")
  export PGPASSWORD
fi
if [[ $conn =~ (^|[[:space:]?&])password[[:space:]]*= ]]; then
  echo "migrate.sh: refusing a conninfo with a password in it (it would show on psql's command line); use PGPASSWORD or ~/.pgpass" >&2
  exit 2
fi

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql_cmd=(psql -X -q --no-password -v ON_ERROR_STOP=1 -d "$conn")

# Under the same advisory lock as the files, so concurrent runners on a new
# database do not race to create it.
"${psql_cmd[@]}" <<'SQL'
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('perfagg/migrate')) AS locked \gset
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now());
COMMIT;
SQL

shopt -s nullglob
files=("$dir"/*.sql)
if [ ${#files[@]} -eq 0 ]; then
  echo "migrate.sh: no migrations in $dir" >&2
  exit 1
fi
# Name order, independent of the caller's locale.
mapfile -t files < <(printf '%s\n' "${files[@]}" | LC_ALL=C sort)

applied=0
for f in "${files[@]}"; do
  name=$(basename "$f" .sql)
  if ! [[ $name =~ ^[0-9]{3}_[a-z0-9_]+$ ]]; then
    echo "migrate.sh: bad migration file name: $(basename "$f") (want NNN_name.sql)" >&2
    exit 1
  fi
  # Whether it is already applied is decided inside the transaction, after
  # the lock, so a concurrent runner cannot apply it twice. psql quotes the
  # :'v' and :'f' variables itself.
  out=$("${psql_cmd[@]}" -v v="$name" -v f="$f" <<'SQL'
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('perfagg/migrate')) AS locked \gset
SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = :'v') AS done \gset
\if :done
\echo skipped
\else
\i :f
INSERT INTO schema_migrations (version) VALUES (:'v');
\echo applied
\endif
COMMIT;
SQL
  ) || { echo "migrate.sh: $name failed; none of it was applied" >&2; exit 1; }
  case "$out" in
  *applied) echo "applied $name"; applied=$((applied + 1)) ;;
  *skipped) ;;
  *) echo "migrate.sh: unexpected output applying $name: $out" >&2; exit 1 ;;
  esac
done
echo "migrate.sh: $applied migration(s) applied, ${#files[@]} known"
