#!/bin/sh
# Builds the libFuzzer harnesses with clang-19 (a separate configuration of
# tests/fuzz/CMakeLists.txt), replays every input kept in
# tests/fuzz/regressions/<harness>/, then fuzzes each harness for SECONDS.
# Any crash, sanitizer report, leak, timeout (-timeout) or single allocation
# over -malloc_limit_mb fails the run and leaves the input in
# BUILD/artifacts/; a fixed crash's input belongs in regressions/<harness>/.
#
# usage: tests/fuzz/run_fuzz.sh [-s SECONDS] [-b BUILD_DIR] [-t TCC] [HARNESS...]
#   -s  seconds per harness (default 20; ctest uses 20: a minute in all)
#   -b  build folder (default build-fuzz); the corpus grows in BUILD/corpus
#   -t  a built tcc: adds the sample models' IR after every pass to the seeds
#   HARNESS: onnx_load, onnx_tensor, ir_parse (default: all three)
# A long run:  tests/fuzz/run_fuzz.sh -s 3600 -t build/tcc
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SECONDS_EACH=20; BUILD=$ROOT/build-fuzz; TCC=""
while getopts s:b:t: opt; do
  case $opt in
    s) SECONDS_EACH=$OPTARG ;;
    b) BUILD=$OPTARG ;;
    t) TCC=$OPTARG ;;
    *) echo "usage: $0 [-s SECONDS] [-b BUILD_DIR] [-t TCC] [HARNESS...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
HARNESSES=${*:-onnx_load onnx_tensor ir_parse}
CC=${FUZZ_CC:-clang-19}

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (tests/install-deps.sh installs clang-19)"; exit 1; }
if ! "$CC" -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q /; then
  echo "fuzz: $CC has no libFuzzer runtime (install libclang-rt-19-dev)"; exit 1
fi
echo "== fuzz: build ($CC) in $BUILD"
cmake -S "$HERE" -B "$BUILD" -DCMAKE_C_COMPILER="$CC" >/dev/null || exit 1
cmake --build "$BUILD" -j"${JOBS:-2}" >"$BUILD/build.log" 2>&1 || { tail -30 "$BUILD/build.log"; exit 1; }

rm -rf "$BUILD/seeds"
/usr/bin/python3 "$HERE/make_seeds.py" "$BUILD/seeds" $TCC || exit 1
# IR dictionary: keywords, punctuation and every op name from ir/ops.def.
{
  for w in module func weight sym return loc as none bound type inf nan -inf true false \
           f16 bf16 f32 f64 i8 i16 i32 i64 u8 u16 u32 u64 bool index vec buf '->' '..' '//'; do
    printf '"%s"\n' "$w"
  done
  sed -n 's/^[TL]OP([A-Z_0-9]*, *"\([^"]*\)".*/"\1"/p' "$ROOT/ir/ops.def"
} > "$BUILD/ir_parse.dict"

mkdir -p "$BUILD/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0
for h in $HARNESSES; do
  bin=$BUILD/fuzz_$h
  [ -x "$bin" ] || { echo "fuzz: no harness '$h'"; exit 2; }
  reg=$HERE/regressions/$h
  if [ -n "$(ls -A "$reg" 2>/dev/null | grep -v '^README')" ]; then
    n=$(ls -A "$reg" | grep -vc '^README')
    if "$bin" -runs=1 $(ls -d "$reg"/* | grep -v '/README') >"$BUILD/$h.replay.log" 2>&1; then
      echo "fuzz: $h: $n regression inputs replayed, all pass"
    else
      echo "FAIL: fuzz: $h: a regression input fails again:"; tail -40 "$BUILD/$h.replay.log"; fail=1
    fi
  fi
  mkdir -p "$BUILD/corpus/$h"
  dict=""; [ "$h" = ir_parse ] && dict="-dict=$BUILD/ir_parse.dict"
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -max_len=65536 -print_final_stats=1 $dict -artifact_prefix="$BUILD/artifacts/$h-" \
    "$BUILD/corpus/$h" "$BUILD/seeds/$h" >"$BUILD/$h.log" 2>&1
  status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/$h.log")
  cov=$(grep -o 'cov: [0-9]*' "$BUILD/$h.log" | tail -1)
  if [ $status -eq 0 ]; then
    echo "fuzz: $h: ${runs:-?} executions in ${SECONDS_EACH}s, $cov, no crash"
  else
    fail=1
    echo "FAIL: fuzz: $h crashed (exit $status) after ${runs:-?} executions:"
    grep -E 'ERROR|SUMMARY|invariant|Test unit written' "$BUILD/$h.log" | head -10
    grep -A25 'ERROR' "$BUILD/$h.log" | grep '#[0-9]' | head -20
    echo "  full log: $BUILD/$h.log; once fixed, keep the input in tests/fuzz/regressions/$h/"
  fi
done
exit $fail
