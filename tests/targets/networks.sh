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
EXPORTER=$HERE/../../models/export_networks.py
PY=/usr/bin/python3

if ! $PY -c "import torch, torchvision" 2>/dev/null; then
  echo "networks/$T: SKIP: python3-torch / python3-torchvision are not installed"
  exit 77
fi
mkdir -p "$OUT"
stale=""
for n in "$@"; do
  ref=$OUT/$n/test_data_set_0/output_0.pb
  if [ ! -f "$ref" ] || [ "$EXPORTER" -nt "$ref" ]; then stale="$stale $n"; fi
done
if [ -n "$stale" ]; then
  echo "networks/$T: exporting$stale"
  $PY "$EXPORTER" "$OUT" $stale >"$OUT.export.log" 2>&1 || {
    cat "$OUT.export.log"; echo "networks/$T: FAIL: the export failed"; exit 1; }
fi

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
