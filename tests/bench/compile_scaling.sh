#!/bin/sh
# Compile-scaling benchmark (docs/performance.md, issue 15): how compile time
# and memory grow with the model.  Per model: nodes, weight MiB, compile
# seconds (wall, median of 3 runs; 1 run past 30 s), peak RSS (MiB, and as a
# multiple of the weights), against the issue's targets.  A benchmark, not a
# test: run it on a quiet machine.
#
# usage: compile_scaling.sh BUILD_DIR [MODEL ...]
#   MODEL: chain1000 chain10000 chain50000 transformer24 resnet18 (default: all)
#   extra tcc flags in TCC_FLAGS (e.g. TCC_FLAGS="-j 1")
set -u
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [MODEL ...]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd); shift
TCC=$BUILD/tcc
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
CACHE=$BUILD/compile-scaling
mkdir -p "$CACHE"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
[ $# -gt 0 ] || set -- chain1000 chain10000 chain50000 transformer24 resnet18

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "compiler: $TCC ($("$TCC" --version)), source tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null), flags: ${TCC_FLAGS:-none}"
printf '%-14s %7s %10s %10s %10s %8s  %s\n' model nodes weightMiB compile_s peakMiB peak/w target

model_path() {
  case $1 in
    chain*) n=${1#chain}; p=$CACHE/$1.onnx
            [ -f "$p" ] || $PY "$HERE/compile_models.py" chain "$n" "$p" || return 1
            echo "$p" ;;
    transformer*) n=${1#transformer}; d=$CACHE/$1
            [ -f "$d/model.onnx" ] || $PY "$HERE/compile_models.py" transformer "$n" "$d" || return 1
            echo "$d/model.onnx" ;;
    resnet18) . "$ROOT/tests/networks/export.sh"
            networks_export compile-scaling "$BUILD/models-out" resnet18 >&2 || return 1
            echo "$BUILD/models-out/resnet18/model.onnx" ;;
    *) echo "unknown model '$1'" >&2; return 1 ;;
  esac
}

# target MODEL SECONDS PEAK_KIB WEIGHT_BYTES -> "met"/"NOT met" and the goal
target() {
  awk -v m="$1" -v s="$2" -v kib="$3" -v w="$4" 'BEGIN {
    if (m ~ /^chain/) { goal = substr(m, 6) / 1000; ok = s < goal; what = sprintf("< %g s", goal) }
    else if (m == "resnet18") { ok = s < 2; what = "< 2 s" }
    else { ok = s < 60 && kib * 1024 < 2 * w; what = "< 60 s, peak < 2x weights" }
    printf "%s (%s)\n", ok ? "met" : "NOT met", what }'
}

for m in "$@"; do
  path=$(model_path "$m") || { echo "$m: cannot make the model"; continue; }
  read -r nodes wbytes <<EOF2
$($PY -c "
import onnx, os, sys
m = onnx.load(sys.argv[1], load_external_data=False)
w = 0
for t in m.graph.initializer:
    n = 1
    for d in t.dims: n *= d
    w += n * 4
print(len(m.graph.node), w)" "$path")
EOF2
  times="" peak=0 runs=3 i=0
  while [ $i -lt $runs ]; do
    rm -rf "$T/out"
    # shellcheck disable=SC2086
    if ! /usr/bin/time -f '%e %M' -o "$T/time" timeout 600 "$TCC" compile "$path" ${TCC_FLAGS:-} -o "$T/out" >/dev/null 2>"$T/err"; then
      echo "$m: compile failed or timed out:"; tail -3 "$T/err"; times=""; break
    fi
    read -r s kib < "$T/time"
    times="$times $s"; [ "$kib" -gt "$peak" ] && peak=$kib
    i=$((i + 1))
    awk -v s="$s" 'BEGIN { exit !(s > 30) }' && break
  done
  [ -n "$times" ] || continue
  med=$(printf '%s\n' $times | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
  awk -v m="$m" -v n="$nodes" -v w="$wbytes" -v s="$med" -v kib="$peak" -v t="$(target "$m" "$med" "$peak" "$wbytes")" \
    'BEGIN { printf "%-14s %7d %10.1f %10.2f %10.1f %8s  %s\n", m, n, w / 1048576, s, kib / 1024,
             w < 1048576 ? "-" : sprintf("%.2f", kib * 1024 / w), t }'
done
