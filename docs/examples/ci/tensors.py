#!/usr/bin/python3
"""The CI recipe's data step (Debian's python3-onnx and numpy).

  tensors.py to-raw SET DIR   SET/input_<i>.pb -> DIR/input_<i>.bin (the raw bytes
                              the example app reads)
  tensors.py check SET DIR    DIR/output_<i>.bin against SET/output_<i>.pb: prints
                              max |out - ref| / max |ref| per output; exit 1 above 1e-4
"""
import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

TOLERANCE = 1e-4  # relative to max |ref|


def tensors(folder, kind):
    paths = sorted(glob.glob(os.path.join(folder, f"{kind}_*.pb")),
                   key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))
    if not paths:
        sys.exit(f"tensors.py: no {kind}_<i>.pb in {folder}")
    out = []
    for p in paths:
        t = onnx.TensorProto()
        with open(p, "rb") as f:
            t.ParseFromString(f.read())
        out.append(numpy_helper.to_array(t))
    return out


def to_raw(data_set, folder):
    os.makedirs(folder, exist_ok=True)
    for i, a in enumerate(tensors(data_set, "input")):
        np.ascontiguousarray(a).tofile(os.path.join(folder, f"input_{i}.bin"))


def check(data_set, folder):
    worst = 0.0
    for i, ref in enumerate(tensors(data_set, "output")):
        got = np.fromfile(os.path.join(folder, f"output_{i}.bin"), dtype=ref.dtype)
        if got.size != ref.size:
            sys.exit(f"output {i}: {got.size} values, expected {ref.size}")
        ref = ref.reshape(-1).astype(np.float64)
        err = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
        rel = err / max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-30)
        print(f"output {i}: max abs error {err:.3g} ({rel:.3g} of max |ref|)")
        worst = max(worst, rel)
    if worst > TOLERANCE:
        sys.exit(f"outputs differ from the reference: {worst:.3g} > {TOLERANCE}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("to-raw", "check"):
        sys.exit(__doc__)
    (to_raw if sys.argv[1] == "to-raw" else check)(sys.argv[2], sys.argv[3])
