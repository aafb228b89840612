#!/usr/bin/python3
"""-quantize=int8 on the seeded networks of tests/networks: what the
compression issue asks of ResNet-18 and MobileNetV2 (a benchmark, not a
test: it takes minutes and prints figures).

usage: quantize_networks.py TCC MODELS_OUT [NETWORK...]
with ORT=<build>/ort in the environment (onnxruntime-node installed there
and tests/bench/ort_bench.js beside it, as bench_vs_ort.sh leaves them),
also: the int8 model written by `tcc export` (QDQ) run by ONNX Runtime,
its output against tcc's int8 one on the first of the 32 images, and its
latency alternated with tcc's int8 object and ORT on the float model.
MODELS_OUT is what ctest networks/export wrote (<build>/models-out).  Per
network: calibration on 8 seeded N(0,1) images (seed 1, one per data
set), then 32 other seeded images (seed 2) run in float32 and int8; prints the output SQNR of int8 against float32 per image (minimum
and median), top-1 agreement, the objects' bytes (batch 1) and the
latency of one image at 1 thread (`tcc bench --iters 20`, float32 and
int8 alternating, 5 runs each: the medians of the runs' medians).  For
scale, the SQNR of the float32 network's own output when noise 40 dB below
an input is added (about what rounding the input to u8 adds): seeded,
untrained networks can amplify small changes, which no quantization
scheme escapes.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

TCC, OUT = sys.argv[1], sys.argv[2]
NETS = sys.argv[3:] or ["resnet18", "mobilenet_v2"]


def tcc(*args):
    r = subprocess.run([TCC, *args, "-q"], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"tcc {' '.join(args)}: exit {r.returncode}\n{r.stderr}")
    return r.stdout


def write(path, name, x):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(x, name).SerializeToString())


def read(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def ort_bench(model, iters, x_raw, dims, out="-"):
    r = subprocess.run(["node", os.path.join(os.environ["ORT"], "ort_bench.js"), model,
                        str(iters), "1", out, f"{x_raw}:{dims}"], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"ort_bench.js {model}: exit {r.returncode}\n{r.stderr}")
    return json.loads(r.stdout)["median_ms"]


def compare_ort(model, inp, shape, tmp, q, tcc_int8):
    """The exported QDQ model in ONNX Runtime: agreement with tcc's int8
    output on image 0 of the 32 (seed 2), and latency."""
    tcc("export", model, *q, "-o", os.path.join(tmp, "qdq"))
    qdq = os.path.join(tmp, "qdq", "model.onnx")
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    x_raw = os.path.join(tmp, "x.raw")
    x.tofile(x_raw)
    dims = "x".join(map(str, shape))
    ort_bench(qdq, 1, x_raw, dims, os.path.join(tmp, "ort.raw"))
    y = np.fromfile(os.path.join(tmp, "ort.raw"), np.float32)
    # one u8 step of the last layer's input, through that layer's weights
    m = onnx.load(qdq)
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    last = [n for n in m.graph.node if n.op_type in ("Gemm", "MatMul", "Conv")][-1]
    dq = {n.output[0]: n for n in m.graph.node if n.op_type == "DequantizeLinear"}
    step = float(inits[dq[last.input[0]].input[1]])
    wq = dq[last.input[1]]
    w = inits[wq.input[0]].astype(np.float64)
    w = w * inits[wq.input[1]].reshape([-1] + [1] * (w.ndim - 1))  # per output row
    step *= float(np.abs(w.reshape(w.shape[0], -1)).sum(1).max())
    err = float(np.abs(y - tcc_int8).max())
    ms = {"tcc int8": [], "ORT QDQ": [], "ORT f32": []}
    for _ in range(5):
        ms["tcc int8"].append(json.loads(tcc("bench", model, "--iters", "20", "--json",
                                             *q))["median_ms"])
        ms["ORT QDQ"].append(ort_bench(qdq, 20, x_raw, dims))
        ms["ORT f32"].append(ort_bench(model, 20, x_raw, dims))
    med = {n: float(np.median(v)) for n, v in ms.items()}
    return (f"; ONNX Runtime on `tcc export`'s QDQ model: max |ORT - tcc int8| {err:.3g} "
            f"({err / step:.2f} of one u8 step of the last layer's input through its weights, "
            f"{step:.3g}); latency tcc int8 {med['tcc int8']:.2f} ms, ORT QDQ "
            f"{med['ORT QDQ']:.2f} ms, ORT f32 {med['ORT f32']:.2f} ms (tcc int8 / ORT QDQ "
            f"{med['tcc int8'] / med['ORT QDQ']:.2f})")


for net in NETS:
    model = os.path.join(OUT, net, "model.onnx")
    inp = onnx.load(model, load_external_data=False).graph.input[0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    with tempfile.TemporaryDirectory() as tmp:
        calib = os.path.join(tmp, "calib")
        rng = np.random.default_rng(1)
        for k in range(8):
            os.makedirs(os.path.join(calib, f"test_data_set_{k}"))
            write(os.path.join(calib, f"test_data_set_{k}", "input_0.pb"), inp.name,
                  rng.standard_normal(shape).astype(np.float32))
        q = ["-quantize=int8", "--calib=" + calib, "--calib-cache=" + os.path.join(tmp, "c.json")]
        rng = np.random.default_rng(2)
        outs = {"f32": [], "int8": []}
        for k in range(32):
            write(os.path.join(tmp, "x.pb"), inp.name, rng.standard_normal(shape).astype(np.float32))
            for name, flags in (("f32", []), ("int8", q)):
                tcc("run", model, "--input", os.path.join(tmp, "x.pb"), "--output-dir",
                    os.path.join(tmp, name), *flags)
                outs[name].append(read(os.path.join(tmp, name, "output_0.pb")).ravel())
        outs = {n: np.stack(v) for n, v in outs.items()}
        for name, flags in (("f32", []), ("int8", q)):
            tcc("compile", model, "-o", os.path.join(tmp, name + "_o"), "-name=m", *flags)
        f, i8 = outs["f32"], outs["int8"]
        sqnr = 10 * np.log10((f ** 2).sum(1) / ((i8 - f) ** 2).sum(1))
        # the float network's own sensitivity: its output's SQNR when noise
        # 40 dB below the input (about what u8 input steps add) is added
        x = rng.standard_normal(shape).astype(np.float32)
        noise = rng.standard_normal(shape).astype(np.float32) * np.sqrt((x ** 2).mean() / 1e4)
        base = []
        for k, xin in enumerate((x, x + noise)):
            write(os.path.join(tmp, "x.pb"), inp.name, xin)
            tcc("run", model, "--input", os.path.join(tmp, "x.pb"), "--output-dir",
                os.path.join(tmp, f"n{k}"))
            base.append(read(os.path.join(tmp, f"n{k}", "output_0.pb")).ravel())
        noisy = 10 * np.log10((base[0] ** 2).sum() / ((base[1] - base[0]) ** 2).sum())
        top1 = float((f.argmax(1) == i8.argmax(1)).mean())
        size = {n: os.path.getsize(os.path.join(tmp, n + "_o", "m.o")) for n in ("f32", "int8")}
        ms = {"f32": [], "int8": []}
        for _ in range(5):
            for name, flags in (("f32", []), ("int8", q)):
                b = json.loads(tcc("bench", model, "--iters", "20", "--json", *flags))
                ms[name].append(b["median_ms"])
        med = {n: float(np.median(v)) for n, v in ms.items()}
        if os.environ.get("ORT"):
            ort = compare_ort(model, inp, shape, tmp, q, i8[0])
        else:
            ort = ""
        print(f"{net}: SQNR min {sqnr.min():.1f} dB, median {np.median(sqnr):.1f} dB (float32 "
              f"with input noise at -40 dB: {noisy:.1f} dB); top-1 "
              f"agreement {100 * top1:.0f}%; object {size['int8']} / {size['f32']} bytes "
              f"({size['int8'] / size['f32']:.2f}); latency {med['int8']:.2f} / {med['f32']:.2f} ms "
              f"({med['int8'] / med['f32']:.2f}), 1 thread{ort}")
