#!/usr/bin/python3
"""A decoder-only language-model block at opset 23, built with onnx.helper.

    x -> RMSNormalization -> Q, K, V projections -> RotaryEmbedding (Q, K)
      -> Attention (4 query heads, 2 key/value heads, causal, KV cache in and out)
      -> output projection -> + x -> RMSNormalization -> SwiGLU MLP -> + residual

Inputs x[1,seq,64], position_ids[1,seq] (past..past+seq-1), past_key and
past_value[1,2,past,16]; outputs y[1,seq,64], present_key and
present_value[1,2,past+seq,16].  Weights are random with a fixed seed.

Debian's onnx 1.12 has no schemas past opset 17, so the IR and opset
versions are set by hand and onnx.checker is not run; ONNX Runtime
(regenerate.sh) is what validates the model.

    /usr/bin/python3 make_llm_block.py model DIR          # DIR/model.onnx
    /usr/bin/python3 make_llm_block.py inputs DIR SEQ PAST K
        # DIR/test_data_set_K/input_*.pb and DIR/raw_K/*.bin (for ORT)
    /usr/bin/python3 make_llm_block.py outputs DIR K
        # DIR/raw_K/output_*.bin (written by ORT) -> DIR/test_data_set_K/output_*.pb
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, MLP, MAX_POS = 64, 4, 2, 16, 128, 256
INPUTS = ["x", "position_ids", "past_key", "past_value"]
OUTPUTS = ["y", "present_key", "present_value"]


def weights():
    rng = np.random.default_rng(2026)
    w = {}
    def mat(name, rows, cols):
        w[name] = (rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32)
    mat("wq", HIDDEN, HEADS * HEAD_DIM)
    mat("wk", HIDDEN, KV_HEADS * HEAD_DIM)
    mat("wv", HIDDEN, KV_HEADS * HEAD_DIM)
    mat("wo", HEADS * HEAD_DIM, HIDDEN)
    mat("w_gate", HIDDEN, MLP)
    mat("w_up", HIDDEN, MLP)
    mat("w_down", MLP, HIDDEN)
    w["norm1"] = (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)
    w["norm2"] = (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)
    # rotary caches: position p, frequency i of the HEAD_DIM / 2 pairs
    inv = 1.0 / (10000 ** (np.arange(0, HEAD_DIM, 2) / HEAD_DIM))
    ang = np.outer(np.arange(MAX_POS), inv)
    w["cos_cache"] = np.cos(ang).astype(np.float32)
    w["sin_cache"] = np.sin(ang).astype(np.float32)
    return w


def model():
    n = helper.make_node
    nodes = [
        n("RMSNormalization", ["x", "norm1"], ["h"], axis=-1, epsilon=1e-5),
        n("MatMul", ["h", "wq"], ["q"]),
        n("MatMul", ["h", "wk"], ["k"]),
        n("MatMul", ["h", "wv"], ["v"]),
        n("RotaryEmbedding", ["q", "cos_cache", "sin_cache", "position_ids"], ["q_rot"],
          num_heads=HEADS),
        n("RotaryEmbedding", ["k", "cos_cache", "sin_cache", "position_ids"], ["k_rot"],
          num_heads=KV_HEADS),
        n("Attention", ["q_rot", "k_rot", "v", "", "past_key", "past_value"],
          ["attn", "present_key", "present_value"], q_num_heads=HEADS, kv_num_heads=KV_HEADS,
          is_causal=1),
        n("MatMul", ["attn", "wo"], ["o"]),
        n("Add", ["x", "o"], ["x1"]),
        n("RMSNormalization", ["x1", "norm2"], ["h2"], axis=-1, epsilon=1e-5),
        n("MatMul", ["h2", "w_gate"], ["gate"]),
        n("MatMul", ["h2", "w_up"], ["up"]),
        n("Sigmoid", ["gate"], ["gate_sig"]),
        n("Mul", ["gate", "gate_sig"], ["gate_silu"]),
        n("Mul", ["gate_silu", "up"], ["act"]),
        n("MatMul", ["act", "w_down"], ["d"]),
        n("Add", ["x1", "d"], ["y"]),
    ]
    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    cache = [1, KV_HEADS, "past", HEAD_DIM]
    present = [1, KV_HEADS, "total", HEAD_DIM]
    graph = helper.make_graph(
        nodes, "llm_block",
        [helper.make_tensor_value_info("x", f32, [1, "seq", HIDDEN]),
         helper.make_tensor_value_info("position_ids", i64, [1, "seq"]),
         helper.make_tensor_value_info("past_key", f32, cache),
         helper.make_tensor_value_info("past_value", f32, cache)],
        [helper.make_tensor_value_info("y", f32, [1, "seq", HIDDEN]),
         helper.make_tensor_value_info("present_key", f32, present),
         helper.make_tensor_value_info("present_value", f32, present)],
        [numpy_helper.from_array(a, name) for name, a in weights().items()])
    m = helper.make_model(graph, producer_name="tcc models/llm_block",
                          opset_imports=[helper.make_opsetid("", 23)])
    m.ir_version = 10
    return m


def inputs(seq, past, seed):
    rng = np.random.default_rng(seed)
    cache = (1, KV_HEADS, past, HEAD_DIM)
    return [rng.standard_normal((1, seq, HIDDEN)).astype(np.float32),
            np.arange(past, past + seq, dtype=np.int64).reshape(1, seq),
            rng.standard_normal(cache).astype(np.float32),
            rng.standard_normal(cache).astype(np.float32)]


def main():
    what, out = sys.argv[1], sys.argv[2]
    if what == "model":
        with open(os.path.join(out, "model.onnx"), "wb") as f:
            f.write(model().SerializeToString())
    elif what == "inputs":
        seq, past, k = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        sets, raw = os.path.join(out, f"test_data_set_{k}"), os.path.join(out, f"raw_{k}")
        os.makedirs(sets, exist_ok=True)
        os.makedirs(raw, exist_ok=True)
        for i, (name, a) in enumerate(zip(INPUTS, inputs(seq, past, 100 + k))):
            with open(os.path.join(sets, f"input_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a, name).SerializeToString())
            a.tofile(os.path.join(raw, f"{name}.bin"))
            with open(os.path.join(raw, f"{name}.shape"), "w") as f:
                f.write(" ".join(map(str, a.shape)))
    elif what == "outputs":
        k = int(sys.argv[3])
        sets, raw = os.path.join(out, f"test_data_set_{k}"), os.path.join(out, f"raw_{k}")
        for i, name in enumerate(OUTPUTS):
            shape = [int(d) for d in open(os.path.join(raw, f"{name}.shape")).read().split()]
            a = np.fromfile(os.path.join(raw, f"{name}.bin"), dtype=np.float32).reshape(shape)
            with open(os.path.join(sets, f"output_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a, name).SerializeToString())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
