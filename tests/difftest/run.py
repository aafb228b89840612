#!/usr/bin/python3
"""Differential test of tcc: random valid ONNX graphs (gen.py) run by tcc and by ONNX Runtime.

usage: run.py --tcc BUILD/tcc [--target T] [--seeds A:B | -n N] [-j N] [--out DIR]
              [--ort-dir DIR] [--no-ort] [--no-shrink] [--expect-fail] [--keep]
       run.py --tcc BUILD/tcc --replay DIR      (re-run one saved failure)

For each seed: generate the graph, write seeded inputs as TensorProto .pb, run it with
`tcc run -target=T` at the default -O2 and at -O0, and with onnxruntime-node (x86_64,
CPU, 1 thread; ort_run.js); compare every output of -O2 with ORT and of -O0 with -O2,
with the per-type tolerances of TOL scaled by the output's op depth.  Graphs ORT
refuses are counted apart and still checked -O0 against -O2.  A failure (mismatch,
crash, tcc refusing a valid graph, timeout) not matched by allowlist.txt is shrunk to
the fewest nodes that still fail the same way and saved with its inputs and the
command that shows it under --out.  Prints `difftest: N passed, M failed, ...` and
exits 1 on any failure (with --expect-fail: 0 exactly when some seed failed, for the
mutation test).
"""
import argparse
import fcntl
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402

ORT_VERSION = "1.30.0"
# Per element type: (rtol, atol relative to max|reference| of the output), for an
# output one node deep; both grow by (1 + depth / 4).  Integers and bools are exact.
TOL = {
    np.dtype(np.float64): (1e-9, 1e-9),
    np.dtype(np.float32): (1e-4, 1e-4),
    np.dtype(np.float16): (2e-2, 2e-2),
}
ELEM = {onnx.TensorProto.FLOAT: np.dtype(np.float32), onnx.TensorProto.DOUBLE: np.dtype(np.float64),
        onnx.TensorProto.FLOAT16: np.dtype(np.float16)}
TIMEOUT = 120  # seconds per tcc run (qemu included)


def profile(model):
    """Per output: (op depth, the least precise float type among the values it depends
    on): an f64 output computed from f32 values gets the f32 tolerance."""
    inf = onnx.shape_inference.infer_shapes(model)
    elem = {v.name: v.type.tensor_type.elem_type for v in
            list(inf.graph.value_info) + list(inf.graph.input) + list(inf.graph.output)}
    elem.update({t.name: t.data_type for t in model.graph.initializer})
    order = list(TOL)  # most precise first
    depth, loose = {}, {}
    for v in list(model.graph.input) + list(model.graph.initializer):
        t = ELEM.get(elem.get(v.name))
        loose[v.name] = order.index(t) if t in TOL else -1
    for n in model.graph.node:
        ins = [i for i in n.input if i]
        d = 1 + max([depth.get(i, 0) for i in ins] + [0])
        lo = max([loose.get(i, -1) for i in ins] + [-1])
        for o in n.output:
            t = ELEM.get(elem.get(o))
            depth[o] = d
            loose[o] = max(lo, order.index(t) if t in TOL else -1)
    return {o.name: (depth.get(o.name, 0), order[loose[o.name]] if loose.get(o.name, -1) >= 0 else None)
            for o in model.graph.output}


def tolerance(dtype, prof):
    if dtype not in TOL:
        return None  # exact
    depth, loose = prof
    rtol, atol = TOL[loose if loose is not None and order_of(loose) > order_of(dtype) else dtype]
    f = 1 + depth / 4
    return rtol * f, atol * f


def order_of(dt):
    return list(TOL).index(dt)


