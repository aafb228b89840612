"""The int8 kernels (docs/compression.md "Quantization"), checked against
numpy on hand-written IR: arith.dot4 exactly (vpdpbusd where the flags give
VNNI, widened multiplies elsewhere), and the int8 forms of fused_matmul and
fused_conv (quantized X, i8 weights, i32 sums, the dequantizing epilogue)
at -O0 (plain loops, the reference) and through the packed kernel.

usage: test_int8_kernels.py TCC"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

TCC = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tcc-int8-")
failures = []


def fmt(a):
    if a.dtype.kind == "f":
        return ",".join(repr(float(v)) for v in a.ravel())
    return ",".join(str(int(v)) for v in a.ravel())


def write(name, array):
    path = os.path.join(TMP, name + ".pb")
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())
    return path


def run(tir, inputs, flags, n_out=1):
    src = os.path.join(TMP, "m.tir")
    with open(src, "w") as f:
        f.write(tir)
    out = os.path.join(TMP, "out")
    cmd = [TCC, "run", src, "--output-dir", out, "-q"] + flags
    for p in inputs:
        cmd += ["--input", p]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stderr}")
        return None
    outs = []
    for k in range(n_out):
        t = onnx.TensorProto()
        with open(os.path.join(out, f"output_{k}.pb"), "rb") as f:
            t.ParseFromString(f.read())
        outs.append(numpy_helper.to_array(t))
    return outs


def wrap32(v):
    return ((v + 2**31) % 2**32 - 2**31).astype(np.int32)


# --- arith.dot4: vectors of `lanes` and a scalar form, the extremes included
def dot4_tir(lanes):
    return f"""module @dot4
func @main(%0: buf i32[16] as "u", %1: buf i32[16] as "s", %2: buf i32[16] as "acc") -> (%3: buf i32[16] as "y", %4: buf i32[16] as "ys") {{workspace=0}} {{
  %5 = arith.const() {{value=0}} : index
  %10 = arith.const() {{value=16}} : index
  loop.for(%5, %10) {{step={lanes}}} (%20: index) {{
    %6 = mem.vload(%0, %20) : <{lanes} x i32>
    %7 = mem.vload(%1, %20) : <{lanes} x i32>
    %8 = mem.vload(%2, %20) : <{lanes} x i32>
    %9 = arith.dot4(%8, %6, %7) : <{lanes} x i32>
    mem.vstore(%9, %3, %20)
  }}
  loop.for(%5, %10) {{step=1}} (%11: index) {{
    %12 = mem.load(%0, %11) : i32
    %13 = mem.load(%1, %11) : i32
    %14 = mem.load(%2, %11) : i32
    %15 = arith.dot4(%14, %12, %13) : i32
    mem.store(%15, %4, %11)
  }}
}}
"""


rng = np.random.default_rng(1)
u = rng.integers(0, 256, (16, 4), dtype=np.uint8)
s = rng.integers(-128, 128, (16, 4), dtype=np.int8)
acc = rng.integers(-2**31, 2**31, 16, dtype=np.int64).astype(np.int32)
u[0], s[0], acc[0] = 255, -128, 2**31 - 1  # wraps
u[1], s[1] = 255, 127
want = wrap32(acc.astype(np.int64) + (u.astype(np.int64) * s.astype(np.int64)).sum(1))
pbs = [write("u", u.view(np.int32).reshape(16)), write("s", s.view(np.int32).reshape(16)),
       write("acc", acc)]
# x86's at 512 bits (16 lanes), armv8's at 128 (4)
DOT4, DOT4_ARM = dot4_tir(16), dot4_tir(4)
for tir, flags in ((DOT4, []), (DOT4, ["-mattr=+avx512vnni"]), (DOT4, ["-mattr=+avxvnni"]),
                   (DOT4, ["-target=armv8"]), (DOT4_ARM, ["-target=armv8"]),
                   (DOT4_ARM, ["-target=armv8", "-mattr=+dotprod"]),
                   (DOT4_ARM, ["-target=armv8", "-mattr=+i8mm"])):
    got = run(tir, pbs, flags, 2)
    if got is None:
        continue
    for k in range(2):
        if not np.array_equal(got[k], want):
            failures.append(f"dot4 {flags} output {k}: {got[k].tolist()} != {want.tolist()}")
print(f"arith.dot4: 7 forms and flag sets checked")


# --- fused_matmul, int8 form
def matmul_case(M, K, N, act, seed):
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (K, N)).astype(np.int8)
    ws = (rng.random(N) * 0.02 + 0.001).astype(np.float32)
    b = rng.standard_normal(N).astype(np.float32)
    x = (rng.standard_normal((M, K)) * 2).astype(np.float32)
    x[0, 0] = 100.0  # saturates at 255
    xs, zp = np.float32(0.03), 117
    act_attr = f'act="{act}", ' if act else ""
    tir = f"""module @q
