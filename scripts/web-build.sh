#!/usr/bin/env bash
# Builds the browser/Node CryptoHelper: installs web/'s npm dependencies exactly
# as pinned in web/package-lock.json (npm ci; only when node_modules is missing
# or older than the lockfile; the npm cache makes a repeat offline-capable) and
# bundles build/web/client/crypto-helper.js (+ .sha384, its SRI value).
#   scripts/web-build.sh [OUTDIR]      (default: build/web/client)
set -euo pipefail
web=$(cd "$(dirname "$0")/../web" && pwd)
outdir=${1:-$web/../build/web/client}
command -v node >/dev/null || { echo "web-build: node (20+) is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "web-build: npm is required" >&2; exit 1; }
cd "$web"
# one installer at a time (a build and a test run may start together)
exec 9>"$web/node_modules.lock"
flock 9
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
fi
node build.mjs --outdir "$outdir"
