#!/usr/bin/python3
"""-lowrank (docs/compression.md) against numpy's SVD.

usage: test_lowrank.py TCC [TCC_FLAGS...]   (e.g. -target=armv8)
Each case is a small model with a Gemm, MatMul or Conv weight (a conv in
either form: channels, or spatial with its attributes split in two).  The
reference is the same model with that weight replaced by numpy's truncated
SVD of it (rank chosen here, as the flag says), run by `tcc run` without
-lowrank; tcc's factorized model must agree within 1e-4 of the largest
output magnitude, and --stats must say what was factorized and the
parameters before and after.  A weight of exact low rank must also agree
with the unfactorized model, and a layer where no rank saves stays dense.
"""
import os
import sys
import tempfile

import numpy as np
from onnx import helper

from tcc_models import run, save, verdict, write_input

REL_TOL = 1e-4
EXTRA_FLAGS = sys.argv[2:]


def truncate(w2d, rank):
    u, s, vt = np.linalg.svd(w2d.astype(np.float64), full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vt[:rank]


def energy_rank(w2d, energy):
    s2 = np.linalg.svd(w2d.astype(np.float64), compute_uv=False) ** 2
    return int(np.searchsorted(np.cumsum(s2) / s2.sum(), energy * (1 - 1e-12)) + 1)


def low_rank(rng, m, n, r):
    return (rng.standard_normal((m, r)) @ rng.standard_normal((r, n)) / np.sqrt(n)).astype(np.float32)


def case(tcc, tmp, name, build, inputs, weight, to2d, from2d, flag, rank, want_stats,
         exact=False, flags=()):
    """build(inits) -> (nodes, inits); weight: the initializer factorized;
    to2d/from2d: its matrix view; rank: the rank the reference keeps."""
    rng = np.random.default_rng(len(name) * 7919)
    nodes, inits = build(rng)
    model = os.path.join(tmp, name + ".onnx")
    save(model, nodes, inputs, inits)
    ref_inits = dict(inits)
    if rank is not None:
        ref_inits[weight] = from2d(truncate(to2d(inits[weight]), rank)).astype(np.float32)
    ref_model = os.path.join(tmp, name + "_ref.onnx")
    save(ref_model, nodes, inputs, ref_inits)
    pb = os.path.join(tmp, name + "_in.pb")
    write_input(pb, inputs[0][0], rng.uniform(-1, 1, inputs[0][1]).astype(np.float32))
    flags = EXTRA_FLAGS + list(flags)
    got, stats = run(tcc, model, pb, os.path.join(tmp, name + "_got"), [flag] + flags)
    want, _ = run(tcc, ref_model, pb, os.path.join(tmp, name + "_want"), flags)
    orig = run(tcc, model, pb, os.path.join(tmp, name + "_orig"), flags)[0] if exact else None
    return verdict(f"{name}: {flag}, rank {rank}", got, want, stats, "lowrank", want_stats, REL_TOL,
                   orig)


def matmul_model(w, bias=True, act=True):
    def build(rng):
        inits = {"w": w(rng)}
        nodes = [helper.make_node("MatMul", ["x", "w"], ["mm"])]
        last = "mm"
        if bias:
            inits["b"] = rng.standard_normal(inits["w"].shape[1]).astype(np.float32)
            nodes.append(helper.make_node("Add", [last, "b"], ["ab"]))
            last = "ab"
        nodes.append(helper.make_node("Relu" if act else "Identity", [last], ["y"]))
        return nodes, inits
    return build


def gemm_model(rng):
    inits = {"B": rng.standard_normal((30, 40)).astype(np.float32),
             "C": rng.standard_normal(30).astype(np.float32)}
    return [helper.make_node("Gemm", ["x", "B", "C"], ["y"], alpha=0.5, beta=2.0, transB=1)], inits


def conv_model(w, bn):
    def build(rng):
        inits = {"W": w(rng), "B": rng.standard_normal(16).astype(np.float32)}
        nodes = [helper.make_node("Conv", ["x", "W", "B"], ["c" if bn else "y"], kernel_shape=[3, 3],
                                  strides=[2, 2], pads=[1, 1, 1, 1])]
        if bn:
            inits.update(scale=rng.uniform(0.5, 1.5, 16), beta=rng.standard_normal(16),
                         mean=rng.standard_normal(16) * 0.1, var=rng.uniform(0.5, 2, 16))
            nodes += [helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["n"]),
                      helper.make_node("Relu", ["n"], ["y"])]
        return nodes, inits
    return build


def conv_attrs_model(w):
    """A 3x3 conv with every attribute split between the two halves."""
    def build(rng):
        inits = {"W": w(rng), "B": rng.standard_normal(16).astype(np.float32)}
        return [helper.make_node("Conv", ["x", "W", "B"], ["y"], kernel_shape=[3, 3], strides=[2, 1],
                                 pads=[1, 0, 2, 1], dilations=[1, 2])], inits
    return build


