// ort_bench.js — latency of one ONNX model in onnxruntime-node (CPU), for bench_vs_ort.sh.
//   node ort_bench.js MODEL.onnx ITERS THREADS [OUT.raw] [IN.raw:1x3x224x224 ...]
// Inputs are float32 raw files by position over the session's inputs (tests/bench/tensors.py
// raw makes them; an input not given is zeros). Writes output 0 as raw float32 to OUT.raw
// (unless it is '-'), then prints one JSON object: median_ms, min_ms, max_ms, iters, threads.
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [path, iters, threads] = [process.argv[2], +(process.argv[3] || 100), +(process.argv[4] || 1)];
  const outPath = process.argv[5] || '-';
  const given = process.argv.slice(6);
  const s = await ort.InferenceSession.create(path, {intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential'});
  const feeds = {};
  s.inputNames.forEach((name, i) => {
    if (i < given.length) {
      const [file, dims] = given[i].split(':');
      const shape = dims === 'scalar' ? [] : dims.split('x').map(Number);
      const b = fs.readFileSync(file);
      const data = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
      feeds[name] = new ort.Tensor('float32', data, shape);
    } else {
      const meta = s.inputMetadata ? s.inputMetadata.find(m => m.name === name) : null;
      const shape = meta && meta.shape ? meta.shape : [];
      feeds[name] = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    }
  });
  // Warm-up as tcc bench's: a few untimed calls (ORT allocates its arena on the first).
  let out;
  for (let i = 0; i < 3; i++) out = await s.run(feeds);
  if (outPath !== '-') {
    const y = out[s.outputNames[0]].data;
    fs.writeFileSync(outPath, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  }
  const t = [];
  for (let i = 0; i < iters; i++) {
    const a = process.hrtime.bigint();
    await s.run(feeds);
    t.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  t.sort((a, b) => a - b);
  const median = (t[(iters - 1) >> 1] + t[iters >> 1]) / 2;
  console.log(JSON.stringify({model: path, median_ms: median, min_ms: t[0], max_ms: t[iters - 1],
    iters, threads}));
}
main().catch(e => { console.error(`ort_bench.js: ${e.message || e}`); process.exit(1); });
