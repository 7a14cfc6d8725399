// The run lane (src/core/lane.ts): a stage whose leases take runs (`runValues`) hands them runs of
// values and gets results back by run, with no per-element state, until something element-specific
// happens; then it leaves the lane, and every element it holds becomes a job where it stands. A
// scripted scheduler answers runs piece by piece in a seeded random order, fails elements, gives work
// back, and makes the stage leave the lane at a random moment: whatever the script, every element
// comes out once (ordered: in order), failures go through retries and onError, and the stage ends.
import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, take, toArray } from 'rxjs';
import { random as rng } from '../support/util.js';
import { eachParallel, filterParallel, fromIterable, mapParallel, type Job, type LeaseSink, type Scheduler, type StageWork, type ValueRun, type WorkerInfo, type WorkerLease } from 'rxjs-parallel';

interface Script {
  readonly random: () => number;
  /** What a call returns: map x * 2, filter a verdict, each nothing. */
  readonly mode?: 'map' | 'filter' | 'each';
  /** Make the stage leave its lane at this step (a failure or a crash would). */
  readonly leaveAt: number;
  /** Values whose call fails (once, or always). */
  readonly failing: ReadonlySet<number>;
  readonly failOnce: boolean;
}

interface Held {
  run: ValueRun;
  /** Positions not answered yet. */
  left: number[];
}

