#!/usr/bin/python3
"""Makes the sample models shipped in models/: an MLP and a small CNN.

Each lands as models/<name>/model.onnx with test_data_set_0/input_0.pb and
output_0.pb, the layout of the ONNX backend test data, so `tcc run` and the
conformance runner take them as they take any ONNX test.  The reference
outputs come from the plain numpy code below, independent of tcc.  Weights
are seeded random numbers: the files are reproducible.

usage: /usr/bin/python3 models/make_samples.py [OUT_DIR]   (default: models/)
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

OPSET = 13


def conv2d(x, w, b, pad, stride=1):
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((n, k, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
            out += np.einsum("nchw,kc->nkhw", patch, w[:, :, i, j])
    return out + b.reshape(1, k, 1, 1)


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def batchnorm(x, scale, bias, mean, var, eps=1e-5):
    shape = (1, -1, 1, 1)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * \
        scale.reshape(shape) + bias.reshape(shape)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def save(out_dir, name, graph, x, y):
    model = helper.make_model(graph, producer_name="tcc make_samples.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model)
    folder = os.path.join(out_dir, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    for fname, value, vname in (("input_0.pb", x, graph.input[0].name),
                                ("output_0.pb", y, graph.output[0].name)):
        t = numpy_helper.from_array(value.astype(np.float32), vname)
        with open(os.path.join(data, fname), "wb") as f:
            f.write(t.SerializeToString())


def weight(rng, name, shape, scale):
    return numpy_helper.from_array(
        (rng.standard_normal(shape) * scale).astype(np.float32), name)


def make_mlp(out_dir, rng):
    w1 = weight(rng, "fc1.weight", (784, 128), 784 ** -0.5)
    b1 = weight(rng, "fc1.bias", (128,), 0.1)
    w2 = weight(rng, "fc2.weight", (128, 10), 128 ** -0.5)
    b2 = weight(rng, "fc2.bias", (10,), 0.1)
    nodes = [
        helper.make_node("MatMul", ["input", "fc1.weight"], ["h1"], "fc1_matmul"),
        helper.make_node("Add", ["h1", "fc1.bias"], ["h1b"], "fc1_add"),
        helper.make_node("Relu", ["h1b"], ["h1r"], "relu1"),
        helper.make_node("Gemm", ["h1r", "fc2.weight", "fc2.bias"], ["logits"], "fc2"),
        helper.make_node("Softmax", ["logits"], ["probs"], "softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 784])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])],
        [w1, b1, w2, b2])
    x = rng.random((1, 784)).astype(np.float32)
    a = [numpy_helper.to_array(t).astype(np.float64) for t in (w1, b1, w2, b2)]
    h = np.maximum(x @ a[0] + a[1], 0)
    save(out_dir, "mlp", graph, x, softmax(h @ a[2] + a[3]))


def make_cnn(out_dir, rng):
    ws = {
        "conv1.weight": weight(rng, "conv1.weight", (8, 1, 3, 3), 1 / 3),
        "conv1.bias": weight(rng, "conv1.bias", (8,), 0.1),
        "bn1.scale": weight(rng, "bn1.scale", (8,), 0.2),
        "bn1.bias": weight(rng, "bn1.bias", (8,), 0.1),
        "bn1.mean": weight(rng, "bn1.mean", (8,), 0.1),
        "conv2.weight": weight(rng, "conv2.weight", (16, 8, 3, 3), (72) ** -0.5),
        "conv2.bias": weight(rng, "conv2.bias", (16,), 0.1),
        "fc.weight": weight(rng, "fc.weight", (10, 16), 0.25),
        "fc.bias": weight(rng, "fc.bias", (10,), 0.1),
    }
    var = np.abs(rng.standard_normal(8)).astype(np.float32) + 0.5
    ws["bn1.var"] = numpy_helper.from_array(var, "bn1.var")
    ws["bn1.scale"] = numpy_helper.from_array(
        numpy_helper.to_array(ws["bn1.scale"]) + 1.0, "bn1.scale")
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], "conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization",
                         ["c1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["b1"], "bn1"),
        helper.make_node("Relu", ["b1"], ["r1"], "relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], "pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], "conv2",
                         kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c2"], ["r2"], "relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], "gap"),
        helper.make_node("Flatten", ["g"], ["f"], "flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], "fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], "softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])],
        list(ws.values()))
    a = {k: numpy_helper.to_array(v).astype(np.float64) for k, v in ws.items()}
    x = rng.random((1, 1, 28, 28)).astype(np.float32)
    h = conv2d(x.astype(np.float64), a["conv1.weight"], a["conv1.bias"], 1)
    h = np.maximum(batchnorm(h, a["bn1.scale"], a["bn1.bias"], a["bn1.mean"], a["bn1.var"]), 0)
    h = maxpool2(h)
    h = np.maximum(conv2d(h, a["conv2.weight"], a["conv2.bias"], 1), 0)
    h = h.mean(axis=(2, 3))
    save(out_dir, "cnn", graph, x, softmax(h @ a["fc.weight"].T + a["fc.bias"]))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(20261126)
    make_mlp(out_dir, rng)
    make_cnn(out_dir, rng)


if __name__ == "__main__":
    main()
