#!/usr/bin/env bash
# Builds the browser bundle: CryptoHelper (web/build.mjs) and the pages
# (web/build-pages.mjs) into OUTDIR (default build/web), with the npm
# packages pinned in web/package-lock.json (installed by `npm ci` when
# missing or older than the lockfile). Called by the build (CMake target
# `web`); needs Node 20+ and the npm registry the first time.
#   scripts/web.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/web}")

command -v node >/dev/null || { echo "perfagg: Node.js 20+ is needed to build the pages (web/)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "perfagg: Node.js 20+ is needed to build the pages (found $(node --version))" >&2; exit 1; }

# One npm ci at a time, whichever build directory asks (make, make sanitize).
exec 9>web/.npm.lock
flock 9
stamp=web/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ web/package-lock.json -nt "$stamp" ] || [ web/package.json -nt "$stamp" ]; then
  echo "perfagg: installing the pinned npm packages (web/package-lock.json)" >&2
  # browsers come from Debian (chromium), never from a download
  (cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
node web/build.mjs --outdir "$out/client" >/dev/null
node web/build-pages.mjs --outdir "$out" >/dev/null
