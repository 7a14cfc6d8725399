// Scenario 1 — dispatch cost: a trivial function over 200k elements on 2 workers, elements per
// second for each of our schedulers beside every peer. Each library gets its pool made and warmed
// before the clock starts; the order of the libraries rotates from run to run.
//   node bench/dispatch.mjs [--quick] [--n=200000] [--run=0]
import { Readable } from 'node:stream';
import { from, mergeMap } from 'rxjs';
import pMap from 'p-map';
import { Effect, Stream } from 'effect';
import Piscina from 'piscina';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import * as lib from '../dist/esm/index.js';
import { REPEAT_BUDGET_MS, chunks, drain, emitResult, isMain, parseArgs, range, timeLibraries, tryScheduler, windowed } from './lib/common.mjs';
import { rawFork, rawThreads } from './lib/raw.mjs';

const { fromIterable, mapParallel, task } = lib;
const tasksUrl = new URL('./workers/tasks.mjs', import.meta.url);
const WORKERS = 2;
/**
 * Warm-up runs of each library before it is timed, each a new pipeline (a new subscription, a new
 * p-map call...): V8 settles a library's code only once it has seen a few of them, and a streaming
 * service subscribes many.
 */
const WARM_RUNS = 3;
/**
 * Timed runs of each library after its warm-up, each a new pipeline, while they take less than
 * REPEAT_BUDGET_MS together (bench/lib/common.mjs): its figure is their median. A row of 200k
 * elements takes 30–200 ms, as long as the host's speed holds still.
 */
const REPEAT = 5;
/**
 * Each target's row of ours with the peers it is measured against: timed in alternating rounds
 * (`interleave`, bench/lib/common.mjs), so that a ratio's two rows see the same seconds of the host.
 * No two rows of a group share code (one row of ours in each).
 */
const PAIRED = [
  ['task', 'readable-map', 'mergeMap', 'p-map', 'effect'],
  ['thread-b1', 'raw-thread'],
  ['thread-auto', 'piscina-batch'],
  ['process-b1', 'raw-fork-advanced'],
];
/** Calls kept in flight by the benchmark for pools without a bounded input of their own. */
const IN_FLIGHT = 64;
const HAND_BATCH = 1000;
/** Elements `Stream.fromIterable` reads per pull by default (Effect's `Stream.DefaultChunkSize`). */
const EFFECT_CHUNK = Stream.DefaultChunkSize;
/**
 * Rows that send one message per element run a quarter of N: at 10k–100k elements/s, 200k would
 * cost up to 20 s each per run, and their rate does not depend on N (what is in flight is bounded).
 * Everyone else runs all N, RxJS `mergeMap` included, whose rate does depend on N (its backlog is an
 * array drained by shift()).
 */
const SHORTER = new Set(['piscina', 'tinypool', 'workerpool', 'thread-b1', 'process-b1', 'raw-thread', 'raw-fork-json', 'raw-fork-advanced']);

