// Faults found by adversarial runs, on the in-process schedulers (the thread and process ones are
// in test/threads/): odd thrown values, an inner iterable that throws while read, functions that can
// never run, timers beyond what a timer holds, waits on onStart/onEnd that must be bounded, the sync
// scheduler running inline, workers defaulting to the scheduler's size, and log-and-skip.
import { describe, expect, it } from 'vitest';
import { lastValueFrom, map, Observable, of, take, toArray } from 'rxjs';
import {
  fromIterable,
  flatMapParallel,
  InvalidOptionError,
  mapParallel,
  processScheduler,
  SKIP,
  StageError,
  syncScheduler,
  taskScheduler,
  TaskTimeoutError,
  threadScheduler,
  WorkerCrashedError,
  WorkerFunctionError,
  type SchedulerName,
} from 'rxjs-parallel';
import { record, runNode } from '../support/util.js';

const all = <T>(o: Observable<T>) => lastValueFrom(o.pipe(toArray()));

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}
function circular(): Error {
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  (a as { cause?: unknown }).cause = b;
  return a;
}
const oddValues: Array<[string, () => unknown]> = [
  ['a null-prototype object', () => Object.create(null)],
  ['an object whose toString throws', () => ({ toString: () => { throw new Error('no'); } })],
  ['a symbol', () => Symbol('thrown')],
  ['a revoked proxy', revoked],
  ['an error with a circular cause', circular],
  ['undefined', () => undefined],
];

describe.each(['task', 'sync'] as const)('%s scheduler: any thrown value becomes the cause of a StageError', (scheduler) => {
  it.each(oddValues)('%s, thrown or rejected, with onError "throw" or a function', async (_name, make) => {
    for (const reject of [false, true]) {
      const thrown = make();
      const fn = reject ? () => Promise.reject(thrown) : () => { throw thrown; };
      const { error } = await record(of(1).pipe(mapParallel(fn, { scheduler }))).result;
      expect(error).toBeInstanceOf(StageError);
      expect((error as StageError).cause).toBe(thrown);
      expect(typeof (error as Error).message).toBe('string');
      const seen: unknown[] = [];
      const out = await all(of(1).pipe(mapParallel(fn, { scheduler, onError: (e) => (seen.push(e), 'replaced') })));
      expect(out).toEqual(['replaced']);
      expect(seen[0]).toBe(thrown);
    }
  });
});

describe.each(['task', 'sync'] as const)('%s scheduler: an inner iterable that throws while it is read', (scheduler) => {
  const failing = function* () {
    yield 1;
    throw new Error('x');
  };
  it('emits what came before, then fails once with a StageError whose cause is the error', async () => {
    const { values, error } = await record(fromIterable([1]).pipe(flatMapParallel(failing, { scheduler }))).result;
    expect(values).toEqual([1]);
    expect(error).toBeInstanceOf(StageError);
    expect(((error as StageError).cause as Error).message).toBe('x');
  });
  it("skips the rest of that element under 'skip'", async () => {
    expect(await all(fromIterable([1, 2]).pipe(flatMapParallel(failing, { scheduler, onError: 'skip' })))).toEqual([1, 1]);
  });
  it('fails the stream when [Symbol.iterator] or return() throws, never the process', async () => {
    const noIterator = { [Symbol.iterator]() { throw new Error('no iterator'); } };
    const { error } = await record(fromIterable([1]).pipe(flatMapParallel(() => noIterator, { scheduler }))).result;
    expect(error).toBeInstanceOf(StageError);
    let returned = 0;
    const badReturn = {
      [Symbol.iterator]: () => ({ next: () => ({ value: 1, done: false }), return: () => { returned++; throw new Error('return failed'); } }),
    };
    expect(await all(fromIterable([1]).pipe(flatMapParallel(() => badReturn, { scheduler }), take(2)))).toEqual([1, 1]);
    expect(returned).toBe(1);
  });
});

describe('a function that can never run is not an element failure', () => {
  const factor = 2;
  const closure = (x: number) => x * factor; // uses its module's scope: cannot be rebuilt in a worker
  it.each(['thread', 'process'] as const)("%s: fails the stream with WorkerFunctionError whatever onError and retries say", async (scheduler) => {
    for (const options of [{ onError: 'skip' as const }, { onError: () => -1 }, { retries: 3 }, {}]) {
      const { error, values } = await record(fromIterable([1, 2, 3]).pipe(mapParallel(closure, { scheduler, ...options }))).result;
      expect(error).toBeInstanceOf(WorkerFunctionError);
      expect(values).toEqual([]);
    }
  });
  it('runs fine in-process, where the closure is in scope', async () => {
    expect(await all(fromIterable([1, 2, 3]).pipe(mapParallel(closure, { scheduler: 'task', ordered: true })))).toEqual([2, 4, 6]);
  });
});

