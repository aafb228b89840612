#!/bin/sh
# Cortex-M memory fit (docs/targets.md): `tcc compile -target=cortex-m4|m7|m55`
# reports the flash and RAM a model needs, and refuses one that does not fit
# the board, naming both figures and the board's limits.  Exact messages for
# the sample CNN (fits), a model whose weights overflow the flash, one whose
# buffers overflow the RAM, ResNet-18, and MobileNetV2 in f32 (refused on
# cortex-m55) and int8 (fits, runs there, x86_64's output); the networks are
# exported into OUT_DIR when torch is installed, as
# tests/networks/test_networks.sh does.
#
# usage: fit.sh TCC OUT_DIR    Exit 0 when all pass, 1 on a failure, 77 (the
# rest passed) when python3-torch is missing for ResNet-18.
set -u
[ $# -eq 2 ] || { echo "usage: $0 TCC OUT_DIR" >&2; exit 2; }
TCC=$1 OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
fails=0

# check EXIT_STATUS EXPECTED_STDERR tcc-args...: exit status, the exact
# diagnostic (stderr's first line), and on a refusal nothing written and the
# per-layer table after the diagnostic (docs/cli.md "The compile report").  The size of the generated code (and a
# flash total in KiB, which it dominates) reads as N: it moves with codegen
# work, the weights, buffers and limits do not.
check() {
  want_rc=$1 want=$2
  shift 2
  rm -rf "$W/o"
  "$TCC" "$@" -o "$W/o" >/dev/null 2>"$W/err"
  rc=$?
  got=$(sed -e 's/[0-9.]* [KM]iB of flash (code/N KiB of flash (code/' \
            -e 's/(code [0-9.]* KiB/(code N KiB/' "$W/err" | head -1)
  table=$(sed -n 2p "$W/err")
  if [ "$rc" -ne 0 ] && [ "${table#node }" = "$table" ]; then
    echo "FAIL: tcc $*: no per-layer table after the refusal"; fails=$((fails + 1))
  elif [ "$rc" -ne "$want_rc" ] || [ "$got" != "$want" ]; then
    echo "FAIL: tcc $*"
    echo "  want (exit $want_rc): $want"
    echo "  got  (exit $rc): $got"
    fails=$((fails + 1))
  elif [ "$want_rc" -ne 0 ] && [ -e "$W/o" ]; then
    echo "FAIL: tcc $*: refused but wrote $W/o"; fails=$((fails + 1))
  else
    echo "ok: tcc $*"
  fi
}

# A MatMul with 4160 KiB of weights; a Relu on 12 MiB in, 12 MiB out.
$PY - "$W" <<'PY'
import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save
d = sys.argv[1]
w = numpy_helper.from_array(np.full((1024, 1040), 0.5, np.float32), "w")
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "big",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1040])], [w])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/big_weights.onnx")
g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "wide",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 1024, 1024])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 1024, 1024])])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/big_io.onnx")
PY

CNN=$ROOT/models/cnn/model.onnx
check 0 "$CNN: note: model 'cnn' on cortex-m4 (mps2-an386): N KiB of flash (code N KiB + weights and constants 5.7 KiB) and 51.5 KiB of RAM (workspace 32.4 KiB + inputs and outputs 3.1 KiB + data 0.0 KiB + stack margin 16.0 KiB)" \
  compile "$CNN" -name=cnn -target=cortex-m4
check 1 "$W/big_weights.onnx: error: model 'big' does not fit cortex-m7 (mps2-an500): it needs N KiB of flash (code N KiB + weights and constants 4.06 MiB) and 24.1 KiB of RAM (workspace 0.0 KiB + inputs and outputs 8.1 KiB + data 0.0 KiB + stack margin 16.0 KiB); the board has 3.88 MiB of flash for the model (4.00 MiB less 128.0 KiB for the runtime) and 16.00 MiB of RAM" \
  compile "$W/big_weights.onnx" -name=big -target=cortex-m7
check 1 "$W/big_io.onnx: error: model 'wide' does not fit cortex-m4 (mps2-an386): it needs N KiB of flash (code N KiB + weights and constants 0.0 KiB) and 24.02 MiB of RAM (workspace 0.0 KiB + inputs and outputs 24.00 MiB + data 0.0 KiB + stack margin 16.0 KiB); the board has 3.88 MiB of flash for the model (4.00 MiB less 128.0 KiB for the runtime) and 16.00 MiB of RAM" \
  compile "$W/big_io.onnx" -name=wide -target=cortex-m4
# The Cortex-M55 board (mps3-an547) has 8 MiB of flash: the same weights fit.
check 0 "$W/big_weights.onnx: note: model 'big' on cortex-m55 (mps3-an547): N KiB of flash (code N KiB + weights and constants 4.06 MiB) and 24.1 KiB of RAM (workspace 0.0 KiB + inputs and outputs 8.1 KiB + data 0.0 KiB + stack margin 16.0 KiB)" \
  compile "$W/big_weights.onnx" -name=big -target=cortex-m55
