// Scenario 2 — CPU-bound speed-up and scaling: elements that burn ~2 ms each, on each of a list of
// worker counts, elements per second and the speed-up over a sequential loop in the same run, for
// our thread and process schedulers beside piscina and the raw peers.
//   node bench/cpu.mjs [--quick] [--n=500] [--run=0] [--workers=1,2,4,8]
// The worker counts default to 1, 2, 4, ... up to the cores of the machine (and the core count
// itself): 1 and 2 on a 2-core machine.
import Piscina from 'piscina';
import * as lib from '../dist/esm/index.js';
import { REPEAT_BUDGET_MS, cores, drain, emitResult, isMain, parseArgs, range, timeLibraries, tryScheduler, windowed } from './lib/common.mjs';
import { rawFork, rawThreads } from './lib/raw.mjs';
import { burnInc } from './workers/tasks.mjs';

const { fromIterable, mapParallel, task } = lib;
const tasksUrl = new URL('./workers/tasks.mjs', import.meta.url);
const IN_FLIGHT = 64;
/** Timed runs of each row (see timeLibraries): 500 elements of 2 ms take 0.5–1 s, so most rows get two or three. */
const REPEAT = 3;
/** The worker count the targets are set for. */
const TARGET_WORKERS = 2;
const LIBS = {
  thread: 'ours: thread scheduler, `batchSize: 1`',
  process: 'ours: process scheduler, `batchSize: 1`',
  piscina: 'piscina, one element per task',
  'raw-thread': 'raw `worker_threads` postMessage',
  'raw-fork': 'raw `fork` (JSON)',
};

/** `--workers=1,2,4,8` as a sorted list of counts, or the default for this machine. */
export function workerCounts(arg) {
  if (arg === undefined || arg === true) {
    const counts = [];
    for (let k = 1; k <= cores; k *= 2) counts.push(k);
    if (counts.at(-1) !== cores) counts.push(cores);
    return counts;
  }
  const counts = String(arg).split(',').map(Number);
  for (const k of counts) if (!Number.isInteger(k) || k < 1) throw new Error(`--workers: expected a comma-separated list of integers ≥ 1, got "${arg}"`);
  return [...new Set(counts)].sort((a, b) => a - b);
}

const rowId = (libId, k) => `${libId}-w${k}`;
/** The speed-up a perfect pool of `k` workers can reach on this machine. */
const bound = (k) => Math.min(k, cores);

/** The scenario's description for the runner; its rows depend on the worker counts (`--workers`). */
export function meta({ workers } = {}) {
  const counts = workerCounts(workers);
  const ids = counts.flatMap((k) => Object.keys(LIBS).map((l) => rowId(l, k)));
  return {
    id: 'cpu',
    title: 'CPU-bound speed-up and scaling',
    about:
      'Each element busy-loops for 2 ms of wall time (on `performance.now()`, so another process on the shared machine ' +
      'cannot lengthen an element, only delay it), on each worker count in turn; the sequential loop runs the same ' +
      "function on the main thread. The figure is the speed-up over the sequential loop of the same run (its " +
      "elements/s over the loop's); the bound is the worker count or the machine's cores, whichever is fewer. Pools are " +
      `made and warmed before the clock starts, then timed up to ${REPEAT} times while the timed runs take under ${REPEAT_BUDGET_MS / 1000} s together (and to an odd count); ` +
      'the figure in a run is their median. The worker counts are `--workers` (`npm run bench -- --workers 1,2,4,8`); ' +
      'by default 1, 2, 4, … up to the cores of the machine.',
    unit: 'elements/s',
    better: 'higher',
    speedUp: true,
    rows: {
      sequential: 'sequential loop on the main thread',
      ...Object.fromEntries(counts.flatMap((k) => Object.entries(LIBS).map(([l, label]) => [rowId(l, k), `${label}, ${k} worker${k === 1 ? '' : 's'}`]))),
    },
    ratios: ids.map((id) => [id, 'sequential']),
    targets: [
      {
        ratio: [rowId('thread', TARGET_WORKERS), 'sequential'],
        min: 1.85,
        label: 'CPU-bound 2 ms elements, 2 workers: thread speed-up over sequential',
        context: [{ ratio: [rowId('raw-thread', TARGET_WORKERS), 'sequential'], label: 'raw `worker_threads`' }],
      },
      {
        ratio: [rowId('process', TARGET_WORKERS), 'sequential'],
        min: 1.85,
        label: 'CPU-bound 2 ms elements, 2 workers: process speed-up over sequential',
        // The machine may not let any process pool reach it: then raw `fork` written plainly bounds it.
        orBound: { ratio: [rowId('raw-fork', TARGET_WORKERS), 'sequential'], label: 'raw `fork`' },
        context: [{ ratio: [rowId('raw-fork', TARGET_WORKERS), 'sequential'], label: 'raw `fork`' }],
      },
    ],
  };
}

function libraries(counts) {
  const all = {
    async sequential() {
      return {
        async run(n) {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += burnInc(i);
          return { count: n, sum };
        },
      };
    },
  };
  for (const k of counts) {
    all[rowId('thread', k)] = () => ours('thread', k);
    all[rowId('process', k)] = () => ours('process', k);
    all[rowId('piscina', k)] = async () => {
      const pool = new Piscina({ filename: tasksUrl.href, name: 'burnInc', minThreads: k, maxThreads: k });
      return { workers: k, run: (n) => windowed(n, IN_FLIGHT, (i) => pool.run(i)), close: () => pool.destroy() };
    };
    all[rowId('raw-thread', k)] = async () => {
      const pool = await rawThreads(k);
      return { workers: k, run: (n) => windowed(n, IN_FLIGHT, (i) => pool.call('burnInc', i)), close: () => pool.close() };
    };
    all[rowId('raw-fork', k)] = async () => {
      const pool = await rawFork(k, 'json');
      return { workers: k, run: (n) => windowed(n, IN_FLIGHT, (i) => pool.call('burnInc', i)), close: () => pool.close() };
    };
  }
  return all;
}

async function ours(kind, workers) {
  const made = await tryScheduler(lib, kind, { workers });
  if (made.skipped) return made;
  const scheduler = made.scheduler;
  const fn = task(tasksUrl, 'burnInc');
  return {
    workers,
    run: (n) => drain(fromIterable(range(n)).pipe(mapParallel(fn, { scheduler, workers }))),
    close: () => scheduler.close(),
  };
}

export async function runOnce({ quick = false, n = quick ? 20 : 500, run = 0, workers } = {}) {
  const counts = workerCounts(workers);
  const rows = await timeLibraries(libraries(counts), {
    run,
    plan: (id, made) => ({ count: n, warm: 4 * (made.workers ?? 1), repeat: quick ? 1 : REPEAT }),
    describe: (r) => `${Math.round(r.value).toLocaleString('en-US')} elements/s, ${r.ms.toFixed(0)} ms`,
  });
  const bounds = Object.fromEntries(counts.flatMap((k) => Object.keys(LIBS).map((l) => [rowId(l, k), bound(k)])));
  return { scenario: 'cpu', params: { n, workers: counts, burnMs: 2, cores, bounds }, rows };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  emitResult(await runOnce({ quick: !!args.quick, n: args.n && Number(args.n), run: Number(args.run ?? 0), workers: args.workers }));
}
