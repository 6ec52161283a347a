# corio's front door. Everything goes through CMake; these targets are the
# commands people and CI type.
#
#   make            build the library, tests, examples and benchmarks
#   make test       build, then run every test (CTest)
#   make demo       build, then run the example programs
#   make bench      build, then run the benchmarks (one table)
#   make faults     build, then the fault-injection cases at full size
#   make asan       the whole suite under AddressSanitizer + UBSan
#   make tsan       the whole suite under ThreadSanitizer
#   make valgrind   the whole suite under Valgrind memcheck
#   make aarch64    cross-build for AArch64 and run the suite under qemu-user

JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE    ?= cmake
SAN_CC   ?= $(shell command -v clang-14 || command -v clang || echo gcc)
CTEST     = ctest --output-on-failure -j$(JOBS)

.PHONY: all build test demo bench faults asan tsan valgrind aarch64 clean

all: build

build:
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@$(CMAKE) --build build -j$(JOBS)

test: build
	cd build && $(CTEST)

demo: build
	@for e in build/example_*; do \
	    echo "=== $$(basename $$e | sed 's/^example_//')"; \
	    $$e || exit 1; echo; \
	done

bench: build
	./build/bench/corio_bench

# The fault cases at full size, on both pollers, through the runner (one
# case at a time, each with a ten-minute limit instead of CTest's minute).
faults: build
	CORIO_FAULTS=full CORIO_TEST_TIMEOUT=600 ./build/corio_tests fault_oom_ fault_sys_ fault_alloc_
	CORIO_FAULTS=full CORIO_TEST_TIMEOUT=600 CORIO_BACKEND=poll \
	    ./build/corio_tests fault_oom_ fault_sys_ fault_alloc_

asan:
	@$(CMAKE) -S . -B build-asan -DCMAKE_C_COMPILER=$(SAN_CC) \
	    -DCMAKE_BUILD_TYPE=Debug -DCORIO_SANITIZE=address \
	    -DCORIO_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build build-asan -j$(JOBS)
	cd build-asan && CORIO_TEST_TIMEOUT_MULTIPLIER=4 \
	    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(CTEST)

tsan:
	@$(CMAKE) -S . -B build-tsan -DCMAKE_C_COMPILER=$(SAN_CC) \
	    -DCMAKE_BUILD_TYPE=Debug -DCORIO_SANITIZE=thread \
	    -DCORIO_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build build-tsan -j$(JOBS)
	cd build-tsan && CORIO_TEST_TIMEOUT_MULTIPLIER=4 \
	    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 $(CTEST)

valgrind: build
	./tests/valgrind.sh build

aarch64:
	@$(CMAKE) -S . -B build-aarch64 \
	    -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORIO_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build build-aarch64 -j$(JOBS)
	cd build-aarch64 && CORIO_TEST_TIMEOUT_MULTIPLIER=4 $(CTEST)

clean:
	rm -rf build build-asan build-tsan build-aarch64
