import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, of, toArray, Subject, interval, take, map, Observable } from 'rxjs';
import {
  eachParallel,
  filterParallel,
  flatMapOrdered,
  flatMapParallel,
  fromIterable,
  mapParallel,
  ordered,
  OrderingError,
  StageError,
  syncScheduler,
  type Context,
} from 'rxjs-parallel';
import { deferred, record, turn } from '../support/util.js';

const all = <T>(o: Observable<T>) => lastValueFrom(o.pipe(toArray()));

describe('mapParallel', () => {
  it('hands fn the value and a ctx with elementIndex, workerInfo, resources and signal', async () => {
    const seen: Array<{ x: number; ctx: Context<string> }> = [];
    await all(from([5, 6]).pipe(mapParallel((x: number, ctx: Context<string>) => void seen.push({ x, ctx }), { onStart: () => 'res' })));
    expect(seen.map((s) => s.ctx.elementIndex)).toEqual([[0], [1]]);
    expect(seen[0].ctx.resources).toBe('res');
    expect(seen[0].ctx.workerInfo).toEqual({ index: 0, workers: 1 });
    expect(seen[0].ctx.signal).toBeInstanceOf(AbortSignal);
    expect(seen[0].ctx.signal.aborted).toBe(false);
  });

  it('fails with StageError when fn throws synchronously', async () => {
    const { error } = await record(of(1).pipe(mapParallel(() => { throw new TypeError('sync'); }))).result;
    expect(error).toBeInstanceOf(StageError);
    expect((error as StageError).cause).toBeInstanceOf(TypeError);
  });

  it('aborts ctx.signal of calls in work when unsubscribed', async () => {
    const signals: AbortSignal[] = [];
    const started = deferred();
    const { subscription } = record(
      fromIterable([1, 2, 3]).pipe(mapParallel((_x: number, ctx) => { signals.push(ctx.signal); if (signals.length === 2) started.resolve(); return new Promise(() => {}); }, { workers: 2 })),
    );
    await started.promise;
    subscription.unsubscribe();
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect((signals[0].reason as DOMException).name).toBe('AbortError');
  });

  it('passes resources per worker and runs onEnd after the last call of each worker', async () => {
    const log: string[] = [];
    await all(
      fromIterable([1, 2, 3, 4]).pipe(
        mapParallel(async (x: number, ctx) => log.push(`fn ${x} by ${ctx.resources}`), {
          workers: 2,
          onStart: async (ctx) => `w${ctx.workerInfo.index}`,
          onEnd: (ctx) => void log.push(`end ${ctx.resources} done=${ctx.stageStatus.done}`),
        }),
      ),
    );
    const ends = log.filter((l) => l.startsWith('end'));
    expect(ends).toHaveLength(2);
    expect(ends.at(-1)).toMatch(/done=true/);
    expect(log.indexOf(ends[0])).toBeGreaterThan(log.findIndex((l) => l.startsWith('fn')));
  });
});

describe('filterParallel', () => {
  it('keeps elements whose predicate is truthy (sync or async)', async () => {
    expect(await all(from([1, 2, 3, 4, 5]).pipe(filterParallel((x: number) => x > 2, { ordered: true })))).toEqual([3, 4, 5]);
    expect(await all(from(['a', '', 'b']).pipe(filterParallel(async (s: string) => s, { workers: 3, ordered: true })))).toEqual(['a', 'b']);
  });

  it('gives the elementIndex of the source to the next stage', async () => {
    const out = await all(from([1, 2, 3, 4]).pipe(filterParallel((x: number) => x % 2 === 0, { ordered: true }), mapParallel((_x: number, ctx) => ctx.elementIndex, { ordered: true })));
    expect(out).toEqual([[1], [3]]);
  });
});

