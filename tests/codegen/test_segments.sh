#!/bin/sh
# Segments of bounded size for graphs whose nodes have no names
# (docs/backend.md): a chain of 3,000 unnamed Neg nodes (onnx.helper leaves
# NodeProto.name unset, so every node's name is protobuf-c's one "") must
# still be cut between its nodes: the object holds several <name>_seg<K>
# functions and units, compiles in seconds, and runs: 3,000 negations give
# the input back.
# usage: test_segments.sh TCC
set -u
TCC=$1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" <<'PY' || exit 1
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
out = sys.argv[1]
nodes, prev = [], "x"
for i in range(3000):
    nodes.append(helper.make_node("Neg", [prev], [f"y{i}"]))
    prev = f"y{i}"
graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [4])])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), f"{out}/chain.onnx")
with open(f"{out}/x.pb", "wb") as f:
    f.write(numpy_helper.from_array(np.array([1.5, -2.0, 0.25, 7.0], dtype=np.float32)).SerializeToString())
PY
fail=0
start=$(date +%s)
"$TCC" compile "$T/chain.onnx" -o "$T/out" || { echo "FAIL: compile"; exit 1; }
secs=$(( $(date +%s) - start ))
segs=$(readelf -sW "$T/out/chain.o" | grep -c ' chain_seg[0-9]*$')
units=$(readelf -sW "$T/out/chain.o" | grep -c ' FILE ')
echo "unnamed chain of 3000 nodes: $segs segments, $units units, compiled in about $secs s"
if [ "$segs" -lt 5 ] || [ "$units" -lt 2 ]; then
  echo "FAIL: $segs segments and $units units, want at least 5 and 2"; fail=1
fi
# about 1 s when cut; one function of 3,000 nodes took 24 s
if [ "$secs" -gt 12 ]; then echo "FAIL: the compile took $secs s"; fail=1; fi
got=$("$TCC" run "$T/chain.onnx" --input "$T/x.pb" 2>&1)
want="output 0 'y2999' f32[4]: 1.5 -2 0.25 7"
if [ "$got" != "$want" ]; then echo "FAIL: run printed '$got', want '$want'"; fail=1; fi
[ $fail -eq 0 ] && echo "segments: pass"
exit $fail