def separable(rng):  # two separable terms: sum_t a_t[c,i] b_t[m,j]
    a = rng.standard_normal((2, 8, 3))
    b = rng.standard_normal((2, 16, 3))
    return np.einsum("tci,tmj->mcij", a, b).astype(np.float32) / 5


def conv1d_model(rng):
    inits = {"W": rng.standard_normal((12, 6, 3)).astype(np.float32)}
    return [helper.make_node("Conv", ["x", "W"], ["y"], kernel_shape=[3], pads=[1, 1])], inits


def spectrum(rng):  # singular values 10, 5, 1, then 0.1: energy 0.99 keeps 2
    u, _ = np.linalg.qr(rng.standard_normal((20, 16)))
    v, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    s = np.array([10, 5, 1] + [0.1] * 13)
    return ((u * s) @ v.T).astype(np.float32)


def main():
    tcc = sys.argv[1]
    ident = (lambda a: a, lambda a: a)
    conv2d = (lambda a: a.reshape(16, -1), lambda a: a.reshape(16, 8, 3, 3))
    # W[m,c,i,j] as the (c,i) x (m,j) matrix, and back
    spatial = (lambda a: a.transpose(1, 2, 0, 3).reshape(24, 48),
               lambda a: a.reshape(8, 3, 16, 3).transpose(2, 0, 1, 3))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        c = lambda *a, **k: case(tcc, tmp, *a, **k)
        ok &= c("matmul_exact", matmul_model(lambda r: low_rank(r, 32, 24, 3)), [("x", [4, 32])], "w",
                *ident, "-lowrank=energy:0.999999", 3,
                ["matmuls factorized: 1", "parameters before: 768", "parameters after: 168"], exact=True)
        ok &= c("matmul_energy", matmul_model(spectrum, bias=False, act=False), [("x", [3, 20])], "w",
                *ident, "-lowrank=energy:0.99", 2,
                ["matmuls factorized: 1", "parameters before: 320", "parameters after: 72"])
        ok &= c("matmul_batched_O0", matmul_model(lambda r: r.standard_normal((64, 48)).astype(np.float32)),
                [("x", [2, 5, 64])], "w", *ident, "-lowrank=rank:7", 7,
                ["matmuls factorized: 1", "parameters before: 3072", "parameters after: 784"],
                flags=["-O0"])
        big = lambda r: r.standard_normal((300, 256)).astype(np.float32)
        ok &= c("matmul_300x256", matmul_model(big, act=False), [("x", [4, 300])], "w", *ident,
                "-lowrank=rank:50", 50,
                ["matmuls factorized: 1", "parameters before: 76800", "parameters after: 27800"])
        ok &= c("gemm_transB", gemm_model, [("x", [5, 40])], "B",
                lambda b: b.T, lambda t: t.T, "-lowrank=rank:6", 6,
                ["gemms factorized: 1", "parameters before: 1200", "parameters after: 420"])
        ok &= c("conv_bn_exact", conv_model(lambda r: low_rank(r, 16, 72, 2).reshape(16, 8, 3, 3), True),
                [("x", [1, 8, 13, 13])], "W", *conv2d, "-lowrank=energy:0.999999,conv=channels", 2,
                ["convs factorized (channels): 1", "parameters before: 1152", "parameters after: 176"],
                exact=True)
        ok &= c("conv_rank_fuse0", conv_model(lambda r: r.standard_normal((16, 8, 3, 3)).astype(np.float32),
                                              False),
                [("x", [1, 8, 13, 13])], "W", *conv2d, "-lowrank=rank:4,conv=channels", 4,
                ["convs factorized (channels): 1", "parameters before: 1152", "parameters after: 352"],
                flags=["-fuse=0"])
        ok &= c("conv_spatial_rank", conv_attrs_model(lambda r: r.standard_normal((16, 8, 3, 3))
                                                      .astype(np.float32)),
                [("x", [1, 8, 11, 12])], "W", *spatial, "-lowrank=rank:3,conv=spatial", 3,
                ["convs factorized (spatial): 1", "parameters before: 1152", "parameters after: 216"])
        ok &= c("conv_spatial_exact", conv_attrs_model(separable), [("x", [1, 8, 11, 12])], "W",
                *spatial, "-lowrank=energy:0.999999", 2,
                ["convs factorized (spatial): 1", "parameters before: 1152", "parameters after: 144"],
                exact=True)
        ok &= c("conv1d_rank", conv1d_model, [("x", [1, 6, 20])], "W",
                lambda a: a.reshape(12, -1), lambda a: a.reshape(12, 6, 3), "-lowrank=rank:2", 2,
                ["convs factorized (channels): 1", "parameters before: 216", "parameters after: 60"])
        ok &= c("matmul_dense", matmul_model(lambda r: r.standard_normal((8, 8)).astype(np.float32)),
                [("x", [2, 8])], "w", *ident, "-lowrank=energy:1", None, ["kept dense: 1"])
    print("lowrank:", "all passed" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
