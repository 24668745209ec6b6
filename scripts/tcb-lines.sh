#!/usr/bin/env bash
# Lines of C in the enclave's trusted computing base: every source and header
# file under src/ that the compiler read to build perfagg-enclave (taken from
# ninja's dependency log, so it is exact for the current build).
# Usage: scripts/tcb-lines.sh [BUILD_DIR] [--list]
# PA_TCB_TARGET=perfagg-enclave-production counts the production build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
target=${PA_TCB_TARGET:-perfagg-enclave}
objs=$(ninja -C "$build" -t commands "$target" | grep -o ' -o [^ ]*\.c\.o' | awk '{print $2}')
files=$(cd "$build" && ninja -t deps $objs | awk '/^ +/ {print $1}' | grep -o 'src/.*' | sort -u)
# Generated files (the production build's embedded CA bundle) are data, not code.
files=$(for f in $files; do if [ -f "$f" ]; then echo "$f"; fi; done)
if [ "${2:-}" = --list ]; then echo "$files"; fi
(cd "$PWD" && echo "$files" | xargs wc -l | tail -1 | awk '{print $1}')
