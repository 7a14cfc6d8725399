// threads.js's faults, contained by threadsScheduler: real threads.js workers that exit, throw
// outside a call, fail to load, return falsy values, and hold many calls at once.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { spawn, Thread, Worker } from 'threads';
import { flatMapOrdered, fromIterable, mapParallel, StageError, task, TaskTimeoutError, WorkerCrashedError } from 'rxjs-parallel';
import { threadsScheduler } from 'rxjs-parallel/threads';
import { startBus, type Bus } from '../support/bus.js';
import { record, turn } from '../support/util.js';

// threads.js resolves a Worker path against the file that constructs it: this one.
const WORKERS = { plain: '../fixtures/threads/faults.worker.mjs', parallelTasks: '../fixtures/threads/faults-tasks.worker.mjs' } as const;
const LOAD = '../fixtures/threads/throws-at-load.worker.mjs';
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
const FALSY = [0, false, '', null, undefined, Number.NaN];

let bus: Bus;
beforeAll(async () => {
  bus = await startBus();
});
afterAll(() => bus.close());
beforeEach(() => bus.reset());

describe.each(Object.keys(WORKERS) as (keyof typeof WORKERS)[])('over %s threads.js workers', (kind) => {
  const make = (workers: number) => threadsScheduler({ spawn: () => spawn(new Worker(WORKERS[kind])), workers });
  type Out = { i: number; threadId?: number; error?: unknown };
  const work = task<any, Out>('work');

  it('a worker that exits fails exactly the elements it held, with WorkerCrashedError, and is replaced', async () => {
    const scheduler = make(1);
    try {
      // Two leases on one worker: element 1 waits on a gate that never opens while element 2 exits the thread.
      const items = [{ i: 0 }, { i: 1, gate: 'never' }, { i: 2, exit: 7 }, ...range(3, 8).map((i) => ({ i }))];
      const out: Out[] = await lastValueFrom(
        fromIterable(items).pipe(mapParallel(work, { workers: 2, scheduler, onError: (error, v: { i: number }) => ({ i: v.i, error }) }), toArray()),
      );
      out.sort((a, b) => a.i - b.i);
      expect(out.map((o) => o.i)).toEqual(range(0, 8));
      const failed = out.filter((o) => o.error !== undefined);
      expect(failed.map((o) => o.i)).toEqual([1, 2]);
      for (const { i, error } of failed) {
        expect(error).toBeInstanceOf(WorkerCrashedError);
        expect((error as WorkerCrashedError).exitCode).toBe(7);
        expect((error as WorkerCrashedError).elementIndex).toEqual([i]);
      }
      const first = out[0].threadId;
      for (const o of out.slice(3)) expect(o.threadId).not.toBe(first); // ran on the replacement
    } finally {
      await scheduler.close();
    }
  });

  it('a worker that throws outside a call (threads.js keeps it running, the call pending) fails that element and is replaced', async () => {
    const scheduler = make(1);
    try {
      const items = [{ i: 0 }, { i: 1, throwLater: true }, ...range(2, 6).map((i) => ({ i }))];
      const out: Out[] = await lastValueFrom(
        fromIterable(items).pipe(mapParallel(work, { scheduler, ordered: true, onError: (error, v: { i: number }) => ({ i: v.i, error }) }), toArray()),
      );
      expect(out.map((o) => o.i)).toEqual(range(0, 6));
      const { error } = out[1];
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).elementIndex).toEqual([1]);
      expect((error as WorkerCrashedError).cause).toMatchObject({ name: 'RangeError', message: 'uncaught in 1' });
      for (const o of out.slice(2)) expect(o.threadId).not.toBe(out[0].threadId);
    } finally {
      await scheduler.close();
    }
  });

  it('delivers falsy results: 0, false, empty string, null, undefined, NaN', async () => {
    const scheduler = make(1);
    try {
      const mapped = await lastValueFrom(fromIterable(FALSY).pipe(mapParallel(task('identity'), { scheduler, ordered: true }), toArray()));
      expect(mapped).toEqual(FALSY);
      const listed = await lastValueFrom(fromIterable([FALSY]).pipe(flatMapOrdered(task<unknown[], unknown[]>('listAll'), { scheduler }), toArray()));
      expect(listed).toEqual(FALSY);
    } finally {
      await scheduler.close();
    }
  });

  it('holds 30 calls in flight on one worker without a MaxListenersExceededWarning', async () => {
    const scheduler = make(1);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const done = lastValueFrom(fromIterable(range(0, 30).map((i) => ({ i, gate: 'go' }))).pipe(mapParallel(task('work'), { workers: 30, scheduler }), toArray()));
      await bus.waitFor('start', 30); // all 30 in flight at once
      bus.open('go');
      expect(await done).toHaveLength(30);
      await turn(); // a warning is emitted on the next tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await scheduler.close();
    }
  });
});

