/**
 * The main side of each transport: a Node worker thread, a browser (or app-made) Worker, a forked
 * child process, each behind one small {@link Endpoint}. Node modules are imported at run time,
 * only on the Node code path, so this file is safe in a browser bundle.
 * @internal
 * @module
 */
import type { TransferListItem } from '../shared/transfer.js';
import { InvalidOptionError } from '../errors.js';
import { importModule } from '../internal/import-module.js';
import { moduleUrl } from '../internal/module-url.js';
import { CLOSE } from '../worker/protocol.js';

/** How a worker ended. */
export interface ExitInfo {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** What it threw or failed with (an uncaught error, a load failure), when known. */
  readonly error?: unknown;
  /** The worker could not be made, and trying again cannot help (a configuration error): `error` is for the stage. */
  readonly fatal?: boolean;
  /** How it ended, in words, when the transport knows better than an exit code (a remote worker gone silent). */
  readonly reason?: string;
  /**
   * It was lost through no fault of what it ran (a remote worker that drained, a lost connection):
   * nothing it held fails, everything is sent again to a replacement.
   */
  readonly blameless?: boolean;
}

/** What an endpoint reports; each transport calls `message` per message and `exit` exactly once. */
export interface EndpointEvents {
  message(message: unknown): void;
  exit(info: ExitInfo): void;
}

/** One worker, seen from the pool. */
export interface Endpoint {
  /** Sends; throws (DataCloneError) when the message cannot be cloned, having sent nothing. */
  post(message: unknown[], transfer?: TransferListItem[]): void;
  /** Whether this worker keeps the process alive (Node; a no-op in browsers). */
  ref(): void;
  unref(): void;
  /** Asks the worker to exit; `exit` follows. */
  close(): void;
  /** Stops the worker now; `exit` follows. */
  terminate(): void;
  /**
   * The transport clones typed arrays (structured clone: threads, Web Workers, processes with
   * advanced serialization): a batch of numbers may go as one Float64Array (RUN_NUMBERS).
   */
  readonly packsNumbers?: boolean;
}

/** Starts one worker; its events are attached before it can send anything. */
export type Spawn = (events: EndpointEvents) => Endpoint | Promise<Endpoint>;

/** What a `createWorker` option may return: a browser `Worker`, or a Node `worker_threads` Worker. */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: any): void;
  terminate(): unknown;
  addEventListener?(type: string, listener: (event: any) => void): void;
  on?(event: string, listener: (...args: any[]) => void): unknown;
}

/** The worker entry files in dist/esm/worker, one per Node transport. */
type EntryFile = 'node-thread-entry.cjs' | 'node-process-entry.cjs';

/**
 * The URL of one of the worker entry files in dist/esm/worker: each is the runtime bundled into one
 * CommonJS file by scripts/build.mjs, which a new thread loads in about the time a bare thread takes,
 * ~20 ms sooner than the dozen ES modules it is built from (`node bench/entry-load.mjs`).
 * Undefined when this module's own URL is unknown (a bundle in which `import.meta` is empty).
 */
function entryUrl(file: EntryFile): URL | undefined {
  if (typeof moduleUrl !== 'string' || !moduleUrl.startsWith('file:')) return undefined;
  // The CommonJS build launches the same entry: one runtime, whichever build started the pool.
  const base = moduleUrl.replace(/\/cjs\/internal\/module-url\.js$/, '/esm/internal/module-url.js');
  return new URL(`../worker/${file}`, base);
}

/** Entries found on disk already, by href: one look per file, not one per worker started. */
const entriesFound = new Set<string>();

/**
 * The file a Node thread or process starts on: `workerEntry` when the app gives one, else the
 * library's own. When it is not there — the usual case of an app bundled with rxjs-parallel inside,
 * where the library's files are no longer beside its code — fails with an InvalidOptionError naming
 * `workerEntry` and the two fixes, before any worker is started (so that no thread or process
 * prints a `Cannot find module` of its own, once per start attempt). A configuration error: the
 * pool fails the stage at once instead of retrying.
 */
