#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer drivers of tests/fuzz/ with clang, ASan and
# UBSan in build-fuzz/ and runs each for FUZZ_SECONDS (default 20) on a copy
# of its seed corpus. Usage: scripts/fuzz.sh [driver ...] (default: all).
#
# The tracked corpus (tests/fuzz/corpus/<name>/) is only read: each driver
# works in build-fuzz/fuzz-work/<name>/corpus, which keeps what earlier runs
# found and is topped up with the seeds on every run. A crash, leak, timeout
# or broken property leaves its input in build-fuzz/fuzz-work/<name>/ (crash-*,
# leak-*, timeout-*, ...) and makes the script fail once every driver has run.
# To keep a finding as a regression seed, copy that file into
# tests/fuzz/corpus/<name>/: `make test` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${PERFAGG_FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-20}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: FUZZ_SECONDS must be a positive integer" >&2; exit 2; }

CC=clang cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DPERFAGG_FUZZ=ON >/dev/null
ninja -C "$build" fuzz-drivers

# fuzz-targets.txt (written by pa_fuzz_target): "name corpus-dir..." per line.
declare -A dirs=()
order=()
while read -r name rest; do
  [ -n "$name" ] || continue
  dirs[$name]=$rest
  order+=("$name")
done <"$build/fuzz-targets.txt"

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${order[@]}")

# The UBSan and ASan options libFuzzer does not set itself.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

failed=()
for name in "${wanted[@]}"; do
  [ -n "${dirs[$name]+x}" ] || { echo "fuzz: no driver called $name (have: ${order[*]})" >&2; exit 2; }
  work=$root/$build/fuzz-work/$name
  mkdir -p "$work/corpus"
  for d in ${dirs[$name]}; do
    # -n: never overwrite what the fuzzer wrote under the same (hash) name
    [ -d "$d" ] && cp -n "$d"/* "$work/corpus/" 2>/dev/null || true
  done
  echo "fuzz: $name for ${seconds}s ($(ls "$work/corpus" | wc -l) inputs in $work/corpus)"
  # Output: libFuzzer's progress lines go to the log; the summary is printed.
  log=$work/fuzz.log
  if (cd "$work" && "$root/$build/fuzz_$name" corpus -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/") \
        >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" | sed 's/^/  /'
  else
    failed+=("$name")
    echo "fuzz: $name FAILED; the report:" >&2
    grep -m1 -A40 -E '^==[0-9]+==ERROR|runtime error|^INFO: libFuzzer.*deadly signal|ALARM|out-of-memory' \
      "$log" >&2 || tail -40 "$log" >&2
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | sed 's/^/  input: /' >&2 || true
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]} (inputs and logs under $build/fuzz-work/)" >&2
  exit 1
fi
echo "fuzz: ${#wanted[@]} drivers, ${seconds}s each, no findings"
