#!/usr/bin/python3
"""Builds the seed corpora for the fuzz harnesses.

usage: /usr/bin/python3 tests/fuzz/make_seeds.py OUT_DIR [TCC]

OUT_DIR/onnx_load    the sample models (models/*/model.onnx), a small MLP,
                     models exercising every initializer storage form,
                     symbolic dims and external data ("w.bin", which the
                     harness provides), and small ONNX backend test models
OUT_DIR/onnx_tensor  the sample models' test data, and one small tensor per
                     element type and storage field
OUT_DIR/ir_parse     every golden .tir (input and expected output apart)
                     and, when TCC is given, the IR of both sample models
                     after every pass (tensor and loop level)
"""
import glob
import os
import shutil
import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TESTDATA = "/usr/share/libonnx-testdata/data/node"
# Small backend tests: broad op coverage, a few hundred bytes each.
NODE_TESTS = ["test_conv_with_strides_padding", "test_maxpool_2d_pads", "test_gemm_all_attributes",
              "test_reshape_negative_dim", "test_transpose_all_permutations_0", "test_concat_3d_axis_1",
              "test_batchnorm_epsilon", "test_softmax_axis_1", "test_slice_neg_steps",
              "test_gather_1", "test_pad_constant", "test_reduce_sum_keepdims_random",
              "test_expand_dim_changed", "test_cast_FLOAT_to_DOUBLE", "test_where_example",
              "test_clip_default_inbounds", "test_averagepool_2d_pads", "test_matmul_3d",
              "test_flatten_axis1", "test_unsqueeze_axis_0", "test_constant", "test_shape",
              "test_add_bcast", "test_layer_normalization_2d_axis0", "test_argmax_default_axis_example"]


def vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def small_mlp():
    rng = np.random.default_rng(1)
    w1 = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "fc1.weight")
    b1 = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "fc1.bias")
    w2 = numpy_helper.from_array(rng.standard_normal((3, 4)).astype(np.float32), "fc2.weight")
    b2 = numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "fc2.bias")
    nodes = [helper.make_node("MatMul", ["input", "fc1.weight"], ["h1"], "mm"),
             helper.make_node("Add", ["h1", "fc1.bias"], ["h1b"], "add"),
             helper.make_node("Relu", ["h1b"], ["h1r"], "relu"),
             helper.make_node("Gemm", ["h1r", "fc2.weight", "fc2.bias"], ["logits"], "fc2", transB=1),
             helper.make_node("Softmax", ["logits"], ["probs"], "sm", axis=1)]
    return model(nodes, [vi("input", ["N", 8])], [vi("probs", ["N", 3])], [w1, b1, w2, b2])


def storage_forms():
    """Initializers in typed fields rather than raw_data, and Constants."""
    inits = [helper.make_tensor("f", TensorProto.FLOAT, [2], [1.5, -2.0]),
             helper.make_tensor("i8", TensorProto.INT8, [2], [-3, 4]),
             helper.make_tensor("i64", TensorProto.INT64, [2], [2, 1]),
             helper.make_tensor("d", TensorProto.DOUBLE, [1], [0.25]),
             helper.make_tensor("u32", TensorProto.UINT32, [1], [7]),
             helper.make_tensor("h", TensorProto.FLOAT16, [2], np.array([1, 2], np.float16).view(np.uint16).tolist()),
             helper.make_tensor("b", TensorProto.BOOL, [2], [1, 0])]
    nodes = [helper.make_node("Constant", [], ["c"], "c0", value_floats=[1.0, 2.0]),
             helper.make_node("Constant", [], ["k"], "c1", value_int=3),
             helper.make_node("Add", ["x", "f"], ["a"], "add"),
             helper.make_node("Mul", ["a", "c"], ["y"], "mul"),
             helper.make_node("Reshape", ["y", "i64"], ["z"], "rs")]
    return model(nodes, [vi("x", [2])], [vi("z", [2, 1])], inits)


