#!/bin/sh
# Rebuilds models/llm_block: model.onnx and its data sets, the expected
# outputs computed by ONNX Runtime (npm onnxruntime-node 1.30.0, installed
# into ORT_DIR once; needs Node.js and npm).
#   sh models/llm_block/regenerate.sh [ORT_DIR]
# Data set K is (seq, past): 0 (1,0), 1 (7,0), 2 (1,9), 3 (4,12), 4 (16,16).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ORT=${1:-$here/../../build/ort}
mkdir -p "$ORT"
if [ ! -d "$ORT/node_modules/onnxruntime-node" ]; then
  (cd "$ORT" && ONNXRUNTIME_NODE_INSTALL=skip npm install --silent onnxruntime-node@1.30.0 >/dev/null)
fi
cp "$here/ort_reference.js" "$ORT/"
py=/usr/bin/python3
$py "$here/make_llm_block.py" model "$here"
k=0
for sp in 1:0 7:0 1:9 4:12 16:16; do
  $py "$here/make_llm_block.py" inputs "$here" "${sp%:*}" "${sp#*:}" $k
  node "$ORT/ort_reference.js" "$here/model.onnx" "$here/raw_$k"
  $py "$here/make_llm_block.py" outputs "$here" $k
  rm -r "$here/raw_$k"
  k=$((k + 1))
done
echo "models/llm_block: model.onnx and test_data_set_0..$((k - 1)) written (outputs from onnxruntime-node)"
