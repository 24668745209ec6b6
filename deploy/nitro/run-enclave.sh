#!/usr/bin/env bash
# Starts the perfagg enclave on an enclave-enabled parent instance
# (docs/NITRO.md). The allocator (/etc/nitro_enclaves/allocator.yaml) must
# reserve at least MEMORY_MIB and CPU_COUNT for enclaves.
#
#   deploy/nitro/run-enclave.sh [perfagg.eif]
#
# Then, on the parent:
#   perfagg-relay --listen vsock://any:8443 --allow api.binance.com:443   (egress)
#   ENCLAVE_ADDR=vsock://$CID:5000 DATABASE_URL=... perfagg-server     (host)
set -euo pipefail
eif=${1:-perfagg.eif}
cid=${ENCLAVE_CID:-16}        # the first enclave's default CID; the server connects here
memory=${MEMORY_MIB:-1024}    # MiB; the EIF is unpacked into enclave memory
cpus=${CPU_COUNT:-2}          # whole cores on hyper-threaded instances: an even number
# Never --debug-mode in production: a debug enclave's PCRs read as zeros, its
# documents are refused by perfagg's verifier, and its results say
# "environment": "development".
exec nitro-cli run-enclave --eif-path "$eif" --enclave-cid "$cid" \
  --memory "$memory" --cpu-count "$cpus" --enclave-name perfagg
