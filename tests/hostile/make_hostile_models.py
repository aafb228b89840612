#!/usr/bin/python3
"""Writes the hostile models tests/hostile/test_hostile.sh feeds to tcc.

usage: /usr/bin/python3 tests/hostile/make_hostile_models.py OUT_DIR
       /usr/bin/python3 tests/hostile/make_hostile_models.py --big N OUT_DIR
The first form writes OUT_DIR/<case>.onnx for every case below (external
data cases go to OUT_DIR/ext/, with their data files).  --big writes
OUT_DIR/model.onnx, a Gather from an f32[N,1] weight stored externally in
OUT_DIR/weights.bin (which the test makes with truncate).  Models are built
with onnx.helper or raw TensorProto and never checked, so each can be wrong
in exactly one way.
"""
import os
import sys

import numpy as np
from onnx import AttributeProto, TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=13, imports=None):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=imports or [helper.make_opsetid("", opset)])


def node(op, ins, outs, name, **attrs):
    return helper.make_node(op, ins, outs, name, **attrs)


def i64(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def f32(name, shape):
    return numpy_helper.from_array(np.ones(shape, np.float32), name)


def add_w(w, x_shape=(1,), y_shape=None):
    """y = x + w: a model whose only fault is initializer w."""
    return model([node("Add", ["x", "w"], ["y"], "add0")], [vi("x", list(x_shape))],
                 [vi("y", y_shape)], [w])


def external(name, dims, location, offset=None, length=None):
    t = TensorProto(name=name, data_type=F, dims=dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return t


def nested_if(depth):
    """An If whose then-branch holds an If ... depth levels deep."""
    leaf = helper.make_graph([node("Identity", ["x"], ["t0"], "id")], "leaf", [], [vi("t0", [1])])
    inner = leaf
    for d in range(depth):
        n = node("If", ["c"], ["t%d" % (d + 1)], "if%d" % d, then_branch=inner, else_branch=leaf)
        inner = helper.make_graph([n], "level%d" % d, [], [vi("t%d" % (d + 1), [1])])
    return model(list(inner.node), [vi("c", [], TensorProto.BOOL), vi("x", [1])], [vi("t%d" % depth, [1])])


def cases():
    yield "empty_graph", model([], [], [])
    # sizes: overflow, 2^40 elements, negative and zero dims
    yield "init_dims_overflow", add_w(TensorProto(name="w", data_type=F, dims=[2 ** 32] * 3))
    yield "input_dims_overflow", model([node("Relu", ["x"], ["y"], "relu0")],
                                       [vi("x", [2 ** 32] * 3)], [vi("y", None)])
    yield "expand_overflow", model([node("Expand", ["x", "s"], ["y"], "expand0")], [vi("x", [1])],
                                   [vi("y", None)], [i64("s", [2 ** 32] * 3)])
    yield "init_2p40", add_w(TensorProto(name="w", data_type=F, dims=[2 ** 20, 2 ** 20]))
    yield "input_2p40", model([node("Relu", ["x"], ["y"], "relu0")], [vi("x", [2 ** 20, 2 ** 20])],
                              [vi("y", None)])
    yield "constant_of_shape_2p40", model([node("ConstantOfShape", ["s"], ["y"], "cos0")], [],
                                          [vi("y", None)], [i64("s", [2 ** 20, 2 ** 20])])
    yield "init_negative_dim", add_w(TensorProto(name="w", data_type=F, dims=[2, -1]))
    yield "input_negative_dim", model([node("Relu", ["x"], ["y"], "relu0")], [vi("x", [2, -3])],
                                      [vi("y", None)])
    yield "reshape_negative_dims", model([node("Reshape", ["x", "s"], ["y"], "reshape0")],
                                         [vi("x", [6])], [vi("y", None)], [i64("s", [-2, -3])])
    yield "conv_zero_kernel", model([node("Conv", ["x", "w"], ["y"], "conv0")], [vi("x", [1, 2, 5, 5])],
                                    [vi("y", None)], [f32("w", (4, 2, 0, 3))])
    yield "conv_zero_strides", model([node("Conv", ["x", "w"], ["y"], "conv0", strides=[0, 0])],
                                     [vi("x", [1, 2, 5, 5])], [vi("y", None)], [f32("w", (4, 2, 3, 3))])
    yield "input_zero_dim", model([node("Relu", ["x"], ["y"], "relu0")], [vi("x", [0, 3])], [vi("y", [0, 3])])
    # data shorter than the shape
    yield "init_float_data_short", add_w(TensorProto(name="w", data_type=F, dims=[4], float_data=[1, 2, 3]),
                                         (4,))
    yield "init_no_data", add_w(TensorProto(name="w", data_type=F, dims=[4]), (4,))
    # element types
    yield "init_dtype_undefined", add_w(TensorProto(name="w", dims=[1], raw_data=b"\0\0\0\0"))
    yield "input_dtype_undefined", model([node("Relu", ["x"], ["y"], "relu0")], [vi("x", [2], 0)],
                                         [vi("y", None)])
    # duplicate names
    yield "dup_node_output", model([node("Relu", ["x"], ["y"], "relu0"), node("Neg", ["x"], ["y"], "neg0")],
                                   [vi("x", [2])], [vi("y", [2])])
    yield "dup_initializer", add_w(f32("w", 2), (2,))  # main() adds the second w
    yield "dup_graph_input", model([node("Relu", ["x"], ["y"], "relu0")], [vi("x", [2]), vi("x", [2])],
                                   [vi("y", [2])])
    yield "output_shadows_initializer", model([node("Relu", ["x"], ["w"], "relu0")], [vi("x", [2])],
                                              [vi("w", [2])], [f32("w", 2)])
    yield "output_shadows_input", model([node("Relu", ["x"], ["x"], "relu0")], [vi("x", [2])], [vi("x", [2])])
    # domains
    yield "domain_ml", model([node("Relu", ["x"], ["y"], "relu0", domain="ai.onnx.ml")], [vi("x", [2])],
                             [vi("y", [2])])
    yield "only_custom_opset", model([node("Relu", ["x"], ["y"], "relu0", domain="com.example")],
                                     [vi("x", [2])], [vi("y", [2])],
                                     imports=[helper.make_opsetid("com.example", 1)])
    # attributes of the wrong kind, and names the IR cannot spell
    yield "conv_strides_float", model([node("Conv", ["x", "w"], ["y"], "conv0", strides=1.5)],
                                      [vi("x", [1, 2, 5, 5])], [vi("y", None)], [f32("w", (4, 2, 3, 3))])
    yield "gemm_alpha_string", model([node("Gemm", ["a", "b"], ["y"], "gemm0", alpha="big")],
                                     [vi("a", [2, 3]), vi("b", [3, 4])], [vi("y", None)])
    sub = helper.make_graph([], "sub", [], [])
    yield "relu_graph_attribute", model([node("Relu", ["x"], ["y"], "relu0", body=sub)], [vi("x", [2])],
                                        [vi("y", None)])
    yield "attribute_name_not_identifier", model([node("Relu", ["x"], ["y"], "relu0", **{"a b": 1})],
                                                 [vi("x", [2])], [vi("y", None)])
    # onnx.checker's structural rules that tcc enforces (docs/frontend.md)
    m = model([node("LeakyRelu", ["x"], ["y"], "lr0", alpha=0.5)], [vi("x", [2])], [vi("y", [2])])
    m.graph.node[0].attribute[0].type = AttributeProto.INT
    yield "checker_attr_type_mismatch", m
    m = model([node("LeakyRelu", ["x"], ["y"], "lr0", alpha=0.5)], [vi("x", [2])], [vi("y", [2])])
    m.graph.node[0].attribute[0].i = 3
    yield "checker_attr_two_values", m
    m = model([node("Relu", ["x"], ["y"], "relu0")], [vi("x", [2])], [vi("y", [2])])
    m.graph.node[0].op_type = ""
    yield "checker_no_op_type", m
    yield "checker_upsample_opset13", model(
        [node("Upsample", ["x", "sc"], ["y"], "up0")], [vi("x", [1, 1, 2, 2])], [vi("y", [1, 1, 4, 4])],
        [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "sc")])
    yield "checker_scatter_opset11", model(
        [node("Scatter", ["x", "i", "u"], ["y"], "sc0")],
        [vi("x", [4]), vi("i", [1], TensorProto.INT64), vi("u", [1])], [vi("y", [4])], opset=11)
    yield "checker_unknown_attribute", model(
        [node("Conv", ["x", "w"], ["y"], "conv0", kernel_shape=[1, 1], stride=[2, 2])],
        [vi("x", [1, 1, 2, 2])], [vi("y", [1, 1, 2, 2])], [f32("w", [1, 1, 1, 1])])
    yield "checker_op_too_new", model(
        [node("GatherElements", ["x", "i"], ["y"], "ge0")],
        [vi("x", [2]), vi("i", [1], TensorProto.INT64)], [vi("y", [1])], opset=9)
    # A constant MatMul of 2048^3 multiply-adds: folding it in the interpreter
    # would take minutes, so it is left to run time (the compile stays short).
    shape = i64("s", [2048, 2048])
    yield "fold_big_matmul", model(
        [node("ConstantOfShape", ["s"], ["a"], "cos_a",
              value=numpy_helper.from_array(np.array([1], np.float32))),
         node("MatMul", ["a", "a"], ["p"], "mm0"), node("Add", ["p", "x"], ["y"], "add0")],
        [vi("x", [2048, 2048])], [vi("y", [2048, 2048])], [shape])
    # subgraphs: a few levels (unsupported) and very many (refused before parsing)
    yield "nested_if_3", nested_if(3)
    yield "nested_if_40", nested_if(40)


def external_cases(ext):
    """External data next to ext/: each model is wrong in its location or range."""
    with open(os.path.join(ext, "w.bin"), "wb") as f:
        f.write(np.arange(4, dtype=np.float32).tobytes())  # 16 bytes
    os.makedirs(os.path.join(ext, "adir"), exist_ok=True)
    for name, t in (("ext_absolute", external("w", [4], "/etc/hostname")),
                    ("ext_dotdot", external("w", [4], "sub/../../w.bin")),
                    ("ext_missing", external("w", [4], "missing.bin")),
                    ("ext_symlink_out", external("w", [4], "link.bin")),
                    ("ext_range", external("w", [4], "w.bin", offset=8, length=16)),
                    ("ext_short", external("w", [4], "w.bin", offset=8)),
                    ("ext_ok", external("w", [4], "w.bin", offset=0, length=16)),
                    # made by test_hostile.sh: a FIFO, and a 64 GiB sparse file
                    ("ext_fifo", external("w", [4], "pipe.bin")),
                    ("ext_sparse", external("w", [4], "sparse.bin", offset=0, length=16)),
                    ("ext_dir", external("w", [4], "adir"))):
        with open(os.path.join(ext, name + ".onnx"), "wb") as f:
            f.write(add_w(t, (4,), [4]).SerializeToString())


def big(out, n):
    """y = Gather(w, i): compiles to code that indexes all of w, so every
    byte of the f32[n,1] weight must reach the object."""
    w = external("w", [n, 1], "weights.bin", offset=0, length=4 * n)
    m = model([node("Gather", ["w", "i"], ["y"], "gather0", axis=0)], [vi("i", [1], TensorProto.INT64)],
              [vi("y", [1, 1])], [w])
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())


def main():
    if sys.argv[1] == "--big":
        os.makedirs(sys.argv[3], exist_ok=True)
        big(sys.argv[3], int(sys.argv[2]))
        return
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "ext"), exist_ok=True)
    for name, m in cases():
        if name == "dup_initializer":
            m.graph.initializer.append(f32("w", 2))
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())
    external_cases(os.path.join(out, "ext"))
    with open(os.path.join(out, "x4.pb"), "wb") as f:  # an input for ext/ext_ok.onnx
        f.write(numpy_helper.from_array(np.ones(4, np.float32), "x").SerializeToString())


if __name__ == "__main__":
    main()
