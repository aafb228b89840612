#!/usr/bin/python3
"""Models for the compile-scaling benchmark (tests/bench/compile_scaling.sh).

usage: compile_models.py chain N OUT.onnx
       compile_models.py transformer LAYERS OUT_DIR
chain: N Neg nodes on a 4-element tensor.  transformer: LAYERS encoder
layers (d_model 1024, 16 heads, FFN 4096, seq 128, pre-LayerNorm, GELU in
its erf form), seeded weights saved as external data (OUT_DIR/model.onnx
and OUT_DIR/weights.bin): 24 layers are 302 M parameters, 1.21 GB."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def chain(n, path):
    nodes, prev = [], "x"
    for i in range(n):
        out = "y" if i == n - 1 else f"t{i}"
        nodes.append(helper.make_node("Neg", [prev], [out], name=f"n{i}"))
        prev = out
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def transformer(layers, out_dir, d=1024, heads=16, ffn=4096, seq=128):
    rng = np.random.default_rng(0)
    nodes, inits = [], []

    def weight(name, shape, scale):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def const(name, value):
        inits.append(numpy_helper.from_array(np.array(value), name))
        return name

    def node(op, ins, out=None, **attrs):
        out = out or f"{op}_{len(nodes)}"
        nodes.append(helper.make_node(op, ins, [out], name=f"n{len(nodes)}", **attrs))
        return out

    dh = d // heads
    const("shape_heads", np.array([1, seq, heads, dh], np.int64))
    const("shape_back", np.array([1, seq, d], np.int64))
    const("scale", np.float32(1 / np.sqrt(dh)))
    const("sqrt2", np.float32(np.sqrt(2)))
    const("one", np.float32(1))
    const("half", np.float32(0.5))
    x = "x"
    for l in range(layers):
        ln = node("LayerNormalization", [x, weight(f"ln1_g{l}", [d], 0.1), weight(f"ln1_b{l}", [d], 0.1)],
                  axis=-1, epsilon=1e-5)

        def linear(name, inp, k, n, scale=0.03):
            return node("Add", [node("MatMul", [inp, weight(f"{name}{l}", [k, n], scale)]),
                                weight(f"{name}_b{l}", [n], 0.01)])

        def split_heads(t):
            return node("Transpose", [node("Reshape", [t, "shape_heads"])], perm=[0, 2, 1, 3])

        q, k, v = (split_heads(linear(p, ln, d, d)) for p in ("q", "k", "v"))
        scores = node("Mul", [node("MatMul", [q, node("Transpose", [k], perm=[0, 1, 3, 2])]), "scale"])
        ctx = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), "shape_back"])
        x = node("Add", [x, linear("o", ctx, d, d)])
        ln2 = node("LayerNormalization", [x, weight(f"ln2_g{l}", [d], 0.1), weight(f"ln2_b{l}", [d], 0.1)],
                   axis=-1, epsilon=1e-5)
        u = linear("ffn1_", ln2, d, ffn)
        gelu = node("Mul", [node("Mul", [u, node("Add", [node("Erf", [node("Div", [u, "sqrt2"])]), "one"])]),
                            "half"])
        x = node("Add", [x, linear("ffn2_", gelu, ffn, d, 0.015)], "y" if l == layers - 1 else None)
    graph = helper.make_graph(nodes, "transformer",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, d])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, d])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    os.makedirs(out_dir, exist_ok=True)
    onnx.save_model(model, os.path.join(out_dir, "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=1024)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("chain", "transformer"):
        sys.exit(__doc__)
    (chain if sys.argv[1] == "chain" else transformer)(int(sys.argv[2]), sys.argv[3])
