#!/bin/sh
# The whole onnx 1.23 core list on each of the nine target configurations
# of docs/targets.md (x86_64 with the host's CPU and at its x86-64-v3
# baseline, and the seven cross targets under QEMU or Node.js), one after
# the other; each run must pass every test of passing-1.23.txt (a Cortex-M
# build that does not fit its board's flash/RAM would count as
# unsupported, and so as a regression). About an hour on 2 cores.
#   sh tests/conformance/all_targets.sh [BUILD_DIR] [JOBS]    (logs in BUILD_DIR/all-targets/)
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build} JOBS=${2:-2}
mkdir -p "$BUILD/all-targets"
failed=0
for t in "x86_64" "x86_64 -mcpu=x86-64-v3" armv8 riscv64 riscv64gcv wasm32 cortex-m4 cortex-m7 cortex-m55; do
  log=$BUILD/all-targets/$(echo "$t" | tr ' =' '__').log
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$BUILD/tcc-conformance" --tcc "$BUILD/tcc" --data "$BUILD/onnx-1.23" \
    --list tests/conformance/core-1.23.txt -j "$JOBS" --random tests/conformance/random.txt \
    --tolerances tests/conformance/tolerances-1.23.txt \
    --expect-pass tests/conformance/passing-1.23.txt -- -target=$t > "$log" 2>&1
  rc=$?
  [ $rc -eq 0 ] || failed=1
  printf '%-24s %s  (%d s%s)\n' "$t" "$(grep '^total' "$log" | sed 's/^total *//')" \
    $(( $(date +%s) - start )) "$([ $rc -eq 0 ] || echo ", REGRESSIONS: $log")"
done
exit $failed
