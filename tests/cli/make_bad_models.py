#!/usr/bin/python3
"""Writes the hostile and broken models the CLI tests feed to tcc.

usage: /usr/bin/python3 tests/cli/make_bad_models.py OUT_DIR
Each file is built with onnx.helper but never checked, so it can be wrong in
exactly one way.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def model(nodes, inputs, outputs, inits=(), opset=13, domain=""):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(domain, opset)])


def vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def relu(x="x", y="y", name="relu0"):
    return helper.make_node("Relu", [x], [y], name)


def cases():
    yield "unknown_op", model([helper.make_node("FooBar", ["x"], ["y"], "foo0")],
                              [vi("x", [2])], [vi("y", [2])])
    yield "opset_99", model([relu()], [vi("x", [2])], [vi("y", [2])], opset=99)
    yield "unknown_domain", model(
        [helper.make_node("Relu", ["x"], ["y"], "r", domain="com.example")],
        [vi("x", [2])], [vi("y", [2])])
    yield "undefined_value", model([relu("nowhere")], [vi("x", [2])], [vi("y", [2])])
    yield "missing_initializer", model(
        [helper.make_node("Add", ["x", "bias"], ["y"], "add0")], [vi("x", [2])], [vi("y", [2])])
    yield "cycle", model([helper.make_node("Add", ["x", "b"], ["a"], "add0"),
                          helper.make_node("Relu", ["a"], ["b"], "relu0"),
                          helper.make_node("Relu", ["a"], ["y"], "relu1")],
                         [vi("x", [2])], [vi("y", [2])])
    yield "dtype_mismatch", model([helper.make_node("Add", ["x", "w"], ["y"], "add0")],
                                  [vi("x", [2])], [vi("y", [2])],
                                  [numpy_helper.from_array(np.array([1, 2], np.int64), "w")])
    yield "rank_mismatch", model([helper.make_node("Conv", ["x", "w"], ["y"], "conv0")],
                                 [vi("x", [1, 2, 5])], [vi("y", [1, 4, 3, 3])],
                                 [numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float32), "w")])
    yield "matmul_mismatch", model([helper.make_node("MatMul", ["x", "w"], ["y"], "mm0")],
                                 [vi("x", [2, 3])], [vi("y", [2, 4])],
                                 [numpy_helper.from_array(np.ones((5, 4), np.float32), "w")])
    yield "output_type_mismatch", model([relu()], [vi("x", [2])], [vi("y", [3])])
    yield "no_output_value", model([relu()], [vi("x", [2])], [vi("zz", [2])])
    yield "symbolic_dim", model([relu()], [vi("x", [1, "seq"])], [vi("y", [1, "seq"])])
    short = numpy_helper.from_array(np.ones(4, np.float32), "w")
    short.raw_data = short.raw_data[:7]
    yield "short_initializer", model([helper.make_node("Add", ["x", "w"], ["y"], "add0")],
                                     [vi("x", [4])], [vi("y", [4])], [short])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, m in cases():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())
    with open(os.path.join(out, "not_protobuf.onnx"), "wb") as f:
        f.write(b"this is not a protobuf file\n\xff\xff\xff")


if __name__ == "__main__":
    main()
