import { TaskScheduler, type InProcessSchedulerOptions } from './task.js';
import type { Scheduler } from './scheduler.js';

/**
 * Runs `fn` inline, one element at a time, for debugging: a synchronous `fn` is called and its
 * result emitted within the upstream's `next`, so stack traces run through the whole pipeline and
 * `take(n)` stops a synchronous source after n, as RxJS's own operators do. The only scheduler
 * that emits synchronously. With a `task()` ref or an `onStart` (something to await first), the
 * elements that arrive before it is ready wait for it, and run inline from then on.
 *
 * ```ts
 * of(1, 2, 3).pipe(mapParallel((x) => x * 2, { scheduler: syncScheduler() })) // 2, 4, 6
 * ```
 * @param options {@link InProcessSchedulerOptions}: bounds on `onStart` and on a worker's end.
 * @returns A scheduler; `close()` is a no-op.
 */
export function syncScheduler(options?: InProcessSchedulerOptions): Scheduler {
  return new TaskScheduler('sync', options);
}
