#!/bin/sh
# Code generation in units and shared functions (docs/backend.md): a model
# of 24 residual blocks of the same shape, big enough to be compiled as
# several units, whose objects are merged into one.  Checks that the object
# is the same at -j 1 and -j 2, that it holds several units (one FILE symbol
# each), that the 24 blocks call one shared function (none with
# -share-functions=0), that both objects (and the one with
# --weights=external) run and match PyTorch on each TARGET, and that an
# rt.check in the last unit still stops the run at its node.
# usage: test_units.sh TCC TARGET...      (exit 77 without torch)
set -u
TCC=$1; shift
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "no torch: skipped"; exit 77; }
/usr/bin/python3 "$HERE/units_model.py" "$T" 24 || exit 1
M=$T/units.onnx
fail=0
for t in "$@"; do
  "$TCC" compile "$M" -target="$t" -j 1 -o "$T/j1-$t" && "$TCC" compile "$M" -target="$t" -j 2 -o "$T/j2-$t" || {
    echo "FAIL $t: compile"; fail=1; continue; }
  if ! cmp -s "$T/j1-$t/units.o" "$T/j2-$t/units.o"; then echo "FAIL $t: -j 1 and -j 2 objects differ"; fail=1; fi
  units=$(readelf -sW "$T/j1-$t/units.o" | grep -c ' FILE ')
  if [ "$units" -lt 3 ]; then echo "FAIL $t: $units unit(s), want 3 or more"; fail=1; fi
  shared=$(readelf -sW "$T/j1-$t/units.o" | grep -c ' units_shared[0-9]*$')
  calls=$(readelf -rW "$T/j1-$t/units.o" | grep -c ' units_shared0 ')
  if [ "$shared" -ne 1 ] || [ "$calls" -ne 24 ]; then
    echo "FAIL $t: $shared shared function(s) called $calls times, want 1 called by the 24 blocks"; fail=1
  fi
  for flag in -share-functions=1 -share-functions=0 --weights=external; do
    rm -rf "$T/out"
    if "$TCC" run "$M" -target="$t" $flag --input "$T/x.pb" --input "$T/idx.pb" \
          --output-dir "$T/out" >/dev/null 2>"$T/err" &&
        line=$(/usr/bin/python3 "$HERE/../networks/compare.py" "units/$t/$flag" "$T/ref.pb" "$T/out/output_0.pb"); then
      echo "$line units=$units shared=$shared"
    else
      cat "$T/err"; echo "FAIL $t: run or compare ($flag)"; fail=1
    fi
  done
  "$TCC" compile "$M" -target="$t" -share-functions=0 -o "$T/ns-$t" || { echo "FAIL $t: compile -share-functions=0"; fail=1; }
  if readelf -sW "$T/ns-$t/units.o" | grep -q ' units_shared'; then
    echo "FAIL $t: a shared function with -share-functions=0"; fail=1
  fi
  want="$M: node 'pick' (Gather, opset 13): error: the compiled model stopped at this node: an index is out of range, TCC_ERR_INDEX_OUT_OF_RANGE (status 6)"
  "$TCC" run "$M" -target="$t" --input "$T/x.pb" --input "$T/idx_bad.pb" >/dev/null 2>"$T/err"; st=$?
  if [ $st -ne 1 ] || [ "$(cat "$T/err")" != "$want" ]; then
    echo "FAIL $t: bad index: exit $st"; cat "$T/err"; fail=1
  fi
done
[ $fail -eq 0 ] && echo "units: all targets pass"
exit $fail
