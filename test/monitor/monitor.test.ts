// The Monitor: exact counters, latencies attributed to the right stage, snapshots that stop with
// the pipeline. Synchronised with latches and an injected clock: no sleeps, no timing assertions.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Subject, take } from 'rxjs';
import {
  eachParallel,
  filterParallel,
  flatMapParallel,
  fromIterable,
  mapParallel,
  Monitor,
  run,
  type MonitorSnapshot,
  type StageStats,
} from 'rxjs-parallel';
import { deferred, record, turn, type Deferred } from '../support/util.js';

/** Waits, turn by turn of the event loop (never by the clock), until `condition` holds. */
async function until(condition: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await turn();
  }
  throw new Error(`${what} never held`);
}

/** A clock the test moves by hand. */
function manualClock() {
  const clock = { t: 0, now: () => clock.t };
  return clock;
}

const latches = (n: number) => Array.from({ length: n }, () => deferred());
const row = (s: MonitorSnapshot, name: string): StageStats => s.stages.find((r) => r.name === name)!;
const held = (s: StageStats) => s.in - (s.out + s.filtered + s.failed + s.dropped + s.cancelled);

afterEach(() => {
  vi.useRealTimers();
});

describe('Monitor: latencies', () => {
  it('attributes queue wait to the stage whose queue held the element, and run time to the stage that ran it', async () => {
    const clock = manualClock();
    const monitor = new Monitor({ clock: clock.now });
    const calledA = [deferred(), deferred()];
    const calledB = [deferred(), deferred()];
    const gateA = latches(2);
    const gateB = latches(2);
    const stageFn = (called: Deferred[], gate: Deferred[]) => async (x: number) => {
      called[x].resolve();
      await gate[x].promise;
      return x;
    };
    const out = record(
      fromIterable([0, 1]).pipe(
        mapParallel(stageFn(calledA, gateA), { monitor, name: 'A' }),
        mapParallel(stageFn(calledB, gateB), { monitor, name: 'B' }),
      ),
    );

    // t=0: A runs element 0; element 1 waits in A's queue.
    await calledA[0].promise;
    expect(monitor.report().stages.map((s) => s.name)).toEqual(['A', 'B']); // upstream first
    expect(row(monitor.report(), 'A')).toMatchObject({ in: 2, inWork: 1, queued: 1, state: 'running' });
    // t=10: element 0 leaves A and goes straight to work in B; A takes element 1.
    clock.t = 10;
    gateA[0].resolve();
    await Promise.all([calledB[0].promise, calledA[1].promise]);
    // t=30: element 1 leaves A and waits in B's queue, behind element 0.
    clock.t = 30;
    gateA[1].resolve();
    await until(() => row(monitor.report(), 'B').queued === 1 && row(monitor.report(), 'A').state === 'complete');
    const mid = monitor.report();
    expect(row(mid, 'B')).toMatchObject({ in: 2, out: 0, inWork: 1, queued: 1, state: 'running' });
    expect(held(row(mid, 'B'))).toBe(2);
    // t=35: element 0 leaves B; element 1 goes to work after 5 ms in B's queue.
    clock.t = 35;
    gateB[0].resolve();
    await calledB[1].promise;
    // t=45: done.
    clock.t = 45;
    gateB[1].resolve();
    expect((await out.result).values.sort()).toEqual([0, 1]);

    const r = monitor.report();
    expect(row(r, 'A').queueWait).toEqual({ count: 2, p50: 0, p95: 10, p99: 10, max: 10, mean: 5 });
    expect(row(r, 'A').runTime).toMatchObject({ count: 2, max: 20, mean: 15 });
    expect(row(r, 'B').queueWait).toEqual({ count: 2, p50: 0, p95: 5, p99: 5, max: 5, mean: 2.5 });
    expect(row(r, 'B').runTime).toMatchObject({ count: 2, max: 25, mean: 17.5 });
    // A: one worker busy from 0 to 30 of its 30 ms; B: busy from 10 to 45 of its 45 ms.
    expect(row(r, 'A').utilisation).toBe(1);
    expect(row(r, 'B').utilisation).toBe(0.7778);
    expect(r.elapsedMs).toBe(45);
    expect(r.elementsPerSecond).toBe(44.44); // B's 2 elements in 45 ms
    // End to end, from entering A's queue to leaving B: element 0 at 35 ms, element 1 at 45 ms.
    expect(r.endToEnd).toMatchObject({ count: 2, p50: 35, max: 45, mean: 40 });
  });

  it('measures a retried element’s second queue wait from its failure', async () => {
    const clock = manualClock();
    const monitor = new Monitor({ clock: clock.now });
    const first = deferred();
    const retry = deferred();
    let attempts = 0;
    const done = run(
      fromIterable([1]).pipe(
        mapParallel(
          async () => {
            if (++attempts === 1) {
              first.resolve();
              await retry.promise;
              throw new Error('once');
            }
            return 'ok';
          },
          { monitor, name: 'M', retries: 1 },
        ),
      ),
    );
    await first.promise;
    clock.t = 7;
    retry.resolve();
    await done;
    const m = row(monitor.report(), 'M');
    expect(m).toMatchObject({ in: 1, out: 1, retried: 1, failed: 0 });
    expect(m.runTime).toMatchObject({ count: 2, max: 7, mean: 3.5 });
    expect(m.queueWait).toMatchObject({ count: 2, max: 0 });
  });
});

