// The engine's shortcuts (an element called and emitted within the upstream's `next` on the sync
// scheduler; a result emitted at once when nothing waits before it; a new element sent straight to
// an idle worker) must change nothing a user can see. Each case mixes what takes an element off the
// shortcut (a thenable, a throw, a retry, a filter, downstream without credit, an unsubscribe
// inside fn) with what stays on it, and checks the outputs against what they must be.
import { describe, expect, it } from 'vitest';
import { lastValueFrom, of, Subject, take, takeUntil, toArray, type Observable } from 'rxjs';
import {
  eachParallel,
  filterParallel,
  fromIterable,
  mapParallel,
  Monitor,
  ordered,
  SKIP,
  syncScheduler,
  taskScheduler,
  WorkerCrashedError,
  type StageOptions,
} from 'rxjs-parallel';
import { deferred, random, record, turn } from '../support/util.js';

const all = <T>(o: Observable<T>) => lastValueFrom(o.pipe(toArray()));

/** What `fn` does with element x, by a seeded draw: answer at once, later, through a thenable that answers inside `then`, or throw. */
type Way = 'now' | 'promise' | 'eager-thenable' | 'throw-once' | 'throw-always';
const ways: Way[] = ['now', 'promise', 'eager-thenable', 'throw-once', 'throw-always'];

function plan(seed: number, n: number): Way[] {
  const rnd = random(seed);
  return Array.from({ length: n }, () => (rnd() < 0.6 ? 'now' : ways[1 + Math.floor(rnd() * 4)]));
}

/** `fn` for a plan: x → 2x, the way the plan says; counts its calls per element. */
function planned(way: Way[], calls: number[]) {
  return (x: number): number => {
    calls[x]++;
    switch (way[x]) {
      case 'now':
        return 2 * x;
      case 'promise':
        return Promise.resolve(2 * x) as unknown as number; // a promise is awaited
      case 'eager-thenable':
        return { then: (ok: (v: number) => void) => ok(2 * x) } as unknown as number; // so is any thenable
      case 'throw-once':
        if (calls[x] === 1) throw new Error(`once ${x}`);
        return 2 * x;
      case 'throw-always':
        throw new Error(`always ${x}`);
    }
  };
}

const schedulers = { sync: syncScheduler, task: taskScheduler };

