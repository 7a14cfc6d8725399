/**
 * The conformance suite: written once as a function of the scheduler and run on every one
 * (task.test.ts, sync.test.ts, thread.test.ts, process.test.ts, threads.test.ts, threads-plain.test.ts,
 * nats.test.ts).
 * Work is named by task() refs to test/fixtures/conformance.mjs so that it runs the same in any
 * realm (a scheduler that names functions otherwise maps them: `ConformanceTarget.ref`); the
 * functions report to the test through the bus, and wait on its gates, so nothing here depends on timing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { from, lastValueFrom, of, take, throwError, toArray, concat, Observable } from 'rxjs';
import * as operators from 'rxjs-parallel';
import {
  fromIterable,
  ordered,
  run,
  StageError,
  task,
  TaskTimeoutError,
  type Scheduler,
  type SchedulerName,
  type TaskRef,
} from 'rxjs-parallel';
import { startBus, type Bus } from '../support/bus.js';
import { deferred, random, record, turn } from '../support/util.js';

const fixture = new URL('../fixtures/conformance.mjs', import.meta.url);
export const t = {
  double: task<number, number>(fixture, 'double'),
  isEven: task<number, boolean>(fixture, 'isEven'),
  describe: task<number, any>(fixture, 'describe'),
  onStart: task(fixture, 'onStart'),
  onEnd: task(fixture, 'onEnd'),
  failingOnStart: task(fixture, 'failingOnStart'),
  failingOnEnd: task(fixture, 'failingOnEnd'),
  gated: task<number | { i: number; gate?: string }, number>(fixture, 'gated'),
  busy: task<{ i: number; ms: number }, number>(fixture, 'busy'),
  delayed: task<{ i: number; ms: number }, number>(fixture, 'delayed'),
  explode: task<any, any[]>(fixture, 'explode'),
  indexOf: task<any, any>(fixture, 'indexOf'),
  failing: task<{ i: number; fail?: boolean }, number>(fixture, 'failing'),
  flaky: task<{ i: number; failures: number }, number>(fixture, 'flaky'),
  hang: task<{ i: number; hang?: boolean }, number>(fixture, 'hang'),
  endless: task<{ kind: 'iterable' | 'async' | 'observable'; tag?: string }, any>(fixture, 'endless'),
  gatedStream: task<{ i: number; gate: string }, any>(fixture, 'gatedStream'),
  throwingStream: task<{ i: number }, any>(fixture, 'throwingStream'),
};

/** The titles of the flatMap streaming cases, for a target that cannot stream (it skips them, saying why). */
export const STREAMING_CASES = [
  "emits an inner source's outputs as they are produced, not when it ends",
  "flatMapOrdered streams the head element's outputs while later ones wait",
  'take(3) over an endless iterable inner emits 3 values and tears the inner down',
  'take(3) over an endless async inner emits 3 values and tears the inner down',
  'take(3) over an endless observable inner emits 3 values and tears the inner down',
  'unsubscribing tears an inner down, and the worker goes on with other work',
  'a timeout tears the inner down and fails the element with TaskTimeoutError',
  'an inner that throws while read: its outputs so far, then one StageError (or the rest skipped)',
];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/**
 * The timeout of the timeout tests: the hanging element always exceeds it; the others must finish
 * well within it even on a loaded 2-core machine with a thread or process round trip.
 */
const LATE_MS = 1000;

/** For a scheduler that no string names, or that names functions otherwise (threadsScheduler). */
export interface ConformanceTarget {
  /** Makes the scheduler all cases share (closed after them); default: the string `kind`. */
  scheduler?: () => Scheduler;
  /** This scheduler's name for a function of conformance.mjs; default: the task() ref to it. */
  ref?: (ref: TaskRef<any, any>) => TaskRef<any, any>;
  /** Cases that cannot work on this scheduler, by title, with the reason (shown as the skip's note). */
  skip?: Readonly<Record<string, string>>;
  /** Options added to every stage of every case (e.g. `partitionBy`: the suite must still pass). */
  options?: Readonly<Record<string, unknown>>;
  /**
   * The built-in scheduler this one behaves as, where a case's expectation depends on it; without
   * `scheduler`, the one each stage uses (a private one per subscription).
   */
  like?: SchedulerName;
}

