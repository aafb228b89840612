// ort_reference.js — runs the block in onnxruntime-node and writes its outputs, for regenerate.sh.
//   node ort_reference.js MODEL.onnx RAW_DIR
// Reads RAW_DIR/<input>.bin and .shape (x, past_key, past_value float32; position_ids int64),
// writes RAW_DIR/<output>.bin and .shape for y, present_key, present_value.
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [model, raw] = [process.argv[2], process.argv[3]];
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: 1});
  const feeds = {};
  for (const name of s.inputNames) {
    const shape = fs.readFileSync(path.join(raw, name + '.shape'), 'utf8').trim().split(/\s+/)
      .filter(x => x !== '').map(Number);
    const b = fs.readFileSync(path.join(raw, name + '.bin'));
    const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
    feeds[name] = name === 'position_ids'
      ? new ort.Tensor('int64', new BigInt64Array(buf), shape)
      : new ort.Tensor('float32', new Float32Array(buf), shape);
  }
  const out = await s.run(feeds);
  for (const name of s.outputNames) {
    const t = out[name];
    fs.writeFileSync(path.join(raw, name + '.bin'),
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    fs.writeFileSync(path.join(raw, name + '.shape'), t.dims.join(' '));
  }
}
main().catch(e => { console.error(`ort_reference.js: ${e.message || e}`); process.exit(1); });
