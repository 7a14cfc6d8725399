// How long a new worker thread takes to load the library's worker runtime: from `new Worker` to its
// first message (the runtime's hello), for the runtime as the ES modules tsc writes
// (dist/esm/worker/node-thread-entry.js and what it imports) and as the one CommonJS file
// scripts/build.mjs bundles (node-thread-entry.cjs, the one the thread pools start), beside a bare
// thread that posts at once (what Node itself takes). Each sample is a new thread in a fresh Node
// process; the forms take turns.
//   npm run build && node bench/entry-load.mjs [--samples=9]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, parseArgs } from './lib/common.mjs';

const forms = {
  'bare thread (posts at once)': 'eval:require("node:worker_threads").parentPort.postMessage(0)',
  'ES modules (node-thread-entry.js)': new URL('../dist/esm/worker/node-thread-entry.js', import.meta.url).href,
  'one CommonJS bundle (node-thread-entry.cjs)': new URL('../dist/esm/worker/node-thread-entry.cjs', import.meta.url).href,
};

// One sample, in a child process of its own: a cold module cache, as a new pool's first thread has.
const probe = `
const { Worker } = require('node:worker_threads');
const start = performance.now();
const target = process.argv[1];
const worker = target.startsWith('eval:') ? new Worker(target.slice(5), { eval: true }) : new Worker(new URL(target));
worker.once('message', () => { process.stdout.write(String(performance.now() - start)); worker.terminate(); });
`;

const samples = Number(parseArgs().samples ?? 9);
const times = Object.fromEntries(Object.keys(forms).map((name) => [name, []]));
for (let i = 0; i < samples; i++) {
  for (const [name, url] of Object.entries(forms)) {
    const out = spawnSync(process.execPath, ['-e', probe, url], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`${name}: ${out.stderr}`);
    times[name].push(Number(out.stdout));
  }
}
console.log(`node ${process.version}, ${samples} samples each (${fileURLToPath(new URL('..', import.meta.url))})`);
for (const [name, xs] of Object.entries(times)) {
  console.log(`${name}: median ${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`);
}