async function locateEntry(file: EntryFile, workerEntry: string | URL | undefined, scheduler: string): Promise<URL> {
  const url: any = await importModule('node:url');
  const entry =
    workerEntry === undefined
      ? entryUrl(file)
      : workerEntry instanceof URL || workerEntry.startsWith('file:')
        ? new URL(workerEntry)
        : url.pathToFileURL(workerEntry);
  if (entry !== undefined && entriesFound.has(entry.href)) return entry;
  const fs: any = await importModule('node:fs');
  const path: string | undefined = entry && url.fileURLToPath(entry);
  if (path !== undefined && fs.existsSync(path)) {
    entriesFound.add(entry!.href);
    return entry!;
  }
  if (workerEntry !== undefined) {
    throw new InvalidOptionError('workerEntry', `the location of a copy of rxjs-parallel's ${file} (there is no file at ${path})`, workerEntry);
  }
  const where = path === undefined ? 'cannot be found: this module has no file URL (import.meta is empty in a bundle)' : `is not at ${path}`;
  throw new InvalidOptionError(
    'workerEntry',
    `given: rxjs-parallel's worker entry ${file} ${where}. A bundled app either keeps rxjs-parallel out of the bundle ` +
      `(esbuild --external:rxjs-parallel, webpack externals) and installs it where the bundle runs, or copies ` +
      `rxjs-parallel/worker/${file} beside the bundle and passes its path as ${scheduler}({ workerEntry }) (see docs/bundling.md)`,
    undefined,
  );
}

let threads: Promise<any> | undefined;
let childProcess: Promise<any> | undefined;

/** True in Node (where the default entries can run). */
export function isNode(): boolean {
  return typeof (globalThis as any).process?.versions?.node === 'string';
}

/**
 * The default pool size: the CPUs this process may use (`os.availableParallelism()` in Node, read
 * through `process.getBuiltinModule`, so that this file imports no Node module; Node ≥ 20.16),
 * `navigator.hardwareConcurrency` in browsers; 4 where neither answers.
 */
export function defaultPoolSize(): number {
  const proc = (globalThis as any).process;
  if (isNode() && typeof proc.getBuiltinModule === 'function') {
    const os = proc.getBuiltinModule('node:os');
    return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  }
  const nav = (globalThis as any).navigator;
  if (typeof nav?.hardwareConcurrency === 'number') return Math.max(1, nav.hardwareConcurrency);
  return 4;
}

/** Options of a Node worker thread. */
export interface NodeThreadOptions {
  resourceLimits?: object;
  execArgv?: string[];
  env?: object;
  /** The entry file, when not the library's own (a bundled app). */
  workerEntry?: string | URL;
}

/** A Node worker thread running the library's own entry file (or the app's copy of it). */
export function nodeThread(options: NodeThreadOptions): Spawn {
  return async (events) => {
    const entry = await locateEntry('node-thread-entry.cjs', options.workerEntry, 'threadScheduler');
    threads ??= importModule('node:worker_threads');
    const { Worker } = await threads;
    const worker = new Worker(entry, {
      resourceLimits: options.resourceLimits,
      execArgv: options.execArgv,
      env: options.env,
    });
    return adaptWorker(worker, events);
  };
}

/** A worker made by the app (`createWorker`): a browser Worker or a Node worker thread. */
export function appWorker(createWorker: () => WorkerLike): Spawn {
  return (events) => adaptWorker(createWorker(), events);
}

/**
 * One Worker behind an Endpoint. A Node Worker has `on` and an `exit` event; a browser Worker has
 * `addEventListener` and none, so its end is reported when it is terminated or fails.
 */