weight $w : i8[{K},{N}] = [{fmt(w)}]
weight $ws : f32[{N}] = [{fmt(ws)}]
weight $b : f32[{N}] = [{fmt(b)}]
func @main(%0: f32[{M},{K}] as "x") -> (f32[{M},{N}] as "y") {{
  %1 = fused_matmul(%0, $w, $b, none, $ws) {{{act_attr}x_scale={float(xs)!r}, x_zero_point={zp}}} : f32[{M},{N}]
  return(%1)
}}
"""
    q = np.clip(np.round(x / xs) + zp, 0, 255).astype(np.int64)
    y = ((q - zp) @ w.astype(np.int64)).astype(np.float32) * (xs * ws) + b
    if act == "relu":
        y = np.maximum(y, 0)
    return tir, [write("x", x)], y


def check(name, tir, pbs, want, flags):
    got = run(tir, pbs, flags)
    if got is None:
        return
    err = float(np.max(np.abs(got[0] - want)) / max(float(np.max(np.abs(want))), 1e-30))
    if err > 1e-6:
        failures.append(f"{name} {flags}: relative error {err:.3g}")


cases = 0
for M, K, N, act in ((5, 7, 19, "relu"), (33, 1030, 70, None), (1, 784, 64, "relu"),
                     (3, 5, 3, None)):
    tir, pbs, want = matmul_case(M, K, N, act, M + K + N)
    for flags in (["-O0"], [], ["-mattr=+avx512vnni"], ["-threads=2"]):
        check(f"fused_matmul {M}x{K}x{N}", tir, pbs, want, flags)
        cases += 1
tir, pbs, want = matmul_case(33, 1030, 70, "relu", 9)
for flags in (["-target=armv8"], ["-target=armv8", "-mattr=+dotprod"]):
    check("fused_matmul 33x1030x70", tir, pbs, want, flags)
print(f"fused_matmul int8: {cases + 2} runs checked")



# --- fused_conv, int8 form (one group; NCHW)
def conv_ref(x, w, stride, pad):
    n, C, H, W = x.shape
    M, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    OH, OW = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
    y = np.zeros((n, M, OH, OW), np.int64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride]
            y += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    return y


def conv_case(n, C, H, M, k, stride, pad, act, residual, seed):
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (M, C, k, k)).astype(np.int8)
    ws = (rng.random(M) * 0.01 + 0.001).astype(np.float32)
    b = rng.standard_normal(M).astype(np.float32)
    x = (rng.standard_normal((n, C, H, H)) * 2).astype(np.float32)
    x[0, 0, 0, 0] = -100.0  # saturates at 0
    xs, zp = np.float32(0.04), 100
    OH = (H + 2 * pad - k) // stride + 1
    yshape = f"f32[{n},{M},{OH},{OH}]"
    act_attr = f'act="{act}", ' if act else ""
    r_in = f', %1: {yshape} as "r"' if residual else ""
    tir = f"""module @q
weight $w : i8[{M},{C},{k},{k}] = [{fmt(w)}]
weight $ws : f32[{M}] = [{fmt(ws)}]
weight $b : f32[{M}] = [{fmt(b)}]
func @main(%0: f32[{n},{C},{H},{H}] as "x"{r_in}) -> ({yshape} as "y") {{
  %9 = fused_conv(%0, $w, $b, {"%1" if residual else "none"}, none, none, $ws) {{{act_attr}dilations=[1,1], group=1, kernel_shape=[{k},{k}], pads=[{pad},{pad},{pad},{pad}], strides=[{stride},{stride}], x_scale={float(xs)!r}, x_zero_point={zp}}} : {yshape}
  return(%9)
}}
"""
    q = np.clip(np.round(x / xs) + zp, 0, 255).astype(np.int64)
    # padding is 0.0, which quantizes to zp: (zp - zp) * w adds nothing
    acc = conv_ref(q - zp, w.astype(np.int64), stride, pad)
    y = acc.astype(np.float32) * (xs * ws)[None, :, None, None] + b[None, :, None, None]
    pbs = [write("x", x)]
    if residual:
        r = rng.standard_normal(y.shape).astype(np.float32)
        y = y + r
        pbs.append(write("r", r))
    if act == "relu":
        y = np.maximum(y, 0)
    return tir, pbs, y


cases = 0
for shape in ((1, 3, 9, 8, 3, 1, 1, "relu", False), (2, 16, 14, 32, 3, 2, 1, None, True),
              (1, 64, 7, 24, 1, 1, 0, "relu", False), (1, 300, 6, 16, 3, 1, 1, None, False),
              (1, 5, 11, 40, 5, 2, 2, "relu", True), (2, 600, 5, 20, 1, 1, 0, None, True)):
    tir, pbs, want = conv_case(*shape, seed=sum(shape[:7]))
    for flags in (["-O0"], [], ["-mattr=+avx512vnni"], ["-threads=2"]):
        check(f"fused_conv {shape}", tir, pbs, want, flags)
        cases += 1
tir, pbs, want = conv_case(1, 300, 6, 16, 3, 1, 1, "relu", True, seed=4)
for flags in (["-target=armv8"], ["-target=armv8", "-mattr=+dotprod"], ["-target=armv8", "-mattr=+i8mm"]):
    check("fused_conv 300x6x6", tir, pbs, want, flags)
print(f"fused_conv int8: {cases + 3} runs checked")

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("PASS")
