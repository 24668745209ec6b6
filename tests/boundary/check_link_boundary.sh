#!/usr/bin/env bash
# The trust boundary, checked on the built binaries:
#  - perfagg-enclave (and -production) links neither libpq nor libmicrohttpd;
#  - perfagg-server contains no code that opens envelopes or signs results.
set -euo pipefail
build=${1:?usage: check_link_boundary.sh BUILD_DIR}
fail=0

libs=$(ldd "$build/perfagg-enclave")
for exe in perfagg-enclave perfagg-enclave-production; do
  for lib in libpq libmicrohttpd; do
    if grep -q "$lib" <<<"$(ldd "$build/$exe")"; then
      echo "FAIL: $exe links $lib"
      fail=1
    fi
  done
done

syms=$(nm "$build/perfagg-server")
for sym in pa_envelope_open pa_credentials_parse pa_ed25519_sign pa_envelope_seal pa_attest_document; do
  if grep -qw "$sym" <<<"$syms"; then
    echo "FAIL: perfagg-server contains $sym"
    fail=1
  fi
done
# And the positive control, so the check cannot pass vacuously.
grep -qw pa_envelope_open <<<"$(nm "$build/perfagg-enclave")" ||
  { echo "FAIL: nm found no pa_envelope_open in perfagg-enclave (check is broken)"; fail=1; }
grep -q libcurl <<<"$libs" || { echo "FAIL: ldd output unexpected"; fail=1; }

[ $fail = 0 ] && echo "1 passed, 0 failed"
exit $fail
