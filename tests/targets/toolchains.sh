#!/bin/sh
# A user's cross build: the runtime built through the CMake toolchain files
# of runtime/toolchains, linked with a model object from `tcc compile
# -target=...` and a small application, run under emulation; the outputs
# must match the same application built for this machine.
#   tests/targets/toolchains.sh build/tcc build/libtccrt.a
set -eu
TCC=$1 HOSTRT=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/tcc-toolchains-XXXXXX)
trap 'rm -rf "$T"' EXIT

cat > "$T/app.c" <<'APP'
#include <stdio.h>
#include <stdlib.h>
#include "mlp.h"
int main(void) {
  static float in[784], out[10];
  for (int i = 0; i < 784; i++) in[i] = (float)((i * 37) % 101) / 100.0f;
  void *ws = aligned_alloc(TCC_WORKSPACE_ALIGN, (MLP_WORKSPACE_SIZE + 63) / 64 * 64);
  tcc_ctx ctx = tcc_ctx_init(ws, MLP_WORKSPACE_SIZE);
  int st = mlp_infer(&ctx, in, out);
  for (int i = 0; i < 10; i++) printf("%.7g\n", out[i]);
  free(ws);
  return st;
}
APP

# build NAME TARGET TOOLCHAIN CC RUN...: runtime, model, app; prints outputs.
build() {
  name=$1 target=$2 tc=$3 cc=$4
  shift 4
  cmake -S "$ROOT/runtime/toolchains" -B "$T/rt-$name" \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/runtime/toolchains/$tc.cmake" >/dev/null
  cmake --build "$T/rt-$name" >/dev/null
  mkdir -p "$T/$name"
  "$TCC" compile "$ROOT/models/mlp/model.onnx" -name=mlp -target=$target -o "$T/$name"
  $cc -O1 -I"$ROOT/include" -I"$T/$name" "$T/app.c" "$T/$name/mlp.o" \
    "$T/rt-$name/libtccrt.a" -lm -o "$T/$name/app"
  "$@" "$T/$name/app" > "$T/$name.out"
}

mkdir -p "$T/host"
"$TCC" compile "$ROOT/models/mlp/model.onnx" -name=mlp -o "$T/host"
cc -O1 -I"$ROOT/include" -I"$T/host" "$T/app.c" "$T/host/mlp.o" "$HOSTRT" -lm -o "$T/host/app"
"$T/host/app" > "$T/host.out"

build armv8 armv8 aarch64-linux-gnu aarch64-linux-gnu-gcc qemu-aarch64 -L /usr/aarch64-linux-gnu
build riscv64gcv riscv64gcv riscv64-linux-gnu riscv64-linux-gnu-gcc \
  qemu-riscv64 -L /usr/riscv64-linux-gnu -cpu rv64,v=true,vlen=128,elen=64,vext_spec=v1.0
build wasm32 wasm32 wasm32-wasi "clang-19 --target=wasm32-wasi" \
  node --no-warnings "$ROOT/tests/targets/wasi-run.mjs"

fail=0
for name in armv8 riscv64gcv wasm32; do
  if paste "$T/host.out" "$T/$name.out" | awk '
      { d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6 + 1e-4 * ($1 < 0 ? -$1 : $1)) bad = 1; n++ }
      END { exit (bad || n != 10) }'; then
    echo "$name: 10 outputs match the host's"
  else
    echo "FAIL: $name outputs differ from the host's:" >&2
    paste "$T/host.out" "$T/$name.out" >&2
    fail=1
  fi
done
exit $fail
