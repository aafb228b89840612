# CMake toolchain file for tcc's riscv64 and riscv64gcv targets: Debian's
# gcc-riscv64-linux-gnu (rv64gc, lp64d: the ABI tcc's objects use).  The C
# code needs no vector extension; the model object brings its own RVV code.
# Run the result with qemu-riscv64 -L /usr/riscv64-linux-gnu
# (riscv64gcv: add -cpu rv64,v=true,vlen=256,elen=64,vext_spec=v1.0).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/riscv64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(TCC_RISCV_QEMU_CPU "rv64,v=true,vlen=256,elen=64,vext_spec=v1.0" CACHE STRING
    "qemu -cpu for running riscv64gcv code")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-riscv64 -L /usr/riscv64-linux-gnu
    -cpu ${TCC_RISCV_QEMU_CPU})
