import { childProcessWorker, isNode } from './endpoints.js';
import { InvalidOptionError } from '../errors.js';
import { checkPoolOptions, poolSettings } from './pool-options.js';
import { WorkerPool } from './pool.js';
import type { Scheduler } from './scheduler.js';

/** Options of {@link processScheduler}. */
export interface ProcessSchedulerOptions {
  /**
   * Child processes in the pool, started lazily as leases need them.
   * @default os.availableParallelism()
   */
  workers?: number;
  /**
   * Milliseconds a process has to stop a cancelled call (timeout, unsubscribe) or to acknowledge
   * the end of a lease before it is killed and replaced.
   * @default 1000
   */
  cancelGrace?: number;
  /**
   * Milliseconds a new process has to load and answer, and then each stage's `onStart` on it has to
   * finish, before it is terminated: a process that does not start counts as failed; an `onStart`
   * that does not finish fails its stage with a `TaskTimeoutError` (`phase: 'onStart'`). Up to
   * 2³¹ − 1, or `Infinity` for no limit.
   * @default 30000
   */
  startTimeout?: number;
  /**
   * Milliseconds the end of a stage's subscription on a process may take (an `onStart` still
   * running, then `onEnd`) before the process is terminated, so that a hung `onStart` or `onEnd`
   * never keeps the process alive: the stage then fails with a `TaskTimeoutError`
   * (`phase: 'onEnd'`) if it was completing, and other stages on that process go on in a
   * replacement. Up to 2³¹ − 1, or `Infinity` for no limit.
   * @default 10000
   */
  endTimeout?: number;
  /**
   * Elements a process may hold queued behind the batch in work, rounded up to whole batches (4
   * batches of 1, one batch of 4 or more). Not used by a stage with a `timeout`.
   * @default 4
   */
  prefetch?: number;
  /** `execArgv` of each process (default: the parent's). */
  execArgv?: string[];
  /** Environment of each process (default: the parent's). */
  env?: Record<string, string | undefined>;
  /**
   * Where the file each process starts on is, for an app bundled with rxjs-parallel inside
   * (esbuild `--bundle`, webpack), where the library's own file is no longer beside its code. Copy
   * `rxjs-parallel/worker/node-process-entry.cjs` beside the bundle and pass its location:
   * `path.join(__dirname, 'node-process-entry.cjs')`, or
   * `new URL('./node-process-entry.cjs', import.meta.url)`. A `file:` URL or an absolute path.
   * When the file is missing, a stage fails with an `InvalidOptionError` naming `workerEntry`
   * before any process starts. See docs/bundling.md.
   * @default undefined (the file inside the installed rxjs-parallel)
   */
  workerEntry?: string | URL;
}

const KNOWN = ['workers', 'cancelGrace', 'startTimeout', 'endTimeout', 'prefetch', 'execArgv', 'env', 'workerEntry'] as const;

/**
 * Runs a stage's `fn` in a pool of Node child processes (`child_process.fork` with
 * `serialization: 'advanced'`): isolation from the parent's memory and crashes, at a higher cost
 * per message than threads. Values are copied (Map, Set, Date, typed arrays, BigInt, cycles and
 * errors survive; `transfer()` degrades to a copy). Same functions as {@link threadScheduler}:
 * TaskRefs or self-contained plain functions. Processes start lazily, stay warm until `close()`,
 * and an idle pool does not keep the parent alive.
 *
 * ```ts
 * const procs = processScheduler({ workers: 2 });
 * await run(fromIterable(files).pipe(
 *   mapParallel(task(new URL('./convert.js', import.meta.url), 'convert'), { workers: 2, scheduler: procs }),
 * ));
 * await procs.close();
 * ```
 * @param options The {@link ProcessSchedulerOptions}; validated here.
 * @returns A scheduler of kind `'process'` (batching: a stage's `batchSize` applies).
 * @see threadScheduler, task
 */
export function processScheduler(options?: ProcessSchedulerOptions): Scheduler {
  const o = checkPoolOptions('processScheduler', options, KNOWN) as ProcessSchedulerOptions;
  return new WorkerPool({
    kind: 'process',
    ...poolSettings(o),
    spawn: isNode()
      ? childProcessWorker({ execArgv: o.execArgv, env: o.env, workerEntry: o.workerEntry })
      : () => {
          throw new InvalidOptionError('scheduler', "a scheduler that exists here ('process' needs Node)", 'process');
        },
  });
}
