import { Observable } from 'rxjs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Subscribes and collects everything an observable does. */
export function record<T>(source: Observable<T>) {
  const values: T[] = [];
  const done = deferred<{ values: T[]; error?: unknown; completed: boolean }>();
  const subscription = source.subscribe({
    next: (v) => values.push(v),
    error: (error) => done.resolve({ values, error, completed: false }),
    complete: () => done.resolve({ values, completed: true }),
  });
  return { values, subscription, result: done.promise };
}

/** A seeded pseudo-random generator (mulberry32), so a failing test can be replayed. */
export function random(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One turn of the event loop (not a delay: nothing waits on the clock). */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs a script in a fresh Node process; resolves with its exit and output once every holder of
 * its stdout and stderr has closed them (so a child it leaves behind is waited for too).
 */
export function runNode(script: URL, args: string[] = []): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
