// Credits travel through ordinary RxJS operators that deliver synchronously, after the last stage
// and between two stages: a slow consumer paces every stage and the source is read only as far as
// the documented bound. Operators that delay or merge break the chain: the stage after them says
// its upstream is push, and ordered() over them fails instead of passing values on out of order.
// The operators named here are the ones docs/backpressure.md and the README FAQ list.
import { describe, expect, it } from 'vitest';
import {
  bufferCount,
  catchError,
  concatMap,
  delay,
  distinctUntilChanged,
  filter,
  finalize,
  from,
  lastValueFrom,
  map,
  mergeMap,
  NEVER,
  of,
  pairwise,
  scan,
  skip,
  startWith,
  take,
  takeUntil,
  takeWhile,
  tap,
  toArray,
  type OperatorFunction,
} from 'rxjs';
import { BufferOverflowError, fromIterable, mapParallel, Monitor, ordered, OrderingError, toAsyncIterable } from 'rxjs-parallel';
import { record } from '../support/util.js';

/** A generator that counts its reads. */
function counted(n: number) {
  const state = { reads: 0 };
  function* gen() {
    for (let i = 0; i < n; i++) {
      state.reads++;
      yield i;
    }
  }
  return { state, source: gen() };
}

const N = 2000;
const CONSUME = 100;
/** One stage on the task scheduler, 2 workers, default maxsize: 2 × 1 + 4 credits. */
const stage = () => mapParallel(async (x: number) => x, { workers: 2 });
const STAGE_CREDITS = 2 + 4;

/**
 * Operators that keep the chain: each value they will ever emit for an input is emitted inside
 * that input's `next` (or dropped there). `perRead` is how many source values one output may cost.
 */
const keeping: Array<[string, OperatorFunction<number, unknown>, number]> = [
  ['map', map((x) => x * 2), 1],
  ['tap', tap(() => {}), 1],
  ['filter', filter(() => true), 1],
  ['scan', scan((a, x) => a + x, 0), 1],
  ['take', take(N), 1],
  ['takeWhile', takeWhile(() => true), 1],
  ['takeUntil', takeUntil(NEVER), 1],
  ['catchError', catchError(() => of(-1)), 1],
  ['finalize', finalize(() => {}), 1],
  ['skip', skip(1), 1],
  ['distinctUntilChanged', distinctUntilChanged(), 1],
  ['pairwise', pairwise(), 1],
  ['bufferCount', bufferCount(3), 3],
  ['startWith', startWith(-1), 1],
  ['mergeMap over a synchronous inner', mergeMap((x) => [x, x]), 1],
  ['concatMap over a synchronous inner', concatMap((x) => of(x)), 1],
];

describe('credits through RxJS operators that deliver synchronously', () => {
  describe.each(keeping)('%s', (_name, operator, perRead) => {
    it('after the last stage: a slow consumer that stops early reads only what it paced', async () => {
      const { state, source } = counted(N);
      let consumed = 0;
      for await (const _ of toAsyncIterable(fromIterable(source).pipe(stage(), operator))) {
        await new Promise<void>((resolve) => setImmediate(resolve)); // a consumer slower than the stage
        if (++consumed === CONSUME) break;
      }
      expect(state.reads).toBeLessThanOrEqual(perRead * (CONSUME + 1) + STAGE_CREDITS + 1);
    });

    it('between two stages: reads are bounded by the credits of both', async () => {
      const { state, source } = counted(N);
      let consumed = 0;
      for await (const _ of toAsyncIterable(fromIterable(source).pipe(stage(), operator, mapParallel(async (x) => x, { workers: 2 })))) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (++consumed === CONSUME) break;
      }
      expect(state.reads).toBeLessThanOrEqual(perRead * (CONSUME + 1 + STAGE_CREDITS) + STAGE_CREDITS + 1);
    });
  });

  it('a filter that drops 9 values of 10 returns their credits: no stall, every kept value arrives', async () => {
    const { state, source } = counted(N);
    const out = await lastValueFrom(fromIterable(source).pipe(stage(), filter((x) => x % 10 === 0), mapParallel(async (x) => x, { workers: 2 }), toArray()));
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: N / 10 }, (_, i) => i * 10));
    expect(state.reads).toBe(N);
  });

  it('ordered() restores source order through operators that keep the chain', async () => {
    const out = await lastValueFrom(
      fromIterable(Array.from({ length: 30 }, (_, i) => i)).pipe(
        mapParallel(async (x: number) => {
          await new Promise((resolve) => setTimeout(resolve, (x * 7) % 5));
          return x;
        }, { workers: 4 }),
        map((x) => x * 2),
        filter((x) => x % 3 !== 0),
        ordered(),
        toArray(),
      ),
    );
    expect(out).toEqual(Array.from({ length: 30 }, (_, i) => i * 2).filter((x) => x % 3 !== 0));
  });
});

