#!/usr/bin/python3
"""Derives the core ONNX conformance test list from Debian's libonnx-testdata.

Core = every test in node/, pytorch-converted/, pytorch-operator/, simple/
except models that use the ai.onnx.preview.training domain or the
Adagrad/Adam/Momentum/Gradient ops, and models whose graph inputs or outputs
are string, sequence, optional or map types.

usage: /usr/bin/python3 tests/conformance/derive_core.py > tests/conformance/core.txt
"""
import os
import sys

import onnx

DATA = "/usr/share/libonnx-testdata/data"
SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
TRAINING_OPS = {"Adagrad", "Adam", "Momentum", "Gradient"}


def is_plain_tensor(value_info):
    t = value_info.type
    if t.WhichOneof("value") != "tensor_type":
        return False
    return t.tensor_type.elem_type != onnx.TensorProto.STRING


def all_nodes(graph):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from all_nodes(attr.g)
            for g in attr.graphs:
                yield from all_nodes(g)


def is_core(model):
    if any(o.domain == "ai.onnx.preview.training" for o in model.opset_import):
        return False
    for node in all_nodes(model.graph):
        if node.domain == "ai.onnx.preview.training" or node.op_type in TRAINING_OPS:
            return False
    values = list(model.graph.input) + list(model.graph.output)
    return all(is_plain_tensor(v) for v in values)


def main():
    for suite in SUITES:
        for test in sorted(os.listdir(os.path.join(DATA, suite))):
            path = os.path.join(DATA, suite, test, "model.onnx")
            if not os.path.exists(path):
                continue
            if is_core(onnx.load(path, load_external_data=False)):
                print(f"{suite}/{test}")


if __name__ == "__main__":
    sys.exit(main())
