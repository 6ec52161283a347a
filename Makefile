# corio's front door. Everything goes through CMake; these targets are the
# commands people and CI type.
#
#   make            build the library, tests, examples and benchmarks
#   make test       build, then run every test (CTest)
#   make demo       build only the library and the examples, then run them
#   make install    install libraries, headers, corio.pc and the CMake
#                   package (PREFIX=/usr/local, DESTDIR= for staging)
#   make consumer   build a separate project against a fresh install three
#                   ways (pkg-config, find_package, add_subdirectory)
#   make docs       the API reference (Doxygen) in build/docs/html, warning-free
#   make test-load  build, then run every test with a CPU hog on each core
#   make test-shuffle  build, then the concurrency cases under several
#                   schedule-shuffle seeds (fixed ones and one drawn now)
#   make bench      build, then run the benchmarks (one table)
#   make faults     build, then the fault-injection cases at full size
#   make asan       the whole suite under AddressSanitizer + UBSan
#   make tsan       the whole suite under ThreadSanitizer
#   make valgrind   the whole suite under Valgrind memcheck
#   make aarch64    cross-build for AArch64 and run the suite under qemu-user
#   make fuzz       build the libFuzzer targets (clang) and run each briefly
#
# asan, tsan, valgrind, aarch64, docs and consumer first check that their
# tools are installed and name the Debian packages to install when they are
# not (cmake/need.sh).

JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE    ?= cmake
SAN_CC   ?= $(shell command -v clang-14 || command -v clang || echo gcc)
CTEST     = ctest --output-on-failure -j$(JOBS)
PREFIX   ?= /usr/local
DESTDIR  ?=
NEED      = sh cmake/need.sh

.PHONY: all build configure lib test test-load test-shuffle demo install consumer docs bench faults asan tsan valgrind aarch64 fuzz clean

all: build

configure:
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@$(CMAKE) --build build -j$(JOBS)

# The two libraries and nothing else.
lib: configure
	@$(CMAKE) --build build -j$(JOBS) --target corio_static corio_shared

test: build
	cd build && $(CTEST)

# Only the library and the examples: no tests, benchmarks or CPython twins.
demo: configure
	@$(CMAKE) --build build -j$(JOBS) --target examples
	@for f in examples/*.c; do \
	    n=$$(basename $$f .c); echo "=== $$n"; \
	    ./build/example_$$n || exit 1; echo; \
	done

test-load: build
	./tests/under_load.sh build

# Ready tasks in seeded orders (tests/shuffle.sh says which cases, seeds).
test-shuffle: build
	JOBS=$(JOBS) sh tests/shuffle.sh build

# GNUInstallDirs picks the library directory from the prefix (lib, or
# Debian's lib/<multiarch> under /usr), so the prefix is configured too.
install:
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@$(CMAKE) --build build -j$(JOBS) --target corio_static corio_shared
	DESTDIR=$(DESTDIR) $(CMAKE) --install build --prefix $(PREFIX)

consumer: lib
	@$(NEED) consumer
	sh tests/consumer/check.sh . build

bench: build
	./build/bench/corio_bench

# The fault cases at full size, on both pollers, through the runner (one
# case at a time, each with a ten-minute limit instead of CTest's minute).
faults: build
	CORIO_FAULTS=full CORIO_TEST_TIMEOUT=600 ./build/corio_tests fault_oom_ fault_sys_ fault_alloc_
	CORIO_FAULTS=full CORIO_TEST_TIMEOUT=600 CORIO_BACKEND=poll \
	    ./build/corio_tests fault_oom_ fault_sys_ fault_alloc_

asan:
	@SAN_CC=$(SAN_CC) $(NEED) asan
	@$(CMAKE) -S . -B build-asan -DCMAKE_C_COMPILER=$(SAN_CC) \
	    -DCMAKE_BUILD_TYPE=Debug -DCORIO_SANITIZE=address \
	    -DCORIO_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build build-asan -j$(JOBS)
	cd build-asan && CORIO_TEST_TIMEOUT_MULTIPLIER=4 \
	    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(CTEST)

tsan:
	@SAN_CC=$(SAN_CC) $(NEED) tsan
	@$(CMAKE) -S . -B build-tsan -DCMAKE_C_COMPILER=$(SAN_CC) \
	    -DCMAKE_BUILD_TYPE=Debug -DCORIO_SANITIZE=thread \
	    -DCORIO_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build build-tsan -j$(JOBS)
	cd build-tsan && CORIO_TEST_TIMEOUT_MULTIPLIER=4 \
	    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 $(CTEST)

valgrind:
	@$(NEED) valgrind
	@$(MAKE) --no-print-directory build
	./tests/valgrind.sh build

aarch64:
	@$(NEED) aarch64
	@$(CMAKE) -S . -B build-aarch64 \
	    -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORIO_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build build-aarch64 -j$(JOBS)
	cd build-aarch64 && CORIO_TEST_TIMEOUT_MULTIPLIER=4 $(CTEST)

docs:
	@$(NEED) docs
	sh cmake/apidocs.sh . build/docs

FUZZ_SECONDS ?= 20
fuzz:
	@$(CMAKE) -S . -B build-fuzz -DCMAKE_C_COMPILER=$(SAN_CC) \
	    -DCMAKE_BUILD_TYPE=Debug -DCORIO_SANITIZE=address -DCORIO_FUZZ=ON \
	    -DCORIO_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build build-fuzz -j$(JOBS) --target fuzz_stream
	mkdir -p build-fuzz/corpus-stream
	ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz_stream \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=build-fuzz/ build-fuzz/corpus-stream

clean:
	rm -rf build build-asan build-tsan build-aarch64 build-fuzz
