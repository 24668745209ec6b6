# Thin wrapper: CMake + Ninja do the building, scripts/ do the orchestration.
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build deps run test test-unit test-security migrate lint format dev sanitize clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(BUILD)

run: build
	@scripts/run.sh

test: build
	@scripts/test.sh

test-unit: build
	@scripts/test.sh -L unit

test-security: build
	@scripts/test.sh -L security

migrate: deps
	@scripts/migrate.sh

lint: build
	@scripts/lint.sh

format:
	@scripts/deps.sh clang-format
	@git ls-files '*.c' '*.h' | xargs clang-format -i

dev: build
	@scripts/dev.sh

# ASan + UBSan build and test run in build-asan/.
sanitize: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPERFAGG_SANITIZE=ON >/dev/null
	@ninja -C build-asan
	@PERFAGG_BUILD=build-asan scripts/test.sh

clean:
	rm -rf $(BUILD) build-asan
