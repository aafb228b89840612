#!/usr/bin/python3
"""Derives tests/conformance/smoke.txt: a representative subset of the
passing conformance tests for slow configurations (other targets under
emulation, sanitizers).  Every operator used by a passing test appears in at
least one smoke test; operators get a second test while the list is short,
and the smallest models are preferred (they run fastest under QEMU).

    /usr/bin/python3 tests/targets/derive_smoke.py PASSING.txt > tests/conformance/smoke.txt
"""
import os
import sys

import onnx

DATA = "/usr/share/libonnx-testdata/data"
TARGET = 120


def ops_of(test):
    model = onnx.load(os.path.join(DATA, test, "model.onnx"), load_external_data=False)
    return sorted({n.op_type for n in model.graph.node})


def main():
    tests = [t.strip() for t in open(sys.argv[1]) if t.strip() and not t.startswith("#")]
    size = {t: os.path.getsize(os.path.join(DATA, t, "model.onnx")) +
            sum(os.path.getsize(os.path.join(DATA, t, "test_data_set_0", f))
                for f in os.listdir(os.path.join(DATA, t, "test_data_set_0"))) for t in tests}
    ops = {t: ops_of(t) for t in tests}
    by_op = {}
    for t in sorted(tests, key=lambda t: (size[t], t)):
        for op in ops[t]:
            by_op.setdefault(op, []).append(t)
    chosen = []
    for rank in range(3):
        for op in sorted(by_op):
            if rank and len(chosen) >= TARGET:
                break
            have = sum(1 for t in chosen if op in ops[t])
            if have > rank:
                continue
            for t in by_op[op]:
                if t not in chosen:
                    chosen.append(t)
                    break
    print("# Smoke subset of passing.txt, derived by tests/targets/derive_smoke.py:")
    print("# every operator of a passing test at least once, %d tests." % len(chosen))
    for t in sorted(chosen):
        print(t)


main()
