#!/usr/bin/python3
"""-preprocess against the float model fed the converted image (docs/cli.md).

usage: test_preprocess.py TCC MODELS_DIR [TCC_FLAGS...]   (e.g. -target=armv8, -threads=2)
For each case: a seeded u8 image (NHWC or NCHW), its float image computed
here in numpy, (x * scale - mean) / std per channel (transposed to NCHW),
`tcc run` of the float model on the float image and of the same model with
-preprocess on the bytes; the outputs must agree within 1e-5 relative to
their largest magnitude, and --stats must say whether the conversion was
fused into the first conv's packing or ran as its own loop.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REL_TOL = 1e-5


def conv_model(path, first, c=3, hw=17, filters=8):
    """A small f32[1,c,hw,hw] network whose first op is `first`
    ("conv3x3s2": 3x3 stride 2 pad 1, 8 filters; "conv1x1": 1x1 stride 1,
    read in place; "pool": MaxPool 2x2 before a 3x3 conv)."""
    rng = np.random.default_rng(7)
    inits, nodes = [], []

    def weight(name, shape):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32), name))
        return name

    x = "image"
    if first == "pool":
        nodes.append(helper.make_node("MaxPool", [x], ["p"], kernel_shape=[2, 2], strides=[2, 2]))
        x = "p"
    k, s, p = (1, 1, 0) if first == "conv1x1" else (3, 2 if first == "conv3x3s2" else 1, 1)
    nodes.append(helper.make_node("Conv", [x, weight("w1", [filters, c, k, k]), weight("b1", [filters])], ["c1"],
                                  kernel_shape=[k, k], strides=[s, s], pads=[p] * 4))
    nodes.append(helper.make_node("Relu", ["c1"], ["r1"]))
    nodes.append(helper.make_node("Conv", ["r1", weight("w2", [4, filters, 3, 3])], ["y"],
                                  kernel_shape=[3, 3], pads=[1] * 4))
    graph = helper.make_graph(nodes, first, [helper.make_tensor_value_info(
        "image", TensorProto.FLOAT, [1, c, hw, hw])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, path)


def write_pb(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def read_pb(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


EXTRA_FLAGS = []


def run(tcc, model, pb, out, flags):
    cmd = [tcc, "run", model, "--input", pb, "--output-dir", out, "--stats", "-q"] + EXTRA_FLAGS + flags
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}: exit {r.returncode}\n{r.stderr}")
    return r.stdout


def case(tcc, tmp, name, model, shape, layout, scale_text, mean, std, expect_stat, inp="image",
         flags=()):
    c = shape[1]
    rng = np.random.default_rng(len(name) * 1009)
    nchw_shape = list(shape)
    stored = [shape[0], shape[2], shape[3], c] if layout == "nhwc" else nchw_shape
    img = rng.integers(0, 256, size=stored, dtype=np.uint8)
    num, _, den = scale_text.partition("/")
    scale = float(num) / float(den) if den else float(num)
    m = np.resize(np.array(mean or [0.0], np.float64), c).reshape(1, c, 1, 1)
    s = np.resize(np.array(std or [1.0], np.float64), c).reshape(1, c, 1, 1)
    nchw = img.transpose(0, 3, 1, 2) if layout == "nhwc" else img
    ref_in = ((nchw.astype(np.float64) * scale - m) / s).astype(np.float32)
    d = os.path.join(tmp, name)
    os.makedirs(d)
    write_pb(os.path.join(d, "u8.pb"), img, inp)
    write_pb(os.path.join(d, "f32.pb"), ref_in, inp)
    run(tcc, model, os.path.join(d, "f32.pb"), os.path.join(d, "ref"), [])
    spec = f"{inp}:u8,scale={scale_text}"
    if mean is not None:
        spec += ",mean=" + ",".join(str(v) for v in mean)
    if std is not None:
        spec += ",std=" + ",".join(str(v) for v in std)
    if layout != "default":
        spec += f",layout={layout}"
    stats = run(tcc, model, os.path.join(d, "u8.pb"), os.path.join(d, "out"), ["-preprocess=" + spec] + list(flags))
    if expect_stat not in stats:
        sys.exit(f"FAIL {name}: --stats lacks '{expect_stat}':\n{stats}")
    ref = read_pb(os.path.join(d, "ref", "output_0.pb")).astype(np.float64)
    out = read_pb(os.path.join(d, "out", "output_0.pb")).astype(np.float64)
    err = float(np.max(np.abs(out - ref)))
    bound = REL_TOL * float(np.max(np.abs(ref)))
    ok = ref.shape == out.shape and bool(np.all(np.isfinite(ref))) and err <= bound
    print(f"{name}: {'ok' if ok else 'FAIL'} max|err| {err:.3g} (bound {bound:.3g}), {expect_stat}")
    return ok


def main():
    tcc, models = sys.argv[1], sys.argv[2]
    EXTRA_FLAGS.extend(sys.argv[3:])
    imagenet = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for first in ("conv3x3s2", "conv1x1", "pool"):
            paths[first] = os.path.join(tmp, first + ".onnx")
            conv_model(paths[first], first)
        # few pixels, many filters: the transposed product, X packed per K block
        paths["narrow"] = os.path.join(tmp, "narrow.onnx")
        conv_model(paths["narrow"], "conv3x3s2", hw=4, filters=64)
        fused, alone = "preprocess fused into conv: 1", "preprocess standalone: 1"
        results = [
            case(tcc, tmp, "cnn_nhwc", os.path.join(models, "cnn", "model.onnx"), [1, 1, 28, 28],
                 "nhwc", "1/255", [0.1307], [0.3081], fused, "input"),
            case(tcc, tmp, "conv3x3s2_nhwc", paths["conv3x3s2"], [1, 3, 17, 17], "nhwc", "1/255",
                 *imagenet, fused),
            case(tcc, tmp, "conv3x3s2_nchw", paths["conv3x3s2"], [1, 3, 17, 17], "nchw",
                 "0.00392156862745098", [0.5], None, fused),
            case(tcc, tmp, "conv3x3s2_defaults", paths["conv3x3s2"], [1, 3, 17, 17], "default", "1",
                 None, None, fused),
            case(tcc, tmp, "narrow_nhwc", paths["narrow"], [1, 3, 4, 4], "nhwc", "1/255", *imagenet,
                 fused),
            # fused, but lowered without a schedule: the op's loop runs first
            case(tcc, tmp, "conv3x3s2_nhwc_unscheduled", paths["conv3x3s2"], [1, 3, 17, 17], "nhwc",
                 "1/255", *imagenet, fused, flags=["-O0", "-passes=infer-shapes,fuse,lower,plan-memory"]),
            case(tcc, tmp, "pool_nhwc", paths["pool"], [1, 3, 17, 17], "nhwc", "1/255", *imagenet,
                 alone),
            case(tcc, tmp, "conv1x1_nhwc", paths["conv1x1"], [1, 3, 17, 17], "nhwc", "1/255",
                 *imagenet, alone),
        ]
    print(f"preprocess: {sum(results)} of {len(results)} passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
