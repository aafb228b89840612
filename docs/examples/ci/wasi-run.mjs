// wasi-run.mjs — runs a WASI command module under Node.js with one folder
// preopened: node --no-warnings wasi-run.mjs app.wasm DIR [args...]
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
const [wasm, dir, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [wasm, dir, ...args], env: {},
  preopens: { [dir]: dir }, returnOnExit: true });
const mod = await WebAssembly.compile(await readFile(wasm));
const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());
process.exitCode = wasi.start(inst);
