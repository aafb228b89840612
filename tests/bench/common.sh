# common.sh — sourced by the benchmarks (bench_vs_ort.sh, tune_vs_ort.sh):
# onnxruntime-node, each network's calls per round and label, and the JSON
# and statistics helpers.  Needs ORT (its folder) and HERE set.

# onnxruntime-node into $ORT once; ort_bench.js beside node_modules so that
# require() finds it.
ort_install() {
  if [ ! -d "$ORT/node_modules/onnxruntime-node" ]; then
    mkdir -p "$ORT"
    (cd "$ORT" && ONNXRUNTIME_NODE_INSTALL=skip npm install --silent onnxruntime-node@1.30.0 >/dev/null)
  fi
  # ort_bench.js next to node_modules so that require() finds onnxruntime-node.
  cp "$HERE/ort_bench.js" "$ORT/ort_bench.js"
}

# Timed calls per round: about a second of each side per round.
iters_of() {
  case $1 in
    resnet18|efficientnet_b0|matmul1024) echo 20 ;;
    mobilenet_v2|squeezenet1_1|shufflenet_v2_x1_0) echo 50 ;;
    transformer_encoder) echo 200 ;;
    lstm) echo 500 ;;
    mlp) echo 5000 ;;
    *) echo 20 ;;
  esac
}
label_of() {
  case $1 in
    resnet18) echo "ResNet-18" ;;
    mobilenet_v2) echo "MobileNetV2" ;;
    squeezenet1_1) echo "SqueezeNet 1.1" ;;
    shufflenet_v2_x1_0) echo "ShuffleNetV2 x1.0" ;;
    efficientnet_b0) echo "EfficientNet-B0" ;;
    transformer_encoder) echo "Transformer encoder layer (seq 128, d 256)" ;;
    lstm) echo "LSTM (2 layers, 32 steps)" ;;
    mlp) echo "MLP 784-128-10" ;;
    matmul1024) echo "MatMul 1024x1024x1024" ;;
    *) echo "$1" ;;
  esac
}
json() { sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" "$1"; }
# median of the numbers on stdin (mean of the two middle ones for an even count)
median() { sort -g | awk '{ v[NR] = $1 } END { print (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2 }'; }
minimum() { sort -g | head -n 1; }

