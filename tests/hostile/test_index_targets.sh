#!/bin/sh
# Out-of-range indices at run time on every target: the generated code must
# stop at the Gather (TCC_ERR_INDEX_OUT_OF_RANGE, reported by name through
# ctx->error) and in-range ids (negative ones too) must give the rows.
# usage: test_index_targets.sh TCC TARGET...
set -u
TCC=$1; shift
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
/usr/bin/python3 "$HERE/../cli/make_bad_models.py" "$T" || exit 1
M=$T/gather_ids.onnx
WANT="$M: node 'embed' (Gather, opset 13): error: the compiled model stopped at this node: an index is out of range, TCC_ERR_INDEX_OUT_OF_RANGE (status 6)"
ROWS="output 0 'y' f32[3,4]: 0 1 2 3 36 37 38 39 36 37 38 39"
pass=0; fail=0
for t in "$@"; do
  timeout 300 "$TCC" run "$M" -target="$t" --input "$T/ids_bad.pb" > "$T/out" 2> "$T/err"; st=$?
  grep -v ': note: ' "$T/err" > "$T/err2"   # Cortex-M boards print a memory note
  if [ $st -eq 1 ] && [ "$(cat "$T/err2")" = "$WANT" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $t: bad ids: exit $st"; cat "$T/err"; fi
  timeout 300 "$TCC" run "$M" -target="$t" --input "$T/ids_ok.pb" > "$T/out" 2> "$T/err"; st=$?
  if [ $st -eq 0 ] && [ "$(cat "$T/out")" = "$ROWS" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $t: good ids: exit $st"; cat "$T/out" "$T/err"; fi
done
echo "index checks on targets: $pass passed, $fail failed"
[ $fail -eq 0 ]
