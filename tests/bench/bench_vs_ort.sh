#!/bin/sh
# Latency of tcc-compiled networks against ONNX Runtime (npm onnxruntime-node,
# CPU), measured in one run, alternating, on each network's seeded input.
# A benchmark, not a test: run it by hand (docs/performance.md).
#   usage: [THREADS=1] [ROUNDS=3] [ITERS=N] tests/bench/bench_vs_ort.sh BUILD_DIR [NAME...]
# NAMEs (default all): resnet18 mobilenet_v2 squeezenet1_1 shufflenet_v2_x1_0
# efficientnet_b0 transformer_encoder lstm mlp matmul1024.
#
# Per network: `tcc run` and ORT on test_data_set_0/input_0.pb must agree
# (max |tcc - ort| / max |ort| <= 1e-4); then ROUNDS rounds, each `tcc bench`
# then ORT with ITERS timed calls (per-network default: about a second of
# calls per side and round; a network's time is mostly tcc's five compiles);
# the middle round also times tcc with -fuse=0.  A median is the median of
# the rounds' medians, a min the least call seen.  ORT's intra-op threads =
# THREADS = tcc's -threads.  For the
# 1024^3 MatMul also GFLOP/s against oneDNN's dnnl_sgemm and the FMA peak of
# one core, both measured here.  Ends with a markdown table for
# docs/performance.md.  Machines differ and are shared: only same-run ratios
# mean something.
#
# Needs Node.js and npm (installs onnxruntime-node into BUILD_DIR/ort once),
# libdnnl-dev (installed with apt-get when missing), Debian's /usr/bin/python3
# with torch/torchvision/onnx (exports into BUILD_DIR/models-out as the
# network tests do).
set -eu
BUILD=$(cd "$1" && pwd); shift
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
OUT=$BUILD/models-out
ORT=$BUILD/ort
BIN=$BUILD/bench
T=$(mktemp -d /tmp/tcc-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
NETS="resnet18 mobilenet_v2 squeezenet1_1 shufflenet_v2_x1_0 efficientnet_b0 transformer_encoder lstm"
# shellcheck disable=SC2086 # NETS is a list
[ $# -gt 0 ] || set -- $NETS mlp matmul1024

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
isa=$(grep -qw avx512f /proc/cpuinfo && echo AVX-512 || echo AVX2)
echo "CPU: $cpu ($(nproc) cores online, $isa); threads $THREADS; rounds $ROUNDS; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- tools -----------------------------------------------------------------
ort_install
if [ ! -f /usr/include/dnnl.h ]; then
  echo "installing libdnnl-dev (oneDNN, the SGEMM reference)"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libdnnl-dev >/dev/null
fi
mkdir -p "$BIN"
cc -O2 -o "$BIN/dnnl_sgemm" "$HERE/dnnl_sgemm.c" -ldnnl
cc -O2 -o "$BIN/fma_peak" "$HERE/fma_peak.c"
cc -O2 -o "$BIN/core_pingpong" "$HERE/core_pingpong.c" -lpthread
# what a line costs between the cores: the ceiling on what threads gain
[ "$THREADS" -eq 1 ] || "$BIN/core_pingpong"

# --- models ----------------------------------------------------------------
nets=
for n in "$@"; do
  case " $NETS " in *" $n "*) nets="$nets $n" ;; esac
done
if [ -n "$nets" ]; then
  . "$ROOT/tests/networks/export.sh"
  # shellcheck disable=SC2086
  networks_export bench_vs_ort "$OUT" $nets
fi
case " $* " in *" matmul1024 "*)
  ref=$OUT/matmul1024/test_data_set_0/output_0.pb
  if [ ! -f "$ref" ] || [ "$HERE/tensors.py" -nt "$ref" ]; then
    $PY "$HERE/tensors.py" matmul "$OUT/matmul1024" 1024
  fi ;;
esac

