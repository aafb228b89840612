#!/usr/bin/python3
"""Seeded generator of random valid ONNX graphs for differential testing (docs/testing.md).

usage: gen.py SEED OUT.onnx [--print]

The same seed always gives the same model (Python's random.Random and numpy's
default_rng, both seeded from SEED; no other source of randomness).  Graphs hold
2 to 40 nodes from ops tcc supports at opset 17, shapes and attributes chosen so
every node is valid, and are checked with onnx.checker and shape inference
(whose shapes must equal the generator's own).  About 40% are conv-heavy, 35%
matmul-heavy, the rest elementwise/reduction/data-movement graphs; channel,
spatial and matmul sizes come from a list of tile-edge sizes.

Values are kept where a comparison means something: inputs in [-1, 1], weights
scaled by 1/sqrt(fan-in), a rough magnitude estimate per value that inserts a
Tanh or LayerNormalization when it grows, Log/Sqrt/Pow/Reciprocal only of values
made positive, and ops with discontinuities (Floor, Sign, ArgMax, comparisons,
Mod ...) only on "exact" values (graph inputs, integer tensors, and what data
movement or Min/Max/Abs/Neg make of them), where tcc and the reference see
bit-identical operands.
"""
import math
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
# Sizes that sit on and next to tile edges (powers of two +-1, primes, 1).
EDGE = [1, 3, 5, 7, 13, 17, 31, 33, 63, 65, 127]
SMALL = [1, 2, 3, 4, 5, 7, 8, 13, 16, 17]
F32, F64, I32, I64, BOOL = TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT32, TensorProto.INT64, TensorProto.BOOL
F16 = TensorProto.FLOAT16
NP = {F32: np.float32, F64: np.float64, I32: np.int32, I64: np.int64, BOOL: np.bool_, F16: np.float16}
FLOATS = (F32, F64, F16)


class Val:
    """A value of the graph being built: name, element type, shape, op depth,
    a rough bound of its magnitude, and whether it is exact (see the module doc)."""

    def __init__(self, name, dtype, shape, depth=0, mag=1.0, exact=False, positive=False):
        self.name, self.dtype, self.shape = name, dtype, list(shape)
        self.depth, self.mag, self.exact, self.positive = depth, mag, exact, positive

    @property
    def rank(self):
        return len(self.shape)


