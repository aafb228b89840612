#!/bin/sh
# The packed kernels at their edges (docs/ir.md "Schedules"): every model of
# make_kernel_models.py compiled and run by tcc, compared with its float64
# numpy reference (compare.py: max abs error <= 1e-4 * max|ref|, cosine >=
# 0.9999), at the schedules the target descriptions give: this machine's
# CPU (AVX-512 where it has it), the x86-64-v3 baseline (AVX2), -O0 (plain
# loops), -fuse=0 and 3 threads (byte-identical to 1); then, under
# emulation, TARGETS (e.g. armv8).
# usage: test_kernels.sh TCC OUT_DIR [--quick] [TARGET...]
#   --quick: this machine's schedule and -O0 only (the sanitizer build, whose
#   tcc is several times slower, runs that)
set -u
TCC=$1 OUT=$2
shift 2
QUICK=0
[ "${1:-}" = --quick ] && { QUICK=1; shift; }
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
$PY "$HERE/make_kernel_models.py" "$OUT/models" || { echo "kernels: FAIL: making the models"; exit 1; }
pass=0 fail=0
check() { # LABEL MODEL_DIR FLAGS...
  label=$1 dir=$2
  shift 2
  ins=""
  for f in "$dir"/test_data_set_0/input_*.pb; do ins="$ins --input $f"; done
  res=$OUT/out/$label
  rm -rf "$res" && mkdir -p "$(dirname "$res")"
  # shellcheck disable=SC2086
  if ! "$TCC" run "$dir/model.onnx" $ins --output-dir "$res" "$@" >"$res.log" 2>&1; then
    cat "$res.log"; echo "FAIL $label: tcc run $*"; fail=$((fail + 1)); return
  fi
  if $PY "$HERE/../networks/compare.py" "$label" "$dir/test_data_set_0/output_0.pb" \
      "$res/output_0.pb" >"$res.cmp"; then
    pass=$((pass + 1))
  else
    cat "$res.cmp"; echo "FAIL $label: tcc run $*"; fail=$((fail + 1))
  fi
}
mkdir -p "$OUT/out"
# The models in JOBS shards run at once (most checks are one process on one
# core, the cross targets' under emulation); each shard writes its counts.
JOBS=${KERNEL_JOBS:-2}
shard() { # K TARGET...: the models whose position is K modulo JOBS
  sk=$1
  shift
  i=0
  for dir in "$OUT"/models/*/; do
    i=$((i + 1))
    [ $((i % JOBS)) -eq "$sk" ] || continue
    m=$(basename "$dir")
    check "$m/native" "$dir"
    check "$m/O0" "$dir" -O0
    [ $QUICK = 1 ] && continue
    check "$m/x86-64-v3" "$dir" -mcpu=x86-64-v3
    check "$m/nofuse" "$dir" -fuse=0
    # threads split strips and row groups: the bytes of one thread, always
    check "$m/threads3" "$dir" -threads=3
    if cmp -s "$OUT/out/$m/native/output_0.pb" "$OUT/out/$m/threads3/output_0.pb"; then
      pass=$((pass + 1))
    else
      echo "FAIL $m/threads3: -threads=3 output differs from -threads=1"; fail=$((fail + 1))
    fi
    for t in "$@"; do check "$m/$t" "$dir" -target="$t"; done
  done
  echo "$pass $fail" > "$OUT/shard$sk.counts"
}
k=0
while [ $k -lt "$JOBS" ]; do
  shard $k "$@" > "$OUT/shard$k.log" 2>&1 &
  k=$((k + 1))
done
wait
k=0
while [ $k -lt "$JOBS" ]; do
  cat "$OUT/shard$k.log"
  if [ -f "$OUT/shard$k.counts" ]; then
    read -r p f < "$OUT/shard$k.counts"
    pass=$((pass + p)) fail=$((fail + f))
  else
    echo "FAIL shard $k ended without its counts"; fail=$((fail + 1))
  fi
  k=$((k + 1))
done

# Depthwise schedules a tuning log may choose (docs/tuning.md), forced
# through --tuning: each variant with blocks of rows (or columns) that leave
# a remainder, over strides, dilation, a multiplier, a residual.  The
# profile must report the forced schedule, and a block must give the bytes
# of the same variant one row (column) at a time: each output sums its taps
# in one order whatever the block.
forced() { # MODEL SCHEDULE: the model with every depthwise subgraph at SCHEDULE
  m=$1 sched=$2
  dir=$OUT/models/$m
  log=$OUT/out/$m.tuning.json
  [ -f "$log" ] || "$TCC" tune "$dir/model.onnx" --budget=1 --log="$log" -q \
    || { echo "FAIL $m: tcc tune"; fail=$((fail + 1)); return 1; }
  label=$m/$(echo "$sched" | tr ' =' '_-')
  mkdir -p "$OUT/out/$m"
  $PY - "$log" "$OUT/out/$label.json" "$sched" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
for g in log["subgraphs"]:
    g["best"]["schedule"] = sys.argv[3]
json.dump(log, open(sys.argv[2], "w"))
PY
  check "$label" "$dir" --tuning="$OUT/out/$label.json"
  got=$("$TCC" bench "$dir/model.onnx" --tuning="$OUT/out/$label.json" -profile=1 --json --iters 1 \
        | $PY -c 'import json, sys; print(json.load(sys.stdin)["layers"][0]["problem"]["schedule"])')
  if [ "$got" = "$sched" ]; then pass=$((pass + 1)); else
    echo "FAIL $label: the profile reports '$got'"; fail=$((fail + 1)); fi
}
blocked() { # MODEL VARIANT BLOCK: forced, and the bytes of BLOCK 1
  forced "$1" "depthwise=$2 block=1" && forced "$1" "depthwise=$2 block=$3" || return
  if cmp -s "$OUT/out/$1/depthwise-$2_block-1/output_0.pb" \
      "$OUT/out/$1/depthwise-$2_block-$3/output_0.pb"; then pass=$((pass + 1)); else
    echo "FAIL $1: depthwise=$2 block=$3 differs from block=1"; fail=$((fail + 1)); fi
}
blocked dw3x3 rows 3
blocked dw3x3 rows-padded 4
blocked dw3x3 channels-last 3
blocked dw5x5_s2_mult rows 2
blocked dw5x5_s2_mult rows-padded 6
blocked dw3x3_s2_d2_last_silu rows 5
blocked dw3x3_s2_d2_last_silu rows-padded 2
blocked dw3x3_s2_d2_last_silu channels-last 8
blocked dw3x3_s2_res_sigmoid rows 4
blocked dw3x3_s2_res_sigmoid rows-padded 3
blocked dw3x3_bn_silu rows 6
echo "kernels: $pass passed, $fail failed"
[ $fail -eq 0 ]
