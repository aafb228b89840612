#!/bin/sh
# Installs the Debian 12 packages tcc needs to build, test and run its demo.
# Idempotent: does nothing when everything is already installed.
set -eu
PACKAGES="build-essential cmake pkg-config llvm-19-dev libprotobuf-c-dev protobuf-c-compiler
libcjson-dev libcmocka-dev libonnx-dev libonnx-testdata python3-onnx python3-numpy valgrind"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "tcc: installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
