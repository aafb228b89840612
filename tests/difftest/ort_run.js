// ort_run.js — the ONNX Runtime side of the differential test (tests/difftest/run.py).
// A small server: reads one JSON request per line on stdin,
//   {"model": PATH, "inputs": [{"name", "dtype", "shape", "file"}], "outdir": DIR}
// (each input file holds the tensor's dense little-endian bytes), runs the model on
// the CPU with 1 thread, writes DIR/ort_<i>.bin per output and answers one line:
//   {"ok": true, "outputs": [{"name", "dtype", "shape", "file"}]}  or  {"ok": false, "error": TEXT}.
// One process serves many graphs: Node and ORT start-up would otherwise dominate.
const ort = require(process.env.ORT_NODE_MODULE || 'onnxruntime-node');
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array, float16: Uint16Array,
};

function load(inp) {
  const buf = fs.readFileSync(inp.file);
  const A = ARRAYS[inp.dtype];
  if (!A) throw new Error(`unsupported input dtype ${inp.dtype}`);
  // Copy into an aligned buffer: a Buffer's offset into its pool need not be aligned.
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  return new ort.Tensor(inp.dtype, new A(ab), inp.shape);
}

async function session(model, level) {
  return ort.InferenceSession.create(model, {intraOpNumThreads: 1, interOpNumThreads: 1,
    graphOptimizationLevel: level, executionMode: 'sequential', logSeverityLevel: 3});
}

async function serve(req) {
  const feeds = {};
  for (const inp of req.inputs) feeds[inp.name] = load(inp);
  let s, res;
  try {
    // 'basic' (constant folding, no fusions) by default: ORT's extended fusions change
    // results, e.g. an f64 MatMul followed by a scalar Mul becomes com.microsoft.FusedMatMul
    // whose alpha is an f32 attribute, off by 1e-8 (tests/difftest/allowlist.txt).
    s = await session(req.model, process.env.ORT_OPT_LEVEL || 'basic');
    res = await s.run(feeds);
  } catch (e) {
    // ORT's own graph rewrites can fail (a fused com.microsoft op with no kernel for
    // the type): the unoptimized graph is the reference then.
    s = await session(req.model, 'disabled');
    res = await s.run(feeds);
  }
  const outputs = [];
  s.outputNames.forEach((name, i) => {
    const t = res[name];
    const file = path.join(req.outdir, `ort_${i}.bin`);
    const d = t.data;
    fs.writeFileSync(file, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    outputs.push({name, dtype: t.type, shape: t.dims.map(Number), file});
  });
  if (s.release) await s.release();
  return {ok: true, outputs};
}

const rl = readline.createInterface({input: process.stdin});
let chain = Promise.resolve();
rl.on('line', line => {
  chain = chain.then(async () => {
    let ans;
    try { ans = await serve(JSON.parse(line)); } catch (e) { ans = {ok: false, error: String(e && e.message || e)}; }
    process.stdout.write(JSON.stringify(ans) + '\n');
  });
});
