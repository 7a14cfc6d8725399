import { TaskScheduler } from './task.js';
import type { Scheduler } from './scheduler.js';

/**
 * Runs `fn` inline, one element at a time, for debugging: a synchronous `fn` is called and its
 * result emitted within the upstream's `next`, so stack traces run through the whole pipeline.
 * The only scheduler that emits synchronously.
 *
 * ```ts
 * of(1, 2, 3).pipe(mapParallel((x) => x * 2, { scheduler: syncScheduler() })) // 2, 4, 6
 * ```
 * @returns A scheduler; `close()` is a no-op.
 */
export function syncScheduler(): Scheduler {
  return new TaskScheduler('sync');
}
