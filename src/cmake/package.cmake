# package.cmake — what `cmake --install` puts under the prefix, and the
# Debian package `cpack -G DEB` makes of it (docs/cmake.md):
#   bin/tcc                          the compiler
#   lib/libtcc_compiler.a            the compiler as a library (tcc/tcc.h),
#   lib/libtcc_onnx_proto.a            with the ONNX protobuf code it needs
#   lib/libtccrt.a, libtccrt_pool.a  the runtime and thread pool, this machine
#   lib/tcc/<target>/                the runtime built for each cross target
#                                    whose toolchain this build found
#   lib/pkgconfig/tccrt.pc           (and lib/tcc/<target>/pkgconfig/)
#   lib/cmake/tcc/                   find_package(tcc): tcc::tcc,
#                                    tcc::compiler, tcc::tccrt[_<target>],
#                                    tcc_add_model(), tcc_link_board()
#   include/tcc/                     runtime.h, pool.h, tcc.h
#   share/tcc/runtime/               the runtime's sources, the toolchain
#                                    files and the boards' startup and
#                                    linker scripts (`tcc run -target=...`)
#   share/man/man1/tcc.1
include(CMakePackageConfigHelpers)

# Names a project that add_subdirectory()s this tree uses, as the package's.
add_executable(tcc::tcc ALIAS tcc)
add_library(tcc::tccrt ALIAS tccrt)
add_library(tcc::tccrt_pool ALIAS tccrt_pool)
add_library(tcc::compiler ALIAS tcc_lib)
set(TCC_INCLUDE_DIR ${PROJECT_SOURCE_DIR}/include CACHE INTERNAL "")
set(TCC_RUNTIME_SOURCE_DIR ${PROJECT_SOURCE_DIR}/runtime CACHE INTERNAL "")
include(${CMAKE_CURRENT_LIST_DIR}/TccAddModel.cmake)

# --- the runtime for each cross target whose toolchain is installed --------
option(TCC_CROSS_RUNTIMES "build the runtime for every cross target whose toolchain is found" ON)
set(TCC_RUNTIME_TARGETS "")
if(TCC_CROSS_RUNTIMES)
  include(ExternalProject)
  set(toolchains ${PROJECT_SOURCE_DIR}/runtime/toolchains)
  # target, toolchain file, the programs it needs
  set(cross_runtimes
    "armv8|aarch64-linux-gnu.cmake|aarch64-linux-gnu-gcc"
    "riscv64|riscv64-linux-gnu.cmake|riscv64-linux-gnu-gcc"
    "wasm32|wasm32-wasi.cmake|clang-19,llvm-ar-19,wasm-ld-19"
    "cortex-m4|cortex-m4.cmake|arm-none-eabi-gcc"
    "cortex-m7|cortex-m7.cmake|arm-none-eabi-gcc"
    "cortex-m55|cortex-m55.cmake|arm-none-eabi-gcc")
  foreach(row IN LISTS cross_runtimes)
    string(REPLACE "|" ";" row "${row}")
    list(GET row 0 target)
    list(GET row 1 toolchain)
    list(GET row 2 programs)
    string(REPLACE "," ";" programs "${programs}")
    set(found TRUE)
    foreach(prog IN LISTS programs)
      string(MAKE_C_IDENTIFIER "TCC_HAVE_${prog}" var)
      find_program(${var} ${prog})
      if(NOT ${var})
        set(found FALSE)
      endif()
    endforeach()
    if(target STREQUAL "wasm32" AND NOT EXISTS /usr/lib/wasm32-wasi/libc.a)
      set(found FALSE)  # wasi-libc
    endif()
    if(NOT found)
      continue()
    endif()
    set(stage ${PROJECT_BINARY_DIR}/runtimes/${target})
    ExternalProject_Add(tccrt_${target}
      SOURCE_DIR ${toolchains}
      BINARY_DIR ${stage}/build
      INSTALL_DIR ${stage}/install
      CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${toolchains}/${toolchain}
                 -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=<INSTALL_DIR>
                 -DTCC_LIBDIR=lib/tcc/${target} -DTCC_VERSION=${PROJECT_VERSION}
      BUILD_ALWAYS TRUE  # make decides; the runtime's sources may have changed
      EXCLUDE_FROM_ALL FALSE)
    install(DIRECTORY ${stage}/install/lib/tcc/${target} DESTINATION lib/tcc)
    list(APPEND TCC_RUNTIME_TARGETS ${target})
  endforeach()
endif()
string(REPLACE ";" " " listed "${TCC_RUNTIME_TARGETS}")
if(listed)
  message(STATUS "tcc: the runtime is built for this machine and for: ${listed}")
else()
  message(STATUS "tcc: the runtime is built for this machine only (no cross toolchain found, "
                 "or TCC_CROSS_RUNTIMES=OFF)")
endif()

# --- install ----------------------------------------------------------------
install(TARGETS tcc tccrt tccrt_pool tcc_lib tcc_onnx_proto EXPORT tccTargets
  RUNTIME DESTINATION bin ARCHIVE DESTINATION lib LIBRARY DESTINATION lib)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tcc DESTINATION include)
# `tcc run -target=<cross>` compiles the runtime from source for the target
# (and links the bare-metal startup and compat sources of runtime/toolchains);
# tcc_add_model() builds it from there with TCC_RUNTIME_FROM_SOURCE.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/ DESTINATION share/tcc/runtime
  PATTERN "*.in" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/docs/tcc.1 DESTINATION share/man/man1)

set(TCC_PC_TARGET "${CMAKE_SYSTEM_PROCESSOR}")
set(TCC_PC_VERSION "${PROJECT_VERSION}")
set(TCC_PC_LIBDIR lib)
set(TCC_PC_UP ../..)
set(TCC_PC_LIBM -lm)
configure_file(${PROJECT_SOURCE_DIR}/runtime/tccrt.pc.in ${PROJECT_BINARY_DIR}/tccrt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tccrt.pc DESTINATION lib/pkgconfig)

set(cmake_dir lib/cmake/tcc)
install(EXPORT tccTargets NAMESPACE tcc:: DESTINATION ${cmake_dir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tccConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tccConfig.cmake INSTALL_DESTINATION ${cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tccConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/tccConfig.cmake ${PROJECT_BINARY_DIR}/tccConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/TccAddModel.cmake DESTINATION ${cmake_dir})

# --- cpack -G DEB -------------------------------------------------------------
# Debian's TinyCC package is named tcc and owns /usr/bin/tcc and tcc.1: this
# one is tcc-onnx and conflicts with it.
set(CPACK_PACKAGE_NAME tcc-onnx)
set(CPACK_PACKAGE_VENDOR "tcc developers")
set(CPACK_PACKAGE_CONTACT "tcc developers <tcc@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ahead-of-time compiler of ONNX models to native objects")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONFLICTS tcc)
# `tcc run` links with cc; cross runs need the toolchains and emulators.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gcc")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gcc-aarch64-linux-gnu, gcc-riscv64-linux-gnu, gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-user, qemu-system-arm, nodejs")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "tcc compiles an ONNX model into an object file and a C header\n that link against a small C runtime, for x86-64, ARMv8, RISC-V,\n WebAssembly and Cortex-M.")
if(PROJECT_IS_TOP_LEVEL)
  include(CPack)
endif()