ROWS=$T/rows.md
status=0
mm_line=
for name in "$@"; do
  if [ "$name" = mlp ]; then dir=$ROOT/models/mlp; else dir=$OUT/$name; fi
  model=$dir/model.onnx in=$dir/test_data_set_0/input_0.pb
  [ -f "$model" ] || { echo "$name: no $model (names: $NETS mlp matmul1024)" >&2; exit 1; }
  iters=${ITERS:-$(iters_of "$name")}
  start=$(date +%s)
  w=$T/$name
  mkdir -p "$w"

  # Agreement on the seeded input.
  dims=$($PY "$HERE/tensors.py" raw "$in" "$w/in.raw")
  "$BUILD/tcc" run "$model" -threads="$THREADS" --input "$in" --output-dir "$w/tcc" >/dev/null
  node "$ORT/ort_bench.js" "$model" 1 "$THREADS" "$w/ort.raw" "$w/in.raw:$dims" >/dev/null
  if err=$($PY "$HERE/tensors.py" compare "$w/tcc/output_0.pb" "$w/ort.raw"); then ok=ok; else
    ok=FAIL; status=1
    echo "FAIL: $name: tcc and onnxruntime differ: max abs error / max |ort| = $err > 1e-4" >&2
  fi

  : >"$w/tcc.txt"; : >"$w/ort.txt"
  mid=$(((ROUNDS + 1) / 2))
  r=1
  while [ $r -le "$ROUNDS" ]; do
    "$BUILD/tcc" bench "$model" -threads="$THREADS" --input "$in" --iters "$iters" --warmup 3 --json >"$w/t.json"
    node "$ORT/ort_bench.js" "$model" "$iters" "$THREADS" - "$w/in.raw:$dims" >"$w/o.json"
    echo "$(json "$w/t.json" median_ms) $(json "$w/t.json" min_ms)" >>"$w/tcc.txt"
    echo "$(json "$w/o.json" median_ms) $(json "$w/o.json" min_ms)" >>"$w/ort.txt"
    line="round $r: tcc $(json "$w/t.json" median_ms) ms, ort $(json "$w/o.json" median_ms) ms"
    if [ $r -eq $mid ]; then
      "$BUILD/tcc" bench "$model" -fuse=0 -threads="$THREADS" --input "$in" --iters "$iters" --warmup 3 --json >"$w/f.json"
      line="$line, tcc -fuse=0 $(json "$w/f.json" median_ms) ms"
    fi
    echo "  $name $line"
    r=$((r + 1))
  done
  tm=$(cut -d' ' -f1 "$w/tcc.txt" | median) tn=$(cut -d' ' -f2 "$w/tcc.txt" | minimum)
  om=$(cut -d' ' -f1 "$w/ort.txt" | median) on=$(cut -d' ' -f2 "$w/ort.txt" | minimum)
  fm=$(json "$w/f.json" median_ms)
  label=$(label_of "$name")
  awk -v n="$name" -v tm="$tm" -v tn="$tn" -v om="$om" -v on="$on" -v fm="$fm" -v e="$err" \
      -v ok="$ok" -v s="$(($(date +%s) - start))" -v it="$iters" 'BEGIN {
    printf "%s: tcc %.4g ms (min %.4g), onnxruntime %.4g ms (min %.4g), tcc/ort %.2f (of the mins %.2f); tcc -fuse=0 %.4g ms (fusion x%.2f); error %s %s; %d x %d calls, %d s\n",
      n, tm, tn, om, on, tm / om, tn / on, fm, fm / tm, e, ok, it, '"$ROUNDS"', s }'
  awk -v l="$label" -v tm="$tm" -v tn="$tn" -v om="$om" -v on="$on" -v fm="$fm" -v e="$err" 'BEGIN {
    printf "| %s | %.4g (%.4g) | %.4g (%.4g) | %.2f (%.2f) | %.4g | %.2f | %s |\n", l, tm, tn, om, on, tm / om, tn / on, fm, fm / tm, e }' >>"$ROWS"

  if [ "$name" = matmul1024 ]; then
    flop=2147483648 # 2 * 1024^3
    d=$(OMP_NUM_THREADS=$THREADS "$BIN/dnnl_sgemm" 1024 "$iters")
    dm=$(echo "$d" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
    peaks=$("$BIN/fma_peak")
    echo "$peaks" | sed 's/^/  /'
    # the higher of the zmm and ymm peaks; per core, so times THREADS for the share
    pk=$(echo "$peaks" | sed -n 's/^fma_peak [yz]mm: \([0-9.]*\) .*/\1/p' | sort -g | tail -n 1)
    dn=$(echo "$d" | sed -n 's/.*min \([0-9.]*\) ms.*/\1/p')
    mm_line=$(awk -v f=$flop -v t="$tm" -v o="$om" -v d="$dm" -v tb="$tn" -v ob="$on" -v db="$dn" \
        -v p="$pk" -v th="$THREADS" 'BEGIN {
      g = f / 1e6; pt = p * th
      printf "MatMul 1024^3 GFLOP/s at %d thread(s), median (best call): tcc %.1f (%.1f), onnxruntime %.1f (%.1f), dnnl_sgemm %.1f (%.1f); FMA peak %.1f (%.1f per core); tcc = %.0f%% (%.0f%%) of dnnl_sgemm, %.0f%% (%.0f%%) of peak",
        th, g / t, g / tb, g / o, g / ob, g / d, g / db, pt, p, 100 * d / t, 100 * db / tb, 100 * g / t / pt, 100 * g / tb / pt }')
    echo "$mm_line"
  fi
done

echo
echo "Markdown (docs/performance.md): $cpu, $THREADS thread(s), $ROUNDS rounds, $(date -u +%Y-%m-%d)"
echo
echo "| model | tcc ms median (min) | ORT ms median (min) | tcc / ORT medians (mins) | tcc -fuse=0 ms | -fuse=0 / fused | max err / max\\|ORT\\| |"
echo "|---|---|---|---|---|---|---|"
cat "$ROWS"
[ -z "$mm_line" ] || { echo; echo "$mm_line"; }
exit $status