describe('many workers', () => {
  it('starts 12 workers at once without a MaxListenersExceededWarning', async () => {
    const scheduler = threadsScheduler({ spawn: () => spawn(new Worker(WORKERS.plain)), workers: 12 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const items = range(0, 12).map((i) => ({ i, gate: 'all' }));
      const done = lastValueFrom(fromIterable(items).pipe(mapParallel(task<any, { threadId: number }>('work'), { workers: 12, scheduler }), toArray()));
      await bus.waitFor('start', 12); // one element in work on each worker
      bus.open('all');
      const out = await done;
      expect(new Set(out.map((o) => o.threadId)).size).toBe(12);
      await turn();
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await scheduler.close();
    }
  });
});

describe('what crosses from a plain worker, and what from parallelTasks()', () => {
  it("keeps a thrown error's name and message from a plain worker; its code and cause only through parallelTasks()", async () => {
    const causes: Record<string, any> = {};
    for (const kind of Object.keys(WORKERS) as (keyof typeof WORKERS)[]) {
      const scheduler = threadsScheduler({ spawn: () => spawn(new Worker(WORKERS[kind])), workers: 1 });
      try {
        const { result } = record(fromIterable([1]).pipe(mapParallel(task('fail'), { scheduler })));
        const { error } = await result;
        expect(error).toBeInstanceOf(StageError);
        causes[kind] = (error as StageError).cause;
      } finally {
        await scheduler.close();
      }
    }
    expect(causes.plain).toMatchObject({ name: 'RangeError', message: 'bad 1' });
    expect(causes.plain.code).toBeUndefined();
    expect(causes.plain.cause).toBeUndefined();
    expect(causes.parallelTasks).toMatchObject({ name: 'RangeError', message: 'bad 1', code: 'E_BAD', cause: { name: 'TypeError', message: 'root' } });
  });

  it('fails a late element of a plain worker with TaskTimeoutError; the call itself runs on in the worker', async () => {
    const scheduler = threadsScheduler({ spawn: () => spawn(new Worker(WORKERS.plain)), workers: 1 });
    try {
      const { result } = record(fromIterable([{ i: 0, gate: 'late' }]).pipe(mapParallel(task('work'), { scheduler, timeout: 100 })));
      const { error } = await result;
      expect(error).toBeInstanceOf(TaskTimeoutError);
      bus.open('late');
      const [passed] = await bus.waitFor('passed');
      expect(passed.i).toBe(0);
    } finally {
      await scheduler.close();
    }
  });
});

describe('threads.js alone, for comparison (the faults the scheduler contains)', () => {
  it('drops falsy values a worker observable emits', async () => {
    const thread = await spawn(new Worker(WORKERS.plain));
    try {
      const seen: unknown[] = [];
      await new Promise<void>((resolve, reject) => thread.emitAll([...FALSY, 1]).subscribe({ next: (v: unknown) => seen.push(v), error: reject, complete: resolve }));
      expect(seen).toEqual([1]);
    } finally {
      await Thread.terminate(thread);
    }
  });

  it('warns MaxListenersExceededWarning past 10 calls in flight on one worker', async () => {
    const thread = await spawn(new Worker(WORKERS.plain));
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const calls = range(0, 15).map((i) => thread.work({ i, gate: 'go' }));
      await bus.waitFor('start', 15);
      bus.open('go');
      await Promise.all(calls);
      await turn();
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
      await Thread.terminate(thread);
    }
  });
});

describe('over parallelTasks() workers', () => {
  it('streams a worker observable through flatMap with its falsy values', async () => {
    const scheduler = threadsScheduler({ spawn: () => spawn(new Worker(WORKERS.parallelTasks)), workers: 1 });
    try {
      const out = await lastValueFrom(fromIterable([FALSY]).pipe(flatMapOrdered(task<unknown[], unknown[]>('emitAll'), { scheduler }), toArray()));
      expect(out).toEqual(FALSY);
    } finally {
      await scheduler.close();
    }
  });
});

describe('a worker that fails to load (before threads/worker is imported)', () => {
  it('is replaced: a load that fails once costs nothing, and the process does not crash', async () => {
    const scheduler = threadsScheduler({ spawn: () => spawn(new Worker(LOAD, { workerData: { fails: 1 } })), workers: 1 });
    try {
      const out = await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(task('double'), { scheduler, ordered: true }), toArray()));
      expect(out).toEqual([2, 4, 6]);
      expect(bus.of('count').filter((e) => e.key === 'load')).toHaveLength(2); // the failed load and its replacement
    } finally {
      await scheduler.close();
    }
  });

  it('fails the stream with WorkerCrashedError, the load error as its cause, after three failed starts', async () => {
    // spawn's own init timeout is set far beyond the test's: the failure comes from the worker's error, not from it.
    const scheduler = threadsScheduler({ spawn: () => spawn(new Worker(LOAD, { workerData: { fails: 99 } }), { timeout: 3_600_000 }), workers: 1 });
    try {
      const { result } = record(fromIterable([1, 2, 3]).pipe(mapParallel(task('double'), { scheduler })));
      const { error, values } = await result;
      expect(values).toEqual([]);
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).cause).toMatchObject({ name: 'TypeError', message: 'load 3 failed' });
      expect(bus.of('count').filter((e) => e.key === 'load')).toHaveLength(3);
    } finally {
      await scheduler.close();
    }
  });
});
