#!/bin/sh
# Golden IR tests: each tests/ir/<pass>/<case>.tir holds
#   // RUN: <tcc opt flags, e.g. -passes=fold-constants,dce; %S is the
#   //       test's folder>
#   <input IR>
#   // EXPECT:
#   <the exact IR `tcc opt` prints>            (or)
#   // EXPECT-ERROR:
#   <the exact diagnostics, and the exit status must be 1>
# usage: run_golden.sh TCC [FILE.tir...]   (UPDATE=1 rewrites the expectations)
set -u
TCC=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
# Only files with an EXPECT section are golden tests (roundtrip/ files are
# checked by the IR unit tests).
[ $# -gt 0 ] || set -- $(grep -l '^// EXPECT' "$(dirname "$0")"/*/*.tir)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
for f in "$@"; do
  # %S: the test's own folder (a file the flags name)
  flags=$(sed -n '1s|^// RUN: *||p' "$f" | sed "s|%S|$(cd "$(dirname "$f")" && pwd)|g")
  mode=$(grep -m1 -o '^// EXPECT\(-ERROR\)\?:' "$f")
  awk '/^\/\/ EXPECT(-ERROR)?:/{exit} NR>1{print}' "$f" > "$tmp/in.tir"
  awk 'found{print} /^\/\/ EXPECT(-ERROR)?:/{found=1}' "$f" > "$tmp/want"
  # shellcheck disable=SC2086
  (cd "$tmp" && "$TCC" opt in.tir $flags > out 2> err); status=$?
  if [ "$mode" = "// EXPECT-ERROR:" ]; then got=err; want_status=1; else got=out; want_status=0; fi
  if [ "${UPDATE:-0}" = 1 ]; then
    { awk '/^\/\/ EXPECT(-ERROR)?:/{exit} {print}' "$f"; echo "$mode"; cat "$tmp/$got"; } > "$tmp/new" && cp "$tmp/new" "$f"
    cp "$tmp/$got" "$tmp/want"
  fi
  if [ $status -eq $want_status ] && diff -u "$tmp/want" "$tmp/$got" > "$tmp/diff"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $f (exit status $status, expected $want_status)"; cat "$tmp/diff" "$tmp/err" 2>/dev/null | head -40
  fi
done
echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
