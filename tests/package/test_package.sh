#!/bin/sh
# test_package.sh — the installed package as a project that uses tcc sees it
# (docs/cmake.md).  usage: test_package.sh SOURCE_DIR BUILD_DIR
#  1. cmake --install into a temporary prefix
#  2. the CI recipe (docs/examples/ci/build-edge.sh) against it: the CMake
#     example for armv8, riscv64gcv, cortex-m4 and wasm32, run under QEMU
#     and Node.js, outputs checked against the model's reference
#     (and the runtime built from source by the project, cortex-m7)
#  3. tcc_add_model() reruns tcc exactly when it must: not on a no-op build;
#     on touched external data (the depfile), a changed OPTIONS, a touched
#     model, a new tcc
#  4. a TARGET that does not match the toolchain is a configure error
#  5. MAX_RAM over budget fails the build, naming the figures
#  5b. WEIGHTS external: the example reads the blob, checks it and runs
#  6. a plain link with pkg-config (armv8, run under qemu)
#  7. the compiler as a library (tcc::compiler) compiles the MLP
#  8. add_subdirectory() of the source tree configures with tcc_add_model()
#  9. cpack -G DEB: name, Conflicts, Depends; the example builds against the
#     unpacked package and runs
# 10. the CI YAML files parse
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
py=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
app=$src/docs/examples/app

echo "== 1. install"
cmake --install "$build" --prefix "$T/prefix" >/dev/null
for f in bin/tcc lib/libtccrt.a lib/libtccrt_pool.a lib/libtcc_compiler.a include/tcc/runtime.h \
         include/tcc/tcc.h lib/cmake/tcc/tccConfig.cmake lib/cmake/tcc/TccAddModel.cmake \
         lib/pkgconfig/tccrt.pc share/man/man1/tcc.1 share/tcc/runtime/rt.c \
         share/tcc/runtime/toolchains/cortex-m4.cmake lib/tcc/armv8/libtccrt.a \
         lib/tcc/riscv64/libtccrt.a lib/tcc/wasm32/libtccrt.a lib/tcc/cortex-m4/libtccrt.a \
         lib/tcc/cortex-m7/libtccrt.a lib/tcc/cortex-m55/libtccrt.a; do
  [ -f "$T/prefix/$f" ] || fail "cmake --install did not install $f"
done

echo "== 2. the CI recipe"
sh "$src/docs/examples/ci/build-edge.sh" "$T/prefix" "$src/models/cnn" "$T/edge" \
  armv8 riscv64gcv cortex-m4 wasm32
for t in armv8 riscv64gcv cortex-m4 wasm32; do
  [ -s "$T/edge/$t/model.h" ] && [ -s "$T/edge/$t/size.txt" ] || fail "no artifacts for $t"
done

echo "== 2b. the runtime from source (TCC_RUNTIME_FROM_SOURCE), cortex-m7 firmware"
b=$T/from-source
cmake -S "$app" -B "$b" -DCMAKE_PREFIX_PATH="$T/prefix" -DTCC_RUNTIME_FROM_SOURCE=ON \
  -DCMAKE_TOOLCHAIN_FILE="$T/prefix/share/tcc/runtime/toolchains/cortex-m7.cmake" \
  -DMODEL="$src/models/mlp/model.onnx" >/dev/null
cmake --build "$b" >"$T/from-source.log" 2>&1 || { cat "$T/from-source.log"; fail "TCC_RUNTIME_FROM_SOURCE"; }
grep -q "Built target tcc_runtime_cortex-m7" "$T/from-source.log" || fail "the runtime was not built from source"
mkdir -p "$b/data"
"$py" "$src/docs/examples/ci/tensors.py" to-raw "$src/models/mlp/test_data_set_0" "$b/data"
timeout 300 qemu-system-arm -M mps2-an500 -nographic -monitor none \
  -semihosting-config "enable=on,target=native,arg=app,arg=$b/data" -kernel "$b/app" >/dev/null
"$py" "$src/docs/examples/ci/tensors.py" check "$src/models/mlp/test_data_set_0" "$b/data"

echo "== 3. rebuilds"
mkdir -p "$T/ext"
"$py" - "$src/models/mlp/model.onnx" "$T/ext/model.onnx" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.save_model(m, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True,
                location="weights.bin", size_threshold=0)
