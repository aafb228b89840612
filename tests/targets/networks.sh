#!/bin/sh
# Real networks on a cross target (docs/targets.md): export them (as
# tests/networks/test_networks.sh does, skipped when present and newer than
# the exporter), `tcc run -target=T` each under emulation and compare with
# compare.py (max abs error <= 1e-4 * max|reference|, cosine >= 0.9999)
# against both PyTorch's output and tcc's own x86_64 output.
#
# usage: networks.sh TCC OUT_DIR TARGET [NAMES...]   (default: resnet18 mobilenet_v2)
# Exit 0 when all match, 1 when one does not, 77 (skipped) without torch.
set -u
[ $# -ge 3 ] || { echo "usage: $0 TCC OUT_DIR TARGET [NAMES...]" >&2; exit 2; }
TCC=$1 OUT=$2 T=$3
shift 3
[ $# -gt 0 ] || set -- resnet18 mobilenet_v2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../networks/export.sh"
networks_export "networks/$T" "$OUT" "$@"

failed=""
for n in "$@"; do
  dir=$OUT/$n in=$OUT/$n/test_data_set_0/input_0.pb
  host=$OUT/$n/out-x86_64 cross=$OUT/$n/out-$T
  rm -rf "$host" "$cross"
  if ! "$TCC" run "$dir/model.onnx" --input "$in" --output-dir "$host" \
      >"$OUT/$n.x86_64.log" 2>&1; then
    cat "$OUT/$n.x86_64.log"; echo "$n: FAIL: tcc run (x86_64) failed"
    failed="$failed $n"; continue
  fi
  t0=$(date +%s)
  if ! "$TCC" run "$dir/model.onnx" -target="$T" --input "$in" \
      --output-dir "$cross" >"$OUT/$n.$T.log" 2>&1; then
    cat "$OUT/$n.$T.log"; echo "$n: FAIL: tcc run -target=$T failed"
    failed="$failed $n"; continue
  fi
  t1=$(date +%s)
  a=$($PY "$HERE/../networks/compare.py" "$n/$T vs torch" \
      "$dir/test_data_set_0/output_0.pb" "$cross/output_0.pb") || failed="$failed $n"
  b=$($PY "$HERE/../networks/compare.py" "$n/$T vs x86_64" \
      "$host/output_0.pb" "$cross/output_0.pb") || failed="$failed $n"
  echo "$a"
  echo "$b run=$((t1 - t0))s"
done
if [ -n "$failed" ]; then echo "networks/$T: FAIL:$failed"; exit 1; fi
echo "networks/$T: all $# match"