export const meta = {
  id: 'dispatch',
  title: 'Dispatch cost',
  about:
    `A trivial function (\`x + 1\`; \`async\` on the event loop) over N elements on ${WORKERS} workers, in elements per second ` +
    `(higher is better). Pools are made and warmed (${WARM_RUNS} runs of half the measured count, each a new pipeline, for every ` +
    `library, so that each is measured at its steady rate once V8 has optimized it for more than one subscription) before ` +
    `the clock starts, and closed after it stops. Each is then timed up to ${REPEAT} times, each a new pipeline, while its ` +
    `timed runs take under ${REPEAT_BUDGET_MS / 1000} s together (and to an odd count), and its figure in a run is the median of those (on a shared host one row's timed runs differ by tens of percent, ` +
    `their rates are kept in bench/results.json; one timed run per row would make each ratio as noisy as two such samples). ` +
    `A target's row of ours and the peers it is measured against (${PAIRED.map((g) => g.map((id) => `\`${id}\``).join(', ')).join('; ')}) ` +
    `are made and warmed together and then timed in alternating rounds, one run of each per round, so that a ratio's two rows see the ` +
    `same seconds of the host; every other row is timed alone. Pools without a ` +
    `bounded input of their own (piscina, tinypool, workerpool, the raw peers) are fed with at most ${IN_FLIGHT} calls in ` +
    `flight, as a streaming application would; ours, p-map, \`Readable.map\` and Effect bound their own input; RxJS \`mergeMap\` ` +
    `gets \`from(generator)\`, which it reads whole into its buffer. Ours read the source with \`fromIterable\`. ` +
    `Effect runs the same async function as its users would call one (\`Effect.promise\`) in \`Stream.mapEffect\`, from ` +
    `\`Stream.fromIterable\` (which pulls the generator ${EFFECT_CHUNK.toLocaleString('en-US')} items at a time, its default chunk), to \`Stream.runFold\`. ` +
    `Rows that send one message per element (ours with \`batchSize: 1\`, piscina, tinypool, workerpool, the raw peers) ` +
    `run N/4 elements: their rate does not depend on N, and 200k would take up to 20 s each; every other row runs all N. ` +
    `Two extra rows of ours bound what batching can reach: the stage engine alone (\`x + 1\` run inline by the sync ` +
    `scheduler: no transport and no scheduling; each element is called and emitted within the source's \`next\`, the ` +
    `engine's shortest path, which a stage whose elements queue for busy workers does not take) and the thread ` +
    `scheduler given hand-made batches of ${HAND_BATCH} (one element of ours is an array, as piscina's task is).`,
  unit: 'elements/s',
  better: 'higher',
  rows: {
    'task': 'ours: `mapParallel(async fn)`, task scheduler',
    'engine': "ours: the stage engine alone (`x + 1` inline, `scheduler: 'sync'`)",
    'thread-b1': 'ours: thread scheduler, `batchSize: 1`',
    'thread-auto': "ours: thread scheduler, `batchSize: 'auto'`",
    'thread-batch': `ours: thread scheduler, hand-made batches of ${HAND_BATCH}`,
    'process-b1': 'ours: process scheduler, `batchSize: 1`',
    'process-auto': "ours: process scheduler, `batchSize: 'auto'`",
    'mergeMap': 'RxJS `from()` + `mergeMap(async fn, 2)`',
    'readable-map': '`Readable.from().map(async fn, { concurrency: 2 })`',
    'p-map': 'p-map, `concurrency: 2`',
    'effect': '`Stream.fromIterable(gen)` + `Stream.mapEffect(x => Effect.promise(() => fn(x)), { concurrency: 2 })` (Effect)',
    'piscina': 'piscina, one element per task',
    'piscina-batch': `piscina, hand-made batches of ${HAND_BATCH}`,
    'tinypool': 'tinypool, one element per task',
    'workerpool': 'workerpool, one element per task',
    'raw-thread': `raw \`worker_threads\` postMessage, round robin, ${IN_FLIGHT} in flight`,
    'raw-fork-json': `raw \`fork\`, JSON serialization, ${IN_FLIGHT} in flight`,
    'raw-fork-advanced': `raw \`fork\`, advanced serialization, ${IN_FLIGHT} in flight`,
  },
  ratios: [
    ['task', 'readable-map'],
    ['task', 'mergeMap'],
    ['task', 'p-map'],
    ['task', 'effect'],
    ['thread-b1', 'raw-thread'],
    ['thread-b1', 'piscina'],
    ['thread-auto', 'piscina-batch'],
    ['thread-auto', 'raw-thread'],
    ['engine', 'piscina-batch'],
    ['thread-batch', 'piscina-batch'],
    ['thread-auto', 'engine'],
    ['process-b1', 'raw-fork-advanced'],
    ['process-b1', 'raw-fork-json'],
    ['process-auto', 'raw-fork-advanced'],
  ],
  targets: [
    { ratio: ['task', 'readable-map'], min: 1.0, label: 'task scheduler, trivial async fn, 2 workers vs `Readable.map`' },
    { ratio: ['task', 'mergeMap'], min: 7, label: 'task scheduler, trivial async fn, 2 workers vs RxJS `mergeMap`' },
    {
      ratio: ['task', 'p-map'],
      min: 1.5,
      label: 'task scheduler, trivial async fn, 2 workers vs p-map',
      context: [{ ratio: ['engine', 'p-map'], label: 'the engine alone (no scheduling)' }],
    },
    { ratio: ['task', 'effect'], min: 1.5, label: 'task scheduler, trivial async fn, 2 workers vs Effect `Stream.mapEffect`, concurrency 2' },
    { ratio: ['thread-b1', 'raw-thread'], min: 0.7, label: 'thread, `batchSize` 1 vs raw worker_threads postMessage' },
    {
      ratio: ['thread-auto', 'piscina-batch'],
      min: 1.0,
      label: 'thread, automatic batching vs piscina with hand-made batches of 1000',
      context: [
        { ratio: ['engine', 'piscina-batch'], label: 'the engine alone' },
        { ratio: ['thread-batch', 'piscina-batch'], label: 'our transport, hand-made batches' },
      ],
    },
    { ratio: ['process-b1', 'raw-fork-advanced'], min: 0.7, label: 'process, `batchSize` 1 vs raw `fork` with advanced serialization' },
  ],
};