describe.each(Object.keys(schedulers) as Array<keyof typeof schedulers>)('fast paths on the %s scheduler change no output', (name) => {
  const scheduler = schedulers[name];

  it.each([1, 2, 3, 4, 5, 6])('map, ordered and not, a mix of answers (seed %i)', async (seed) => {
    const n = 300;
    const way = plan(seed, n);
    const expected = way.map((w, x) => (w === 'throw-always' ? -x : 2 * x));
    for (const order of [false, true]) {
      const calls = new Array(n).fill(0);
      const options: StageOptions<number, number, number> = { scheduler: scheduler(), workers: 2, retries: 1, onError: (_e, x) => -x };
      const source = fromIterable(Array.from({ length: n }, (_, i) => i)).pipe(mapParallel(planned(way, calls), options));
      const out = await all(order ? source.pipe(ordered()) : source);
      if (order || name === 'sync') expect(out).toEqual(expected); // the sync scheduler runs one at a time: in order anyway
      else expect([...out].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
      expect(calls).toEqual(way.map((w) => (w === 'now' || w === 'promise' || w === 'eager-thenable' ? 1 : 2)));
    }
  });

  it('filter and each: kept values, skipped failures, and every call made once', async () => {
    const n = 200;
    const way = plan(7, n);
    const calls = new Array(n).fill(0);
    const fn = planned(way, calls);
    const kept = await all(
      fromIterable(Array.from({ length: n }, (_, i) => i)).pipe(
        filterParallel((x: number) => {
          const r: unknown = fn(x);
          return r instanceof Promise ? r.then((v: number) => v % 3 === 0) : typeof r === 'number' ? r % 3 === 0 : (r as boolean);
        }, { scheduler: scheduler(), retries: 1, onError: 'skip' }),
      ),
    );
    expect(kept).toEqual(
      way.map((w, x) => ({ w, x })).filter(({ w, x }) => w !== 'throw-always' && (w === 'eager-thenable' || (2 * x) % 3 === 0)).map(({ x }) => x),
    );
    const seen: number[] = [];
    const done = await all(fromIterable([1, 2, 3, 4]).pipe(eachParallel((x: number) => void seen.push(x), { scheduler: scheduler() })));
    expect(done).toEqual([]);
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
  });

  it('downstream without credit: results wait in the stage, in order, and the source is read no further than the bounds', async () => {
    const gate = deferred();
    let read = 0;
    function* numbers() {
      for (let i = 0; i < 100; i++) {
        read++;
        yield i;
      }
    }
    const first = { scheduler: scheduler(), workers: 1, maxsize: 1 };
    const second = { workers: 1, maxsize: 1 };
    const run = record(
      fromIterable(numbers()).pipe(
        mapParallel((x: number) => x + 1, first),
        mapParallel(async (x: number) => {
          if (x === 1) await gate.promise;
          return x;
        }, second),
      ),
    );
    await turn(); // the pipeline has read what its bounds let it
    // The second stage holds 2 (one in work, one waiting), the first 2 (its worker, its queue):
    // with its worker's element done and unable to leave, the first may hold at most one more read.
    expect(read).toBeLessThanOrEqual(2 + 2 + 1);
    gate.resolve();
    const result = await run.result;
    expect(result.completed).toBe(true);
    expect(result.values).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('take(n) after the stage stops a synchronous push source after n calls', async () => {
    const calls: number[] = [];
    const out = await all(of(1, 2, 3, 4, 5, 6, 7, 8).pipe(mapParallel((x: number) => (calls.push(x), x), { scheduler: scheduler() }), take(3)));
    expect(out).toEqual([1, 2, 3]);
    if (name === 'sync') expect(calls).toEqual([1, 2, 3]);
  });

  it('an unsubscribe from inside fn: nothing more is emitted, nothing more is called, the stream completes', async () => {
    const stop = new Subject<void>();
    const calls: number[] = [];
    const out = await all(
      fromIterable([1, 2, 3, 4, 5]).pipe(
        mapParallel(
          (x: number) => {
            calls.push(x);
            if (x === 2) stop.next();
            return x * 10;
          },
          { scheduler: scheduler(), workers: 1 },
        ),
        takeUntil(stop),
      ),
    );
    expect(out).toEqual([10]);
    expect(calls).toEqual([1, 2]);
  });
});

describe('a result that settles the head of an ordered stage', () => {
  it('goes out with the settled results behind it, at once', async () => {
    const gates = [deferred<number>(), deferred<number>(), deferred<number>()];
    const run = record(fromIterable([0, 1, 2]).pipe(mapParallel((x: number) => gates[x].promise, { workers: 3 }), ordered()));
    gates[1].resolve(1);
    await turn();
    expect(run.values).toEqual([]); // 1 waits for 0
    gates[0].resolve(0);
    await turn();
    expect(run.values).toEqual([0, 1]); // nothing else happens before element 2 settles: 1 went out with 0
    gates[2].resolve(2);
    expect((await run.result).values).toEqual([0, 1, 2]);
  });
});

describe('the sync scheduler', () => {
  it('a thenable that answers, then throws from its then: the answer counts, once', async () => {
    const errors: unknown[] = [];
    const out = await all(
      fromIterable([1, 2, 3]).pipe(
        mapParallel(
          (x: number) =>
            x === 2
              ? ({
                  then(ok: (v: number) => void) {
                    ok(20);
                    throw new Error('after answering');
                  },
                } as unknown as number)
              : x,
          { scheduler: syncScheduler(), onError: (e) => (errors.push(e), -1) },
        ),
      ),
    );
    expect(out).toEqual([1, 20, 3]);
    expect(errors).toEqual([]);
  });

  it('closed by scheduler.close() while fn runs: the element fails with WorkerCrashedError, once', async () => {
    const scheduler = syncScheduler();
    const seen: unknown[] = [];
    const run = record(
      fromIterable([1, 2, 3]).pipe(
        mapParallel(
          (x: number) => {
            if (x === 2) void scheduler.close();
            return x;
          },
          { scheduler, onError: (e, x) => (seen.push([x, (e as Error).constructor.name]), SKIP) },
        ),
      ),
    );
    const result = await run.result;
    // 2 fails as its lease is closed under it; 3 finds the lease closed.
    expect(seen).toEqual([
      [2, WorkerCrashedError.name],
      [3, WorkerCrashedError.name],
    ]);
    expect(result).toEqual({ values: [1], completed: true });
  });

  it('closed while fn runs, then fn answers with a promise: its signal is aborted, the element fails once, the late answer is dropped', async () => {
    const scheduler = syncScheduler();
    const seen: unknown[] = [];
    const late = deferred<number>();
    let kept: { signal: AbortSignal } | undefined;
    const run = record(
      fromIterable([1, 2]).pipe(
        mapParallel(
          (x: number, ctx) => {
            if (x === 1) return x;
            kept = ctx;
            void scheduler.close();
            return late.promise;
          },
          { scheduler, onError: (e, x) => (seen.push([x, (e as Error).constructor.name]), SKIP) },
        ),
      ),
    );
    late.resolve(99);
    const result = await run.result;
    expect(kept!.signal.aborted).toBe(true); // the close reached the call that was still in fn
    expect(seen).toEqual([[2, WorkerCrashedError.name]]);
    expect(result).toEqual({ values: [1], completed: true });
  });

  it("emits a synchronous fn's results within the upstream's next, one call per element, as it did before its shortcut", () => {
    const log: string[] = [];
    const subject = new Subject<number>();
    subject.pipe(mapParallel((x: number) => (log.push(`call ${x}`), x * 2), { scheduler: syncScheduler() })).subscribe((v) => log.push(`out ${v}`));
    subject.next(1);
    log.push('after 1');
    subject.next(2);
    log.push('after 2');
    expect(log).toEqual(['call 1', 'out 2', 'after 1', 'call 2', 'out 4', 'after 2']);
  });

  it('a throw, retried or replaced, keeps its place: elements after it wait for it', () => {
    const log: unknown[] = [];
    const subject = new Subject<number>();
    let failures = 0;
    subject
      .pipe(
        mapParallel(
          (x: number) => {
            if (x === 2 && failures++ < 1) throw new Error('once');
            if (x === 3) throw new Error('always');
            return x;
          },
          { scheduler: syncScheduler(), retries: 1, onError: (_e, x) => ((x as number) === 3 ? SKIP : -1) },
        ),
      )
      .subscribe((v) => log.push(v));
    for (const x of [1, 2, 3, 4]) subject.next(x);
    expect(log).toEqual([1, 2, 4]);
  });
});

describe("a source fed from inside fn or from downstream's next (the element that arrives meanwhile waits its turn, as in dispatch)", () => {
  for (const ordered of [false, true]) {
    it(`sync: an element fn feeds into its own source is run, and the stage completes (ordered: ${ordered})`, async () => {
      const src = new Subject<number>();
      const log: string[] = [];
      const done = new Promise<void>((resolve, reject) =>
        src
          .pipe(mapParallel((x: number) => (log.push(`fn${x}`), x < 3 && src.next(x + 1), x * 10), { scheduler: 'sync', ordered }))
          .subscribe({ next: (v) => log.push(`out${v}`), complete: () => resolve(), error: reject }),
      );
      src.next(1);
      src.complete();
      await done;
      expect(log).toEqual(['fn1', 'out10', 'fn2', 'out20', 'fn3', 'out30']);
    });
  }

  it('sync: downstream next that feeds the source is not re-entered', async () => {
    const src = new Subject<number>();
    const log: string[] = [];
    src.pipe(filterParallel((x: number) => (log.push(`fn${x}`), true), { scheduler: 'sync' })).subscribe((v) => {
      log.push(`out${v}<`);
      if (v < 3) src.next(v + 1);
      log.push(`>out${v}`);
    });
    src.next(1);
    expect(log).toEqual(['fn1', 'out1<', '>out1', 'fn2', 'out2<', '>out2', 'fn3', 'out3<', '>out3']);
  });

  it('task: an element fn feeds into its own source starts after fn returns', async () => {
    const src = new Subject<number>();
    const log: string[] = [];
    const out: number[] = [];
    const done = new Promise<void>((resolve) => src.pipe(mapParallel((x: number) => (log.push(`fn${x}<`), x === 1 && src.next(2), log.push(`>fn${x}`), x), { scheduler: 'task', workers: 2 })).subscribe({ next: (v) => out.push(v), complete: resolve }));
    await turn(); // its leases are ready: the element goes straight to a worker
    src.next(1);
    src.complete();
    await done;
    expect(log).toEqual(['fn1<', '>fn1', 'fn2<', '>fn2']);
    expect(out).toEqual([1, 2]);
  });
});

describe('the sync scheduler with several workers (the lane picks the worker the dispatch loop would)', () => {
  // A monitor takes the stage off the lane: the same stage with one is the dispatch loop's reference.
  it.each([2, 3])('workers: %i: each element runs on the same worker, and onEnd comes in the same order, with a monitor or without', async (workers) => {
    const trace = async (monitor: boolean) => {
      const log: string[] = [];
      const src = new Subject<number>();
      const done = new Promise<void>((resolve) =>
        src
          .pipe(
            mapParallel((x: number, ctx) => {
              log.push(`f${x}@${ctx.workerInfo.index}`);
              if (x === 4) src.complete(); // the workers idle meanwhile end now, the busy one after
              return x === 2 ? Promise.resolve(x) : x;
            }, { scheduler: 'sync', workers, onEnd: (ctx) => void log.push(`end${ctx.workerInfo.index}`), ...(monitor ? { monitor: new Monitor() } : {}) }),
          )
          .subscribe({ complete: resolve }),
      );
      for (let x = 1; x <= 4; x++) {
        src.next(x);
        await turn();
      }
      await done;
      return log;
    };
    const lane = await trace(false);
    expect(new Set(lane.filter((e) => e.startsWith('f')).map((e) => e.split('@')[1])).size).toBeGreaterThan(1);
    expect(lane).toEqual(await trace(true));
  });
});
