/**
 * `rxjs-parallel/threads`: run a stage on threads.js workers an app already has. threads.js is an
 * optional peer dependency; nothing here imports it.
 * @module
 */
import type { Scheduler } from '../schedulers/scheduler.js';
import { makeThreadsScheduler, type ThreadsPool, type ThreadsSchedulerOptions, type ThreadsThread } from './scheduler.js';

export { parallelTasks, type ParallelTasks, type ReplyObservable } from './tasks.js';
export type { ThreadsPool, ThreadsSchedulerOptions, ThreadsThread };

/**
 * Runs a stage's `fn` on threads.js workers (the `threads` package), for an app that already has
 * them: the scheduler starts `workers` of them with the app's own `spawn`, or runs on an existing
 * threads.js `Pool`. `fn` is `task('name')`: the method `name` the worker exposes (`task('default')`
 * for a worker that exposes a single function). A plain threads.js worker is called with the element
 * alone; one whose file exposes `parallelTasks({ ... })` gets `(value, ctx)` as on every other
 * scheduler, and runs `onStart`/`onEnd`.
 *
 * Contains threads.js's faults: a worker that exits, throws an uncaught error or fails to load fails
 * exactly the elements it held, with `WorkerCrashedError`, and is replaced (threads.js would leave
 * them pending, or crash the process); falsy results arrive; many calls in flight raise no
 * MaxListenersExceededWarning; and the SIGINT/SIGTERM handlers threads.js installs (which exit with
 * code 0) are removed, so the app's own, or Node's default, apply.
 *
 * ```ts
 * import { spawn, Worker } from 'threads';
 * import { threadsScheduler } from 'rxjs-parallel/threads';
 * const scheduler = threadsScheduler({ spawn: () => spawn(new Worker('./square.worker.js')), workers: 2 });
 * await run(fromIterable([1, 2, 3]).pipe(
 *   mapParallel(task<number, number>('square'), { workers: 2, scheduler, ordered: true }),
 *   tap(console.log),
 * ));
 * // 1, 4, 9 (the worker: expose({ square: (x) => x * x }))
 * await scheduler.close();
 * ```
 * @param options `spawn` (and `workers`, `startTimeout`), or `pool`: see {@link ThreadsSchedulerOptions}.
 * @returns A scheduler of kind `'threads'`; `close()` ends the workers it spawned (not a Pool it was given).
 * @throws {InvalidOptionError} Unless exactly one of `spawn` and `pool` is given, or for a bad option.
 * @see parallelTasks, threadScheduler
 */
export function threadsScheduler(options: ThreadsSchedulerOptions): Scheduler {
  return makeThreadsScheduler(options);
}
