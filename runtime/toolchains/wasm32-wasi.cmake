# CMake toolchain file for tcc's wasm32 target: clang-19 and wasm-ld
# (lld-19) with Debian's wasi-libc (sysroot /usr: headers in
# /usr/include/wasm32-wasi, libraries in /usr/lib/wasm32-wasi) and
# libclang-rt-19-dev-wasm32.  The result is a WASI command module; run it
# with any WASI runtime (tcc run -target=wasm32 uses Node.js's node:wasi).
set(CMAKE_SYSTEM_NAME Generic)   # CMake 3.25 has no WASI platform
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(CMAKE_C_COMPILER clang-19)
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_CXX_COMPILER clang++-19)
set(CMAKE_CXX_COMPILER_TARGET wasm32-wasi)
set(CMAKE_AR llvm-ar-19 CACHE FILEPATH "")
set(CMAKE_RANLIB llvm-ranlib-19 CACHE FILEPATH "")
set(CMAKE_EXECUTABLE_SUFFIX_C .wasm)  # the Generic platform resets the plain one
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
