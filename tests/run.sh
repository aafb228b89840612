#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds tcc twice (plain, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), and runs every test with ctest.
#   plain build:     unit, golden IR, CLI, samples, all 1,021 core conformance tests,
#                    the onnx 1.23 tests new in 1.23 that pass
#   sanitizer build: unit, golden IR, CLI, samples, the smoke conformance subsets
#   ThreadSanitizer build: concurrent compiles through the library (unit/test_sessions)
# Longer runs are separate commands (see docs/testing.md).
set -eu
cd "$(dirname "$0")/.."
tests/install-deps.sh --all
JOBS=${JOBS:-2}

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS" >/dev/null
echo "== tests (RelWithDebInfo)"
ctest --test-dir build --output-on-failure

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTCC_SANITIZE=ON -DTCC_CROSS_RUNTIMES=OFF \
  -DTCC_CONFORMANCE_LIST="$PWD/tests/conformance/smoke.txt" \
  -DTCC_CONFORMANCE_123_LIST="$PWD/tests/conformance/smoke-1.23.txt" >/dev/null
cmake --build build-asan -j"$JOBS" >/dev/null
echo "== tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure

echo "== build (ThreadSanitizer): the compiler library on several threads"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCC_TSAN=ON -DTCC_CROSS_RUNTIMES=OFF >/dev/null
cmake --build build-tsan -j"$JOBS" --target test_sessions >/dev/null
echo "== tests (ThreadSanitizer)"
ctest --test-dir build-tsan -R '^unit/test_sessions$' --output-on-failure
