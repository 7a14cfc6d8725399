// Scenario 3 — few long elements: 8 × 60 ms and 2 × 600 ms of CPU-bound work on 2 workers, wall
// time to the last result, for our thread and process schedulers beside piscina (threads) and raw
// `fork` (processes), on a cold private pool (made inside the clock) and on a warm shared one.
//   node bench/long.mjs [--quick] [--run=0] [--libs=8x60-thread-warm,8x60-piscina-warm]
import Piscina from 'piscina';
import * as lib from '../dist/esm/index.js';
import { drain, emitResult, isMain, parseArgs, timeLibraries, tryScheduler, windowed } from './lib/common.mjs';
import { rawFork } from './lib/raw.mjs';

const { fromIterable, mapParallel, task } = lib;
const tasksUrl = new URL('./workers/tasks.mjs', import.meta.url);
const WORKERS = 2;
/** Calls kept in flight for the peers without a bounded input of their own: all of them, here. */
const IN_FLIGHT = 64;
/** The two shapes: `n` elements that each busy-loop `ms` (quick runs scale `ms` by 0.1). */
const SHAPES = [
  { id: '8x60', n: 8, ms: 60 },
  { id: '2x600', n: 2, ms: 600 },
];
const MODES = ['warm', 'cold'];
const LIBS = {
  thread: 'ours: thread scheduler',
  piscina: 'piscina',
  process: 'ours: process scheduler',
  fork: 'raw `fork` (JSON), round robin',
};
/** The peer each of ours is compared with. */
const PEER = { thread: 'piscina', process: 'fork' };
/** Wall time of `n` elements of `ms` on WORKERS workers, spread perfectly: the bound. */
const ideal = ({ n, ms }) => Math.ceil(n / WORKERS) * ms;

const rowId = (shape, lib, mode) => `${shape.id}-${lib}-${mode}`;

export const meta = {
  id: 'long',
  title: 'Few long elements',
  about:
    `A handful of CPU-bound elements, each a busy loop on \`performance.now()\` for its length, on ${WORKERS} workers: ` +
    `${SHAPES.map((s) => `${s.n} × ${s.ms} ms`).join(' and ')} (ideal wall times ${SHAPES.map((s) => `${ideal(s)} ms`).join(' and ')}: ` +
    'each worker busy from the first element to the last). ' +
    'The figure is the wall time from the start of the run to the last result, in ms (lower is better). ' +
    '*Warm*: a shared pool (ours: `threadScheduler` / `processScheduler({ workers: 2 })` passed as `scheduler`; ' +
    'piscina `minThreads = maxThreads = 2`; raw: 2 forked children) made, and every worker started and given a ' +
    'zero-length element, before the clock. *Cold*: the pool is made inside the clock (ours: `scheduler: \'thread\' | ' +
    '\'process\'`, a private pool made on subscribe; piscina: `new Piscina`; raw: `fork` without waiting for the ' +
    'children), so the time includes starting it. Ours read the elements with `fromIterable` into ' +
    "`mapParallel(task(url, 'burnFor'), { scheduler, workers: 2 })` with the other options at their defaults; the peers " +
    'are given every element at once (piscina hands a task to an idle thread; raw `fork` deals them round robin, which ' +
    'for equal elements is the ideal spread). Where work is not spread, one worker runs more elements in turn while ' +
    'the other idles, and the wall time grows by whole elements: the last two columns say how many elements the ' +
    `busiest worker ran (spread perfectly: ${SHAPES.map((s) => Math.ceil(s.n / WORKERS)).join(' and ')}) and how many workers ran any. ` +
    'Ratios are ours over the peer in the same run ' +
    '(wall time: lower is better; the targets on elements/s invert it).',
  unit: 'ms',
  better: 'lower',
  extra: { busiest: { label: 'elements on the busiest worker', digits: 0 }, workersUsed: { label: 'workers used', digits: 0 } },
  rows: Object.fromEntries(
    SHAPES.flatMap((s) =>
      MODES.flatMap((mode) =>
        Object.entries(LIBS).map(([l, label]) => [rowId(s, l, mode), `${s.n} × ${s.ms} ms, ${mode}: ${label}`]),
      ),
    ),
  ),
  ratios: SHAPES.flatMap((s) => MODES.flatMap((mode) => Object.entries(PEER).map(([ours, peer]) => [rowId(s, ours, mode), rowId(s, peer, mode)]))),
  targets: [
    {
      ratio: ['8x60-thread-warm', '8x60-piscina-warm'],
      invert: true,
      min: 0.95,
      label: '8 × 60 ms CPU elements, 2 warm threads: elements/s vs piscina (its wall time ÷ ours)',
      context: [
        { row: '8x60-thread-warm', extra: 'busiest', label: 'elements on our busiest thread' },
        { row: '8x60-piscina-warm', extra: 'busiest', label: "on piscina's" },
      ],
    },
    {
      ratio: ['2x600-thread-cold', '2x600-piscina-cold'],
      max: 1.1,
      label: '2 × 600 ms CPU elements, 2 cold threads: wall time (600 ms + cold start) vs piscina',
      context: [
        { row: '2x600-thread-cold', extra: 'busiest', label: 'elements on our busiest thread' },
        { row: '2x600-piscina-cold', extra: 'busiest', label: "on piscina's" },
      ],
    },
  ],
};

