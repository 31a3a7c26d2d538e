# pond: a thin wrapper over CMake. `make` builds into build/ and the CLI lands at build/pond.
MAKEFLAGS += --no-print-directory
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
WERROR ?= OFF

.PHONY: all check lint asan valgrind headertest ci install fuzz fuzz-soak bench clean demo

all:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOND_WERROR=$(WERROR) \
	    -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

# TEST_JOBS: unit test binaries (and fuzz replays) run at once (scripts/run-tests.sh).
TEST_JOBS ?= $(JOBS)

check: all
	@POND_TEST_JOBS=$(TEST_JOBS) scripts/run-tests.sh build

# One way to do each thing (scripts/lint.sh): jansson only under src/util, no new growth loop or
# hash map outside it; STRICT_SYMBOLS=1 / STRICT_FORMAT=1 add the symbol and format checks.
lint:
	@scripts/lint.sh build

# Under ASan: no interop (same bytes as the normal run) and, of the crash harness, the parts
# that run pond through crashes, faults, races and corruption (the trace lint and power-loss
# replay check write ordering, which ASan does not change; the normal run has them).
ASAN_CRASH_ONLY ?= crash_,fault_,concurrent,gc_races,corruption
asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPOND_SANITIZE=ON -DPOND_WERROR=$(WERROR) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    POND_NO_INTEROP=1 POND_CRASH_ONLY=$(ASAN_CRASH_ONLY) POND_TEST_JOBS=$(TEST_JOBS) \
	    scripts/run-tests.sh build-asan

# valgrind and ASan never share a build: a plain -O0 -g build for valgrind.
valgrind:
	@cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=Debug -DPOND_WERROR=$(WERROR) >/dev/null
	@cmake --build build-debug -j $(JOBS)
	@POND_TEST_LIGHT=1 POND_TEST_JOBS=$(TEST_JOBS) scripts/run-tests.sh build-debug --units-only -- \
	    valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect

headertest:
	@scripts/headertest.sh

ci:
	@scripts/ci.sh

install: all
	@cmake --install build --prefix $(PREFIX)

fuzz:
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOND_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# Every libFuzzer target for FUZZ_SECONDS of CPU time (default 600 = 10 minutes each).
FUZZ_SECONDS ?= 600
fuzz-soak: fuzz
	@scripts/fuzz-soak.sh build-fuzz $(FUZZ_SECONDS)

bench: all
	@echo "benchmarks: see bench/README.md"

demo: all
	@scripts/demo.sh

clean:
	rm -rf build build-asan build-debug build-fuzz

# Reliability: every crash point and fault point of the CLI scenarios, concurrent writers,
# corruption, and the full in-process fault loops (docs/reliability.md). Builds build-crash.
.PHONY: crash-test
crash-test:
	@scripts/crash-test.sh
