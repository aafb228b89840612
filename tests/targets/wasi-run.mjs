// Runs a WASI command module under Node.js: node wasi-run.mjs module.wasm [args...]
// (the folder of the module is preopened).  Exits with the module's status.
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WASI } from 'node:wasi';

const [wasm, ...args] = process.argv.slice(2);
const dir = dirname(wasm);
const wasi = new WASI({ version: 'preview1', args: [wasm, ...args], env: {},
  preopens: { [dir]: dir }, returnOnExit: true });
const mod = await WebAssembly.compile(await readFile(wasm));
const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());
process.exitCode = wasi.start(inst);