describe('millisecond options are checked against what a timer can hold', () => {
  const tooLong = 2 ** 31;
  it('timeout', () => {
    expect(() => mapParallel((x) => x, { timeout: tooLong })).toThrow(InvalidOptionError);
    expect(() => mapParallel((x) => x, { timeout: 2 ** 31 - 1 })).not.toThrow();
    expect(() => mapParallel((x) => x, { timeout: Infinity })).not.toThrow(); // no limit
  });
  it.each([
    ['threadScheduler', (o: object) => threadScheduler(o)],
    ['processScheduler', (o: object) => processScheduler(o)],
    ['taskScheduler', (o: object) => taskScheduler(o)],
    ['syncScheduler', (o: object) => syncScheduler(o)],
  ] as const)('%s: startTimeout, endTimeout (and cancelGrace on pools)', (_name, make) => {
    for (const option of ['startTimeout', 'endTimeout']) {
      expect(() => make({ [option]: tooLong })).toThrow(InvalidOptionError);
      try {
        make({ [option]: tooLong });
      } catch (error) {
        expect((error as InvalidOptionError).option).toBe(option);
        expect((error as InvalidOptionError).expected).toMatch(/2147483647/);
      }
      expect(() => make({ [option]: Infinity })).not.toThrow();
    }
  });
  it('a timeout of 2³¹ − 1 ms does not fire at once', async () => {
    expect(await all(of(1, 2).pipe(mapParallel(async (x: number) => x, { timeout: 2 ** 31 - 1 })))).toEqual([1, 2]);
  });
});

describe('every wait on onStart and onEnd is bounded', () => {
  it.each(['task', 'sync'] as const)('%s: an onEnd that never settles fails the completion with TaskTimeoutError (phase onEnd)', async (kind) => {
    const scheduler = kind === 'task' ? taskScheduler({ endTimeout: 50 }) : syncScheduler({ endTimeout: 50 });
    const { error, values } = await record(of(1, 2).pipe(mapParallel((x: number) => x, { scheduler, onEnd: () => new Promise(() => {}) }))).result;
    expect(values.sort()).toEqual([1, 2]);
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect((error as TaskTimeoutError).phase).toBe('onEnd');
  });
  it('task: an onStart that never settles fails the stage with TaskTimeoutError (phase onStart)', async () => {
    const { error } = await record(of(1).pipe(mapParallel((x: number) => x, { scheduler: taskScheduler({ startTimeout: 50 }), onStart: () => new Promise(() => {}) }))).result;
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect((error as TaskTimeoutError).phase).toBe('onStart');
  });
  // The input: unsubscribed while onStart hangs, the process must still be able to exit.
  it.each(['task', 'thread', 'process'] as const)('%s: a process whose onStart never settles exits once unsubscribed', async (kind) => {
    const { code, stdout } = await runNode(new URL('../fixtures/hung-onstart.mjs', import.meta.url), [kind]);
    expect(stdout.trim()).toBe('unsubscribed');
    expect(code).toBe(0);
  }, 20_000);
  // Subscribed, with nothing pending but the bounded wait on onStart: the timer must hold the process
  // open until it fires, so the stage fails loudly instead of the process exiting in silence.
  it.each(['task', 'thread', 'process'] as const)('%s: a hung onStart with nothing else pending fails the stage, not exits silently', async (kind) => {
    const { code, stdout } = await runNode(new URL('../fixtures/hung-onstart.mjs', import.meta.url), [kind, 'wait']);
    expect(stdout.trim()).toBe('TaskTimeoutError onStart');
    expect(code).toBe(0);
  }, 20_000);
});

