# CMake toolchain file for tcc's cortex-m55 target (tcc compile -target=cortex-m55):
# Debian's gcc-arm-none-eabi, hard float.  QEMU board: mps3-an547 (qemu-system-arm -M mps3-an547);
# tcc_link_board() links its startup and memory map (docs/cmake.md).
set(CMAKE_SYSTEM_PROCESSOR cortex-m55)
set(TCC_CORTEX_M_FLAGS "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
