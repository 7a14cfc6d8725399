// Functions the scenarios run on workers: imported by our thread/process workers through
// task(url, name), by piscina and tinypool by export name, and in-process by the sequential loops.
import { threadId } from 'node:worker_threads';
import { burn } from '../lib/common.mjs';

/** The trivial function of the dispatch scenario. */
export const inc = (x) => x + 1;

/** `inc` over a hand-made batch (piscina with batches of 1000). */
export const incBatch = (xs) => {
  const out = new Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i] + 1;
  return out;
};

/** Milliseconds each CPU-bound element burns; `RXJS_PARALLEL_BENCH_BURN_MS` overrides it. */
const BURN_MS = Number(process.env.RXJS_PARALLEL_BENCH_BURN_MS ?? 2);

/** A CPU-bound element: busy for BURN_MS, then `x + 1`. */
export const burnInc = (x) => {
  burn(BURN_MS);
  return x + 1;
};

/** Which worker runs this: the process id and, in a worker thread, the thread id. */
const WORKER = `${process.pid}.${threadId}`;

/**
 * A long CPU-bound element `[i, ms]`: busy for `ms`, then `[i + 1, worker]`, so that the few-long-
 * elements scenario can tell how many elements each worker ran.
 */
export const burnFor = ([i, ms]) => {
  burn(ms);
  return [i + 1, WORKER];
};
