"""`tcc export MODEL -quantize=int8 --calib=DIR -o OUT` (docs/compression.md
"Export"): the model file with its int8 layers as QuantizeLinear /
DequantizeLinear pairs carrying tcc's scales.

Two models, one with a BatchNormalization after its first conv (fuse folds
it into the weights tcc quantizes, so the export quantizes the file's
weight again) and one without.  Checked:
  - the note's counts, the graph (pairs, per-axis weight DequantizeLinear,
    the float weights gone), onnx.checker;
  - the exported file compiled by tcc (its QDQ import, no flag) against
    `tcc run -quantize=int8` on the original: float rounding where no weight
    was quantized again;
  - ONNX Runtime (npm onnxruntime-node, all its optimizations, so its own
    QDQ fusions) on the exported file against tcc on it: one u8 step of an
    activation moves the output by x_scale * sum|w| of a row, so the bound
    is that of the last layer's input, twice;
  - refusals: exact messages, exit 1, no file.

usage: test_export.py TCC ORT_DIR"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcc_models import onnx_runtime, rel_err, run, save, write_input  # noqa: E402

TCC, ORT_DIR = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="tcc-export-")
failures = []
rng = np.random.default_rng(5)
C, M, H, F, N = 3, 8, 8, 16, 10


def check(ok, label, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {label}{': ' + detail.strip() if detail else ''}")
    if not ok:
        failures.append(label)


def build(path, bn, opset=13):
    w = {"W1": rng.standard_normal((M, C, 3, 3)) * 0.3, "b1": rng.standard_normal(M) * 0.1,
         "W2": rng.standard_normal((M, M, 3, 3)) * 0.1, "b2": rng.standard_normal(M) * 0.1,
         "W3": rng.standard_normal((M, M, 1, 1)) * 0.3,
         "W4": rng.standard_normal((F, M * H * H)) * 0.03, "b4": rng.standard_normal(F) * 0.1,
         "W5": rng.standard_normal((F, N)) * 0.3}
    nodes = [helper.make_node("Conv", ["x", "W1", "b1"], ["c1"], pads=[1] * 4, name="conv1")]
    if bn:
        w.update(gamma=rng.random(M) + 0.5, beta=rng.standard_normal(M) * 0.1,
                 mean=rng.standard_normal(M) * 0.1, var=rng.random(M) + 0.5)
        nodes.append(helper.make_node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"],
                                      ["n1"], name="bn1"))
    nodes += [
        helper.make_node("Relu", ["n1" if bn else "c1"], ["h1"]),
        helper.make_node("Conv", ["h1", "W2", "b2"], ["c2"], pads=[1] * 4, name="conv2"),
        helper.make_node("Relu", ["c2"], ["h2"]),
        helper.make_node("Conv", ["h1", "W3"], ["h3"], name="conv3"),  # reads h1 too: one pair
        helper.make_node("Add", ["h2", "h3"], ["s"]),
        helper.make_node("Relu", ["s"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"]),
        helper.make_node("Gemm", ["f", "W4", "b4"], ["g"], transB=1, name="fc1"),
        helper.make_node("Relu", ["g"], ["gr"]),
        helper.make_node("MatMul", ["gr", "W5"], ["y"], name="fc2"),
    ]
    save(path, nodes, [("x", [2, C, H, H])], w)
    m = onnx.load(path)
    m.graph.output[0].CopyFrom(helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, N]))
    m.opset_import[0].version = opset
    onnx.checker.check_model(m)
    onnx.save(m, path)


def calib_dir():
    d = os.path.join(TMP, "calib")
    for k in range(4):
        os.makedirs(os.path.join(d, f"test_data_set_{k}"), exist_ok=True)
        write_input(os.path.join(d, f"test_data_set_{k}", "input_0.pb"), "x",
                    rng.standard_normal((2, C, H, H)).astype(np.float32))
    return d


def tcc(*args):
    return subprocess.run([TCC, *args], capture_output=True, text=True)


def graph_checks(tag, path, bn):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    inits = {i.name: i for i in m.graph.initializer}
    axes = {}
    for n in m.graph.node:
        if n.op_type == "DequantizeLinear" and n.input[0].endswith("_tcc_int8"):
            axes[n.input[0]] = [a.i for a in n.attribute if a.name == "axis"]
    want_axes = {"W1_tcc_int8": [0], "W2_tcc_int8": [0], "W3_tcc_int8": [0], "W4_tcc_int8": [0],
                 "W5_tcc_int8": [1]}
    check(ops.count("QuantizeLinear") == 4 and ops.count("DequantizeLinear") == 9,
          f"{tag}: 4 activation pairs (h1 shared by conv2 and conv3), 5 weight DequantizeLinear",
          str(ops))
    check(axes == want_axes and all(inits[k].data_type == onnx.TensorProto.INT8 for k in axes),
          f"{tag}: i8 weights, DequantizeLinear per output channel (a MatMul's B on axis 1)",
          str(axes))
    gone = [k for k in ("W1", "W2", "W3", "W4", "W5") if k in inits]
    check(not gone and ("gamma" in inits) == bn, f"{tag}: the float weights are gone", str(gone))
    conv1 = next(n for n in m.graph.node if n.name == "conv1")
    check(list(conv1.input) == ["x_tcc_dequantized", "W1_tcc_dequantized", "b1"],
          f"{tag}: conv1 reads the pair and the dequantized weight", str(list(conv1.input)))
    return m


def last_step_bound(m, x):
    """Two u8 steps of fc2's input, through fc2's weights: what a rounding
    difference in ORT's requantization moves the output by (x unused)."""
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    s = float(inits["gr_tcc_scale"])
    w = inits["W5_tcc_int8"].astype(np.float64) * inits["W5_tcc_scale"][None, :]
    return 2 * s * float(np.abs(w).sum(axis=0).max())


