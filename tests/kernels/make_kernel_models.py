#!/usr/bin/python3
"""Models that hit the edges of the packed kernels (docs/ir.md "Schedules").

Each case lands as OUT/<name>/model.onnx with test_data_set_0/{input_*,output_0}.pb;
the reference outputs come from the float64 numpy code below, independent of tcc.
Shapes are odd and prime on purpose: a row tile, a strip, a K block or a packed
panel that ends off by one shows up as a wrong element here.

usage: /usr/bin/python3 tests/kernels/make_kernel_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(1234)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def conv_ref(x, w, b, strides, pads, dil, group):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - dil[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (x.shape[3] - dil[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, m, oh, ow))
    mg = m // group
    for g in range(group):
        xs = x[:, g * cg:(g + 1) * cg]
        ws = w[g * mg:(g + 1) * mg].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dil[0]:i * dil[0] + strides[0] * oh:strides[0],
                           j * dil[1]:j * dil[1] + strides[1] * ow:strides[1]]
                out[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch, ws[:, :, i, j])
    if b is not None:
        out += b.reshape(1, m, 1, 1)
    return out


def save(out, name, nodes, inputs, feeds, inits, result):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, result.shape)],
        [numpy_helper.from_array(v, k) for k, v in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, (k, v) in enumerate(inputs):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(feeds[k], k).SerializeToString())
    with open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(result.astype(np.float32), "y").SerializeToString())


ACTS = {
    "relu": (lambda v: np.maximum(v, 0), "Relu", {}),
    "leaky": (lambda v: np.where(v < 0, 0.1 * v, v), "LeakyRelu", {"alpha": 0.1}),
    "sigmoid": (lambda v: 1 / (1 + np.exp(-v)), "Sigmoid", {}),
    "hardswish": (lambda v: v * np.clip(v / 6 + 0.5, 0, 1), "HardSwish", {}),
    # SiLU as PyTorch exports it: Sigmoid then Mul (the fuse pass makes swish)
    "silu": (lambda v: v / (1 + np.exp(-v)), None, {}),
}


def act_nodes(act, last):
    """The nodes of activation `act` from value `last` to value "act"."""
    fn, op, attrs = ACTS[act]
    if op is None:
        return [helper.make_node("Sigmoid", [last], ["sig"]),
                helper.make_node("Mul", ["sig", last], ["act"])]
    return [helper.make_node(op, [last], ["act"], **attrs)]


def conv_case(out, name, c, m, h, w, k, s=1, p=(0, 0, 0, 0), d=1, group=1, bias=True,
              bn=False, residual=False, act=None, clip=None):
    x, wt = rand(1, c, h, w), rand(m, c // group, k, k) * 0.3
    b = rand(m) if bias else None
    attrs = dict(kernel_shape=[k, k], strides=[s, s], pads=list(p), dilations=[d, d], group=group)
    inits = [("w", wt)] + ([("b", b)] if bias else [])
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["c"], **attrs)]
    y = conv_ref(x, wt, b, (s, s), p, (d, d), group)
    last = "c"
    inputs, feeds = [("x", x)], {"x": x}
    if bn:
        sc, sh, mu, var = rand(m), rand(m), rand(m), np.abs(rand(m)) + 0.5
        inits += [("sc", sc), ("sh", sh), ("mu", mu), ("var", var)]
        nodes.append(helper.make_node("BatchNormalization", [last, "sc", "sh", "mu", "var"], ["bn"],
                                      epsilon=1e-3))
        y = (y - mu.reshape(1, m, 1, 1)) / np.sqrt(var.reshape(1, m, 1, 1) + 1e-3) \
            * sc.reshape(1, m, 1, 1) + sh.reshape(1, m, 1, 1)
        last = "bn"
    if residual:
        r = rand(*y.shape)
        inputs.append(("r", r))
        feeds["r"] = r
        nodes.append(helper.make_node("Add", [last, "r"], ["sum"]))
        y, last = y + r, "sum"
    if act:
        nodes += act_nodes(act, last)
        y, last = ACTS[act][0](y), "act"
    if clip:
        inits += [("lo", np.array(clip[0], np.float32)), ("hi", np.array(clip[1], np.float32))]
        nodes.append(helper.make_node("Clip", [last, "lo", "hi"], ["clip"]))
        y, last = np.clip(y, *clip), "clip"
    nodes[-1].output[0] = "y"
    save(out, name, nodes, inputs, feeds, inits, y)


def operands(a, b, b_weight):
    """Input a, and b as a weight or a second input: (inputs, feeds, inits)."""
    inputs, feeds, inits = [("a", a)], {"a": a}, []
    if b_weight:
        inits.append(("b", b))
    else:
        inputs.append(("b", b))
        feeds["b"] = b
    return inputs, feeds, inits


def matmul_case(out, name, a_shape, b_shape, b_weight):
    a, b = rand(*a_shape), rand(*b_shape)
    inputs, feeds, inits = operands(a, b, b_weight)
    y = np.matmul(a.astype(np.float64), b.astype(np.float64))
    save(out, name, [helper.make_node("MatMul", ["a", "b"], ["y"])], inputs, feeds, inits, y)


def linear_case(out, name, a_shape, n, residual, act):
    """MatMul + bias add [+ residual add] [+ activation]: fused_matmul."""
    a, w, b = rand(*a_shape), rand(a_shape[-1], n), rand(n)
    y = np.matmul(a.astype(np.float64), w.astype(np.float64)) + b
    inputs, feeds = [("a", a)], {"a": a}
    nodes = [helper.make_node("MatMul", ["a", "w"], ["mm"]),
             helper.make_node("Add", ["mm", "b"], ["biased"])]
    last = "biased"
    if residual:
        r = rand(*y.shape)
        inputs.append(("r", r))
        feeds["r"] = r
        nodes.append(helper.make_node("Add", ["r", last], ["sum"]))
        y, last = y + r, "sum"
    if act:
        nodes += act_nodes(act, last)
        y = ACTS[act][0](y)
    nodes[-1].output[0] = "y"
    save(out, name, nodes, inputs, feeds, [("w", w), ("b", b)], y)


def gemm_case(out, name, m, n, k, ta, tb, alpha, beta, c_shape, b_weight=True):
    a = rand(k, m) if ta else rand(m, k)
    b = rand(n, k) if tb else rand(k, n)
    inputs, feeds, inits = operands(a, b, b_weight)
    ins = ["a", "b"]
    y = alpha * ((a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64))
    if c_shape is not None:
        cc = rand(*c_shape)
        inits.append(("c", cc))
        ins.append("c")
        y = y + beta * cc
    node = helper.make_node("Gemm", ins, ["y"], alpha=alpha, beta=beta, transA=int(ta), transB=int(tb))
    save(out, name, [node], inputs, feeds, inits, y)


def pool_case(out, name, op, c, h, w, k, s, p, ceil=0, include_pad=0):
    """MaxPool / AveragePool, 2-D, against a float64 loop over the windows."""
    x = rand(1, c, h, w)
    attrs = dict(kernel_shape=[k, k], strides=[s, s], pads=list(p), ceil_mode=ceil)
    if op == "AveragePool":
        attrs["count_include_pad"] = include_pad
    rnd = np.ceil if ceil else np.floor
    oh = int(rnd((h + p[0] + p[2] - k) / s)) + 1
    ow = int(rnd((w + p[1] + p[3] - k) / s)) + 1
    # ceil_mode: a last window must start inside the input or its left padding
    if ceil and (oh - 1) * s >= h + p[0]:
        oh -= 1
    if ceil and (ow - 1) * s >= w + p[1]:
        ow -= 1
    y = np.zeros((1, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s - p[0], j * s - p[1]
            win = x[0, :, max(h0, 0):min(h0 + k, h), max(w0, 0):min(w0 + k, w)].astype(np.float64)
            if op == "MaxPool":
                y[0, :, i, j] = win.max(axis=(1, 2))
            else:
                cnt = win.shape[1] * win.shape[2]
                if include_pad:
                    cnt = (min(h0 + k, h + p[2]) - max(h0, -p[0])) * \
                          (min(w0 + k, w + p[3]) - max(w0, -p[1]))
                y[0, :, i, j] = win.sum(axis=(1, 2)) / cnt
    save(out, name, [helper.make_node(op, ["x"], ["y"], **attrs)], [("x", x)], {"x": x}, [], y)


def sigm(v):
    return 1 / (1 + np.exp(-v))


def rnn_case(out, name, op, T, B, I, H, direction="forward", bias=True, peep=False, lbr=0):
    """RNN / GRU / LSTM with weight W, R (B, P): the products through the
    kernel; Y against a float64 step-by-step reference (ONNX gate order)."""
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    D = 2 if direction == "bidirectional" else 1
    x = rand(T, B, I)
    w, r = rand(D, G * H, I) * 0.4, rand(D, G * H, H) * 0.4
    b = rand(D, 2 * G * H) * 0.5 if bias else np.zeros((D, 2 * G * H), np.float32)
    pp = rand(D, 3 * H) * 0.5 if peep else np.zeros((D, 3 * H), np.float32)
    y = np.zeros((T, D, B, H))
    for d in range(D):
        h, cell = np.zeros((B, H)), np.zeros((B, H))
        wd, rd, wb, rb = (m.astype(np.float64) for m in (w[d], r[d], b[d, :G * H], b[d, G * H:]))
        steps = range(T - 1, -1, -1) if direction == "reverse" or d == 1 else range(T)
        for t in steps:
            xw = x[t].astype(np.float64) @ wd.T + wb
            if op == "RNN":
                h = np.tanh(xw + h @ rd.T + rb)
            elif op == "GRU":
                hr = h @ rd.T + rb
                z = sigm(xw[:, :H] + hr[:, :H])
                rr = sigm(xw[:, H:2 * H] + hr[:, H:2 * H])
                if lbr:
                    hh = np.tanh(xw[:, 2 * H:] + rr * hr[:, 2 * H:])
                else:
                    hh = np.tanh(xw[:, 2 * H:] + (rr * h) @ rd[2 * H:].T + rb[2 * H:])
                h = (1 - z) * hh + z * h
            else:
                g = xw + h @ rd.T + rb
                pi, po, pf = (pp[d, k * H:(k + 1) * H] for k in range(3))
                i = sigm(g[:, :H] + pi * cell)
                f = sigm(g[:, 2 * H:3 * H] + pf * cell)
                cell = f * cell + i * np.tanh(g[:, 3 * H:])
                o = sigm(g[:, H:2 * H] + po * cell)
                h = o * np.tanh(cell)
            y[t, d] = h
    inits = [("w", w), ("r", r), ("b", b)] + ([("p", pp)] if peep else [])
    ins = ["x", "w", "r", "b"] + (["", "", "", "p"] if peep else [])
    attrs = dict(hidden_size=H, direction=direction)
    if op == "GRU":
        attrs["linear_before_reset"] = lbr
    save(out, name, [helper.make_node(op, ins, ["y"], **attrs)], [("x", x)], {"x": x}, inits, y)


def main():
    out = sys.argv[1]
    # convolutions through the GEMM kernel: im2col panels, K blocks, edges
    conv_case(out, "conv3x3_odd", 3, 5, 7, 9, 3, p=(1, 1, 1, 1))
    conv_case(out, "conv3x3_s2", 8, 17, 13, 13, 3, s=2, p=(1, 1, 1, 1))
    conv_case(out, "conv1x1_direct", 16, 32, 8, 8, 1)
    conv_case(out, "conv1x1_odd", 16, 33, 11, 7, 1, bias=False)
    conv_case(out, "conv1x1_s2", 19, 24, 9, 9, 1, s=2)
    conv_case(out, "conv_deep_k", 150, 13, 6, 5, 3, p=(1, 1, 1, 1))
    conv_case(out, "conv_wide", 4, 7, 40, 67, 3, p=(0, 2, 1, 0))
    conv_case(out, "conv_stem", 3, 8, 23, 23, 7, s=2, p=(3, 3, 3, 3))
    conv_case(out, "conv_group_dil", 6, 12, 9, 9, 3, p=(2, 2, 2, 2), d=2, group=3)
    # a one-column input padded wider than itself: taps whose every column is padding
    conv_case(out, "conv_pad_beyond_row", 4, 8, 6, 1, 3, p=(1, 3, 1, 3))
    # stride 3: the packing's strided vector copies, a masked last one
    conv_case(out, "conv5x5_s3_padded", 5, 6, 17, 20, 5, s=3, p=(2, 1, 2, 2))
    # threads' tasks: 23 output rows in blocks that do not divide them (a
    # narrow last block in the last task), and filters split into tasks
    # over a panel packed whole (below)
    conv_case(out, "conv_tasks_uneven", 16, 24, 23, 30, 3, p=(1, 1, 1, 1))
    # narrow outputs (7x7 = 49 pixels) with many filters: the transposed product
    conv_case(out, "narrow_tasks_filters", 128, 256, 7, 7, 3, p=(1, 1, 1, 1), residual=True,
              act="relu")
    conv_case(out, "narrow3x3_bn_res_relu", 64, 48, 7, 7, 3, p=(1, 1, 1, 1), bn=True,
              residual=True, act="relu")
    conv_case(out, "narrow1x1_direct", 384, 64, 7, 7, 1, act="silu")
    conv_case(out, "narrow3x3_s2_group", 128, 64, 13, 13, 3, s=2, p=(1, 1, 1, 1), group=2)
    conv_case(out, "narrow_deep_k", 300, 32, 5, 5, 3, p=(1, 1, 1, 1))
    # Winograd (3x3, stride 1; ir/ops/conv_winograd.c, sched_winograd): F(4x4) with a
    # residual; asymmetric padding and no bias on a 22x26 map (the last tile row and
    # column hang over); K blocks (F(2x2) on AVX-512, F(4x4) on AVX2: 4 tiles a row
    # fill a quarter of 16 lanes); ResNet-18's layer, in two blocks of tile rows
    # run as two tasks
    conv_case(out, "wino_f4_res_relu", 16, 24, 32, 32, 3, p=(1, 1, 1, 1), residual=True,
              act="relu")
    conv_case(out, "wino_f2_asym_nobias", 20, 17, 22, 26, 3, p=(1, 0, 1, 2), bias=False)
    conv_case(out, "wino_deep_k_silu", 150, 20, 16, 16, 3, p=(1, 1, 1, 1), act="silu")
    conv_case(out, "wino_blocks_tasks", 64, 64, 56, 56, 3, p=(1, 1, 1, 1), bn=True,
              residual=True, act="relu")
    # sides that the tile does not divide: the last tile row and column hang over
    # (27x27 in F(4x4); 13x13 in F(2x2) at 16 lanes, F(4x4) at 8), with a residual
    conv_case(out, "wino_odd_res_relu", 16, 24, 27, 27, 3, p=(1, 1, 1, 1), residual=True,
              act="relu")
    conv_case(out, "wino_odd_13", 32, 20, 15, 13, 3, p=(0, 1, 0, 1), residual=True)
    # depthwise
    conv_case(out, "dw3x3", 8, 8, 10, 11, 3, p=(1, 1, 1, 1), group=8, clip=(0.0, 6.0))
    conv_case(out, "dw5x5_s2_mult", 8, 16, 12, 10, 5, s=2, p=(2, 2, 2, 2), group=8)
    # small maps: over a padded copy (windows mostly in the padding)
    conv_case(out, "dw5x5_7x7_padded_silu", 20, 20, 7, 7, 5, p=(2, 2, 2, 2), group=20, bn=True,
              act="silu")
    conv_case(out, "dw3x3_3x5_padded_mult", 6, 12, 3, 5, 3, p=(1, 1, 1, 1), group=6,
              residual=True, act="relu")
    # a row of one vector: the activation on each vector before its store
    conv_case(out, "dw3x3_14x14_padded_silu", 6, 6, 14, 14, 3, p=(1, 1, 1, 1), group=6,
              act="silu")
    # channels last (7x7 maps with 5x5 taps, or SiLU): a masked last channel block
    conv_case(out, "dw5x5_7x7_last_relu", 33, 33, 7, 7, 5, p=(2, 2, 2, 2), group=33,
              act="relu")
    conv_case(out, "dw3x3_s2_d2_last_silu", 37, 37, 11, 11, 3, s=2, p=(2, 2, 2, 2), d=2,
              group=37, bias=False, act="silu")
    conv_case(out, "dw3x3_s5", 4, 4, 17, 23, 3, s=5, group=4)  # stride > 4: points
    conv_case(out, "dw3x3_bn_silu", 6, 6, 9, 21, 3, p=(1, 1, 1, 1), group=6, bn=True, act="silu")
    conv_case(out, "dw3x3_s2_res_sigmoid", 5, 5, 11, 35, 3, s=2, p=(1, 1, 1, 1), group=5,
              residual=True, act="sigmoid")
    # recurrent cells: XW for all steps and HR per step through the kernel
    rnn_case(out, "lstm_bidir_peep", "LSTM", 7, 3, 13, 21, "bidirectional", peep=True)
    rnn_case(out, "lstm_reverse_nobias", "LSTM", 5, 1, 17, 16, "reverse", bias=False)
    rnn_case(out, "gru_lbr", "GRU", 6, 2, 9, 19, lbr=1)
    rnn_case(out, "gru_default", "GRU", 6, 2, 9, 19)
    rnn_case(out, "rnn_tanh", "RNN", 9, 4, 5, 33)
    # pools: windows inside X in (strided) vectors, the borders one at a time
    pool_case(out, "maxpool3x3_s2_ceil", "MaxPool", 5, 27, 27, 3, 2, (0, 0, 0, 0), ceil=1)
    pool_case(out, "maxpool3x3_s2_pad", "MaxPool", 4, 21, 40, 3, 2, (1, 1, 1, 1))
    pool_case(out, "maxpool2x2_s5", "MaxPool", 2, 16, 29, 2, 5, (0, 0, 0, 0))
    pool_case(out, "avgpool3x3_s1_pad", "AveragePool", 3, 9, 37, 3, 1, (1, 1, 1, 1))
    pool_case(out, "avgpool3x3_incl_pad", "AveragePool", 3, 11, 19, 3, 2, (1, 1, 1, 1),
              include_pad=1)
    # fused epilogues
    conv_case(out, "fused_bn_res_relu", 12, 20, 9, 9, 3, p=(1, 1, 1, 1), bn=True, residual=True,
              act="relu")
    conv_case(out, "fused_leaky", 5, 9, 6, 6, 1, act="leaky")
    conv_case(out, "fused_sigmoid", 7, 11, 5, 5, 3, p=(1, 1, 1, 1), act="sigmoid")
    conv_case(out, "fused_bn_silu", 6, 10, 7, 9, 1, bn=True, act="silu")
    conv_case(out, "fused_hardswish_res", 9, 9, 8, 8, 3, p=(1, 1, 1, 1), residual=True,
              act="hardswish")
    # matrix products
    matmul_case(out, "matmul_odd", (33, 17), (17, 65), True)
    matmul_case(out, "matmul_small", (5, 3), (3, 7), True)
    matmul_case(out, "matmul_act_b", (13, 300), (300, 31), False)
    matmul_case(out, "matmul_batched_w", (2, 3, 13, 9), (9, 31), True)
    matmul_case(out, "matmul_batched_bcast", (1, 5, 6), (3, 6, 7), True)
    matmul_case(out, "matmul_batched_act", (2, 13, 9), (2, 9, 35), False)
    linear_case(out, "linear_bias", (37, 45), 29, False, None)
    linear_case(out, "linear_res_relu", (3, 11, 20), 40, True, "relu")
    linear_case(out, "linear_sigmoid", (1, 5, 9), 18, False, "sigmoid")
    linear_case(out, "linear_res_silu", (2, 7, 9), 19, True, "silu")
    gemm_case(out, "gemm_tb_bias", 7, 19, 23, False, True, 1.0, 1.0, (19,))
    gemm_case(out, "gemm_ta_scaled", 9, 10, 5, True, False, 0.5, 2.0, (9, 1))
    gemm_case(out, "gemm_full_c", 17, 33, 400, False, False, 1.0, -1.0, (17, 33))
    gemm_case(out, "gemm_act_b_scalar_c", 6, 20, 8, False, False, 1.5, 1.0, (), b_weight=False)


if __name__ == "__main__":
    main()
