"""-quantize=dynamic against numpy: MatMul and Gemm layers with i8 weights
per output channel and u8 inputs scaled at every run, as ONNX's
DynamicQuantizeLinear defines it (docs/compression.md).

The reference, in f32 as tcc computes it: lo = min(0, min x), hi = max(0,
max x), scale = (hi - lo) / 255 (1 when x is all zeros), zero point
round(-lo / scale) (half to even), q = clip(round(x / scale) + zp, 0, 255);
weights as -quantize=int8 takes them (max|w| / 127 per channel); the i32
sums, float(acc - zp * sum w) * (scale * w_scale) + bias.  One object runs
inputs of very different ranges, and all zeros: the scale is the run's.  At
-O0 (plain loops), -O2, -threads=2 and on armv8; convolutions stay f32;
-keep-float; --calib and tcc export refused.

usage: test_dynamic.py TCC"""
import os
import sys
import tempfile

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(__file__))
from tcc_models import refused, run, save, write_input  # noqa: E402

TCC = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tcc-dynamic-")
failures = []
rng = np.random.default_rng(8)
f32 = np.float32


def q_x(x):
    lo, hi = min(f32(0), x.min()), max(f32(0), x.max())
    scale = f32((hi - lo) / f32(255))
    if not scale > 0:
        scale = f32(1)
    zp = f32(min(np.round(-lo / scale), 255))
    return np.clip(np.round(x / scale) + zp, 0, 255).astype(np.int64), scale, int(zp)


def q_w(w):  # columns of w [K, N] are output channels
    s = (np.abs(w).max(axis=0) / 127).astype(np.float32)
    s[s == 0] = 1
    return np.clip(np.round(w / s), -127, 127).astype(np.int64), s


def dyn_linear(x, w, b):  # x [..., K] quantized as one tensor, w [K, N]
    q, xs, zp = q_x(x)
    wq, ws = q_w(w)
    acc = q.reshape(-1, w.shape[0]) @ wq - zp * wq.sum(axis=0)
    y = acc.astype(np.float32) * (xs * ws).astype(np.float32) + b
    return y.reshape(x.shape[:-1] + (w.shape[1],))


K, N1, N2 = 37, 24, 9
w1 = (rng.standard_normal((K, N1)) * 0.3).astype(np.float32)
b1 = (rng.standard_normal(N1) * 0.1).astype(np.float32)
w2 = (rng.standard_normal((N2, N1)) * 0.2).astype(np.float32)  # Gemm transB
b2 = rng.standard_normal(N2).astype(np.float32)
model = os.path.join(TMP, "mlp.onnx")
save(model, [helper.make_node("MatMul", ["x", "w1"], ["m"], name="fc1"),
             helper.make_node("Add", ["m", "b1"], ["a"]),
             helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"], axis=2),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], transB=1, name="fc2")],
     [("x", [3, 5, K])], {"w1": w1, "b1": b1, "w2": w2, "b2": b2})


def reference(x):
    r = np.maximum(dyn_linear(x, w1, b1), 0).reshape(15, N1)
    return dyn_linear(r, w2.T, b2)


inputs = {"normal": rng.standard_normal((3, 5, K)).astype(np.float32),
          "wide": (rng.standard_normal((3, 5, K)) * 40 + 3).astype(np.float32),
          "positive": rng.random((3, 5, K)).astype(np.float32),
          "zeros": np.zeros((3, 5, K), np.float32)}
FLAGS = [["-O0"], [], ["-threads=2"], ["-target=armv8"]]
for name, x in inputs.items():
    pb = os.path.join(TMP, name + ".pb")
    write_input(pb, "x", x)
    want = reference(x)
    floats = np.maximum(x @ w1 + b1, 0).reshape(15, N1) @ w2.T + b2
    for flags in FLAGS:
        got, stats = run(TCC, model, pb, os.path.join(TMP, "out"), ["-quantize=dynamic"] + flags)
        err = float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))
        sqnr = 10 * np.log10(np.sum(floats ** 2) / max(np.sum((got - floats) ** 2), 1e-30))
        quantized = [line for line in stats.splitlines() if line.startswith("// quantize:")]
        ok = err <= 2e-6 and sqnr >= 30 and sorted(quantized) == [
            "// quantize: gemms quantized: 1", "// quantize: matmuls quantized: 1"]
        print(f"{'ok  ' if ok else 'FAIL'} {name} {' '.join(flags) or '-O2'}: max err / max|ref| "
              f"{err:.2e}, SQNR against f32 {sqnr:.1f} dB, {quantized}")
        if not ok:
            failures.append(f"{name} {flags}")

# convolutions stay f32; -keep-float keeps a named layer f32
conv = os.path.join(TMP, "conv.onnx")
wc = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
save(conv, [helper.make_node("Conv", ["x", "wc"], ["c"], name="conv"),
            helper.make_node("Flatten", ["c"], ["f"]),
            helper.make_node("MatMul", ["f", "wm"], ["y"], name="fc")],
     [("x", [1, 3, 5, 5])], {"wc": wc, "wm": (rng.standard_normal((36, 6)) * 0.2)})
pb = os.path.join(TMP, "conv_x.pb")
write_input(pb, "x", rng.standard_normal((1, 3, 5, 5)).astype(np.float32))
for flags, want in ((["-quantize=dynamic"], ["// quantize: left in float: 1",
                                             "// quantize: matmuls quantized: 1"]),
                    (["-quantize=dynamic", "-keep-float=fc"], ["// quantize: left in float: 2"])):
    _, stats = run(TCC, conv, pb, os.path.join(TMP, "out"), flags)
    got = [line for line in stats.splitlines() if line.startswith("// quantize:")]
    ok = sorted(got) == want
    print(f"{'ok  ' if ok else 'FAIL'} {' '.join(flags)}: {got}")
    if not ok:
        failures.append(" ".join(flags))

for args, msg in (
        (["compile", model, "-quantize=dynamic", "--calib=" + TMP],
         "tcc: error: --calib applies to -quantize=int8; -quantize=dynamic measures each input's "
         "range at run time\n"),
        (["export", model, "-quantize=dynamic"],
         "tcc: error: tcc export writes -quantize=int8 models; -quantize=dynamic is not written "
         "back yet\n"),
        (["compile", model, "-quantize=int4"],
         "tcc: error: invalid -quantize 'int4': expected int8 (static: u8 activations scaled by "
         "--calib, i8 weights per channel) or dynamic (MatMul and Gemm: i8 weights per channel, "
         "u8 inputs scaled at run time)\n")):
    if not refused(TCC, args, os.path.join(TMP, "refused"), msg.rstrip("\n")):
        failures.append(f"refused {args}")

if failures:
    sys.exit(f"{len(failures)} failed: {failures}")
print("all passed")