describe('Monitor: timing', () => {
  /** `n` elements of a one-stage pipeline whose source moves the clock `gap` ms before each read. */
  async function timedCount(timing: 'auto' | 'all', n: number, gap: number) {
    const clock = manualClock();
    const monitor = new Monitor({ clock: clock.now, timing });
    function* source() {
      for (let i = 0; i < n; i++) {
        clock.t += gap;
        yield i;
      }
    }
    await run(fromIterable(source()).pipe(mapParallel(async (x: number) => x, { monitor, name: 'm', workers: 2 })));
    return row(monitor.report(), 'm');
  }

  it("times every element with timing 'all', however fast they come", async () => {
    const m = await timedCount('all', 1000, 0);
    expect(m).toMatchObject({ in: 1000, out: 1000 });
    expect(m.runTime.count).toBe(1000);
    expect(m.queueWait.count).toBe(1000);
  });

  it("times every element of a slow stage with timing 'auto', and fewer of a fast one, counting all", async () => {
    const slow = await timedCount('auto', 200, 1); // elements leave 1 ms apart
    expect(slow.runTime.count).toBe(200);
    const fast = await timedCount('auto', 5000, 0); // elements leave 0 ms apart
    expect(fast).toMatchObject({ in: 5000, out: 5000, outputs: 5000 });
    expect(fast.runTime.count).toBeGreaterThanOrEqual(64); // the first window is timed in full
    expect(fast.runTime.count).toBeLessThan(5000 / 16);
    expect(fast.queueWait.count).toBe(fast.runTime.count);
  });
});

