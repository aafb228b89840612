#!/usr/bin/python3
"""The GEMM micro-kernel's register tile, seen in the disassembly (disasm.sh).

  gemm_loops.py models OUT_DIR   OUT_DIR/conv.onnx: a 64-filter 3x3 Conv (pad 1) on
                                 1x64x56x56; OUT_DIR/matmul.onnx: [1024,1024] @ a
                                 [1024,1024] initializer (seeded weights)
  gemm_loops.py count DIS.txt REG
                                 from `llvm-objdump-19 -d`: the innermost loops (a
                                 backward branch's target up to the branch, with no
                                 other backward branch inside) and their vector FMAs
                                 whose destination is a REG register (ymm, zmm: x86
                                 vfmadd*ps; v: AArch64 fmla .4s); prints "FMAS DISTINCT"
                                 of the loop with the most distinct destinations (the
                                 accumulators that stay in registers across the K
                                 loop), then the most FMAs.  Most FMAs alone would pick
                                 an edge tile's loop that LLVM unrolled: a 6x2 tile's
                                 4-row edge unrolled twice has 16 FMAs on 8 registers
                                 against the main loop's 12 on 12
"""
import re
import sys

# AT&T x86: the destination is the last operand; AArch64: the first.
X86_FMA = re.compile(r"\bvfn?m(add|sub)[0-9]{3}ps\s+.*%([yz]mm[0-9]+)\s*$")
ARM_FMA = re.compile(r"\bfmla\s+(v[0-9]+)\.4s,")
FUNC = re.compile(r"^[0-9a-f]+ <(.+)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2,8} )+\s*(\S+)\s*(.*)$")
# a branch with a direct target: x86 j*, AArch64 b, b.cond, cbz/cbnz, tbz/tbnz
BRANCH = re.compile(r"^(j[a-z]+|b|b\.[a-z]+|cbn?z|tbn?z)$")
TARGET = re.compile(r"0x([0-9a-f]+) <")


def models(out):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(20261203)

    def save(name, node, x, y, inits):
        graph = helper.make_graph([node], name, [helper.make_tensor_value_info("X", TensorProto.FLOAT, x)],
                                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, y)],
                                  [numpy_helper.from_array(a, n) for n, a in inits])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        onnx.save(model, f"{out}/{name}.onnx")

    w = rng.uniform(-0.1, 0.1, (64, 64, 3, 3)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, 64).astype(np.float32)
    save("conv", helper.make_node("Conv", ["X", "W", "B"], ["Y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         [1, 64, 56, 56], [1, 64, 56, 56], [("W", w), ("B", b)])
    m = rng.uniform(-1, 1, (1024, 1024)).astype(np.float32)
    save("matmul", helper.make_node("MatMul", ["X", "B"], ["Y"]), [1024, 1024], [1024, 1024], [("B", m)])


def count(path, reg):
    funcs, insns = [], None
    for line in open(path):
        line = line.split("#")[0].split("//")[0].rstrip()
        if FUNC.match(line):
            insns = []
            funcs.append(insns)
        elif insns is not None and (m := INSN.match(line)):
            insns.append((int(m.group(1), 16), m.group(2), m.group(3)))
    best = (0, 0)
    for insns in funcs:
        loops = []
        for addr, op, args in insns:
            t = TARGET.search(args) if BRANCH.match(op) else None
            if t and int(t.group(1), 16) <= addr:
                loops.append((int(t.group(1), 16), addr))
        for lo, hi in loops:
            if any(lo <= a and b <= hi and (a, b) != (lo, hi) for a, b in loops):
                continue  # not innermost
            dests = []
            for addr, op, args in insns:
                if lo <= addr <= hi:
                    text = f"{op} {args}"
                    m = X86_FMA.search(text) or ARM_FMA.search(text)
                    if m and m.groups()[-1].startswith(reg):
                        dests.append(m.groups()[-1])
            best = max(best, (len(set(dests)), len(dests)))
    print(best[1], best[0])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "models":
        models(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "count":
        count(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
