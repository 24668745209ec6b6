#!/usr/bin/env bash
# `make dev`: `make run`, rebuilt and restarted whenever a source file changes.
set -uo pipefail
cd "$(dirname "$0")/.."
stamp() { find src migrations tools -type f -newer "$1" 2>/dev/null | head -1; }
marker=$(mktemp)
trap 'kill -TERM -- -$child 2>/dev/null; rm -f "$marker"; exit 0' INT TERM
while :; do
  touch "$marker"
  setsid scripts/run.sh &
  child=$!
  while [ -z "$(stamp "$marker")" ] && kill -0 "$child" 2>/dev/null; do sleep 1; done
  echo "perfagg dev: change detected, rebuilding"
  kill -TERM -- -"$child" 2>/dev/null
  wait "$child" 2>/dev/null
  until cmake --build build; do echo "perfagg dev: build failed; waiting for a fix"; sleep 2; while [ -z "$(stamp "$marker")" ]; do sleep 1; done; touch "$marker"; done
done
