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
    # An image whose channel count is a run-time dim (-preprocess refuses it).
    yield "sym_channels", model([relu()], [vi("x", [1, "c", 2, 2])], [vi("y", [1, "c", 2, 2])])
    # A KV cache with a mask as long as past + seq (-dim=total=past+seq).
    yield "kv_mask", model(
        [helper.make_node("Concat", ["past_k", "k"], ["kv"], name="cat", axis=1),
         helper.make_node("Add", ["kv", "mask"], ["y"], name="add")],
        [vi("past_k", [1, "past"]), vi("k", [1, "seq"]), vi("mask", [1, "total"])],
        [vi("y", [1, "total"])])
    # A shape computed from a run-time dim that overflows int64: refused, not wrapped.
    yield "symbolic_overflow", model(
        [helper.make_node("Shape", ["x"], ["s"], "shape0"),
         helper.make_node("Gather", ["s", "idx"], ["n"], "gather0"),
         helper.make_node("Mul", ["n", "big"], ["nn"], "mul0"),
         helper.make_node("Mul", ["nn", "big"], ["nnn"], "mul1"),
         helper.make_node("Reshape", ["x", "nnn"], ["y"], "reshape0")],
        [vi("x", [1, "seq"])], [vi("y", [1, "seq"])],
        [numpy_helper.from_array(np.array([2 ** 62], np.int64), "big"),
         numpy_helper.from_array(np.array([1], np.int64), "idx")])
    short = numpy_helper.from_array(np.ones(4, np.float32), "w")
    short.raw_data = short.raw_data[:7]
    yield "short_initializer", model([helper.make_node("Add", ["x", "w"], ["y"], "add0")],
                                     [vi("x", [4])], [vi("y", [4])], [short])


def while_loop():
    """acc += x while sum(acc) < limit (no trip count), scan output acc * i:
    a Loop known only at run time."""
    body = helper.make_graph([
        helper.make_node("Add", ["acc", "x"], ["acc_out"], name="b_add"),
        helper.make_node("ReduceSum", ["acc_out"], ["s"], keepdims=0, name="b_sum"),
        helper.make_node("Less", ["s", "limit"], ["cond_out"], name="b_less"),
        helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT, name="b_cast"),
        helper.make_node("Mul", ["acc_out", "fi"], ["scan"], name="b_mul")], "body",
        [vi("i", [], TensorProto.INT64), vi("c", [], TensorProto.BOOL), vi("acc", [4])],
        [vi("cond_out", [], TensorProto.BOOL), vi("acc_out", [4]), vi("scan", [4])])
    trip = numpy_helper.from_array(np.array(10, np.int64), "M")
    return model([helper.make_node("ReduceSum", ["x"], ["s0"], keepdims=0, name="sum0"),
                  helper.make_node("Less", ["s0", "limit"], ["c0"], name="less0"),
                  helper.make_node("Loop", ["M", "c0", "x"], ["acc_final", "scans"], body=body,
                                   name="loop0")],
                 [vi("x", [4]), vi("limit", [])], [vi("acc_final", [4]), vi("scans", ["n", 4])],
                 [trip])


