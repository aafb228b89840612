#!/bin/sh
# Installs the Debian 12 packages tcc needs.
#   tests/install-deps.sh        what building tcc and running the demo need
#   tests/install-deps.sh --cross  also the cross toolchains, QEMU and Node.js
#                                  (the CI recipe of docs/examples/ci)
#   tests/install-deps.sh --all  also what the whole test suite needs
# Idempotent: does nothing when everything is already installed.
set -eu
PACKAGES="build-essential cmake pkg-config llvm-19-dev libprotobuf-c-dev protobuf-c-compiler
libcjson-dev libcmocka-dev libonnx-dev libonnx-testdata python3-onnx python3-numpy"
# The test suite: valgrind, then the cross targets and the fuzzers.
CROSS_PACKAGES="qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 nodejs qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi"
TEST_PACKAGES="$CROSS_PACKAGES valgrind libclang-rt-19-dev
python3-torch python3-torchvision python3-sklearn chromium time python3-yaml"
[ "${1:-}" = --cross ] && PACKAGES="$PACKAGES $CROSS_PACKAGES"
[ "${1:-}" = --all ] && PACKAGES="$PACKAGES $TEST_PACKAGES"
# The cross targets (docs/targets.md): qemu-user runs armv8
# and riscv64 binaries, clang-19 + wasi-libc build wasm32 and Node.js runs it,
# qemu-system-arm (mps2-an386, mps2-an500) runs the cortex-m builds of
# arm-none-eabi-gcc, headless chromium runs the browser example (docs/browser).
# python3-torch + python3-torchvision export the real networks (docs/networks.md);
# python3-sklearn has the handwritten digits the compression tests train on.

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# The differential tests and the benchmark install onnxruntime-node with npm:
# Debian's nodejs comes without it (a nodejs that ships its own npm needs none).
if [ "${1:-}" = --all ] && ! command -v npm >/dev/null 2>&1; then
  missing="$missing npm"
fi
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "tcc: installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
