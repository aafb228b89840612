#!/bin/sh
# CLI tests: exact diagnostics and exit codes for bad input, option parsing,
# and atomic outputs (a failed compile leaves the previous artifacts alone).
# usage: test_cli.sh TCC
set -u
TCC=$1
HERE=$(cd "$(dirname "$0")" && pwd)
MODELS=$(cd "$HERE/../../models" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
BAD=$T/bad
/usr/bin/python3 "$HERE/make_bad_models.py" "$BAD" || exit 1
pass=0; fail=0

# check STATUS EXPECTED_STDERR ARGS... : runs tcc, compares exit status and stderr exactly.
check() {
  want_status=$1; want_err=$2; shift 2
  "$TCC" "$@" > "$T/stdout" 2> "$T/stderr"; status=$?
  if [ -n "$want_err" ]; then printf '%s\n' "$want_err" > "$T/want"; else : > "$T/want"; fi
  if [ "$status" -eq "$want_status" ] && diff -u "$T/want" "$T/stderr" > "$T/diff"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL: tcc $* (exit $status, expected $want_status)"; cat "$T/diff"
  fi
}

# expect NAME CONDITION : a plain assertion.
expect() {
  if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}

O=$T/out
check 1 "$BAD/not_protobuf.onnx: error: not a valid ONNX model (protobuf parse failed; the file is truncated or not ONNX)" compile "$BAD/not_protobuf.onnx" -o "$O"
check 1 "$BAD/unknown_op.onnx: node 'foo0' (FooBar, opset 13): error: unsupported operator 'FooBar'" compile "$BAD/unknown_op.onnx" -o "$O"
check 1 "$BAD/opset_99.onnx: error: unsupported opset 99 for domain 'ai.onnx' (tcc supports 1 to 28)" compile "$BAD/opset_99.onnx" -o "$O"
check 1 "$BAD/unknown_domain.onnx: node 'r' (Relu): error: operator domain 'com.example' is not supported (tcc supports the default domain 'ai.onnx' and the quantized ops of 'com.microsoft')" compile "$BAD/unknown_domain.onnx" -o "$O"
check 1 "$BAD/undefined_value.onnx: node 'relu0' (Relu, opset 13): error: input 'nowhere' is not produced by any node, initializer or graph input" compile "$BAD/undefined_value.onnx" -o "$O"
check 1 "$BAD/missing_initializer.onnx: node 'add0' (Add, opset 13): error: input 'bias' is not produced by any node, initializer or graph input" compile "$BAD/missing_initializer.onnx" -o "$O"
check 1 "$BAD/cycle.onnx: node 'add0' (Add, opset 13): error: the graph has a cycle through this node (via value 'a')" compile "$BAD/cycle.onnx" -o "$O"
check 1 "$BAD/dtype_mismatch.onnx: node 'add0' (Add, opset 13): error: Add: operands f32[2] and i64[2] have different element types" compile "$BAD/dtype_mismatch.onnx" -o "$O"
check 1 "$BAD/rank_mismatch.onnx: node 'conv0' (Conv, opset 13): error: Conv: input X has rank 3 but W has rank 4" compile "$BAD/rank_mismatch.onnx" -o "$O"
check 1 "$BAD/matmul_mismatch.onnx: node 'mm0' (MatMul, opset 13): error: MatMul: A has K=3 but B has K=5" compile "$BAD/matmul_mismatch.onnx" -o "$O"
check 1 "$BAD/output_type_mismatch.onnx: error: output 'y': the model declares f32[3] but the graph computes f32[2]" compile "$BAD/output_type_mismatch.onnx" -o "$O"
check 1 "$BAD/no_output_value.onnx: error: output 'zz' is not produced by any node, initializer or graph input" compile "$BAD/no_output_value.onnx" -o "$O"
check 1 "$BAD/short_initializer.onnx: error: initializer 'w': f32[4] needs 16 bytes of data, found 7" compile "$BAD/short_initializer.onnx" -o "$O"
check 1 "$BAD/symbolic_dim.onnx: error: input 'x': dimension 1 ('seq') is symbolic; bind it with -dim=seq=VALUE or -shape=x:DIMxDIM..." compile "$BAD/symbolic_dim.onnx" -o "$O"
check 0 "" compile "$BAD/symbolic_dim.onnx" -dim=seq=5 -o "$O"
check 0 "" compile "$BAD/symbolic_dim.onnx" --shape x:1x5 -o "$O"
check 1 "$BAD/symbolic_dim.onnx: error: input 'x': -shape gives rank 3 but the model says rank 2" compile "$BAD/symbolic_dim.onnx" --shape=x:1x5x2 -o "$O"
check 1 "$BAD/symbolic_dim.onnx: error: -dim=nosuch=3: the model has no symbolic dimension named 'nosuch'" compile "$BAD/symbolic_dim.onnx" -dim=seq=5 -dim=nosuch=3 -o "$O"
check 1 "tcc: error: invalid -shape value 'x': expected NAME:DIMxDIMx... (e.g. input:1x3x224x224; NAME: for a scalar)" compile "$BAD/symbolic_dim.onnx" -shape=x -o "$O"
# A run-time dim: one object for seq = 1..4, run at 3; 5 is refused.
check 0 "" compile "$BAD/symbolic_dim.onnx" -dim=seq=1..4 -o "$O"
expect "-dim=seq=1..4 gives _run_dims" "grep -q '^int symbolic_dim_run_dims(const tcc_ctx \*ctx, int64_t dims\[\],' '$O/symbolic_dim.h'"
check 0 "" run "$BAD/symbolic_dim.onnx" -dim=seq=1..4 --input "$BAD/seq3.pb"
expect "run at seq=3 prints 3 values" "grep -qx \"output 0 'y' f32\[1,3\]: 0 0 1.5\" '$T/stdout'"
check 1 "$BAD/seq5.pb: error: input 0: dimension 1 ('seq') is 5, outside the compiled range 1..4" run "$BAD/symbolic_dim.onnx" -dim=seq=1..4 --input "$BAD/seq5.pb"
# A mask as long as the KV cache: -dim=total=past+seq types it as the sum
# that Concat makes; the model sets total from past and seq.
KV="-dim=past=0..4 -dim=seq=1..2 -dim=total=past+seq"
check 0 "" run "$BAD/kv_mask.onnx" $KV --input "$BAD/kv_past2.pb" --input "$BAD/kv_k1.pb" --input "$BAD/kv_mask3.pb"
expect "kv_mask: past 2 + seq 1" "grep -qx \"output 0 'y' f32\[1,3\]: 11 22 33\" '$T/stdout'"
check 1 "tcc: error: an input has dimension 'past_plus_seq' = 4, but its terms add up to 3" run "$BAD/kv_mask.onnx" $KV --input "$BAD/kv_past2.pb" --input "$BAD/kv_k1.pb" --input "$BAD/kv_mask4.pb"
check 1 "tcc: error: invalid -dim value 'total=past+': expected PARAM=A+B (e.g. total=past+seq), a sum of run-time dims and numbers" compile "$BAD/kv_mask.onnx" -dim=total=past+ -o "$O"
# -lowrank: the flag's syntax (numbers: tests/compression/test_lowrank.py).
LR="expected energy:E with 0 < E <= 1 (the share of the squared singular values kept) or rank:R with R >= 1, then optionally ,conv=best|channels|spatial"
check 1 "tcc: error: invalid -lowrank 'rank:0': $LR" compile "$MODELS/cnn/model.onnx" -lowrank=rank:0 -o "$O"
check 1 "tcc: error: invalid -lowrank 'energy:1.5': $LR" compile "$MODELS/cnn/model.onnx" -lowrank=energy:1.5 -o "$O"
check 1 "tcc: error: invalid -lowrank '0.9': $LR" bench "$MODELS/cnn/model.onnx" -lowrank=0.9
check 1 "tcc: error: invalid -lowrank 'rank:2,conv=depthwise': $LR" compile "$MODELS/cnn/model.onnx" -lowrank=rank:2,conv=depthwise -o "$O"
check 1 "tcc: error: invalid -lowrank 'rank:2x': $LR" tune "$MODELS/cnn/model.onnx" -lowrank=rank:2x --budget=5 --log="$T/lr.json"
expect "a refused -lowrank writes no object" "[ ! -e '$O/model.o' ]"
PR="expected the fraction F of each layer's output channels to remove, 0 < F < 1"
# -quantize: the flag, the calibration data, the cache (numbers:
# tests/compression/test_quantize.py).
CNN=$MODELS/cnn/model.onnx
check 1 "tcc: error: invalid -quantize 'int4': expected int8 (static: u8 activations scaled by --calib, i8 weights per channel) or dynamic (MatMul and Gemm: i8 weights per channel, u8 inputs scaled at run time)" compile "$CNN" -quantize=int4 -o "$O"
check 1 "tcc: error: -quantize=int8 needs --calib=DIR: batches of typical inputs (DIR/test_data_set_<k>/input_<i>.pb) to measure the activations' ranges" compile "$CNN" -quantize=int8 -o "$O"
check 1 "tcc: error: --calib=$T/nowhere: No such file or directory" run "$CNN" -quantize=int8 --calib="$T/nowhere"
CM="expected minmax (each layer's input range is its smallest and largest value), percentile[:P] (the central P% of its values, 50 < P <= 100, default 99.99) or entropy (the range whose 256 levels lose the least information, by KL divergence)"
check 1 "tcc: error: invalid -calib-method 'kl': $CM" compile "$CNN" -quantize=int8 -calib-method=kl -o "$O"
check 1 "tcc: error: invalid -calib-method 'percentile:40': $CM" compile "$CNN" -quantize=int8 -calib-method=percentile:40 -o "$O"
check 1 "tcc: error: invalid -calib-method 'percentile:': $CM" compile "$CNN" -quantize=int8 -calib-method=percentile: -o "$O"
mkdir -p "$T/nosets" "$T/noinput/test_data_set_0"
check 1 "tcc: error: --calib=$T/nosets holds no test_data_set_<k> folders (each one batch: input_<i>.pb per model input, the layout of ONNX's test data)" compile "$CNN" -quantize=int8 --calib="$T/nosets" -o "$O"
check 1 "$T/noinput/test_data_set_0/input_0.pb: error: cannot open: No such file or directory
tcc: error: -quantize=int8: calibration on --calib=$T/noinput failed" compile "$CNN" -quantize=int8 --calib="$T/noinput" -o "$O"
expect "a failed calibration writes no object" "[ ! -e '$O/model.o' ]"
printf '{"tcc_calibration": 1, "ranges": [[1, 0]]}' > "$T/badcache.json"
check 1 "tcc: error: --calib-cache=$T/badcache.json: not a calibration cache (expected {\"tcc_calibration\": 1, \"ranges\": [[lo, hi], ...]} with lo <= hi)" compile "$CNN" -quantize=int8 --calib-cache="$T/badcache.json" -o "$O"
check 0 "" compile "$CNN" -quantize=int8 --calib="$MODELS/cnn" --calib-cache="$T/cache.json" -o "$T/q1"
check 0 "" compile "$CNN" -quantize=int8 --calib-cache="$T/cache.json" -o "$T/q2"
expect "a --calib-cache gives the object its calibration gave" "cmp -s '$T/q1/model.o' '$T/q2/model.o'"
check 1 "tcc: error: invalid -prune-channels '1': $PR" compile "$MODELS/cnn/model.onnx" -prune-channels=1 -o "$O"
check 1 "tcc: error: invalid -prune-channels '30%': $PR" run "$MODELS/cnn/model.onnx" -prune-channels=30%
"$TCC" compile "$MODELS/cnn/model.onnx" -lowrank=rank:2 -v -o "$O" 2> "$T/lowrank_report"
expect "-lowrank: the report names each half of a node" "grep -q '^conv1/lowrank_a  *conv ' '$T/lowrank_report' && grep -q '^conv1/lowrank_b  *fused_conv+relu ' '$T/lowrank_report'"
# -preprocess: the flag's syntax at once, the input's fitness after loading;
# the header and `tcc run` take the bytes (numbers: tests/preprocess).
PRE="expected NAME:u8[,scale=S][,mean=M,...][,std=S,...][,layout=nhwc|nchw]"
CNN=$MODELS/cnn/model.onnx
check 1 "tcc: error: invalid -preprocess value 'input': $PRE" compile "$CNN" -preprocess=input -o "$O"
check 1 "tcc: error: invalid -preprocess value 'input:f16': the input type 'f16' is not supported (expected u8, raw 8-bit bytes)" compile "$CNN" -preprocess=input:f16 -o "$O"
check 1 "tcc: error: invalid -preprocess value 'input:u8,gain=2': unknown key 'gain' (expected scale, mean, std or layout)" compile "$CNN" -preprocess=input:u8,gain=2 -o "$O"
check 1 "tcc: error: invalid -preprocess value 'input:u8,scale=1/0': scale '1/0' is not a number or a fraction such as 1/255" compile "$CNN" -preprocess=input:u8,scale=1/0 -o "$O"
check 1 "tcc: error: invalid -preprocess value 'input:u8,mean=0.5,x': mean value 'x' is not a number" compile "$CNN" -preprocess=input:u8,mean=0.5,x -o "$O"
check 1 "tcc: error: invalid -preprocess value 'input:u8,std=0.5,0': a std value is 0" compile "$CNN" -preprocess=input:u8,std=0.5,0 -o "$O"
check 1 "tcc: error: invalid -preprocess value 'input:u8,layout=hwc': layout 'hwc' must be nhwc or nchw" compile "$CNN" -preprocess=input:u8,layout=hwc -o "$O"
check 1 "tcc: error: invalid -preprocess value 'input:u8,0.5': '0.5' is not key=value (only mean= and std= take a list)" compile "$CNN" -preprocess=input:u8,0.5 -o "$O"
check 1 "tcc: error: invalid -preprocess value 'input:u8,scale=1,scale=2': scale is given twice" compile "$CNN" -preprocess=input:u8,scale=1,scale=2 -o "$O"
check 1 "$CNN: error: -preprocess=image: the model has no input 'image' (its inputs: 'input')" compile "$CNN" -preprocess=image:u8 -o "$O"
check 1 "$MODELS/mlp/model.onnx: error: -preprocess=input: input 'input' is f32[1,784]; -preprocess takes an f32 image of rank 4 (N,C,H,W)" compile "$MODELS/mlp/model.onnx" -preprocess=input:u8 -o "$O"
check 1 "$BAD/sym_channels.onnx: error: -preprocess=x: input 'x' is f32[1,c,2,2], whose channel count (dim 1) is not static" compile "$BAD/sym_channels.onnx" -dim=c=1..3 -preprocess=x:u8 -o "$O"
check 1 "$CNN: error: -preprocess=input: input 'input' has 1 channels but std has 3 values (give 1 or 1)" compile "$CNN" -preprocess=input:u8,std=1,2,3 -o "$O"
check 1 "$CNN: error: -preprocess=input: the input is given twice" compile "$CNN" -preprocess=input:u8 -preprocess=input:u8,layout=nhwc -o "$O"
check 0 "" compile "$CNN" "-preprocess=input:u8,scale=1/255,mean=0.1307,std=0.3081,layout=nhwc" -o "$T/pre"
expect "-preprocess: the header gives u8 NHWC and the formula" "grep -qx ' \*   input 0 \"input\": u8\[1,28,28,1\], row-major, 784 bytes' '$T/pre/model.h' && grep -qx ' \*     raw bytes (-preprocess, NHWC): the model sees (x \* 0.00392156863 - mean\[c\]) / std\[c\], mean = {0.1307}, std = {0.3081}' '$T/pre/model.h'"
check 1 "$MODELS/cnn/test_data_set_0/input_0.pb: error: input 0 is f32[1,1,28,28] but the model expects u8[1,28,28,1]" run "$CNN" -preprocess=input:u8,layout=nhwc --input "$MODELS/cnn/test_data_set_0/input_0.pb"
# Out-of-range indices stop the run at the node (TCC_ERR_INDEX_OUT_OF_RANGE,
# exit 1, no output written); negative ones in range count from the end;
# -index-checks=0 clamps instead.
IDX="error: the compiled model stopped at this node: an index is out of range, TCC_ERR_INDEX_OUT_OF_RANGE (status 6)"
check 0 "" run "$BAD/gather_ids.onnx" --input "$BAD/ids_ok.pb"
expect "gather: in-range ids" "grep -qx \"output 0 'y' f32\[3,4\]: 0 1 2 3 36 37 38 39 36 37 38 39\" '$T/stdout'"
check 1 "$BAD/gather_ids.onnx: node 'embed' (Gather, opset 13): $IDX" run "$BAD/gather_ids.onnx" --input "$BAD/ids_bad.pb" --output-dir "$T/idx"
expect "gather: no output written on failure" "[ ! -e '$T/idx/output_0.pb' ]"
check 1 "$BAD/gather_ids.onnx: node 'embed' (Gather, opset 13): $IDX" run "$BAD/gather_ids.onnx" --input "$BAD/ids_neg.pb"
check 0 "" run "$BAD/gather_ids.onnx" --input "$BAD/ids_bad.pb" -index-checks=0
expect "gather -index-checks=0 clamps" "grep -qx \"output 0 'y' f32\[3,4\]: 0 1 2 3 36 37 38 39 8 9 10 11\" '$T/stdout'"
check 1 "tcc: error: invalid value '2' for -index-checks: expected 0 or 1" run "$BAD/gather_ids.onnx" --input "$BAD/ids_ok.pb" -index-checks=2
check 1 "$BAD/scatter_nd_ids.onnx: node 'scatter0' (ScatterND, opset 13): $IDX" run "$BAD/scatter_nd_ids.onnx" --input "$BAD/x42.pb" --input "$BAD/sc_bad.pb" --input "$BAD/u12.pb"
check 1 "$BAD/gather_elements_const.onnx: node 'ge0' (GatherElements, opset 13): error: an index is out of range (rt.check fails with status 6)" compile "$BAD/gather_elements_const.onnx" -o "$O"
CONST="must be a constant (initializer or Constant node); got a computed value"
check 1 "$BAD/reshape_rt.onnx: node 'reshape0' (Reshape, opset 13): error: Reshape: input 'shape' $CONST" compile "$BAD/reshape_rt.onnx" -o "$O"
check 1 "$BAD/range_rt.onnx: node 'range0' (Range, opset 13): error: Range: input 'limit' $CONST" compile "$BAD/range_rt.onnx" -o "$O"
check 1 "$BAD/tile_rt.onnx: node 'tile0' (Tile, opset 13): error: Tile: input 'repeats' $CONST" compile "$BAD/tile_rt.onnx" -o "$O"
# A Loop whose condition is known only at run time: a real loop; its scan
# output has the run-time length 7.
check 0 "" run "$BAD/while_loop.onnx" --input "$BAD/loop_x.pb" --input "$BAD/loop_limit.pb"
expect "while loop: final value" "grep -qx \"output 0 'acc_final' f32\[4\]: 4 8 12 16\" '$T/stdout'"
expect "while loop: 7 scan rows" "grep -q \"^output 1 'scans' f32\[7,4\]: 0 0 0 0 1.5 3 4.5 6 4 8 12 16 \" '$T/stdout'"
check 1 "$BAD/symbolic_dim.onnx: error: input 'x' has up to 99999999999 elements; tcc supports at most 4294967295 (2^32-1) per tensor" compile "$BAD/symbolic_dim.onnx" -dim=seq=1..99999999999 -o "$O"
check 1 "$BAD/symbolic_overflow.onnx: node 'mul1' (Mul, opset 13): error: Mul: input 'nn' is [seq*4611686018427387904], computed from the run-time dimension 'seq'; tcc evaluates such values at compile time through Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast, Add, Sub, Mul, Div, Neg, Equal and Where (each element a constant or a multiple of one run-time dim), and uses them only as the shape of Reshape, Expand or ConstantOfShape, the starts and ends of Slice, the limit of Range and the repeats of Tile" compile "$BAD/symbolic_overflow.onnx" -dim=seq=1..8 -o "$O"
check 1 "tcc: error: invalid -dim value 'seq=4..1': expected PARAM=VALUE (e.g. batch=1) or PARAM=LO..HI (e.g. seq=1..512)" compile "$BAD/symbolic_dim.onnx" -dim=seq=4..1 -o "$O"
check 1 "$BAD/matmul_mismatch.onnx: error: -dim=seq=1..8: the model has no symbolic dimension named 'seq'" compile "$BAD/matmul_mismatch.onnx" -dim=seq=1..8 -o "$O"

# Options and commands.
check 1 "tcc: error: unknown target 'vax'; valid targets: x86_64, armv8, riscv64, riscv64gcv, wasm32, cortex-m4, cortex-m7, cortex-m55" compile "$MODELS/mlp/model.onnx" -target=vax -o "$O"
check 1 "tcc: error: unknown option '--frobnicate' (see tcc --help)" compile "$MODELS/mlp/model.onnx" --frobnicate
check 1 "tcc: error: invalid optimization level '-O7': expected 0, 1, 2 or 3" compile "$MODELS/mlp/model.onnx" -O7
check 1 "tcc: error: unknown pass 'nope'; valid passes: infer-shapes, fold-constants, dce, prune, lowrank, fuse, quantize, lower, plan-memory" opt "$MODELS/mlp/model.onnx" -passes=infer-shapes,nope
check 1 "tcc: error: unknown command 'frob' (see tcc --help)" frob
check 1 "$T/missing.onnx: error: cannot open: No such file or directory" compile "$T/missing.onnx"
check 0 "" --version
expect "--version prints the version" "grep -q '^tcc [0-9]' '$T/stdout'"
check 0 "" --help
expect "--help lists commands" "grep -q '^  compile  *write <name>.o and <name>.h' '$T/stdout'"

# Every option spelling works: -opt=value, --opt=value, --opt value.
check 0 "" compile "$MODELS/mlp/model.onnx" -name=a -o "$O"
check 0 "" compile "$MODELS/mlp/model.onnx" --name=b --o="$O"
check 0 "" compile "$MODELS/mlp/model.onnx" --name c -o "$O"
expect "compile writes a.o a.h b.o b.h c.o c.h" "[ -f '$O/a.o' ] && [ -f '$O/a.h' ] && [ -f '$O/b.o' ] && [ -f '$O/c.h' ]"
expect "the object's name comes from the model's stem" "$TCC compile '$MODELS/cnn/model.onnx' -o '$O' && [ -f '$O/model.o' ]"

# A failed compile leaves the previous artifacts untouched and no partial file.
cp "$O/a.o" "$T/a.o.before"; cp "$O/a.h" "$T/a.h.before"
check 1 "$BAD/unknown_op.onnx: node 'foo0' (FooBar, opset 13): error: unsupported operator 'FooBar'" compile "$BAD/unknown_op.onnx" -name=a -o "$O"
expect "a.o untouched after a failed compile" "cmp -s '$O/a.o' '$T/a.o.before' && cmp -s '$O/a.h' '$T/a.h.before'"
expect "no temporary files left" "[ -z \"\$(ls '$O' | grep tmp)\" ]"

# Truncated at every 1/16th of its length: a clean error, never a crash.
size=$(wc -c < "$MODELS/mlp/model.onnx")
for k in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
  head -c $((size * k / 16)) "$MODELS/mlp/model.onnx" > "$T/trunc.onnx"
  "$TCC" compile "$T/trunc.onnx" -name=trunc -o "$O" > /dev/null 2> "$T/stderr"; status=$?
  expect "truncated at $k/16: exit 1 with an error" "[ $status -eq 1 ] && grep -q 'error: ' '$T/stderr' && [ ! -f '$O/trunc.o' ]"
done

# tcc run: inputs are checked against the model.
check 1 "tcc: error: the model has 1 input; 0 given with --input" run "$MODELS/mlp/model.onnx"
check 1 "$MODELS/cnn/test_data_set_0/input_0.pb: error: input 0 is f32[1,1,28,28] but the model expects f32[1,784]" run "$MODELS/mlp/model.onnx" --input "$MODELS/cnn/test_data_set_0/input_0.pb"
check 0 "" run "$MODELS/mlp/model.onnx" --input "$MODELS/mlp/test_data_set_0/input_0.pb" --output-dir "$T/run"
expect "run writes output_0.pb" "[ -s '$T/run/output_0.pb' ]"

# Threads: parallel loops (tests/cli/parallel.tir) give the same bytes for
# 1, 2 and 3 threads, on this machine and on armv8 under qemu-user.
PAR=$HERE/parallel.tir
for t in 1 2 3; do
  check 0 "" run "$PAR" --input "$BAD/par_x.pb" -threads=$t --output-dir "$T/par$t"
done
for t in 2 3; do
  expect "parallel.tir: -threads=$t gives the bytes of -threads=1" \
    "cmp -s '$T/par1/output_0.pb' '$T/par$t/output_0.pb' && cmp -s '$T/par1/output_1.pb' '$T/par$t/output_1.pb'"
done
check 0 "" run "$PAR" --input "$BAD/par_x.pb" --threads 2
expect "parallel.tir: outputs printed" "grep -qx \"output 1 'r' f32\[37\]: 4 3.7632 4 4 3.8808 4 4 3.8808 4 4 3.8808 4 3.7632 4 4 3.8808 4 4 3.8808 4 4 3.8808 4 3.8808 4 4 3.8808 4 4 3.8808 4 3.7632 ...\" '$T/stdout'"
if command -v qemu-aarch64 > /dev/null && command -v aarch64-linux-gnu-gcc > /dev/null; then
  for t in 1 2; do
    check 0 "" run "$PAR" -target=armv8 --input "$BAD/par_x.pb" -threads=$t --output-dir "$T/arm$t"
  done
  expect "parallel.tir on armv8: -threads=2 gives the bytes of -threads=1" \
    "cmp -s '$T/arm1/output_0.pb' '$T/arm2/output_0.pb' && cmp -s '$T/arm1/output_1.pb' '$T/arm2/output_1.pb'"
fi
if command -v qemu-riscv64 > /dev/null && command -v riscv64-linux-gnu-gcc > /dev/null; then
  for t in 1 2; do
    check 0 "" run "$HERE/parallel_scalable.tir" -target=riscv64gcv --input "$BAD/par_x.pb" -threads=$t --output-dir "$T/rvv$t"
  done
  expect "parallel_scalable.tir on riscv64gcv: -threads=2 gives the bytes of -threads=1" "cmp -s '$T/rvv1/output_0.pb' '$T/rvv2/output_0.pb'"
  check 0 "" run "$HERE/parallel_scalable.tir" -target=riscv64gcv --input "$BAD/par_x.pb" -threads=2
  expect "parallel_scalable.tir: x * sum of 16 lanes of x[0,0] (vlen 256)" "grep -q \"^output 0 'y' f32\[37,64\]: 64 16.64 -30.72 51.2 \" '$T/stdout'"
fi
check 1 "tcc: error: -threads=2: tcc run has no threads on target cortex-m4 (its code runs serially there); use -threads=1" run "$PAR" -target=cortex-m4 --input "$BAD/par_x.pb" -threads=2

# tcc bench: the line, the JSON object, and the flags' errors.
MLP=$MODELS/mlp/model.onnx
check 0 "" bench "$MLP" --iters 5 --warmup 0 -threads=2
expect "bench prints one line" "grep -Eqx 'model: 5 runs, median [0-9]+\.[0-9]{4} ms, min [0-9]+\.[0-9]{4} ms, max [0-9]+\.[0-9]{4} ms, 2 threads' '$T/stdout' && [ \$(wc -l < '$T/stdout') -eq 1 ]"
check 0 "" bench "$MLP" --repeat 7 --json
expect "bench --json: one object with the figures" "/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {\"model\", \"median_ms\", \"min_ms\", \"max_ms\", \"mean_ms\", \"iters\", \"warmup\", \"threads\", \"workspace_bytes\"}, d
assert (d[\"model\"], d[\"iters\"], d[\"warmup\"], d[\"threads\"], d[\"workspace_bytes\"]) == (\"model\", 7, 1, 1, 576), d
assert 0 < d[\"min_ms\"] <= d[\"median_ms\"] <= d[\"max_ms\"] and d[\"min_ms\"] <= d[\"mean_ms\"] <= d[\"max_ms\"], d
' '$T/stdout'"
check 0 "" bench "$PAR" --iters 3 --warmup 2 -threads=3 --json
expect "bench --json of parallel.tir, 3 threads" "grep -Eqx '\{\"model\":\"parallel\",\"median_ms\":[0-9.e-]+,\"min_ms\":[0-9.e-]+,\"max_ms\":[0-9.e-]+,\"mean_ms\":[0-9.e-]+,\"iters\":3,\"warmup\":2,\"threads\":3,\"workspace_bytes\":0\}' '$T/stdout'"
# The harness cache (docs/cli.md): one object per target and kind, built
# by the first run (a C compiler wrapper logs its calls) and only linked by
# the next; off, nothing is kept; a folder that cannot be made is no error.
MLPIN="$MODELS/mlp/test_data_set_0/input_0.pb"
cat > "$T/cclog.sh" <<WRAP
#!/bin/sh
echo "\$*" >> "$T/cc.log"
exec cc "\$@"
WRAP
chmod +x "$T/cclog.sh"
for k in 1 2; do
  : > "$T/cc.log"
  TCC_CACHE_DIR="$T/cache" TCC_CC="$T/cclog.sh" "$TCC" run "$MLP" --input "$MLPIN" --output-dir "$T/c$k" 2> "$T/stderr"
  cp "$T/cc.log" "$T/cc$k.log"
done
expect "the first run builds the harness and keeps it" "[ \$(grep -c ' -c .*harness.c' '$T/cc1.log') -eq 1 ] && [ \$(ls '$T/cache' | grep -c '^harness-x86_64-[0-9a-f]\{16\}\.o\$') -eq 1 ]"
expect "the second run only links" "[ \$(wc -l < '$T/cc2.log') -eq 1 ] && ! grep -q 'harness.c' '$T/cc2.log' && grep -q '$T/cache/harness-x86_64-' '$T/cc2.log' && cmp -s '$T/c1/output_0.pb' '$T/c2/output_0.pb' && [ ! -s '$T/stderr' ]"
TCC_CACHE_DIR="$T/cache" TCC_CC="$T/cclog.sh" "$TCC" bench "$MLP" --iters 2 > /dev/null 2> "$T/stderr"
expect "bench keeps its own harness object" "[ \$(ls '$T/cache' | wc -l) -eq 2 ] && [ ! -s '$T/stderr' ]"
TCC_CACHE_DIR=off "$TCC" run "$MLP" --input "$MLPIN" --output-dir "$T/c3" 2> "$T/stderr"
expect "TCC_CACHE_DIR=off: the same outputs" "cmp -s '$T/c1/output_0.pb' '$T/c3/output_0.pb' && [ ! -s '$T/stderr' ]"
TCC_CACHE_DIR=/proc/tcc-cache "$TCC" run "$MLP" --input "$MLPIN" --output-dir "$T/c4" 2> "$T/stderr"
expect "a cache folder that cannot be made: the run succeeds quietly" "cmp -s '$T/c1/output_0.pb' '$T/c4/output_0.pb' && [ ! -s '$T/stderr' ]"
# Bench inputs: seeded random floats in [-1, 1), the same on every run (a
# C compiler wrapper keeps a copy of the input file the harness reads when
# it links the model's object).
cat > "$T/cc.sh" <<WRAP
#!/bin/sh
for a in "\$@"; do case "\$a" in */model.o) cp "\$(dirname "\$a")/in0.bin" "$T/bench_in.bin";; esac; done
exec cc "\$@"
WRAP
chmod +x "$T/cc.sh"
for k in 1 2; do
  TCC_CC="$T/cc.sh" "$TCC" bench "$MLP" --iters 1 > /dev/null 2>&1 && mv "$T/bench_in.bin" "$T/bench_in$k.bin"
done
expect "bench input: 784 seeded floats in [-1, 1), the same twice" "cmp -s '$T/bench_in1.bin' '$T/bench_in2.bin' && /usr/bin/python3 -c '
import struct, sys
v = struct.unpack(\"784f\", open(sys.argv[1], \"rb\").read())
assert all(-1 <= x < 1 for x in v) and len(set(v)) > 700, v[:8]
assert v[0] == struct.unpack(\"f\", struct.pack(\"f\", 0.08733527362346649))[0], v[0]
' '$T/bench_in1.bin'"
check 1 "tcc: error: invalid --threads '0': expected 1 to 256" bench "$MLP" -threads=0
check 1 "tcc: error: invalid --threads '257': expected 1 to 256" run "$MLP" --input "$MODELS/mlp/test_data_set_0/input_0.pb" --threads 257
check 1 "tcc: error: invalid --threads '2x': expected 1 to 256" run "$MLP" --input "$MODELS/mlp/test_data_set_0/input_0.pb" -threads=2x
check 1 "tcc: error: invalid --iters '0': expected 1 to 10000000" bench "$MLP" --iters 0
check 1 "tcc: error: invalid --repeat 'many': expected 1 to 10000000" bench "$MLP" --repeat many
check 1 "tcc: error: invalid --warmup '-1': expected 0 to 1000000" bench "$MLP" --warmup=-1
check 1 "tcc: error: option '--json' takes no value" bench "$MLP" --json=1
check 1 "tcc: error: option '--json' applies to tcc bench and tcc inspect only" run "$MLP" --input "$MODELS/mlp/test_data_set_0/input_0.pb" --json
check 1 "tcc: error: option '--iters' applies to tcc bench only" run "$MLP" --input "$MODELS/mlp/test_data_set_0/input_0.pb" --iters 3
check 1 "tcc: error: option '--threads' applies to tcc run, bench and tune only" compile "$MLP" -threads=2 -o "$O"

# -j: threads for code generation, refused outside 1..256; the object is
# the same for any count (tests/codegen covers a model of several units).
check 1 "tcc: error: invalid -j '0': expected a number of threads from 1 to 256" compile "$MLP" -j 0 -o "$O"
check 1 "tcc: error: invalid -j '300': expected a number of threads from 1 to 256" compile "$MLP" -j300 -o "$O"
check 1 "tcc: error: invalid -j 'x': expected a number of threads from 1 to 256" compile "$MLP" --jobs=x -o "$O"
check 0 "" compile "$MODELS/cnn/model.onnx" -j 1 -o "$T/j1"
check 0 "" compile "$MODELS/cnn/model.onnx" -j2 -o "$T/j2"
expect "-j 1 and -j 2 objects are the same" "cmp -s '$T/j1/model.o' '$T/j2/model.o'"
# --time-passes: a header, the load, each pass of the -O2 pipeline in order,
# the code generation steps, the write and a total, each with three numbers.
"$TCC" compile "$MODELS/cnn/model.onnx" --time-passes -o "$T/tp" > "$T/stdout" 2> "$T/stderr"; st=$?
expect "--time-passes exits 0" "[ $st -eq 0 ]"
expect "--time-passes header" "head -1 '$T/stderr' | grep -qE '^time-passes: stage +wall s +cpu s +peak MiB$'"
sed -n '2,$p' "$T/stderr" | sed -E 's/ +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]$//; s/^  //' > "$T/stages"
printf '%s\n' load "pass infer-shapes" "pass fold-constants" "pass dce" "pass fuse" "pass quantize" "pass dce" \
  "pass lower" "pass dce" "pass plan-memory" "codegen: segments and units" "codegen: LLVM IR" \
  "codegen: LLVM optimization" "codegen: LLVM object" "codegen: weights blob" \
  "header and memory fit" "write object" total > "$T/want_stages"
expect "--time-passes stages, each with wall, cpu and peak" "diff -u '$T/want_stages' '$T/stages'"
# --depfile: one Makefile rule, outputs as written, inputs as absolute paths
# (spaces escaped), written with the outputs and never after a failed compile.
mkdir -p "$T/dep dir"
cp "$MODELS/mlp/model.onnx" "$T/dep dir/m#1.onnx"
check 0 "" compile "$T/dep dir/m#1.onnx" -name=m -o "$T/dep out" --depfile="$T/dep out/m.d"
DT=$(printf '%s' "$T" | sed 's/ /\\ /g')
printf '%s\n' "$DT/dep\\ out/m.o $DT/dep\\ out/m.h: $DT/dep\\ dir/m\\#1.onnx" > "$T/want_dep"
expect "--depfile rule" "diff -u '$T/want_dep' '$T/dep out/m.d'"
check 1 "$BAD/unknown_op.onnx: node 'foo0' (FooBar, opset 13): error: unsupported operator 'FooBar'" compile "$BAD/unknown_op.onnx" -o "$O" --depfile="$T/bad.d"
expect "no depfile after a failed compile" "[ ! -e '$T/bad.d' ]"
# --max-ram / --max-flash: the figures of the Cortex-M fit on any ELF target;
# over budget is exit 1 with nothing written.
BUDGET="13.4 KiB of flash (code 7.4 KiB + weights and constants 6.0 KiB) and 108.2 KiB of RAM (workspace 89.1 KiB + inputs and outputs 3.1 KiB + data 0.0 KiB + stack margin 16.0 KiB)"
"$TCC" compile "$MODELS/cnn/model.onnx" --max-flash=10K --max-ram=64KiB -o "$T/budget" > "$T/stdout" 2> "$T/stderr"; st=$?
expect "over budget: exit 1, the figures, then the per-layer table" "[ $st -eq 1 ] && [ \"\$(head -1 '$T/stderr')\" = \"$MODELS/cnn/model.onnx: error: model 'model' on x86_64 exceeds its budget: it needs $BUDGET; --max-flash is 10.0 KiB and --max-ram is 64.0 KiB\" ] && sed -n 2p '$T/stderr' | grep -q '^node  *op ' && grep -q '^total: 7 layers' '$T/stderr'"
expect "nothing written over budget" "[ ! -e '$T/budget/model.o' ]"
check 0 "$MODELS/cnn/model.onnx: note: model 'model' on x86_64: $BUDGET" compile "$MODELS/cnn/model.onnx" --max-ram=1M -o "$T/budget"
check 1 "tcc: error: invalid --max-ram '12X': expected a size such as 262144, 256K or 1.5M" compile "$MODELS/cnn/model.onnx" --max-ram=12X -o "$T/budget"
# --emit: the artifacts asked for, all or none; the object does not depend
# on what else is written.
check 0 "" compile "$MODELS/cnn/model.onnx" -o "$T/emit" --emit=header,asm,llvm,ir,dot
expect "--emit writes what it names" "[ ! -e '$T/emit/model.o' ] && grep -q vfmadd '$T/emit/model.s' && grep -q '^define ' '$T/emit/model.ll' && grep -q '^func @main' '$T/emit/model.tir' && [ -s '$T/emit/model.h' ]"
expect "--emit=dot: the graph before and after the passes" "grep -q 'label=\"batch_norm' '$T/emit/model.before.dot' && ! grep -q batch_norm '$T/emit/model.after.dot' && grep -q 'label=\"fused_conv' '$T/emit/model.after.dot'"
check 0 "" compile "$MODELS/cnn/model.onnx" -o "$T/emit" --emit=obj,asm
check 0 "" compile "$MODELS/cnn/model.onnx" -o "$T/emit2"
expect "the object is the same with --emit=asm" "cmp -s '$T/emit/model.o' '$T/emit2/model.o'"
check 1 "tcc: error: unknown --emit kind 'exe' (expected a comma list of obj, header, asm, llvm, ir, dot, weights)" compile "$MODELS/cnn/model.onnx" -o "$T/emit" --emit=obj,exe
check 1 "tcc: error: --emit=weights writes the blob of --weights=external; add --weights=external (without it the weights are in the object)" compile "$MODELS/cnn/model.onnx" -o "$T/emit" --emit=weights
# --report: per layer (the tensor level after fusion) its op, FLOPs,
# parameters and the kernel the lowering chose; totals; flash and RAM with
# the budgets' definitions. -v prints the same as a table.
check 0 "" compile "$MODELS/cnn/model.onnx" -o "$T/rep" --report="$T/rep/report.json" --max-ram=1M -q
expect "--report: the sample CNN's layers, kernels, totals and memory" "/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
L = r[\"layers\"]
assert [l[\"node\"] for l in L] == [\"conv1\", \"pool1\", \"conv2\", \"gap\", \"flatten\", \"fc\", \"softmax\"], L
c1 = L[0]
assert (c1[\"op\"], c1[\"activation\"], c1[\"output\"], c1[\"flops\"], c1[\"parameters\"]) == (\"fused_conv\", \"relu\", \"f32[1,8,28,28]\", 2 * 8 * 28 * 28 * 9, 80), c1
assert c1[\"kernel\"].startswith(\"packed GEMM 8x784x9, register tile \"), c1
assert L[1][\"kernel\"] == \"loops\" and L[5][\"kernel\"].startswith(\"packed GEMM 1x10x16\")
t, m = r[\"totals\"], r[\"memory\"]
assert t[\"flops\"] == sum(l[\"flops\"] for l in L) and t[\"parameters\"] == 1418, t
assert m[\"flash\"] == m[\"code\"] + m[\"rodata\"] and m[\"workspace\"] == 91264 and m[\"stack_margin\"] == 16384, m
assert m[\"ram\"] == m[\"data\"] + m[\"workspace\"] + m[\"inputs_outputs\"] + m[\"stack_margin\"], m
assert r[\"budget\"] == {\"max_flash\": None, \"max_ram\": 1048576} and r[\"target\"] == \"x86_64\", r[\"budget\"]
' '$T/rep/report.json'"
"$TCC" compile "$MODELS/cnn/model.onnx" -o "$T/rep" -v > "$T/stdout" 2> "$T/stderr"
expect "-v prints the table" "head -1 '$T/stderr' | grep -q '^node  *op  *output  *MFLOP  *params  *weight KiB  kernel$' && grep -q '^conv2  *fused_conv+relu  *f32\[1,16,14,14\]  *0.452  *1168 ' '$T/stderr' && grep -q '^total: 7 layers, 0.566 MFLOP, 1418 parameters' '$T/stderr'"
# --report of int8 layers (-quantize=dynamic: no calibration data needed)
# and of -weight-type: the quantization per layer, the packed weights' type
check 0 "" compile "$MODELS/cnn/model.onnx" -o "$T/repq" --report="$T/repq/report.json" -quantize=dynamic -weight-type=bf16 -q
expect "--report: an int8 layer's quantization, the weights packed as bf16" "/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
L = {l[\"node\"]: l for l in r[\"layers\"]}
q = L[\"fc\"][\"quantization\"]
assert L[\"fc\"][\"op\"] == \"fused_matmul\" and \"quantization\" not in L[\"conv1\"], L
assert (q[\"weights\"], q[\"channels\"], q[\"input\"]) == (\"i8 per channel\", 10, \"u8, measured at run time\"), q
assert 0 < q[\"w_scale_min\"] <= q[\"w_scale_max\"] and \"x_scale\" not in q, q
assert r[\"weights\"][\"packed_as\"] == \"bf16\", r[\"weights\"]
' '$T/repq/report.json'"
# inspect --json: one object; --version names the targets; help per command;
# -q drops notes.
check 0 "" inspect "$MODELS/cnn/model.onnx" --json
printf '%s\n' '{"model":"model","source":"'"$MODELS"'/cnn/model.onnx","symbols":[],"inputs":[{"name":"input","type":"f32[1,1,28,28]"}],"outputs":[{"name":"probs","type":"f32[1,10]"}],"num_ops":10,"ops":{"Relu":2,"Conv":2,"Gemm":1,"MaxPool":1,"GlobalAveragePool":1,"BatchNormalization":1,"Softmax":1,"Flatten":1},"weights":{"tensors":10,"parameters":1450,"bytes":5800}}' > "$T/want_json"
expect "inspect --json" "diff -u '$T/want_json' '$T/stdout'"
check 0 "" --version
expect "--version lists the targets" "grep -qx 'targets: x86_64 armv8 riscv64 riscv64gcv wasm32 cortex-m4 cortex-m7 cortex-m55' '$T/stdout'"
check 0 "" help compile
expect "help compile: usage, its options, an example" "head -1 '$T/stdout' | grep -qx 'usage: tcc compile MODEL.onnx \[options\]' && grep -q -- '--max-ram' '$T/stdout' && ! grep -q -- '--iters' '$T/stdout' && tail -1 '$T/stdout' | grep -qx '  tcc compile model.onnx -target=armv8 -o out/'"
check 0 "" bench --help
expect "bench --help is help bench" "grep -q -- '--iters' '$T/stdout' && ! grep -q -- '--depfile' '$T/stdout'"
check 0 "" help export
expect "help export: its options" "head -1 '$T/stdout' | grep -qx 'usage: tcc export MODEL.onnx -quantize=int8 --calib=DIR \[options\]' && grep -q -- '--calib-cache' '$T/stdout' && grep -q -- '--keep-float' '$T/stdout' && ! grep -q -- '--iters' '$T/stdout' && ! grep -q -- '--target' '$T/stdout'"
check 1 "tcc: error: unknown command 'nosuch' (see tcc --help)" help nosuch
check 0 "" compile "$MODELS/cnn/model.onnx" -target=cortex-m4 -o "$T/quiet" -q
# Progress on a terminal only (a pty through script(1)), after
# TCC_PROGRESS_DELAY_MS (0 here: a quick compile); the line is cleared at
# the end; -q, TERM=dumb or a pipe: none.
tty_run() { # OUTPUT ARGS...: tcc under a pseudo-terminal, everything it printed in OUTPUT
  out=$1; shift
  TCC_PROGRESS_DELAY_MS=0 script -qfec "$TCC $*" /dev/null > "$out"
}
tty_run "$T/tty" compile "$MODELS/cnn/model.onnx" -o "$T/prog"
expect "progress on a terminal: the stages" "grep -q 'tcc: pass lower (0 s)' '$T/tty' && grep -q 'tcc: codegen: ' '$T/tty'"
expect "progress on a terminal: cleared at the end" "[ \"\$(tail -c 4 '$T/tty' | od -An -c | tr -d ' ')\" = '\\r033[K' ]"
tty_run "$T/tty" compile "$MODELS/cnn/model.onnx" -o "$T/prog" -q
expect "-q: no progress" "[ ! -s '$T/tty' ]"
TERM=dumb tty_run "$T/tty" compile "$MODELS/cnn/model.onnx" -o "$T/prog"
expect "TERM=dumb: no progress" "[ ! -s '$T/tty' ]"
TCC_PROGRESS_DELAY_MS=0 "$TCC" compile "$MODELS/cnn/model.onnx" -o "$T/prog" 2> "$T/pipe"
expect "a pipe: no progress" "[ ! -s '$T/pipe' ]"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