PY
b=$T/rebuild
cmake -S "$app" -B "$b" -DCMAKE_PREFIX_PATH="$T/prefix" -DMODEL="$T/ext/model.onnx" >/dev/null
compiles() { # $1: what; $2: yes/no
  n=$(cmake --build "$b" 2>&1 | grep -c "tcc: compiling" || true)
  want=1; [ "$2" = no ] && want=0
  [ "$n" -eq "$want" ] || fail "$1: tcc ran $n times, expected $want"
}
compiles "first build" yes
compiles "no-op build" no
touch "$T/ext/weights.bin"
compiles "touched external data" yes
cmake -S "$app" -B "$b" -DTCC_OPTIONS="-O1" >/dev/null
compiles "changed OPTIONS" yes
compiles "no-op build after OPTIONS" no
touch "$T/ext/model.onnx"
compiles "touched model" yes
touch "$T/prefix/bin/tcc"
compiles "a new tcc" yes
grep -q "weights.bin" "$b/tcc_models/model/model.d" || fail "the depfile does not name weights.bin"
mkdir -p "$T/data"
"$py" "$src/docs/examples/ci/tensors.py" to-raw "$src/models/mlp/test_data_set_0" "$T/data"
"$b/app" "$T/data" >/dev/null
"$py" "$src/docs/examples/ci/tensors.py" check "$src/models/mlp/test_data_set_0" "$T/data"

echo "== 4. TARGET against the toolchain"
if cmake -S "$app" -B "$T/mismatch" -DCMAKE_PREFIX_PATH="$T/prefix" -DTCC_TARGET=armv8 \
     >"$T/mismatch.log" 2>&1; then
  fail "TARGET armv8 with the host toolchain configured"
fi
tr -s ' \n' ' ' <"$T/mismatch.log" | grep -q "tcc_add_model(model): TARGET armv8 does not match the toolchain's processor 'x86_64' (CMAKE_SYSTEM_PROCESSOR): objects for armv8 cannot link here. Use the toolchain file of armv8, or leave TARGET out (the toolchain's is x86_64)" \
  || { cat "$T/mismatch.log"; fail "the mismatch message"; }

echo "== 5. MAX_RAM"
mkdir -p "$T/budget"
cat >"$T/budget/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(budget C)
find_package(tcc CONFIG REQUIRED)
tcc_add_model(small MODEL $src/models/cnn/model.onnx TARGET cortex-m4 MAX_RAM 40K MAX_FLASH 1M)
CM
cmake -S "$T/budget" -B "$T/budget/b" -DCMAKE_PREFIX_PATH="$T/prefix" \
  -DCMAKE_TOOLCHAIN_FILE="$T/prefix/share/tcc/runtime/toolchains/cortex-m4.cmake" >/dev/null
if cmake --build "$T/budget/b" >"$T/budget.log" 2>&1; then fail "MAX_RAM 40K passed"; fi
grep -q "error: model 'small' on cortex-m4 exceeds its budget: it needs 18.5 KiB of flash (code 12.8 KiB + weights and constants 5.7 KiB) and 51.5 KiB of RAM (workspace 32.4 KiB + inputs and outputs 3.1 KiB + data 0.0 KiB + stack margin 16.0 KiB); --max-ram is 40.0 KiB" "$T/budget.log" \
  || { cat "$T/budget.log"; fail "the budget message"; }
[ ! -e "$T/budget/b/tcc_models/small/small.o" ] || fail "an object was written over budget"

echo "== 5b. weights apart from code (WEIGHTS external)"
b=$T/blob
cmake -S "$app" -B "$b" -DCMAKE_PREFIX_PATH="$T/prefix" -DTCC_WEIGHTS=external \
  -DMODEL="$src/models/cnn/model.onnx" >/dev/null
cmake --build "$b" >"$T/blob.log" 2>&1 || { cat "$T/blob.log"; fail "WEIGHTS external"; }
grep -q "app: the weights are $b/tcc_models/model/model.weights" "$T/blob.log" ||
  fail "WEIGHTS external: the blob's path is not in TCC_WEIGHTS_FILE"
mkdir -p "$b/data"
"$py" "$src/docs/examples/ci/tensors.py" to-raw "$src/models/cnn/test_data_set_0" "$b/data"
if "$b/app" "$b/data" >/dev/null 2>"$T/blob.err"; then fail "WEIGHTS external: ran without the blob"; fi
grep -q "model.weights" "$T/blob.err" || fail "WEIGHTS external: no word of the missing blob"
cp "$b/tcc_models/model/model.weights" "$b/data/"
"$b/app" "$b/data" >/dev/null
"$py" "$src/docs/examples/ci/tensors.py" check "$src/models/cnn/test_data_set_0" "$b/data"

echo "== 6. pkg-config"
e=$T/edge/work/armv8/build/tcc_models/model
# shellcheck disable=SC2046  # pkg-config prints a list of flags
aarch64-linux-gnu-gcc -I"$e" "$app/main.c" "$e/model.o" \
  $(PKG_CONFIG_LIBDIR="$T/prefix/lib/tcc/armv8/pkgconfig" pkg-config --cflags --libs tccrt) -o "$T/app-pc"