def index_models():
    """Ops whose index tensors come from the caller: a bad index must stop
    the run (TCC_ERR_INDEX_OUT_OF_RANGE) naming the node."""
    I64 = TensorProto.INT64
    emb = numpy_helper.from_array(np.arange(40, dtype=np.float32).reshape(10, 4), "emb")
    yield "gather_ids", model([helper.make_node("Gather", ["emb", "ids"], ["y"], "embed", axis=0)],
                              [vi("ids", [3], I64)], [vi("y", [3, 4])], [emb])
    yield "scatter_nd_ids", model(
        [helper.make_node("ScatterND", ["x", "ids", "u"], ["y"], "scatter0")],
        [vi("x", [4, 2]), vi("ids", [1, 1], I64), vi("u", [1, 2])], [vi("y", [4, 2])])
    # Constant indices are checked when the node is folded: a compile error.
    yield "gather_elements_const", model(
        [helper.make_node("GatherElements", ["emb", "k"], ["y"], "ge0", axis=1)],
        [], [vi("y", [1, 1])],
        [emb, numpy_helper.from_array(np.array([[7]], np.int64), "k")])
    # Shapes from run-time values: refused at compile time (never a run-time
    # mismatch or a write past a bound; docs/runtime.md).
    yield "reshape_rt", model([helper.make_node("Reshape", ["x", "s"], ["y"], "reshape0")],
                              [vi("x", [2, 3]), vi("s", [2], I64)], [vi("y", None)])
    yield "range_rt", model([helper.make_node("Range", ["a", "l", "d"], ["y"], "range0")],
                            [vi("l", [], I64)], [vi("y", None, I64)],
                            [numpy_helper.from_array(np.array(0, np.int64), "a"),
                             numpy_helper.from_array(np.array(1, np.int64), "d")])
    yield "tile_rt", model([helper.make_node("Tile", ["x", "r"], ["y"], "tile0")],
                           [vi("x", [2]), vi("r", [1], I64)], [vi("y", None)])
    tensors = {"ids_ok": np.array([0, -1, 9], np.int64),
               "ids_bad": np.array([0, 1000000000, 2], np.int64),
               "ids_neg": np.array([-11, 0, 0], np.int64),
               "x42": np.zeros((4, 2), np.float32), "sc_bad": np.array([[4]], np.int64),
               "u12": np.ones((1, 2), np.float32)}
    names = {"ids_ok": "ids", "ids_bad": "ids", "ids_neg": "ids", "x42": "x", "sc_bad": "ids",
             "u12": "u"}
    for k, v in tensors.items():
        yield k + ".pb", numpy_helper.from_array(v, names[k])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, m in cases():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())
    for name, m in index_models():
        path = os.path.join(out, name if name.endswith(".pb") else name + ".onnx")
        with open(path, "wb") as f:
            f.write(m.SerializeToString())
    with open(os.path.join(out, "not_protobuf.onnx"), "wb") as f:
        f.write(b"this is not a protobuf file\n\xff\xff\xff")
    with open(os.path.join(out, "while_loop.onnx"), "wb") as f:
        f.write(while_loop().SerializeToString())
    for name, arr in (("x", np.array([0.5, 1, 1.5, 2], np.float32)),
                      ("limit", np.array(37, np.float32))):
        with open(os.path.join(out, "loop_%s.pb" % name), "wb") as f:
            f.write(numpy_helper.from_array(arr, name).SerializeToString())
    # Inputs of two run-time sizes for symbolic_dim (-dim=seq=1..4).
    for n in (3, 5):
        x = (np.arange(n) * (-1.0) ** np.arange(n) - 0.5).astype(np.float32)
        t = numpy_helper.from_array(x.reshape(1, n), "x")
        with open(os.path.join(out, "seq%d.pb" % n), "wb") as f:
            f.write(t.SerializeToString())
    # Inputs of kv_mask: a cache of 2, 1 new key, masks of 3 (right) and 4.
    for name, arr in (("past2", np.array([[1, 2]], np.float32)), ("k1", np.array([[3]], np.float32)),
                      ("mask3", np.array([[10, 20, 30]], np.float32)),
                      ("mask4", np.array([[10, 20, 30, 40]], np.float32))):
        with open(os.path.join(out, "kv_%s.pb" % name), "wb") as f:
            f.write(numpy_helper.from_array(arr, name.rstrip("0123456789")
                                            .replace("past", "past_k")).SerializeToString())
    # The input of parallel.tir (x f32[37,64]).
    x = ((np.arange(37 * 64) * 37 % 101) / 25.0 - 2.0).astype(np.float32).reshape(37, 64)
    with open(os.path.join(out, "par_x.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())


if __name__ == "__main__":
    main()
