"""A model big enough to be compiled in several units (docs/backend.md):
BLOCKS residual blocks x + relu(conv3x3(x) + b), each with weights of its
own, then Flatten and a Gather by run-time indices (an rt.check in the last
unit).  Writes units.onnx, the inputs and PyTorch's output.

usage: units_model.py OUT_DIR [BLOCKS]"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
blocks = int(sys.argv[2]) if len(sys.argv) > 2 else 48
C, H, W = 8, 10, 10
rng = np.random.default_rng(7)
nodes, inits = [], []
x = torch.from_numpy(rng.standard_normal((1, C, H, W)).astype(np.float32))
idx = np.array([0, 799, 5, 412], dtype=np.int64)
ref, prev = x, "x"
for i in range(blocks):
    w = (rng.standard_normal((C, C, 3, 3)) * 0.08).astype(np.float32)
    b = (rng.standard_normal(C) * 0.1).astype(np.float32)
    inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
    nodes += [
        helper.make_node("Conv", [prev, f"w{i}", f"b{i}"], [f"c{i}"], name=f"conv{i}",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"),
        helper.make_node("Add", [prev, f"r{i}"], [f"y{i}"], name=f"add{i}"),
    ]
    ref = ref + torch.relu(torch.nn.functional.conv2d(ref, torch.from_numpy(w),
                                                      torch.from_numpy(b), padding=1))
    prev = f"y{i}"
nodes += [helper.make_node("Flatten", [prev], ["flat"], name="flatten"),
          helper.make_node("Gather", ["flat", "idx"], ["out"], name="pick", axis=1)]
graph = helper.make_graph(
    nodes, "units",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, H, W]),
     helper.make_tensor_value_info("idx", TensorProto.INT64, [4])],
    [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "units.onnx"))


def save(name, array):
    with open(os.path.join(out, name), "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


save("x.pb", x.numpy())
save("idx.pb", idx)
save("idx_bad.pb", np.array([0, 800, 5, 1], dtype=np.int64))
save("ref.pb", ref.reshape(1, -1)[:, idx].numpy())
