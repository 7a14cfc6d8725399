// Scenario 5 — the four-technique pipeline: four stages, each doing CPU work and waiting on I/O
// once per call and once per item, run four ways: a sequential loop, a pool of whole-chain workers,
// four parallel stages with bounded queues, and the same over batches. Items per second, and the
// speed-up of each technique over the sequential loop of the same run, with CPU utilisation.
//   node bench/pipeline.mjs [--quick] [--n=1000] [--run=0] [--threads=2]
import Piscina from 'piscina';
import * as lib from '../dist/esm/index.js';
import { chunks, cores, drain, emitResult, isMain, parseArgs, range, timeLibraries, tryScheduler, windowed } from './lib/common.mjs';

const { fromIterable, mapParallel, task } = lib;
const pipelineUrl = new URL('./workers/pipeline.mjs', import.meta.url);
/** Workers per stage, and whole-chain workers of the pool. */
const WORKERS = 5;
const BATCH = 16;
/**
 * Threads of the scheduler that all four stages share. Every call spends most of its time awaiting
 * a timer, so one thread interleaves the calls of many leases; only the CPU segments hold a thread,
 * and one thread per core already keeps every core busy. More threads only time-slice busy loops.
 */
const POOL_THREADS = cores;
/** The sequential loop runs this share of N: its rate is constant in N (79 ms an item), and all N would take 79 s. */
const SEQUENTIAL_SHARE = 0.1;

export const meta = {
  id: 'pipeline',
  title: 'The four-technique pipeline',
  about:
    'Four stages A–D. Per call: 1.5 ms of CPU, then an I/O wait of 36 ms (stage A) or 9 ms (B–D); per item: another ' +
    '1.5 ms of CPU and a 1 ms wait; ±20 % jitter on every segment from a seeded PRNG keyed on (stage, item or batch, ' +
    'segment), so every technique does the same work. CPU is a busy loop on `performance.now()` in a worker thread ' +
    '(the sequential loop burns it on the main thread), waits are timers. ' +
    `Sequential: one item at a time through the chain (over the first ${SEQUENTIAL_SHARE * 100} % of N: its rate is constant, ` +
    `and all N would take 79 s a run). Pool: piscina with ${WORKERS} threads, each running the whole chain for one item at a ` +
    `time. Pipeline: \`fromIterable\` and four \`mapParallel\` stages of ${WORKERS} workers (\`scheduler\`: one shared ` +
    `\`threadScheduler\` of ${POOL_THREADS} threads = cores: a thread interleaves the waits of all the calls it hosts and ` +
    `only the CPU segments occupy it, so one thread per core keeps the cores busy). Batches + pipeline: the same four ` +
    `stages over batches of ${BATCH} items made at the source (\`fromIterable\` over a chunking generator, so the credit ` +
    `chain is intact), each stage call paying the per-call cost once per batch; \`batchSize\` does not fit this model: ` +
    `it only packs items into one message, and \`fn\` still runs (and pays the per-call cost) once per item. ` +
    'The bound is what the parameters allow on this many cores (the slowest stage, or all the CPU work spread over the ' +
    'cores), before jitter and overheads. CPU is the process CPU time (all threads) over wall time, in cores.',
  unit: 'items/s',
  better: 'higher',
  speedUp: true,
  rows: {
    'sequential': 'sequential loop',
    'pool': `pool of ${WORKERS} whole-chain workers (piscina)`,
    'pipeline': `pipeline: 4 stages × ${WORKERS} workers (ours, thread)`,
    'batches': `batches of ${BATCH} + pipeline (ours, thread)`,
  },
  extra: { cpuCores: 'CPU (cores)' },
  ratios: [
    ['pool', 'sequential'],
    ['pipeline', 'sequential'],
    ['batches', 'sequential'],
  ],
  targets: [
    { ratio: ['pipeline', 'sequential'], min: 8.5, label: 'four-technique pipeline: pipeline over sequential' },
    { ratio: ['batches', 'sequential'], min: 20, label: 'four-technique pipeline: batches + pipeline over sequential' },
  ],
};

