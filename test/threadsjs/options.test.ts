// threadsScheduler's options and how a stage names a threads.js worker's functions.
import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { spawn, Thread, Worker } from 'threads';
import { fromIterable, InvalidOptionError, mapParallel, task, WorkerCrashedError, WorkerFunctionError } from 'rxjs-parallel';
import { parallelTasks, threadsScheduler } from 'rxjs-parallel/threads';
import { record } from '../support/util.js';

// threads.js resolves a Worker path against the file that constructs it: this one.
const PLAIN = '../fixtures/threads/faults.worker.mjs';
const TASKS = '../fixtures/threads/faults-tasks.worker.mjs';
const FUNCTION = '../fixtures/threads/function.worker.mjs';
const spawnPlain = () => spawn(new Worker(PLAIN));

function optionError(make: () => unknown): InvalidOptionError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
}

/** Runs a one-element stage and returns the error it fails with. */
async function failure(scheduler: ReturnType<typeof threadsScheduler>, fn: any, extra: object = {}): Promise<unknown> {
  try {
    const { result } = record(fromIterable([1]).pipe(mapParallel(fn, { scheduler, ...extra })));
    return (await result).error;
  } finally {
    await scheduler.close();
  }
}

describe('threadsScheduler options', () => {
  it('takes exactly one of spawn and pool, and checks each option when called', () => {
    expect(optionError(() => threadsScheduler({})).option).toBe('spawn');
    expect(optionError(() => threadsScheduler(undefined as any)).option).toBe('spawn');
    expect(optionError(() => threadsScheduler({ spawn: spawnPlain, pool: { queue: () => Promise.resolve() } })).option).toBe('pool');
    expect(optionError(() => threadsScheduler({ spawn: 'w.js' as any })).option).toBe('spawn');
    expect(optionError(() => threadsScheduler({ spawn: spawnPlain, workers: 0 })).option).toBe('workers');
    expect(optionError(() => threadsScheduler({ spawn: spawnPlain, startTimeout: -1 })).option).toBe('startTimeout');
    expect(optionError(() => threadsScheduler({ spawn: spawnPlain, wokers: 2 } as any)).option).toBe('wokers');
    expect(optionError(() => threadsScheduler({ pool: {} as any })).option).toBe('pool');
    expect(optionError(() => threadsScheduler({ pool: { queue: () => Promise.resolve() }, workers: 2 })).option).toBe('workers');
  });

  it('fails the stream with InvalidOptionError when spawn() gives something other than a threads.js thread', async () => {
    const error = await failure(threadsScheduler({ spawn: () => ({ square: (x: number) => x * x }), workers: 1 }), task('square'));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('spawn');
  });

  it('counts a worker whose spawn() does not settle within startTimeout as failed to start', async () => {
    const error = await failure(threadsScheduler({ spawn: () => new Promise(() => {}), workers: 1, startTimeout: 10 }), task('identity'));
    expect(error).toBeInstanceOf(WorkerCrashedError);
  });

  it('close() ends the workers it spawned', async () => {
    const spawned: any[] = [];
    const scheduler = threadsScheduler({
      spawn: () => {
        const thread = spawn(new Worker(PLAIN));
        spawned.push(thread);
        return thread;
      },
      workers: 2,
    });
    await lastValueFrom(fromIterable([1, 2, 3, 4]).pipe(mapParallel(task('identity'), { workers: 2, scheduler }), toArray()));
    const threads = await Promise.all(spawned);
    expect(threads).toHaveLength(2);
    const terminated = threads.map(
      (thread) => new Promise<void>((resolve) => Thread.events(thread).subscribe((event: { type: string }) => event.type === 'termination' && resolve())),
    );
    await scheduler.close();
    await Promise.all(terminated);
    expect(terminated).toHaveLength(2);
  });

  it('parallelTasks() takes an object of functions', () => {
    expect(optionError(() => parallelTasks(null as any)).option).toBe('tasks');
    expect(optionError(() => parallelTasks({ a: 1 } as any)).option).toBe('tasks.a');
    expect(Object.keys(parallelTasks({ a: (x: number) => x }))).toEqual(['a', 'rxjs-parallel:call']);
  });
});

describe('naming a threads.js worker function', () => {
  it("calls a function worker (expose(fn)) as task('default')", async () => {
    const scheduler = threadsScheduler({ spawn: () => spawn(new Worker(FUNCTION)), workers: 1 });
    try {
      const out = await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(task<number, number>('default'), { scheduler, ordered: true }), toArray()));
      expect(out).toEqual([1, 4, 9]);
    } finally {
      await scheduler.close();
    }
    expect(await failure(threadsScheduler({ spawn: () => spawn(new Worker(FUNCTION)), workers: 1 }), task('square'))).toBeInstanceOf(WorkerFunctionError);
  });

  it('fails the stream with WorkerFunctionError for a name the worker does not expose', async () => {
    for (const file of [PLAIN, TASKS]) {
      const error = await failure(threadsScheduler({ spawn: () => spawn(new Worker(file)), workers: 1 }), task('nope'));
      expect(error).toBeInstanceOf(WorkerFunctionError);
      expect((error as WorkerFunctionError).functionName).toBe('nope');
    }
  });

  it('fails the stream with WorkerFunctionError for a plain function or a task() with a module', async () => {
    expect(await failure(threadsScheduler({ spawn: spawnPlain, workers: 1 }), (x: number) => x)).toBeInstanceOf(WorkerFunctionError);
    expect(await failure(threadsScheduler({ spawn: spawnPlain, workers: 1 }), task('/abs/tasks.js', 'identity'))).toBeInstanceOf(WorkerFunctionError);
  });

  it('fails the stream with WorkerFunctionError for onStart or onEnd on a plain worker (they need parallelTasks())', async () => {
    for (const hook of ['onStart', 'onEnd']) {
      const error = await failure(threadsScheduler({ spawn: spawnPlain, workers: 1 }), task('identity'), { [hook]: task('identity') });
      expect(error).toBeInstanceOf(WorkerFunctionError);
    }
  });
});
