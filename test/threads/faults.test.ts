// Workers that exit, are killed, crash, fail to load or never stop: exactly the jobs they held fail
// with WorkerCrashedError, the worker is replaced (the lease's onStart runs again there), retries
// re-run them, and nothing hangs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import {
  mapParallel,
  processScheduler,
  task,
  TaskTimeoutError,
  threadScheduler,
  WorkerCrashedError,
  WorkerFunctionError,
} from 'rxjs-parallel';
import { startBus, type Bus } from '../support/bus.js';
import { record } from '../support/util.js';

const fixture = new URL('../fixtures/workers.mjs', import.meta.url);
const t = {
  exitOnce: task<{ i: number; crash: number; code?: number; times?: number }, number>(fixture, 'exitOnce'),
  killOnce: task<{ i: number; crash: number }, number>(fixture, 'killOnce'),
  throwUncaught: task<{ i: number; crash: number }, number>(fixture, 'throwUncaught'),
  spin: task<{ i: number; spin: number }, any>(fixture, 'spin'),
  waitGate: task<{ i: number; gate: string }, number>(fixture, 'waitGate'),
  blockUntilFile: task<{ i: number; file: string }, number>(fixture, 'blockUntilFile'),
  open: task(fixture, 'open'),
  openSecondOnGate: task(fixture, 'openSecondOnGate'),
  openSecondLeaseOnGate: task(fixture, 'openSecondLeaseOnGate'),
  square: task<number, number>(fixture, 'square'),
  sleepOrExit: task<{ id: string; ms: number; crash?: boolean }, string>(fixture, 'sleepOrExit'),
  spinOrBlock: task<{ i: number; ms?: number; file?: string }, number>(fixture, 'spinOrBlock'),
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const kinds = [
  { kind: 'thread', make: (o: object) => threadScheduler(o) },
  { kind: 'process', make: (o: object) => processScheduler(o) },
] as const;

describe.each(kinds)('$kind scheduler: faults', ({ kind, make }) => {
  const scheduler = kind;
  let bus: Bus;
  beforeAll(async () => {
    bus = await startBus();
  });
  afterAll(() => bus.close());
  beforeEach(() => bus.reset());

  describe('a worker that exits mid-element', () => {
    const items = range(8).map((i) => ({ i, crash: 3, code: 7 }));

    it('fails exactly the element it held with WorkerCrashedError (exit code, worker id, element index)', async () => {
      const failures: unknown[] = [];
      const out = await lastValueFrom(
        from(items).pipe(
          mapParallel(t.exitOnce, {
            workers: 2,
            scheduler,
            batchSize: 4, // the crashed worker held a batch: only the element in work fails
            onStart: t.open,
            onError: (error) => (failures.push(error), -1),
          }),
          toArray(),
        ),
      );
      expect(out.sort((a, b) => a - b)).toEqual([-1, 0, 1, 2, 4, 5, 6, 7]);
      expect(failures).toHaveLength(1);
      const crash = failures[0] as WorkerCrashedError;
      expect(crash).toBeInstanceOf(WorkerCrashedError);
      expect(crash.exitCode).toBe(7);
      expect(crash.signal).toBeNull();
      expect(crash.elementIndex).toEqual([3]);
      expect([0, 1]).toContain(crash.workerId);
    });

    it('moves a lease that still holds work to a replacement, where its onStart runs again', async () => {
      // One lease: it holds the batch [0..3] in work and [4..7] queued behind it when 3 exits.
      const out = await lastValueFrom(
        from(items).pipe(mapParallel(t.exitOnce, { workers: 1, scheduler, batchSize: 4, onStart: t.open, onError: () => -1 }), toArray()),
      );
      expect(out.sort((a, b) => a - b)).toEqual([-1, 0, 1, 2, 4, 5, 6, 7]);
      expect(bus.of('onStart')).toHaveLength(2);
    });

    it('without retries or onError, fails the stream with that WorkerCrashedError', async () => {
      const { result } = record(from(items).pipe(mapParallel(t.exitOnce, { workers: 2, scheduler })));
      const { error } = await result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).elementIndex).toEqual([3]);
    });

    it('with retries, re-runs the element on the replacement and loses nothing', async () => {
      const out = await lastValueFrom(
        from(items.map((v) => ({ ...v, times: 2 }))).pipe(mapParallel(t.exitOnce, { workers: 2, scheduler, retries: 2, onStart: t.open, ordered: true }), toArray()),
      );
      expect(out).toEqual(range(8));
      expect(bus.of('exiting')).toHaveLength(2); // crashed twice, succeeded on the third run
      expect(bus.of('onStart')).toHaveLength(4);
    });
  });

  it.runIf(kind === 'process')('a process killed by a signal fails its element with the signal', async () => {
    const failures: WorkerCrashedError[] = [];
    const out = await lastValueFrom(
      from(range(4).map((i) => ({ i, crash: 1 }))).pipe(
        mapParallel(t.killOnce, { workers: 2, scheduler, onError: (e) => (failures.push(e as WorkerCrashedError), -1) }),
        toArray(),
      ),
    );
    expect(out.sort()).toEqual([-1, 0, 2, 3]);
    expect(failures[0]).toBeInstanceOf(WorkerCrashedError);
    expect(failures[0].signal).toBe('SIGKILL');
    expect(failures[0].exitCode).toBeNull();
    expect(failures[0].elementIndex).toEqual([1]);
  });

  it('a worker ended by an uncaught error fails its element, with that error as cause', async () => {
    const { result } = record(from(range(3).map((i) => ({ i, crash: 1 }))).pipe(mapParallel(t.throwUncaught, { workers: 1, scheduler })));
    const { error } = await result;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    const crash = error as WorkerCrashedError;
    expect(crash.elementIndex).toEqual([1]);
    expect(crash.exitCode).toBe(1);
    expect(crash.cause).toBeInstanceOf(RangeError);
    expect((crash.cause as Error).message).toBe('uncaught in the worker');
  });

  describe('a task that cannot be loaded', () => {
    it('a module that throws while it is imported fails the stage with WorkerFunctionError, not a hang', async () => {
      const broken = task(new URL('../fixtures/throws-at-load.mjs', import.meta.url), 'never');
      const { result } = record(from([1, 2]).pipe(mapParallel(broken, { workers: 2, scheduler })));
      const { error, values } = await result;
      expect(values).toEqual([]);
      expect(error).toBeInstanceOf(WorkerFunctionError);
      const e = error as WorkerFunctionError;
      expect(e.functionName).toContain('throws-at-load.mjs#never');
      expect((e.cause as Error).message).toBe('this module fails to load');
    });

    it('a missing export or module fails the same way', async () => {
      for (const ref of [task(fixture, 'noSuchExport'), task(new URL('../fixtures/no-such-file.mjs', import.meta.url), 'x')]) {
        const { error } = await record(from([1]).pipe(mapParallel(ref, { scheduler }))).result;
        expect(error).toBeInstanceOf(WorkerFunctionError);
      }
    });

    it('an onStart task that cannot be loaded fails the same way', async () => {
      const { error } = await record(from([1]).pipe(mapParallel((x: number) => x, { scheduler, onStart: task(fixture, 'noSuchStart') }))).result;
      expect(error).toBeInstanceOf(WorkerFunctionError);
      expect((error as WorkerFunctionError).functionName).toContain('noSuchStart');
    });
  });

  describe('calls that never stop', () => {
    it('a never-settling element fails with TaskTimeoutError; its worker is replaced after cancelGrace', async () => {
      const pool = make({ workers: 1, cancelGrace: 100 });
      const where = (r: any) => (kind === 'thread' ? r.threadId : r.pid);
      try {
        const out = await lastValueFrom(
          from(range(2).map((i) => ({ i, spin: 1 }))).pipe(
            mapParallel(t.spin, {
              scheduler: pool,
              timeout: 1000, // element 1 spins forever and ignores its signal
              ordered: true,
              onError: (e) => (e instanceof TaskTimeoutError ? 'timed out' : e),
            }),
            toArray(),
          ),
        );
        expect(out[0].i).toBe(0);
        expect(out[1]).toBe('timed out');
        expect(bus.of('spinning')).toHaveLength(1);
        // The stage has ended (its lease could only end by terminating the blocked worker): the
        // pool's next element runs in a new worker.
        const next = await lastValueFrom(from([{ i: 2, spin: 1 }]).pipe(mapParallel(t.spin, { scheduler: pool })));
        expect(where(next)).not.toBe(where(out[0]));
      } finally {
        await pool.close();
      }
    });

    // Infinity is "no limit", not a timer that overflows (Node runs a timer of more than 2^31-1 ms
    // after 1 ms). Fake timers in this thread pass that much time without waiting for it.
    it('cancelGrace: Infinity never terminates a worker whose cancelled call ignores its signal', async () => {
      const pool = make({ workers: 1, cancelGrace: Infinity, endTimeout: Infinity });
      const where = (e: any) => (kind === 'thread' ? e.threadId : e.pid);
      const file = join(mkdtempSync(join(tmpdir(), 'rxp-grace-')), 'go');
      try {
        bus.open('warm');
        await lastValueFrom(from([{ i: 0, gate: 'warm' }]).pipe(mapParallel(t.waitGate, { scheduler: pool })));
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        // The call blocks its worker past its timeout, and past the end of its stage.
        const stage = record(from([{ i: 1, file }]).pipe(mapParallel(t.blockUntilFile, { scheduler: pool, timeout: 50, onError: () => -1 })));
        await bus.waitFor('start', 2);
        await vi.advanceTimersByTimeAsync(50);
        expect(stage.values).toEqual([-1]);
        let ended: unknown = false;
        void stage.result.then((r) => (ended = { ...r, starts: bus.of('start').length }));
        await vi.advanceTimersByTimeAsync(2 ** 31); // any finite grace would have terminated it by now
        expect(ended).toBe(false); // its end waits for the worker, which is still in the call (else: how it ended)
        vi.useRealTimers();
        writeFileSync(file, '');
        expect((await stage.result).error).toBeUndefined();
        bus.open('next');
        expect(await lastValueFrom(from([{ i: 2, gate: 'next' }]).pipe(mapParallel(t.waitGate, { scheduler: pool })))).toBe(2);
        const starts = bus.of('start');
        expect(new Set(starts.map(where)).size).toBe(1); // one worker throughout: it was never terminated
      } finally {
        vi.useRealTimers();
        writeFileSync(file, '');
        await pool.close();
      }
    });

    // The worker is still in the timed-out call until it is terminated (cancelGrace, here longer
    // than the timeout): the elements after it wait for the replacement instead of being sent to
    // the blocked worker, where they would time out without having run.
    it('the elements after a call that blocks its worker wait for the replacement, and none times out unrun', async () => {
      const pool = make({ workers: 1, cancelGrace: 2000 });
      try {
        const out = await lastValueFrom(
          from(range(4).map((i) => ({ i, spin: 0 }))).pipe(
            mapParallel(t.spin, { scheduler: pool, timeout: 500, ordered: true, onError: (e) => (e instanceof TaskTimeoutError ? 'timed out' : e) }),
            toArray(),
          ),
        );
        expect(out.map((r: any) => (typeof r === 'string' ? r : r.i))).toEqual(['timed out', 1, 2, 3]);
        expect(bus.of('spinning')).toHaveLength(1);
      } finally {
        await pool.close();
      }
    });

    // A timeout measures the call: not the replacement worker's start, nor the onStart it runs
    // again. Fake timers pass the time while the replacement's onStart waits on a gate.
    it("a timeout does not count the replacement worker's start and onStart", async () => {
      const pool = make({ workers: 1 });
      try {
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        const stage = record(
          from([{ i: 0, crash: 0 }, { i: 1, crash: 0 }]).pipe(
            mapParallel(t.exitOnce, { scheduler: pool, timeout: 300, onStart: t.openSecondOnGate, onError: (e) => (e as Error).name }),
          ),
        );
        await bus.waitFor('onStart', 2); // the replacement's onStart, holding element 1 back
        await vi.advanceTimersByTimeAsync(1000);
        vi.useRealTimers();
        bus.open('restart');
        const { values, error } = await stage.result;
        expect(error).toBeUndefined();
        expect(values).toEqual(['WorkerCrashedError', 1]);
      } finally {
        vi.useRealTimers();
        await pool.close();
      }
    });

    // Four leases on a pool of two: two share the worker that element 0 blocks. The other lease's
    // element sent there waits behind that call; its clock starts when its call begins (the worker
    // says so), so it does not time out, though it waits there past the timeout. (The others are
    // synchronous: one that had begun before the block finished before it.)
    it('an element waiting in its worker behind another lease\'s call is timed from when its call begins', async () => {
      const pool = make({ workers: 2, cancelGrace: 500 });
      const file = join(mkdtempSync(join(tmpdir(), 'rxp-begin-')), 'go');
      try {
        const items = [{ i: 0, file }, ...range(40).map((i) => ({ i: i + 1, ms: 5 }))];
        const out = await lastValueFrom(
          from(items).pipe(mapParallel(t.spinOrBlock, { scheduler: pool, workers: 4, timeout: 1000, onError: (e, v) => `${(e as Error).name}:${v.i}` }), toArray()),
        );
        expect(out.filter((v) => typeof v === 'string')).toEqual(['TaskTimeoutError:0']);
        expect(out).toHaveLength(41);
      } finally {
        writeFileSync(file, '');
        await pool.close();
      }
    });

    // Nothing replaces a worker under cancelGrace: Infinity, so its lease is not held back for the
    // call (the stage would wait for good): the elements behind it time out, and the stage ends.
    it('with cancelGrace: Infinity, a call that never returns does not hold the stage for good', async () => {
      const pool = make({ workers: 1, cancelGrace: Infinity, endTimeout: 300 });
      const file = join(mkdtempSync(join(tmpdir(), 'rxp-never-')), 'go');
      try {
        const out = await lastValueFrom(from(range(3).map((i) => ({ i, file }))).pipe(mapParallel(t.blockUntilFile, { scheduler: pool, timeout: 100, onError: 'skip' }), toArray()));
        expect(out).toEqual([]);
      } finally {
        writeFileSync(file, '');
        await pool.close();
      }
    });

    // Four leases share the only worker; its crash cannot be pinned on one of them, so the elements
    // in flight run again one at a time. Those sent meanwhile wait in their lease, unsent: their
    // clocks start when they are sent, and none times out.
    it('an element held back while crash suspects run alone is not timed meanwhile', async () => {
      const pool = make({ workers: 1 });
      try {
        const items = [
          { id: 'crash', ms: 100, crash: true },
          ...range(3).map((i) => ({ id: `s${i}`, ms: 400 })),
          ...range(8).map((i) => ({ id: `q${i}`, ms: 10 })),
        ];
        const out = await lastValueFrom(
          from(items).pipe(mapParallel(t.sleepOrExit, { scheduler: pool, workers: 4, timeout: 700, onError: (e, v) => `${(e as Error).name}:${v.id}` }), toArray()),
        );
        expect(out.filter((v) => v.includes(':'))).toEqual(['WorkerCrashedError:crash']);
        expect(out).toHaveLength(12);
      } finally {
        await pool.close();
      }
    });

    // The other lease ran every element; this one's end waited on its onStart past endTimeout: the
    // error names onStart, the hook that hung, not an onEnd the stage does not have.
    it("an onStart still running past endTimeout fails the completing stage with phase 'onStart'", async () => {
      const pool = make({ workers: 2, endTimeout: 300 });
      try {
        const { values, error } = await record(from([1, 2, 3, 4]).pipe(mapParallel(t.square, { scheduler: pool, workers: 2, onStart: t.openSecondLeaseOnGate }))).result;
        expect(values.sort((a, b) => a - b)).toEqual([1, 4, 9, 16]);
        expect(error).toBeInstanceOf(TaskTimeoutError);
        expect((error as TaskTimeoutError).phase).toBe('onStart');
      } finally {
        await pool.close();
      }
    });

    it("a worker terminated by the pool re-runs the other leases' jobs it held, which do not fail", async () => {
      const pool = make({ workers: 1, cancelGrace: 100 });
      try {
        // Stage B has an element in work on the only worker...
        const b = record(from([{ i: 0, gate: 'b0' }]).pipe(mapParallel(t.waitGate, { scheduler: pool })));
        const [first] = await bus.waitFor('start', 1);
        // ...when stage A's element blocks that worker for good and times out.
        const a = await lastValueFrom(
          from([{ i: 0, spin: 0 }]).pipe(mapParallel(t.spin, { scheduler: pool, timeout: 300, onError: 'skip' }), toArray()),
        );
        expect(a).toEqual([]);
        // B's element runs again in the replacement, and completes there.
        const starts = await bus.waitFor('start', 2);
        const where = (e: any) => (kind === 'thread' ? e.threadId : e.pid);
        expect(where(starts[1])).not.toBe(where(first));
        bus.open('b0');
        const { values, error, completed } = await b.result;
        expect(error).toBeUndefined();
        expect(completed).toBe(true);
        expect(values).toEqual([0]);
      } finally {
        await pool.close();
      }
    });

    it('close() with a lease still open fails its jobs and ends it, then the workers', async () => {
      const pool = make({ workers: 1 });
      const b = record(from([{ i: 0, gate: 'never' }]).pipe(mapParallel(t.waitGate, { scheduler: pool })));
      await bus.waitFor('start', 1);
      await pool.close();
      const { error } = await b.result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).elementIndex).toEqual([0]);
    });
  });

  it('a worker that cannot start at all fails the stage, without hanging', async () => {
    const pool = make({ workers: 1, execArgv: ['--no-such-node-option'] });
    try {
      const { error } = await record(from([1]).pipe(mapParallel((x: number) => x, { scheduler: pool }))).result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).reason).toMatch(/^failed to start/);
    } finally {
      await pool.close();
    }
  });
});