describe('Monitor: end-to-end latency', () => {
  it('times a flatMap element until the last of its outputs leaves the last stage', async () => {
    const clock = manualClock();
    const monitor = new Monitor({ clock: clock.now });
    const gates = latches(3);
    const called = latches(3);
    const out = record(
      fromIterable(['a']).pipe(
        flatMapParallel((x: string) => [0, 1, 2].map((i) => `${x}${i}`), { monitor, name: 'split' }),
        mapParallel(async (x: string) => {
          const i = Number(x[1]);
          called[i].resolve();
          await gates[i].promise;
          return x;
        }, { monitor, name: 'work', workers: 3 }),
      ),
    );
    await Promise.all(called.map((c) => c.promise));
    clock.t = 5;
    gates[0].resolve();
    await until(() => row(monitor.report(), 'work').out === 1);
    expect(monitor.report().endToEnd.count).toBe(0); // two of its outputs are still in work
    clock.t = 9;
    gates[2].resolve();
    gates[1].resolve();
    expect((await out.result).values.sort()).toEqual(['a0', 'a1', 'a2']);
    expect(monitor.report().endToEnd).toEqual({ count: 1, p50: 9, p95: 9, p99: 9, max: 9, mean: 9 });
  });

  it('counts only the elements that left the last stage with their output', async () => {
    const clock = manualClock();
    const monitor = new Monitor({ clock: clock.now });
    await run(
      fromIterable([1, 2, 3, 4]).pipe(
        filterParallel((x: number) => x % 2 === 0, { monitor, name: 'even' }),
        mapParallel(async (x: number) => ((clock.t += 10), x), { monitor, name: 'slow' }),
        mapParallel((x: number) => (x === 4 ? Promise.reject(new Error('no')) : x), { monitor, name: 'last', onError: 'skip' }),
      ),
    );
    const r = monitor.report();
    expect(row(r, 'last')).toMatchObject({ in: 2, out: 1, failed: 1 });
    expect(r.endToEnd.count).toBe(1); // 1 and 3 filtered out, 4 failed: only 2 got through
  });

  it('follows every timed element, also past the slots it is kept in (their number wraps around)', async () => {
    const monitor = new Monitor({ timing: 'all' });
    await run(
      fromIterable(Array.from({ length: 10_000 }, (_, i) => i)).pipe(
        mapParallel(async (x: number) => x, { monitor, name: 'a', workers: 4 }),
        flatMapParallel((x: number) => [x, x], { monitor, name: 'b', workers: 2 }),
        eachParallel(() => {}, { monitor, name: 'c', workers: 3 }),
      ),
    );
    expect(monitor.report().endToEnd.count).toBe(10_000);
  });

  it('forgets what never leaves when the pipeline ends (an unsubscribe)', async () => {
    const monitor = new Monitor();
    const started = deferred();
    const { subscription } = record(fromIterable([1, 2]).pipe(mapParallel(() => (started.resolve(), new Promise(() => {})), { monitor, name: 'stuck' })));
    await started.promise;
    subscription.unsubscribe();
    expect(monitor.report().endToEnd.count).toBe(0);
    await run(fromIterable([1, 2]).pipe(mapParallel(async (x: number) => x, { monitor, name: 'stuck' })));
    expect(monitor.report().endToEnd.count).toBe(2);
  });
});

describe('Monitor: timeline (what the HTML report draws)', () => {
  it('puts each element that left, and each worker-ms of work, in its time bucket', async () => {
    const clock = manualClock();
    const monitor = new Monitor({ clock: clock.now, timing: 'all' });
    const gates = latches(3);
    const called = latches(3);
    const done = run(
      fromIterable([0, 1, 2]).pipe(
        mapParallel(async (i: number) => {
          called[i].resolve();
          await gates[i].promise;
          return i;
        }, { monitor, name: 'm' }),
      ),
    );
    // One worker: element 0 from 0 to 30 ms, 1 from 30 to 80 ms, 2 from 80 to 90 ms.
    for (const [i, t] of [[0, 30], [1, 80], [2, 90]]) {
      await called[i].promise;
      clock.t = t;
      gates[i].resolve();
    }
    await done;
    const data = monitor.reportData();
    const m = data.stages.find((s) => s.name === 'm')!;
    expect(data.bucketMs).toBe(25);
    expect(m.left).toEqual([0, 1, 0, 2]); // left at 30 ms (bucket 1), and at 80 and 90 ms (bucket 3)
    expect(m.busy.reduce((a, b) => a + b, 0)).toBeCloseTo(90, 9);
    expect(m.busy.map((ms) => Math.round(ms))).toEqual([25, 25, 25, 15]);
  });
});