def main():
    calib = calib_dir()
    x = rng.standard_normal((2, C, H, H)).astype(np.float32)
    xin = os.path.join(TMP, "x.pb")
    write_input(xin, "x", x)
    ort = onnx_runtime(ORT_DIR)
    os.environ["ORT_OPT_LEVEL"] = "all"
    for bn in (False, True):
        tag = "with BatchNormalization" if bn else "plain"
        src = os.path.join(TMP, f"src_{int(bn)}")
        os.makedirs(src, exist_ok=True)
        model = os.path.join(src, "net.onnx")
        build(model, bn)
        out = os.path.join(TMP, f"out_{int(bn)}")
        r = tcc("export", model, "-quantize=int8", f"--calib={calib}", "-o", out)
        exported = os.path.join(out, "net.onnx")
        size = os.path.getsize(exported) if os.path.exists(exported) else -1
        want = (f"tcc: note: wrote {exported}: 5 layers in QDQ form (4 input pairs, {int(bn)} "
                f"weight{'' if bn else 's'} quantized again from the file's values), {size} bytes\n")
        check(r.returncode == 0 and r.stderr == want, f"{tag}: export's note", r.stderr)
        if r.returncode:
            continue
        m = graph_checks(tag, exported, bn)
        q8, _ = run(TCC, model, xin, os.path.join(TMP, f"q8_{int(bn)}"),
                    ["-quantize=int8", f"--calib={calib}"])
        back, stats = run(TCC, exported, xin, os.path.join(TMP, f"back_{int(bn)}"), [])
        qdq_fed = [l for l in stats.splitlines() if "fed by QuantizeLinear" in l]
        check(qdq_fed == ["// quantize: fed by QuantizeLinear/DequantizeLinear: 5"],
              f"{tag}: tcc runs the exported file's 5 layers on the int8 kernels", str(qdq_fed))
        floats, _ = run(TCC, model, xin, os.path.join(TMP, f"f32_{int(bn)}"), [])
        if not bn:
            e = rel_err(back, q8)
            check(e <= 1e-5, f"{tag}: tcc on the export = tcc -quantize=int8 on the model",
                  f"max err / max|ref| {e:.2e}")
        sqnr = 10 * np.log10(np.sum(floats.astype(np.float64) ** 2) /
                             np.sum((back.astype(np.float64) - floats) ** 2))
        check(sqnr >= 25, f"{tag}: the export stays near float32", f"SQNR {sqnr:.1f} dB")
        outs, err = ort.run(exported, [("x", x)], os.path.join(TMP, f"out_{int(bn)}"))
        if outs is None:
            check(False, f"{tag}: ONNX Runtime runs the export", err)
            continue
        bound = last_step_bound(m, x)
        d = float(np.max(np.abs(outs[0] - back)))
        check(d <= bound, f"{tag}: ONNX Runtime on the export = tcc on it, within two steps of "
              "fc2's input", f"max |ORT - tcc| {d:.3e}, bound {bound:.3e}")

    # refusals: exact messages, exit 1, nothing written
    model = os.path.join(TMP, "src_0", "net.onnx")
    cases = [
        ([], "tcc: error: tcc export writes the model as -quantize=int8 compiles it; give "
             "-quantize=int8 and --calib=DIR (or --calib-cache=FILE)"),
        (["-quantize=int8", f"--calib={calib}", "-prune-channels=0.5"],
         "tcc: error: tcc export writes quantized models only; -prune-channels changes the graph in "
         "ways it does not write back yet"),
    ]
    for k, (flags, msg) in enumerate(cases):
        out = os.path.join(TMP, f"refused_{k}")
        r = tcc("export", model, *flags, "-o", out)
        check(r.returncode == 1 and r.stderr == msg + "\n" and not os.path.exists(
            os.path.join(out, "net.onnx")), f"refused: {' '.join(flags) or 'no -quantize'}",
            r.stderr)
    src = os.path.dirname(model)
    before = open(model, "rb").read()
    r = tcc("export", model, "-quantize=int8", f"--calib={calib}", "-o", src)
    check(r.returncode == 1 and r.stderr == f"tcc: error: tcc export would write {src}/net.onnx over "
          "the model it reads; choose another -o\n" and open(model, "rb").read() == before,
          "refused: writing over the model", r.stderr)
    old = os.path.join(TMP, "opset11.onnx")
    build(old, False, opset=11)
    out = os.path.join(TMP, "refused_opset")
    r = tcc("export", old, "-quantize=int8", f"--calib={calib}", "-o", out)
    check(r.returncode == 1 and r.stderr == f"{old}: error: export: the model imports opset 11; "
          "per-channel int8 weights need DequantizeLinear with an axis, opset 13 or later "
          "(onnx.version_converter can convert the model)\n" and not os.path.exists(
              os.path.join(out, "opset11.onnx")), "refused: opset 11", r.stderr)
    if failures:
        sys.exit(f"{len(failures)} failed: {failures}")
    print("all passed")


main()