describe('flatMapParallel', () => {
  const cases: Array<[string, (x: number) => unknown, number[]]> = [
    ['an array', (x) => [x, x], [1, 1]],
    ['a generator', function* (x) { yield x; yield x + 1; }, [1, 2]],
    ['an async generator', async function* (x) { yield x; yield x * 3; }, [1, 3]],
    ['an Observable', (x) => of(x, x * 4), [1, 4]],
    ['a Promise of an array', async (x) => [x, x * 5], [1, 5]],
    ['a Promise of a plain value', async (x) => x * 6, [6]],
    ['a plain value', (x) => x * 7, [7]],
    ['undefined', () => undefined, []],
  ];
  it.each(cases)('emits every output when fn returns %s', async (_name, fn, expected) => {
    expect(await all(of(1).pipe(flatMapParallel(fn as never)))).toEqual(expected);
  });

  it('treats a string as one output, not characters', async () => {
    expect(await all(of('ab').pipe(flatMapParallel((s: string) => s)))).toEqual(['ab']);
  });

  it('keeps one element’s outputs together, in completion order across elements', async () => {
    const gates = [deferred(), deferred()];
    const out$ = from([0, 1]).pipe(flatMapParallel(async (i: number) => (await gates[i].promise, [`${i}a`, `${i}b`]), { workers: 2 }));
    const { result } = record(out$);
    gates[1].resolve();
    await turn();
    gates[0].resolve();
    expect((await result).values).toEqual(['1a', '1b', '0a', '0b']);
  });

  it('extends elementIndex by one level', async () => {
    const out = await all(from([10, 20]).pipe(flatMapOrdered((x: number) => [x, x]), mapParallel((_x: number, ctx) => ctx.elementIndex, { ordered: true })));
    expect(out).toEqual([[0, 0], [0, 1], [1, 0], [1, 1]]);
  });

  it('fails the element when its async iterable throws', async () => {
    const { error } = await record(of(1).pipe(flatMapParallel(async function* () { yield 1; throw new Error('mid'); }))).result;
    expect(error).toBeInstanceOf(StageError);
  });
});

describe('flatMapOrdered', () => {
  it('streams the head element’s outputs while later ones still run', async () => {
    const second = deferred<number[]>();
    const { values, result } = record(from([0, 1]).pipe(flatMapOrdered((i: number) => (i === 0 ? [1, 2] : second.promise), { workers: 2 })));
    await turn();
    expect(values).toEqual([1, 2]);
    second.resolve([3]);
    expect((await result).values).toEqual([1, 2, 3]);
  });
});

describe('eachParallel', () => {
  it('runs fn for every element, emits nothing and completes', async () => {
    const seen: number[] = [];
    expect(await all(from([1, 2, 3]).pipe(eachParallel((x: number) => void seen.push(x), { workers: 2 })))).toEqual([]);
    expect(seen.sort()).toEqual([1, 2, 3]);
  });
});

describe('ordered()', () => {
  it('restores source order of an unordered stage', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const { result } = record(from([0, 1, 2]).pipe(mapParallel(async (i: number) => (await gates[i].promise, i), { workers: 3 }), ordered()));
    gates[2].resolve();
    gates[1].resolve();
    await turn();
    gates[0].resolve();
    expect((await result).values).toEqual([0, 1, 2]);
  });

  it('fails at subscribe with an OrderingError over a plain Observable (nothing to reorder)', async () => {
    const source = interval(1).pipe(take(3));
    const { result } = record(source.pipe(ordered()));
    const { error, values } = await result;
    expect(error).toBeInstanceOf(OrderingError);
    expect(values).toEqual([]);
  });

  it('stops at a plain RxJS operator: order is restored from there on', async () => {
    const out = await all(fromIterable([3, 1, 2]).pipe(map((x) => x * 10), mapParallel(async (x: number) => x, { workers: 3 }), ordered()));
    expect(out).toEqual([30, 10, 20]);
  });
});

describe('the sync scheduler', () => {
  it('runs fn inline and emits synchronously, one element at a time', () => {
    const log: string[] = [];
    const subject = new Subject<number>();
    subject.pipe(mapParallel((x: number) => (log.push(`fn ${x}`), x), { scheduler: syncScheduler() })).subscribe((x) => log.push(`out ${x}`));
    return (async () => {
      await turn(); // the worker starts (onStart may be async), then everything is inline
      subject.next(1);
      subject.next(2);
      expect(log).toEqual(['fn 1', 'out 1', 'fn 2', 'out 2']);
    })();
  });
});
