#!/bin/sh
# Real networks end to end (docs/networks.md): export them from PyTorch with
# seeded weights (models/export_networks.py, skipped when OUT_DIR is newer than
# the exporter), `tcc run` each on its seeded input, and compare with
# PyTorch's own output (compare.py: max abs error <= 1e-4 * max|reference|,
# cosine >= 0.9999).  Prints one line per network and the tcc run time.
#
# usage: test_networks.sh TCC OUT_DIR [NAMES...]    (no NAMES: every network)
# With TUNING=DIR, a network with a tuning log DIR/<name>.json (tcc tune,
# docs/tuning.md) runs with --tuning=that log: the tuned objects' check.
# Exit 0 when all match, 1 when one does not, 77 (skipped) without torch.
set -u
[ $# -ge 2 ] || { echo "usage: $0 TCC OUT_DIR [NAMES...]" >&2; exit 2; }
TCC=$1 OUT=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/export.sh"
[ $# -gt 0 ] || set -- $($PY "$EXPORTER" --list)
networks_export networks "$OUT" "$@"

failed=""
for n in "$@"; do
  dir=$OUT/$n res=$OUT/$n/tcc-out
  rm -rf "$res"
  tuning=""
  [ -z "${TUNING:-}" ] || [ ! -f "$TUNING/$n.json" ] || tuning=--tuning=$TUNING/$n.json
  t0=$(date +%s%N)
  if ! "$TCC" run "$dir/model.onnx" ${tuning:+"$tuning"} --input "$dir/test_data_set_0/input_0.pb" \
      --output-dir "$res" >"$OUT/$n.log" 2>&1; then
    cat "$OUT/$n.log"; echo "$n: FAIL: tcc run failed"; failed="$failed $n"; continue
  fi
  t1=$(date +%s%N)
  line=$($PY "$HERE/compare.py" "$n" "$dir/test_data_set_0/output_0.pb" "$res/output_0.pb") ||
    failed="$failed $n"
  echo "$line tcc_run=$(( (t1 - t0) / 1000000 ))ms${tuning:+ ($tuning)}"
done
if [ -n "$failed" ]; then echo "networks: FAIL:$failed"; exit 1; fi
echo "networks: all $# match"
