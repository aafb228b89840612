// run.js — loads mlp.wasm (a WASI reactor: the model, tcc's runtime and
// glue.c), runs it on input.bin and prints the output into <pre id="out">.
// The module does no I/O, so the WASI imports wasi-libc still references
// get a shim: every call answers ENOSYS (52), proc_exit throws.
const ENOSYS = 52;
const wasi = new Proxy({}, {
  get: (_, name) => name === 'proc_exit'
    ? (code) => { throw new Error(`proc_exit(${code})`); }
    : () => ENOSYS,
});

const out = document.getElementById('out');
try {
  const [wasm, input] = await Promise.all([
    fetch('mlp.wasm').then((r) => r.arrayBuffer()),
    fetch('input.bin').then((r) => r.arrayBuffer()),
  ]);
  const { instance } = await WebAssembly.instantiate(wasm, { wasi_snapshot_preview1: wasi });
  const m = instance.exports;
  m._initialize();
  if (input.byteLength !== m.model_input_bytes())
    throw new Error(`input.bin has ${input.byteLength} bytes, the model takes ${m.model_input_bytes()}`);
  new Uint8Array(m.memory.buffer, m.model_input(), input.byteLength).set(new Uint8Array(input));
  const t0 = performance.now();
  const status = m.model_run();
  const ms = performance.now() - t0;
  if (status !== 0) throw new Error(`mlp_run failed with status ${status}`);
  const probs = new Float32Array(m.memory.buffer, m.model_output(), m.model_output_bytes() / 4);
  out.textContent = `status ${status}, ${ms.toFixed(2)} ms\nprobs: ${Array.from(probs, (v) => v.toPrecision(7)).join(' ')}`;
} catch (e) {
  out.textContent = `error: ${e.message}`;
}
