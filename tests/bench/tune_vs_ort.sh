#!/bin/sh
# tcc tune's payoff (docs/tuning.md), a benchmark run by hand: per network,
# `tcc tune --budget=BUDGET` from the cost model's schedule and from
# -schedule=naive, then ROUNDS rounds alternating tcc untuned, tcc tuned,
# tcc tuned from naive and ONNX Runtime (intra-op threads = THREADS), each
# on the network's seeded input; prints the medians of the rounds' medians
# and a markdown table.
#   usage: [THREADS=1] [ROUNDS=3] [BUDGET=120] tests/bench/tune_vs_ort.sh BUILD_DIR [NAME...]
# NAMEs (default): resnet18 mobilenet_v2 transformer_encoder; also any of
# bench_vs_ort.sh's.  The logs stay in BUILD_DIR/tuning/.
set -eu
BUILD=$(cd "$1" && pwd); shift
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/common.sh"
PY=/usr/bin/python3
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
BUDGET=${BUDGET:-120}
OUT=$BUILD/models-out
ORT=$BUILD/ort
LOGS=$BUILD/tuning
T=$(mktemp -d /tmp/tcc-tune-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
[ $# -gt 0 ] || set -- resnet18 mobilenet_v2 transformer_encoder
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "CPU: $cpu ($(nproc) cores online); threads $THREADS; rounds $ROUNDS; budget $BUDGET s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
ort_install
. "$ROOT/tests/networks/export.sh"
# shellcheck disable=SC2046 # the names are words
networks_export tune_vs_ort "$OUT" $(for n in "$@"; do [ "$n" = mlp ] || echo "$n"; done)
mkdir -p "$LOGS"

ROWS=$T/rows.md
for name in "$@"; do
  if [ "$name" = mlp ]; then dir=$ROOT/models/mlp; else dir=$OUT/$name; fi
  model=$dir/model.onnx in=$dir/test_data_set_0/input_0.pb
  iters=$(iters_of "$name")
  log=$LOGS/$name.json naive=$LOGS/$name.naive.json
  for pass in model naive; do
    l=$log; [ $pass = model ] || l=$naive
    s=$(date +%s)
    "$BUILD/tcc" tune "$model" -schedule=$pass -threads="$THREADS" --budget="$BUDGET" --log="$l" -q
    echo "  $name: tuned from -schedule=$pass in $(($(date +%s) - s)) s (budget $BUDGET s): $($PY -c "
import json; d = json.load(open('$l')); g = d['subgraphs']
print('%d subgraphs, %d rounds, candidates per subgraph %d..%d (gemm %d..%d)' % (len(g), d['rounds'],
  min(len(x['measured']) for x in g), max(len(x['measured']) for x in g),
  min([len(x['measured']) for x in g if x['problem']['kind'] == 'gemm'] or [0]),
  max([len(x['measured']) for x in g if x['problem']['kind'] == 'gemm'] or [0])))")"
  done
  dims=$($PY "$HERE/tensors.py" raw "$in" "$T/in.raw")
  "$BUILD/tcc" run "$model" --tuning="$log" -threads="$THREADS" --input "$in" --output-dir "$T/tuned" >/dev/null
  node "$ORT/ort_bench.js" "$model" 1 "$THREADS" "$T/ort.raw" "$T/in.raw:$dims" >/dev/null
  err=$($PY "$HERE/tensors.py" compare "$T/tuned/output_0.pb" "$T/ort.raw") || {
    echo "FAIL: $name: tuned tcc and onnxruntime differ: $err" >&2; exit 1; }
  : >"$T/u"; : >"$T/t"; : >"$T/n"; : >"$T/o"
  r=1
  while [ $r -le "$ROUNDS" ]; do
    b() { "$BUILD/tcc" bench "$model" "$@" -threads="$THREADS" --input "$in" --iters "$iters" --warmup 3 --json >"$T/j"; json "$T/j" median_ms; }
    u=$(b) t=$(b --tuning="$log") n=$(b -schedule=naive --tuning="$naive")
    node "$ORT/ort_bench.js" "$model" "$iters" "$THREADS" - "$T/in.raw:$dims" >"$T/oj"
    o=$(json "$T/oj" median_ms)
    echo "$u" >>"$T/u"; echo "$t" >>"$T/t"; echo "$n" >>"$T/n"; echo "$o" >>"$T/o"
    echo "  $name round $r: untuned $u ms, tuned $t ms, tuned from naive $n ms, ort $o ms"
    r=$((r + 1))
  done
  um=$(median <"$T/u") tm=$(median <"$T/t") nm=$(median <"$T/n") om=$(median <"$T/o")
  awk -v n="$name" -v u="$um" -v t="$tm" -v nv="$nm" -v o="$om" 'BEGIN {
    printf "%s: untuned %.4g ms, tuned %.4g ms (untuned/tuned %.3f), tuned from naive %.4g ms (%.3f of tuned), onnxruntime %.4g ms, tuned/ort %.2f\n",
      n, u, t, u / t, nv, nv / t, o, t / o }'
  awk -v l="$(label_of "$name")" -v u="$um" -v t="$tm" -v nv="$nm" -v o="$om" -v e="$err" 'BEGIN {
    printf "| %s | %.4g | %.4g | %.3f | %.4g | %.3f | %.4g | %.2f | %s |\n", l, u, t, u / t, nv, nv / t, o, t / o, e }' >>"$ROWS"
done
echo
echo "Markdown (docs/tuning.md): $cpu, $THREADS thread(s), $ROUNDS rounds, budget $BUDGET s, $(date -u +%Y-%m-%d)"
echo
echo "| model | untuned ms | tuned ms | untuned / tuned | tuned from naive ms | naive-start / tuned | ORT ms | tuned / ORT | max err / max\\|ORT\\| |"
echo "|---|---|---|---|---|---|---|---|---|"
cat "$ROWS"
