#!/bin/sh
# The browser example (docs/browser/) in headless Chromium: build it (the
# sample MLP for wasm32 + runtime + glue as mlp.wasm), serve it from a
# python http.server on 127.0.0.1, load the page, dump the DOM once its
# script has run, and compare the printed probabilities with the model's
# reference output (max abs error <= 1e-4 * max|reference|, like compare.py).
#
# usage: browser.sh TCC        Exit 0 on a match, 1 otherwise, 77 without chromium.
set -u
[ $# -eq 1 ] || { echo "usage: $0 TCC" >&2; exit 2; }
TCC=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "browser: SKIP: chromium is not installed (tests/install-deps.sh --all)"; exit 77; }

WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

sh "$ROOT/docs/browser/build.sh" "$TCC" "$WORK/site" >"$WORK/build.log" 2>&1 ||
  { cat "$WORK/build.log"; echo "browser: FAIL: building the example failed"; exit 1; }

# Port 0: the system picks a free one; http.server prints it.
(cd "$WORK/site" && exec /usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1) \
  >"$WORK/http.log" 2>&1 &
SERVER=$!
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$WORK/http.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$WORK/http.log"; echo "browser: FAIL: the HTTP server did not start"; exit 1; }

# --virtual-time-budget waits for the page's network loads but not for the
# off-thread WebAssembly compile, so on a loaded machine the DOM can be dumped
# while it still says "running…" (seen once in CI).  A page that printed
# neither probabilities nor an error is loaded again, up to 5 times.
line=""
for attempt in 1 2 3 4 5; do
  rm -rf "$WORK/profile"
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$WORK/profile" --virtual-time-budget=10000 \
    --dump-dom "http://127.0.0.1:$port/index.html" >"$WORK/dom.html" 2>"$WORK/chromium.log"
  line=$(grep -e '^probs:' -e 'error:' "$WORK/dom.html" | sed 's/<.*//; s/.*>//')
  [ -n "$line" ] && break
  echo "browser: attempt $attempt: the page had not run yet"
done
case $line in
  probs:*) ;;
  "") cat "$WORK/dom.html" "$WORK/chromium.log"; echo "browser: FAIL: the page printed no output in 5 loads"; exit 1 ;;
  *) echo "browser: FAIL: the page says: $line"; exit 1 ;;
esac
echo "browser: page says: $line"

/usr/bin/python3 - "$ROOT/models/mlp/test_data_set_0/output_0.pb" "$line" <<'PY'
import sys
import numpy as np
from onnx import TensorProto, numpy_helper
t = TensorProto()
t.ParseFromString(open(sys.argv[1], "rb").read())
ref = numpy_helper.to_array(t).astype(np.float64).ravel()
got = np.array([float(v) for v in sys.argv[2].split()[1:]])
if got.shape != ref.shape:
    sys.exit(f"browser: FAIL: {got.size} numbers, expected {ref.size}")
err = float(np.max(np.abs(got - ref)))
ok = err <= 1e-4 * float(np.max(np.abs(ref)))
print(f"browser: {'ok' if ok else 'FAIL'}: {got.size} outputs, max abs error {err:.3g} vs the reference")
sys.exit(0 if ok else 1)
PY
