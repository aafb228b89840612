#!/bin/sh
# Networks with run-time dimensions (docs/networks.md), each compiled ONCE
# with its -dim ranges, linked once with tests/networks/dyn_driver.c, and run
# at the sizes of each of its test data sets; each output is compared with
# the reference's (compare.py tolerances).
#
#   test_dynamic.sh TCC OUT_DIR
#       the networks that `export_networks.py --list-dynamic` names (a
#       Transformer encoder block, a tiny BERT), exported with PyTorch
#   test_dynamic.sh TCC OUT_DIR MODEL_DIR "DIM_FLAGS"
#       one shipped model and its data sets (models/llm_block: the
#       decoder block with a KV cache, outputs from ONNX Runtime)
#
# Exit 0 all match, 1 not, 77 no torch.
set -u
[ $# -eq 2 ] || [ $# -eq 4 ] || { echo "usage: $0 TCC OUT_DIR [MODEL_DIR DIM_FLAGS]" >&2; exit 2; }
TCC=$1 OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ $# -eq 4 ]; then
  PY=/usr/bin/python3
  LIST="$(basename "$3") $4"
  SRC=$(cd "$3" && pwd)
else
  . "$HERE/export.sh"
  LIST=$($PY "$EXPORTER" --list-dynamic) || { echo "dynamic: FAIL: --list-dynamic"; exit 1; }
  # shellcheck disable=SC2046
  networks_export dynamic "$OUT" $(echo "$LIST" | cut -d' ' -f1)
fi
RTLIB=$(dirname "$TCC")/libtccrt.a
failed=0 total=0
while read -r NAME DIMFLAG; do
  dir=${SRC:-$OUT/$NAME} bin=$OUT/$NAME/bin
  rm -rf "$bin"; mkdir -p "$bin"
  # shellcheck disable=SC2086
  "$TCC" compile "$dir/model.onnx" $DIMFLAG -name=net -o "$bin" || {
    echo "$NAME: FAIL: tcc compile $DIMFLAG"; failed=1; continue; }
  # The header names its run-time dims only in macros: NET_DIM_seq 0.
  table=$(sed -n 's/^#define NET_DIM_\([A-Za-z0-9_]*\) .*/{"\1", NET_DIM_\1},/p' "$bin/net.h")
  table=$(echo "$table" | tr -d '\n')  # one -D argument: no newlines
  ${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -I"$ROOT/include" -I"$bin" \
    "-DDYN_DIMS=$table" -o "$bin/run" "$HERE/dyn_driver.c" "$bin/net.o" "$RTLIB" -lm || {
    echo "$NAME: FAIL: link"; failed=1; continue; }
  n=0
  for set in "$dir"/test_data_set_*; do
    # Raw inputs for the driver; prints the run-time sizes (seq=37) that the
    # model's dim_params take in this data set, then the input files.
    args=$($PY - "$dir/model.onnx" "$set" "$bin" <<'PY'
import glob, os, sys
import onnx
from onnx import TensorProto, numpy_helper
model, data, out = sys.argv[1:4]
g = onnx.load(model, load_external_data=False).graph
dims, files = {}, []
for i, vi in enumerate(g.input):
    t = TensorProto()
    t.ParseFromString(open(os.path.join(data, f"input_{i}.pb"), "rb").read())
    a = numpy_helper.to_array(t)
    for d, size in zip(vi.type.tensor_type.shape.dim, a.shape):
        if d.dim_param:
            dims[d.dim_param] = size
    files.append(os.path.join(out, f"in_{i}.raw"))
    a.tofile(files[-1])
print(" ".join([f"{k}={v}" for k, v in sorted(dims.items())] + files))
PY
) || { echo "$NAME: FAIL: reading $set"; failed=1; continue; }
    outs="" k=0
    while [ -f "$set/output_$k.pb" ]; do outs="$outs $bin/out_$k.raw"; k=$((k + 1)); done
    sizes=$(echo "$args" | tr ' ' '\n' | grep = | tr '\n' ' ')
    # shellcheck disable=SC2086
    if ! "$bin/run" $args $outs; then
      echo "$NAME $sizes: FAIL: the run failed"; failed=1; continue
    fi
    k=0
    while [ -f "$set/output_$k.pb" ]; do
      $PY "$HERE/compare.py" "$NAME ${sizes}output $k" "$set/output_$k.pb" "$bin/out_$k.raw" ||
        failed=1
      k=$((k + 1))
    done
    n=$((n + 1))
  done
  echo "dynamic: $NAME compiled once ($DIMFLAG), run at $n sizes"
  total=$((total + 1))
done <<EOF
$LIST
EOF
[ $failed -eq 0 ] || { echo "dynamic: FAIL"; exit 1; }
echo "dynamic: $total networks, each compiled once, all sizes match"
