#!/bin/sh
# The vector units are used and objects are reproducible, per target.
#   tests/targets/disasm.sh build/tcc
# Compiles the sample CNN (Conv + Relu + MaxPool + Gemm) for every target,
# disassembles it with llvm-objdump-19 and requires the target's vector
# multiply-add (or, for targets without a vector unit, its FPU's), then
# compiles it again and requires byte-identical files.  Prints per target how
# many instructions matched, which docs/targets.md quotes.
# Then the int8 kernels' instructions on x86_64, and the register tile of
# the GEMM micro-kernel: a 64-filter 3x3 Conv on
# 56x56 and a 1024^3 MatMul (tests/targets/gemm_loops.py makes them) must keep
# at least 12 distinct vector accumulators as FMA destinations in one
# innermost loop: ymm on x86_64 (x86-64-v3), zmm with -mattr=+avx512f, NEON
# v registers on armv8.
set -eu
TCC=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/models/cnn/model.onnx
OBJDUMP=${OBJDUMP:-llvm-objdump-19}
T=$(mktemp -d /tmp/tcc-disasm-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0

# check TARGET LABEL REGEX [objdump flags]: at least one match of REGEX.
check() {
  target=$1 label=$2 re=$3
  shift 3
  n=$(grep -cE "$re" "$T/$target/dis.txt" || true)
  printf '%-11s %-42s %5d\n' "$target" "$label" "$n"
  if [ "$n" -eq 0 ]; then
    echo "FAIL: $target: no '$label' in the Conv kernel" >&2
    fail=1
  fi
}

# absent TARGET LABEL REGEX: no match (a baseline must not use optional units).
absent() {
  n=$(grep -cE "$3" "$T/$1/dis.txt" || true)
  printf '%-11s %-42s %5d (must be 0)\n' "$1" "$2" "$n"
  [ "$n" -eq 0 ] || { echo "FAIL: $1: '$2' in a baseline object" >&2; fail=1; }
}

for t in x86_64 armv8 riscv64 riscv64gcv wasm32 cortex-m4 cortex-m7 cortex-m55; do
  for run in a b; do
    mkdir -p "$T/$t/$run"
    "$TCC" compile "$MODEL" -name=cnn -target=$t -o "$T/$t/$run"
  done
  for f in cnn.o cnn.h; do
    cmp -s "$T/$t/a/$f" "$T/$t/b/$f" || { echo "FAIL: $t: $f differs between two compiles" >&2; fail=1; }
  done
  case $t in cortex-m*) flags=--mcpu=$t ;; *) flags= ;; esac
  $OBJDUMP -d $flags "$T/$t/a/cnn.o" > "$T/$t/dis.txt"
done

check x86_64 'vfmadd*ps on ymm/zmm' 'vfmadd[0-9]+ps[[:space:]]+%[yz]mm'
absent x86_64 'zmm (not in the x86-64-v3 baseline)' '%zmm'
check armv8 'NEON fmla v.4s' 'fmla[[:space:]]+v[0-9]+\.4s'
check armv8 'NEON q-register loads (ld1/ldr q/ldp q)' '(ld1[[:space:]]|ldr[[:space:]]+q[0-9]|ldp[[:space:]]+q[0-9])'
check riscv64gcv 'RVV vfmacc/vfmadd' 'vfm(acc|add)\.v[vf]'
check riscv64gcv 'RVV vle32.v' 'vle32\.v'
check riscv64 'scalar fmadd.s (rv64gc: no V)' 'fmadd\.s'
absent riscv64 'RVV instructions' '[[:space:]]v(le|se)[0-9]+\.v'
check wasm32 'SIMD128 v128.load' 'v128\.load'
check wasm32 'SIMD128 f32x4 ops' 'f32x4\.'
# arith.fma is llvm.fmuladd: LLVM picks vfma, vmla or vmul+vadd per CPU.
check cortex-m4 'FPU multiply (vfma/vmla/vmul.f32; no vector unit)' 'v(fma|mla|mul)\.f32'
check cortex-m7 'FPU multiply (vfma/vmla/vmul.f32; no vector unit)' 'v(fma|mla|mul)\.f32'
check cortex-m55 'Helium vfma.f32 on q registers' 'vfma\.f32[[:space:]]+q[0-9]'
check cortex-m55 'Helium vldrw.u32 q loads (vldrwt: predicated)' 'vldrwt?\.u32[[:space:]]+q[0-9]'
absent cortex-m4 'Helium q registers (no MVE on the M4)' '[[:space:]]q[0-9]+,'
# Packed weights are prefetched ahead along k where caches sit between
# the core and memory (mem.prefetch, ir/ops/gemm_kernel.c); not on an MCU.
check x86_64 'prefetcht0 (weights streamed ahead)' 'prefetcht0'
check armv8 'prfm pldl1keep (weights streamed ahead)' 'prfm[[:space:]]+pldl1keep'
absent cortex-m4 'pld (no caches to fill ahead)' '[[:space:]]pld[[:space:]]'
# Relu/MaxPool's maxnum as SIMD128's pmax and a NaN select (no fmaxf calls).
check wasm32 'f32x4.pmax (max as compare and select)' 'f32x4\.pmax'
printf '%-11s %-42s %5d\n' wasm32 'f32x4.mul+f32x4.add (arithmetic)' \
  "$(grep -cE 'f32x4\.(mul|add)' "$T/wasm32/dis.txt" || true)"