def compare(ref, out, prof):
    """None when OUT matches REF within the tolerance, else a one-line reason."""
    if ref.shape != out.shape:
        return f"shape {list(out.shape)}, expected {list(ref.shape)}"
    if ref.dtype != out.dtype:
        return f"type {out.dtype}, expected {ref.dtype}"
    tol = tolerance(ref.dtype, prof)
    depth = prof[0]
    if tol is None:
        bad = ref != out
        if not np.any(bad):
            return None
        i = int(np.flatnonzero(bad.ravel())[0])
        return f"{int(np.sum(bad))} of {ref.size} elements differ, first at {i}: {out.ravel()[i]} != {ref.ravel()[i]}"
    r, o = ref.astype(np.float64).ravel(), out.astype(np.float64).ravel()
    nan_r, nan_o = np.isnan(r), np.isnan(o)
    if np.any(nan_r != nan_o):
        i = int(np.flatnonzero(nan_r != nan_o)[0])
        return f"NaN at different places, first at {i}: {o[i]} vs {r[i]}"
    fin = ~nan_r
    inf_bad = np.isinf(r[fin]) | np.isinf(o[fin])
    if np.any(inf_bad & (r[fin] != o[fin])):
        return "infinities differ"
    rf, of = r[fin], o[fin]
    ok = np.isfinite(rf)
    rf, of = rf[ok], of[ok]
    if rf.size == 0:
        return None
    rtol, atol = tol
    scale = max(float(np.max(np.abs(rf))), 1e-30)
    err = np.abs(of - rf)
    lim = atol * scale + rtol * np.abs(rf)
    if np.all(err <= lim):
        return None
    i = int(np.argmax(err - lim))
    return (f"max abs err {float(np.max(err)):.3e} (max|ref| {scale:.3e}, depth {depth}, "
            f"tol {atol:.1e}*max|ref|+{rtol:.1e}*|ref|); worst at {i}: {of[i]!r} vs {rf[i]!r}")


# -- ONNX Runtime ---------------------------------------------------------------------------

