# User-facing entry points. `make run` and `make test` are the two commands the README opens with.
#
#   make run    install missing packages, build, start a local deployment in the foreground
#   make test   install, build, run every test (units + end-to-end), then the unit tests again
#               under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench  KMS throughput against nginx and moto_server, and multi-Region replication lag
#               (write docs/benchmarks.md)
#   make clean  remove build directories and benchmark scratch output (never .data)

BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR   ?= .data
REGIONS    ?= us-east-1,us-west-2,eu-west-1
PORT       ?= 4566
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure -j $(JOBS)

MERIDIAN := $(BUILD_DIR)/meridian

.PHONY: all deps build build-asan run test test-unit test-asan bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps | $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

$(ASAN_DIR)/build.ninja: | deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DMERIDIAN_SANITIZE=ON -DMERIDIAN_UNIT_TESTS_ONLY=ON $(CMAKE_FLAGS)

build-asan: deps | $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) -j $(JOBS)

run: build
	$(MERIDIAN) up --data-dir $(DATA_DIR) --regions $(REGIONS) --port $(PORT)

# Sequential even under `make -j`: the sanitizer build starts after the main suite has passed.
test:
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-asan

# Every test registered with CTest in the main build: unit tests and the end-to-end suites in
# tests/e2e, which start build/meridian as a process and drive it with boto3 and the aws cli.
test-unit: build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS)

test-asan: build-asan
	cd $(ASAN_DIR) && \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest $(CTEST_FLAGS)

bench: build
	bench/kms/run.sh --meridian $(MERIDIAN)
	bench/regions/run.sh --meridian $(MERIDIAN)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) bench/results
