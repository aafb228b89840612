#!/usr/bin/python3
"""-prune-channels (docs/compression.md) against models pruned in numpy.

usage: test_prune.py TCC [TCC_FLAGS...]   (e.g. -target=armv8)
Each case is a small model whose first layer's output channels flow to a
consumer (through activations, SiLU as Mul(x, Sigmoid(x)), BatchNormalization,
pools, a depthwise conv, a bias Add, a Flatten).  numpy picks the channels the flag removes (the fraction F of
least L2 norm of the producer's weights, ties by index) and writes the
reference model with every weight of the chain sliced; `tcc run` of the
original with the flag must agree with `tcc run` of the reference within
1e-5 of the largest output, and --stats must say what was pruned.  Where
the removed filters are zero the reference is the original model itself.
"""
import math
import os
import sys
import tempfile

import numpy as np
from onnx import helper

from tcc_models import run, save, verdict, write_input

REL_TOL = 1e-5
EXTRA_FLAGS = sys.argv[2:]


def kept(producer_rows, fraction):
    """The indices kept, producer_rows[c] holding channel c's weights."""
    sq = (producer_rows.astype(np.float64) ** 2).reshape(len(producer_rows), -1).sum(1)
    removed = min(math.floor(fraction * len(sq) + 1e-9), len(sq) - 1)
    order = np.argsort(sq, kind="stable")
    return np.sort(order[removed:])


def conv_chain(rng, zero_filters=0):
    """conv 4->8 3x3, BatchNormalization, Relu, MaxPool 2, Flatten, Gemm
    (transB) to 10: channel c is a block of 9 features of the Gemm."""
    w1 = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    w1[:zero_filters] = 0
    inits = {"w1": w1, "b1": rng.standard_normal(8), "scale": rng.uniform(0.5, 1.5, 8),
             "beta": rng.standard_normal(8), "mean": rng.standard_normal(8) * 0.1,
             "var": rng.uniform(0.5, 2, 8), "w2": rng.standard_normal((10, 72)) / 8,
             "b2": rng.standard_normal(10)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["n"]),
             helper.make_node("Relu", ["n"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], transB=1)]

    def prune(keep):
        out = dict(inits)
        out["w1"], out["b1"] = inits["w1"][keep], inits["b1"][keep]
        for k in ("scale", "beta", "mean", "var"):
            out[k] = inits[k][keep]
        out["w2"] = inits["w2"].reshape(10, 8, 9)[:, keep].reshape(10, -1)
        return out
    return nodes, inits, [("x", [1, 4, 6, 6])], inits["w1"], prune


def conv_conv(rng, zero_filters=0):
    """conv 3->8 with zero bias on its first zero_filters filters, Relu,
    conv 8->5: removing all-zero filters changes nothing."""
    w1 = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    b1 = rng.standard_normal(8).astype(np.float32)
    w1[:zero_filters] = 0
    b1[:zero_filters] = 0
    inits = {"w1": w1, "b1": b1, "w2": rng.standard_normal((5, 8, 3, 3)) / 6}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Conv", ["r", "w2"], ["y"], kernel_shape=[3, 3])]

    def prune(keep):
        return dict(inits, w1=w1[keep], b1=b1[keep], w2=inits["w2"][:, keep])
    return nodes, inits, [("x", [1, 3, 7, 7])], w1, prune


def matmul_chain(rng, zero_filters=0):
    """MatMul 16->12, Add of a bias, Clip 0..6, MatMul 12->5, on a batch
    of 3 rows of 2: channels in the last dim."""
    w1 = rng.standard_normal((16, 12)).astype(np.float32)
    inits = {"w1": w1, "b": rng.standard_normal(12), "lo": np.array(0.0), "hi": np.array(6.0),
             "w2": rng.standard_normal((12, 5))}
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["m"]),
             helper.make_node("Add", ["m", "b"], ["a"]),
             helper.make_node("Clip", ["a", "lo", "hi"], ["c"]),
             helper.make_node("MatMul", ["c", "w2"], ["y"])]

    def prune(keep):
        return dict(inits, w1=w1[:, keep], b=inits["b"][keep], w2=inits["w2"][keep])
    return nodes, inits, [("x", [3, 2, 16])], w1.T, prune