# The int8 kernels (-quantize=int8, docs/compression.md): the sample CNN
# calibrated on its own test data.  arith.dot4 is vpdpbusd where VNNI is
# on (ymm with AVX-VNNI, zmm with AVX-512 VNNI), widened multiplies summed
# by vpmaddwd at the x86-64-v3 baseline (exact: no vpmaddubsw, which
# saturates), sdot on armv8 with +dotprod and usdot with +i8mm; the objects
# reproducible too.
for cfg in "x86_64-int8 x86_64" "x86_64-avxvnni x86_64 -mattr=+avxvnni" \
    "x86_64-avx512vnni x86_64 -mattr=+avx512vnni" "armv8-dotprod armv8 -mattr=+dotprod" \
    "armv8-i8mm armv8 -mattr=+i8mm"; do
  # shellcheck disable=SC2086 # split the configuration into words
  set -- $cfg
  name=$1 target=$2 flags=${3:-}
  for run in a b; do
    mkdir -p "$T/$name/$run"
    "$TCC" compile "$MODEL" -name=cnn -quantize=int8 --calib="$ROOT/models/cnn" -target="$target" \
      $flags -o "$T/$name/$run"
  done
  cmp -s "$T/$name/a/cnn.o" "$T/$name/b/cnn.o" || { echo "FAIL: $name: cnn.o differs between two compiles" >&2; fail=1; }
  $OBJDUMP -d "$T/$name/a/cnn.o" > "$T/$name/dis.txt"
done
check x86_64-int8 'vpmaddwd (u8 x i8 widened, exact)' 'vpmaddwd'
absent x86_64-int8 'vpdpbusd (VNNI is not in x86-64-v3)' 'vpdpbusd'
absent x86_64-int8 'vpmaddubsw (saturates at i16)' 'vpmaddubsw'
check x86_64-avxvnni 'vpdpbusd on ymm (AVX-VNNI)' 'vpdpbusd[[:space:]].*%ymm'
check x86_64-avx512vnni 'vpdpbusd on zmm (AVX-512 VNNI)' 'vpdpbusd[[:space:]].*%zmm'
check armv8-dotprod 'sdot v.4s (+dotprod)' 'sdot[[:space:]]+v[0-9]+\.4s'
check armv8-i8mm 'usdot v.4s (+i8mm: u8 x s8 in one)' 'usdot[[:space:]]+v[0-9]+\.4s'

# The GEMM micro-kernel's accumulators (the schedule's tile, ir/schedule.c).
# At least 12 (issue 9): two FMA ports with a 4-cycle latency need 8 in
# flight, and more accumulators spread each loaded B vector and broadcast A
# element over more FMAs.
PY=/usr/bin/python3
MIN_ACC=12
if $PY -c 'import onnx, numpy' 2>/dev/null; then
  $PY "$ROOT/tests/targets/gemm_loops.py" models "$T"
  # NAME TARGET REGISTER-CLASS [FLAGS]
  for cfg in "x86_64 x86_64 ymm" "x86_64+avx512f x86_64 zmm -mattr=+avx512f" "armv8 armv8 v"; do
    # shellcheck disable=SC2086 # split the configuration into words
    set -- $cfg
    name=$1 target=$2 reg=$3 flags=${4:-}
    for m in conv matmul; do
      d=$T/gemm-$name-$m
      mkdir -p "$d"
      "$TCC" compile "$T/$m.onnx" -name=$m -target="$target" $flags -o "$d"
      $OBJDUMP -d "$d/$m.o" > "$d/dis.txt"
      counts=$($PY "$ROOT/tests/targets/gemm_loops.py" count "$d/dis.txt" "$reg")
      fmas=${counts% *} acc=${counts#* }
      printf '%-14s %-6s %-26s %3d (of %d FMAs in the loop; at least %d)\n' "$name" $m \
        "distinct $reg accumulators" "$acc" "$fmas" $MIN_ACC
      if [ "$acc" -lt $MIN_ACC ]; then
        echo "FAIL: $name: $m: $acc distinct $reg FMA destinations in the GEMM loop, fewer than $MIN_ACC" >&2
        fail=1
        # LLVM 19 gives +avx512f 512-bit registers only with +evex512
        [ "$reg" != zmm ] || echo "  (the same loop search on ymm: FMAs, distinct:" \
          "$($PY "$ROOT/tests/targets/gemm_loops.py" count "$d/dis.txt" ymm))" >&2
      fi
    done
  done
else
  echo "FAIL: the GEMM register check needs /usr/bin/python3 with onnx and numpy (tests/install-deps.sh)" >&2
  fail=1
fi
[ $fail -eq 0 ] && echo "disasm: all targets ok"
exit $fail
