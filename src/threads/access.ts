/**
 * How the scheduler reaches into threads.js objects without importing threads.js (an optional peer
 * whose types do not resolve under `moduleResolution: NodeNext` or `bundler`): everything here is
 * structural, and works with any copy of threads.js 1.x the app has.
 * @internal
 * @module
 */

/** A call on a threads.js thread: its `ObservablePromise`, of which only `subscribe` is used. */
interface ThreadsCall {
  subscribe(observer: { next(value: unknown): void; error(error: unknown): void; complete(): void }): { unsubscribe(): void };
}

/** The thread's underlying Worker: Node's `worker_threads` Worker (threads.js's subclass) or a Web Worker. */
export interface RawWorker {
  on?(event: string, listener: (...args: any[]) => void): unknown;
  off?(event: string, listener: (...args: any[]) => void): unknown;
  addEventListener?(event: string, listener: (event: any) => void): unknown;
  getMaxListeners?(): number;
  setMaxListeners?(n: number): unknown;
  ref?(): void;
  unref?(): void;
  terminate(): unknown;
}

/**
 * threads.js keeps a thread's Worker and its terminate function under symbols of its own module
 * (`Symbol('thread.worker')`, `Symbol('thread.terminate')`, what `Thread.terminate` uses); they are
 * found here by description, so that no copy of threads.js has to be imported.
 */
function privateProp(thread: object, description: string): unknown {
  for (const symbol of Object.getOwnPropertySymbols(thread)) {
    if (symbol.description === description) return (thread as Record<symbol, unknown>)[symbol];
  }
  return undefined;
}

/** The Worker behind a thread that threads.js's `spawn()` made, if it is one. */
export function rawWorkerOf(thread: object): RawWorker | undefined {
  const worker = privateProp(thread, 'thread.worker');
  return worker !== null && typeof worker === 'object' && typeof (worker as RawWorker).terminate === 'function' ? (worker as RawWorker) : undefined;
}

/** True for what threads.js's `spawn()` resolves to: a function or module thread. */
export function isThread(value: unknown): value is object {
  return (typeof value === 'function' || (typeof value === 'object' && value !== null)) && typeof privateProp(value, 'thread.terminate') === 'function';
}

/** `Thread.terminate(thread)`: ends the worker; resolves once it has. */
export function terminateThread(thread: object): Promise<void> {
  const terminate = privateProp(thread, 'thread.terminate');
  return Promise.resolve(typeof terminate === 'function' ? terminate() : rawWorkerOf(thread)?.terminate()).then(
    () => {},
    () => {},
  );
}

/** The names a module thread exposes (its methods), or undefined for a function thread. */
export function methodsOf(thread: object): string[] | undefined {
  if (typeof thread === 'function') return undefined;
  return Object.keys(thread).filter((key) => typeof (thread as Record<string, unknown>)[key] === 'function');
}

/** Listens on a Node Worker (`on`) or a Web Worker (`addEventListener`). */
export function listen(worker: RawWorker, event: string, listener: (arg: any) => void): void {
  if (typeof worker.on === 'function') worker.on(event, listener);
  else worker.addEventListener?.(event, (e: any) => listener(event === 'message' ? e?.data : e));
}

/**
 * Each call in flight adds a `message` listener to the thread's Worker (threads.js's invocation
 * proxy), and a Node Worker warns past 10 (MaxListenersExceededWarning): the limit is raised by one
 * for each call this scheduler has in flight, and lowered when it settles, so a leak of the app's
 * own still warns. A limit of 0 (none) is left alone.
 */
function adjustListenerLimit(worker: RawWorker | undefined, by: 1 | -1): void {
  if (!worker || typeof worker.getMaxListeners !== 'function' || typeof worker.setMaxListeners !== 'function') return;
  const limit = worker.getMaxListeners();
  if (limit > 0 && limit !== Infinity) worker.setMaxListeners(Math.max(1, limit + by));
}

