#!/usr/bin/env bash
# Builds the enclave image (docs/NITRO.md): the Docker image of
# deploy/nitro/Dockerfile from the repository root, then the EIF with
# nitro-cli, which prints the measurements (PCR0 = the image_hash clients
# pin). Run on an enclave-enabled parent instance (or any machine with
# nitro-cli and Docker).
#
#   deploy/nitro/build-eif.sh [OUTPUT.eif]          (default perfagg.eif)
#
# Environment: BASE (debian:12-slim, pin it by digest), DEBIAN_SNAPSHOT
# (snapshot.debian.org timestamp, e.g. 20261201T000000Z), TAG (perfagg-enclave:latest).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-perfagg.eif}
tag=${TAG:-perfagg-enclave:latest}
command -v docker >/dev/null || { echo "build-eif: docker is required" >&2; exit 2; }
command -v nitro-cli >/dev/null || { echo "build-eif: nitro-cli is required" >&2; exit 2; }

# Image file times from the commit, not from the clock (needs BuildKit's
# rewrite-timestamp, Docker 25+); the base and the packages are pinned by
# BASE and DEBIAN_SNAPSHOT.
SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct)
export SOURCE_DATE_EPOCH
git -C "$root" diff --quiet HEAD || echo "build-eif: warning: uncommitted changes go into the image" >&2

docker buildx build --file "$root/deploy/nitro/Dockerfile" \
  --build-arg "BASE=${BASE:-debian:12-slim}" --build-arg "DEBIAN_SNAPSHOT=${DEBIAN_SNAPSHOT:-}" \
  --build-arg SOURCE_DATE_EPOCH \
  --output "type=docker,name=$tag,rewrite-timestamp=true" "$root"

# Prints {"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": ..., "PCR1": ..., "PCR2": ...}}
nitro-cli build-enclave --docker-uri "$tag" --output-file "$out" | tee "${out%.eif}.measurements.json"
echo "build-eif: PCR0 above is the image_hash to give clients (--image-hash / PERFAGG_IMAGE_HASH)"
