#!/usr/bin/env bash
# `make lint`: a banned-function check, cppcheck and clang-tidy over src/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh clang-tidy cppcheck >/dev/null
build=${PERFAGG_BUILD:-build}
status=0

# Functions with a safer replacement in this codebase (see docs/DEVELOPING.md):
# unbounded string copies, unchecked conversions, shell-outs, weak randomness.
banned='\b(gets|strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atof|system|popen|tmpnam|rand|srand|memcmp)\s*\('
if grep -rnE "$banned" src/ --include='*.c' --include='*.h'; then
  echo "lint: banned function used (see the list in scripts/lint.sh)" >&2
  status=1
fi

cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
  --inline-suppr --std=c11 -I src/common src/ || status=1

files=$(git ls-files 'src/*.c')
clang-tidy -p "$build" --quiet \
  --checks='-*,bugprone-*,cert-*,clang-analyzer-*,-bugprone-easily-swappable-parameters,-cert-err33-c,-bugprone-reserved-identifier,-cert-dcl37-c,-cert-dcl51-cpp,-bugprone-assignment-in-if-condition,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' \
  --warnings-as-errors='*' $files 2>/dev/null || status=1

[ $status = 0 ] && echo "lint: ok"
exit $status
