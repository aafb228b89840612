"""Models that arrive quantized (ONNX Runtime's QDQ format) on the int8
kernels: QuantizeLinear/DequantizeLinear pairs before a Conv and a Gemm,
their weights DequantizeLinear of i8 initializers per output channel.

tcc runs the QDQ-fed layers with the pair's scale and zero point on the
int8 kernels, with no flag (docs/compression.md); numpy computes the ONNX
semantics in float (DequantizeLinear(QuantizeLinear(x)) then the float
layer).  Both must agree to float rounding, except where a value sits at a
QuantizeLinear rounding boundary downstream: at most one quantization step.

usage: test_qdq.py TCC"""
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from tcc_models import run, write_input  # noqa: E402

TCC = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tcc-qdq-")
failures = []
rng = np.random.default_rng(11)

C, M, H, N = 3, 8, 6, 5
s_x, z_x = np.float32(0.02), np.uint8(128)
s_h, z_h = np.float32(0.05), np.uint8(0)
wq = rng.integers(-127, 128, (M, C, 3, 3)).astype(np.int8)
ws = (rng.random(M) * 0.01 + 0.002).astype(np.float32)
b1 = (rng.standard_normal(M) * 0.1).astype(np.float32)
gq = rng.integers(-127, 128, (N, M * H * H)).astype(np.int8)
gs = (rng.random(N) * 0.005 + 0.001).astype(np.float32)
b2 = rng.standard_normal(N).astype(np.float32)


def t(name, a):
    return numpy_helper.from_array(a, name)


nodes = [
    helper.make_node("QuantizeLinear", ["x", "s_x", "z_x"], ["xq"]),
    helper.make_node("DequantizeLinear", ["xq", "s_x", "z_x"], ["xd"]),
    helper.make_node("DequantizeLinear", ["wq", "ws"], ["w"], axis=0),
    helper.make_node("Conv", ["xd", "w", "b1"], ["c"], pads=[1, 1, 1, 1], name="conv"),
    helper.make_node("Relu", ["c"], ["r"]),
    helper.make_node("QuantizeLinear", ["r", "s_h", "z_h"], ["rq"]),
    helper.make_node("DequantizeLinear", ["rq", "s_h", "z_h"], ["rd"]),
    helper.make_node("Flatten", ["rd"], ["f"]),
    helper.make_node("DequantizeLinear", ["gq", "gs"], ["g"], axis=0),
    helper.make_node("Gemm", ["f", "g", "b2"], ["y"], transB=1, name="fc"),
]
inits = [t("s_x", s_x), t("z_x", z_x), t("s_h", s_h), t("z_h", z_h), t("wq", wq), t("ws", ws),
         t("b1", b1), t("gq", gq), t("gs", gs), t("b2", b2)]
graph = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                       [2, C, H, H])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
model = os.path.join(TMP, "qdq.onnx")
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)


def qdq(v, s, z):
    return ((np.clip(np.round(v / s) + z, 0, 255) - np.float32(z)) * s).astype(np.float32)


def conv3x3(x, w, b):
    from numpy.lib.stride_tricks import sliding_window_view as win
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    return np.einsum("nchwij,mcij->nmhw", win(xp, (3, 3), axis=(2, 3)), w) + b[None, :, None, None]


x = (rng.standard_normal((2, C, H, H)) * 0.8).astype(np.float32)
r = np.maximum(conv3x3(qdq(x, s_x, z_x), wq.astype(np.float32) * ws[:, None, None, None], b1), 0)
want = qdq(r, s_h, z_h).reshape(2, -1) @ (gq.astype(np.float32) * gs[:, None]).T + b2
# one step of the hidden QuantizeLinear, through the Gemm: the largest change a
# boundary case can make in y
step = float(s_h * np.abs(gq.astype(np.float32) * gs[:, None]).max())
pb = os.path.join(TMP, "x.pb")
write_input(pb, "x", x)
for flags in ([], ["-threads=2"], ["-target=armv8", "-mattr=+dotprod"], ["-O0"]):
    got, stats = run(TCC, model, pb, os.path.join(TMP, "out"), flags + ["--stats"])
    diff = np.abs(got - want)
    if float(diff.max()) > step + 1e-5 * float(np.abs(want).max()):
        failures.append(f"{flags}: max difference {float(diff.max()):.3g}, more than one step "
                        f"({step:.3g})")
    n = int(np.sum(diff > 1e-5 * float(np.abs(want).max())))
    if n > 2:
        failures.append(f"{flags}: {n} outputs differ beyond float rounding")
    line = "// quantize: fed by QuantizeLinear/DequantizeLinear: 2"
    if (line in stats) == ("-O0" in flags):  # -O0 keeps the float reference
        failures.append(f"{flags}: '{line}' {'present' if '-O0' in flags else 'missing'}")
print("QDQ conv and gemm: the int8 kernels match the ONNX semantics on 4 flag sets")

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("PASS")