class Gen:
    def __init__(self, seed):
        self.seed = seed
        self.r = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.nodes, self.inits, self.inputs = [], [], []
        self.n = 0
        self.max_nodes = self.r.choice([2, 3, 5, 8, 12, 16, 20, 25, 30, 35])
        self.live = []  # values available to later nodes

    # -- building blocks ---------------------------------------------------
    def name(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def budget(self):
        return self.max_nodes - len(self.nodes)

    def input(self, dtype, shape):
        v = Val(self.name("in"), dtype, shape, 0, 1.0, exact=True)
        self.inputs.append(v)
        return v

    def init(self, arr, dtype=None):
        dtype = dtype or {np.dtype(np.float32): F32, np.dtype(np.float64): F64, np.dtype(np.float16): F16,
                          np.dtype(np.int32): I32,
                          np.dtype(np.int64): I64, np.dtype(np.bool_): BOOL}[arr.dtype]
        assert arr.size <= 1 << 20, f"generator: a {arr.shape} initializer is too large"
        nm = self.name("w")
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=NP[dtype]), nm))
        mag = float(np.max(np.abs(arr))) if arr.size and dtype != BOOL else 1.0
        return Val(nm, dtype, arr.shape, 0, mag, exact=True, positive=bool(arr.size and dtype != BOOL and np.all(arr > 0)))

    def weight(self, shape, fan_in, dtype=F32, scale=1.0):
        a = self.np.uniform(-1, 1, size=shape) * (scale * math.sqrt(3.0 / max(1, fan_in)))
        return self.init(a.astype(NP[dtype]), dtype)

    def const_like(self, v, shape, lo=-1.0, hi=1.0):
        if v.dtype in FLOATS:
            a = self.np.uniform(lo, hi, size=shape)
        else:
            a = self.np.integers(int(lo) if lo < hi else -5, max(int(hi), 1) + 1, size=shape)
        return self.init(np.asarray(a).astype(NP[v.dtype]), v.dtype)

    def ints(self, vals):
        return self.init(np.array(vals, dtype=np.int64), I64)

    def node(self, op, ins, dtype, shape, mag, exact=False, positive=False, nout=1, shapes=None, **attrs):
        outs = [self.name("t") for _ in range(nout)]
        self.nodes.append(helper.make_node(op, [i.name if i is not None else "" for i in ins], outs,
                                           name=f"{op.lower()}_{len(self.nodes)}", **attrs))
        depth = 1 + max([i.depth for i in ins if i is not None] + [0])
        vals = [Val(o, dtype, (shapes[k] if shapes else shape), depth, mag, exact, positive)
                for k, o in enumerate(outs)]
        return vals if nout > 1 else vals[0]

    def tame(self, v):
        """Bounds a float value that has grown large (LayerNormalization or Tanh)."""
        if v.dtype not in FLOATS or v.mag <= 8 or self.budget() < 1:
            return v
        if v.dtype == F32 and v.rank >= 1 and self.budget() >= 1 and self.r.random() < 0.5:
            return self.layernorm(v)
        if self.budget() >= 2:  # scale first: a saturated Tanh makes constant rows, ill-conditioned later
            v = self.node("Mul", [v, self.init(np.array(2.0 / v.mag, dtype=NP[v.dtype]))], v.dtype, v.shape, 2.0)
        return self.node("Tanh", [v], v.dtype, v.shape, 1.0)

    # -- activations: what a fused epilogue must reproduce --------------------
    def activation(self, v, kind=None):
        if v.dtype not in FLOATS:
            return self.node("Relu", [v], v.dtype, v.shape, v.mag, v.exact) if self.budget() >= 1 else v
        kinds = ["Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Swish", "Tanh",
                 "GeluErf", "GeluTanh", "Elu", "Softplus", "Selu", "Celu", "PRelu"]
        kind = kind or self.r.choice(kinds)
        need = {"Swish": 2, "GeluErf": 5, "GeluTanh": 7, "Clip": 1}.get(kind, 1)
        if self.budget() < need:
            kind = "Relu"
            if self.budget() < 1:
                return v
        if kind == "Relu":
            return self.node("Relu", [v], v.dtype, v.shape, v.mag, v.exact)
        if kind == "Clip":
            lo = self.r.choice([None, -0.5, 0.0, -1.0])
            hi = self.r.choice([None, 0.5, 1.0, 6.0])
            a = lambda x: None if x is None else self.init(np.array(x, dtype=NP[v.dtype]))
            ins = [v, a(lo), a(hi)]
            while ins and ins[-1] is None:
                ins.pop()
            return self.node("Clip", ins, v.dtype, v.shape, min(v.mag, 6.0), v.exact)
        if kind == "LeakyRelu":
            return self.node("LeakyRelu", [v], v.dtype, v.shape, v.mag, alpha=self.fattr(v, [0.01, 0.1, 0.3], [0.125, 0.25]))
        if kind == "Sigmoid":
            return self.node("Sigmoid", [v], v.dtype, v.shape, 1.0)
        if kind == "HardSigmoid":
            return self.node("HardSigmoid", [v], v.dtype, v.shape, 1.0, alpha=self.fattr(v, [0.2, 1 / 6], [0.25]),
                             beta=0.5)
        if kind == "HardSwish":
            return self.node("HardSwish", [v], v.dtype, v.shape, v.mag)
        if kind == "Swish":  # x * sigmoid(x), the SiLU a fusion pass should recognise
            s = self.node("Sigmoid", [v], v.dtype, v.shape, 1.0)
            return self.node("Mul", [v, s], v.dtype, v.shape, v.mag)
        if kind == "Tanh":
            return self.node("Tanh", [v], v.dtype, v.shape, 1.0)
        if kind == "GeluErf":  # 0.5 * x * (1 + erf(x / sqrt 2))
            c = lambda x: self.init(np.array(x, dtype=NP[v.dtype]))
            d = self.node("Div", [v, c(math.sqrt(2.0))], v.dtype, v.shape, v.mag)
            e = self.node("Erf", [d], v.dtype, v.shape, 1.0)
            p = self.node("Add", [e, c(1.0)], v.dtype, v.shape, 2.0)
            m = self.node("Mul", [v, p], v.dtype, v.shape, 2 * v.mag)
            return self.node("Mul", [m, c(0.5)], v.dtype, v.shape, v.mag)
        if kind == "GeluTanh":  # 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
            c = lambda x: self.init(np.array(x, dtype=NP[v.dtype]))
            x3 = self.node("Pow", [v, c(3.0)], v.dtype, v.shape, v.mag ** 3)
            a = self.node("Mul", [x3, c(0.044715)], v.dtype, v.shape, v.mag ** 3)
            b = self.node("Add", [v, a], v.dtype, v.shape, v.mag ** 3)
            s = self.node("Mul", [b, c(math.sqrt(2 / math.pi))], v.dtype, v.shape, v.mag ** 3)
            t = self.node("Tanh", [s], v.dtype, v.shape, 1.0)
            p = self.node("Add", [t, c(1.0)], v.dtype, v.shape, 2.0)
            m = self.node("Mul", [v, p], v.dtype, v.shape, 2 * v.mag)
            return self.node("Mul", [m, c(0.5)], v.dtype, v.shape, v.mag)
        if kind == "Elu":
            return self.node("Elu", [v], v.dtype, v.shape, v.mag, alpha=self.r.choice([1.0, 0.5]))
        if kind == "Softplus":
            return self.node("Softplus", [v], v.dtype, v.shape, v.mag + 1)
        if kind == "Selu":
            return self.node("Selu", [v], v.dtype, v.shape, 1.1 * v.mag)
        if kind == "Celu" and v.dtype == F32:
            return self.node("Celu", [v], v.dtype, v.shape, v.mag, alpha=self.r.choice([1.0, 2.0]))
        if kind == "PRelu":  # slope per channel (axis 1) or a scalar, broadcast
            sh = [v.shape[1]] + [1] * (v.rank - 2) if v.rank >= 2 and self.r.random() < 0.6 else [1]
            return self.node("PRelu", [v, self.const_like(v, sh, 0.0, 0.5)], v.dtype, v.shape, v.mag)
        return self.node("Relu", [v], v.dtype, v.shape, v.mag)

    def fattr(self, v, f32_choices, dyadic):
        """A float attribute: for f64 tensors one exact in f32 (tcc reads a float attribute
        as its shortest decimal, 0.1f as 0.1; ORT widens the float: a deliberate difference,
        allowlist.txt)."""
        return self.r.choice(dyadic if v.dtype == F64 else f32_choices)

    def layernorm(self, v):
        axis = self.r.choice([-1, -1, v.rank - 1] + ([-2] if v.rank >= 2 else []))
        ax = axis % v.rank
        if int(np.prod(v.shape[ax:])) > 4096:  # keep the scale and bias small
            axis = ax = v.rank - 1
        nsh = v.shape[ax:]
        sc = self.init(self.np.uniform(0.5, 1.5, size=nsh).astype(NP[v.dtype]))
        ins = [v, sc] + ([self.init(self.np.uniform(-0.5, 0.5, size=nsh).astype(NP[v.dtype]))]
                         if self.r.random() < 0.7 else [])
        if v.mag > 8 and self.budget() >= 2:  # LayerNorm of large values with a small spread is ill-conditioned
            v = self.node("Mul", [v, self.init(np.array(4.0 / v.mag, dtype=NP[v.dtype]))], v.dtype, v.shape, 4.0)
        return self.node("LayerNormalization", ins[:1] and [v] + ins[1:], v.dtype, v.shape, 4.0, axis=axis,
                         epsilon=self.r.choice([1e-5, 1e-3]))

    # -- conv-heavy graphs -------------------------------------------------------
    def conv(self, x, cout=None, residual=False):
        n, cin, h, w = x.shape
        if residual:
            group, k, s, d = (cin if self.r.random() < 0.3 else 1), self.r.choice([1, 3, 5]), 1, 1
            cout = cin
        else:
            mode = self.r.random()
            if mode < 0.2 and cin > 1:
                group = cin  # depthwise (channel multiplier 1 or 2)
                cout = cin * self.r.choice([1, 1, 2])
            elif mode < 0.35:
                divs = [g for g in range(2, cin + 1) if cin % g == 0]
                group = self.r.choice(divs) if divs else 1
                cout = group * self.r.choice([1, 2, 3])
            else:
                group = 1
                cout = cout or self.r.choice(EDGE[:9])
            k = self.r.choice([1, 1, 3, 3, 3, 5, 7, 2])
            s = self.r.choice([1, 1, 1, 2, 3])
            d = self.r.choice([1, 1, 1, 2])
        kh, kw = k, (k if self.r.random() < 0.8 else self.r.choice([1, 3]))
        sh, sw = s, (s if self.r.random() < 0.8 else self.r.choice([1, 2]))
        dh, dw = d, d
        ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        attrs = dict(kernel_shape=[kh, kw])
        if residual:
            attrs["pads"] = [(ekh - 1) // 2, (ekw - 1) // 2, ekh // 2, ekw // 2]
            if kh % 2 == 0 or kw % 2 == 0:
                kh = kw = 3
                attrs = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])
                ekh = ekw = 3
            oh, ow = h, w
        else:
            pm = self.r.random()
            if pm < 0.2 and dh == 1:  # (ORT refuses dilations with SAME padding)
                attrs["auto_pad"] = self.r.choice(["SAME_UPPER", "SAME_LOWER"])
                oh, ow = -(-h // sh), -(-w // sw)
                # SAME padding must not be negative: the window must fit at all.
            elif pm < 0.3 and h >= ekh and w >= ekw:
                attrs["auto_pad"] = "VALID"
                oh, ow = (h - ekh) // sh + 1, (w - ekw) // sw + 1
            else:
                pads = [self.r.randint(0, min(3, ekh - 1)) if ekh > 1 else 0,
                        self.r.randint(0, min(3, ekw - 1)) if ekw > 1 else 0]
                pads += [self.r.randint(0, min(3, ekh - 1)) if ekh > 1 else 0,
                         self.r.randint(0, min(3, ekw - 1)) if ekw > 1 else 0]
                while h + pads[0] + pads[2] < ekh:
                    pads[2] += 1
                while w + pads[1] + pads[3] < ekw:
                    pads[3] += 1
                attrs["pads"] = pads
                oh = (h + pads[0] + pads[2] - ekh) // sh + 1
                ow = (w + pads[1] + pads[3] - ekw) // sw + 1
            if sh != 1 or sw != 1:
                attrs["strides"] = [sh, sw]
            if dh != 1:
                attrs["dilations"] = [dh, dw]
        if group != 1:
            attrs["group"] = group
        fan = cin // group * kh * kw
        wt = self.weight([cout, cin // group, kh, kw], fan, x.dtype)
        mag = x.mag * 1.5 + 0.5
        bias_mode = self.r.random()
        if bias_mode < 0.5 and self.budget() >= 1:
            y = self.node("Conv", [x, wt, self.weight([cout], 1, x.dtype, 0.3)], x.dtype, [n, cout, oh, ow], mag,
                          **attrs)
        else:
            y = self.node("Conv", [x, wt], x.dtype, [n, cout, oh, ow], mag, **attrs)
            if bias_mode < 0.8 and self.budget() >= 1:  # a separate bias Add, for fusion to fold
                y = self.node("Add", [y, self.weight([cout, 1, 1], 1, x.dtype, 0.3)], y.dtype, y.shape, y.mag + 0.3)
        if self.r.random() < 0.35 and self.budget() >= 1:
            y = self.batchnorm(y)
        if self.r.random() < 0.85:
            y = self.activation(y)
        if residual and self.budget() >= 1:
            y = self.node("Add", [x, y] if self.r.random() < 0.5 else [y, x], y.dtype, y.shape, x.mag + y.mag)
        return y

    def image_op(self, x):
        n, c, h, w = x.shape
        p = self.r.random()
        if p < 0.4:
            sc = self.init(self.np.uniform(0.5, 1.5, c).astype(NP[x.dtype]))
            b = self.init(self.np.uniform(-0.5, 0.5, c).astype(NP[x.dtype]))
            if h * w < 2:  # a 1x1 image normalizes to the bias exactly: fine, but pointless
                return x
            x = self.node("Mul", [x, self.init(np.array(4.0 / x.mag, dtype=NP[x.dtype]))], x.dtype, x.shape, 4.0) \
                if x.mag > 8 and self.budget() >= 2 else x
            return self.node("InstanceNormalization", [x, sc, b], x.dtype, x.shape, 4.0,
                             epsilon=self.r.choice([1e-5, 1e-3]))
        bs = self.r.choice([2, 3])
        if p < 0.7 and h % bs == 0 and w % bs == 0:
            return self.node("SpaceToDepth", [x], x.dtype, [n, c * bs * bs, h // bs, w // bs], x.mag, x.exact,
                             blocksize=bs)
        if c % (bs * bs) == 0:
            mode = self.r.choice(["DCR", "CRD"])
            return self.node("DepthToSpace", [x], x.dtype, [n, c // (bs * bs), h * bs, w * bs], x.mag, x.exact,
                             blocksize=bs, mode=mode)
        return self.pool(x) if h * w > 1 else x

    def batchnorm(self, y):
        c = y.shape[1]
        sc = self.init(self.np.uniform(0.5, 1.5, c).astype(NP[y.dtype]))
        b = self.init(self.np.uniform(-0.5, 0.5, c).astype(NP[y.dtype]))
        m = self.init(self.np.uniform(-0.3, 0.3, c).astype(NP[y.dtype]))
        var = self.init(self.np.uniform(0.5, 2.0, c).astype(NP[y.dtype]))
        return self.node("BatchNormalization", [y, sc, b, m, var], y.dtype, y.shape, y.mag * 2 + 0.5,
                         epsilon=self.r.choice([1e-5, 1e-3]))

    def pool(self, x):
        n, c, h, w = x.shape
        kind = self.r.choice(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "MaxPool"])
        if kind.startswith("Global") or h < 2 and w < 2:
            kind = kind if kind.startswith("Global") else "GlobalAveragePool"
            return self.node(kind, [x], x.dtype, [n, c, 1, 1], x.mag, x.exact and kind == "GlobalMaxPool")
        k = [min(self.r.choice([2, 3, 3, 5]), h), min(self.r.choice([2, 3]), w)]
        s = [self.r.choice([1, 2, 2, 3]), self.r.choice([1, 2])]
        pads = [self.r.randint(0, (k[0] - 1) // 2), self.r.randint(0, (k[1] - 1) // 2)]
        pads += [self.r.randint(0, (k[0] - 1) // 2), self.r.randint(0, (k[1] - 1) // 2)]
        attrs = dict(kernel_shape=k, strides=s, pads=pads)
        ceil = self.r.random() < 0.25
        if ceil:
            attrs["ceil_mode"] = 1

        def out(i, p):
            num = (h, w)[i] + pads[i] + pads[i + 2] - k[i]
            o = (-(-num // s[i]) if ceil else num // s[i]) + 1
            # ceil mode: the last window must start inside the input or its left padding.
            if ceil and (o - 1) * s[i] >= (h, w)[i] + pads[i]:
                o -= 1
            return o

        oh, ow = out(0, pads), out(1, pads)
        if ceil:  # where ONNX 1.12's formula and the "window starts inside" rule differ, no ceil_mode
            raw = [-(-((h, w)[i] + pads[i] + pads[i + 2] - k[i]) // s[i]) + 1 for i in (0, 1)]
            if raw != [oh, ow]:
                ceil = False
                del attrs["ceil_mode"]
                oh, ow = out(0, pads), out(1, pads)
        if kind == "AveragePool" and self.r.random() < 0.5:
            attrs["count_include_pad"] = 1
        return self.node(kind, [x], x.dtype, [n, c, oh, ow], x.mag, x.exact and kind == "MaxPool", **attrs)

    def conv1d(self, x):
        n, cin, l = x.shape
        group = cin if cin > 1 and self.r.random() < 0.25 else 1
        cout = cin if group > 1 else self.r.choice(EDGE[:9])
        k, s, d = self.r.choice([1, 2, 3, 5, 7]), self.r.choice([1, 1, 2, 3]), self.r.choice([1, 1, 2])
        ek = d * (k - 1) + 1
        pads = [self.r.randint(0, ek - 1), self.r.randint(0, ek - 1)] if ek > 1 else [0, 0]
        while l + pads[0] + pads[1] < ek:
            pads[1] += 1
        ol = (l + pads[0] + pads[1] - ek) // s + 1
        attrs = dict(kernel_shape=[k], pads=pads, strides=[s], dilations=[d])
        if group > 1:
            attrs["group"] = group
        ins = [x, self.weight([cout, cin // group, k], cin // group * k, x.dtype)]
        if self.r.random() < 0.5:
            ins.append(self.weight([cout], 1, x.dtype, 0.3))
        y = self.node("Conv", ins, x.dtype, [n, cout, ol], x.mag * 1.5 + 0.5, **attrs)
        return self.activation(y) if self.r.random() < 0.7 else y

    def conv_transpose(self, x):
        n, cin, h, w = x.shape
        group = cin if cin > 1 and self.r.random() < 0.2 else 1
        cout_g = self.r.choice([1, 2, 3, 5])
        k, s, d = self.r.choice([1, 2, 3, 4]), self.r.choice([1, 2, 3]), self.r.choice([1, 1, 2])
        ek = d * (k - 1) + 1
        pads = [self.r.randint(0, (ek - 1) // 2) for _ in range(4)]
        op = [self.r.randint(0, min(s, d) - 1) if s > 1 else 0 for _ in range(2)]
        oh = (h - 1) * s - pads[0] - pads[2] + ek + op[0]
        ow = (w - 1) * s - pads[1] - pads[3] + ek + op[1]
        if oh < 1 or ow < 1 or oh * ow > 4096:
            return x
        attrs = dict(kernel_shape=[k, k], pads=pads, strides=[s, s], dilations=[d, d])
        if any(op):
            attrs["output_padding"] = op
        if group > 1:
            attrs["group"] = group
        ins = [x, self.weight([cin, cout_g, k, k], cin // group * k * k / max(1, s * s), x.dtype)]
        if self.r.random() < 0.5:
            ins.append(self.weight([cout_g * group], 1, x.dtype, 0.3))
        return self.node("ConvTranspose", ins, x.dtype, [n, cout_g * group, oh, ow], x.mag * 1.5 + 0.5, **attrs)

    def conv_graph(self):
        if self.r.random() < 0.15:  # 1-D convolutions
            x = self.input(F32, [self.r.choice([1, 2]), self.r.choice([1, 3, 4, 7, 16]), self.r.choice(EDGE[:10])])
            while self.budget() >= 2:
                x = self.tame(self.conv1d(x))
            return [x]
        n = self.r.choice([1, 1, 1, 2])
        c = self.r.choice([1, 3, 3, 4, 5, 7, 8, 13, 16, 17])
        h = self.r.choice([1, 3, 5, 7, 8, 13, 16, 17, 31, 33])
        w = h if self.r.random() < 0.7 else self.r.choice([1, 3, 5, 7, 13, 17])
        x = self.input(F32, [n, c, h, w])
        branches = []
        while self.budget() >= 2:
            p = self.r.random()
            if p < 0.45:
                x = self.conv(x)
            elif p < 0.65 and x.shape[1] <= 65:
                x = self.conv(x, residual=True)
            elif p < 0.75 and x.shape[2] * x.shape[3] > 1:
                x = self.pool(x) if self.r.random() < 0.7 else self.conv_transpose(x)
            elif p < 0.8 and self.r.random() < 0.7:
                x = self.image_op(x)
            elif p < 0.82 and self.budget() >= 4 and x.shape[1] <= 65:  # two branches joined by a channel Concat
                a = self.conv(x, residual=True) if self.r.random() < 0.5 else x
                b = self.conv(x, residual=True)
                x = self.node("Concat", [a, b], x.dtype, [x.shape[0], a.shape[1] + b.shape[1]] + x.shape[2:],
                              max(a.mag, b.mag), axis=self.r.choice([1, -3]))
            elif p < 0.9:
                y = self.elementwise(x)
                if y.rank == 4 and y.dtype == x.dtype:
                    x = y
                else:  # no longer an image: a side output
                    branches.append(y)
            else:
                branches.append(x)
                x = self.tame(x)
                if self.r.random() < 0.5:
                    break
            x = self.tame(x)
            if x.shape[1] * x.shape[2] * x.shape[3] > 40000:
                x = self.pool(x) if self.budget() >= 1 else x
        outs = [x]
        if self.budget() >= 1 and self.r.random() < 0.7:
            outs = [self.conv_head(x)]
            if self.r.random() < 0.3:
                outs.append(x)
        return outs + branches[:1]

    def conv_head(self, x):
        p = self.r.random()
        n, c, h, w = x.shape
        if p < 0.35 and self.budget() >= 3:  # classifier: pool -> flatten -> gemm
            g = self.node("GlobalAveragePool", [x], x.dtype, [n, c, 1, 1], x.mag)
            f = self.node("Flatten", [g], x.dtype, [n, c], x.mag, axis=1)
            k = self.r.choice(EDGE[:8])
            return self.gemm(f, k)
        if p < 0.55:
            return self.softmax_like(x)
        if p < 0.75:
            return self.reduce(x)
        if p < 0.9 and self.budget() >= 2:  # NCHW -> NHWC then LayerNorm over channels
            t = self.node("Transpose", [x], x.dtype, [n, h, w, c], x.mag, x.exact, perm=[0, 2, 3, 1])
            return self.layernorm(t)
        return self.node("Flatten", [x], x.dtype, [n, c * h * w], x.mag, x.exact, axis=1)

    # -- matmul-heavy graphs --------------------------------------------------------
    def gemm(self, a, nout=None):
        m, k = a.shape
        nout = nout or self.r.choice(EDGE[:10])
        ta, tb = self.r.random() < 0.3, self.r.random() < 0.5
        if ta:  # feed A transposed so that Gemm's transA undoes it
            if self.budget() < 2:
                ta = False
            else:
                a = self.node("Transpose", [a], a.dtype, [k, m], a.mag, a.exact, perm=[1, 0])
        wt = self.weight([nout, k] if tb else [k, nout], k, a.dtype)
        ins = [a, wt]
        cm = self.r.random()
        if cm < 0.7:
            csh = self.r.choice([[nout], [1, nout], [m, nout], [m, 1], [1], []])
            ins.append(self.weight(csh, 1, a.dtype, 0.3))
        attrs = {}
        if ta:
            attrs["transA"] = 1
        if tb:
            attrs["transB"] = 1
        if self.r.random() < 0.3:
            attrs["alpha"] = self.r.choice([0.5, 2.0])
        if len(ins) == 3 and self.r.random() < 0.3:
            attrs["beta"] = self.r.choice([0.5, 2.0, 0.0])
        return self.node("Gemm", ins, a.dtype, [m, nout], a.mag * 2 + 0.5, **attrs)

    def matmul(self, x):
        *batch, m, k = x.shape
        nout = self.r.choice(EDGE)
        p = self.r.random()
        if p < 0.6 or not batch:
            wsh = [k, nout]
        elif p < 0.8 and batch[-1] <= 8:  # a batched weight that broadcasts over the leading dims
            wsh = [1] * (len(batch) - 1) + [batch[-1], k, nout]
        else:
            wsh = [batch[-1] if self.r.random() < 0.5 and batch[-1] <= 8 else 1, k, nout]
        wt = self.weight(wsh, k, x.dtype)
        wb = wsh[:-2]
        ob = list(batch)
        if len(wb) > len(ob):
            ob = wb[:len(wb) - len(ob)] + ob
        ins = [x, wt] if self.r.random() < 0.85 or len(wsh) != 2 else [x, wt]
        return self.node("MatMul", ins, x.dtype, ob + [m, nout], x.mag * 1.7 + 0.3)

    def matmul_graph(self):
        dtype = F32 if self.r.random() < 0.9 else F64
        rank = self.r.choice([2, 2, 3, 3, 4])
        m = self.r.choice(EDGE)
        k = self.r.choice(EDGE)
        batch = [self.r.choice([1, 2, 3, 5]) for _ in range(rank - 2)]
        x = self.input(dtype, batch + [m, k])
        if m * k * max(1, int(np.prod(batch))) > 20000:
            k = self.r.choice(EDGE[:7])
            x.shape[-1] = k
        outs = []
        while self.budget() >= 1 and x.rank >= 2:  # a Gather or a reduction may leave a vector
            if x.shape[-1] > 127 and self.budget() >= 2:  # after a Flatten: keep weights small
                sh = x.shape[:-1] + [127]
                x = self.node("Slice", [x, self.ints([0]), self.ints([127]), self.ints([-1])], x.dtype, sh, x.mag,
                              x.exact)
            p = self.r.random()
            if p < 0.35:
                x = self.matmul(x)
                if self.r.random() < 0.6 and self.budget() >= 1:
                    x = self.node("Add", [x, self.weight([x.shape[-1]], 1, x.dtype, 0.3)], x.dtype, x.shape,
                                  x.mag + 0.3)
                if self.r.random() < 0.6:
                    x = self.activation(x)
            elif p < 0.5 and x.rank == 2:
                x = self.gemm(x)
                if self.r.random() < 0.6:
                    x = self.activation(x)
            elif p < 0.6 and x.rank >= 2 and self.budget() >= 3 and x.shape[-2] <= 127:  # attention-like: x @ x^T, softmax, @ x
                perm = list(range(x.rank - 2)) + [x.rank - 1, x.rank - 2]
                t = self.node("Transpose", [x], x.dtype, x.shape[:-2] + [x.shape[-1], x.shape[-2]], x.mag,
                              perm=perm)
                s = self.node("MatMul", [x, t], x.dtype, x.shape[:-1] + [x.shape[-2]], x.mag * x.mag * 3)
                s = self.node("Mul", [s, self.init(np.array(1 / math.sqrt(x.shape[-1]), dtype=NP[x.dtype]))],
                              x.dtype, s.shape, s.mag)
                s = self.tame(s)
                sm = self.node("Softmax", [s], x.dtype, s.shape, 1.0, axis=-1)
                if self.budget() >= 1:
                    x = self.node("MatMul", [sm, x], x.dtype, x.shape, x.mag)
                else:
                    x = sm
            elif p < 0.7:
                x = self.reshape_like(x)
            elif p < 0.78 and self.budget() >= 3 and x.rank >= 2:  # residual around a square matmul
                kk = x.shape[-1]
                y = self.node("MatMul", [x, self.weight([kk, kk], kk, x.dtype)], x.dtype, x.shape, x.mag * 1.7)
                y = self.activation(y)
                x = self.node("Add", [x, y], x.dtype, x.shape, x.mag + y.mag)
            elif p < 0.82 and self.budget() >= 2:  # 1-D operands: matrix @ vector, vector @ matrix
                k = x.shape[-1]
                if self.r.random() < 0.5:
                    outs.append(self.node("MatMul", [x, self.weight([k], k, x.dtype)], x.dtype, x.shape[:-1],
                                          x.mag * 1.7))
                else:
                    v = self.weight([x.shape[-2]], x.shape[-2], x.dtype) if x.rank >= 2 else None
                    if v is not None:
                        outs.append(self.node("MatMul", [v, x], x.dtype, x.shape[:-2] + [k], x.mag * 1.7))
            elif p < 0.86 and x.dtype == F32 and self.budget() >= 1:
                x = self.layernorm(x)
            elif p < 0.93:
                x = self.elementwise(x)
            else:
                outs.append(x)
            x = self.tame(x)
            if int(np.prod(x.shape)) > 60000 and self.budget() >= 1:
                x = self.reduce(x, keep_rank=True)
        if self.r.random() < 0.4 and self.budget() >= 1:
            x = self.r.choice([self.softmax_like, self.reduce])(x)
        return [x] + outs[:1]

    def reshape_like(self, x):
        p = self.r.random()
        if x.rank >= 2 and p < 0.4:
            perm = list(range(x.rank))
            self.r.shuffle(perm)
            return self.node("Transpose", [x], x.dtype, [x.shape[i] for i in perm], x.mag, x.exact, perm=perm)
        if p < 0.6 and x.rank >= 2:
            ax = self.r.randint(-x.rank, x.rank - 1) if self.r.random() < 0.5 else self.r.randint(0, x.rank)
            a = ax % x.rank if ax < 0 else ax
            return self.node("Flatten", [x], x.dtype, [int(np.prod(x.shape[:a])), int(np.prod(x.shape[a:]))],
                             x.mag, x.exact, axis=ax)
        if p < 0.8 and x.rank >= 1:  # merge or split the leading dims, with a -1 or a 0 in the target shape
            total = int(np.prod(x.shape))
            last = x.shape[-1]
            rest = total // last
            divs = [d for d in range(1, rest + 1) if rest % d == 0]
            a = self.r.choice(divs)
            shape = [a, rest // a, last]
            spec = list(shape)
            i = self.r.randint(0, 2)
            spec[i] = -1
            if x.rank >= 1 and x.shape[0] == shape[0] and self.r.random() < 0.5 and i != 0:
                spec[0] = 0
            return self.node("Reshape", [x, self.ints(spec)], x.dtype, shape, x.mag, x.exact)
        ax = self.r.randint(-x.rank - 1, x.rank)
        a = ax % (x.rank + 1)
        shape = x.shape[:a] + [1] + x.shape[a:]
        u = self.node("Unsqueeze", [x, self.ints([ax])], x.dtype, shape, x.mag, x.exact)
        if self.budget() >= 1 and self.r.random() < 0.5:
            return self.node("Squeeze", [u, self.ints([a])], x.dtype, x.shape, x.mag, x.exact)
        return u

    def softmax_like(self, x):
        if x.rank == 0:
            return self.node("Neg", [x], x.dtype, x.shape, x.mag, x.exact)
        op = self.r.choice(["Softmax", "Softmax", "LogSoftmax"])
        ax = self.r.randint(-x.rank, x.rank - 1)
        xs = self.tame(x)
        return self.node(op, [xs], x.dtype, x.shape, 1.0 if op == "Softmax" else x.mag + 5, axis=ax)

    def reduce(self, x, keep_rank=False):
        ops = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare",
               "ReduceL1", "ReduceLogSumExp", "ReduceProd"]
        op = self.r.choice(ops)
        if x.rank == 0:
            return self.node("Abs", [x], x.dtype, x.shape, x.mag, x.exact)
        if x.dtype not in FLOATS and op in ("ReduceL2", "ReduceLogSumExp", "ReduceMean"):
            op = "ReduceSum"
        nax = self.r.randint(1, min(2, x.rank)) if x.rank else 0
        axes = sorted(self.r.sample(range(x.rank), nax))
        neg = [a - x.rank if self.r.random() < 0.5 else a for a in axes]
        keep = 1 if keep_rank else self.r.choice([0, 1])
        shape = [(1 if i in axes else d) for i, d in enumerate(x.shape)] if keep else \
            [d for i, d in enumerate(x.shape) if i not in axes]
        cnt = int(np.prod([x.shape[a] for a in axes]))
        if op == "ReduceProd":
            if cnt > 8:
                op = "ReduceMax"
        if op == "ReduceLogSumExp":
            x = self.tame(x)
        mag = {"ReduceSum": x.mag * cnt, "ReduceL1": x.mag * cnt, "ReduceSumSquare": x.mag ** 2 * cnt,
               "ReduceL2": x.mag * math.sqrt(cnt), "ReduceLogSumExp": x.mag + math.log(cnt + 1),
               "ReduceProd": min(max(1.0, x.mag), 1e3) ** min(cnt, 8)}.get(op, x.mag)
        exact = x.exact and op in ("ReduceMax", "ReduceMin")
        if op == "ReduceSum":
            ins = [x, self.ints(neg)]
            return self.node(op, ins, x.dtype, shape, mag, exact, keepdims=keep)
        return self.node(op, [x], x.dtype, shape, mag, exact, axes=neg, keepdims=keep)

    # -- elementwise, broadcasting, integer and data-movement graphs -----------------
    def bshape(self, shape):
        """A shape that broadcasts against SHAPE: a suffix, with some dims set to 1."""
        k = self.r.randint(0, len(shape))
        s = list(shape[len(shape) - k:])
        for i in range(len(s)):
            if self.r.random() < 0.4:
                s[i] = 1
        if self.r.random() < 0.15 and len(s) < len(shape):
            pass
        return s

    def elementwise(self, x):
        fl = x.dtype in FLOATS
        p = self.r.random()
        if p < 0.35:  # binary op against a broadcast constant or a broadcast second input
            op = self.r.choice(["Add", "Sub", "Mul", "Div", "Max", "Min"] + (["Pow"] if fl else []))
            sh = self.bshape(x.shape)
            if self.r.random() < 0.25 and len(self.inputs) < 3:
                o = self.input(x.dtype, sh)
                if not fl:
                    o.mag = 4
            else:
                o = self.const_like(x, sh, -1, 1) if fl else self.const_like(x, sh, -4, 4)
            if op == "Div":
                if fl:
                    o = self.init(self.np.uniform(0.5, 2.0, size=sh).astype(NP[x.dtype]) *
                                  self.np.choice([-1, 1], size=sh).astype(NP[x.dtype]))
                else:
                    o = self.init((self.np.integers(1, 5, size=sh) * self.np.choice([-1, 1], size=sh))
                                  .astype(NP[x.dtype]))
            if op == "Pow":
                if self.budget() < 3:
                    op = "Mul"
                else:
                    x = self.positive(x)
                    o = self.init(self.np.uniform(-1.5, 2.0, size=sh).astype(NP[x.dtype]))
            mag = {"Add": x.mag + o.mag, "Sub": x.mag + o.mag, "Mul": x.mag * o.mag, "Div": x.mag * 2,
                   "Max": max(x.mag, o.mag), "Min": max(x.mag, o.mag), "Pow": x.mag ** 2 + 1}[op]
            out = np.broadcast_shapes(tuple(x.shape), tuple(o.shape))
            exact = x.exact and o.exact and (op in ("Max", "Min") or not fl)
            ins = [x, o] if self.r.random() < 0.7 or op in ("Pow",) else [o, x]
            if op == "Div" and ins[0] is o:
                ins = [x, o]
            if not fl and op == "Div":
                exact = True
            return self.node(op, ins, x.dtype, list(out), mag, exact)
        if p < 0.55 and fl:
            op = self.r.choice(["Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Neg", "Sin", "Cos", "Atan", "Erf",
                                "Softsign", "Tanh", "Sigmoid"])
            if op in ("Log", "Sqrt", "Reciprocal"):
                if self.budget() < 3:
                    op = "Abs"
                else:
                    x = self.positive(x)
            if op == "Exp":
                x = self.tame(x)
                if x.mag > 8:
                    op = "Tanh"
            if op in ("Sin", "Cos") and x.mag > 8:
                op = "Tanh"
            mag = {"Exp": math.exp(min(x.mag, 8)), "Log": math.log(x.mag + 1) + 1, "Sqrt": math.sqrt(x.mag) + 1,
                   "Reciprocal": 1.0, "Abs": x.mag, "Neg": x.mag}.get(op, 1.5)
            exact = x.exact and op in ("Abs", "Neg")
            return self.node(op, [x], x.dtype, x.shape, mag, exact, positive=op in ("Exp", "Sqrt"))
        if p < 0.7 and x.exact and self.budget() >= 2 and x.rank >= 1:  # discontinuous ops on exact values only
            if fl:
                op = self.r.choice(["Floor", "Ceil", "Round", "Sign", "Compare", "ArgMax", "ArgMin"])
            else:
                op = self.r.choice(["Sign", "Compare", "ArgMax", "ArgMin", "Mod"])
            if op in ("Floor", "Ceil", "Round", "Sign"):
                return self.node(op, [x], x.dtype, x.shape, x.mag + 1, True)
            if op == "Mod":
                o = self.init((self.np.integers(1, 6, size=self.bshape(x.shape)) *
                               self.np.choice([-1, 1])).astype(NP[x.dtype]))
                out = list(np.broadcast_shapes(tuple(x.shape), tuple(o.shape)))
                return self.node("Mod", [x, o], x.dtype, out, 6, True, fmod=0)
            if op == "Compare":
                cop = self.r.choice(["Less", "Greater", "Equal", "LessOrEqual", "GreaterOrEqual"])
                o = self.const_like(x, self.bshape(x.shape), -1, 1) if fl else self.const_like(x, self.bshape(
                    x.shape), -3, 3)
                out = list(np.broadcast_shapes(tuple(x.shape), tuple(o.shape)))
                c = self.node(cop, [x, o], BOOL, out, 1, True)
                other = self.const_like(x, out, -1, 1)
                return self.node("Where", [c, x if list(x.shape) == out else other, other if list(x.shape) == out
                                           else x], x.dtype, out, max(x.mag, 1), True)
            ax = self.r.randint(-x.rank, x.rank - 1) if x.rank else 0
            keep = self.r.choice([0, 1])
            a = ax % x.rank
            shape = [1 if i == a else d for i, d in enumerate(x.shape)] if keep else \
                [d for i, d in enumerate(x.shape) if i != a]
            attrs = dict(axis=ax, keepdims=keep)
            if self.r.random() < 0.3:
                attrs["select_last_index"] = 1
            am = self.node(op, [x], I64, shape, max(x.shape), True, **attrs)
            if x.dtype != I64:
                return self.node("Cast", [am], x.dtype, shape, am.mag, True, to=x.dtype)
            return am
        if p < 0.85:  # data movement
            return self.movement(x)
        if self.budget() >= 2 and fl and self.kind == "misc":  # a round trip through an integer type on exact values, else a Cast to f64 and back
            t = self.r.choice([F64, F32]) if not x.exact else self.r.choice([I32, I64, F64])
            if t == x.dtype:
                t = F64 if x.dtype == F32 else F32
            if t in (I32, I64):
                scale = self.node("Mul", [x, self.init(np.array(4, dtype=NP[x.dtype]))], x.dtype, x.shape,
                                  x.mag * 4)
                c = self.node("Cast", [scale], t, x.shape, x.mag * 4 + 1, True, to=t)
                return c
            return self.node("Cast", [x], t, x.shape, x.mag, x.exact, to=t)
        return self.node("Neg" if self.r.random() < 0.5 else "Abs", [x], x.dtype, x.shape, x.mag, x.exact)

    def extra(self, x):
        """Less common ops: CumSum, Trilu, variadic Sum/Mean/Max, Einsum, TopK, LRN,
        Shrink, ThresholdedRelu, Hardmax."""
        fl = x.dtype in FLOATS
        p = self.r.random()
        if p < 0.15:
            ax = self.r.randint(-x.rank, x.rank - 1)
            attrs = {k: 1 for k in ("exclusive", "reverse") if self.r.random() < 0.4}
            return self.node("CumSum", [x, self.init(np.array(ax, dtype=np.int64))], x.dtype, x.shape,
                             x.mag * x.shape[ax], x.exact and not fl, **attrs)
        if p < 0.27 and x.rank >= 2:
            ins = [x] + ([self.ints([]) if False else self.init(np.array(self.r.randint(-3, 3), dtype=np.int64))]
                         if self.r.random() < 0.7 else [])
            return self.node("Trilu", ins, x.dtype, x.shape, x.mag, x.exact, upper=self.r.choice([0, 1]))
        if p < 0.42:
            op = self.r.choice(["Sum", "Mean", "Max", "Min"] if fl else ["Max", "Min"])
            ins = [x] + [self.const_like(x, self.bshape(x.shape), -1, 1) if fl else
                         self.const_like(x, self.bshape(x.shape), -4, 4) for _ in range(self.r.randint(1, 3))]
            out = list(np.broadcast_shapes(*[tuple(i.shape) for i in ins]))
            return self.node(op, ins, x.dtype, out, x.mag + 4, x.exact and (op in ("Max", "Min") or not fl))
        if p < 0.55 and x.rank >= 2 and x.dtype in (F32, F64):
            k, nn = x.shape[-1], self.r.choice(EDGE[:8])
            letters = "abcdefgh"[:x.rank - 1]
            eq = f"{letters}k,kn->{letters}n" if self.r.random() < 0.5 else f"{letters}k,nk->{letters}n"
            w = self.weight([k, nn] if "kn->" in eq else [nn, k], k, x.dtype)
            return self.node("Einsum", [x, w], x.dtype, x.shape[:-1] + [nn], x.mag * 1.7, equation=eq)
        if p < 0.68 and x.exact:
            ax = self.r.randint(-x.rank, x.rank - 1)
            d = x.shape[ax]
            k = self.r.randint(1, d)
            sh = list(x.shape)
            sh[ax] = k
            v, i = self.node("TopK", [x, self.ints([k])], x.dtype, None, x.mag, True, nout=2,
                             shapes=[sh, sh], axis=ax, largest=self.r.choice([0, 1]), sorted=1)
            i.dtype = I64
            if self.r.random() < 0.5 or x.dtype == I64:
                return v
            return self.node("Cast", [i], x.dtype, sh, d, True, to=x.dtype)
        if p < 0.78 and x.rank == 4 and x.dtype in (F32,):
            return self.node("LRN", [x], x.dtype, x.shape, x.mag, size=self.r.choice([1, 3, 5]),
                             alpha=self.r.choice([1e-4, 0.01]), beta=0.75, bias=1.0)
        if p < 0.9 and fl and x.exact:
            if self.r.random() < 0.5:
                return self.node("Shrink", [x], x.dtype, x.shape, x.mag, True, lambd=0.5,
                                 bias=self.r.choice([0.0, 0.25]))
            return self.node("ThresholdedRelu", [x], x.dtype, x.shape, x.mag, True, alpha=0.25)
        if fl and x.exact:
            return self.node("Hardmax", [x], x.dtype, x.shape, 1, True, axis=self.r.randint(-x.rank, x.rank - 1))
        return self.elementwise(x)

    def positive(self, x):
        """|x| + c (c in [0.1, 1]): an argument for Log, Sqrt, Pow, Reciprocal."""
        if x.positive:
            return x
        a = self.node("Abs", [x], x.dtype, x.shape, x.mag, x.exact)
        c = self.init(np.array(self.r.choice([0.1, 0.5, 1.0]), dtype=NP[x.dtype]))
        return self.node("Add", [a, c], x.dtype, x.shape, x.mag + 1, positive=True)

    def movement(self, x):
        p = self.r.random()
        if p < 0.2 and x.rank >= 1:
            ax = self.r.randint(-x.rank, x.rank - 1)
            a = ax % x.rank
            d = x.shape[a]
            st = self.r.randint(-d, d - 1) if d > 1 else 0
            step = self.r.choice([1, 1, 2, 3, -1])
            if step > 0:
                en = self.r.choice([d, d + 5, -1, 2 ** 31])
            else:
                en = self.r.choice([-d - 1, -2 ** 31, 0])
            n = len(range(*slice(st, en, step).indices(d)))
            if n == 0:
                st, en, step, n = 0, d, 1, d
            shape = list(x.shape)
            shape[a] = n
            return self.node("Slice", [x, self.ints([st]), self.ints([en]), self.ints([ax]), self.ints([step])],
                             x.dtype, shape, x.mag, x.exact)
        if p < 0.35 and x.rank >= 1:
            pads = [self.r.randint(0, 2) for _ in range(2 * x.rank)]
            mode = self.r.choice(["constant", "constant", "reflect", "edge"])
            if mode == "reflect" and any(d < 2 for d in x.shape):
                mode = "edge"
            if mode == "reflect":
                pads = [min(pd, x.shape[i % x.rank] - 1) for i, pd in enumerate(pads)]
            shape = [d + pads[i] + pads[i + x.rank] for i, d in enumerate(x.shape)]
            ins = [x, self.ints(pads)]
            if mode == "constant" and self.r.random() < 0.5:
                ins.append(self.init(np.array(0.5 if x.dtype in FLOATS else 3, dtype=NP[x.dtype])))
            return self.node("Pad", ins, x.dtype, shape, max(x.mag, 3), x.exact, mode=mode)
        if p < 0.5 and x.rank >= 1:
            ax = self.r.randint(-x.rank, x.rank - 1)
            a = ax % x.rank
            o = self.const_like(x, x.shape[:a] + [self.r.choice([1, 2, 3])] + x.shape[a + 1:])
            sh = list(x.shape)
            sh[a] += o.shape[a]
            return self.node("Concat", [x, o] if self.r.random() < 0.5 else [o, x], x.dtype, sh, max(x.mag, 1),
                             x.exact, axis=ax)
        if p < 0.6 and x.rank >= 1:
            ax = self.r.randint(-x.rank, x.rank - 1)
            a = ax % x.rank
            d = x.shape[a]
            idx = self.np.integers(-d, d, size=self.r.choice([[], [1], [3], [2, 2]]))
            sh = x.shape[:a] + list(idx.shape) + x.shape[a + 1:]
            return self.node("Gather", [x, self.init(idx.astype(np.int64))], x.dtype, sh, x.mag, x.exact,
                             axis=ax)
        if p < 0.7 and x.rank >= 1:
            reps = [self.r.choice([1, 1, 2, 3]) for _ in x.shape]
            return self.node("Tile", [x, self.ints(reps)], x.dtype, [d * k for d, k in zip(x.shape, reps)],
                             x.mag, x.exact)
        if p < 0.8 and x.rank >= 1:
            tgt = [self.r.choice([d, 1]) if d != 1 else self.r.choice([1, 2, 3]) for d in x.shape]
            if self.r.random() < 0.3:
                tgt = [self.r.choice([1, 2])] + tgt
            out = list(np.broadcast_shapes(tuple(x.shape), tuple(tgt)))
            return self.node("Expand", [x, self.ints(tgt)], x.dtype, out, x.mag, x.exact)
        if p < 0.9 and x.rank >= 1:
            ax = self.r.randint(-x.rank, x.rank - 1)
            a = ax % x.rank
            d = x.shape[a]
            if d >= 2:
                k = self.r.randint(1, d - 1)
                shapes = [x.shape[:a] + [k] + x.shape[a + 1:], x.shape[:a] + [d - k] + x.shape[a + 1:]]
                s1, s2 = self.node("Split", [x, self.ints([k, d - k])], x.dtype, None, x.mag, x.exact, nout=2,
                                   shapes=shapes, axis=ax)
                return s1 if self.r.random() < 0.5 else s2
        return self.reshape_like(x)

    def misc_graph(self):
        dtype = self.r.choice([F32, F32, F32, F64, I32, I64, F16])
        rank = self.r.choice([1, 2, 3, 3, 4])
        shape = [self.r.choice(SMALL + [31, 33]) for _ in range(rank)]
        while int(np.prod(shape)) > 20000:
            shape[self.r.randrange(rank)] = self.r.choice([1, 3, 5])
        x = self.input(dtype, shape)
        if dtype not in FLOATS:
            x.mag = 1
        outs = []
        while self.budget() >= 1:
            p = self.r.random()
            if p < 0.08 and x.rank >= 1 and x.dtype in (I32, I64, F64):  # integer and double MatMul
                k, nn = x.shape[-1], self.r.choice(EDGE[:8])
                w = self.const_like(x, [k, nn], -3, 3)
                x = self.node("MatMul", [x, w], x.dtype, x.shape[:-1] + [nn], x.mag * 3 * k, x.exact and x.dtype != F64)
            elif p < 0.22 and x.rank >= 1:
                x = self.extra(x)
            elif p < 0.6:
                x = self.elementwise(x)
            elif p < 0.7 and x.dtype in FLOATS:
                x = self.activation(x)
            elif p < 0.8 and x.rank >= 1:
                x = self.reduce(x, keep_rank=x.rank <= 1 or self.r.random() < 0.5)
            elif p < 0.88 and x.dtype in FLOATS and x.rank >= 1:
                x = self.softmax_like(x)
            elif p < 0.95:
                x = self.movement(x)
            else:
                outs.append(x)
            x = self.tame(x)
            if x.dtype not in FLOATS and x.mag > 1000 and self.budget() >= 1:
                lo, hi = self.init(np.array(-100, dtype=NP[x.dtype])), self.init(np.array(100, dtype=NP[x.dtype]))
                x = self.node("Clip", [x, lo, hi], x.dtype, x.shape, 100, x.exact)
            if int(np.prod(x.shape)) > 50000 and x.rank >= 1 and self.budget() >= 1:
                x = self.reduce(x, keep_rank=True)
        return [x] + outs[:1]

    # -- the model ------------------------------------------------------------------------
    def build(self):
        p = self.r.random()
        kind = "conv" if p < 0.4 else "matmul" if p < 0.75 else "misc"
        self.kind = kind  # only misc graphs Cast to other element types
        outs = {"conv": self.conv_graph, "matmul": self.matmul_graph, "misc": self.misc_graph}[kind]()
        if not self.nodes:  # a graph needs at least 2 nodes
            outs = [self.node("Relu", [outs[0]], outs[0].dtype, outs[0].shape, outs[0].mag, outs[0].exact)]
        if len(self.nodes) < 2:
            v = outs[0]
            outs = [self.node("Neg", [v], v.dtype, v.shape, v.mag, v.exact)]
        used = {i for n in self.nodes for i in n.input}
        self.inits = [t for t in self.inits if t.name in used]  # a fallback may leave a constant unused
        seen, uniq = set(), []
        for o in outs:  # an output must be a node output, named once
            if o.name not in seen and any(o.name in n.output for n in self.nodes):
                seen.add(o.name)
                uniq.append(o)
        graph = helper.make_graph(
            self.nodes, f"difftest_{self.seed}",
            [helper.make_tensor_value_info(i.name, i.dtype, i.shape) for i in self.inputs],
            [helper.make_tensor_value_info(o.name, o.dtype, o.shape) for o in uniq],
            initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="tcc-difftest")
        model.ir_version = 8
        self.kind, self.outs = kind, uniq
        return model


def depth_of(model):
    """Longest chain of nodes from an input to each output: scales the tolerance."""
    d = {}
    for n in model.graph.node:
        d.update({o: 1 + max([d.get(i, 0) for i in n.input if i] + [0]) for o in n.output})
    return {o.name: d.get(o.name, 0) for o in model.graph.output}


def check(model, gen_shapes=None):
    """onnx.checker plus shape inference; the inferred output shapes must be the generator's."""
    if not 2 <= len(model.graph.node) <= 40:
        raise AssertionError(f"{len(model.graph.node)} nodes, not 2 to 40")
    onnx.checker.check_model(model, full_check=True)
    inf = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    got = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in inf.graph.output}
    for o in model.graph.output:
        want = [d.dim_value for d in o.type.tensor_type.shape.dim]
        if got.get(o.name) != want:
            raise AssertionError(f"output {o.name}: generator says {want}, shape inference {got.get(o.name)}")
    # Every intermediate value must have a fully known shape too.
    for v in inf.graph.value_info:
        if not v.type.tensor_type.HasField("shape"):
            raise AssertionError(f"value {v.name}: no inferred shape")
    return inf


def generate(seed):
    g = Gen(seed)
    m = g.build()
    check(m)
    return m, g.kind


def random_inputs(model, seed):
    """Seeded inputs: floats uniform in [-1, 1], integers in [-8, 8], bools half true."""
    rng = np.random.default_rng(seed + 0x5EED)
    inits = {i.name for i in model.graph.initializer}
    out = []
    for v in model.graph.input:
        if v.name in inits:
            continue
        tt = v.type.tensor_type
        shape = [d.dim_value for d in tt.shape.dim]
        dt = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[tt.elem_type]
        if dt == np.bool_:
            a = rng.random(shape) < 0.5
        elif np.issubdtype(dt, np.integer):
            a = rng.integers(-8, 9, size=shape).astype(dt)
        else:
            a = rng.uniform(-1, 1, size=shape).astype(dt)
        out.append((v.name, np.asarray(a, dtype=dt)))
    return out


def main():
    seed, path = int(sys.argv[1]), sys.argv[2]
    m, kind = generate(seed)
    onnx.save(m, path)
    if "--print" in sys.argv:
        print(f"seed {seed}: {kind}, {len(m.graph.node)} nodes")
        print(onnx.helper.printable_graph(m.graph))


if __name__ == "__main__":
    main()
