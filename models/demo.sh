#!/bin/sh
# The main job on a shipped sample: install what is missing, build tcc,
# compile the sample MLP to an object + header, run it on its sample input,
# print the result, and check it against the numpy reference output.
set -eu
cd "$(dirname "$0")/.."
tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 >/dev/null
MODEL=${1:-mlp}
echo "== build/tcc compile models/$MODEL/model.onnx -name=$MODEL -o out/"
build/tcc compile "models/$MODEL/model.onnx" -name="$MODEL" -o out/
ls -l "out/$MODEL.o" "out/$MODEL.h"
echo "== build/tcc run models/$MODEL/model.onnx --input models/$MODEL/test_data_set_0/input_0.pb"
build/tcc run "models/$MODEL/model.onnx" --input "models/$MODEL/test_data_set_0/input_0.pb"
echo "== against the reference output (models/$MODEL/test_data_set_0/output_0.pb)"
echo "$MODEL" > out/demo-list.txt
build/tcc-conformance --tcc build/tcc --data models --list out/demo-list.txt