/** The elements of a shape: `[i, ms]`, which `burnFor` turns into `[i + 1, worker]`. */
const elements = (n, ms) => Array.from({ length: n }, (_, i) => [i, ms]);

/**
 * Counts the elements each worker ran: `take([value, worker])` returns the value (for the checksum);
 * `done(result)` adds the count of the busiest worker, and how many workers ran any, to a run's result.
 */
function tally() {
  const perWorker = new Map();
  return {
    take([value, worker]) {
      perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
      return value;
    },
    done: (result) => ({ ...result, busiest: Math.max(0, ...perWorker.values()), workersUsed: perWorker.size }),
  };
}

/** Our stage over `n` elements of `ms` on `scheduler`, tallied. */
async function runOurs(burnFor, scheduler, n, ms) {
  const t = tally();
  return t.done(await drain(fromIterable(elements(n, ms)).pipe(mapParallel(burnFor, { scheduler, workers: WORKERS })), t.take));
}

/** A peer given all `n` elements of `ms` at once through `call(element)`, tallied. */
async function runPeer(call, n, ms) {
  const t = tally();
  return t.done(await windowed(n, IN_FLIGHT, (i) => call([i, ms]).then(t.take)));
}

/** Each row: `make(ms)` resolves (outside the clock) with `{ run(n), close() }`. */
function makers() {
  const burnFor = task(tasksUrl, 'burnFor');
  const piscinaOptions = { filename: tasksUrl.href, name: 'burnFor', minThreads: WORKERS, maxThreads: WORKERS };
  const ours = (kind, mode) => async (ms) => {
    if (mode === 'cold') return { run: (n) => runOurs(burnFor, kind, n, ms) };
    const made = await tryScheduler(lib, kind, { workers: WORKERS });
    if (made.skipped) return made;
    const scheduler = made.scheduler;
    await runOurs(burnFor, scheduler, 2 * WORKERS, 0); // both workers started, the task module imported
    return { run: (n) => runOurs(burnFor, scheduler, n, ms), close: () => scheduler.close() };
  };
  return {
    thread: { warm: ours('thread', 'warm'), cold: ours('thread', 'cold') },
    process: { warm: ours('process', 'warm'), cold: ours('process', 'cold') },
    piscina: {
      async warm(ms) {
        const pool = new Piscina(piscinaOptions);
        await runPeer((x) => pool.run(x), 2 * WORKERS, 0);
        return { run: (n) => runPeer((x) => pool.run(x), n, ms), close: () => pool.destroy() };
      },
      async cold(ms) {
        let pool;
        return {
          run(n) {
            pool = new Piscina(piscinaOptions);
            return runPeer((x) => pool.run(x), n, ms);
          },
          close: () => pool?.destroy(),
        };
      },
    },
    fork: {
      async warm(ms) {
        const pool = await rawFork(WORKERS, 'json');
        await runPeer((x) => pool.call('burnFor', x), 2 * WORKERS, 0);
        return { run: (n) => runPeer((x) => pool.call('burnFor', x), n, ms), close: () => pool.close() };
      },
      async cold(ms) {
        let pool;
        return {
          async run(n) {
            pool = await rawFork(WORKERS, 'json', { wait: false });
            return runPeer((x) => pool.call('burnFor', x), n, ms);
          },
          close: () => pool?.close(),
        };
      },
    },
  };
}

export async function runOnce({ quick = false, run = 0, only } = {}) {
  const scale = quick ? 0.1 : 1;
  const make = makers();
  const libraries = {};
  const shapeOf = {};
  for (const shape of SHAPES) {
    for (const mode of MODES) {
      for (const l of Object.keys(LIBS)) {
        const id = rowId(shape, l, mode);
        libraries[id] = () => make[l][mode](shape.ms * scale);
        shapeOf[id] = shape;
      }
    }
  }
  const rows = await timeLibraries(libraries, {
    ids: Object.keys(libraries).filter((id) => !only || only.includes(id)),
    run,
    plan: (id) => ({ count: shapeOf[id].n, warm: 0 }),
    describe: (r, count) => `${r.ms.toFixed(0)} ms for ${count} elements; the busiest worker ran ${r.busiest}, ${r.workersUsed} of ${WORKERS} ran any`,
  });
  // timeLibraries reports elements/s; this scenario's figure is the wall time.
  for (const r of rows) if (!r.skipped) r.value = r.ms;
  return {
    scenario: meta.id,
    params: { workers: WORKERS, shapes: SHAPES.map((s) => `${s.n}×${s.ms * scale}ms`), scale, ideal: SHAPES.map((s) => ideal(s) * scale) },
    rows,
  };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  emitResult(await runOnce({ quick: !!args.quick, run: Number(args.run ?? 0), only: args.libs?.split(',') }));
}
