import { InvalidOptionError } from '../errors.js';
import { appWorker, isNode, nodeThread, type Spawn, type WorkerLike } from './endpoints.js';
import { checkPoolOptions, poolSettings } from './pool-options.js';
import { WorkerPool } from './pool.js';
import type { Scheduler } from './scheduler.js';

/** Memory limits of a Node worker thread (`worker_threads` `resourceLimits`). */
export interface ThreadResourceLimits {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  codeRangeSizeMb?: number;
  stackSizeMb?: number;
}

/** Options of {@link threadScheduler}. */
export interface ThreadSchedulerOptions {
  /**
   * Threads in the pool, started lazily as leases need them. Each stage subscription takes
   * `workers` leases; leases share threads when there are more leases than threads.
   * @default os.availableParallelism() in Node, navigator.hardwareConcurrency in browsers
   */
  workers?: number;
  /**
   * Makes a worker that runs the app's own worker file, which calls `expose()` from
   * `rxjs-parallel/worker`: required in browsers and with bundlers; in Node it may return a
   * `worker_threads` Worker. Functions are then named by `task(name)`.
   * @default undefined (Node: the library's own worker file, which imports TaskRef modules)
   */
  createWorker?: () => WorkerLike;
  /**
   * Milliseconds a worker has to stop a cancelled call (timeout, unsubscribe) or to acknowledge
   * the end of a lease before it is terminated and replaced.
   * @default 1000
   */
  cancelGrace?: number;
  /**
   * Milliseconds a new worker has to load and answer, and then each stage's `onStart` on it has to
   * finish, before it is terminated: a worker that does not start counts as failed; an `onStart`
   * that does not finish fails its stage with a `TaskTimeoutError` (`phase: 'onStart'`). Up to
   * 2³¹ − 1, or `Infinity` for no limit.
   * @default 30000
   */
  startTimeout?: number;
  /**
   * Milliseconds the end of a stage's subscription on a worker may take (an `onStart` still
   * running, then `onEnd`) before the worker is terminated, so that a hung `onStart` or `onEnd`
   * never keeps the process alive: the stage then fails with a `TaskTimeoutError`
   * (`phase: 'onEnd'`) if it was completing, and other stages on that worker go on in a
   * replacement. Up to 2³¹ − 1, or `Infinity` for no limit.
   * @default 10000
   */
  endTimeout?: number;
  /**
   * Elements a worker may hold queued behind the batch in work, rounded up to whole batches (4
   * batches of 1, one batch of 4 or more), so that it never waits a round trip between two. Not
   * used by a stage with a `timeout`.
   * @default 4
   */
  prefetch?: number;
  /** Node only: memory limits of each thread. */
  resourceLimits?: ThreadResourceLimits;
  /** Node only: `execArgv` of each thread (default: the process's). */
  execArgv?: string[];
  /** Node only: `process.env` of each thread (default: a copy of the process's). */
  env?: Record<string, string | undefined>;
  /**
   * Node only: where the file each thread starts on is, for an app bundled with rxjs-parallel
   * inside (esbuild `--bundle`, webpack), where the library's own file is no longer beside its
   * code. Copy `rxjs-parallel/worker/node-thread-entry.cjs` beside the bundle and pass its
   * location: `path.join(__dirname, 'node-thread-entry.cjs')`, or
   * `new URL('./node-thread-entry.cjs', import.meta.url)`. A `file:` URL or an absolute path; not
   * with `createWorker`. When the file is missing, a stage fails with an `InvalidOptionError`
   * naming `workerEntry` before any thread starts. See docs/bundling.md.
   * @default undefined (the file inside the installed rxjs-parallel)
   */
  workerEntry?: string | URL;
}

const KNOWN = ['workers', 'createWorker', 'cancelGrace', 'startTimeout', 'endTimeout', 'prefetch', 'resourceLimits', 'execArgv', 'env', 'workerEntry'] as const;

/**
 * Runs a stage's `fn` on a pool of worker threads (Node `worker_threads`, or Web Workers through
 * `createWorker`), for CPU-bound work. `fn` is a `task(url, name)` ref the thread imports, a
 * `task(name)` registered by `expose()` in the app's worker file, or a self-contained plain
 * function sent as source text. One scheduler may serve many stages and subscriptions; threads
 * start lazily, stay warm until `close()`, and an idle pool does not keep the process alive.
 *
 * ```ts
 * const threads = threadScheduler({ workers: 2 });
 * const score = task<number, number>(new URL('./score.js', import.meta.url), 'score');
 * await run(fromIterable([1, 2, 3]).pipe(
 *   mapParallel(score, { workers: 2, scheduler: threads, ordered: true }),
 *   tap(console.log),
 * ));
 * // 1, 4, 9 (score = x => x * x)
 * await threads.close();
 * ```
 * @param options The {@link ThreadSchedulerOptions}; validated here.
 * @returns A scheduler of kind `'thread'` (batching: a stage's `batchSize` applies).
 * @see processScheduler, task, transfer
 */
export function threadScheduler(options?: ThreadSchedulerOptions): Scheduler {
  const o = checkPoolOptions('threadScheduler', options, KNOWN) as ThreadSchedulerOptions;
  let spawn: Spawn;
  if (o.createWorker) spawn = appWorker(o.createWorker);
  else if (isNode()) spawn = nodeThread({ resourceLimits: o.resourceLimits, execArgv: o.execArgv, env: o.env, workerEntry: o.workerEntry });
  else {
    spawn = () => {
      throw new InvalidOptionError('createWorker', 'a function returning a Worker that runs a file calling expose() (required outside Node)', undefined);
    };
  }
  return new WorkerPool({
    kind: 'thread',
    ...poolSettings(o),
    spawn,
    startHint: o.createWorker ? 'does the worker file call expose() from rxjs-parallel/worker?' : undefined,
  });
}
