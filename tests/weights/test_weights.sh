#!/bin/sh
# Weights apart from code (--weights=external): a retrained model compiles
# to the same object, and that object runs the new blob; a blob that does
# not fit is refused with its status; x86_64, armv8 (QEMU) and cortex-m4
# (bare metal) run external weights as they run embedded ones.
# usage: test_weights.sh TCC RUNTIME_LIB     (RUNTIME_LIB: libtccrt.a)
set -u
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
TCC=$(abs "$1") RTLIB=$(abs "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
/usr/bin/python3 "$HERE/make_models.py" "$ROOT/models" "$T" || exit 1
cd "$T" || exit 1
pass=0; fail=0
expect() {
  if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
# check STATUS EXPECTED_STDERR ARGS... : tcc's exit status and stderr, exactly.
check() {
  want_status=$1; want_err=$2; shift 2
  "$TCC" "$@" > stdout 2> stderr; status=$?
  printf '%s\n' "$want_err" > want
  [ -n "$want_err" ] || : > want
  if [ "$status" -eq "$want_status" ] && diff -u want stderr > diff; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL: tcc $* (exit $status, expected $want_status)"; cat diff
  fi
}
# close A B : two raw float32 files agree within 1e-5 (and have the same size).
close() {
  /usr/bin/python3 -c "
import sys, numpy as np
a, b = np.fromfile(sys.argv[1], np.float32), np.fromfile(sys.argv[2], np.float32)
sys.exit(0 if a.size == b.size and a.size and np.abs(a - b).max() <= 1e-5 else 1)" "$1" "$2"
}
# raw OUT.pb RAW : the floats of a TensorProto.
raw() {
  /usr/bin/python3 -c "
import sys, onnx
from onnx import numpy_helper
t = onnx.TensorProto(); t.ParseFromString(open(sys.argv[1], 'rb').read())
numpy_helper.to_array(t).tofile(sys.argv[2])" "$1" "$2"
}

# The code of a.onnx and its blob; the "retrained" b.onnx: only the blob.
check 0 "" compile a.onnx --weights=external -name=net -o a
expect "compile a: net.o net.h net.weights" "[ -f a/net.o ] && [ -f a/net.h ] && [ -f a/net.weights ]"
check 0 "" compile b.onnx --weights=external --emit=obj,weights -name=net -o b
expect "--emit=obj,weights: no header" "[ -f b/net.o ] && [ -f b/net.weights ] && [ ! -f b/net.h ]"
expect "retrained weights, byte-identical code" "cmp -s a/net.o b/net.o"
expect "retrained weights, a new blob" "! cmp -s a/net.weights b/net.weights"
size=$(wc -c < a/net.weights | tr -d ' ')
expect "the header gives the blob's size ($size)" "grep -q '^#define NET_WEIGHTS_SIZE ${size}u' a/net.h"
expect "the blob's header: magic, format 1, header size 64" \
  "[ \"\$(od -An -tx1 -N16 a/net.weights | tr -d ' \n')\" = 544343570d0a1a0a0100000040000000 ]"
expect "no weights in the object" "! nm a/net.o | grep -q 'net_w_conv\|net_weights'"

# An application: a/net.o with a blob it reads, checks once and hands over.
cc -O1 -Wall -Wextra -Werror -I"$ROOT/include" -Ia "$HERE/use_blob.c" a/net.o "$RTLIB" -lm \
  -o use_blob || { echo "FAIL: cannot build use_blob"; exit 1; }
./use_blob b/net.weights input.bin out_b.bin > said
expect "a's code, b's blob: check and run ok" "printf 'check: ok\nrun: ok\n' | cmp -s - said"
./use_blob a/net.weights input.bin out_a.bin > said
"$TCC" run b.onnx --input "$ROOT/models/cnn/test_data_set_0/input_0.pb" --output-dir ref_b -q &&
  raw ref_b/output_0.pb ref_b.bin
"$TCC" run a.onnx --input "$ROOT/models/cnn/test_data_set_0/input_0.pb" --output-dir ref_a -q &&
  raw ref_a/output_0.pb ref_a.bin
expect "a's code with b's blob gives b's outputs" "close out_b.bin ref_b.bin"
expect "a's code with a's blob gives a's outputs" "close out_a.bin ref_a.bin"
expect "and those differ" "! close ref_a.bin ref_b.bin"

# Blobs that do not fit: each with its status, before anything runs.
./use_blob a/net.weights input.bin x.bin null > said
expect "no blob: weights missing" "printf 'check: weights missing\nrun: weights missing\n' | cmp -s - said"
./use_blob a/net.weights input.bin x.bin misaligned > said
expect "misaligned blob" "printf 'check: weights misaligned\nrun: weights misaligned\n' | cmp -s - said"
./use_blob a/net.weights input.bin x.bin short > said
expect "one byte short: not this code's" \
  "printf 'check: weights not made for this code\nrun: weights not made for this code\n' | cmp -s - said"
cp b/net.weights bad.weights
printf '\377' | dd of=bad.weights bs=1 seek=$((size - 100)) conv=notrunc 2> /dev/null
./use_blob bad.weights input.bin x.bin > said
expect "a flipped byte: checksum mismatch (the run checks only the header)" \
  "printf 'check: weights checksum mismatch\nrun: ok\n' | cmp -s - said"
check 0 "" compile "$ROOT/models/mlp/model.onnx" --weights=external -name=net -o mlp
./use_blob mlp/net.weights input.bin x.bin > said
expect "another model's blob: not this code's" \
  "printf 'check: weights not made for this code\nrun: weights not made for this code\n' | cmp -s - said"
# A structural scalar (Pow's exponent, a Constant node) stays in the code:
# changing it changes the code and the id.  A trained scalar (an
# initializer) is in the blob: retrained, the code stays.
for m in pow2 pow3 pow2s; do check 0 "" compile $m.onnx --weights=external -name=net -o $m; done
expect "a changed structural scalar: another object" "! cmp -s pow2/net.o pow3/net.o"
expect "a changed structural scalar: another id" \
  "[ \"\$(grep WEIGHTS_ID pow2/net.h)\" != \"\$(grep WEIGHTS_ID pow3/net.h)\" ]"
expect "a retrained scalar initializer: the same object, the same id, another blob" \
  "cmp -s pow2/net.o pow2s/net.o && cmp -s pow2/net.h pow2s/net.h && ! cmp -s pow2/net.weights pow2s/net.weights"

# tcc run with external weights, on this machine and under emulation: the
# same outputs as with the weights in the object.
for t in x86_64 armv8 cortex-m4; do
  "$TCC" run b.onnx -target=$t -q --input "$ROOT/models/cnn/test_data_set_0/input_0.pb" \
    --output-dir emb_$t && raw emb_$t/output_0.pb emb_$t.bin
  "$TCC" run b.onnx -target=$t -q --weights=external \
    --input "$ROOT/models/cnn/test_data_set_0/input_0.pb" --output-dir ext_$t &&
    raw ext_$t/output_0.pb ext_$t.bin
  expect "tcc run -target=$t --weights=external: the embedded outputs" "close ext_$t.bin emb_$t.bin"
done

# The report and the flags.
check 0 "" compile b.onnx --weights=external -name=net -o r --report=r/net.json
expect "report: placement and blob size" "/usr/bin/python3 -c \"
import json; w = json.load(open('r/net.json'))['weights']
assert w['placement'] == 'external' and w['blob_bytes'] == $size, w\""
check 1 "tcc: error: --emit=weights writes the blob of --weights=external; add --weights=external (without it the weights are in the object)" compile a.onnx --emit=obj,weights -o e
expect "refused: nothing written" "[ ! -e e/a.o ]"
check 1 "tcc: error: invalid --weights 'flash': expected embedded (in the object, the default) or external (in <name>.weights, handed over at run time)" compile a.onnx --weights=flash -o e

echo "weights: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