const asyncInc = async (x) => x + 1;
const syncInc = (x) => x + 1;

/** Each library: make (and warm) a pool, then `run(n)` resolves with { count, sum }. */
const libraries = {
  async task() {
    return { run: (n) => drain(fromIterable(range(n)).pipe(mapParallel(asyncInc, { workers: WORKERS }))) };
  },
  async engine() {
    return { run: (n) => drain(fromIterable(range(n)).pipe(mapParallel(syncInc, { workers: WORKERS, scheduler: 'sync' }))) };
  },
  /** Measured in a scenario of its own (bench/engine.mjs), beside `engine` alone: not a row here. */
  async 'engine-baseline'() {
    const url = process.env.RXJS_PARALLEL_BENCH_BASELINE;
    if (!url) return { skipped: process.env.RXJS_PARALLEL_BENCH_BASELINE_ERROR ?? 'no baseline build (bench/run.mjs makes one)' };
    const base = await import(url);
    return { run: (n) => drain(base.fromIterable(range(n)).pipe(base.mapParallel(syncInc, { workers: WORKERS, scheduler: 'sync' }))) };
  },
  'thread-b1': () => ours('thread', 1),
  'thread-auto': () => ours('thread', 'auto'),
  async 'thread-batch'() {
    const made = await tryScheduler(lib, 'thread', { workers: WORKERS });
    if (made.skipped) return made;
    const scheduler = made.scheduler;
    const incBatch = task(tasksUrl, 'incBatch');
    return {
      async run(n) {
        const r = await drain(fromIterable(chunks(range(n), HAND_BATCH)).pipe(mapParallel(incBatch, { scheduler, workers: WORKERS })));
        return { count: r.count, sum: r.sum };
      },
      close: () => scheduler.close(),
    };
  },
  'process-b1': () => ours('process', 1),
  'process-auto': () => ours('process', 'auto'),
  async mergeMap() {
    return { run: (n) => drain(from(range(n)).pipe(mergeMap(asyncInc, WORKERS))) };
  },
  async 'readable-map'() {
    return {
      async run(n) {
        let count = 0;
        let sum = 0;
        for await (const v of Readable.from(range(n)).map(asyncInc, { concurrency: WORKERS })) {
          count++;
          sum += v;
        }
        return { count, sum };
      },
    };
  },
  async 'p-map'() {
    return {
      async run(n) {
        const out = await pMap(range(n), asyncInc, { concurrency: WORKERS });
        let sum = 0;
        for (const v of out) sum += v;
        return { count: out.length, sum };
      },
    };
  },
  async effect() {
    return {
      run: (n) =>
        Effect.runPromise(
          Stream.fromIterable(range(n)).pipe(
            Stream.mapEffect((x) => Effect.promise(() => asyncInc(x)), { concurrency: WORKERS }),
            Stream.runFold(
              () => ({ count: 0, sum: 0 }),
              (acc, v) => {
                acc.count++;
                acc.sum += v;
                return acc;
              },
            ),
          ),
        ),
    };
  },
  async piscina() {
    const pool = new Piscina({ filename: tasksUrl.href, name: 'inc', minThreads: WORKERS, maxThreads: WORKERS });
    return { run: (n) => windowed(n, IN_FLIGHT, (i) => pool.run(i)), close: () => pool.destroy() };
  },
  async 'piscina-batch'() {
    const pool = new Piscina({ filename: tasksUrl.href, name: 'incBatch', minThreads: WORKERS, maxThreads: WORKERS });
    return {
      async run(n) {
        const batches = [...chunks(range(n), HAND_BATCH)];
        const sums = await windowed(batches.length, 2 * WORKERS, (b) =>
          pool.run(batches[b]).then((out) => out.reduce((a, v) => a + v, 0)),
        );
        return { count: n, sum: sums.sum, batches: sums.count };
      },
      close: () => pool.destroy(),
    };
  },
  async tinypool() {
    const pool = new Tinypool({ filename: tasksUrl.href, name: 'inc', minThreads: WORKERS, maxThreads: WORKERS });
    return { run: (n) => windowed(n, IN_FLIGHT, (i) => pool.run(i)), close: () => pool.destroy() };
  },
  async workerpool() {
    const pool = workerpool.pool(new URL('./workers/workerpool.mjs', import.meta.url).pathname, {
      minWorkers: WORKERS,
      maxWorkers: WORKERS,
      workerType: 'thread',
    });
    return { run: (n) => windowed(n, IN_FLIGHT, (i) => pool.exec('inc', [i])), close: () => pool.terminate() };
  },
  async 'raw-thread'() {
    const pool = await rawThreads(WORKERS);
    return { run: (n) => windowed(n, IN_FLIGHT, (i) => pool.call('inc', i)), close: () => pool.close() };
  },
  'raw-fork-json': () => rawForkLibrary('json'),
  'raw-fork-advanced': () => rawForkLibrary('advanced'),
};

