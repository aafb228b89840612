#!/usr/bin/python3
"""-quantize=int8 on the seeded networks of tests/networks: what the
compression issue asks of ResNet-18 and MobileNetV2 (a benchmark, not a
test: it takes minutes and prints figures).

usage: quantize_networks.py TCC MODELS_OUT [NETWORK...]
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
        print(f"{net}: SQNR min {sqnr.min():.1f} dB, median {np.median(sqnr):.1f} dB (float32 "
              f"with input noise at -40 dB: {noisy:.1f} dB); top-1 "
              f"agreement {100 * top1:.0f}%; object {size['int8']} / {size['f32']} bytes "
              f"({size['int8'] / size['f32']:.2f}); latency {med['int8']:.2f} / {med['f32']:.2f} ms "
              f"({med['int8'] / med['f32']:.2f}), 1 thread")
