"""-weight-type=fp16|bf16: the weights that kernels pack at compile time
stored at half size, widened to f32 as they are loaded
(docs/compression.md).

Checked, per type:
  - a conv 3x3 -> Relu -> Flatten -> Gemm -> MatMul model against numpy
    computing in float64 with those weights rounded to the type (round to
    nearest even, as numpy's float16 and the bf16 bit rounding do): float
    rounding apart, which the unrounded weights are not;
  - exactness of the widening: on models whose f32 weights hold values of
    the type already (rounded in the file), the half-size object's output
    is the f32 object's, bit for bit (compiled with -winograd=0: half-size
    weights keep 3x3 convolutions on the direct product, whose filters are
    the file's, where Winograd's transformed ones are not values of the type): the conv model, a depthwise 5x5 conv
    on a 7x7 map (the channels-last kernel) and an LSTM (the RNN's gate
    products), on x86_64, and the conv model on armv8 and riscv64 (QEMU);
  - the object shrinks by about half the packed weights' bytes (against the
    f32 object with -winograd=0 again);
  - -O0 and a bad value are refused with exact messages.

usage: test_weight_type.py TCC"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(__file__))
from tcc_models import rel_err, run, save, write_input  # noqa: E402

TCC = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="tcc-weight-type-")
failures = []
rng = np.random.default_rng(3)


def check(ok, label, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {label}{': ' + detail if detail else ''}")
    if not ok:
        failures.append(label)


def to_bf16(a):
    """f32 -> the nearest bf16 (ties to even), as f32."""
    b = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32)


ROUND = {"fp16": lambda a: np.asarray(a, np.float32).astype(np.float16).astype(np.float32),
         "bf16": to_bf16}
C, M, H, N, P = 16, 24, 10, 10, 7


def conv_model(path, w):
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1] * 4),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "G", "g"], ["h"], transB=1),
             helper.make_node("MatMul", ["h", "B"], ["y"])]
    save(path, nodes, [("x", [2, C, H, H])], w)


def conv_reference(x, w):
    x = x.astype(np.float64)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    c = np.zeros((2, M, H, H))
    W = w["W"].astype(np.float64)
    for i in range(3):
        for j in range(3):
            c += np.einsum("nchw,mc->nmhw", xp[:, :, i:i + H, j:j + H], W[:, :, i, j])
    f = np.maximum(c, 0).reshape(2, -1)
    h = f @ w["G"].astype(np.float64).T + w["g"]
    return h @ w["B"].astype(np.float64)


def dw_model(path, w):
    nodes = [helper.make_node("Conv", ["x", "W", "b"], ["y"], pads=[2] * 4, group=32,
                              kernel_shape=[5, 5])]
    save(path, nodes, [("x", [1, 32, 7, 7])], w)


def lstm_model(path, w):
    nodes = [helper.make_node("LSTM", ["x", "W", "R", "B"], ["y"], hidden_size=16)]
    save(path, nodes, [("x", [5, 2, 12])], w)


def weights(kind, rnd=None):
    r = rnd or (lambda a: a.astype(np.float32))
    if kind == "conv":
        return {"W": r(rng.standard_normal((M, C, 3, 3)) * 0.2),
                "G": r(rng.standard_normal((N, M * H * H)) * 0.02), "g": rng.standard_normal(N),
                "B": r(rng.standard_normal((N, P)) * 0.3)}
    if kind == "dw":
        return {"W": r(rng.standard_normal((32, 1, 5, 5)) * 0.2), "b": rng.standard_normal(32)}
    return {"W": r(rng.standard_normal((1, 64, 12)) * 0.3),
            "R": r(rng.standard_normal((1, 64, 16)) * 0.3), "B": rng.standard_normal((1, 128))}


def tcc(*args):
    return subprocess.run([TCC, *args], capture_output=True, text=True)


def main():
    x = rng.standard_normal((2, C, H, H)).astype(np.float32)
    xin = os.path.join(TMP, "x.pb")
    write_input(xin, "x", x)
    w = weights("conv")
    model = os.path.join(TMP, "conv.onnx")
    conv_model(model, w)
    exact = conv_reference(x, w)
    sizes = {}
    for wt in ("f32", "fp16", "bf16"):
        out = os.path.join(TMP, "obj_" + wt)
        r = tcc("compile", model, f"-weight-type={wt}", "-winograd=0", "-name=m", "-o", out)
        sizes[wt] = os.path.getsize(os.path.join(out, "m.o")) if r.returncode == 0 else -1
    packed = 4 * (M * C * 9 + N * M * H * H + N * P)
    for wt in ("fp16", "bf16"):
        rw = {k: (ROUND[wt](v) if k in ("W", "G", "B") else v) for k, v in w.items()}
        got, _ = run(TCC, model, xin, os.path.join(TMP, "y_" + wt), [f"-weight-type={wt}"])
        e, e_exact = rel_err(got, conv_reference(x, rw)), rel_err(got, exact)
        check(e <= 2e-6 and e_exact > 10 * e,
              f"{wt}: conv/Gemm/MatMul = numpy with the weights rounded to {wt}",
              f"max err / max|ref| {e:.2e} (against the unrounded weights {e_exact:.2e})")
        saved = sizes["f32"] - sizes[wt]
        check(0.45 * packed <= saved <= 0.55 * packed,
              f"{wt}: the object is smaller by half the packed weights",
              f"{sizes['f32']} -> {sizes[wt]} bytes, {saved} saved of {packed}")

    # widening is exact: weights that are values of the type give f32's bits
    cases = [("conv", conv_model, xin, ["x86_64", "armv8", "riscv64"]),
             ("dw", dw_model, None, ["x86_64"]), ("lstm", lstm_model, None, ["x86_64"])]
    shapes = {"dw": (1, 32, 7, 7), "lstm": (5, 2, 12)}
    for wt in ("fp16", "bf16"):
        for kind, make, inp, targets in cases:
            path = os.path.join(TMP, f"{kind}_{wt}.onnx")
            make(path, weights(kind, ROUND[wt]))
            if inp is None:
                inp = os.path.join(TMP, f"{kind}_x.pb")
                write_input(inp, "x", rng.standard_normal(shapes[kind]).astype(np.float32))
            for target in targets:
                flags = [] if target == "x86_64" else [f"-target={target}"]
                a, _ = run(TCC, path, inp, os.path.join(TMP, f"a_{kind}_{wt}_{target}"),
                           flags + ["-winograd=0"])
                b, _ = run(TCC, path, inp, os.path.join(TMP, f"b_{kind}_{wt}_{target}"),
                           flags + [f"-weight-type={wt}"])
                check(np.array_equal(a.view(np.uint32), b.view(np.uint32)),
                      f"{wt}: {kind} on {target}, weights already {wt}: the f32 object's bits",
                      f"max |diff| {float(np.max(np.abs(a - b))):.2e}")
            if kind != "conv":  # packed, so smaller (the depthwise kernel packs channels last)
                got = {}
                for t in ("f32", wt):
                    out = os.path.join(TMP, f"size_{kind}_{wt}_{t}")
                    r = tcc("compile", path, "-mcpu=native", f"-weight-type={t}", "-name=m",
                            "-o", out, "-v")
                    got[t] = (os.path.getsize(os.path.join(out, "m.o")), r.stderr)
                packs = kind == "lstm" or "channels last" in got[wt][1]
                saved = got["f32"][0] - got[wt][0]
                half = 2 * (64 * 12 + 64 * 16) if kind == "lstm" else 2 * 32 * 25
                check(saved >= 0.75 * half if packs else saved == 0,  # code may grow a little
                      f"{wt}: {kind}'s object {'smaller by about half its packed weights' if packs else 'unchanged (its kernel packs nothing here)'}",
                      f"{got['f32'][0]} -> {got[wt][0]} bytes")

    r = tcc("compile", model, "-weight-type=fp16", "-O0", "-o", os.path.join(TMP, "o0"))
    check(r.returncode == 1 and r.stderr == "tcc: error: -weight-type=fp16 stores the weights "
          "that the packed kernels read; -O0 has none (its plain loops read f32): compile at -O1 "
          "or above\n" and not os.path.exists(os.path.join(TMP, "o0")), "-O0 refused", r.stderr)
    r = tcc("compile", model, "-weight-type=fp8", "-o", os.path.join(TMP, "bad"))
    check(r.returncode == 1 and r.stderr == "tcc: error: invalid -weight-type 'fp8': expected "
          "f32 (the default), fp16 or bf16 (the kernels' packed weights stored at half size, "
          "computed in f32)\n", "a bad value refused", r.stderr)
    if failures:
        sys.exit(f"{len(failures)} failed: {failures}")
    print("all passed")


main()
