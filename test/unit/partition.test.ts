// partitionBy (Akka's mapAsyncPartitioned): elements with the same key run one at a time, in arrival
// order; different keys run in parallel up to `workers`; nothing is lost; credits bound what waits.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import fc from 'fast-check';
import { flatMapOrdered, fromIterable, mapParallel, SKIP, StageError, task, taskScheduler, toAsyncIterable, type SchedulerName } from 'rxjs-parallel';
import { startBus, type Bus } from '../support/bus.js';
import { record } from '../support/util.js';

type Item = { i: number; key: number; ms: number };
const keyed = task<Item, Item>(new URL('../fixtures/workers.mjs', import.meta.url), 'keyed');

/** From the bus's enter/exit events, in the order they happened: the most in work at once, overall and per key. */
function concurrency(events: Array<{ type: string; key?: unknown }>) {
  let now = 0;
  let most = 0;
  let mostPerKey = 0;
  const perKey = new Map<unknown, number>();
  for (const e of events) {
    const d = e.type === 'enter' ? 1 : e.type === 'exit' ? -1 : 0;
    if (d === 0) continue;
    now += d;
    const k = (perKey.get(e.key) ?? 0) + d;
    perKey.set(e.key, k);
    most = Math.max(most, now);
    mostPerKey = Math.max(mostPerKey, k);
  }
  return { most, mostPerKey };
}

// One bus for the file: the in-process schedulers' functions keep their first connection to it.
let bus: Bus;
beforeAll(async () => {
  bus = await startBus();
});
afterAll(() => bus.close());
beforeEach(() => bus.reset());

describe.each(['task', 'sync', 'thread'] as SchedulerName[])('%s scheduler: partitionBy', (scheduler) => {
  it('property: per-key order is arrival order, one element per key in work, at most `workers` in all, nothing lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 4 }), ms: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (specs, workers) => {
          bus.reset();
          const items: Item[] = specs.map((s, i) => ({ i, ...s }));
          const out = await lastValueFrom(fromIterable(items).pipe(mapParallel(keyed, { scheduler, workers, partitionBy: (v: Item) => v.key }), toArray()));
          expect(out.map((v) => v.i).sort((a, b) => a - b)).toEqual(items.map((v) => v.i)); // nothing lost, nothing twice
          for (const key of new Set(items.map((v) => v.key))) {
            expect(out.filter((v) => v.key === key).map((v) => v.i)).toEqual(items.filter((v) => v.key === key).map((v) => v.i));
          }
          const { most, mostPerKey } = concurrency(bus.events);
          expect(mostPerKey).toBe(1);
          expect(most).toBeLessThanOrEqual(scheduler === 'sync' ? 1 : workers);
        },
      ),
      { numRuns: scheduler === 'thread' ? 10 : 30 },
    );
  });
});

describe('partitionBy', () => {
  it('runs different keys in parallel while one key is busy', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const seen: number[] = [];
    const out = lastValueFrom(
      fromIterable([0, 1, 2, 3, 4]).pipe(
        mapParallel(
          async (x: number) => {
            if (x === 0) await held; // key 'a' busy until the others are done
            seen.push(x);
            if (seen.length === 3) release(); // 1, 3 and 4 ran while 0 held its key
            return x;
          },
          { workers: 3, partitionBy: (x: number) => (x === 0 || x === 2 ? 'a' : 'b') },
        ),
        toArray(),
      ),
    );
    // 2 shares key 'a' with 0, so it waits for it; 1, 3, 4 (key 'b') run meanwhile, one at a time.
    expect(await out).toEqual([1, 3, 4, 0, 2]);
  });

  it('holds elements waiting behind a busy key within the stage’s credits (a hot key stalls intake, bounded)', async () => {
    let reads = 0;
    function* source() {
      for (let i = 0; i < 1000; i++) {
        reads++;
        yield i;
      }
    }
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const it = toAsyncIterable(fromIterable(source()).pipe(mapParallel(async (x: number) => (x === 0 ? held.then(() => x) : x), { workers: 2, maxsize: 4, partitionBy: () => 'hot' })));
    const first = it.next();
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(reads).toBeLessThanOrEqual(2 + 4 + 1); // workers + maxsize (+ the one on its way)
    release();
    expect((await first).value).toBe(0);
    await it.return!();
  });

  it('fails the stage with a StageError (phase partitionBy) when the key function throws', async () => {
    const { error } = await record(fromIterable([1, 2]).pipe(mapParallel(async (x: number) => x, { partitionBy: () => { throw new Error('no key'); } }))).result;
    expect(error).toBeInstanceOf(StageError);
    expect((error as StageError).phase).toBe('partitionBy');
  });
});

describe('partitionBy: dispatch follows arrival order across keys', () => {
  it.each(['task', 'sync'] as const)('%s: flatMapOrdered with a busy key completes (the head is never passed over)', async (scheduler) => {
    for (const workers of [1, 2]) {
      const out = await lastValueFrom(
        fromIterable([{ id: 0, key: 'A' }, { id: 1, key: 'A' }, { id: 2, key: 'B' }]).pipe(
          flatMapOrdered(async function* (v: { id: number; key: string }) {
            yield `${v.id}.0`;
            yield `${v.id}.1`;
          }, { scheduler, workers, partitionBy: (v: { key: string }) => v.key }),
          toArray(),
        ),
      );
      expect(out).toEqual(['0.0', '0.1', '1.0', '1.1', '2.0', '2.1']);
    }
  });

  it('starts a freed key’s next element before later elements of other keys', async () => {
    const started: number[] = [];
    await lastValueFrom(
      fromIterable([{ id: 0, key: 'A' }, { id: 1, key: 'A' }, { id: 2, key: 'B' }]).pipe(
        mapParallel(async (v: { id: number; key: string }) => void started.push(v.id), { workers: 1, partitionBy: (v: { key: string }) => v.key }),
        toArray(),
      ),
    );
    expect(started).toEqual([0, 1, 2]);
  });
});

describe('partitionBy with timeout: a late call keeps its key until it has stopped', () => {
  it('task: the next element of its key waits for the late call to end', async () => {
    const log: string[] = [];
    let release!: () => void;
    const late = new Promise<void>((resolve) => (release = resolve));
    let timedOut!: () => void;
    const sawTimeout = new Promise<void>((resolve) => (timedOut = resolve));
    const done = lastValueFrom(
      fromIterable([{ id: 0, ms: 'late' }, { id: 1 }, { id: 2 }]).pipe(
        mapParallel(
          async (v: { id: number; ms?: string }) => {
            log.push(`start ${v.id}`);
            if (v.ms) await late; // ignores its signal, as a real write may
            log.push(`end ${v.id}`);
            return v.id;
          },
          { scheduler: taskScheduler({ cancelGrace: 60_000 }), workers: 2, timeout: 20, partitionBy: () => 'acct-1', onError: () => (timedOut(), SKIP) },
        ),
        toArray(),
      ),
    );
    await sawTimeout;
    for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log).toEqual(['start 0']); // element 1 has not started beside the late call
    release();
    expect(await done).toEqual([1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });
});
