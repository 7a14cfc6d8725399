// Scenario 2 — CPU-bound speed-up: elements that burn ~2 ms each on 2 workers, elements per second
// and the speed-up over a sequential loop in the same run, for our thread and process schedulers
// beside piscina and the raw peers.
//   node bench/cpu.mjs [--quick] [--n=500] [--run=0]
import Piscina from 'piscina';
import * as lib from '../dist/esm/index.js';
import { drain, emitResult, isMain, parseArgs, range, timeLibraries, tryScheduler, windowed } from './lib/common.mjs';
import { rawFork, rawThreads } from './lib/raw.mjs';
import { burnInc } from './workers/tasks.mjs';

const { fromIterable, mapParallel, task } = lib;
const tasksUrl = new URL('./workers/tasks.mjs', import.meta.url);
const WORKERS = 2;
const IN_FLIGHT = 64;

export const meta = {
  id: 'cpu',
  title: 'CPU-bound speed-up',
  about:
    `Each element busy-loops for 2 ms of wall time (on \`performance.now()\`, so another process on the shared machine ` +
    `cannot lengthen an element, only delay it), on ${WORKERS} workers; the sequential loop runs the same function ` +
    `on the main thread. The figure is the speed-up over the sequential loop of the same run (its elements/s over the ` +
    `loop's); ${WORKERS}.0× is the limit. Pools are made and warmed before the clock starts.`,
  unit: 'elements/s',
  better: 'higher',
  rows: {
    'sequential': 'sequential loop on the main thread',
    'thread': 'ours: thread scheduler, `batchSize: 1`',
    'process': 'ours: process scheduler, `batchSize: 1`',
    'piscina': 'piscina, one element per task',
    'raw-thread': 'raw `worker_threads` postMessage',
    'raw-fork': 'raw `fork` (JSON)',
  },
  ratios: [
    ['thread', 'sequential'],
    ['process', 'sequential'],
    ['piscina', 'sequential'],
    ['raw-thread', 'sequential'],
    ['raw-fork', 'sequential'],
  ],
  targets: [
    { ratio: ['thread', 'sequential'], min: 1.85, label: 'CPU-bound 2 ms elements, 2 workers: thread speed-up over sequential' },
    { ratio: ['process', 'sequential'], min: 1.85, label: 'CPU-bound 2 ms elements, 2 workers: process speed-up over sequential' },
  ],
};

const libraries = {
  async sequential() {
    return {
      async run(n) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += burnInc(i);
        return { count: n, sum };
      },
    };
  },
  thread: () => ours('thread'),
  process: () => ours('process'),
  async piscina() {
    const pool = new Piscina({ filename: tasksUrl.href, name: 'burnInc', minThreads: WORKERS, maxThreads: WORKERS });
    return { run: (n) => windowed(n, IN_FLIGHT, (i) => pool.run(i)), close: () => pool.destroy() };
  },
  async 'raw-thread'() {
    const pool = await rawThreads(WORKERS);
    return { run: (n) => windowed(n, IN_FLIGHT, (i) => pool.call('burnInc', i)), close: () => pool.close() };
  },
  async 'raw-fork'() {
    const pool = await rawFork(WORKERS, 'json');
    return { run: (n) => windowed(n, IN_FLIGHT, (i) => pool.call('burnInc', i)), close: () => pool.close() };
  },
};

async function ours(kind) {
  const made = await tryScheduler(lib, kind, { workers: WORKERS });
  if (made.skipped) return made;
  const scheduler = made.scheduler;
  const fn = task(tasksUrl, 'burnInc');
  return {
    run: (n) => drain(fromIterable(range(n)).pipe(mapParallel(fn, { scheduler, workers: WORKERS }))),
    close: () => scheduler.close(),
  };
}

export async function runOnce({ quick = false, n = quick ? 20 : 500, run = 0 } = {}) {
  const rows = await timeLibraries(libraries, {
    run,
    plan: () => ({ count: n, warm: 4 * WORKERS }),
    describe: (r) => `${Math.round(r.value).toLocaleString('en-US')} elements/s, ${r.ms.toFixed(0)} ms`,
  });
  return { scenario: meta.id, params: { n, workers: WORKERS, burnMs: 2 }, rows };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  emitResult(await runOnce({ quick: !!args.quick, n: args.n && Number(args.n), run: Number(args.run ?? 0) }));
}
