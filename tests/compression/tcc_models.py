"""Helpers of the compression tests: small ONNX models and `tcc run`."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(path, nodes, inputs, inits, out="y"):
    """inputs: [(name, shape)]; inits: {name: array}; one f32 output."""
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def write_input(path, name, array):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def run(tcc, model, pb, out, flags):
    """`tcc run` with --stats: (output 0, stdout)."""
    os.makedirs(out, exist_ok=True)
    cmd = [tcc, "run", model, "--input", pb, "--output-dir", out, "--stats", "-q"] + flags
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}: exit {r.returncode}\n{r.stderr}")
    t = TensorProto()
    with open(os.path.join(out, "output_0.pb"), "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t), r.stdout


def rel_err(got, want):
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))


def verdict(label, got, want, stats, pass_name, want_stats, tol, original=None):
    """Prints and returns whether got is within tol of want (and of the
    original model's output, when given) and the pass's --stats lines are
    exactly want_stats."""
    err = rel_err(got, want)
    lines = [l for l in stats.splitlines() if l.startswith(f"// {pass_name}:")]
    ok = err <= tol and lines == [f"// {pass_name}: {s}" for s in want_stats]
    if original is not None:
        ok = ok and rel_err(got, original) <= tol
    print(f"{'ok  ' if ok else 'FAIL'} {label}, max err / max|ref| {err:.2e}")
    if not ok:
        print("  stats:", lines, "\n  expected:", want_stats)
    return ok


def refused(tcc, args, out, msg):
    """`tcc ARGS -o OUT`: True when it exits 1 with exactly msg (a line) on
    stderr and writes nothing at OUT; prints the verdict."""
    r = subprocess.run([tcc, *args, "-o", out], capture_output=True, text=True)
    ok = r.returncode == 1 and r.stderr == msg + "\n" and not os.path.exists(out)
    print(f"{'ok  ' if ok else 'FAIL'} refused: {r.stderr.strip()}")
    return ok


def onnx_runtime(ort_dir):
    """The differential tests' ONNX Runtime server (tests/difftest/run.py),
    with onnxruntime-node installed into ort_dir when missing."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "difftest"))
    import run as difftest  # noqa: E402 (tests/difftest/run.py)
    return difftest.Ort(difftest.ensure_ort(ort_dir))
