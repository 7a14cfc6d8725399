// The run lane on real workers (threads and processes, fixed and automatic batches, in order and
// not): runs of values go to workers with no per-element state, and whatever element-specific
// happens inside a run (a throw, a worker that exits, a value that cannot be cloned, an index that
// breaks the range, downstream that stops, the scheduler closing, an overflow that drops) is acted
// on for that element alone, with every other element out once. test/unit/run-lane.test.ts drives
// the same with a scripted scheduler, at every moment.
import { describe, expect, it } from 'vitest';
import { filter, from, lastValueFrom, Subject, take, toArray } from 'rxjs';
import { eachParallel, filterParallel, flatMapOrdered, flatMapParallel, fromIterable, mapParallel, processScheduler, run, threadScheduler, WorkerCrashedError, type Scheduler } from 'rxjs-parallel';

const kinds = [
  { kind: 'thread', make: (workers = 2) => threadScheduler({ workers }) },
  { kind: 'process', make: (workers = 2) => processScheduler({ workers }) },
] as const;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const cases = [
  { batchSize: 'auto' as const, ordered: true },
  { batchSize: 'auto' as const, ordered: false },
  { batchSize: 64, ordered: true },
  { batchSize: 64, ordered: false },
];
const sorted = (xs: unknown[]) => [...xs].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));
/** The outputs are the expected ones: in that order when the stage is ordered, as a multiset when not. */
function expectOutputs(out: unknown[], expected: unknown[], ordered: boolean): void {
  expect(ordered ? out : sorted(out)).toEqual(ordered ? expected : sorted(expected));
}

