#!/bin/sh
# What the run-time index checks cost (docs/status.md): `tcc bench` of one
# model with and without -index-checks=0, alternating, ROUNDS rounds; prints
# every median and the median of each side's medians.
# A benchmark, not a test: run it by hand on a quiet machine.
#   usage: [ROUNDS=10] [REPEAT=500] tests/bench/index_checks.sh TCC MODEL.onnx [tcc flags...]
#   e.g.   tests/bench/index_checks.sh build/tcc bert_tiny_dyn/model.onnx -dim=seq=1..128 \
#            --input bert_tiny_dyn/test_data_set_4/input_0.pb --input bert_tiny_dyn/test_data_set_4/input_1.pb
# AB="DIM... RAW_INPUT..." also builds index_ab.c (both objects in one
# process, called alternately, 1,000 pairs, 5 times): one value per model
# sym, then the inputs as raw little-endian files, e.g. AB="128 ids.bin mask.bin".
set -eu
TCC=$1 MODEL=$2; shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
if [ -n "${AB:-}" ]; then
  compile_flags=""
  for a in "$@"; do case $a in -dim=*|-shape=*|-mcpu=*|-O*) compile_flags="$compile_flags $a";; esac; done
  # shellcheck disable=SC2086
  "$TCC" compile "$MODEL" $compile_flags -mcpu=native -name=chk -o "$T"
  # shellcheck disable=SC2086
  "$TCC" compile "$MODEL" $compile_flags -mcpu=native -name=nochk -index-checks=0 -o "$T"
  ${CC:-cc} -O2 -I"$HERE/../../include" -I"$T" -o "$T/ab" "$HERE/index_ab.c" "$T/chk.o" "$T/nochk.o" \
    "$(dirname "$TCC")/libtccrt.a" -lm
  # shellcheck disable=SC2086
  for i in 1 2 3 4 5; do "$T/ab" 1000 $AB; done
fi
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
