# CMake toolchain file for tcc's cortex-m7 target (tcc compile -target=cortex-m7):
# Debian's gcc-arm-none-eabi, hard float.  QEMU board: mps2-an500 (qemu-system-arm -M mps2-an500);
# tcc_link_board() links its startup and memory map (docs/cmake.md).
set(CMAKE_SYSTEM_PROCESSOR cortex-m7)
set(TCC_CORTEX_M_FLAGS "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