function refsFor(target: ConformanceTarget): typeof t {
  const ref = target.ref;
  return ref ? (Object.fromEntries(Object.entries(t).map(([name, r]) => [name, ref(r)])) as unknown as typeof t) : t;
}

export function conformance(kind: SchedulerName | (string & {}), makeShared?: () => Scheduler, target: ConformanceTarget = {}): void {
  const like = target.like ?? kind;
  let scheduler: SchedulerName | Scheduler = like as SchedulerName;
  const t = refsFor(target);
  const asyncKind = like !== 'sync';
  /** Outputs an inner source may produce ahead of what downstream asked (documented: none in-process, 64 in a worker). */
  const outputWindow = like === 'task' || like === 'sync' ? 0 : 64;
  // Every stage of every case gets the target's extra options.
  const extra = target.options ?? {};
  const mapParallel: typeof operators.mapParallel = (fn, o) => operators.mapParallel(fn, { ...extra, ...o });
  const filterParallel: typeof operators.filterParallel = (fn, o) => operators.filterParallel(fn, { ...extra, ...o });
  const flatMapParallel: typeof operators.flatMapParallel = (fn, o) => operators.flatMapParallel(fn, { ...extra, ...o });
  const flatMapOrdered: typeof operators.flatMapOrdered = (fn, o) => operators.flatMapOrdered(fn, { ...extra, ...o });
  const eachParallel: typeof operators.eachParallel = (fn, o) => operators.eachParallel(fn, { ...extra, ...o });
  /** Calls in work at once: the sync scheduler runs one element at a time whatever `workers` says. */
  const concurrent = (workers: number) => (asyncKind ? workers : 1);

  describe(`conformance: ${kind} scheduler`, () => {
    let bus: Bus;
    beforeAll(async () => {
      bus = await startBus();
      if (target.scheduler) scheduler = target.scheduler();
    });
    afterAll(async () => {
      if (typeof scheduler === 'object') await scheduler.close();
      await bus.close();
    });
    afterEach((ctx) => {
      // A case that failed (a timeout most of all) says what it still waited for on the bus.
      if (ctx.task.result?.state === 'fail') console.error(`${ctx.task.name}\n${bus.describe()}`);
    });
    beforeEach((ctx) => {
      bus.reset();
      const reason = target.skip?.[ctx.task.name];
      if (reason) ctx.skip(reason);
    });

    describe('values', () => {
      it('maps every element', async () => {
        const out = await lastValueFrom(fromIterable(range(50)).pipe(mapParallel(t.double, { workers: 3, scheduler }), toArray()));
        expect(out.sort((a, b) => a - b)).toEqual(range(50).map((x) => x * 2));
      });

      it('filters, flat-maps and runs for effect', async () => {
        const evens = await lastValueFrom(from(range(20)).pipe(filterParallel(t.isEven, { workers: 2, scheduler, ordered: true }), toArray()));
        expect(evens).toEqual(range(20).filter((x) => x % 2 === 0));
        const flat = await lastValueFrom(
          from([{ n: 2, ms: 0, child: {} }, { n: 0, ms: 0, child: {} }, { n: 3, ms: 0, child: {} }]).pipe(
            flatMapParallel(t.explode, { workers: 2, scheduler }),
            toArray(),
          ),
        );
        expect(flat).toHaveLength(5);
        const each = await lastValueFrom(from(range(5)).pipe(eachParallel(t.double, { workers: 2, scheduler }), toArray()));
        expect(each).toEqual([]);
      });

      it('completes on an empty source, running onStart and onEnd in each worker', async () => {
        const out = await lastValueFrom(from([] as number[]).pipe(mapParallel(t.double, { workers: 2, scheduler, onStart: t.onStart, onEnd: t.onEnd }), toArray()));
        expect(out).toEqual([]);
        expect(bus.of('onStart')).toHaveLength(2);
        expect(bus.of('onEnd')).toHaveLength(2);
      });

      it('passes falsy values through unchanged', async () => {
        const values = [0, false, '', null, undefined, Number.NaN];
        const out = await lastValueFrom(from(values).pipe(mapParallel(t.describe as TaskRef<unknown, { x: unknown }>, { scheduler, ordered: true }), toArray()));
        expect(out.map((r: any) => r.x)).toEqual(values);
      });
    });

    describe('workers and resources', () => {
      it('runs onStart once per worker with workerInfo.index 0..workers-1, and its resources reach fn', async () => {
        const workers = 3;
        const out = await lastValueFrom(
          fromIterable(range(30)).pipe(mapParallel(t.describe, { workers, scheduler, onStart: t.onStart, onEnd: t.onEnd }), toArray()),
        );
        const starts = bus.of('onStart');
        expect(starts.map((e) => e.worker).sort()).toEqual([0, 1, 2]);
        expect(new Set(starts.map((e) => e.workers))).toEqual(new Set([workers]));
        for (const r of out) {
          expect(r.resources).toEqual({ startedBy: r.worker });
          expect(r.workers).toBe(workers);
        }
        const ends = bus.of('onEnd');
        expect(ends.map((e) => e.worker).sort()).toEqual([0, 1, 2]);
        for (const e of ends) expect(e.resources).toEqual({ startedBy: e.worker });
      });

      it('shows stageStatus.done to exactly the last onEnd', async () => {
        await run(fromIterable(range(10)).pipe(mapParallel(t.double, { workers: 4, scheduler, onEnd: t.onEnd })));
        const ends = bus.of('onEnd');
        expect(ends).toHaveLength(4);
        expect(ends.filter((e) => e.done)).toHaveLength(1);
        expect(ends.find((e) => e.done)!.activeWorkers).toBe(0);
        expect(ends.map((e) => e.activeWorkers).sort()).toEqual([0, 1, 2, 3]);
      });

      it.runIf(asyncKind)('never has more than `workers` calls in work at once', async () => {
        const rnd = random(7);
        const items = range(40).map((i) => ({ i, ms: Math.floor(rnd() * 3) }));
        const out = await lastValueFrom(fromIterable(items).pipe(mapParallel(t.busy, { workers: 3, scheduler, maxsize: 10 }), toArray()));
        expect(out).toHaveLength(40);
        expect(bus.maxActive).toBeGreaterThan(0);
        expect(bus.maxActive).toBeLessThanOrEqual(3);
      });

      if (makeShared) {
        it('serves two stages and two subscriptions from one shared scheduler', async () => {
          const shared = makeShared();
          try {
            const pipeline = fromIterable(range(20)).pipe(
              mapParallel(t.double, { workers: 2, scheduler: shared }),
              filterParallel(t.isEven, { workers: 2, scheduler: shared, ordered: true }),
            );
            const [a, b] = await Promise.all([lastValueFrom(pipeline.pipe(toArray())), lastValueFrom(pipeline.pipe(toArray()))]);
            expect(a).toEqual(range(20).map((x) => x * 2));
            expect(b).toEqual(a);
          } finally {
            await shared.close();
          }
        });
      }
    });

    describe('order', () => {
      it('emits in source order with ordered: true under random delays', async () => {
        const rnd = random(42);
        const items = range(30).map((i) => ({ i, ms: Math.floor(rnd() * 8) }));
        const out = await lastValueFrom(fromIterable(items).pipe(mapParallel(t.delayed, { workers: 4, scheduler, ordered: true }), toArray()));
        expect(out).toEqual(range(30));
      });

      it('ordered() restores source order through two unordered stages', async () => {
        const rnd = random(3);
        const items = range(25).map((i) => ({ i, ms: Math.floor(rnd() * 6) }));
        const out = await lastValueFrom(
          fromIterable(items).pipe(
            mapParallel(t.delayed, { workers: 3, scheduler }),
            mapParallel(t.double, { workers: 2, scheduler }),
            ordered(),
            toArray(),
          ),
        );
        expect(out).toEqual(range(25).map((x) => x * 2));
      });

      it('flatMapOrdered keeps source order with multi-level elementIndex', async () => {
        const rnd = random(11);
        const items = range(8).map((i) => ({ n: 1 + (i % 3), ms: Math.floor(rnd() * 5), path: [i], child: { ms: Math.floor(rnd() * 5), n: 2 } }));
        const out = await lastValueFrom(
          fromIterable(items).pipe(
            flatMapOrdered(t.explode, { workers: 3, scheduler }),
            flatMapOrdered(t.explode, { workers: 2, scheduler }),
            mapParallel(t.indexOf, { workers: 2, scheduler, ordered: true }),
            toArray(),
          ),
        );
        const expected = items.flatMap((item, i) => range(item.n).flatMap((j) => range(2).map((k) => [i, j, k])));
        expect(out.map((o: any) => o.elementIndex)).toEqual(expected);
        expect(out.map((o: any) => o.path)).toEqual(expected);
      });
    });

    describe('errors', () => {
      it('fails with a StageError wrapping what fn threw, its class, message and cause', async () => {
        const items = range(6).map((i) => ({ i, fail: i === 3 }));
        const { result } = record(from(items).pipe(mapParallel(t.failing, { workers: 2, scheduler, onEnd: t.onEnd })));
        const { error } = await result;
        expect(error).toBeInstanceOf(StageError);
        const e = error as StageError;
        expect(e.phase).toBe('fn');
        expect(e.elementIndex).toEqual([3]);
        const cause = e.cause as Error & { code?: string };
        expect(cause.name).toBe('FixtureError');
        expect(cause.message).toBe('element 3 failed');
        expect(cause.code).toBe('E_FIXTURE');
        expect((cause.cause as Error).message).toBe('root cause');
        expect(bus.of('onEnd')).toHaveLength(2); // every onEnd ran before the error was delivered
      });

      it('fails with StageError(onStart) when onStart throws', async () => {
        const { result } = record(from(range(3)).pipe(mapParallel(t.double, { workers: 2, scheduler, onStart: t.failingOnStart })));
        const { error } = await result;
        expect(error).toBeInstanceOf(StageError);
        expect((error as StageError).phase).toBe('onStart');
        expect(((error as StageError).cause as Error).message).toBe('onStart refused');
      });

      it('fails with StageError(onEnd) when onEnd throws, after every onEnd ran', async () => {
        const { result } = record(from(range(3)).pipe(mapParallel(t.double, { workers: 2, scheduler, onEnd: t.failingOnEnd })));
        const { error, values } = await result;
        expect(values.sort()).toEqual([0, 2, 4]);
        expect(error).toBeInstanceOf(StageError);
        expect((error as StageError).phase).toBe('onEnd');
        expect(bus.of('onEnd')).toHaveLength(2);
      });

      it("passes the source's error through as is, after every onEnd ran", async () => {
        const boom = new Error('source failed');
        const source = concat(from(range(3)), throwError(() => boom));
        const { result } = record(source.pipe(mapParallel(t.double, { workers: 2, scheduler, onEnd: t.onEnd })));
        const { error } = await result;
        expect(error).toBe(boom);
        expect(bus.of('onEnd')).toHaveLength(2);
      });

      it("onError: 'skip' drops failing elements; a function replaces them", async () => {
        const items = range(6).map((i) => ({ i, fail: i % 2 === 1 }));
        const skipped = await lastValueFrom(from(items).pipe(mapParallel(t.failing, { workers: 2, scheduler, onError: 'skip', ordered: true }), toArray()));
        expect(skipped).toEqual([0, 2, 4]);
        const replaced = await lastValueFrom(
          from(items).pipe(mapParallel(t.failing, { workers: 2, scheduler, ordered: true, onError: (_e, v: { i: number }) => -v.i }), toArray()),
        );
        expect(replaced).toEqual([0, -1, 2, -3, 4, -5]);
      });

      it('retries a failing element before onError applies', async () => {
        const items = range(5).map((i) => ({ i, failures: i === 2 ? 2 : 0 }));
        const ok = await lastValueFrom(from(items).pipe(mapParallel(t.flaky, { workers: 2, scheduler, retries: 2, ordered: true }), toArray()));
        expect(ok).toEqual(range(5));
        expect(bus.of('count').filter((e) => e.key === 'flaky-2')).toHaveLength(3);
        bus.reset();
        const { result } = record(from(items).pipe(mapParallel(t.flaky, { workers: 2, scheduler, retries: 1 })));
        const { error } = await result;
        expect(error).toBeInstanceOf(StageError);
        expect(bus.of('count').filter((e) => e.key === 'flaky-2')).toHaveLength(2);
      });
    });

    describe('timeout', () => {
      const items = range(4).map((i) => ({ i, hang: i === 1 }));
      it('fails a late element with TaskTimeoutError and aborts its signal', async () => {
        const { result } = record(from(items).pipe(mapParallel(t.hang, { workers: 2, scheduler, timeout: LATE_MS })));
        const { error } = await result;
        await bus.waitFor('abort');
        expect(error).toBeInstanceOf(TaskTimeoutError);
        expect((error as TaskTimeoutError).elementIndex).toEqual([1]);
        const [abort] = await bus.waitFor('abort');
        expect(abort.i).toBe(1);
      });

      it("with onError: 'skip' drops the late element (pypeln's timeout)", async () => {
        const out = await lastValueFrom(from(items).pipe(mapParallel(t.hang, { workers: 2, scheduler, timeout: LATE_MS, onError: 'skip', ordered: true }), toArray()));
        expect(out).toEqual([0, 2, 3]);
        await bus.waitFor('abort');
      });

      it('with a function replaces the late element', async () => {
        const out = await lastValueFrom(
          from(items).pipe(
            mapParallel(t.hang, { workers: 2, scheduler, timeout: LATE_MS, ordered: true, onError: (e) => (e instanceof TaskTimeoutError ? 'late' : 'other') }),
            toArray(),
          ),
        );
        expect(out).toEqual([0, 'late', 2, 3]);
        await bus.waitFor('abort');
      });
    });

    describe('teardown', () => {
      it('take(n) stops fn calls, aborts calls in work and runs each onEnd once', async () => {
        const workers = 3;
        bus.open('g0');
        bus.open('g1');
        const { result } = record(fromIterable(range(100)).pipe(mapParallel(t.gated, { workers, scheduler, onEnd: t.onEnd }), take(2)));
        const { values, completed } = await result;
        expect(completed).toBe(true);
        expect(values.sort()).toEqual([0, 1]);
        const ends = await bus.waitFor('onEnd', workers);
        await turn();
        expect(ends.map((e) => e.worker).sort()).toEqual([0, 1, 2]);
        const started = new Set(bus.of('start').map((e) => e.i));
        expect(started.size).toBeLessThanOrEqual(2 + concurrent(workers)); // the two taken, and those in work
        const inWork = [...started].filter((i) => i !== 0 && i !== 1);
        const aborted = await bus.waitFor('abort', inWork.length);
        expect(new Set(aborted.map((e) => e.i))).toEqual(new Set(inWork));
        for (const i of range(100)) bus.open(`g${i}`); // were anything still waiting, it could now go on
        await turn();
        expect(bus.of('onEnd')).toHaveLength(workers);
        expect(new Set(bus.of('start').map((e) => e.i))).toEqual(started);
      });

      it('unsubscribe mid-stream does the same and emits nothing more', async () => {
        const workers = 2;
        const { values, subscription } = record(fromIterable(range(100)).pipe(mapParallel(t.gated, { workers, scheduler, onEnd: t.onEnd })));
        const inWork = concurrent(workers);
        await bus.waitFor('start', inWork);
        subscription.unsubscribe();
        await bus.waitFor('onEnd', workers);
        const aborted = await bus.waitFor('abort', inWork);
        // Which elements are in work depends on the scheduler (one with prefetch may queue 0..2 in one worker).
        expect(new Set(aborted.map((e) => e.i))).toEqual(new Set(bus.of('start').map((e) => e.i)));
        for (const i of range(100)) bus.open(`g${i}`);
        await turn();
        expect(values).toEqual([]);
        expect(bus.of('start')).toHaveLength(inWork);
        expect(bus.of('onEnd')).toHaveLength(workers);
      });
    });

    describe('flatMap streaming and inner teardown', () => {
      it('emits an inner source\'s outputs as they are produced, not when it ends', async () => {
        const first = deferred<unknown>();
        const values: unknown[] = [];
        const done = new Promise<void>((resolve, reject) =>
          fromIterable([{ i: 1, gate: 'more' }])
            .pipe(flatMapParallel(t.gatedStream, { scheduler }))
            .subscribe({ next: (v) => (values.push(v), first.resolve(v)), error: reject, complete: resolve }),
        );
        expect(await first.promise).toBe('1a'); // before the inner can go on
        bus.open('more');
        await done;
        expect(values).toEqual(['1a', '1b']);
      });

      it('flatMapOrdered streams the head element\'s outputs while later ones wait', async () => {
        const first = deferred<unknown>();
        const values: unknown[] = [];
        const done = new Promise<void>((resolve, reject) =>
          fromIterable([{ i: 1, gate: 'g1' }, { i: 2, gate: 'g2' }])
            .pipe(flatMapOrdered(t.gatedStream, { workers: 2, scheduler }))
            .subscribe({ next: (v) => (values.push(v), first.resolve(v)), error: reject, complete: resolve }),
        );
        expect(await first.promise).toBe('1a');
        bus.open('g2');
        bus.open('g1');
        await done;
        expect(values).toEqual(['1a', '1b', '2a', '2b']);
      });

      for (const innerKind of ['iterable', 'async', 'observable'] as const) {
        it(`take(3) over an endless ${innerKind} inner emits 3 values and tears the inner down`, async () => {
          const out = await lastValueFrom(fromIterable([{ kind: innerKind }]).pipe(flatMapParallel(t.endless, { scheduler }), take(3), toArray()));
          expect(out).toEqual([0, 1, 2]);
          await bus.waitFor('teardown');
          if (innerKind !== 'observable') {
            // A lazy inner is read only as downstream asks (plus the scheduler's output window).
            expect(bus.of('produce').length).toBeLessThanOrEqual(3 + outputWindow);
          }
        });
      }

      it('unsubscribing tears an inner down, and the worker goes on with other work', async () => {
        const first = deferred<void>();
        const subscription = fromIterable([{ kind: 'async' as const, tag: 'a' }]).pipe(flatMapParallel(t.endless, { scheduler })).subscribe(() => first.resolve());
        await first.promise;
        subscription.unsubscribe();
        await bus.waitFor('teardown', 1, (e) => e.tag === 'a');
        const out = await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(t.double, { scheduler }), toArray()));
        expect(out.sort()).toEqual([2, 4, 6]);
      });

      it('a timeout tears the inner down and fails the element with TaskTimeoutError', async () => {
        const { result } = record(fromIterable([{ kind: 'observable' as const, tag: 't' }]).pipe(flatMapParallel(t.endless, { scheduler, timeout: LATE_MS })));
        const { error, values } = await result;
        expect(error).toBeInstanceOf(TaskTimeoutError);
        expect(values.length).toBeGreaterThan(0); // it streamed before it timed out
        await bus.waitFor('teardown', 1, (e) => e.tag === 't');
      });

      it('an inner that throws while read: its outputs so far, then one StageError (or the rest skipped)', async () => {
        const { result } = record(fromIterable([{ i: 7 }]).pipe(flatMapParallel(t.throwingStream, { scheduler })));
        const { error, values } = await result;
        expect(values).toEqual([7]);
        expect(error).toBeInstanceOf(StageError);
        expect(((error as StageError).cause as Error).message).toBe('stream 7 failed');
        const skipped = await lastValueFrom(fromIterable([{ i: 1 }, { i: 2 }]).pipe(flatMapOrdered(t.throwingStream, { scheduler, onError: 'skip' }), toArray()));
        expect(skipped).toEqual([1, 2]);
      });
    });

    it.runIf(asyncKind)('emits nothing synchronously', async () => {
      const seen: number[] = [];
      const done = lastValueFrom(of(1, 2, 3).pipe(mapParallel(t.double, { scheduler }), toArray()));
      const second = new Promise<void>((resolve, reject) =>
        of(1, 2, 3).pipe(mapParallel(t.double, { scheduler })).subscribe({ next: (v) => seen.push(v), error: reject, complete: resolve }),
      );
      expect(seen).toEqual([]);
      expect((await done).sort()).toEqual([2, 4, 6]);
      await second; // no pipeline outlives its case (a scheduler shared by the cases is closed after them)
    });
  });
}

export { Observable };