describe.each(kinds)('$kind scheduler: the run lane', ({ make }) => {
  it.each(cases)('a throw inside a run fails that element alone (batchSize $batchSize, ordered $ordered)', async ({ batchSize, ordered }) => {
    const scheduler: Scheduler = make();
    // The first element, one in the middle, the last: each shipped function is self-contained.
    const throwing = [
      { bad: 0, fn: (x: number) => (x === 0 ? Promise.reject(new Error('bad 0')) : x * 2) },
      {
        bad: 500,
        fn: (x: number) => {
          if (x === 500) throw new Error('bad 500');
          return x * 2;
        },
      },
      {
        bad: 1999,
        fn: (x: number) => {
          if (x === 1999) throw new Error('bad 1999');
          return x * 2;
        },
      },
    ];
    try {
      for (const { bad, fn } of throwing) {
        const out = await lastValueFrom(
          fromIterable(range(2000)).pipe(
            mapParallel(fn, { scheduler, batchSize, ordered, onError: (error, x) => `failed ${x}: ${(error as Error).message}` }),
            toArray(),
          ),
        );
        const expected = range(2000).map((x) => (x === bad ? `failed ${x}: bad ${x}` : x * 2));
        expectOutputs(out, expected, ordered);
      }
    } finally {
      await scheduler.close();
    }
  });

  it.each(cases)('a worker that exits inside a run fails only the element it was running (batchSize $batchSize, ordered $ordered)', async ({ batchSize, ordered }) => {
    const scheduler: Scheduler = make();
    try {
      const out = await lastValueFrom(
        fromIterable(range(3000)).pipe(
          mapParallel(
            (x: number) => {
              if (x === 1234) process.exit(3);
              return x + 1;
            },
            { scheduler, batchSize, ordered, onError: (error, x) => `${(error as Error).name} ${x}` },
          ),
          toArray(),
        ),
      );
      const expected = range(3000).map((x) => (x === 1234 ? 'WorkerCrashedError 1234' : x + 1));
      expectOutputs(out, expected, ordered);
    } finally {
      await scheduler.close();
    }
  });

  it.each(cases)('a value that cannot be cloned fails alone, the rest of its run goes on (batchSize $batchSize, ordered $ordered)', async ({ batchSize, ordered }) => {
    const scheduler: Scheduler = make();
    try {
      const values: unknown[] = range(500).map((i) => (i === 250 ? { i, f: () => i } : i));
      const out = await lastValueFrom(
        fromIterable(values).pipe(
          mapParallel((x: unknown) => x, { scheduler, batchSize, ordered, onError: (error) => (error as Error).name }),
          toArray(),
        ),
      );
      const expected = values.map((v) => (typeof v === 'number' ? v : 'UncloneableValueError'));
      expectOutputs(out, expected, ordered);
    } finally {
      await scheduler.close();
    }
  });

  it.each(cases)('indexes that do not follow each other (after an unordered filter) stay each element’s own (batchSize $batchSize, ordered $ordered)', async ({ batchSize, ordered }) => {
    const scheduler: Scheduler = make();
    try {
      const out = await lastValueFrom(
        fromIterable(range(1000)).pipe(
          filterParallel(async (x: number) => x % 3 !== 0, { workers: 3 }),
          mapParallel(
            (x: number, ctx) => {
              if (x === 500) throw new Error('five hundred');
              return [x, ctx.elementIndex];
            },
            { scheduler, batchSize, ordered, onError: (_error, _x, { elementIndex }) => ['failed', elementIndex] },
          ),
          toArray(),
        ),
      );
      const byIndex = out.map(([x, index]) => [x, index]);
      for (const [x, index] of byIndex) if (x !== 'failed') expect(index).toEqual([x]);
      expect(byIndex.filter(([x]) => x === 'failed')).toEqual([['failed', [500]]]);
      expect(sorted(byIndex.filter(([x]) => x !== 'failed').map(([x]) => x))).toEqual(range(1000).filter((x) => x % 3 !== 0 && x !== 500));
    } finally {
      await scheduler.close();
    }
  });

  // A source's own index travels as a plain number between the library's producers and consumers
  // (PullRequest.numberIndex): whatever reads an index (fn's ctx, onError, the next stage, an RxJS
  // operator between) must see the array it stands for.
  it.each(cases)('element indexes through chains: stage after stage, an RxJS operator between, flatMap after, a push source (batchSize $batchSize, ordered $ordered)', async ({ batchSize, ordered }) => {
    const scheduler: Scheduler = make();
    const index = (x: number, ctx: { elementIndex: readonly number[] }): [number, readonly number[]] => [x, ctx.elementIndex];
    try {
      // The lane stage hands each index on to the next stage (on the lane too, and on the sync scheduler).
      const chained = await lastValueFrom(
        fromIterable(range(600)).pipe(
          mapParallel((x: number) => x * 2, { scheduler, batchSize, ordered }),
          mapParallel(index, { scheduler, batchSize, ordered }),
          mapParallel(([x, i]: [number, readonly number[]], ctx) => [x, i, ctx.elementIndex], { scheduler: 'sync', ordered }),
          toArray(),
        ),
      );
      expectOutputs(
        chained,
        range(600).map((i) => [i * 2, [i], [i]]),
        ordered,
      );
      // An RxJS filter between the source and the stage: positions in the source, with gaps.
      const gaps = await lastValueFrom(
        fromIterable(range(600)).pipe(
          filter((x) => x % 4 !== 1),
          mapParallel((x: number, ctx) => {
            if (x === 302) throw new Error('three hundred and two');
            return [x, ctx.elementIndex];
          }, { scheduler, batchSize, ordered, onError: (_error, x, { elementIndex }) => ['failed', x, elementIndex] }),
          toArray(),
        ),
      );
      expectOutputs(
        gaps,
        range(600)
          .filter((x) => x % 4 !== 1)
          .map((x) => (x === 302 ? ['failed', 302, [302]] : [x, [x]])),
        ordered,
      );
      // flatMap after the lane stage: one level more per output.
      const flat = await lastValueFrom(
        fromIterable(range(200)).pipe(
          mapParallel((x: number) => x, { scheduler, batchSize, ordered }),
          (ordered ? flatMapOrdered : flatMapParallel)((x: number, ctx) => [`${x}a:${ctx.elementIndex.join('.')}`, `${x}b`], { workers: 2 }),
          toArray(),
        ),
      );
      expectOutputs(
        flat,
        range(200).flatMap((x) => [`${x}a:${x}`, `${x}b`]),
        ordered,
      );
      const flatIndexes = await lastValueFrom(
        fromIterable(range(200)).pipe(
          mapParallel((x: number) => x, { scheduler, batchSize, ordered }),
          (ordered ? flatMapOrdered : flatMapParallel)((x: number) => [x, x], { workers: 2 }),
          mapParallel(index, { scheduler, batchSize, ordered }),
          toArray(),
        ),
      );
      expectOutputs(
        flatIndexes,
        range(200).flatMap((x) => [
          [x, [x, 0]],
          [x, [x, 1]],
        ]),
        ordered,
      );
      // A push source: the stage numbers what arrives.
      const pushed = await lastValueFrom(from(range(300)).pipe(mapParallel(index, { scheduler, batchSize, ordered }), toArray()));
      expectOutputs(
        pushed,
        range(300).map((x) => [x, [x]]),
        ordered,
      );
    } finally {
      await scheduler.close();
    }
  });

  it.each(cases)('filter and each: a throw inside a run fails that element alone (batchSize $batchSize, ordered $ordered)', async ({ batchSize, ordered }) => {
    const scheduler: Scheduler = make();
    try {
      const verdict = (x: number) => {
        if (x === 777) throw new Error('bad 777');
        return x % 3 !== 0;
      };
      const kept = await lastValueFrom(
        fromIterable(range(2000)).pipe(filterParallel(verdict, { scheduler, batchSize, ordered, onError: (_e, x) => x === 777 }), toArray()),
      );
      const expected = range(2000).filter((x) => x % 3 !== 0 || x === 777);
      expectOutputs(kept, expected, ordered);
      const failed: unknown[] = [];
      await run(
        fromIterable(range(2000)).pipe(
          eachParallel(
            (x: number) => {
              if (x === 1500) process.exit(4);
            },
            { scheduler, batchSize, onError: (error, x) => void failed.push([(error as Error).name, x]) },
          ),
        ),
      );
      expect(failed).toEqual([['WorkerCrashedError', 1500]]);
    } finally {
      await scheduler.close();
    }
  });

  it('stops when downstream does, and leaves nothing running', async () => {
    const scheduler: Scheduler = make();
    const out = await lastValueFrom(fromIterable(range(200_000)).pipe(mapParallel((x: number) => x, { scheduler, batchSize: 'auto', ordered: true }), take(5000), toArray()));
    expect(out).toEqual(range(5000));
    await expect(scheduler.close()).resolves.toBeUndefined();
  });

  it('fails the stage when the scheduler closes under runs in work', async () => {
    const scheduler: Scheduler = make();
    let seen = 0;
    const error = await new Promise<unknown>((resolve) =>
      fromIterable(range(1_000_000))
        .pipe(mapParallel((x: number) => x, { scheduler, batchSize: 'auto' }))
        .subscribe({
          next: () => {
            if (++seen === 1000) void scheduler.close();
          },
          error: resolve,
          complete: () => resolve('complete'),
        }),
    );
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/closed/);
  });

  it.each(['dropNewest', 'dropOldest'] as const)('an overflow that drops (%s) from a push source: what is kept comes out once', async (overflow) => {
    const scheduler: Scheduler = make(1);
    try {
      const subject = new Subject<number>();
      const out = lastValueFrom(subject.pipe(mapParallel((x: number) => x, { scheduler, batchSize: 'auto', maxsize: 4, overflow }), toArray()));
      for (const x of range(5000)) subject.next(x);
      subject.complete();
      const got = await out;
      expect(new Set(got).size).toBe(got.length);
      expect(got.every((x) => x >= 0 && x < 5000)).toBe(true);
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThan(5000); // some were dropped: 5000 pushed at once into a bound of a few
    } finally {
      await scheduler.close();
    }
  });

  // White-box: whether a stage is in its lane shows in nothing but speed, so this watches the lane's
  // own methods (the same module the package entry loads). A stage fed by another stage often has an
  // idle worker and asks a busy one for work back; an answer with nothing in it is nothing
  // element-specific and must not end the lane (it once did, after a few thousand elements). An
  // answer with jobs in it does end it (those jobs become elements): each exit must have one.
  it('a steal answered with nothing keeps the lane (two chained stages)', async () => {
    const lane = (await import('../../dist/esm/core/lane.js')).RunLane.prototype;
    const dispatch = (await import('../../dist/esm/core/dispatch.js')).Dispatcher.prototype;
    const { materialize } = lane;
    const { reclaimed } = dispatch;
    let left = 0;
    let emptyAnswers = 0;
    let givenBack = 0;
    lane.materialize = function (this: typeof lane, ...args: Parameters<typeof materialize>) {
      left++;
      return materialize.apply(this, args);
    };
    dispatch.reclaimed = function (this: typeof dispatch, ...args: Parameters<typeof reclaimed>) {
      if (args[1].length === 0) emptyAnswers++;
      else givenBack++;
      return reclaimed.apply(this, args);
    };
    const scheduler: Scheduler = make();
    try {
      // Until some steal was answered with nothing (the first run usually has several), up to 10 runs.
      for (let round = 0; round < 10 && emptyAnswers === 0; round++) {
        const count = await lastValueFrom(
          fromIterable(range(100_000)).pipe(
            mapParallel((x: number) => x + 1, { scheduler, batchSize: 'auto' }),
            mapParallel((x: number) => x - 1, { scheduler, batchSize: 'auto' }),
            toArray(),
          ),
        );
        expect(count).toHaveLength(100_000);
        expect(left).toBeLessThanOrEqual(givenBack); // every exit from the lane came with jobs given back
      }
    } finally {
      lane.materialize = materialize;
      dispatch.reclaimed = reclaimed;
      await scheduler.close();
    }
  });

  it('runs from a push source (rxjs from) come out as from a pull source', async () => {
    const scheduler: Scheduler = make();
    try {
      const out = await lastValueFrom(from(range(3000)).pipe(mapParallel((x: number) => -x, { scheduler, batchSize: 'auto', ordered: true }), toArray()));
      expect(out).toEqual(range(3000).map((x) => -x));
    } finally {
      await scheduler.close();
    }
  });
});
