// ort_bench.js — median latency of one ONNX model in onnxruntime-node (1 thread, zero inputs).

const ort = require('onnxruntime-node');
async function main() {
  const [path, runs] = [process.argv[2], +(process.argv[3] || 1000)];
  const s = await ort.InferenceSession.create(path, {intraOpNumThreads: 1, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential'});
  const feeds = {};
  for (const name of s.inputNames) {
    const meta = s.inputMetadata ? s.inputMetadata.find(m => m.name === name) : null;
    const dims = meta && meta.shape ? meta.shape : null;
    feeds[name] = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  }
  for (let i = 0; i < 20; i++) await s.run(feeds);
  const t = [];
  for (let i = 0; i < runs; i++) { const a = process.hrtime.bigint(); await s.run(feeds); t.push(Number(process.hrtime.bigint() - a) / 1e6); }
  t.sort((a, b) => a - b);
  console.log(`${path}: ${runs} runs, median ${t[runs >> 1].toFixed(4)} ms, min ${t[0].toFixed(4)} ms`);
}
main();