def conv_depthwise_conv(rng, zero_filters=0):
    """MobileNetV2's block without the residual: 1x1 conv 3->8, Relu, 3x3
    depthwise (group 8) with a bias, Clip 0..6, 1x1 conv 8->4: the channels
    flow through the depthwise conv, whose group shrinks with them."""
    w1 = rng.standard_normal((8, 3, 1, 1)).astype(np.float32)
    inits = {"w1": w1, "dw": rng.standard_normal((8, 1, 3, 3)), "db": rng.standard_normal(8),
             "lo": np.array(0.0), "hi": np.array(6.0), "w2": rng.standard_normal((4, 8, 1, 1))}

    def nodes(group):
        return [helper.make_node("Conv", ["x", "w1"], ["c"], kernel_shape=[1, 1]),
                helper.make_node("Relu", ["c"], ["r"]),
                helper.make_node("Conv", ["r", "dw", "db"], ["d"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                 group=group),
                helper.make_node("Clip", ["d", "lo", "hi"], ["k"]),
                helper.make_node("Conv", ["k", "w2"], ["y"], kernel_shape=[1, 1])]

    def prune(keep):
        return dict(inits, w1=w1[keep], dw=inits["dw"][keep], db=inits["db"][keep],
                    w2=inits["w2"][:, keep]), nodes(len(keep))
    return nodes(8), inits, [("x", [1, 3, 6, 6])], w1, prune


def conv_silu_conv(rng, zero_filters=0):
    """conv 3->6, SiLU as PyTorch exports it (Sigmoid, then Mul with the
    operands swapped), conv 6->4."""
    w1 = rng.standard_normal((6, 3, 3, 3)).astype(np.float32)
    inits = {"w1": w1, "b1": rng.standard_normal(6), "w2": rng.standard_normal((4, 6, 1, 1))}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], kernel_shape=[3, 3]),
             helper.make_node("Sigmoid", ["c"], ["s"]), helper.make_node("Mul", ["s", "c"], ["m"]),
             helper.make_node("Conv", ["m", "w2"], ["y"], kernel_shape=[1, 1])]

    def prune(keep):
        return dict(inits, w1=w1[keep], b1=inits["b1"][keep], w2=inits["w2"][:, keep])
    return nodes, inits, [("x", [1, 3, 7, 7])], w1, prune


def residual(rng, zero_filters=0):
    """conv 4->4, Relu, then added to the input: nothing may shrink."""
    inits = {"w1": rng.standard_normal((4, 4, 3, 3)) / 6}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]), helper.make_node("Add", ["r", "x"], ["y"])]
    return nodes, inits, [("x", [1, 4, 5, 5])], inits["w1"], None


def case(tcc, tmp, name, build, fraction, want_stats, zero_filters=0, flags=()):
    rng = np.random.default_rng(len(name) * 104729)
    nodes, inits, inputs, rows, prune = build(rng, zero_filters)
    model = os.path.join(tmp, name + ".onnx")
    save(model, nodes, inputs, inits)
    ref_model = os.path.join(tmp, name + "_ref.onnx")
    ref = prune(kept(rows, fraction)) if prune else inits
    ref_inits, ref_nodes = ref if isinstance(ref, tuple) else (ref, nodes)
    save(ref_model, ref_nodes, inputs, ref_inits)
    pb = os.path.join(tmp, name + "_in.pb")
    write_input(pb, inputs[0][0], rng.uniform(-1, 1, inputs[0][1]).astype(np.float32))
    flags = EXTRA_FLAGS + list(flags)
    got, stats = run(tcc, model, pb, os.path.join(tmp, name + "_got"), [f"-prune-channels={fraction}"] + flags)
    want, _ = run(tcc, ref_model, pb, os.path.join(tmp, name + "_want"), flags)
    # zero filters removed: also the original model's output
    orig = run(tcc, model, pb, os.path.join(tmp, name + "_orig"), flags)[0] if zero_filters else None
    return verdict(f"{name}: -prune-channels={fraction}", got, want, stats, "prune", want_stats, REL_TOL,
                   orig)


def main():
    tcc = sys.argv[1]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        c = lambda *a, **k: case(tcc, tmp, *a, **k)
        ok &= c("conv_bn_pool_flatten_gemm", conv_chain, 0.3,
                ["layers pruned: 1", "channels removed: 2", "parameters before: 1048",
                 "parameters after: 786", "layers left whole: 1"])
        ok &= c("conv_conv_zero_filters", conv_conv, 0.375,
                ["layers pruned: 1", "channels removed: 3", "parameters before: 584",
                 "parameters after: 365", "layers left whole: 1"], zero_filters=3)
        ok &= c("conv_conv_O0", conv_conv, 0.5,
                ["layers pruned: 1", "channels removed: 4", "parameters before: 584",
                 "parameters after: 292", "layers left whole: 1"], flags=["-O0"])
        ok &= c("matmul_add_clip_matmul", matmul_chain, 0.25,
                ["layers pruned: 1", "channels removed: 3", "parameters before: 264",
                 "parameters after: 198", "layers left whole: 1"])
        ok &= c("conv_depthwise_conv", conv_depthwise_conv, 0.4,
                ["layers pruned: 1", "channels removed: 3", "parameters before: 136",
                 "parameters after: 85", "layers left whole: 1"])
        ok &= c("conv_silu_conv", conv_silu_conv, 0.5,
                ["layers pruned: 1", "channels removed: 3", "parameters before: 192",
                 "parameters after: 96", "layers left whole: 1"])
        ok &= c("residual_left_whole", residual, 0.5, ["layers left whole: 1"])
    print("prune:", "all passed" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
