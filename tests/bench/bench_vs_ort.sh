#!/bin/sh
# Latency of tcc-compiled models against ONNX Runtime (npm onnxruntime-node,
# CPU, 1 thread), measured in the same run, alternating, 3 rounds: prints each
# side's median per round and the ratio of the medians of the rounds.
# A benchmark, not a test: run it by hand on a quiet machine.
#   usage: [REPEAT=200] tests/bench/bench_vs_ort.sh BUILD_DIR MODEL.onnx [MODEL.onnx...]
# Needs Node.js and the npm registry once (installs onnxruntime-node into
# BUILD_DIR/ort).
set -eu
BUILD=$(cd "$1" && pwd); shift
HERE=$(cd "$(dirname "$0")" && pwd)
ORT=$BUILD/ort
if [ ! -d "$ORT/node_modules/onnxruntime-node" ]; then
  mkdir -p "$ORT"
  (cd "$ORT" && ONNXRUNTIME_NODE_INSTALL=skip npm install --silent onnxruntime-node@1.30.0 >/dev/null)
fi
cp "$HERE/ort_bench.js" "$ORT/ort_bench.js"
for model in "$@"; do
  tcc_ms="" ort_ms=""
  for round in 1 2 3; do
    t=$("$BUILD/tcc" bench "$model" --repeat "${REPEAT:-200}" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
    o=$(node "$ORT/ort_bench.js" "$model" "${REPEAT:-200}" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
    echo "$model round $round: tcc $t ms, onnxruntime $o ms"
    tcc_ms="$tcc_ms $t"; ort_ms="$ort_ms $o"
  done
  med() { echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -g | sed -n 2p; }
  awk -v m="$model" -v a="$(med $tcc_ms)" -v b="$(med $ort_ms)" \
    'BEGIN { printf "%s: tcc %.4f ms, onnxruntime %.4f ms, tcc/ort = %.2f\n", m, a, b, a / b }'
done
