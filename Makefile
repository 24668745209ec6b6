# Thin wrapper: CMake + Ninja do the building, scripts/ do the orchestration.
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
FUZZ_SECONDS ?= 20

.PHONY: all build deps run run-tls test test-unit test-security migrate lint format dev sanitize fuzz clean \
        reproducible-check bench profile web-hashes soak lint-deploy container-build container-run

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(BUILD)

run: build
	@scripts/run.sh

# `make run` with nginx in front terminating TLS on https://localhost:3443
# (deploy/nginx; a local certificate, trust var/tls/ca.pem).
run-tls: build
	@PERFAGG_TLS=1 scripts/run.sh

# the browser tests (tests/browser) need Debian's chromium
test: build
	@scripts/deps.sh chromium
	@scripts/test.sh

test-unit: build
	@scripts/test.sh -L unit

test-security: build
	@scripts/test.sh -L security

# Rewrites README's published SHA-384s of the pages' files (build/web) after
# a change to web/ (the test web_pages_published fails until then).
web-hashes: build
	@node web/build-pages.mjs --outdir $(BUILD)/web --write-readme README.md

migrate: deps
	@scripts/migrate.sh

lint: build
	@scripts/lint.sh

format:
	@scripts/deps.sh clang-format
	@git ls-files '*.c' '*.h' | xargs clang-format -i

dev: build
	@scripts/dev.sh

# Two clean builds of perfagg-enclave (production configuration) from commit
# HEAD in two different directories must be bit-identical (README, "Rebuilding
# the measurement").
reproducible-check: deps
	@scripts/reproducible-check.sh

# ASan + UBSan build and test run in build-asan/.
sanitize: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPERFAGG_SANITIZE=ON >/dev/null
	@ninja -C build-asan
	@PERFAGG_BUILD=build-asan scripts/test.sh

# libFuzzer drivers (tests/fuzz/) with clang + ASan + UBSan in build-fuzz/,
# each run for FUZZ_SECONDS on a copy of its seed corpus.
fuzz:
	@scripts/deps.sh clang libclang-rt-14-dev
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# Throughput, latency and memory of every route beside ceilings measured in
# the same run (Release build in build-bench/, installs wrk and nginx if
# missing; BENCH_SECONDS per run, default 15): bench/report.{md,json,svg}.
bench: deps
	@scripts/bench.sh

# Where the time of request_aggregates (10,000 fills) and GET /health goes:
# perf flame graphs, the enclave's phase timing, callgrind instruction counts
# (scripts/profile.sh; build-profile/, bench/profile/report.md). Not part of
# `make test`; installs linux-perf, valgrind and wrk if missing.
profile: deps
	@scripts/profile.sh

# SOAK_MINUTES (default 10) at half the measured capacity: flat RSS and
# descriptors, no errors (scripts/soak.sh; bench/soak/report.md). Not part of
# `make test`.
soak: deps
	@scripts/soak.sh

# Images and the development compose file (deploy/container, docs/OPERATIONS.md
# "Containers"); needs Docker with the compose plugin.
COMPOSE ?= docker compose -f deploy/container/compose.yaml
container-build:
	@$(COMPOSE) build

container-run:
	@$(COMPOSE) up

# The Dockerfile, compose file and systemd units checked without a container
# runtime (scripts/lint-deploy.sh).
lint-deploy: build
	@scripts/lint-deploy.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-bench build-profile bench/out bench/soak bench/profile bench/report.json bench/report.md \
	  bench/report.svg
