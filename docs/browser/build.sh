#!/bin/sh
# Builds the browser example (docs/browser/README.md) into OUT_DIR: the sample
# MLP compiled for wasm32 by tcc, linked with the runtime and glue.c into a
# WASI reactor (mlp.wasm), its test input as raw float32 (input.bin), and the
# page itself.  Serve OUT_DIR over HTTP and open index.html.
#
# usage: docs/browser/build.sh TCC OUT_DIR       (needs clang-19, lld-19, wasi-libc)
set -eu
[ $# -eq 2 ] || { echo "usage: $0 TCC OUT_DIR" >&2; exit 2; }
TCC=$1 OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
mkdir -p "$OUT"
"$TCC" compile "$ROOT/models/mlp/model.onnx" -target=wasm32 -name=mlp -o "$OUT"
clang-19 --target=wasm32-wasi -mexec-model=reactor -O2 -w \
  -I"$ROOT/include" -I"$OUT" -include mlp.h -DMODEL=mlp -DMODEL_WORKSPACE=MLP_WORKSPACE_SIZE \
  "$HERE/glue.c" "$ROOT"/runtime/rt.c "$OUT/mlp.o" -lm -o "$OUT/mlp.wasm"
# The test input, as the raw float32 bytes the model reads.
/usr/bin/python3 - "$ROOT/models/mlp/test_data_set_0/input_0.pb" "$OUT/input.bin" <<'PY'
import sys
from onnx import TensorProto, numpy_helper
t = TensorProto()
t.ParseFromString(open(sys.argv[1], "rb").read())
numpy_helper.to_array(t).astype("<f4").tofile(sys.argv[2])
PY
cp "$HERE/index.html" "$HERE/run.js" "$OUT/"
