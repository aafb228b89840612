#!/bin/sh
# Replays every kept difftest failure (tests/difftest/regressions/<case>/: model.onnx,
# input_<i>.pb, README saying what it was) on x86_64 and armv8: tcc -O2 and -O0
# against each other and against ONNX Runtime.  Fails when any case fails again.
#   usage: run.sh BUILD/tcc ORT_DIR
set -eu
TCC=$1 ORT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
n=0 bad=0
for d in "$HERE"/*/; do
  [ -f "$d/model.onnx" ] || continue
  for t in x86_64 armv8; do
    n=$((n + 1))
    /usr/bin/python3 "$HERE/../run.py" --tcc "$TCC" --ort-dir "$ORT" --target "$t" --replay "$d" || bad=$((bad + 1))
  done
done
echo "difftest regressions: $((n - bad)) passed, $bad failed"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
