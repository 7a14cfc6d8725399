// threadsScheduler over an existing threads.js Pool: the app keeps owning the Pool; a worker that
// exits fails its elements (the Pool cannot replace it) instead of leaving them pending.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { Pool, spawn, Worker } from 'threads';
import { fromIterable, mapParallel, task, WorkerCrashedError, WorkerFunctionError } from 'rxjs-parallel';
import { threadsScheduler } from 'rxjs-parallel/threads';
import { startBus, type Bus } from '../support/bus.js';
import { record } from '../support/util.js';

// threads.js resolves a Worker path against the file that constructs it: this one.
const PLAIN = '../fixtures/threads/faults.worker.mjs';
const TASKS = '../fixtures/threads/conformance.worker.mjs';
const FALSY = [0, false, '', null, undefined, Number.NaN];

let bus: Bus;
beforeAll(async () => {
  bus = await startBus();
});
afterAll(() => bus.close());
beforeEach(() => bus.reset());

describe('threadsScheduler({ pool })', () => {
  it('runs on the Pool, falsy results included, and close() leaves the Pool to the app', async () => {
    const pool = Pool(() => spawn(new Worker(PLAIN)), 2);
    try {
      const scheduler = threadsScheduler({ pool });
      const out = await lastValueFrom(fromIterable(FALSY).pipe(mapParallel(task('identity'), { workers: 2, scheduler, ordered: true }), toArray()));
      expect(out).toEqual(FALSY);
      await scheduler.close();
      expect(await pool.queue((thread) => thread.identity('still mine'))).toBe('still mine');
    } finally {
      await pool.terminate(true);
    }
  });

  it('gives parallelTasks() functions their ctx (workerInfo, elementIndex), and refuses onStart', async () => {
    const pool = Pool(() => spawn(new Worker(TASKS)), 2);
    try {
      const scheduler = threadsScheduler({ pool });
      const out = await lastValueFrom(fromIterable([10, 11]).pipe(mapParallel(task('describe'), { workers: 2, scheduler, ordered: true }), toArray()));
      expect(out.map((o: any) => [o.x, o.workers, o.elementIndex])).toEqual([
        [10, 2, [0]],
        [11, 2, [1]],
      ]);
      const { result } = record(fromIterable([1]).pipe(mapParallel(task('double'), { scheduler, onStart: task('onStart') })));
      expect((await result).error).toBeInstanceOf(WorkerFunctionError);
      expect(await pool.queue((thread) => thread.double(21))).toBe(42); // the app's own calls, as before
    } finally {
      await pool.terminate(true);
    }
  });

  it('fails the element whose worker exits, and every later one the Pool gives that worker, with WorkerCrashedError', async () => {
    const pool = Pool(() => spawn(new Worker(PLAIN)), 1);
    try {
      const scheduler = threadsScheduler({ pool });
      const items = [{ i: 0 }, { i: 1, exit: 5 }, { i: 2 }, { i: 3 }];
      const out: Array<{ i: number; error?: unknown }> = await lastValueFrom(
        fromIterable(items).pipe(mapParallel(task<any, { i: number }>('work'), { scheduler, ordered: true, onError: (error, v: { i: number }) => ({ i: v.i, error }) }), toArray()),
      );
      expect(out.map((o) => o.i)).toEqual([0, 1, 2, 3]);
      expect(out[0].error).toBeUndefined();
      for (const o of out.slice(1)) {
        expect(o.error).toBeInstanceOf(WorkerCrashedError);
        expect((o.error as WorkerCrashedError).exitCode).toBe(5);
        expect((o.error as WorkerCrashedError).elementIndex).toEqual([o.i]);
      }
    } finally {
      await pool.terminate(true);
    }
  });

  it('fails elements with WorkerCrashedError when the Pool could not start a worker (its queue() throws ever after)', async () => {
    const cannot = new Error('cannot spawn');
    const pool = Pool(() => Promise.reject(cannot), 1);
    await new Promise<void>((resolve) => pool.events().subscribe({ error: () => resolve() })); // the Pool has seen its failed start
    const scheduler = threadsScheduler({ pool });
    const { result } = record(fromIterable([1, 2]).pipe(mapParallel(task('identity'), { scheduler })));
    const { error } = await result;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as WorkerCrashedError).cause).toBe(cannot);
  });
});
