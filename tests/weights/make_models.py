"""Models for tests/weights/test_weights.sh (run with Debian's python3).

  make_models.py MODELS_DIR OUT_DIR

writes to OUT_DIR:
  a.onnx       models/cnn as it is
  b.onnx       the same architecture "retrained": every tensor initializer
               scaled by a seeded factor in [0.75, 1.25] (variances stay
               positive), the scalars as they are
  input.bin    the cnn's test input, raw float32
  pow2.onnx, pow3.onnx, pow2s.onnx
               y = Pow(x, e) * w * s + b with the exponent e a Constant node
               (2, 3, 2) and s a scalar initializer (0.5, 0.5, 0.75): a
               structural scalar stays in the code, so changing it changes
               the code; a trained one (a PReLU slope, say) is in the blob
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

models, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)

a = onnx.load(os.path.join(models, "cnn", "model.onnx"))
onnx.save(a, os.path.join(out, "a.onnx"))
rng = np.random.default_rng(7)
b = onnx.load(os.path.join(models, "cnn", "model.onnx"))
for init in b.graph.initializer:
    w = numpy_helper.to_array(init)
    if w.size > 1 and w.dtype == np.float32:
        w = (w * rng.uniform(0.75, 1.25, w.shape)).astype(np.float32)
        init.CopyFrom(numpy_helper.from_array(w, init.name))
onnx.save(b, os.path.join(out, "b.onnx"))

pb = onnx.TensorProto()
with open(os.path.join(models, "cnn", "test_data_set_0", "input_0.pb"), "rb") as f:
    pb.ParseFromString(f.read())
numpy_helper.to_array(pb).astype(np.float32).tofile(os.path.join(out, "input.bin"))

for name, e, s in (("pow2", 2, 0.5), ("pow3", 3, 0.5), ("pow2s", 2, 0.75)):
    g = helper.make_graph(
        [helper.make_node("Constant", [], ["e"],
                          value=numpy_helper.from_array(np.array(float(e), np.float32))),
         helper.make_node("Pow", ["x", "e"], ["p"]),
         helper.make_node("Mul", ["p", "w"], ["m"]),
         helper.make_node("Mul", ["m", "s"], ["ms"]),
         helper.make_node("Add", ["ms", "b"], ["y"])],
        "pow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
        [numpy_helper.from_array(np.linspace(-1, 1, 16, dtype=np.float32), "w"),
         numpy_helper.from_array(np.array([s], np.float32), "s"),
         numpy_helper.from_array(np.full(16, 0.5, np.float32), "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, name + ".onnx"))
