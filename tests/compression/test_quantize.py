"""-quantize=int8 --calib=DIR on small ONNX models, against numpy.

The reference re-derives what docs/compression.md says the pass does:
each layer's input range is its minimum and maximum over the calibration
batches (widened to hold 0), u8 with scale (hi - lo) / 255 and zero point
round(-lo / scale); weights per output channel, scale max|w| / 127; i32
sums; float(acc - zp * sum w) * x_scale * w_scale + bias.  tcc's int8
object must match it to float rounding, at -O0 (plain loops) and -O2 (the
packed kernels), on x86_64 and armv8, and stay near float32 (SQNR).

usage: test_quantize.py TCC"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(__file__))
from tcc_models import run, save, write_input  # noqa: E402

TCC = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tcc-quantize-")
failures = []


def q_u8(x, lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / 255)
    zp = int(np.clip(np.round(-lo / np.float64(scale)), 0, 255))
    return np.clip(np.round(x / scale) + zp, 0, 255).astype(np.int64), scale, zp


def q_w(w):  # rows are output channels
    s = (np.abs(w).max(axis=1) / 127).astype(np.float32)
    s[s == 0] = 1
    return np.clip(np.round(w / s[:, None]), -127, 127).astype(np.int64), s


def linear(x, lo, hi, w, b):  # x [M, K], w [N, K]
    q, xs, zp = q_u8(x, lo, hi)
    wq, ws = q_w(w)
    acc = (q - zp) @ wq.T
    return acc.astype(np.float32) * (xs * ws) + b


def conv3x3(x, lo, hi, w, b):  # pad 1, stride 1, NCHW
    n, c, h, wd = x.shape
    cols = np.zeros((n, c * 9, h * wd), np.float32)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))  # 0.0 pads: quantizes to zp
    for i in range(3):
        for j in range(3):
            cols[:, np.arange(c) * 9 + i * 3 + j, :] = xp[:, :, i:i + h, j:j + wd].reshape(n, c, -1)
    y = np.stack([linear(cols[k].T, lo, hi, w.reshape(w.shape[0], -1), b) for k in range(n)])
    return y.transpose(0, 2, 1).reshape(n, -1, h, wd)


def calib_dir(name, batches):
    d = os.path.join(TMP, name)
    for k, x in enumerate(batches):
        os.makedirs(os.path.join(d, f"test_data_set_{k}"), exist_ok=True)
        write_input(os.path.join(d, f"test_data_set_{k}", "input_0.pb"), "x", x)
    return d


def sqnr(got, want):
    return 10 * np.log10(np.sum(want ** 2) / max(np.sum((got - want) ** 2), 1e-30))


def check(name, model, x, want, calib, flags_list, min_sqnr, float_want):
    pb = os.path.join(TMP, name + "_x.pb")
    write_input(pb, "x", x)
    for flags in flags_list:
        got, _ = run(TCC, model, pb, os.path.join(TMP, "out"),
                     ["-quantize=int8", "--calib=" + calib] + flags)
        err = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        if err > 2e-6:
            failures.append(f"{name} {flags}: relative error {err:.3g} against the int8 reference")
        s = sqnr(got, float_want)
        if s < min_sqnr:
            failures.append(f"{name} {flags}: SQNR {s:.1f} dB against float32, below {min_sqnr}")
    print(f"{name}: int8 matches the numpy reference on {len(flags_list)} flag sets")


FLAGS = [["-O0"], [], ["-threads=2"], ["-target=armv8"]]
rng = np.random.default_rng(5)

# conv 3x3 + bias -> relu -> flatten -> gemm (transB, C)
C, M, H, N = 3, 8, 6, 5
w1 = (rng.standard_normal((M, C, 3, 3)) * 0.3).astype(np.float32)
b1 = rng.standard_normal(M).astype(np.float32) * 0.1
w2 = (rng.standard_normal((N, M * H * H)) * 0.05).astype(np.float32)
b2 = rng.standard_normal(N).astype(np.float32)
model = os.path.join(TMP, "convnet.onnx")
save(model, [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], transB=1, name="fc")],
     [("x", [2, C, H, H])], {"w1": w1, "b1": b1, "w2": w2, "b2": b2})
batches = [rng.standard_normal((2, C, H, H)).astype(np.float32) for _ in range(4)]
lo1, hi1 = min(b.min() for b in batches), max(b.max() for b in batches)


def float_net(x):
    from numpy.lib.stride_tricks import sliding_window_view as win
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    c = np.einsum("nchwij,mcij->nmhw", win(xp, (3, 3), axis=(2, 3)), w1) + b1[None, :, None, None]
    return np.maximum(c, 0).reshape(x.shape[0], -1)


relu = [float_net(b) for b in batches]
lo2, hi2 = min(r.min() for r in relu), max(r.max() for r in relu)
x = rng.standard_normal((2, C, H, H)).astype(np.float32)
r = np.maximum(conv3x3(x, lo1, hi1, w1, b1), 0).reshape(2, -1)
want = linear(r, lo2, hi2, w2, b2)
check("conv-relu-gemm", model, x, want, calib_dir("convnet", batches), FLAGS, 25,
      float_net(x) @ w2.T + b2)

# -keep-float=fc: the Gemm stays f32 after the int8 conv
pb = os.path.join(TMP, "kf_x.pb")
write_input(pb, "x", x)
got, stats = run(TCC, model, pb, os.path.join(TMP, "out"),
                 ["-quantize=int8", "--calib=" + os.path.join(TMP, "convnet"), "-keep-float=fc",
                  "--stats"])
want_kf = r @ w2.T + b2
if float(np.max(np.abs(got - want_kf)) / np.max(np.abs(want_kf))) > 1e-5:
    failures.append("-keep-float=fc: the output is not the int8 conv's through an f32 Gemm")
for line in ("// quantize: convs quantized: 1", "// quantize: left in float: 1"):
    if line not in stats:
        failures.append(f"-keep-float=fc: no '{line}' in --stats")
bad = subprocess.run([TCC, "compile", model, "-quantize=int8", "--calib=" + os.path.join(TMP, "convnet"),
                      "-keep-float=fc,nope", "-o", os.path.join(TMP, "kf")],
                     capture_output=True, text=True)
want_err = ("tcc: error: -keep-float: node 'nope' is not a layer -quantize takes (a Conv, MatMul or "
            "Gemm with weights)\n")
if bad.returncode != 1 or bad.stderr != want_err or os.path.exists(os.path.join(TMP, "kf")):
    failures.append(f"-keep-float=fc,nope: exit {bad.returncode}, {bad.stderr!r}")
print("conv-relu-gemm: -keep-float=fc keeps the Gemm in f32; an unknown node is refused")


# -quantize-min-sqnr=DB: the outputs' SQNR on the calibration batches, by
# numpy: both layers int8, then each layer alone in int8 (its share of the
# noise); a bound between all-int8 and the better of the two leaves the
# layer with the larger share in f32, one measurement confirming it
def sqnr_db(got, want):
    return 10 * np.log10(np.sum(want.astype(np.float64) ** 2) /
                         np.sum((got.astype(np.float64) - want) ** 2))


f32_conv = [float_net(t) for t in batches]
f32_out = np.concatenate([c @ w2.T + b2 for c in f32_conv])
conv_q = [np.maximum(conv3x3(t, lo1, hi1, w1, b1), 0).reshape(2, -1) for t in batches]
all_int8 = sqnr_db(np.concatenate([linear(c, lo2, hi2, w2, b2) for c in conv_q]), f32_out)
conv_alone = sqnr_db(np.concatenate([c @ w2.T + b2 for c in conv_q]), f32_out)
fc_alone = sqnr_db(np.concatenate([linear(c, lo2, hi2, w2, b2) for c in f32_conv]), f32_out)
if conv_alone < fc_alone:  # the conv's share is the larger: it stays f32, the Gemm int8
    kept, kept_alone, after = "conv", conv_alone, fc_alone
    want_msq = linear(float_net(x), lo2, hi2, w2, b2)
else:
    kept, kept_alone, after = "fc", fc_alone, conv_alone
    want_msq = want_kf
if not after > all_int8 + 1:
    failures.append(f"min-sqnr: the seeded case lost its gap ({all_int8:.1f}, {after:.1f} dB)")
bound = round((all_int8 + after) / 2, 1)
flags = ["-quantize=int8", "--calib=" + os.path.join(TMP, "convnet")]
r = subprocess.run([TCC, "run", model, "--input", pb, "--output-dir", os.path.join(TMP, "msq"),
                    f"-quantize-min-sqnr={bound}"] + flags, capture_output=True, text=True)
want_notes = [f"tcc: note: -quantize-min-sqnr: layer '{kept}' stays in float (alone in int8 it "
              f"brings the outputs to {kept_alone:.1f} dB)",
              f"tcc: note: -quantize-min-sqnr: the outputs at {after:.1f} dB against float32 on "
              f"--calib (at least {bound:g}; {all_int8:.1f} dB all in int8), 1 of 2 layers in float"]
if r.returncode != 0 or r.stderr.splitlines() != want_notes:
    failures.append(f"min-sqnr={bound}: exit {r.returncode}, {r.stderr.splitlines()} "
                    f"instead of {want_notes}")
else:
    got, _ = run(TCC, model, pb, os.path.join(TMP, "msq"), [f"-quantize-min-sqnr={bound}"] + flags)
    if float(np.max(np.abs(got - want_msq)) / np.max(np.abs(want_msq))) > 1e-5:
        failures.append(f"min-sqnr={bound}: the output is not the reference with '{kept}' in f32")
subprocess.run([TCC, "compile", model, "-o", os.path.join(TMP, "msq_cache"),
                "--calib-cache=" + os.path.join(TMP, "msq.json")] + flags, check=True)
for args, msg in (
        (["-quantize-min-sqnr=0"], "tcc: error: invalid -quantize-min-sqnr '0': expected the "
         "outputs' SQNR in dB against float32 on --calib, 0 < DB <= 200\n"),
        (["-quantize=int8", "--calib-cache=" + os.path.join(TMP, "msq.json"),
          "-quantize-min-sqnr=30"],
         "tcc: error: -quantize-min-sqnr measures the outputs on --calib=DIR; give it (also with "
         "--calib-cache)\n")):
    bad = subprocess.run([TCC, "compile", model, *args, "-o", os.path.join(TMP, "msq_bad")],
                         capture_output=True, text=True)
    if bad.returncode != 1 or bad.stderr != msg or os.path.exists(os.path.join(TMP, "msq_bad")):
        failures.append(f"{args}: exit {bad.returncode}, {bad.stderr!r}")
print(f"conv-relu-gemm: -quantize-min-sqnr={bound} keeps '{kept}' in f32 (all int8 "
      f"{all_int8:.1f} dB, then {after:.1f} dB)")

# MatMul with batch dims and a bias Add (fused, then quantized)
K, N = 20, 12
w = (rng.standard_normal((K, N)) * 0.2).astype(np.float32)
b = rng.standard_normal(N).astype(np.float32)
model = os.path.join(TMP, "linear.onnx")
save(model, [helper.make_node("MatMul", ["x", "w"], ["m"]),
             helper.make_node("Add", ["m", "b"], ["y"])],
     [("x", [2, 3, K])], {"w": w, "b": b})
batches = [(rng.standard_normal((2, 3, K)) + 0.5).astype(np.float32) for _ in range(3)]
lo, hi = min(t.min() for t in batches), max(t.max() for t in batches)
x = (rng.standard_normal((2, 3, K)) + 0.5).astype(np.float32)
want = linear(x.reshape(-1, K), lo, hi, w.T, b).reshape(2, 3, N)
check("matmul-add", model, x, want, calib_dir("linear", batches), FLAGS, 25, x @ w + b)



# -calib-method=percentile:99: the same MatMul-Add, calibration batches with
# outliers; the range is the central 99% of the values, by the histogram rule
# of docs/compression.md (2048 bins over [min, max]; from each end, the bins
# holding at most 0.5% of the values are cut)
def percentile_range(values, p, bins=2048):
    lo, hi = np.float32(values.min()), np.float32(values.max())
    width = (np.float64(hi) - np.float64(lo)) / bins
    b = np.clip(np.floor((values.astype(np.float64) - np.float64(lo)) / width), 0, bins - 1)
    hist = np.bincount(b.astype(np.int64), minlength=bins)
    tail = hist.sum() * (100 - p) / 200
    a, z = 0, bins - 1
    below, above = hist[0], hist[z]
    while a < z and below <= tail:
        a += 1
        below += hist[a]
    while z > a and above <= tail:
        z -= 1
        above += hist[z]
    return (max(lo, np.float32(np.float64(lo) + a * width)),
            min(hi, np.float32(np.float64(lo) + (z + 1) * width)))


batches = [(rng.standard_normal((2, 3, K)) + 0.5).astype(np.float32) for _ in range(3)]
batches[1][0, 0, :3] = [40.0, -30.0, 25.0]  # outliers the percentile clips
lo, hi = percentile_range(np.concatenate([t.ravel() for t in batches]), 99)
x = (rng.standard_normal((2, 3, K)) + 0.5).astype(np.float32)
want = linear(x.reshape(-1, K), lo, hi, w.T, b).reshape(2, 3, N)
model = os.path.join(TMP, "linear.onnx")
calib = calib_dir("linear_outliers", batches)
pb = os.path.join(TMP, "pct_x.pb")
write_input(pb, "x", x)
for flags in ([], ["-O0"]):
    got, _ = run(TCC, model, pb, os.path.join(TMP, "out"),
                 ["-quantize=int8", "--calib=" + calib, "-calib-method=percentile:99"] + flags)
    err = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    if err > 2e-6:
        failures.append(f"percentile:99 {flags}: relative error {err:.3g} against the reference")
got, _ = run(TCC, model, pb, os.path.join(TMP, "out"), ["-quantize=int8", "--calib=" + calib])
mm = linear(x.reshape(-1, K), min(t.min() for t in batches), max(t.max() for t in batches), w.T,
            b).reshape(2, 3, N)
if float(np.max(np.abs(got - mm)) / np.max(np.abs(mm))) > 2e-6:
    failures.append("minmax with outliers: differs from its reference")
print(f"matmul-add: -calib-method=percentile:99 matches its reference (range {lo:.3f}..{hi:.3f}, "
      f"minmax's {min(t.min() for t in batches):.1f}..{max(t.max() for t in batches):.1f})")



# -calib-method=entropy: the range whose 256 levels lose the least
# information (docs/compression.md "Calibration"): on the same 2048-bin
# histogram without the bin of 0, the upper end, then the lower end, by
# KL(P || Q)
def kl(hist, a, e):
    n = e - a
    h = hist[a:e].astype(np.float64)
    p = h.copy()
    p[0] += hist[:a].sum()
    p[-1] += hist[e:].sum()
    starts = (np.arange(256) * n) // 256
    mass = np.add.reduceat(h, starts)
    nonzero = np.add.reduceat((h > 0).astype(np.float64), starts)
    chunk = np.repeat(np.arange(256), np.diff(np.append(starts, n)))
    q = np.where(h > 0, mass[chunk] / np.maximum(nonzero[chunk], 1), 0)
    if p.sum() <= 0 or q.sum() <= 0:
        return np.inf
    p, q = p / p.sum(), q / q.sum()
    m = p > 0
    return float(np.sum(p[m] * np.log(p[m] / np.maximum(q[m], 1e-12))))


def entropy_range(values, bins=2048):
    lo, hi = np.float32(values.min()), np.float32(values.max())
    width = (np.float64(hi) - np.float64(lo)) / bins
    b = np.clip(np.floor((values.astype(np.float64) - np.float64(lo)) / width), 0, bins - 1)
    hist = np.bincount(b.astype(np.int64), minlength=bins)
    z = -np.float64(lo) / width
    if 0 <= z < bins:
        hist[int(z)] = 0
    e = min(range(256, bins + 1), key=lambda end: (kl(hist, 0, end), end))
    a = min(range(0, e - 256 + 1), key=lambda start: (kl(hist, start, e), start))
    return (max(lo, np.float32(np.float64(lo) + a * width)),
            min(hi, np.float32(np.float64(lo) + e * width)))


# activations with a long tail on both sides: entropy clips it
batches = [(rng.standard_normal((2, 3, K)) ** 3 + 0.5).astype(np.float32) for _ in range(3)]
lo, hi = entropy_range(np.concatenate([t.ravel() for t in batches]))
x = (rng.standard_normal((2, 3, K)) + 0.5).astype(np.float32)
want = linear(x.reshape(-1, K), lo, hi, w.T, b).reshape(2, 3, N)
calib = calib_dir("linear_tails", batches)
write_input(pb, "x", x)
for flags in ([], ["-O0"]):
    got, _ = run(TCC, model, pb, os.path.join(TMP, "out"),
                 ["-quantize=int8", "--calib=" + calib, "-calib-method=entropy"] + flags)
    err = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    if err > 2e-6:
        failures.append(f"entropy {flags}: relative error {err:.3g} against the reference")
full = np.concatenate([t.ravel() for t in batches])
if not (full.min() < lo and hi < full.max()):
    failures.append(f"entropy: the range {lo}..{hi} clips neither tail of {full.min()}..{full.max()}")
print(f"matmul-add: -calib-method=entropy matches its reference (range {lo:.3f}..{hi:.3f}, "
      f"minmax's {full.min():.1f}..{full.max():.1f})")

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("PASS")
