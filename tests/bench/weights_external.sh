#!/bin/sh
# weights_external.sh — what --weights=external costs at run time: each
# network benchmarked with its weights in the object and in a blob,
# alternated ROUNDS times (tcc bench --iters 50 each), and the median of
# the medians of each (a benchmark, not a test; docs/performance.md).
# usage: weights_external.sh TCC MODELS_DIR [ROUNDS] [NETWORKS...]
#   MODELS_DIR: the networks' export (ctest networks/x86_64 makes build/models-out)
set -eu
TCC=$1 M=$2 ROUNDS=${3:-5}
shift 2; [ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- resnet18 mobilenet_v2 transformer_encoder
T=$(mktemp); trap 'rm -f "$T"' EXIT
for net in "$@"; do
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    for w in embedded external; do
      printf '%s %s ' "$net" "$w" >> "$T"
      "$TCC" bench "$M/$net/model.onnx" --weights=$w --iters 50 --json -q |
        /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['median_ms'])" >> "$T"
    done
    r=$((r + 1))
  done
done
/usr/bin/python3 - "$T" "$@" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    net, where, ms = line.split()
    runs[net, where].append(float(ms))
for net in sys.argv[2:]:
    e, x = statistics.median(runs[net, "embedded"]), statistics.median(runs[net, "external"])
    print(f"{net}: embedded {e:.3f} ms, external {x:.3f} ms, external/embedded {x / e:.3f}")
PY