/** Upper bounds on each technique's speed-up from the parameters alone. */
export function bounds(P, nCores = cores) {
  const seq = P.stages * (P.callCpu + P.itemCpu + P.itemWait) + P.callWait.reduce((a, b) => a + b, 0);
  const cpu = P.stages * (P.callCpu + P.itemCpu);
  const cpuBatched = P.stages * (P.callCpu / BATCH + P.itemCpu);
  const slowestStage = Math.max(...P.callWait.map((w) => P.callCpu + w + P.itemCpu + P.itemWait));
  const slowestBatchStage = Math.max(...P.callWait.map((w) => P.callCpu + w + BATCH * (P.itemCpu + P.itemWait)));
  return {
    sequentialMsPerItem: seq,
    pool: Math.min(WORKERS, (nCores * seq) / cpu),
    pipeline: Math.min((WORKERS * seq) / slowestStage, (nCores * seq) / cpu),
    batches: Math.min((WORKERS * BATCH * seq) / slowestBatchStage, (nCores * seq) / cpuBatched),
  };
}

export async function runOnce({ quick = false, n = quick ? 64 : 1000, run = 0, threads = POOL_THREADS, scheduler: schedulerKind = 'thread', only } = {}) {
  const scale = quick ? 0.1 : 1;
  process.env.RXJS_PARALLEL_BENCH_PIPELINE = JSON.stringify({ scale }); // read by pipeline.mjs here and in every worker
  const { P, chain } = await import('./workers/pipeline.mjs');
  const nSeq = Math.max(8, Math.round(n * SEQUENTIAL_SHARE));

  const libraries = {
    async sequential() {
      return {
        n: nSeq,
        async run(count) {
          let sum = 0;
          for (let i = 0; i < count; i++) sum += await chain(i);
          return { count, sum };
        },
      };
    },
    async pool() {
      const pool = new Piscina({ filename: pipelineUrl.href, name: 'chain', minThreads: WORKERS, maxThreads: WORKERS });
      return { run: (count) => windowed(count, 2 * WORKERS, (i) => pool.run(i)), close: () => pool.destroy() };
    },
    pipeline: () => ours(false),
    batches: () => ours(true),
  };

  async function ours(batched) {
    let scheduler = 'task';
    if (schedulerKind !== 'task') {
      const made = await tryScheduler(lib, schedulerKind, { workers: threads });
      if (made.skipped) return made;
      scheduler = made.scheduler;
    }
    const opts = { scheduler, workers: WORKERS };
    const stages = batched ? ['batchA', 'batchB', 'batchC', 'batchD'] : ['stageA', 'stageB', 'stageC', 'stageD'];
    const [a, b, c, d] = stages.map((name) => mapParallel(task(pipelineUrl, name), opts));
    const source = (count) => (batched ? [...chunks(range(count), BATCH)].map((items, i) => [i, items]) : range(count));
    return {
      run: (count) =>
        drain(fromIterable(source(count)).pipe(a, b, c, d), batched ? ([, items]) => items : undefined),
      close: () => (typeof scheduler === 'string' ? undefined : scheduler.close()),
    };
  }

  const rows = await timeLibraries(libraries, {
    ids: Object.keys(libraries).filter((id) => !only || only.includes(id)),
    run,
    plan(id, made) {
      const count = made.n ?? n;
      // start and warm the workers (the sequential loop has none)
      return { count, warm: id === 'sequential' ? 0 : quick ? WORKERS : 2 * WORKERS, expectedSum: (count * (count - 1)) / 2 };
    },
    describe: (r, count) => `${r.value.toFixed(1)} items/s, ${count} items in ${(r.ms / 1000).toFixed(2)} s, CPU ${r.cpuCores.toFixed(2)} cores`,
  });
  return { scenario: meta.id, params: { n, nSequential: nSeq, workers: WORKERS, batch: BATCH, poolThreads: threads, cores, scheduler: schedulerKind, ...P, bounds: bounds(P) }, rows };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  emitResult(
    await runOnce({
      quick: !!args.quick,
      n: args.n && Number(args.n),
      run: Number(args.run ?? 0),
      threads: args.threads ? Number(args.threads) : undefined,
      scheduler: args.scheduler,
      only: args.libs?.split(','),
    }),
  );
}
