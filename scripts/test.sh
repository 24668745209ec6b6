#!/usr/bin/env bash
# `make test`: starts a throwaway PostgreSQL cluster (Unix socket only, stopped
# by a trap), then runs the CTest suites. Extra arguments go to ctest (e.g.
# -L security). DATABASE_URL is ignored: tests create their own databases.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${PERFAGG_BUILD:-build}
unset DATABASE_URL BINANCE_BASE_URL PERFAGG_URL PERFAGG_IMAGE_HASH

pgdir=$(mktemp -d /tmp/pa-pg.XXXXXX)
cleanup() {
  "$root/scripts/pgcluster.sh" stop "$pgdir" || true
  rm -rf "$pgdir"
}
trap cleanup EXIT INT TERM
"$root/scripts/pgcluster.sh" start "$pgdir"

export PA_TEST_PGHOST=$pgdir
export PA_BUILD_DIR=$root/$build
export PA_SOURCE_DIR=$root
cd "$build"
ctest --output-on-failure --no-label-summary --timeout 600 -j2 "$@"
