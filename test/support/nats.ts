/**
 * NATS for the tests: a real nats-server (scripts/nats-server.mjs: installed by
 * scripts/ensure-nats-server.sh when missing, started on a free loopback port with JetStream in a
 * temporary directory), and real `rxjs-parallel-worker` processes started from the built dist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
// @ts-expect-error -- a plain .mjs helper shared with the benchmark and the example
import { startNatsServer as start } from '../../scripts/nats-server.mjs';
import type { Scheduler } from 'rxjs-parallel';

export interface NatsServer {
  host: string;
  port: number;
  url: string;
  monitorUrl: string;
  storeDir: string;
  process: ChildProcess;
  log: string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface ServerOptions {
  host?: string;
  port?: number;
  storeDir?: string;
  config?: string;
  args?: string[];
  netns?: string;
}

export const startNatsServer = start as (options?: ServerOptions) => Promise<NatsServer>;

export const cli = fileURLToPath(new URL('../../dist/esm/nats/bin.js', import.meta.url));
export const fixtures = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves once it printed its ready line; rejects if it exits first. */
  readonly ready: Promise<void>;
  /** Resolves with how it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it wrote to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves once `count` lines of its stderr match `pattern`. */
  waitForLog(pattern: RegExp, count?: number): Promise<void>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `rxjs-parallel-worker` with `args` (flags and modules), optionally inside a network namespace. */
export function startWorker(args: string[], options: { env?: NodeJS.ProcessEnv; netns?: string } = {}): WorkerProcess {
  const argv = [cli, ...args];
  const child = options.netns
    ? spawn('ip', ['netns', 'exec', options.netns, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stderr = '';
  let stdout = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      for (const watch of [...watchers]) watch();
      if (stderr.includes('rxjs-parallel-worker: ready:')) resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`rxjs-parallel-worker exited (${code ?? signal}) before it was ready:\n${stderr}`)));
  });
  ready.catch(() => {});
  return {
    child,
    ready,
    exited,
    stderr: () => stderr,
    waitForLog(pattern, count = 1) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (stderr.split('\n').filter((line) => pattern.test(line)).length < count) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      });
    },
    stdout: () => stdout,
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Keeps `count` workers running (`args()` gives each one's flags and modules): one that exits (killed)
 * is replaced, until `stop()`. `kill(pick)` SIGKILLs one of them, chosen by `pick` in [0, 1).
 */
export function workerPool(count: number, args: () => string[]) {
  const live: WorkerProcess[] = [];
  let stopped = false;
  const add = () => {
    const w = startWorker(args());
    live.push(w);
    void w.exited.then(() => {
      live.splice(live.indexOf(w), 1);
      if (!stopped) add();
    });
    return w;
  };
  for (let i = 0; i < count; i++) add();
  return {
    live,
    ready: () => Promise.all(live.map((w) => w.ready)),
    kill(pick: number) {
      live[Math.floor(pick * live.length)].child.kill('SIGKILL');
    },
    async stop() {
      stopped = true;
      await Promise.all(live.map((w) => w.stop('SIGKILL')));
    },
  };
}

/**
 * A scheduler that stands for one made later (in a beforeAll, once the server's URL is known), so
 * that suites written as functions of a scheduler can be handed it when they are defined.
 */
export function lateScheduler(): { scheduler: Scheduler; set(real: Scheduler): void } {
  let real: Scheduler | undefined;
  const get = () => {
    if (!real) throw new Error('the scheduler is not made yet');
    return real;
  };
  return {
    scheduler: {
      kind: 'nats',
      batching: true,
      get prefetch() {
        return get().prefetch;
      },
      get size() {
        return get().size;
      },
      get outputWindow() {
        return get().outputWindow;
      },
      lease: (work, info, sink) => get().lease(work, info, sink),
      close: () => (real ? real.close() : Promise.resolve()),
    },
    set: (s) => void (real = s),
  };
}
