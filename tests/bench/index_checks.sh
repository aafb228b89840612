#!/bin/sh
# What the run-time index checks cost (docs/status.md): `tcc bench` of one
# model with and without -index-checks=0, alternating, ROUNDS rounds; prints
# every median and the median of each side's medians.
# A benchmark, not a test: run it by hand on a quiet machine.
#   usage: [ROUNDS=10] [REPEAT=500] tests/bench/index_checks.sh TCC MODEL.onnx [tcc flags...]
#   e.g.   tests/bench/index_checks.sh build/tcc bert_tiny_dyn/model.onnx -dim=seq=1..128 \
#            --input bert_tiny_dyn/test_data_set_4/input_0.pb --input bert_tiny_dyn/test_data_set_4/input_1.pb
set -eu
TCC=$1 MODEL=$2; shift 2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
for r in $(seq 1 "${ROUNDS:-10}"); do
  for ic in 1 0; do
    "$TCC" bench "$MODEL" "$@" --repeat "${REPEAT:-500}" -index-checks=$ic 2>/dev/null | tail -1 > "$T/line"
    sed "s/^/index-checks=$ic round $r: /" "$T/line"
    sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$T/line" >> "$T/ic$ic"
  done
done
for ic in 1 0; do
  printf 'index-checks=%s: median of the medians %s ms\n' $ic \
    "$(sort -g "$T/ic$ic" | awk '{v[NR]=$1} END {print NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')"
done