async function ours(kind, batchSize) {
  const made = await tryScheduler(lib, kind, { workers: WORKERS });
  if (made.skipped) return { skipped: made.skipped };
  const scheduler = made.scheduler;
  const inc = task(tasksUrl, 'inc');
  return {
    run: (n) => drain(fromIterable(range(n)).pipe(mapParallel(inc, { scheduler, workers: WORKERS, batchSize }))),
    close: () => scheduler.close(),
  };
}

async function rawForkLibrary(serialization) {
  const pool = await rawFork(WORKERS, serialization);
  return { run: (n) => windowed(n, IN_FLIGHT, (i) => pool.call('inc', i)), close: () => pool.close() };
}

export async function runOnce({ quick = false, n = quick ? 2_000 : 200_000, run = 0, only, warm, warmRuns, repeat = REPEAT, interleave = PAIRED } = {}) {
  const rows = await timeLibraries(libraries, {
    ids: Object.keys(libraries).filter((id) => (only ? only.includes(id) : id !== 'engine-baseline')),
    run,
    interleave,
    plan(id) {
      const count = SHORTER.has(id) ? Math.ceil(n / 4) : n;
      // Half the measured count first, WARM_RUNS times, for every library: V8 optimizes a long
      // per-element path (ours) only after ~100k elements and a few subscriptions, a short one
      // sooner; the clock should see each at its steady rate.
      return { count, warm: quick ? Math.min(count, 200) : (warm ?? Math.ceil(count / 2)), warmRuns: quick ? 1 : (warmRuns ?? WARM_RUNS), repeat: quick ? 1 : repeat };
    },
    describe: (r) => `${Math.round(r.value).toLocaleString('en-US')} elements/s`,
  });
  const baseline = process.env.RXJS_PARALLEL_BENCH_BASELINE_REV;
  return { scenario: meta.id, params: { n, workers: WORKERS, inFlight: IN_FLIGHT, handBatch: HAND_BATCH, ...(baseline && only?.includes('engine-baseline') ? { baseline } : {}) }, rows };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  emitResult(await runOnce({ quick: !!args.quick, n: args.n && Number(args.n), run: Number(args.run ?? 0), only: args.libs?.split(',') }));
}