check 1 "$W/big_io.onnx: error: model 'wide' does not fit cortex-m55 (mps3-an547): it needs N KiB of flash (code N KiB + weights and constants 0.0 KiB) and 24.02 MiB of RAM (workspace 0.0 KiB + inputs and outputs 24.00 MiB + data 0.0 KiB + stack margin 16.0 KiB); the board has 7.88 MiB of flash for the model (8.00 MiB less 128.0 KiB for the runtime) and 16.00 MiB of RAM" \
  compile "$W/big_io.onnx" -name=wide -target=cortex-m55

# ResNet-18: 44.6 MiB of weights.
if $PY -c "import torch, torchvision" 2>/dev/null; then
  R=$OUT/resnet18/model.onnx
  if [ ! -f "$R" ] || [ "$ROOT/models/export_networks.py" -nt "$R" ]; then
    $PY "$ROOT/models/export_networks.py" "$OUT" resnet18 >"$W/export.log" 2>&1 ||
      { cat "$W/export.log"; echo "FAIL: exporting resnet18"; exit 1; }
  fi
  check 1 "$R: error: model 'resnet18' does not fit cortex-m4 (mps2-an386): it needs N KiB of flash (code N KiB + weights and constants 44.57 MiB) and 4.42 MiB of RAM (workspace 3.83 MiB + inputs and outputs 591.9 KiB + data 0.0 KiB + stack margin 16.0 KiB); the board has 3.88 MiB of flash for the model (4.00 MiB less 128.0 KiB for the runtime) and 16.00 MiB of RAM" \
    compile "$R" -name=resnet18 -target=cortex-m4
  # The edge payoff of int8 (docs/compression.md): MobileNetV2 in f32 does
  # not fit cortex-m55's flash; in int8 (calibrated on this machine, on one
  # seeded image) it fits, runs there under QEMU and gives x86_64's output.
  V=$OUT/mobilenet_v2
  if [ ! -f "$V/model.onnx" ] || [ "$ROOT/models/export_networks.py" -nt "$V/model.onnx" ]; then
    $PY "$ROOT/models/export_networks.py" "$OUT" mobilenet_v2 >"$W/export.log" 2>&1 ||
      { cat "$W/export.log"; echo "FAIL: exporting mobilenet_v2"; exit 1; }
  fi
  check 1 "$V/model.onnx: error: model 'mv2' does not fit cortex-m55 (mps3-an547): it needs N KiB of flash (code N KiB + weights and constants 13.31 MiB) and 7.10 MiB of RAM (workspace 6.51 MiB + inputs and outputs 591.9 KiB + data 0.0 KiB + stack margin 16.0 KiB); the board has 7.88 MiB of flash for the model (8.00 MiB less 128.0 KiB for the runtime) and 16.00 MiB of RAM" \
    compile "$V/model.onnx" -name=mv2 -target=cortex-m55
  mkdir -p "$W/calib/test_data_set_0"
  $PY -c "
import sys, numpy as np
from onnx import numpy_helper
x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
open(sys.argv[1], 'wb').write(numpy_helper.from_array(x, 'input').SerializeToString())
" "$W/calib/test_data_set_0/input_0.pb"
  Q="-quantize=int8 --calib=$W/calib --calib-cache=$W/calib.json"
  # shellcheck disable=SC2086 # Q is a list of flags
  check 0 "$V/model.onnx: note: model 'mv2' on cortex-m55 (mps3-an547): N KiB of flash (code N KiB + weights and constants 3.65 MiB) and 7.10 MiB of RAM (workspace 6.51 MiB + inputs and outputs 591.9 KiB + data 0.0 KiB + stack margin 16.0 KiB)" \
    compile "$V/model.onnx" -name=mv2 -target=cortex-m55 $Q
  for t in x86_64 cortex-m55; do
    # shellcheck disable=SC2086
    "$TCC" run "$V/model.onnx" --input "$V/test_data_set_0/input_0.pb" -target=$t $Q \
      --output-dir "$W/int8-$t" -q || { echo "FAIL: int8 MobileNetV2 on $t"; fails=$((fails + 1)); }
  done
  if $PY -c "
import sys, numpy as np
from onnx import TensorProto, numpy_helper
def read(p):
    t = TensorProto(); t.ParseFromString(open(p, 'rb').read()); return numpy_helper.to_array(t)
a, b = read(sys.argv[1]), read(sys.argv[2])
err = float(np.abs(a - b).max() / np.abs(a).max())
print(f'int8 MobileNetV2 on cortex-m55 against x86_64: max err / max|x86_64| {err:.2e}')
sys.exit(0 if err <= 1e-5 and a.argmax() == b.argmax() else 1)
" "$W/int8-x86_64/output_0.pb" "$W/int8-cortex-m55/output_0.pb"; then
    echo "ok: int8 MobileNetV2 runs on cortex-m55 as on x86_64"
  else
    echo "FAIL: int8 MobileNetV2 on cortex-m55 differs from x86_64"; fails=$((fails + 1))
  fi
else
  skipped=1
fi
[ "$fails" -eq 0 ] || { echo "fit: $fails failed"; exit 1; }
[ -z "${skipped:-}" ] || { echo "fit: SKIP: resnet18 needs python3-torch (tests/install-deps.sh --all)"; exit 77; }
echo "fit: all pass"