describe.each(['task', 'sync'] as const)('Monitor: exact counters (%s scheduler)', (scheduler) => {
  it('counts in, out, outputs, filtered, failed, retried and timed out in map, filter, flatMap and each', async () => {
    const monitor = new Monitor({ timing: 'all' });
    const firstTry = new Set<number>();
    const never = new Promise<never>(() => {});
    await run(
      fromIterable(Array.from({ length: 100 }, (_, i) => i)).pipe(
        // x % 10 === 3 always fails, x % 10 === 5 fails on its first attempt only.
        mapParallel(
          (x: number) => {
            if (x % 10 === 3) throw new Error('always');
            if (x % 10 === 5 && !firstTry.has(x)) {
              firstTry.add(x);
              throw new Error('once');
            }
            return x;
          },
          { monitor, name: 'map', workers: 3, retries: 1, onError: 'skip', scheduler },
        ),
        filterParallel((x: number) => x % 2 === 0, { monitor, name: 'filter', workers: 2, scheduler }),
        flatMapParallel((x: number) => (x % 4 === 0 ? [] : [x, x + 0.5]), { monitor, name: 'flat', workers: 2, scheduler }),
        // Values x ≡ 6 (mod 12) never settle: each times out twice (one retry), then is skipped.
        eachParallel((v: number) => (v % 12 === 6 ? never : undefined), {
          monitor,
          name: 'each',
          workers: 4,
          timeout: 5,
          retries: 1,
          onError: 'skip',
          scheduler,
        }),
      ),
    );
    const r = monitor.report();
    const pick = (name: string) => {
      const { in: n, out, outputs, filtered, failed, dropped, cancelled, retried, timedOut, inWork, queued, state } = row(r, name);
      return { in: n, out, outputs, filtered, failed, dropped, cancelled, retried, timedOut, inWork, queued, state };
    };
    const quiet = { dropped: 0, cancelled: 0, inWork: 0, queued: 0, state: 'complete' };
    expect(pick('map')).toEqual({ ...quiet, in: 100, out: 90, outputs: 90, filtered: 0, failed: 10, retried: 20, timedOut: 0 });
    expect(pick('filter')).toEqual({ ...quiet, in: 90, out: 50, outputs: 50, filtered: 40, failed: 0, retried: 0, timedOut: 0 });
    expect(pick('flat')).toEqual({ ...quiet, in: 50, out: 25, outputs: 50, filtered: 25, failed: 0, retried: 0, timedOut: 0 });
    expect(pick('each')).toEqual({ ...quiet, in: 50, out: 42, outputs: 0, filtered: 0, failed: 8, retried: 8, timedOut: 16 });
    for (const s of r.stages) {
      expect(s.in, s.name).toBe(s.out + s.filtered + s.failed + s.dropped);
      expect(s.runTime.count, s.name).toBe(s.in + s.retried); // every call, failed or not, ran once
      expect(s.queueWait.count, s.name).toBe(s.in + s.retried);
    }
    expect(r.stages.map((s) => s.name)).toEqual(['map', 'filter', 'flat', 'each']);
  });
});

