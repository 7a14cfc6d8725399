// Produces the samples in docs/monitoring.md: a four-stage job watched by a Monitor, drawn by
// progress() onto a captured terminal. Prints a frame from the middle of the job, the last frame,
// and monitor.report() as JSON.   npm run build && node examples/monitor/sample.mjs
import { fromIterable, mapParallel, filterParallel, eachParallel, run, Monitor, progress } from '../../dist/esm/index.js';

const N = 3000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fetchRow = async (id) => (await sleep(4), { id, body: `row ${id}`.repeat(20) }); // I/O, ~4 ms
const parse = (row) => ({ id: row.id, words: row.body.split(' ').length }); // a little CPU
const keep = (row) => row.id % 4 !== 0;
const save = async () => sleep(2); // I/O, ~2 ms: the slowest stage

const frames = [];
const terminal = { isTTY: true, columns: 100, write: (text) => frames.push(text) };
const monitor = new Monitor();
progress(monitor, { total: N, stream: terminal });

await run(
  fromIterable(Array.from({ length: N }, (_, id) => id)).pipe(
    mapParallel(fetchRow, { workers: 8, monitor, name: 'fetch' }),
    mapParallel(parse, { workers: 2, monitor, name: 'parse' }),
    filterParallel(keep, { workers: 2, monitor, name: 'keep' }),
    eachParallel(save, { workers: 2, monitor, name: 'save' }),
  ),
);
await new Promise((resolve) => setImmediate(resolve)); // the final snapshot comes a microtask after completion

const plain = (frame) => frame.replace(/\x1b\[\d*[A-Z]/g, '').trimEnd(); // what the terminal shows
console.log(`--- a frame in the middle of the job (${frames.length} frames in all)`);
console.log(plain(frames[Math.floor(frames.length / 2)]));
console.log('--- the last frame');
console.log(plain(frames.at(-1)));
console.log('--- monitor.report()');
console.log(JSON.stringify(monitor.report(), null, 2));
