#!/usr/bin/env bash
# Installs the Debian 12 packages perfagg builds, runs and tests with, when any
# is missing. Usage: scripts/deps.sh [extra-package ...]
# Extras of other targets: `make bench` adds wrk and nginx (scripts/bench.sh),
# `make fuzz` clang, `make lint-deploy` docker-compose; `make test` needs none of
# them, but adds chromium (the browser tests, tests/browser: Debian's chromium,
# never a browser download).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libmicrohttpd-dev libjansson-dev libssl-dev libpq-dev libcurl4-openssl-dev
  libcbor-dev libseccomp-dev libcmocka-dev libgmp-dev
  postgresql-15 postgresql-15-pgaudit postgresql-client-15 python3 curl openssl ca-certificates
  gdb
  unicode-data nginx
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "perfagg: installing missing Debian packages: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "perfagg: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