def external():
    """Weights in the harness's 4 KiB file w.bin: byte i is i % 256."""
    w = TensorProto(name="w", data_type=TensorProto.UINT8, dims=[16])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "w.bin"), ("offset", "32"), ("length", "16")):
        e = w.external_data.add()
        e.key, e.value = k, v
    nodes = [helper.make_node("Cast", ["w"], ["wf"], "cast", to=TensorProto.FLOAT),
             helper.make_node("Add", ["x", "wf"], ["y"], "add")]
    return model(nodes, [vi("x", [16])], [vi("y", [16])], [w])


def onnx_load_seeds(out):
    for name in ("mlp", "cnn"):
        shutil.copy(os.path.join(ROOT, "models", name, "model.onnx"), os.path.join(out, name + ".onnx"))
    for name, m in (("mlp_small", small_mlp()), ("storage", storage_forms()), ("external", external())):
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())
    for t in NODE_TESTS:
        p = os.path.join(TESTDATA, t, "model.onnx")
        if os.path.exists(p):
            shutil.copy(p, os.path.join(out, t + ".onnx"))


def onnx_tensor_seeds(out):
    for p in glob.glob(os.path.join(ROOT, "models", "*", "test_data_set_*", "*.pb")):
        parts = p.split(os.sep)
        shutil.copy(p, os.path.join(out, parts[-3] + "_" + parts[-1]))
    arrays = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3), "f64": np.array([0.5, -1.0]),
              "i8": np.array([-1, 2], np.int8), "u8": np.array([255], np.uint8),
              "i16": np.array([-300], np.int16), "u16": np.array([65535], np.uint16),
              "i32": np.array([-5, 6], np.int32), "i64": np.array([[1], [-2]], np.int64),
              "u32": np.array([4000000000], np.uint32), "u64": np.array([2 ** 63], np.uint64),
              "bool": np.array([True, False]), "f16": np.array([1.5], np.float16),
              "scalar": np.array(3.0, np.float32), "empty": np.zeros((0, 3), np.float32)}
    for name, a in arrays.items():
        raw = numpy_helper.from_array(a, name)
        with open(os.path.join(out, name + "_raw.pb"), "wb") as f:
            f.write(raw.SerializeToString())
        if a.dtype == np.float16:
            typed = helper.make_tensor(name, TensorProto.FLOAT16, a.shape, a.view(np.uint16).flatten().tolist())
        else:
            typed = helper.make_tensor(name, raw.data_type, a.shape, a.flatten().tolist())
        with open(os.path.join(out, name + "_typed.pb"), "wb") as f:
            f.write(typed.SerializeToString())


def ir_parse_seeds(out, tcc):
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "ir", "*", "*.tir"))):
        text = open(p).read()
        stem = os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p)[:-4]
        for i, part in enumerate(text.split("// PRINTS:")):
            with open(os.path.join(out, "%s_%d.tir" % (stem, i)), "w") as f:
                f.write(part)
    if not tcc:
        return
    for name in ("mlp", "cnn"):
        r = subprocess.run([tcc, "opt", os.path.join(ROOT, "models", name, "model.onnx"),
                            "--print-ir-after=all"], capture_output=True, text=True, check=True)
        for i, part in enumerate(r.stdout.split("// IR after ")[1:]):
            header, _, body = part.partition("\n")
            with open(os.path.join(out, "%s_%d_%s.tir" % (name, i, header.strip())), "w") as f:
                f.write(body)


def main():
    out, tcc = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
    for h, make in (("onnx_load", onnx_load_seeds), ("onnx_tensor", onnx_tensor_seeds)):
        os.makedirs(os.path.join(out, h), exist_ok=True)
        make(os.path.join(out, h))
    os.makedirs(os.path.join(out, "ir_parse"), exist_ok=True)
    ir_parse_seeds(os.path.join(out, "ir_parse"), tcc)


if __name__ == "__main__":
    main()
