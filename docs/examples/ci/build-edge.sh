#!/bin/sh
# build-edge.sh — the CI recipe for edge binaries (docs/cmake.md): for each
# target, build the CMake example (docs/examples/app) against an installed
# tcc, run the binary under QEMU or Node.js on the model's reference input,
# check its outputs, and keep the binary, the generated header and a size
# report as artifacts.  GitHub Actions and GitLab CI call it
# (github-actions.yml, gitlab-ci.yml), and so does the test suite.
#
#   build-edge.sh PREFIX MODEL_DIR ARTIFACTS [TARGET...]
#     PREFIX     where tcc is installed (cmake --install --prefix, or /usr)
#     MODEL_DIR  holds model.onnx and test_data_set_0/{input,output}_<i>.pb
#     TARGET     armv8 riscv64 riscv64gcv wasm32 cortex-m4 cortex-m7
#                cortex-m55 x86_64 (default: armv8 riscv64gcv cortex-m4 wasm32)
#   ARTIFACTS/<target>/: app (app.wasm), model.h, size.txt
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n '9,16p' "$0" >&2; exit 2; }
prefix=$(cd "$1" && pwd)
model_dir=$(cd "$2" && pwd)
mkdir -p "$3"
artifacts=$(cd "$3" && pwd)
shift 3
[ $# -gt 0 ] || set -- armv8 riscv64gcv cortex-m4 wasm32
toolchains=$prefix/share/tcc/runtime/toolchains
py=/usr/bin/python3
status=0

for target in "$@"; do
  echo "== $target"
  work=$artifacts/work/$target
  out=$artifacts/$target
  rm -rf "$work" "$out"
  mkdir -p "$work" "$out"
  flags=""
  case $target in
    armv8) flags="-DCMAKE_TOOLCHAIN_FILE=$toolchains/aarch64-linux-gnu.cmake" ;;
    riscv64|riscv64gcv) flags="-DCMAKE_TOOLCHAIN_FILE=$toolchains/riscv64-linux-gnu.cmake -DTCC_TARGET=$target" ;;
    wasm32) flags="-DCMAKE_TOOLCHAIN_FILE=$toolchains/wasm32-wasi.cmake" ;;
    cortex-m4|cortex-m7|cortex-m55) flags="-DCMAKE_TOOLCHAIN_FILE=$toolchains/$target.cmake" ;;
    x86_64) ;;
    *) echo "build-edge.sh: unknown target $target" >&2; exit 2 ;;
  esac
  # shellcheck disable=SC2086  # flags is a list of words
  cmake -S "$here/../app" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DMODEL="$model_dir/model.onnx" -DCMAKE_BUILD_TYPE=Release $flags >"$work/configure.log" \
    || { cat "$work/configure.log"; exit 1; }
  cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log"; exit 1; }

  b=$work/build
  app=$b/app
  [ "$target" = wasm32 ] && app=$b/app.wasm
  data=$work/data
  "$py" "$here/tensors.py" to-raw "$model_dir/test_data_set_0" "$data"
  case $target in
    armv8) qemu-aarch64 -L /usr/aarch64-linux-gnu "$app" "$data" ;;
    riscv64) qemu-riscv64 -L /usr/riscv64-linux-gnu "$app" "$data" ;;
    riscv64gcv) qemu-riscv64 -L /usr/riscv64-linux-gnu \
                  -cpu rv64,v=true,vlen=256,elen=64,vext_spec=v1.0 "$app" "$data" ;;
    wasm32) node --no-warnings "$here/wasi-run.mjs" "$app" "$data" ;;
    cortex-m4|cortex-m7|cortex-m55)
      case $target in
        cortex-m4) board=mps2-an386 ;; cortex-m7) board=mps2-an500 ;; *) board=mps3-an547 ;;
      esac
      timeout 300 qemu-system-arm -M $board -nographic -monitor none \
        -semihosting-config "enable=on,target=native,arg=app,arg=$data" -kernel "$app" ;;
    x86_64) "$app" "$data" ;;
  esac
  if "$py" "$here/tensors.py" check "$model_dir/test_data_set_0" "$data"; then
    cp "$app" "$b/tcc_models/model/model.h" "$out/"
    llvm-size-19 "$b/tcc_models/model/model.o" "$app" >"$out/size.txt"
    cat "$out/size.txt"
  else
    status=1
  fi
done
exit $status
