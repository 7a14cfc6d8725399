// Values through every operator on the thread and process schedulers, with TaskRefs and with
// shipped plain functions; resources, workerInfo, shared pools and batching.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import {
  eachParallel,
  filterParallel,
  flatMapOrdered,
  flatMapParallel,
  fromIterable,
  mapParallel,
  processScheduler,
  run,
  task,
  threadScheduler,
  type Scheduler,
} from 'rxjs-parallel';
import { startBus, type Bus } from '../support/bus.js';

const fixture = new URL('../fixtures/workers.mjs', import.meta.url);
const t = {
  square: task<number, number>(fixture, 'square'),
  isOdd: task<number, boolean>(fixture, 'isOdd'),
  whoAmI: task<number, any>(fixture, 'whoAmI'),
  outputs: task<{ kind: string; n: number }, any>(fixture, 'outputs'),
  open: task(fixture, 'open'),
  useResource: task<number, any>(fixture, 'useResource'),
  close: task(fixture, 'close'),
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

const kinds = [
  { kind: 'thread', make: (o: { workers: number }) => threadScheduler(o) },
  { kind: 'process', make: (o: { workers: number }) => processScheduler(o) },
] as const;

describe.each(kinds)('$kind scheduler: values', ({ kind, make }) => {
  const scheduler = kind;
  let bus: Bus;
  beforeAll(async () => {
    bus = await startBus();
  });
  afterAll(() => bus.close());
  beforeEach(() => bus.reset());

  describe('with TaskRefs', () => {
    it('mapParallel', async () => {
      const out = await lastValueFrom(fromIterable(range(100)).pipe(mapParallel(t.square, { workers: 2, scheduler }), toArray()));
      expect(sorted(out)).toEqual(range(100).map((x) => x * x));
    });

    it('filterParallel (the element is emitted, not the verdict)', async () => {
      const out = await lastValueFrom(from(range(20)).pipe(filterParallel(t.isOdd, { workers: 2, scheduler, ordered: true }), toArray()));
      expect(out).toEqual(range(20).filter((x) => x % 2 === 1));
    });

    it('flatMapParallel and flatMapOrdered collect every kind of output in the worker', async () => {
      const cases = ['array', 'generator', 'async', 'observable', 'promise', 'promiseOfAsync'].map((k, i) => ({ kind: k, n: i * 10 }));
      const expected = cases.flatMap((c) => [c.n, c.n + 1]);
      const unordered = await lastValueFrom(from(cases).pipe(flatMapParallel(t.outputs, { workers: 2, scheduler }), toArray()));
      expect(sorted(unordered as number[])).toEqual(sorted(expected));
      const inOrder = await lastValueFrom(from(cases).pipe(flatMapOrdered(t.outputs, { workers: 2, scheduler }), toArray()));
      expect(inOrder).toEqual(expected);
      const special = await lastValueFrom(
        from([{ kind: 'string', n: 0 }, { kind: 'none', n: 0 }, { kind: 'value', n: 5 }]).pipe(flatMapOrdered(t.outputs, { workers: 2, scheduler }), toArray()),
      );
      expect(special).toEqual(['ab', 5]); // a string is one output; null is none; a plain value is one
    });

    it('eachParallel runs every element and emits nothing', async () => {
      const out = await lastValueFrom(from(range(10)).pipe(eachParallel(t.whoAmI, { workers: 2, scheduler }), toArray()));
      expect(out).toEqual([]);
    });
  });

  describe('with shipped plain functions', () => {
    it('runs self-contained functions of every operator', async () => {
      const mapped = await lastValueFrom(from(range(10)).pipe(mapParallel((x: number) => x + 100, { workers: 2, scheduler, ordered: true }), toArray()));
      expect(mapped).toEqual(range(10).map((x) => x + 100));
      const odd = await lastValueFrom(from(range(10)).pipe(filterParallel(function isOdd(x: number) { return x % 2 === 1; }, { workers: 2, scheduler, ordered: true }), toArray()));
      expect(odd).toEqual([1, 3, 5, 7, 9]);
      const flat = await lastValueFrom(
        from([1, 2, 3]).pipe(
          flatMapOrdered(async function* (x: number) {
            for (let i = 0; i < x; i++) yield `${x}.${i}`;
          }, { workers: 2, scheduler }),
          toArray(),
        ),
      );
      expect(flat).toEqual(['1.0', '2.0', '2.1', '3.0', '3.1', '3.2']);
      const unordered = await lastValueFrom(from([1, 2]).pipe(flatMapParallel((x: number) => [x, -x], { workers: 2, scheduler }), toArray()));
      expect(sorted(unordered)).toEqual([-2, -1, 1, 2]);
      await run(from(range(5)).pipe(eachParallel(async (x: number) => x, { workers: 2, scheduler })));
    });

    it('ships onStart and onEnd as well; the resources reach fn in the worker', async () => {
      const out = await lastValueFrom(
        from(range(6)).pipe(
          mapParallel((x: number, ctx) => `${ctx.resources.tag}:${x}`, {
            workers: 2,
            scheduler,
            ordered: true,
            onStart: (ctx) => ({ tag: `w${ctx.workerInfo.index}` }),
            onEnd: () => {},
          }),
          toArray(),
        ),
      );
      expect(out.map((s) => s.split(':')[1])).toEqual(range(6).map(String));
      for (const s of out) expect(s).toMatch(/^w[01]:/);
    });
  });

  describe('workers and resources', () => {
    it('runs onStart per worker in the worker; its resources (not cloneable) stay there and reach fn', async () => {
      const out = await lastValueFrom(
        fromIterable(range(20)).pipe(mapParallel(t.useResource, { workers: 2, scheduler, onStart: t.open, onEnd: t.close }), toArray()),
      );
      expect(out).toHaveLength(20);
      for (const r of out) expect(r.handle).toBe('in the worker');
      const starts = bus.of('onStart');
      expect(starts.map((e) => e.worker).sort()).toEqual([0, 1]);
      // Each call ran in the thread or process whose onStart made the resources it saw.
      for (const r of out) {
        const start = starts.find((s) => s.worker === r.worker)!;
        expect(kind === 'thread' ? r.threadId : r.pid).toBe(kind === 'thread' ? start.threadId : start.pid);
      }
      const ends = bus.of('onEnd');
      expect(ends.map((e) => e.worker).sort()).toEqual([0, 1]);
      expect(ends.every((e) => e.same)).toBe(true);
      expect(ends.filter((e) => e.done)).toHaveLength(1);
    });

    it('gives fn workerInfo with index 0..workers-1 and the elementIndex', async () => {
      const out = await lastValueFrom(fromIterable(range(12)).pipe(mapParallel(t.whoAmI, { workers: 3, scheduler }), toArray()));
      expect(new Set(out.map((r) => r.workers))).toEqual(new Set([3]));
      for (const r of out) {
        expect([0, 1, 2]).toContain(r.worker);
        expect(r.elementIndex).toEqual([r.x]);
      }
    });

    it('private pools ("thread"/"process") run each worker of a stage in its own thread or process', async () => {
      const out = await lastValueFrom(
        fromIterable(range(40)).pipe(mapParallel(t.whoAmI, { workers: 2, scheduler, onStart: t.open }), toArray()),
      );
      const starts = bus.of('onStart');
      const where = (s: any) => (kind === 'thread' ? s.threadId : s.pid);
      expect(new Set(starts.map(where)).size).toBe(2);
      for (const r of out) expect(where(r)).not.toBe(kind === 'thread' ? 0 : process.pid);
    });
  });

  describe('a shared scheduler', () => {
    let shared: Scheduler;
    beforeAll(() => {
      shared = make({ workers: 2 });
    });
    afterAll(() => shared.close());

    it('serves two stages and two subscriptions, keeping its workers between them', async () => {
      const pipeline = fromIterable(range(30)).pipe(
        mapParallel(t.square, { workers: 2, scheduler: shared }),
        filterParallel((x: number) => x % 2 === 0, { workers: 2, scheduler: shared, ordered: true }),
        mapParallel(t.whoAmI, { workers: 2, scheduler: shared, ordered: true }),
      );
      const [a, b] = await Promise.all([lastValueFrom(pipeline.pipe(toArray())), lastValueFrom(pipeline.pipe(toArray()))]);
      const expected = range(30).map((x) => x * x).filter((x) => x % 2 === 0);
      expect(a.map((r) => r.x)).toEqual(expected);
      expect(b.map((r) => r.x)).toEqual(expected);
      const again = await lastValueFrom(from(range(8)).pipe(mapParallel(t.whoAmI, { workers: 2, scheduler: shared }), toArray()));
      const where = (r: any) => (kind === 'thread' ? r.threadId : r.pid);
      // 12 leases, then 2 more, all on the same 2 warm workers.
      expect(new Set([...a, ...b, ...again].map(where)).size).toBeLessThanOrEqual(2);
    });

    it('starts workers lazily: one lease starts one worker', async () => {
      const lazy = make({ workers: 2 });
      try {
        const one = await lastValueFrom(from(range(6)).pipe(mapParallel(t.whoAmI, { workers: 1, scheduler: lazy }), toArray()));
        const where = (r: any) => (kind === 'thread' ? r.threadId : r.pid);
        expect(new Set(one.map(where)).size).toBe(1);
        // Two leases at once go to two workers (the least loaded, started as needed).
        const two = await lastValueFrom(
          from(range(6)).pipe(mapParallel(t.whoAmI, { workers: 2, scheduler: lazy, onStart: t.open }), toArray()),
        );
        const starts = bus.of('onStart');
        expect(new Set(starts.map((s) => (kind === 'thread' ? s.threadId : s.pid))).size).toBe(2);
        expect(two).toHaveLength(6);
      } finally {
        await lazy.close();
      }
    });

    it('close() is idempotent and the scheduler can be used again afterwards', async () => {
      const pool = make({ workers: 1 });
      const before = await lastValueFrom(from([1]).pipe(mapParallel(t.whoAmI, { scheduler: pool })));
      await Promise.all([pool.close(), pool.close()]);
      await pool.close();
      const after = await lastValueFrom(from([2]).pipe(mapParallel(t.whoAmI, { scheduler: pool })));
      const where = (r: any) => (kind === 'thread' ? r.threadId : r.pid);
      expect(where(after)).not.toBe(where(before)); // a new worker
      await pool.close();
    });
  });

  describe('batching', () => {
    const items = range(300);
    const expected = items.map((x) => x * x);
    it("a long stream of async calls in large batches loses and duplicates nothing", async () => {
      const n = 6000;
      const out = await lastValueFrom(
        fromIterable(range(n)).pipe(mapParallel(async (x: number) => x, { workers: 2, scheduler, batchSize: 'auto', ordered: true }), toArray()),
      );
      expect(out).toEqual(range(n));
    });

    it('gives each element of a batch its own elementIndex, whether the indexes count up or not', async () => {
      // Counting up (a source's own indexes) goes as a range; gaps (after a filter) and two-level
      // indexes (after a flatMap) go element by element.
      const straight = await lastValueFrom(fromIterable(range(40)).pipe(mapParallel(t.whoAmI, { workers: 2, scheduler, batchSize: 8, ordered: true }), toArray()));
      expect(straight.map((r) => [r.x, r.elementIndex])).toEqual(range(40).map((x) => [x, [x]]));
      const gaps = await lastValueFrom(
        fromIterable(range(40)).pipe(
          filterParallel((x: number) => x % 3 === 0, { scheduler: 'sync' }),
          mapParallel(t.whoAmI, { workers: 2, scheduler, batchSize: 8, ordered: true }),
          toArray(),
        ),
      );
      const thirds = range(40).filter((x) => x % 3 === 0);
      expect(gaps.map((r) => [r.x, r.elementIndex])).toEqual(thirds.map((x) => [x, [x]]));
      const nested = await lastValueFrom(
        fromIterable(range(10)).pipe(
          flatMapOrdered((x: number) => [x, x], { scheduler: 'sync' }),
          mapParallel(t.whoAmI, { workers: 2, scheduler, batchSize: 8, ordered: true }),
          toArray(),
        ),
      );
      expect(nested.map((r) => r.elementIndex)).toEqual(range(10).flatMap((x) => [[x, 0], [x, 1]]));
    });

    for (const batchSize of [16, 'auto'] as const) {
      it(`batchSize ${batchSize} gives the same results as batchSize 1`, async () => {
        const one = await lastValueFrom(fromIterable(items).pipe(mapParallel(t.square, { workers: 2, scheduler, batchSize: 1, ordered: true }), toArray()));
        const batched = await lastValueFrom(fromIterable(items).pipe(mapParallel(t.square, { workers: 2, scheduler, batchSize, ordered: true }), toArray()));
        expect(one).toEqual(expected);
        expect(batched).toEqual(one);
        const flat = await lastValueFrom(
          fromIterable(items.slice(0, 50)).pipe(flatMapOrdered((x: number) => [x, x], { workers: 2, scheduler, batchSize }), toArray()),
        );
        expect(flat).toEqual(items.slice(0, 50).flatMap((x) => [x, x]));
        const odd = await lastValueFrom(fromIterable(items).pipe(filterParallel(t.isOdd, { workers: 2, scheduler, batchSize, ordered: true }), toArray()));
        expect(odd).toEqual(items.filter((x) => x % 2 === 1));
      });
    }
  });
});