describe('the sync scheduler runs each element inline, as RxJS operators do', () => {
  /** A synchronous source of 0..9 that stops when its subscriber closes, counting what it read. */
  const countedSource = () => {
    let count = 0;
    const source = new Observable<number>((subscriber) => {
      for (let i = 0; i < 10 && !subscriber.closed; i++) {
        count++;
        subscriber.next(i);
      }
      subscriber.complete();
    });
    return { source, reads: () => count };
  };
  it('take(3) stops a synchronous source after 3 reads', () => {
    const { source, reads } = countedSource();
    const out: number[] = [];
    source.pipe(mapParallel((x: number) => x, { scheduler: 'sync' }), take(3)).subscribe((x) => out.push(x));
    expect(out).toEqual([0, 1, 2]); // synchronously
    expect(reads()).toBe(3);
  });
  it('take(3) after two sync stages, with an operator between them, still reads 3; a synchronous onStart keeps it inline', () => {
    const { source, reads } = countedSource();
    const out: number[] = [];
    source
      .pipe(
        mapParallel((x: number) => x, { scheduler: 'sync', onStart: () => ({ db: 1 }) }),
        map((x) => x),
        mapParallel((x: number) => x, { scheduler: 'sync' }),
        take(3),
      )
      .subscribe((x) => out.push(x));
    expect(out).toEqual([0, 1, 2]);
    expect(reads()).toBe(3);
  });

  it('take(3) over a synchronous inner generator reads it 3 times', () => {
    let reads = 0;
    const out: number[] = [];
    of(1).pipe(
      flatMapParallel(function* () {
        for (let i = 0; ; i++) {
          reads++;
          yield i;
        }
      }, { scheduler: 'sync' }),
      take(3),
    ).subscribe((x) => out.push(x));
    expect(out).toEqual([0, 1, 2]);
    expect(reads).toBe(3);
  });
});

describe('workers defaults to the scheduler\'s size', () => {
  it('a shared pool of 4 runs 4 at once without `workers`', async () => {
    const pool = threadScheduler({ workers: 4 });
    try {
      const infos = await all(fromIterable([1, 2, 3, 4, 5, 6, 7, 8]).pipe(mapParallel((_x: number, ctx) => ctx.workerInfo.workers, { scheduler: pool })));
      expect(new Set(infos)).toEqual(new Set([4]));
    } finally {
      await pool.close();
    }
  });
  it.each<[SchedulerName, number]>([
    ['task', 1],
    ['sync', 1],
  ])('%s: %i', async (scheduler, workers) => {
    const infos = await all(of(1, 2).pipe(mapParallel((_x: number, ctx) => ctx.workerInfo.workers, { scheduler })));
    expect(new Set(infos)).toEqual(new Set([workers]));
  });
  it('a private thread pool: the number of CPUs', async () => {
    const { availableParallelism } = await import('node:os');
    const infos = await all(of(1).pipe(mapParallel((_x: number, ctx) => ctx.workerInfo.workers, { scheduler: 'thread' })));
    expect(infos).toEqual([availableParallelism()]);
  });
});

describe.each(['task', 'sync', 'thread', 'process'] as const)('%s scheduler: onError may return SKIP (log and skip)', (scheduler) => {
  it('drops the element; other replacements are emitted', async () => {
    const logged: number[] = [];
    const out = await all(
      fromIterable([1, 2, 3, 4]).pipe(
        mapParallel(
          (x: number) => {
            if (x % 2 === 0) throw new Error(`bad ${x}`);
            return x;
          },
          { scheduler, ordered: true, onError: (_e, x: number) => (logged.push(x), x === 4 ? -4 : SKIP) },
        ),
      ),
    );
    expect(out).toEqual([1, 3, -4]);
    // onError runs as each failure comes in, from whichever worker: in completion order.
    expect(logged.sort()).toEqual([2, 4]);
  });
  it('a Promise of SKIP drops it too', async () => {
    const out = await all(fromIterable([1, 2]).pipe(mapParallel((x: number) => { if (x === 2) throw new Error('x'); return x; }, { scheduler, onError: async () => SKIP })));
    expect(out).toEqual([1]);
  });
});

describe('closing a shared task scheduler', () => {
  it('ends the leases still open, as a pool does: calls in work fail with WorkerCrashedError, then onEnd runs', async () => {
    const scheduler = taskScheduler();
    let ended = 0;
    let started!: () => void;
    const inWork = new Promise<void>((resolve) => (started = resolve));
    const { result } = record(
      fromIterable([1, 2, 3]).pipe(mapParallel(() => (started(), new Promise(() => {})), { scheduler, onEnd: () => void ended++ })),
    );
    await inWork;
    await scheduler.close();
    const { error } = await result;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(ended).toBe(1);
  });
});
