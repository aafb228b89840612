#!/usr/bin/python3
"""Compares tcc's output with the framework's: max abs error, cosine similarity.

usage: compare.py NAME REFERENCE.pb ACTUAL.pb|ACTUAL.raw
(a .raw file holds the dense bytes, read with the reference's element type)
Passes (exit 0) when max|actual - ref| <= 1e-4 * max|ref| and cosine >= 0.9999;
prints one line either way.
"""
import sys

import numpy as np
from onnx import TensorProto, numpy_helper

REL_TOL = 1e-4
MIN_COSINE = 0.9999


def load(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    name, ref_path, out_path = sys.argv[1:4]
    ref = load(ref_path)
    if out_path.endswith(".raw"):
        out = np.fromfile(out_path, dtype=ref.dtype)
        out = out.reshape(ref.shape) if out.size == ref.size else out
    else:
        out = load(out_path)
    if ref.shape != out.shape or ref.dtype != out.dtype:
        print(f"{name}: FAIL output {out.dtype}{list(out.shape)}, expected {ref.dtype}{list(ref.shape)}")
        return 1
    r, o = ref.astype(np.float64).ravel(), out.astype(np.float64).ravel()
    err = float(np.max(np.abs(o - r))) if r.size else 0.0
    scale = float(np.max(np.abs(r))) if r.size else 0.0
    denom = np.linalg.norm(r) * np.linalg.norm(o)
    cosine = float(np.dot(r, o) / denom) if denom > 0 else float(np.array_equal(r, o))
    ok = bool(np.all(np.isfinite(o))) and err <= REL_TOL * scale and cosine >= MIN_COSINE
    print(f"{name}: {'ok' if ok else 'FAIL'} max_abs_err={err:.3e} max|ref|={scale:.3e} "
          f"rel={err / scale if scale else 0:.3e} cosine={cosine:.8f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