def ensure_ort(ort_dir):
    """Installs onnxruntime-node into ORT_DIR when missing (once; a file lock guards
    against two tests installing at the same time)."""
    mod = os.path.join(ort_dir, "node_modules", "onnxruntime-node")
    os.makedirs(ort_dir, exist_ok=True)
    with open(os.path.join(ort_dir, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        if not os.path.isdir(mod):
            env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
            subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", f"onnxruntime-node@{ORT_VERSION}"],
                           cwd=ort_dir, env=env, check=True, stdout=subprocess.DEVNULL)
    return mod


class Ort:
    """One ort_run.js server per worker process."""

    def __init__(self, module):
        env = dict(os.environ, ORT_NODE_MODULE=module)
        self.p = subprocess.Popen(["node", os.path.join(HERE, "ort_run.js")], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=env, text=True)

    def run(self, model, inputs, outdir):
        req = {"model": model, "outdir": outdir, "inputs": []}
        for k, (name, a) in enumerate(inputs):
            f = os.path.join(outdir, f"ort_in_{k}.bin")
            np.ascontiguousarray(a).tofile(f)
            req["inputs"].append({"name": name, "dtype": ort_dtype(a.dtype), "shape": list(a.shape), "file": f})
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("ort_run.js exited")
        ans = json.loads(line)
        if not ans["ok"]:
            return None, ans["error"]
        outs = []
        for o in ans["outputs"]:
            dt = np.bool_ if o["dtype"] == "bool" else np.dtype(o["dtype"])
            outs.append(np.fromfile(o["file"], dtype=dt).reshape(o["shape"]))
        return outs, None


def ort_dtype(dt):
    return "bool" if dt == np.bool_ else str(np.dtype(dt))


_ORT = None


# -- tcc --------------------------------------------------------------------------------------

def tcc_cmd(tcc, model, target, opt, inputs, outdir):
    cmd = [tcc, "run", model]
    if target != "x86_64":
        cmd.append(f"-target={target}")
    if opt:
        cmd.append(opt)
    for f in inputs:
        cmd += ["--input", f]
    return cmd + ["--output-dir", outdir]


def run_tcc(cmd, outdir, nout):
    """(outputs, None) or (None, (kind, detail)); kind: crash, refused, timeout."""
    os.makedirs(outdir, exist_ok=True)
    env = dict(os.environ)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return None, ("timeout", f"no answer in {TIMEOUT} s")
    if p.returncode != 0:
        msg = (p.stderr.strip().splitlines() or ["(no message)"])
        msg = " | ".join(l for l in msg if "note:" not in l)[:400]
        return None, ("refused" if p.returncode == 1 else "crash", f"exit {p.returncode}: {msg}")
    outs = []
    for i in range(nout):
        t = onnx.TensorProto()
        with open(os.path.join(outdir, f"output_{i}.pb"), "rb") as f:
            t.ParseFromString(f.read())
        outs.append(numpy_helper.to_array(t))
    return outs, None


def save_inputs(inputs, d):
    files = []
    for k, (name, a) in enumerate(inputs):
        f = os.path.join(d, f"input_{k}.pb")
        with open(f, "wb") as fh:
            fh.write(numpy_helper.from_array(a, name).SerializeToString())
        files.append(f)
    return files


# -- one graph ----------------------------------------------------------------------------------

def check_model(model, inputs, cfg, d):
    """Runs MODEL on INPUTS every way; returns (status, detail) with status one of
    pass, ort-refused-pass, fail:<kind>.  Writes its files into D."""
    global _ORT
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    files = save_inputs(inputs, d)
    depth = profile(model)
    names = [o.name for o in model.graph.output]
    nout = len(names)
    o2, e2 = run_tcc(tcc_cmd(cfg.tcc, path, cfg.target, None, files, os.path.join(d, "o2")), os.path.join(d, "o2"),
                     nout)
    if e2:
        return "fail:tcc-" + e2[0], "-O2 " + e2[1]
    o0, e0 = run_tcc(tcc_cmd(cfg.tcc, path, cfg.target, "-O0", files, os.path.join(d, "o0")), os.path.join(d, "o0"),
                     nout)
    if e0:
        return "fail:tcc-" + e0[0], "-O0 " + e0[1]
    for i in range(nout):
        why = compare(o2[i], o0[i], depth[names[i]])
        if why:
            return "fail:O0-vs-O2", f"output {i} ({names[i]}): -O2 against -O0: {why}"
    if cfg.no_ort:
        return "pass", ""
    if _ORT is None:
        _ORT = Ort(cfg.ort_module)
    try:
        ref, err = _ORT.run(path, inputs, d)
    except (RuntimeError, BrokenPipeError, ValueError) as e:  # ORT itself died: a fresh server next time
        _ORT.p.kill()
        _ORT = None
        ref, err = None, f"onnxruntime-node failed: {e}"
    if err:
        return "ort-refused-pass", err.splitlines()[0][:200]
    for i in range(nout):
        why = compare(ref[i], o2[i], depth[names[i]])
        if why:
            return "fail:vs-ort", f"output {i} ({names[i]}): tcc -O2 against ONNX Runtime: {why}"
    return "pass", ""


def load_allowlist(path):
    rules = []
    if not os.path.exists(path):
        return rules
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pat, _, reason = line.partition(" -- ")
        if not reason.strip():
            raise SystemExit(f"{path}: an entry needs a reason after ' -- ': {line}")
        rules.append((re.compile(pat.strip()), reason.strip()))
    return rules


def allowed(rules, model, status, detail):
    """The reason of the first rule matching 'STATUS DETAIL ops=Op1,Op2,...', or None."""
    ops = ",".join(sorted({n.op_type for n in model.graph.node}))
    text = f"{status} {detail} ops={ops}"
    for pat, reason in rules:
        if pat.search(text):
            return reason
    return None


def one_seed(args):
    seed, cfg = args
    if os.path.exists(os.path.join(cfg.work, "STOP")):
        return seed, "skipped", "", None, 0.0, "?", 0
    d = os.path.join(cfg.work, f"seed_{seed}")
    t0 = time.time()
    try:
        model, kind = gen.generate(seed)
    except Exception as e:  # a generator bug is a failure of the test itself
        return seed, "fail:generator", f"{type(e).__name__}: {e}", None, 0.0, "?", 0
    inputs = gen.random_inputs(model, seed)
    try:
        status, detail = check_model(model, inputs, cfg, d)
    except Exception as e:
        status, detail = "fail:runner", f"{type(e).__name__}: {e}"
    why = None
    if status.startswith("fail:"):
        why = allowed(cfg.rules, model, status, detail)
        if why:
            status = "allowed"
        elif not cfg.no_shrink:
            detail += shrink_and_save(seed, model, inputs, status, detail, cfg)
    if not cfg.keep:
        shutil.rmtree(d, ignore_errors=True)
    return seed, status, detail, why, time.time() - t0, kind, len(model.graph.node)


# -- shrinking ------------------------------------------------------------------------------------

def prune(model):
    """Drops nodes, initializers and inputs nothing reaches from the outputs."""
    need = {o.name for o in model.graph.output}
    keep = []
    for n in reversed(model.graph.node):
        if any(o in need for o in n.output):
            keep.append(n)
            need.update(i for i in n.input if i)
    keep.reverse()
    g = model.graph
    nodes = [onnx.NodeProto() for _ in keep]
    for a, b in zip(nodes, keep):
        a.CopyFrom(b)
    del g.node[:]
    g.node.extend(nodes)
    for field in (g.initializer, g.input):
        kept = [x for x in field if x.name in need]
        copies = []
        for x in kept:
            c = type(x)()
            c.CopyFrom(x)
            copies.append(c)
        del field[:]
        field.extend(copies)
    return model


def with_outputs(model, names):
    """MODEL with these values as its outputs (types from shape inference)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inf = onnx.shape_inference.infer_shapes(m)
    vi = {v.name: v for v in list(inf.graph.value_info) + list(inf.graph.output) + list(inf.graph.input)}
    del m.graph.output[:]
    for n in names:
        c = onnx.ValueInfoProto()
        c.CopyFrom(vi[n])
        m.graph.output.append(c)
    return prune(m)


def valid(model):
    try:
        gen.check(model)
        return True
    except Exception:
        return False


def shrink(model, inputs, status, cfg, d):
    """Greedy: smallest failing prefix, then bypass nodes, then cut values into new inputs."""
    base = dict(inputs)
    tries = [0]

    def fails(m):
        if tries[0] >= cfg.shrink_tries or not valid(m):
            return False
        tries[0] += 1
        inits = {i.name for i in m.graph.initializer}
        ins = []
        rnd = dict(gen.random_inputs(m, 7))
        for v in m.graph.input:
            if v.name not in inits:
                ins.append((v.name, base.get(v.name, rnd[v.name])))
        try:
            st, _ = check_model(m, ins, cfg, d)
        except Exception:
            return False
        return st == status

    best = model
    # 1. the first node output (in topological order) whose own graph still fails
    for n in list(best.graph.node):
        done = False
        for o in n.output:
            m = with_outputs(best, [o])
            if len(m.graph.node) < len(best.graph.node) and fails(m):
                best, done = m, True
                break
        if done:
            break
    if len(best.graph.output) > 1:
        for o in list(best.graph.output):
            m = with_outputs(best, [o.name])
            if fails(m):
                best = m
                break
    # 2. bypass a node whose output has the type and shape of one of its inputs
    changed = True
    while changed:
        changed = False
        inf = onnx.shape_inference.infer_shapes(best)
        types = {v.name: v.type.SerializeToString() for v in
                 list(inf.graph.value_info) + list(inf.graph.input) + list(inf.graph.output)}
        for k, n in enumerate(best.graph.node):
            outs = {o.name for o in best.graph.output}
            for i in n.input:
                if not i or types.get(i) != types.get(n.output[0]) or n.output[0] in outs and i in outs:
                    continue
                m = onnx.ModelProto()
                m.CopyFrom(best)
                for other in m.graph.node:
                    for j, x in enumerate(other.input):
                        if x == n.output[0]:
                            other.input[j] = i
                for o in m.graph.output:
                    if o.name == n.output[0]:
                        if i in {x.name for x in m.graph.input} | {x.name for x in m.graph.initializer}:
                            break
                        o.name = i
                else:
                    m = prune(m)
                    if len(m.graph.node) < len(best.graph.node) and fails(m):
                        best, changed = m, True
                        break
            if changed:
                break
    # 3. cut: a value made by a node becomes a fresh graph input (random data)
    changed = True
    while changed:
        changed = False
        inf = onnx.shape_inference.infer_shapes(best)
        vi = {v.name: v for v in inf.graph.value_info}
        for n in best.graph.node:
            for i in n.input:
                if i not in vi:
                    continue
                m = onnx.ModelProto()
                m.CopyFrom(best)
                c = onnx.ValueInfoProto()
                c.CopyFrom(vi[i])
                m.graph.input.append(c)
                m = prune(m)
                if len(m.graph.node) < len(best.graph.node) and fails(m):
                    best, changed = m, True
                    break
            if changed:
                break
    return best, tries[0]


def shrink_and_save(seed, model, inputs, status, detail, cfg):
    d = os.path.join(cfg.out, f"seed_{seed}_{cfg.target}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    onnx.save(model, os.path.join(d, "original.onnx"))
    work = tempfile.mkdtemp(prefix="shrink_", dir=cfg.work)
    small, tries = shrink(model, inputs, status, cfg, work)
    base = dict(inputs)
    rnd = dict(gen.random_inputs(small, 7))
    inits = {i.name for i in small.graph.initializer}
    ins = [(v.name, base.get(v.name, rnd.get(v.name))) for v in small.graph.input if v.name not in inits]
    st, det = check_model(small, ins, cfg, d)
    shutil.rmtree(work, ignore_errors=True)
    files = [os.path.basename(f) for f in save_inputs(ins, d)]
    tcc = os.path.abspath(cfg.tcc)
    with open(os.path.join(d, "README"), "w") as f:
        f.write(f"seed {seed}, target {cfg.target}: {status}\n{detail}\n\n"
                f"shrunk from {len(model.graph.node)} to {len(small.graph.node)} nodes ({tries} tries): {st}\n{det}\n\n"
                f"reproduce (in this folder):\n  {' '.join(tcc_cmd(tcc, 'model.onnx', cfg.target, None, files, 'o2'))}\n"
                f"  {' '.join(tcc_cmd(tcc, 'model.onnx', cfg.target, '-O0', files, 'o0'))}\n"
                f"  /usr/bin/python3 {os.path.join(HERE, 'run.py')} --tcc {tcc} --target {cfg.target} --replay .\n\n"
                + onnx.helper.printable_graph(small.graph) + "\n")
    return f" [shrunk to {len(small.graph.node)} nodes: {d}]"


# -- main -------------------------------------------------------------------------------------------

def init_worker():
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tcc", required=True)
    ap.add_argument("--target", default="x86_64",
                    choices=["x86_64", "armv8", "riscv64", "riscv64gcv", "wasm32", "cortex-m4", "cortex-m7",
                             "cortex-m55"])
    ap.add_argument("--seeds", help="A:B, seeds A to B-1; or a list S1,S2,...")
    ap.add_argument("-n", type=int, default=100, help="number of seeds from --first (default 100)")
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("-j", type=int, default=1)
    ap.add_argument("--out", default="difftest-out", help="where shrunk failures go")
    ap.add_argument("--ort-dir", help="where onnxruntime-node is (installed when missing); default BUILD/ort")
    ap.add_argument("--no-ort", action="store_true", help="only -O0 against -O2")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--shrink-tries", type=int, default=120)
    ap.add_argument("--allowlist", default=os.path.join(HERE, "allowlist.txt"))
    ap.add_argument("--expect-fail", action="store_true",
                    help="succeed exactly when some seed fails (the mutation test)")
    ap.add_argument("--stop-on-fail", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep every graph's files")
    ap.add_argument("--replay", help="re-run a saved failure folder")
    ap.add_argument("-v", action="store_true", help="a line per graph")
    cfg = ap.parse_args()
    cfg.tcc = os.path.abspath(cfg.tcc)
    cfg.out = os.path.abspath(cfg.out)
    cfg.rules = load_allowlist(cfg.allowlist)
    if not cfg.ort_dir:
        cfg.ort_dir = os.path.join(os.path.dirname(cfg.tcc), "ort")
    if not cfg.no_ort:
        cfg.ort_module = ensure_ort(os.path.abspath(cfg.ort_dir))
    cfg.work = tempfile.mkdtemp(prefix="difftest_")

    if cfg.replay:
        model = onnx.load(os.path.join(cfg.replay, "model.onnx"))
        inits = {i.name for i in model.graph.initializer}
        names = [v.name for v in model.graph.input if v.name not in inits]
        ins = []
        for k, nm in enumerate(names):
            t = onnx.TensorProto()
            with open(os.path.join(cfg.replay, f"input_{k}.pb"), "rb") as f:
                t.ParseFromString(f.read())
            ins.append((nm, numpy_helper.to_array(t)))
        try:
            st, det = check_model(model, ins, cfg, cfg.work)
        finally:
            shutil.rmtree(cfg.work, ignore_errors=True)
        print(f"{cfg.replay} [{cfg.target}]: {st} {det}")
        return 0 if not st.startswith("fail:") else 1

    os.makedirs(cfg.out, exist_ok=True)
    if cfg.seeds and ":" in cfg.seeds:
        seeds = range(*map(int, cfg.seeds.split(":")))
    elif cfg.seeds:
        seeds = [int(x) for x in cfg.seeds.split(",")]
    else:
        seeds = range(cfg.first, cfg.first + cfg.n)
    t0 = time.time()
    counts = {"pass": 0, "ort-refused-pass": 0, "allowed": 0}
    fails, kinds = [], {}
    with multiprocessing.Pool(cfg.j, initializer=init_worker) as pool:
        for res in pool.imap_unordered(one_seed, [(s, cfg) for s in seeds]):
            seed, status, detail, why, dt = res[:5]
            if status == "skipped":
                continue
            kind, nn = (res[5], res[6]) if len(res) > 5 else ("?", 0)
            kinds[kind] = kinds.get(kind, 0) + 1
            if status.startswith("fail:"):
                fails.append(seed)
                print(f"seed {seed} ({kind}, {nn} nodes): FAIL {status[5:]}: {detail}", flush=True)
                if cfg.stop_on_fail:  # the seeds not started yet return at once
                    open(os.path.join(cfg.work, "STOP"), "w").close()
            else:
                counts[status] += 1
                if status == "allowed":
                    print(f"seed {seed}: allowed ({why}): {detail}", flush=True)
                elif cfg.v or status == "ort-refused-pass":
                    print(f"seed {seed} ({kind}, {nn} nodes, {dt:.1f} s): {status} {detail}", flush=True)
    shutil.rmtree(cfg.work, ignore_errors=True)
    ran = counts["pass"] + counts["ort-refused-pass"] + counts["allowed"] + len(fails)
    print(f"difftest[{cfg.target}]: {ran} graphs ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}) "
          f"in {time.time() - t0:.0f} s; {counts['ort-refused-pass']} of the passes ORT refused (checked -O0 "
          f"against -O2 only), {counts['allowed']} allowlisted")
    print(f"difftest: {counts['pass'] + counts['ort-refused-pass']} passed, {len(fails)} failed"
          f" ({counts['ort-refused-pass']} ORT-refused, {counts['allowed']} allowlisted)")
    if cfg.expect_fail:
        print("mutation " + ("caught" if fails else "NOT caught") + f" within {ran} seeds")
        return 0 if fails else 1
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
