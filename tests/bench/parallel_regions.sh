#!/bin/sh
# How a model uses the thread pool (docs/performance.md): compiles MODEL for
# this CPU, links parallel_regions.c and prints the cores' round trip
# (core_pingpong.c), then per run at 1 and 2 threads
# the parallel loops handed to the pool and the time inside them.
# A benchmark tool, not a test.
#   usage: tests/bench/parallel_regions.sh BUILD_DIR MODEL.onnx [tcc flags...]
set -eu
B=$1 MODEL=$2; shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$B/tcc" compile "$MODEL" -mcpu=native -name=model -o "$T" -q "$@"
${CC:-cc} -O2 -I"$HERE/../../include" -I"$T" -o "$T/regions" "$HERE/parallel_regions.c" \
  "$T/model.o" "$B/libtccrt_pool.a" "$B/libtccrt.a" -lm -lpthread
${CC:-cc} -O2 -o "$T/pingpong" "$HERE/core_pingpong.c" -lpthread
"$T/pingpong"
for n in 1 2; do "$T/regions" "${ITERS:-50}" "$n"; done