describe('operators that delay or merge break the chain', () => {
  it('the stage after them reports a push upstream in its Monitor row, and loses nothing', async () => {
    const monitor = new Monitor();
    const out = await lastValueFrom(
      fromIterable(Array.from({ length: 50 }, (_, i) => i)).pipe(
        mapParallel(async (x: number) => x, { workers: 2, monitor, name: 'first' }),
        delay(1),
        mapParallel(async (x: number) => x, { workers: 2, monitor, name: 'after-delay' }),
        toArray(),
      ),
    );
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const rows = Object.fromEntries(monitor.report().stages.map((row) => [row.name, row]));
    expect(rows['first'].upstream).toBe('pull');
    expect(rows['after-delay'].upstream).toBe('push');
  });

  it('ordered() after one fails with an OrderingError naming the chain, passing nothing on out of order', async () => {
    const { result } = record(fromIterable([30, 10, 20]).pipe(mapParallel(async (ms: number) => ms, { workers: 3 }), delay(1), ordered()));
    const { error, values } = await result;
    expect(error).toBeInstanceOf(OrderingError);
    expect((error as OrderingError).chain).toMatch(/mapParallel#\d+/);
    expect(values).toEqual([]);
  });

  it('ordered() over mergeMap with asynchronous inners fails the same way', async () => {
    const { result } = record(
      fromIterable([1, 2, 3]).pipe(
        mapParallel(async (x: number) => x, { workers: 2 }),
        mergeMap(async (x) => x),
        ordered(),
      ),
    );
    expect((await result).error).toBeInstanceOf(OrderingError);
  });

  it('ordered() over no stage and no pull source fails at subscribe', async () => {
    const { result } = record(of(1, 2, 3).pipe(ordered()));
    const { error, values } = await result;
    expect(error).toBeInstanceOf(OrderingError);
    expect(values).toEqual([]);
  });
});

describe('a catchError that switches to a fallback source', () => {
  it('breaks the chain: the stage after it sees a push upstream, and its overflow policy applies', async () => {
    const monitor = new Monitor();
    const { error } = await record(
      fromIterable([1, 2, 3]).pipe(
        mapParallel(async (x: number) => {
          if (x === 2) throw new Error('x');
          return x;
        }, { workers: 1 }),
        catchError(() => from(Array.from({ length: 100 }, (_, i) => i))),
        mapParallel(async (x: number) => x, { workers: 1, maxsize: 2, overflow: 'error', monitor, name: 'after-fallback' }),
      ),
    ).result;
    expect(error).toBeInstanceOf(BufferOverflowError);
    expect(monitor.report().stages.find((s) => s.name === 'after-fallback')!.upstream).toBe('push');
  });
});

describe('toAsyncIterable over a chain broken after the last stage', () => {
  it('says so with a process warning (RXJS_PARALLEL_CHAIN_BROKEN) instead of buffering silently', async () => {
    const warnings: Error[] = [];
    const listen = (w: Error) => warnings.push(w);
    process.on('warning', listen);
    try {
      const seen: number[] = [];
      for await (const x of toAsyncIterable(fromIterable([1, 2, 3]).pipe(mapParallel(async (x: number) => x), delay(1)))) seen.push(x as number);
      expect(seen.sort()).toEqual([1, 2, 3]);
      await new Promise<void>((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.some((w) => (w as Error & { code?: string }).code === 'RXJS_PARALLEL_CHAIN_BROKEN')).toBe(true);
    } finally {
      process.off('warning', listen);
    }
  });
});

// The demand protocol's indexes (src/shared/pull-protocol.ts): a source's own position goes as a
// plain number only to a consumer that says it takes one (`numberIndex`), so a consumer of another
// copy of the library that does not know the flag still gets arrays.
describe('element indexes on the demand protocol', () => {
  const kPull = Symbol.for('rxjs-parallel.pull');
  function indexesOf(request: Record<string, unknown>, source = fromIterable([10, 11, 12])): unknown[] {
    const seen: unknown[] = [];
    const line = { credits: 3, take: () => true, grant() {}, charge() {}, onGrant() {} };
    (source as any)[kPull]({ closed: false, next: (_value: unknown, index: unknown) => seen.push(index), error() {}, complete() {} }, { line, ordered: false, ...request });
    return seen;
  }
  it('fromIterable sends numbers only when asked (numberIndex), arrays otherwise', () => {
    expect(indexesOf({})).toEqual([[0], [1], [2]]);
    expect(indexesOf({ numberIndex: false })).toEqual([[0], [1], [2]]);
    expect(indexesOf({ numberIndex: true })).toEqual([0, 1, 2]);
  });
  it('an RxJS operator between passes the request and the index on as they are', () => {
    expect(indexesOf({ numberIndex: true }, fromIterable([10, 11, 12]).pipe(filter((x) => x !== 11)) as any)).toEqual([0, 2]);
    expect(indexesOf({}, fromIterable([10, 11, 12]).pipe(filter((x) => x !== 11)) as any)).toEqual([[0], [2]]);
  });
});
