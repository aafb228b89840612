"""QLinearConv and QLinearMatMul with constant weights (ONNX Runtime's
QOperator format), and ConvInteger and MatMulInteger with constant weights,
on the int8 kernels, with no flag (docs/compression.md).

numpy computes ONNX's definition as its reference implementation does: the
i32 sum of (x - x_zero_point) * (w - w_zero_point) plus B, times the f32
multiplier x_scale * w_scale / y_scale, rounded half to even, plus
y_zero_point, saturated.  tcc's bytes must equal it except where the
product sits within float rounding of a .5 (then one step, on at most 1%
of the bytes).  Cases: u8 and i8 activations, i8 weights per channel and
u8 weights with a zero point, padding, stride, bias, a 3-D MatMul; at
-O2, -threads=2 and on armv8, with `--stats` counting the rewrite; -O0
keeps the op's own loops, the same bytes.  The integer ops' i32 sums must
be exact, and one whose sums could pass 2^24 must keep its own loops.

usage: test_qlinear.py TCC"""
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from tcc_models import run, write_input  # noqa: E402

TCC = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tcc-qlinear-")
failures = []
rng = np.random.default_rng(21)
DT = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8, np.int32: TensorProto.INT32}


def t(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def requant(acc, mult, zp, dt):
    info = np.iinfo(dt)
    return np.clip(np.rint(acc.astype(np.float64) * mult) + zp, info.min, info.max).astype(dt)


def conv_ref(x, xz, w, wz, b, stride, pad):
    x = x.astype(np.int64) - xz
    w = w.astype(np.int64) - wz.reshape(-1, 1, 1, 1)
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # x - xz pads with 0
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    acc = np.zeros((n, m, oh, ow), np.int64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
            acc += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    return acc + b.reshape(1, -1, 1, 1)


def out_params(r, dt):
    """y_scale and y_zero_point that fit the real outputs r into dt."""
    info = np.iinfo(dt)
    ys = np.float32((r.max() - r.min()) / 250)
    return ys, np.array(np.clip(info.min + 2 - np.round(r.min() / ys), info.min, info.max), dt)


def model(path, node, inputs, inits, y_dt):
    g = helper.make_graph([node], "q", [helper.make_tensor_value_info(n, DT[d], s)
                                        for n, d, s in inputs],
                          [helper.make_tensor_value_info("y", DT[y_dt], None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def case(name, path, xname, x, want, rewritten):
    info = np.iinfo(want.dtype)
    clipped = float(np.mean((want == info.min) | (want == info.max)))
    if clipped > 0.2:  # the reference must exercise the rounding, not the saturation
        failures.append(f"{name}: {100 * clipped:.0f}% of the reference saturates")
    pb = os.path.join(TMP, name + ".pb")
    write_input(pb, xname, x)
    for flags in ([], ["-threads=2"], ["-target=armv8"], ["-O0"]):
        got, stats = run(TCC, path, pb, os.path.join(TMP, "out"), flags + ["--stats"])
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
        line = [l for l in stats.splitlines() if "on the int8 kernels" in l]
        want_line = ([] if flags == ["-O0"] or not rewritten else
                     [f"// quantize: {rewritten} on the int8 kernels: 1"])
        exact = want.dtype == np.int32  # an integer op's sum: no rounding to be off by
        ok = diff.max() <= (0 if exact else 1) and np.mean(diff > 0) <= 0.01 and line == want_line
        print(f"{'ok  ' if ok else 'FAIL'} {name} {' '.join(flags) or '-O2'}: {int((diff > 0).sum())} "
              f"of {diff.size} bytes one step off, {line}")
        if not ok:
            failures.append(f"{name} {flags}")


# QLinearConv: 3x3, pad 1, stride 2, bias; x u8 / i8; w i8 per channel or u8 with zero point
C, M, H = 5, 12, 9
for x_dt, w_dt in ((np.uint8, np.int8), (np.int8, np.int8), (np.uint8, np.uint8)):
    tag = f"conv x {np.dtype(x_dt).name} w {np.dtype(w_dt).name}"
    xi = np.iinfo(x_dt)
    x = rng.integers(xi.min, xi.max + 1, (2, C, H, H)).astype(x_dt)
    xs, xz = np.float32(0.05), np.array(int(xi.min) + 100 if x_dt == np.uint8 else -3, x_dt)
    if w_dt == np.int8:
        w = rng.integers(-127, 128, (M, C, 3, 3)).astype(np.int8)
        wz = np.zeros(M, np.int8)
        ws = (rng.random(M) * 0.01 + 0.002).astype(np.float32)
    else:  # u8 weights around 128, per-tensor zero point and scale
        w = rng.integers(60, 200, (M, C, 3, 3)).astype(np.uint8)
        wz = np.array(128, np.uint8)
        ws = np.float32(0.004)
    b = rng.integers(-2000, 2000, M).astype(np.int32)
    acc = conv_ref(x, int(xz), w, np.broadcast_to(np.asarray(wz, np.int64), (M,)), b, 2, 1)
    ys, yz = out_params(acc * (xs * np.asarray(ws, np.float64)).reshape(1, -1, 1, 1), x_dt)
    path = os.path.join(TMP, tag.replace(" ", "_") + ".onnx")
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"],
                            ["y"], pads=[1] * 4, strides=[2, 2])
    model(path, node, [("x", x_dt, list(x.shape))],
          [t("xs", xs), t("xz", xz), t("w", w), t("ws", ws), t("wz", wz), t("ys", ys),
           t("yz", yz), t("b", b)], x_dt)
    mult = ((np.float32(xs) * np.asarray(ws, np.float32)) / ys).astype(np.float32)
    want = requant(acc, mult.astype(np.float64).reshape(1, -1, 1, 1) if mult.ndim else
                   float(mult), int(yz), x_dt)
    case(tag, path, "x", x, want, "QLinearConv")

# QLinearMatMul: a 3-D u8 (and i8) times a constant i8 [K, N], per-column scales
K, N = 70, 19
for a_dt in (np.uint8, np.int8):
    tag = f"matmul a {np.dtype(a_dt).name}"
    ai = np.iinfo(a_dt)
    a = rng.integers(ai.min, ai.max + 1, (2, 6, K)).astype(a_dt)
    az = np.array(120 if a_dt == np.uint8 else 5, a_dt)
    bq = rng.integers(-128, 128, (K, N)).astype(np.int8)
    bs = (rng.random(N) * 0.02 + 0.001).astype(np.float32)
    bz = np.zeros(N, np.int8)
    a_s = np.float32(0.02)
    acc = (a.astype(np.int64) - int(az)) @ bq.astype(np.int64)
    ys, yz = out_params(acc * (a_s * bs.astype(np.float64)), a_dt)
    path = os.path.join(TMP, tag.replace(" ", "_") + ".onnx")
    node = helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])
    model(path, node, [("a", a_dt, list(a.shape))],
          [t("as", a_s), t("az", az), t("b", bq), t("bs", bs), t("bz", bz), t("ys", ys),
           t("yz", yz)], a_dt)
    mult = ((a_s * bs) / ys).astype(np.float32).astype(np.float64)
    case(tag, path, "a", a, requant(acc, mult, int(yz), a_dt), "QLinearMatMul")

# ConvInteger: x u8 with a zero point and w u8 with per-channel zero points
# (pad 1, stride 2), then x and w i8 with none
for x_dt in (np.uint8, np.int8):
    tag = f"convinteger x {np.dtype(x_dt).name}"
    xi = np.iinfo(x_dt)
    x = rng.integers(xi.min, xi.max + 1, (2, C, H, H)).astype(x_dt)
    if x_dt == np.uint8:
        xz = np.array(100, np.uint8)
        wz = rng.integers(100, 156, M).astype(np.uint8)  # w - wz fits i8: what the kernels take
        w = (wz.reshape(-1, 1, 1, 1) + rng.integers(-100, 100, (M, C, 3, 3))).astype(np.uint8)
        names, inits = ["x", "w", "xz", "wz"], [t("w", w), t("xz", xz), t("wz", wz)]
    else:
        xz, w, wz = np.array(0, np.int8), rng.integers(-128, 128, (M, C, 3, 3)).astype(np.int8), \
            np.zeros(M, np.int8)
        names, inits = ["x", "w"], [t("w", w)]
    want = conv_ref(x, int(xz), w, wz.astype(np.int64), np.zeros(M, np.int64), 2, 1).astype(np.int32)
    path = os.path.join(TMP, tag.replace(" ", "_") + ".onnx")
    model(path, helper.make_node("ConvInteger", names, ["y"], pads=[1] * 4, strides=[2, 2]),
          [("x", x_dt, list(x.shape))], inits, np.int32)
    case(tag, path, "x", x, want, "ConvInteger")

# MatMulInteger: a 3-D u8 with a zero point times a constant i8 [K, N] with
# per-column zero points; then K = 600 of full-range weights, whose sums
# could pass 2^24: no rewrite, the op's own loops, the same sums
for K2, rewritten in ((70, "MatMulInteger"), (600, None)):
    tag = f"matmulinteger K {K2}"
    a = rng.integers(0, 256, (2, 6, K2)).astype(np.uint8)
    az = np.array(0 if rewritten is None else 131, np.uint8)
    bq = rng.integers(-125, 125, (K2, N)).astype(np.int8)  # bq - bz fits i8
    if rewritten is None:
        bq[:, 0] = -128  # column 0 reaches 600 * 128 * 255 > 2^24
    bz = (np.zeros(N) if rewritten is None else rng.integers(-3, 4, N)).astype(np.int8)
    want = ((a.astype(np.int64) - int(az)) @ (bq.astype(np.int64) - bz)).astype(np.int32)
    path = os.path.join(TMP, tag.replace(" ", "_") + ".onnx")
    model(path, helper.make_node("MatMulInteger", ["a", "b", "az", "bz"], ["y"]),
          [("a", np.uint8, list(a.shape))], [t("b", bq), t("az", az), t("bz", bz)], np.int32)
    case(tag, path, "a", a, want, rewritten)

if failures:
    sys.exit(f"{len(failures)} failed: {failures}")
print("all passed")