rm -rf "$T/data"
mkdir -p "$T/data"
"$py" "$src/docs/examples/ci/tensors.py" to-raw "$src/models/cnn/test_data_set_0" "$T/data"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$T/app-pc" "$T/data" >/dev/null
"$py" "$src/docs/examples/ci/tensors.py" check "$src/models/cnn/test_data_set_0" "$T/data"

echo "== 7. the compiler library"
mkdir -p "$T/lib"
cat >"$T/lib/main.c" <<'C'
#include <stdio.h>
#include <tcc/tcc.h>
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  tcc_session *s = tcc_session_new();
  int ok = tcc_set_option(s, "target", "armv8") == TCC_SUCCESS &&
           tcc_load_file(s, argv[1]) == TCC_SUCCESS && tcc_compile(s) == TCC_SUCCESS &&
           tcc_emit_files(s, argv[2]) == TCC_SUCCESS;
  fputs(tcc_diagnostics(s), stderr);
  printf("%s %s\n", tcc_version(), tcc_model_name(s));
  tcc_session_free(s);
  return ok ? 0 : 1;
}
C
cat >"$T/lib/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(uses_compiler C)
find_package(tcc CONFIG REQUIRED)
add_executable(compile_one main.c)
target_link_libraries(compile_one PRIVATE tcc::compiler)
CM
cmake -S "$T/lib" -B "$T/lib/b" -DCMAKE_PREFIX_PATH="$T/prefix" >/dev/null
cmake --build "$T/lib/b" >/dev/null
[ "$("$T/lib/b/compile_one" "$src/models/mlp/model.onnx" "$T/lib/out")" = "0.1.0 model" ] \
  || fail "the compiler library's program"
[ -s "$T/lib/out/model.o" ] && [ -s "$T/lib/out/model.h" ] || fail "no object from the library"

echo "== 8. add_subdirectory"
mkdir -p "$T/sub"
cat >"$T/sub/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(sub C)
add_subdirectory($src tcc)
tcc_add_model(model MODEL $src/models/mlp/model.onnx)
add_executable(app $app/main.c)
target_link_libraries(app PRIVATE model)
CM
cmake -S "$T/sub" -B "$T/sub/b" -DTCC_CROSS_RUNTIMES=OFF >"$T/sub.log" 2>&1 \
  || { cat "$T/sub.log"; fail "add_subdirectory"; }
grep -q "tcc: compiling" "$T/sub/b/CMakeFiles/model.dir/build.make" || fail "no compile rule"

echo "== 9. cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$T/deb" >/dev/null)
deb=$(ls "$T"/deb/tcc-onnx_*.deb)
[ "$(dpkg-deb -f "$deb" Package)" = tcc-onnx ] || fail "package name"
[ "$(dpkg-deb -f "$deb" Conflicts)" = tcc ] || fail "Conflicts"
for dep in libllvm19 libcjson1 libprotobuf-c1 libc6; do
  dpkg-deb -f "$deb" Depends | grep -q "$dep" || fail "Depends lacks $dep: $(dpkg-deb -f "$deb" Depends)"
done
dpkg-deb -x "$deb" "$T/root"
# tcc finds its runtime beside itself, wherever the tree is unpacked
"$T/root/usr/bin/tcc" run "$src/models/mlp/model.onnx" --input "$src/models/mlp/test_data_set_0/input_0.pb" \
  --output-dir "$T/deb-run" >/dev/null
"$py" - "$T/deb-run/output_0.pb" "$src/models/mlp/test_data_set_0/output_0.pb" <<'PY' || fail "tcc run from the .deb"
import sys, numpy as np, onnx
from onnx import numpy_helper
got, ref = (numpy_helper.to_array(onnx.load_tensor(p)) for p in sys.argv[1:])
sys.exit(0 if np.allclose(got, ref, rtol=1e-4, atol=1e-6) else 1)
PY
sh "$src/docs/examples/ci/build-edge.sh" "$T/root/usr" "$src/models/mlp" "$T/deb-edge" x86_64 cortex-m4

echo "== 10. the CI files"
"$py" -c "import sys, yaml; [yaml.safe_load(open(f)) for f in sys.argv[1:]]" \
  "$src/docs/examples/ci/github-actions.yml" "$src/docs/examples/ci/gitlab-ci.yml"
grep -q "build-edge.sh" "$src/docs/examples/ci/github-actions.yml" || fail "github-actions.yml"
grep -q "build-edge.sh" "$src/docs/examples/ci/gitlab-ci.yml" || fail "gitlab-ci.yml"
echo "package: all passed"
