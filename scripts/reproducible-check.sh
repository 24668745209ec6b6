#!/usr/bin/env bash
# `make reproducible-check`: builds perfagg-enclave twice from the same
# sources in two fresh directories whose paths differ (and differ in length),
# then compares the two executables byte for byte. Prints the SHA-384 of the
# executable: the development platform's image_hash (PCR0 = SHA-384 of the
# enclave executable). On Nitro, PCR0 is the EIF's measurement instead
# (docs/NITRO.md), built from this executable.
#
#   scripts/reproducible-check.sh [--worktree] [cmake -D options...]
#
# Sources: the commit HEAD (git archive) by default, so both builds see
# exactly one commit; --worktree takes the working tree's tracked and
# untracked-but-not-ignored files instead (what CTest checks while you edit).
# Configuration: RelWithDebInfo (what `make` builds) unless options are
# given. Checked: perfagg-enclave, and perfagg-enclave-production (the
# executable that goes into the Nitro image) where the build defines it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=commit
if [ "${1:-}" = "--worktree" ]; then
  mode=worktree
  shift
fi
opts=("$@")
[ ${#opts[@]} -gt 0 ] || opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
jobs=${PA_REPRO_JOBS:-2}

work=$(mktemp -d /tmp/pa-repro.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
dir_a=$work/a
dir_b=$work/another/much/longer/directory/name/b
mkdir -p "$dir_a" "$dir_b"

copy_sources() { # dest
  if [ "$mode" = commit ]; then
    git -C "$root" archive --format=tar HEAD | tar -x -C "$1"
  else
    (cd "$root" && git ls-files -z -c -o --exclude-standard | xargs -0 tar -c --no-recursion -f -) |
      tar -x -C "$1"
  fi
}

if ! git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  echo "reproducible-check: $root is not a git checkout" >&2
  exit 2
fi
desc=$(git -C "$root" rev-parse --short HEAD)
if [ "$mode" = commit ] && [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  echo "reproducible-check: note: uncommitted changes are not part of the check (commit $desc is built)"
fi

build_in() { # dir umask locale timezone
  copy_sources "$1"
  # Another umask, locale or time zone must not matter either: they differ
  # between the two builds.
  (cd "$1" && umask "$2" && export LC_ALL="$3" TZ="$4" &&
    cmake -S . -B build -G Ninja "${opts[@]}" >/dev/null &&
    ninja -C build -j "$jobs" "${targets[@]}" >/dev/null)
}
targets=(perfagg-enclave)
mkdir -p "$work/probe"
copy_sources "$work/probe"
if cmake -S "$work/probe" -B "$work/probe/build" -G Ninja "${opts[@]}" >/dev/null &&
  ninja -C "$work/probe/build" -t targets all | grep -q '^perfagg-enclave-production:'; then
  targets+=(perfagg-enclave-production)
fi
rm -rf "$work/probe"
build_in "$dir_a" 022 C UTC
build_in "$dir_b" 077 C.UTF-8 Pacific/Auckland

echo "build 1: $dir_a"
echo "build 2: $dir_b"
echo "sources: $mode ($desc); options: ${opts[*]}"
status=0
for t in "${targets[@]}"; do
  a=$dir_a/build/$t
  b=$dir_b/build/$t
  sha_a=$(openssl dgst -sha384 -r "$a" | cut -d' ' -f1)
  sha_b=$(openssl dgst -sha384 -r "$b" | cut -d' ' -f1)
  echo "$t SHA-384 1: $sha_a"
  echo "$t SHA-384 2: $sha_b"
  if cmp -s "$a" "$b"; then
    echo "reproducible-check: OK, the two $t executables are bit-identical"
  else
    echo "reproducible-check: FAILED, the two $t executables differ:" >&2
    cmp -l "$a" "$b" | head -20 >&2 || true
    status=1
  fi
done
exit $status
