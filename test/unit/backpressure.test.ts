import { describe, expect, it } from 'vitest';
import { Subject, lastValueFrom, toArray, from, Observable, tap } from 'rxjs';
import {
  BufferOverflowError,
  filterParallel,
  flatMapOrdered,
  fromIterable,
  mapParallel,
  toAsyncIterable,
  run,
  task,
  threadScheduler,
} from 'rxjs-parallel';
import { deferred, record, turn } from '../support/util.js';

/**
 * A generator that counts its reads and records the worst excess over `credits() + 1`: the stages'
 * credits plus the one value on its way to the consumer (emitted, its loop body not yet entered).
 */
function counted(n: number, credits: () => number) {
  const state = { reads: 0, worst: -Infinity, reachedLimit: deferred() };
  function* gen() {
    for (let i = 0; i < n; i++) {
      state.reads++;
      state.worst = Math.max(state.worst, state.reads - (credits() + 1));
      if (state.reads === credits()) state.reachedLimit.resolve();
      yield i;
    }
  }
  return { state, source: gen() };
}

describe('credits: a pull source is read only on demand', () => {
  it('reads at most workers + maxsize ahead of a consumer that holds a value', async () => {
    const workers = 3;
    const maxsize = 4;
    let consumed = 0;
    const { state, source } = counted(200, () => consumed + workers + maxsize);
    const out$ = fromIterable(source).pipe(mapParallel(async (x: number) => x, { workers, maxsize }));
    for await (const _ of toAsyncIterable(out$)) {
      consumed++;
      if (consumed === 10) {
        await state.reachedLimit.promise; // the stage fills up to its credits while we hold the value...
        for (let i = 0; i < 20; i++) await turn(); // ...and has every chance to read more
        expect(state.reads).toBe(consumed + workers + maxsize);
      }
    }
    expect(consumed).toBe(200);
    expect(state.worst).toBeLessThanOrEqual(0);
  });

  it('bounds reads by the sum of every stage’s credits through three chained stages', async () => {
    const stages = [
      { workers: 2, maxsize: 1 },
      { workers: 1, maxsize: 3 },
      { workers: 4, maxsize: 2 },
    ];
    const credits = stages.reduce((sum, s) => sum + s.workers + s.maxsize, 0);
    let consumed = 0;
    const { state, source } = counted(300, () => consumed + credits);
    const out$ = fromIterable(source).pipe(
      mapParallel(async (x: number) => x + 1, stages[0]),
      filterParallel(async () => true, stages[1]),
      mapParallel(async (x: number) => x - 1, { ...stages[2], ordered: true }),
    );
    const seen: number[] = [];
    for await (const v of toAsyncIterable(out$)) {
      seen.push(v);
      consumed++;
      if (consumed === 50) {
        await state.reachedLimit.promise;
        for (let i = 0; i < 20; i++) await turn();
        expect(state.reads).toBe(consumed + credits);
      }
    }
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(state.worst).toBeLessThanOrEqual(0);
  });

  // prefetch counts elements, rounded up to whole batches: 2 → one batch of 4; 6 → two batches of 4.
  it.each([
    { prefetch: 2, queued: 1 },
    { prefetch: 6, queued: 2 },
  ])('on a thread stage, counts the batches each worker holds queued (prefetch $prefetch: $queued) in its credits', async ({ prefetch, queued }) => {
    const workers = 2;
    const maxsize = 3;
    const batchSize = 4;
    const pool = threadScheduler({ workers, prefetch });
    const credits = workers * batchSize * (1 + queued) + maxsize;
    let consumed = 0;
    const { state, source } = counted(400, () => consumed + credits);
    try {
      const out$ = fromIterable(source).pipe(mapParallel((x: number) => x, { workers, maxsize, batchSize, scheduler: pool, ordered: true }));
      const seen: number[] = [];
      for await (const v of toAsyncIterable(out$)) {
        seen.push(v);
        consumed++;
        if (consumed === 20) {
          await state.reachedLimit.promise;
          for (let i = 0; i < 20; i++) await turn();
          expect(state.reads).toBe(consumed + credits);
        }
      }
      expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => i));
      expect(state.worst).toBeLessThanOrEqual(0);
    } finally {
      await pool.close();
    }
  });

  // batchSize 'auto' grows while elements are short and halves when a batch is slow: the credits it
  // grants as the batch grows must not outlive the shrink (they once piled up over a long stream).
  it("with batchSize 'auto', never reads beyond the bound for the largest batch, however often the batch grows and shrinks", async () => {
    const workers = 2;
    const maxsize = 4;
    const bound = workers * 1024 * 2 + maxsize; // MAX_BATCH 1024, one batch queued behind it
    const sometimesSlow = task<{ i: number; slow: boolean; ms: number }, number>(new URL('../fixtures/workers.mjs', import.meta.url), 'sometimesSlow');
    let emitted = 0;
    const { state, source } = counted(12 * 700, () => emitted + bound);
    const items = (function* () {
      for (const i of source) yield { i, slow: i % 700 >= 690, ms: 25 }; // 690 short elements, then 10 of 25 ms
    })();
    const pool = threadScheduler({ workers });
    try {
      await run(
        fromIterable(items).pipe(
          mapParallel(sometimesSlow, { workers, maxsize, batchSize: 'auto', scheduler: pool }),
          tap(() => emitted++),
        ),
      );
      expect(emitted).toBe(12 * 700);
      expect(state.worst).toBeLessThanOrEqual(0);
    } finally {
      await pool.close();
    }
  });

  it('stays bounded when a slow head element stalls an ordered stage', async () => {
    const head = deferred<number>();
    let reads = 0;
    function* gen() {
      for (let i = 0; i < 1000; i++) {
        reads++;
        yield i;
      }
    }
    const { values, result } = record(
      fromIterable(gen()).pipe(mapParallel((x: number) => (x === 0 ? head.promise : x), { workers: 2, maxsize: 3, ordered: true })),
    );
    for (let i = 0; i < 50; i++) await turn();
    expect(values).toEqual([]);
    expect(reads).toBe(5); // workers + maxsize: the head holds everything behind it
    head.resolve(0);
    const { values: all } = await result;
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('bounds a flatMapOrdered stage by elements, not outputs', async () => {
    let reads = 0;
    function* gen() {
      for (let i = 0; i < 100; i++) {
        reads++;
        yield i;
      }
    }
    let consumed = 0;
    const out$ = fromIterable(gen()).pipe(flatMapOrdered(async (x: number) => [x, x, x], { workers: 2, maxsize: 2 }));
    for await (const _ of toAsyncIterable(out$)) {
      consumed++;
      if (consumed === 30) {
        for (let i = 0; i < 20; i++) await turn();
        // 10 elements fully emitted, element 10 being emitted, 4 more held by the stage
        expect(reads).toBeLessThanOrEqual(Math.ceil(consumed / 3) + 4);
      }
    }
    expect(consumed).toBe(300);
  });

  it('reads a Node Readable on demand and closes it when unsubscribed early', async () => {
    const { Readable } = await import('node:stream');
    let pulled = 0;
    let destroyed = false;
    const readable = new Readable({
      objectMode: true,
      highWaterMark: 1,
      read() {
        this.push(pulled++);
      },
      destroy(_err, cb) {
        destroyed = true;
        cb(null);
      },
    });
    const got: number[] = [];
    for await (const v of toAsyncIterable(fromIterable<number>(readable).pipe(mapParallel(async (x: number) => x, { workers: 2, ordered: true })))) {
      got.push(v);
      if (got.length === 5) break;
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
    await turn();
    expect(destroyed).toBe(true);
    expect(pulled).toBeLessThan(20);
  });
});

describe('overflow: a push upstream', () => {
  it("'error' fails with BufferOverflowError past maxsize", async () => {
    const subject = new Subject<number>();
    const gate = deferred<void>();
    const { result } = record(subject.pipe(mapParallel(async (x: number) => (await gate.promise, x), { workers: 1, maxsize: 2, overflow: 'error', name: 'tight' })));
    for (let i = 0; i < 10; i++) subject.next(i);
    gate.resolve();
    const { error } = await result;
    expect(error).toBeInstanceOf(BufferOverflowError);
    expect((error as BufferOverflowError).stage).toBe('tight');
    expect((error as BufferOverflowError).maxsize).toBe(2);
  });

  it("'dropOldest' keeps the newest, 'dropNewest' the oldest", async () => {
    for (const [overflow, expected] of [
      ['dropOldest', [0, 8, 9]],
      ['dropNewest', [0, 1, 2]],
    ] as const) {
      const subject = new Subject<number>();
      const gate = deferred<void>();
      const working = deferred<void>();
      const { result } = record(
        subject.pipe(mapParallel(async (x: number) => (working.resolve(), await gate.promise, x), { workers: 1, maxsize: 2, overflow, ordered: true })),
      );
      subject.next(0);
      await working.promise; // 0 is in work; 1..9 queue behind it
      for (let i = 1; i < 10; i++) subject.next(i);
      subject.complete();
      gate.resolve();
      expect((await result).values).toEqual(expected);
    }
  });

  it("'buffer' (the default) loses nothing", async () => {
    const subject = new Subject<number>();
    const gate = deferred<void>();
    const { result } = record(subject.pipe(mapParallel(async (x: number) => (await gate.promise, x), { workers: 1, maxsize: 1, ordered: true })));
    for (let i = 0; i < 100; i++) subject.next(i);
    subject.complete();
    gate.resolve();
    expect((await result).values).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('toAsyncIterable', () => {
  it('is lossless over a plain Observable', async () => {
    const out: number[] = [];
    for await (const v of toAsyncIterable(from([1, 2, 3]))) out.push(v);
    expect(out).toEqual([1, 2, 3]);
  });

  it('with maxsize over a push source applies its overflow policy', async () => {
    const source = new Observable<number>((s) => {
      for (let i = 0; i < 10; i++) s.next(i);
      s.complete();
    });
    const kept: number[] = [];
    for await (const v of toAsyncIterable(source, { maxsize: 3, overflow: 'dropOldest' })) kept.push(v);
    expect(kept).toEqual([0, 7, 8, 9]); // 0 went straight to the waiting next(); 3 buffered
    const it = toAsyncIterable(source, { maxsize: 3 });
    expect(await it.next()).toEqual({ value: 0, done: false });
    await expect(it.next()).rejects.toBeInstanceOf(BufferOverflowError); // 1, 2, 3 buffered; 4 overflowed
  });

  it('rethrows the pipeline’s error and unsubscribes on break', async () => {
    const failing = fromIterable([1, 2, 3]).pipe(mapParallel((x: number) => { if (x === 2) throw new Error('two'); return x; }));
    await expect(async () => {
      for await (const _ of toAsyncIterable(failing));
    }).rejects.toThrow(/two/);
    let ended = 0;
    const infinite = fromIterable((function* () { for (let i = 0; ; i++) yield i; })()).pipe(mapParallel(async (x: number) => x, { workers: 2, onEnd: () => void ended++ }));
    for await (const v of toAsyncIterable(infinite)) if (v === 3) break;
    await turn();
    expect(ended).toBe(2);
  });
});

describe('run', () => {
  it('resolves on completion and rejects on error', async () => {
    const seen: number[] = [];
    await run(fromIterable([1, 2]).pipe(mapParallel(async (x: number) => seen.push(x))));
    expect(seen.sort()).toEqual([1, 2]);
    await expect(run(fromIterable([1]).pipe(mapParallel(() => { throw new Error('x'); })))).rejects.toThrow(/x/);
  });

  it('rejects and tears the pipeline down when its signal aborts', async () => {
    const controller = new AbortController();
    let ended = 0;
    const started = deferred();
    const pending = run(
      fromIterable([1, 2, 3]).pipe(mapParallel(() => (started.resolve(), new Promise(() => {})), { onEnd: () => void ended++ })),
      { signal: controller.signal },
    );
    await started.promise;
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await turn();
    expect(ended).toBe(1);
  });
});

describe('lastValueFrom interop', () => {
  it('works with plain RxJS consumers (unbounded demand)', async () => {
    expect(await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel((x: number) => x * 2, { ordered: true }), toArray()))).toEqual([2, 4, 6]);
  });
});