describe('Monitor: counters that add up at every moment', () => {
  it('keeps in = out + filtered + failed + held while elements are queued and in work', async () => {
    const monitor = new Monitor();
    const gates = latches(6);
    const called = latches(6);
    const out = record(
      fromIterable([0, 1, 2, 3, 4, 5]).pipe(
        mapParallel(
          async (x: number) => {
            called[x].resolve();
            await gates[x].promise;
            if (x === 4) throw new Error('skip me');
            return x;
          },
          { monitor, name: 'm', workers: 2, maxsize: 4, onError: 'skip' },
        ),
      ),
    );
    await Promise.all([called[0].promise, called[1].promise]);
    let s = row(monitor.report(), 'm');
    expect(s).toMatchObject({ in: 6, inWork: 2, queued: 4, creditsOutstanding: 0 });
    expect(held(s)).toBe(6);
    for (const x of [0, 1, 2, 3, 4, 5]) {
      await called[x].promise;
      gates[x].resolve();
      await until(() => held(row(monitor.report(), 'm')) === 5 - x, `element ${x} left`);
      s = row(monitor.report(), 'm');
      expect(s.in).toBe(s.out + s.filtered + s.failed + held(s));
    }
    await out.result;
    expect(row(monitor.report(), 'm')).toMatchObject({ in: 6, out: 5, failed: 1, state: 'complete' });
  });

  it('counts a recovered element as failed, with the replacement among its outputs', async () => {
    const monitor = new Monitor();
    await run(
      fromIterable([1, 2]).pipe(
        mapParallel((x: number) => { if (x === 2) throw new Error('no'); return x; }, { monitor, name: 'm', onError: () => 0 }),
      ),
    );
    expect(row(monitor.report(), 'm')).toMatchObject({ in: 2, out: 1, failed: 1, outputs: 2 });
  });

  it('counts elements dropped by the overflow policy, and reports unbounded credits as null', async () => {
    const monitor = new Monitor();
    const gate = deferred();
    const source = new Subject<number>();
    const out = record(source.pipe(mapParallel(async (x: number) => { await gate.promise; return x; }, { monitor, name: 'm', maxsize: 2, overflow: 'dropNewest' })));
    for (let i = 0; i < 6; i++) source.next(i);
    await until(() => row(monitor.report(), 'm').inWork === 1);
    const live = row(monitor.report(), 'm');
    // Six pushed at once into a queue of 2 before the worker was ready: the 4 newest dropped.
    expect(live).toMatchObject({ in: 6, dropped: 4, queued: 1, creditsOutstanding: null });
    const report = monitor.report();
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    source.complete();
    gate.resolve();
    await out.result;
    expect(row(monitor.report(), 'm')).toMatchObject({ in: 6, out: 2, dropped: 4, state: 'complete' });
  });

  it('counts the elements abandoned by an unsubscribe or an error as cancelled', async () => {
    const monitor = new Monitor();
    const never = () => new Promise<never>(() => {});
    await run(fromIterable([1, 2, 3, 4, 5]).pipe(mapParallel((x: number) => (x === 1 ? x : never()), { monitor, name: 'u', workers: 2 }), take(1)));
    expect(row(monitor.report(), 'u')).toMatchObject({ in: 5, out: 1, cancelled: 4, inWork: 0, queued: 0, state: 'unsubscribed' });

    const failing = record(
      fromIterable([1, 2, 3]).pipe(mapParallel((x: number) => (x === 1 ? Promise.reject(new Error('boom')) : never()), { monitor, name: 'e', workers: 2 })),
    );
    expect((await failing.result).error).toBeInstanceOf(Error);
    const e = row(monitor.report(), 'e');
    expect(e).toMatchObject({ in: 3, out: 0, failed: 0, cancelled: 3, state: 'error' });
  });

  it('keeps one row per stage name when the pipeline runs again, and counts both runs into it', async () => {
    const monitor = new Monitor();
    const pipeline = fromIterable([1, 2, 3]).pipe(mapParallel(async (x: number) => x, { monitor, name: 'again' }));
    await run(pipeline);
    await run(pipeline);
    const r = monitor.report();
    expect(r.stages).toHaveLength(1);
    expect(r.stages[0]).toMatchObject({ name: 'again', in: 6, out: 6, state: 'complete' });
  });
});