/** A scheduler whose leases take runs and answer them in the script's order, one step per macrotask. */
function scriptedScheduler(script: Script) {
  const stats = { runs: 0, jobs: 0, leftLane: 0, calls: new Map<number, number>(), maxOutstanding: 0 };
  const leases: Array<() => boolean> = [];
  let step = 0;
  let ticking = false;
  const tick = () => {
    if (ticking) return;
    ticking = true;
    setImmediate(function loop() {
      const busy = leases.filter((l) => l !== undefined);
      let acted = false;
      // Each step, one lease (chosen at random among those with work) answers something.
      for (let tries = 0; tries < busy.length * 2 && !acted; tries++) acted = busy[Math.floor(script.random() * busy.length)]();
      if (!acted) for (const act of busy) if ((acted = act())) break;
      if (acted) setImmediate(loop);
      else ticking = false;
    });
  };
  const call = (value: number): { ok: boolean; value: unknown } => {
    const n = (stats.calls.get(value) ?? 0) + 1;
    stats.calls.set(value, n);
    if (script.failing.has(value) && (!script.failOnce || n === 1)) return { ok: false, value: new Error(`fails ${value}`) };
    return { ok: true, value: script.mode === 'filter' ? value % 3 !== 0 : script.mode === 'each' ? undefined : value * 2 };
  };
  const scheduler: Scheduler = {
    kind: 'scripted',
    batching: true,
    prefetch: 4,
    lease(_work: StageWork, _info: WorkerInfo, sink: LeaseSink): WorkerLease {
      let runs: Held[] = [];
      let jobs: Job[] = [];
      let ended = false;
      const outstanding = () => jobs.length + runs.reduce((n, h) => n + h.left.length, 0);
      const act = (): boolean => {
        if (ended || (runs.length === 0 && jobs.length === 0)) return false;
        step++;
        if (step === script.leaveAt && runs.length > 0) {
          sink.leaveLane!();
          return true;
        }
        if (runs.length > 0) {
          const held = runs[Math.floor(script.random() * runs.length)];
          // A piece of the run: a stretch of positions, or one position out of order.
          const piece: number[] = [];
          if (script.random() < 0.5) piece.push(held.left.splice(Math.floor(script.random() * held.left.length), 1)[0]);
          else piece.push(...held.left.splice(0, 1 + Math.floor(script.random() * held.left.length)));
          if (held.left.length === 0) runs = runs.filter((h) => h !== held);
          piece.sort((a, b) => a - b);
          // A failure is never answered through settleRun: the lease leaves the lane first, then
          // settles the job (the positions not answered stay in work, as jobs now).
          const results = piece.map((i) => call(held.run.values[i] as number));
          const failed = results.findIndex((r) => !r.ok);
          sink.settleMany!(() => {
            for (let k = 0; k < piece.length; ) {
              if (failed >= 0 && k >= failed) {
                sink.leaveLane!(); // jobs: the rest of this piece is settled by job below
                for (let j = k; j < piece.length; j++) {
                  const job = held.run.jobs![piece[j]]!;
                  jobs = jobs.filter((x) => x !== job);
                  sink.settleJob!(job, results[j].ok, results[j].value);
                }
                return;
              }
              // The longest stretch of consecutive positions from k goes in one call.
              let end = k + 1;
              while (end < piece.length && piece[end] === piece[end - 1] + 1 && !(failed >= 0 && end >= failed)) end++;
              sink.settleRun!(held.run, piece[k], results.slice(k, end).map((r) => r.value), 0, end - k);
              k = end;
            }
          });
          return true;
        }
        const job = jobs.splice(Math.floor(script.random() * jobs.length), 1)[0];
        const r = call(job.value as number);
        sink.settleJob!(job, r.ok, r.value);
        return true;
      };
      leases.push(act);
      return {
        ready: Promise.resolve(),
        byJob: true,
        get laneOpen() {
          return !ended;
        },
        runValues(run) {
          stats.runs++;
          runs.push({ run, left: Array.from({ length: run.n }, (_, i) => i) });
          stats.maxOutstanding = Math.max(stats.maxOutstanding, outstanding());
          tick();
        },
        leftLane() {
          stats.leftLane++;
          for (const held of runs) for (const i of held.left) jobs.push(held.run.jobs![i]!);
          runs = [];
        },
        run(given) {
          stats.jobs += given.length;
          jobs.push(...given);
          stats.maxOutstanding = Math.max(stats.maxOutstanding, outstanding());
          tick();
        },
        reclaim(count) {
          // Work given back: element-specific, so the stage leaves the lane first.
          if (runs.length > 0) sink.leaveLane!();
          const back = jobs.splice(Math.max(0, jobs.length - count), count);
          queueMicrotask(() => sink.reclaimed(back));
        },
        cancel() {},
        async end() {
          ended = true;
          leases[leases.indexOf(act)] = undefined!;
          runs = [];
          jobs = [];
        },
      };
    },
    async close() {},
  };
  return { scheduler, stats };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('the run lane', () => {
  it.each(['map', 'filter', 'each'] as const)('%s: every element out once, whatever order runs are answered in and whenever the stage leaves the lane', async (mode) => {
    for (let seed = 1; seed <= 120; seed++) {
      const random = rng(seed * 3 + mode.length);
      const n = [0, 1, 7, 64, 300, 1000][Math.floor(random() * 6)];
      const ordered = random() < 0.5;
      const failing = new Set(random() < 0.5 ? [] : range(3).map(() => Math.floor(random() * Math.max(n, 1))));
      const failOnce = random() < 0.5;
      const retries = random() < 0.5 ? 1 : 0;
      const leaveAt = random() < 0.2 ? Infinity : 1 + Math.floor(random() * 40);
      const batchSize = random() < 0.5 ? ('auto' as const) : 1 + Math.floor(random() * 40);
      const workers = 1 + Math.floor(random() * 3);
      const source = random() < 0.5 ? fromIterable(range(n)) : from(range(n));
      const { scheduler, stats } = scriptedScheduler({ random, mode, leaveAt, failing, failOnce });
      const options = { scheduler, workers, batchSize, retries, onError: 'skip' as const };
      const stage =
        mode === 'map'
          ? mapParallel((x: number) => x, { ...options, ordered })
          : mode === 'filter'
            ? filterParallel((x: number) => x, { ...options, ordered })
            : eachParallel((x: number) => x, options);
      const out = await lastValueFrom(source.pipe(stage, toArray()));
      const lost = (x: number) => failing.has(x) && (!failOnce || retries === 0);
      const kept = range(n).filter((x) => !lost(x));
      const expected = mode === 'map' ? kept.map((x) => x * 2) : mode === 'filter' ? kept.filter((x) => x % 3 !== 0) : [];
      const context = { mode, seed, n, ordered, batchSize, workers, leaveAt, failing: [...failing], failOnce, retries };
      if (ordered) expect(out, JSON.stringify(context)).toEqual(expected);
      else expect([...out].sort((a, b) => a - b), JSON.stringify(context)).toEqual(expected);
      // Each element ran once, or twice when it failed and had a retry.
      for (const x of range(n)) expect(stats.calls.get(x), `${x} ${JSON.stringify(context)}`).toBe(failing.has(x) && retries > 0 ? 2 : 1);
      if (n > 0 && batchSize !== 1) expect(stats.runs).toBeGreaterThan(0); // the lane was used (batches of 1 keep per-element state)
      if (stats.leftLane === 0 && batchSize !== 1) expect(stats.jobs).toBe(0); // nothing went by job unless the lane was left
    }
  });

  it('fails the stage with what an element threw (onError: throw), after the lane is left', async () => {
    const { scheduler } = scriptedScheduler({ random: rng(7), leaveAt: Infinity, failing: new Set([150]), failOnce: false });
    await expect(lastValueFrom(fromIterable(range(400)).pipe(mapParallel((x: number) => x, { scheduler, workers: 2, batchSize: 'auto' }), toArray()))).rejects.toThrow(
      /fails 150/,
    );
  });

  it('stops when downstream does, with runs in work', async () => {
    const { scheduler } = scriptedScheduler({ random: rng(3), leaveAt: Infinity, failing: new Set(), failOnce: false });
    const out = await lastValueFrom(fromIterable(range(1000)).pipe(mapParallel((x: number) => x, { scheduler, workers: 2, batchSize: 32, ordered: true }), take(50), toArray()));
    expect(out).toEqual(range(50).map((x) => x * 2));
  });

  it('holds no more than the credit bound in work', async () => {
    const { scheduler, stats } = scriptedScheduler({ random: rng(5), leaveAt: Infinity, failing: new Set(), failOnce: false });
    await lastValueFrom(fromIterable(range(2000)).pipe(mapParallel((x: number) => x, { scheduler, workers: 2, batchSize: 16 }), toArray()));
    expect(stats.maxOutstanding).toBeLessThanOrEqual(16 * 2); // a batch and the prefetch (4, rounded up to a batch)
  });
});
