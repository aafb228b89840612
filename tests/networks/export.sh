# export.sh — sourced by the network tests: skip without torch, export the
# networks that are missing or older than the exporter.
#   networks_export LABEL OUT_DIR NAMES...   (exits the caller on skip/failure)
EXPORTER=$(cd "$(dirname "$0")/../.." && pwd)/models/export_networks.py
PY=/usr/bin/python3

networks_export() {
  label=$1 out=$2
  shift 2
  if ! $PY -c "import torch, torchvision" 2>/dev/null; then
    echo "$label: SKIP: python3-torch / python3-torchvision are not installed (tests/install-deps.sh --all)"
    exit 77
  fi
  mkdir -p "$out"
  stale=""
  for n in "$@"; do
    ref=$out/$n/test_data_set_0/output_0.pb
    if [ ! -f "$ref" ] || [ "$EXPORTER" -nt "$ref" ]; then stale="$stale $n"; fi
  done
  [ -n "$stale" ] || return 0
  echo "$label: exporting$stale"
  # shellcheck disable=SC2086
  $PY "$EXPORTER" "$out" $stale >"$out.export.log" 2>&1 || {
    cat "$out.export.log"; echo "$label: FAIL: the export failed"; exit 1; }
}
