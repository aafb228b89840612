# CMake toolchain file for tcc's cortex-m4 target (tcc compile -target=cortex-m4):
# Debian's gcc-arm-none-eabi, hard float.  QEMU board: mps2-an386 (qemu-system-arm -M mps2-an386);
# tcc_link_board() links its startup and memory map (docs/cmake.md).
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)
set(TCC_CORTEX_M_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