describe('Monitor: snapshots', () => {
  it('ticks only while a stage runs and someone listens, emits a last snapshot after completion, then nothing', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const clock = manualClock();
    const monitor = new Monitor({ interval: 100, clock: clock.now });
    const events: Array<'complete' | MonitorSnapshot> = [];
    const stats = monitor.stats$.subscribe((s) => events.push(s));
    expect(vi.getTimerCount()).toBe(0); // nobody runs

    const gate = deferred();
    const called = deferred();
    const pipeline = fromIterable([1, 2, 3]).pipe(
      mapParallel(async (x: number) => { called.resolve(); await gate.promise; return x; }, { monitor, name: 'm' }),
      filterParallel(async (x: number) => x !== 2, { monitor, name: 'f' }),
    );
    const out = pipeline.subscribe({ complete: () => events.push('complete') });
    await called.promise;
    expect(monitor.running).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    clock.t = 100;
    vi.advanceTimersByTime(100);
    expect(events).toHaveLength(1);
    expect((events[0] as MonitorSnapshot).stages.map((s) => [s.name, s.state, s.in])).toEqual([
      ['m', 'running', 3],
      ['f', 'running', 0],
    ]);

    clock.t = 150;
    gate.resolve();
    await until(() => events.includes('complete'));
    await turn();
    expect(events).toHaveLength(3);
    expect(events[1]).toBe('complete');
    const last = events[2] as MonitorSnapshot;
    expect(last.stages.map((s) => [s.name, s.state, s.in, s.out, s.filtered])).toEqual([
      ['m', 'complete', 3, 3, 0],
      ['f', 'complete', 3, 2, 1],
    ]);
    expect(last.elapsedMs).toBe(150);

    // Nothing after the end: no timer left, however long we wait.
    expect(monitor.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    clock.t = 10_000;
    vi.advanceTimersByTime(10_000);
    await turn();
    expect(events).toHaveLength(3);
    stats.unsubscribe();
    out.unsubscribe();
  });

  it('starts no timer for a running pipeline that nobody listens to, and stops it when the last listener leaves', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const monitor = new Monitor();
    const gate = deferred();
    const done = run(fromIterable([1]).pipe(mapParallel(() => gate.promise, { monitor })));
    await until(() => monitor.running);
    expect(vi.getTimerCount()).toBe(0);
    const a = monitor.stats$.subscribe();
    const b = monitor.stats$.subscribe();
    expect(vi.getTimerCount()).toBe(1);
    a.unsubscribe();
    expect(vi.getTimerCount()).toBe(1);
    b.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    gate.resolve();
    await done;
  });

  it('sends every listener the same snapshots', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const monitor = new Monitor({ interval: 10 });
    const a: MonitorSnapshot[] = [];
    const b: MonitorSnapshot[] = [];
    monitor.stats$.subscribe((s) => a.push(s));
    monitor.stats$.subscribe((s) => b.push(s));
    const gate = deferred();
    const done = run(fromIterable([1]).pipe(mapParallel(() => gate.promise, { monitor })));
    await until(() => monitor.running);
    vi.advanceTimersByTime(30);
    gate.resolve();
    await done;
    await turn();
    expect(a).toHaveLength(4);
    expect(b).toEqual(a);
  });

  it('does not keep the process alive: its timer is unref’d', async () => {
    const monitor = new Monitor({ interval: 1_000_000 });
    const sub = monitor.stats$.subscribe();
    const gate = deferred();
    const spy = vi.spyOn(globalThis, 'setInterval');
    const done = run(fromIterable([1]).pipe(mapParallel(() => gate.promise, { monitor })));
    await until(() => monitor.running);
    const timer = spy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
    gate.resolve();
    await done;
    sub.unsubscribe();
  });

  it('gives a JSON-serialisable report at any time, before, during and after a run', async () => {
    const monitor = new Monitor();
    const check = () => {
      const r = monitor.report();
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
      return r;
    };
    const none = { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    expect(check()).toEqual({ elapsedMs: 0, elementsPerSecond: 0, endToEnd: none, stages: [] });
    const gate = deferred();
    const done = run(
      fromIterable([1, 2, 3]).pipe(
        mapParallel(async (x: number) => { await gate.promise; return x; }, { monitor, workers: 2 }),
        eachParallel(() => {}, { monitor }),
      ),
    );
    await until(() => row(monitor.report(), monitor.report().stages[0].name).inWork === 2);
    const during = check();
    expect(during.stages[1].queueWait).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
    gate.resolve();
    await done;
    check();
  });

  it('validates its options', () => {
    expect(() => new Monitor({ interval: 0 })).toThrow(/interval/);
    expect(() => new Monitor({ clock: 5 as unknown as () => number })).toThrow(/clock/);
    expect(() => mapParallel((x) => x, { monitor: {} as Monitor })).toThrow(/monitor/);
  });
});
