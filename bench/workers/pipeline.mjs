// The four-technique pipeline's work (bench/pipeline.mjs). Each stage call does CPU work and waits
// on I/O once per call and again per item, with ±jitter from a seeded PRNG keyed on
// (seed, stage, call or item, segment): the same item gets the same durations whichever technique,
// thread or process runs it. Parameters come from the environment variable
// RXJS_PARALLEL_BENCH_PIPELINE (JSON), which worker threads and child processes inherit.
import { burn, hashUniform, sleep } from '../lib/common.mjs';

/** The parameters; scale multiplies every duration (quick runs use 0.1). */
export const DEFAULTS = Object.freeze({
  stages: 4,
  callCpu: 1.5,
  callWait: [36, 9, 9, 9],
  itemCpu: 1.5,
  itemWait: 1,
  jitter: 0.2,
  seed: 20240601,
  scale: 1,
});

export const P = { ...DEFAULTS, ...JSON.parse(process.env.RXJS_PARALLEL_BENCH_PIPELINE ?? '{}') };

const CALL_CPU = 0;
const CALL_WAIT = 1;
const ITEM_CPU = 2;
const ITEM_WAIT = 3;
/** Batch calls get their own key space, so a batch's per-call jitter is not item 0's. */
const BATCH_KEY = 0x40000000;

/** A duration with ±P.jitter, fixed by the keys. */
function jittered(ms, stage, key, segment) {
  return ms * P.scale * (1 - P.jitter + 2 * P.jitter * hashUniform(P.seed, stage, key, segment));
}

async function segment(stage, key, cpuSegment, cpuMs, waitMs) {
  burn(jittered(cpuMs, stage, key, cpuSegment));
  await sleep(jittered(waitMs, stage, key, cpuSegment + 1));
}

/** One call of stage `s` over one item: the per-call cost, then the per-item cost. */
export async function runStage(s, item) {
  await segment(s, item, CALL_CPU, P.callCpu, P.callWait[s]);
  await segment(s, item, ITEM_CPU, P.itemCpu, P.itemWait);
  return item;
}

/** One call of stage `s` over a batch of items: the per-call cost once, then each item's. */
export async function runStageBatch(s, batch, batchIndex) {
  await segment(s, BATCH_KEY + batchIndex, CALL_CPU, P.callCpu, P.callWait[s]);
  for (const item of batch) await segment(s, item, ITEM_CPU, P.itemCpu, P.itemWait);
  return batch;
}

/** The whole chain for one item: what the sequential loop and each whole-chain pool worker run. */
export async function chain(item) {
  for (let s = 0; s < P.stages; s++) await runStage(s, item);
  return item;
}

// One export per stage, for TaskRefs. A batch is `[batchIndex, items]`, so its per-call jitter has a key.
export const stageA = (item) => runStage(0, item);
export const stageB = (item) => runStage(1, item);
export const stageC = (item) => runStage(2, item);
export const stageD = (item) => runStage(3, item);
export const batchA = ([b, items]) => runStageBatch(0, items, b).then((out) => [b, out]);
export const batchB = ([b, items]) => runStageBatch(1, items, b).then((out) => [b, out]);
export const batchC = ([b, items]) => runStageBatch(2, items, b).then((out) => [b, out]);
export const batchD = ([b, items]) => runStageBatch(3, items, b).then((out) => [b, out]);

/** Mean milliseconds of each quantity, for the first-principles bounds. */
export function means(p = P) {
  const callWait = p.callWait.reduce((a, b) => a + b, 0);
  return {
    cpuPerItem: p.stages * (p.callCpu + p.itemCpu) * p.scale,
    cpuPerItemBatched: (batch) => p.stages * (p.callCpu / batch + p.itemCpu) * p.scale,
    sequentialPerItem: (p.stages * (p.callCpu + p.itemCpu + p.itemWait) + callWait) * p.scale,
  };
}
