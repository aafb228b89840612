"""The com.microsoft ops of ONNX Runtime's quantizer (QOperator format),
imported as the ONNX ops they stand for (docs/frontend.md "com.microsoft"),
against ONNX Runtime itself (npm onnxruntime-node): QLinearAdd and QLinearMul
(with broadcasting), QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool,
QLinearGlobalAveragePool, QLinearConcat, com.microsoft QuantizeLinear and
DequantizeLinear, u8 and i8; and a small QOperator network whose QLinearConv
runs on the int8 kernels between them.  Both compute in float and round
half to even, in other orders: bytes must agree but for one step where a
value sits within float rounding of a .5 (at most 2% of them; the scales
are irregular, so that exact halves are rare), and the network's float output within
two steps of its last quantized layer.  Refusals: an unknown com.microsoft
op and channels_last = 1, exact messages.

usage: test_msdomain.py TCC ORT_DIR"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcc_models import onnx_runtime, refused, write_input  # noqa: E402

TCC, ORT_DIR = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="tcc-msdomain-")
failures = []
rng = np.random.default_rng(13)
DT = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8, np.float32: TensorProto.FLOAT}
MS = "com.microsoft"


def t(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def qbytes(shape, dt):
    i = np.iinfo(dt)
    return rng.integers(i.min, i.max + 1, shape).astype(dt)


def save(path, nodes, inputs, out_dt, inits):
    g = helper.make_graph(nodes, "ms", [helper.make_tensor_value_info(n, DT[d], s)
                                        for n, d, s in inputs],
                          [helper.make_tensor_value_info("y", DT[out_dt], None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                                  helper.make_opsetid(MS, 1)]), path)


def compare(name, path, feeds, ort, tol_steps=1, float_step=None, want_stats=None):
    pbs = []
    for n, x in feeds:
        pbs.append(os.path.join(TMP, f"{name}_{n}.pb"))
        write_input(pbs[-1], n, x)
    outs, err = ort.run(path, feeds, TMP)
    if outs is None:
        failures.append(f"{name}: ONNX Runtime refused it: {err}")
        print(f"FAIL {name}: ONNX Runtime: {err}")
        return
    want = outs[0]
    cmd = [TCC, "run", path, "--output-dir", os.path.join(TMP, "out"), "-q", "--stats"]
    for pb in pbs:
        cmd += ["--input", pb]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        failures.append(f"{name}: tcc exit {r.returncode}")
        print(f"FAIL {name}: {r.stderr.strip()}")
        return
    tp = TensorProto()
    with open(os.path.join(TMP, "out", "output_0.pb"), "rb") as f:
        tp.ParseFromString(f.read())
    got = numpy_helper.to_array(tp)
    d = np.abs(got.astype(np.float64) - want.astype(np.float64))
    if float_step is None:
        ok = got.dtype == want.dtype and got.shape == want.shape and d.max() <= tol_steps and \
            np.mean(d > 0) <= 0.02
        detail = f"{int((d > 0).sum())} of {d.size} bytes one step off"
    else:
        ok = got.shape == want.shape and d.max() <= float_step
        detail = f"max |tcc - ORT| {d.max():.3g}, two steps {float_step:.3g}"
    if want_stats:
        lines = [l for l in r.stdout.splitlines() if l.startswith("// quantize:")]
        ok = ok and lines == want_stats
        detail += f", {lines}"
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if not ok:
        failures.append(name)


def main():
    ort = onnx_runtime(ORT_DIR)
    os.environ["ORT_OPT_LEVEL"] = "disabled"  # ORT's own kernels for the ms ops
    shape = [2, 3, 8, 8]
    for dt in (np.uint8, np.int8):
        tag = np.dtype(dt).name
        z = lambda v: np.array(v if dt == np.uint8 else v - 128, dt)  # noqa: E731
        for op in ("QLinearAdd", "QLinearMul"):
            path = os.path.join(TMP, f"{op}_{tag}.onnx")
            save(path, [helper.make_node(op, ["a", "as", "az", "b", "bs", "bz", "cs", "cz"], ["y"],
                                         domain=MS)],
                 [("a", dt, shape), ("b", dt, [1, 3, 1, 1])], dt,
                 [t("as", np.float32(0.0513)), t("az", z(120)), t("bs", np.float32(0.0297)),
                  t("bz", z(130)), t("cs", np.float32(0.0791 if op == "QLinearAdd" else 0.0617)),
                  t("cz", z(125))])
            compare(f"{op} {tag} (broadcast)", path,
                    [("a", qbytes(shape, dt)), ("b", qbytes([1, 3, 1, 1], dt))], ort)
        unary = [("QLinearSigmoid", {}), ("QLinearLeakyRelu", {"alpha": 0.1}),
                 ("QLinearAveragePool", {"kernel_shape": [3, 3], "strides": [2, 2],
                                         "pads": [1, 1, 1, 1]}),
                 ("QLinearAveragePool", {"kernel_shape": [2, 2], "count_include_pad": 1,
                                         "pads": [1, 1, 0, 0]}),
                 ("QLinearGlobalAveragePool", {})]
        for k, (op, attrs) in enumerate(unary):
            path = os.path.join(TMP, f"{op}_{k}_{tag}.onnx")
            save(path, [helper.make_node(op, ["x", "xs", "xz", "ys", "yz"], ["y"], domain=MS,
                                         **attrs)],
                 [("x", dt, shape)], dt,
                 [t("xs", np.float32(0.0413)), t("xz", z(110)), t("ys", np.float32(0.0197)),
                  t("yz", z(100))])
            compare(f"{op} {attrs} {tag}", path, [("x", qbytes(shape, dt))], ort)
        path = os.path.join(TMP, f"concat_{tag}.onnx")
        save(path, [helper.make_node("QLinearConcat", ["ys", "yz", "x1", "s1", "z1", "x2", "s2",
                                                       "z2"], ["y"], axis=1, domain=MS)],
             [("x1", dt, shape), ("x2", dt, [2, 5, 8, 8])], dt,
             [t("ys", np.float32(0.0503)), t("yz", z(128)), t("s1", np.float32(0.0411)),
              t("z1", z(120)), t("s2", np.float32(0.0707)), t("z2", z(135))])
        compare(f"QLinearConcat {tag}", path,
                [("x1", qbytes(shape, dt)), ("x2", qbytes([2, 5, 8, 8], dt))], ort)

    # a QOperator network: ms QuantizeLinear -> QLinearConv -> QLinearAdd
    # (residual) -> QLinearGlobalAveragePool -> ms DequantizeLinear
    C, M = 4, 4
    w = rng.integers(-127, 128, (M, C, 3, 3)).astype(np.int8)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s0", "z0"], ["q"], domain=MS),
        helper.make_node("QLinearConv", ["q", "s0", "z0", "w", "ws", "wz", "s1", "z1", "b"], ["c"],
                         pads=[1, 1, 1, 1]),
        helper.make_node("QLinearAdd", ["c", "s1", "z1", "q", "s0", "z0", "s2", "z2"], ["r"],
                         domain=MS),
        helper.make_node("QLinearGlobalAveragePool", ["r", "s2", "z2", "s3", "z3"], ["g"],
                         domain=MS),
        helper.make_node("DequantizeLinear", ["g", "s3", "z3"], ["y"], domain=MS)]
    inits = [t("s0", np.float32(0.03)), t("z0", np.array(128, np.uint8)), t("w", w),
             t("ws", (rng.random(M) * 0.01 + 0.005).astype(np.float32)),
             t("wz", np.zeros(M, np.int8)), t("b", rng.integers(-500, 500, M).astype(np.int32)),
             t("s1", np.float32(0.1)), t("z1", np.array(100, np.uint8)),
             t("s2", np.float32(0.12)), t("z2", np.array(90, np.uint8)),
             t("s3", np.float32(0.05)), t("z3", np.array(80, np.uint8))]
    path = os.path.join(TMP, "net.onnx")
    save(path, nodes, [("x", np.float32, [1, C, 10, 10])], np.float32, inits)
    os.environ["ORT_OPT_LEVEL"] = "all"
    compare("QOperator network (ORT with all its optimizations)", path,
            [("x", rng.standard_normal((1, C, 10, 10)).astype(np.float32))], ort,
            float_step=2 * 0.05, want_stats=["// quantize: QLinearConv on the int8 kernels: 1"])

    # refusals
    for name, node, msg in (
            ("unknown", helper.make_node("QLinearSoftmax", ["x", "xs", "xz", "ys", "yz"], ["y"],
                                         domain=MS),
             "error: unsupported operator 'QLinearSoftmax' of domain 'com.microsoft' (tcc takes "
             "QuantizeLinear, DequantizeLinear, QLinearAdd, QLinearMul, QLinearSigmoid, "
             "QLinearLeakyRelu, QLinearAveragePool, QLinearGlobalAveragePool and QLinearConcat "
             "there)"),
            ("nhwc", helper.make_node("QLinearGlobalAveragePool", ["x", "xs", "xz", "ys", "yz"],
                                      ["y"], channels_last=1, domain=MS, name="gap"),
             "error: QLinearGlobalAveragePool: channels_last = 1 (NHWC) is not supported; export "
             "the model with NCHW pools")):
        path = os.path.join(TMP, f"refused_{name}.onnx")
        save(path, [node], [("x", np.uint8, shape)], np.uint8,
             [t("xs", np.float32(0.04)), t("xz", np.array(1, np.uint8)),
              t("ys", np.float32(0.02)), t("yz", np.array(1, np.uint8))])
        where = f"{path}: node '{node.name}' ({node.op_type}): "
        if not refused(TCC, ["compile", path], os.path.join(TMP, f"refused_{name}"), where + msg):
            failures.append(f"refused {name}")
    if failures:
        sys.exit(f"{len(failures)} failed: {failures}")
    print("all passed")


main()
