# The part of tcc's Cortex-M toolchain files (cortex-m4.cmake, cortex-m7.cmake,
# cortex-m55.cmake) that is the same for each: Debian's gcc-arm-none-eabi
# with newlib, bare metal.  The including file sets TCC_CORTEX_M_FLAGS (the
# flags `tcc run -target=cortex-m*` compiles with, src/run.c) and
# CMAKE_SYSTEM_PROCESSOR (tcc's target name, so tcc_add_model() finds it).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_C_FLAGS_INIT "${TCC_CORTEX_M_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${TCC_CORTEX_M_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${TCC_CORTEX_M_FLAGS}")
# No program links without a board's startup and memory map: the compiler
# checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
