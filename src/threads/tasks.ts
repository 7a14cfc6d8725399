/**
 * The worker side of `rxjs-parallel/threads`: `parallelTasks()`, which a threads.js worker file
 * passes to threads.js's own `expose()`. It never imports threads.js.
 * @module
 */
import type { StageStatus, WorkerInfo } from '../shared/context.js';
import { JobContext } from '../shared/job-context.js';
import { collectOutputs } from '../core/outputs.js';
import { InvalidOptionError } from '../errors.js';
import { toWireError } from '../worker/protocol.js';
import { CALL_METHOD, OP_END, OP_RUN, OP_START, R_MISSING, R_OK, R_THREW, R_UNCLONEABLE, type CallMessage, type Reply } from './wire.js';

/**
 * What the scheduler's method of a {@link parallelTasks} worker returns: an Observable as threads.js's
 * `expose()` recognises one (anything with `subscribe`), of one reply.
 */
export interface ReplyObservable {
  subscribe(
    observerOrNext: ((reply: unknown) => void) | { next?(reply: unknown): void; complete?(): void },
    error?: (error: unknown) => void,
    complete?: () => void,
  ): { unsubscribe(): void };
}

/** What {@link parallelTasks} returns: the functions as given, and the method the scheduler calls. */
export type ParallelTasks<T> = T & { readonly 'rxjs-parallel:call': (message: readonly unknown[]) => ReplyObservable };

/**
 * Prepares the functions of a threads.js worker for `threadsScheduler`, which then calls them as
 * the other schedulers call `fn`: with `(value, ctx)`, `ctx` holding `resources` from `onStart`,
 * `workerInfo`, `elementIndex` and a `signal` aborted on timeout and teardown; with `onStart` and
 * `onEnd` run inside this worker; with falsy results (0, false, '', null, undefined, NaN) and the
 * class name, message, `cause` and fields such as `code` of a thrown error kept. The functions stay
 * callable as before by the app's own threads.js calls (`await thread.score(x)`).
 *
 * ```js
 * // score.worker.js: a threads.js worker
 * import { expose } from 'threads/worker';
 * import { parallelTasks } from 'rxjs-parallel/threads';
 * expose(parallelTasks({
 *   connect: (ctx) => openDb(),                            // onStart: resources of this worker
 *   score: (row, ctx) => ctx.resources.lookup(row.id) * row.weight,
 * }));
 * // main: rows$.pipe(mapParallel(task('score'), { scheduler, onStart: task('connect') }))
 * ```
 * @param tasks The worker's functions by name: `fn(value, ctx)`, `onStart(ctx)`, `onEnd(ctx)`.
 * @returns An object for threads.js's `expose()`: `tasks` plus one method, `'rxjs-parallel:call'`,
 * through which the scheduler calls them.
 * @throws {InvalidOptionError} When `tasks` is not an object of functions.
 * @see threadsScheduler
 */
export function parallelTasks<T extends Record<string, (...args: any[]) => unknown>>(tasks: T): ParallelTasks<T> {
  if (typeof tasks !== 'object' || tasks === null) throw new InvalidOptionError('tasks', 'an object of functions by name', tasks);
  const byName = new Map<string, (...args: any[]) => unknown>();
  for (const [name, fn] of Object.entries(tasks)) {
    if (typeof fn !== 'function') throw new InvalidOptionError(`tasks.${name}`, 'a function', fn);
    if (name === CALL_METHOD) throw new InvalidOptionError(`tasks.${name}`, 'another name (this one is the scheduler’s)', fn);
    byName.set(name, fn);
  }
  /** Resources of each lease started in this worker, by lease id. */
  const leases = new Map<number, unknown>();

  const missing = (names: readonly (string | null)[]): Reply | undefined => {
    for (const name of names) if (name !== null && !byName.has(name)) return [R_MISSING, name, [...byName.keys()]];
    return undefined;
  };

  async function start(m: Extract<CallMessage, [typeof OP_START, ...unknown[]]>): Promise<Reply> {
    const [, lease, names, onStart, stage, index, workers] = m;
    const absent = missing(names);
    if (absent) return absent;
    try {
      const resources = onStart === null ? undefined : await byName.get(onStart)!({ workerInfo: { index, workers }, stage });
      leases.set(lease, resources);
      return [R_OK, undefined]; // resources stay here, in the worker that made them
    } catch (error) {
      return [R_THREW, toWireError(error)];
    }
  }

  async function run(m: Extract<CallMessage, [typeof OP_RUN, ...unknown[]]>, ctx: JobContext): Promise<Reply> {
    const [, , name, mode] = m;
    const fn = byName.get(name);
    if (!fn) return missing([name])!;
    try {
      const result = await fn(m[4], ctx);
      // Only what the stage uses crosses back: the verdict of a filter, nothing of an `each`, and a
      // flatMap's outputs as an array (an iterable or observable cannot be cloned).
      if (mode === 'filter') return [R_OK, Boolean(result)];
      if (mode === 'each') return [R_OK, undefined];
      if (mode === 'flat') return [R_OK, await collectOutputs(result)];
      return [R_OK, result];
    } catch (error) {
      return [R_THREW, toWireError(error)];
    }
  }

  async function end(m: Extract<CallMessage, [typeof OP_END, ...unknown[]]>): Promise<Reply> {
    const [, lease, onEnd, stage, index, workers, done, activeWorkers] = m;
    const resources = leases.get(lease);
    leases.delete(lease);
    if (onEnd === null) return [R_OK, undefined];
    const stageStatus: StageStatus = { done, activeWorkers };
    const workerInfo: WorkerInfo = { index, workers };
    try {
      await byName.get(onEnd)!({ resources, workerInfo, stage, stageStatus });
      return [R_OK, undefined];
    } catch (error) {
      return [R_THREW, toWireError(error)];
    }
  }

  function call(message: readonly unknown[]): ReplyObservable {
    const m = message as CallMessage;
    return {
      subscribe(observerOrNext, _error, complete) {
        const next = typeof observerOrNext === 'function' ? observerOrNext : (reply: Reply) => observerOrNext?.next?.(reply);
        const done = typeof observerOrNext === 'function' ? complete : () => observerOrNext?.complete?.();
        let ctx: JobContext | undefined;
        if (m[0] === OP_RUN) ctx = new JobContext(leases.get(m[1]), { index: m[6], workers: m[7] }, m[5], 0);
        let closed = false;
        const reply = (r: Reply) => {
          if (closed) return;
          closed = true;
          try {
            next(r);
          } catch (error) {
            next([R_UNCLONEABLE, toWireError(error)]); // threads.js's postMessage threw: the value cannot be cloned
          }
          done?.();
        };
        // Started after subscribe() returns: threads.js registers the subscription when subscribe()
        // returns and forgets it on completion, so completing inside subscribe() would leave it registered.
        queueMicrotask(() => {
          if (closed) return;
          const work = m[0] === OP_START ? start(m) : m[0] === OP_RUN ? run(m, ctx!) : end(m);
          void work.then(reply);
        });
        return {
          // threads.js unsubscribes when the scheduler cancels the call (a timeout, or the stage ended).
          unsubscribe() {
            if (closed) return;
            closed = true;
            ctx?.abort(new DOMException('The call was cancelled by the stage (timeout or teardown)', 'AbortError'));
          },
        };
      },
    };
  }

  return Object.assign(Object.create(null), tasks, { [CALL_METHOD]: call }) as ParallelTasks<T>;
}