function adaptWorker(worker: WorkerLike, events: EndpointEvents): Endpoint {
  if (worker === null || typeof worker !== 'object' || typeof worker.postMessage !== 'function') {
    throw new InvalidOptionError('createWorker', 'a function that returns a Worker', worker);
  }
  if (typeof worker.on === 'function') {
    const node = worker as WorkerLike & { on: NonNullable<WorkerLike['on']>; ref?(): void; unref?(): void };
    let error: unknown;
    node.on('message', events.message);
    node.on('error', (e: unknown) => (error ??= e)); // an uncaught error in the worker; `exit` follows
    node.on('messageerror', (e: unknown) => {
      error ??= e;
      void node.terminate();
    });
    node.on('exit', (exitCode: number) => events.exit({ exitCode, signal: null, error }));
    return {
      post: (message, transfer) => node.postMessage(message, transfer),
      ref: () => node.ref?.(),
      unref: () => node.unref?.(),
      close: () => node.postMessage([CLOSE]), // the runtime exits the thread (the pool terminates it after the grace)
      terminate: () => void node.terminate(),
      packsNumbers: true,
    };
  }
  if (typeof worker.addEventListener !== 'function') {
    throw new InvalidOptionError('createWorker', 'a function that returns a Worker (with addEventListener or on)', worker);
  }
  let ended = false;
  const end = (info: ExitInfo) => {
    if (ended) return;
    ended = true;
    worker.terminate();
    queueMicrotask(() => events.exit(info)); // never inside the caller's own call
  };
  worker.addEventListener('message', (event: { data: unknown }) => events.message(event.data));
  // A browser worker that fails to load, or throws, reports `error` and stays alive: end it here,
  // so that it behaves as a Node worker (which exits on an uncaught error).
  worker.addEventListener('error', (event: any) => {
    event?.preventDefault?.();
    end({ exitCode: null, signal: null, error: event?.error ?? new Error(event?.message || 'the worker failed to load or threw an uncaught error') });
  });
  worker.addEventListener('messageerror', () => end({ exitCode: null, signal: null, error: new Error('a message from the worker could not be deserialized') }));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer ?? []),
    ref: () => {},
    unref: () => {},
    close: () => end({ exitCode: 0, signal: null }),
    terminate: () => end({ exitCode: null, signal: null }),
    packsNumbers: true,
  };
}

/** Options of a child process. */
export interface ChildProcessOptions {
  execArgv?: string[];
  env?: object;
  /** The entry file, when not the library's own (a bundled app). */
  workerEntry?: string | URL;
}

const ignore = () => {};

/**
 * Child processes still running. A child hears that its parent is gone (its IPC channel closes) and
 * exits, but not while a synchronous call blocks it: those are killed as the parent exits, which
 * is the last moment anything can be done about them.
 */
const liveChildren = new Set<{ kill(signal: string): unknown }>();
let killOnExit = false;
const killLiveChildren = (): void => {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
};

/** A child process forked on the library's own entry file (or the app's copy of it), with `serialization: 'advanced'`. */
export function childProcessWorker(options: ChildProcessOptions): Spawn {
  return async (events) => {
    const entry = await locateEntry('node-process-entry.cjs', options.workerEntry, 'processScheduler');
    childProcess ??= importModule('node:child_process');
    const { fork } = await childProcess;
    const child = fork(entry, [], {
      serialization: 'advanced',
      execArgv: options.execArgv,
      env: options.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let ended = false;
    liveChildren.add(child);
    if (!killOnExit) {
      killOnExit = true;
      process.on('exit', killLiveChildren);
    }
    child.on('message', events.message);
    child.on('error', (error: unknown) => {
      // Spawning failed (no exit follows); later errors (a failed kill) are followed by `exit` anyway.
      if (ended || child.pid !== undefined) return;
      ended = true;
      liveChildren.delete(child);
      events.exit({ exitCode: null, signal: null, error });
    });
    child.on('exit', (exitCode: number | null, signal: string | null) => {
      liveChildren.delete(child);
      if (ended) return;
      ended = true;
      events.exit({ exitCode, signal });
    });
    return {
      // A callback takes the error of a send on a closed channel (the child is exiting: `exit` follows).
      post: (message) => child.send(message, ignore),
      ref: () => {
        child.ref();
        child.channel?.ref();
      },
      unref: () => {
        child.unref();
        child.channel?.unref();
      },
      close: () => child.send([CLOSE], ignore),
      terminate: () => child.kill('SIGKILL'),
      packsNumbers: true,
    };
  };
}