/** A call in flight; `cancel()` stops listening (and, for a worker observable, cancels it in the worker). */
export interface CallHandle {
  cancel(): void;
}

const NOTHING = Symbol('nothing');

/**
 * Calls `method` of a thread (or the thread itself, for a function thread) with one argument, and
 * reports once through `done`, never synchronously. It subscribes rather than awaits: unsubscribing
 * is how threads.js stops listening and cancels a worker observable. The value is the first one
 * the call emitted, as `await thread.method(x)` gives; a promise result of `undefined` emits none.
 */
export function invoke(thread: object, method: string | undefined, arg: unknown, worker: RawWorker | undefined, done: (ok: boolean, value: unknown) => void): CallHandle {
  let first: unknown = NOTHING;
  let finished = false;
  let subscription: { unsubscribe(): void } | undefined;
  adjustListenerLimit(worker, 1);
  const finish = (ok: boolean, value: unknown) => {
    if (finished) return;
    finished = true;
    adjustListenerLimit(worker, -1);
    done(ok, value);
  };
  let inside = true; // reports made inside subscribe() are deferred: a lease never settles inside run()
  const report = (ok: boolean, value: unknown) => (inside ? queueMicrotask(() => finish(ok, value)) : finish(ok, value));
  try {
    const target = method === undefined ? thread : (thread as Record<string, unknown>)[method];
    const result = (target as (arg: unknown) => ThreadsCall).call(method === undefined ? undefined : thread, arg);
    subscription = result.subscribe({
      next: (value) => {
        if (first === NOTHING) first = value;
      },
      error: (error) => report(false, error),
      complete: () => report(true, first === NOTHING ? undefined : first),
    });
  } catch (error) {
    report(false, error);
  }
  inside = false;
  return {
    cancel() {
      if (finished) return;
      finished = true;
      adjustListenerLimit(worker, -1);
      subscription?.unsubscribe();
    },
  };
}

/**
 * threads.js (1.x, Node) installs SIGINT and SIGTERM handlers when it is imported, which terminate
 * its workers and then exit the process with code 0 — in place of Node's default (end by the
 * signal) and cutting short any shutdown of the app's own. Those two handlers are removed; they are
 * recognised by the name of the function they call, `terminateWorkersAndMaster`.
 */
export function removeThreadsSignalHandlers(): void {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (typeof proc?.listeners !== 'function') return;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of proc.listeners(signal)) {
      if (/\bterminateWorkersAndMaster\b/.test(Function.prototype.toString.call(listener))) proc.removeListener(signal, listener as () => void);
    }
  }
}

/** Open watch windows (see {@link makeWatchingWorker}), and the one armed now. */
let windows = 0;
let armed: ((worker: RawWorker) => void) | undefined;
/** One listener on `process` however many workers start at once (each start would add one, and warn past 10). */
const onProcessWorker = (worker: unknown) => armed?.(worker as RawWorker);

/**
 * Runs `make()` and hands `onWorker` the Node Worker it constructed synchronously, from inside
 * Node's `process` `'worker'` event, which Node emits on the next tick after a Worker's
 * construction: before anything the worker does can arrive, so that an `error` listener is in place
 * before a worker that throws while loading would crash this process with an unhandled `error`
 * (threads.js's `spawn()` listens only for messages). The event is taken only between two ticks
 * queued around `make()` (ticks run in order), so a Worker made elsewhere is never touched.
 */
export function makeWatchingWorker<T>(make: () => T, onWorker: (worker: RawWorker) => void): T {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (typeof proc?.nextTick !== 'function' || typeof proc.on !== 'function') return make();
  const deliver = (worker: RawWorker) => {
    armed = undefined; // the first Worker of the window only
    onWorker(worker);
  };
  if (windows++ === 0) proc.on('worker', onProcessWorker);
  proc.nextTick(() => (armed = deliver));
  try {
    return make();
  } finally {
    proc.nextTick(() => {
      if (armed === deliver) armed = undefined;
      if (--windows === 0) proc.removeListener('worker', onProcessWorker);
    });
  }
}
