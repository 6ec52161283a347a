# cmake/aarch64-linux-gnu.cmake: cross-build corio for AArch64 Linux with
# Debian's cross toolchain, and run what it builds under qemu-user.
#
#   cmake -S . -B build-aarch64 \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#
# Needs the packages gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and
# qemu-user. Executables are linked statically, so qemu needs no target
# sysroot at run time; CTest runs every test through the emulator
# (`-cpu max`: every architecture feature qemu has, PAuth and BTI included).
# To test branch protection, pass -mbranch-protection=standard in both
# CMAKE_C_FLAGS and CMAKE_ASM_FLAGS (CMake keeps the two apart).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)

# Headers and libraries come from the cross sysroot only; build tools from
# the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-cpu;max)
