#!/usr/bin/python3
"""Helpers of bench_vs_ort.sh (Debian's /usr/bin/python3: onnx, numpy).

  tensors.py matmul OUT_DIR N      OUT_DIR/model.onnx: Y = A @ B, A an input [N, N], B a
                                   seeded initializer; test_data_set_0/{input_0,output_0}.pb
  tensors.py raw IN.pb OUT.raw     the tensor's float32 data as raw bytes; prints its dims
                                   as 1x3x224x224 (what ort_bench.js takes)
  tensors.py compare TCC.pb ORT.raw
                                   prints max |tcc - ort| / max |ort|; exit 1 above 1e-4
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "networks"))
from compare import load  # noqa: E402  one reader of TensorProto files

SEED = 20261203
TOLERANCE = 1e-4  # relative to max |ref|, the criterion of docs/networks.md


def matmul(out_dir, n):
    rng = np.random.default_rng(SEED)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["Y"])], f"matmul{n}",
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [n, n])],
        [numpy_helper.from_array(b, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(out_dir, "test_data_set_0"), exist_ok=True)
    onnx.save(model, os.path.join(out_dir, "model.onnx"))
    ref = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    for name, arr, tname in (("input_0.pb", a, "A"), ("output_0.pb", ref, "Y")):
        with open(os.path.join(out_dir, "test_data_set_0", name), "wb") as f:
            f.write(numpy_helper.from_array(arr, tname).SerializeToString())


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "matmul":
        matmul(args[0], int(args[1]))
    elif cmd == "raw":
        x = load(args[0])
        if x.dtype != np.float32:
            sys.exit(f"{args[0]}: {x.dtype} input; ort_bench.js takes float32 only")
        x.tofile(args[1])
        print("x".join(str(d) for d in x.shape) or "scalar")
    elif cmd == "compare":
        got = load(args[0]).astype(np.float64).ravel()
        ref = np.fromfile(args[1], dtype=np.float32).astype(np.float64)
        if got.size != ref.size:
            sys.exit(f"compare: tcc has {got.size} elements, onnxruntime {ref.size}")
        rel = np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), np.finfo(np.float32).tiny)
        print(f"{rel:.2e}")
        sys.exit(0 if rel <= TOLERANCE else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
