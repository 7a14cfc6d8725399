/**
 * The worker side of rxjs-parallel: `expose(tasks)` for an app-owned worker file, and `transfer()`
 * for results that should move rather than be copied.
 * @module
 */
import { exposedTasks } from '../shared/task.js';
import { InvalidOptionError } from '../errors.js';
import { importModule } from '../internal/import-module.js';
import { nodeThreadPort, webWorkerPort } from './ports.js';
import { isServing, serve } from './runtime.js';

export { transfer, type TransferListItem } from '../shared/transfer.js';

/**
 * Registers functions by name for `task(name)` refs and, inside a worker (a Web Worker, or a Node
 * worker thread made by `threadScheduler({ createWorker })`), starts the runtime that serves the
 * pool on this worker's message port. This is how an app owns its worker file, which is what
 * bundlers (Vite, webpack, the Angular CLI) need to bundle it. On the main thread it only
 * registers, so `task(name)` also runs on the task and sync schedulers.
 *
 * ```ts
 * // app.worker.ts
 * import { expose } from 'rxjs-parallel/worker';
 * expose({ score: (row: Row) => row.a * row.b });
 *
 * // app.ts
 * const pool = threadScheduler({
 *   workers: 4,
 *   createWorker: () => new Worker(new URL('./app.worker.ts', import.meta.url), { type: 'module' }),
 * });
 * rows$.pipe(mapParallel(task<Row, number>('score'), { scheduler: pool })).subscribe(console.log);
 * ```
 * @param tasks Functions by name; `(value, ctx) => result`, `onStart`/`onEnd` functions alike.
 * @see task, threadScheduler
 */
export function expose(tasks: Record<string, (...args: any[]) => unknown>): void {
  if (typeof tasks !== 'object' || tasks === null) throw new InvalidOptionError('tasks', 'an object of functions by name', tasks);
  for (const [name, fn] of Object.entries(tasks)) {
    if (typeof fn !== 'function') throw new InvalidOptionError(`tasks.${name}`, 'a function', fn);
  }
  for (const [name, fn] of Object.entries(tasks)) exposedTasks.set(name, fn);
  startRuntime();
}

/** Serves this worker's own port, if this realm is a worker that does not serve one yet. */
function startRuntime(): void {
  if (isServing()) return;
  const scope = globalThis as any;
  if (typeof scope.WorkerGlobalScope === 'function' && scope instanceof scope.WorkerGlobalScope && typeof scope.postMessage === 'function') {
    serve(webWorkerPort(scope));
    return;
  }
  if (scope.process?.versions?.node) {
    // Node: only a worker thread has a port to serve. Imported at run time, so bundles for
    // browsers never see a Node module.
    void importModule('node:worker_threads').then((threads: any) => {
      if (!threads.isMainThread && threads.parentPort && !isServing()) serve(nodeThreadPort(threads.parentPort));
    });
  }
}
