import type { LeaseSink, Scheduler, StageWork } from '../schedulers/scheduler.js';

/**
 * The work of a warm-up lease: nothing. A plain function is sent as source text, so it needs no
 * module of the app's in the worker (and a worker file that calls `expose()` serves it too).
 */
const WARM_UP: StageWork = { name: 'warm-up', mode: 'each', fn: function warmUp() {}, onStart: undefined, onEnd: undefined };

/** A warm-up lease runs no job: nothing is ever settled through its sink. */
const NO_JOBS: LeaseSink = { resolve() {}, reject() {}, outputs() {}, reclaimed() {}, resent() {} };

/**
 * Starts `workers` workers of a pool and waits until each has loaded and answered, so that the
 * first request does not pay for it. One lease per worker, all at once: the pool puts a lease on
 * a new worker while it has fewer than its size. Rejects with what a worker failed with.
 * @internal
 */
export async function warmUp(scheduler: Scheduler, workers: number): Promise<void> {
  const leases = Array.from({ length: workers }, (_, index) => scheduler.lease(WARM_UP, { index, workers }, NO_JOBS));
  const started = await Promise.allSettled(leases.map((lease) => lease.ready));
  await Promise.allSettled(leases.map((lease) => lease.end({ done: true, activeWorkers: 0 })));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
