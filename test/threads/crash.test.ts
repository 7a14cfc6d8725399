// A worker that dies fails (or retries) only the element that was running; every other element it
// held, finished or queued, is delivered or re-sent without using a retry. Work is spread: an
// element never waits in one worker's queue while another worker of the stage is idle. One
// pipeline's fault on a shared pool fails no other pipeline.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fromIterable,
  mapParallel,
  Monitor,
  processScheduler,
  task,
  threadScheduler,
  WorkerCrashedError,
  type Scheduler,
  type WorkerLike,
} from 'rxjs-parallel';
import { startBus, type Bus } from '../support/bus.js';
import { deferred, record, turn } from '../support/util.js';

const fixture = new URL('../fixtures/workers.mjs', import.meta.url);
type Crash = { i: number; crash?: boolean; always?: boolean; how?: 'exit' | 'kill'; dir: string };
const t = {
  crashSync: task<Crash, number>(fixture, 'crashSync'),
  rendezvous: task<{ i: number; gate?: string }, number>(fixture, 'rendezvous'),
  quickOrBlock: task<{ i: number; file?: string }, number>(fixture, 'quickOrBlock'),
  attempts: task<{ i: number; long?: boolean; killer?: boolean; firstMs?: number; secondMs?: number }, number>(fixture, 'attempts'),
  open: task(fixture, 'open'),
  close: task(fixture, 'close'),
  openSecondLeaseOnGate: task(fixture, 'openSecondLeaseOnGate'),
  blockUntilFile: task<{ i: number; file: string }, number>(fixture, 'blockUntilFile'),
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const kinds = [
  { kind: 'thread', make: (o: object = {}) => threadScheduler(o) },
  { kind: 'process', make: (o: object = {}) => processScheduler(o) },
] as const;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxp-crash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A fresh directory of first-attempt markers per case. */
let cases = 0;
const freshDir = () => {
  const d = join(dir, String(cases++));
  mkdirSync(d);
  return d;
};

describe.each(kinds)('$kind scheduler: which element a dead worker fails', ({ kind, make }) => {
  const scheduler = kind;

  // The issue's own inputs: a plain function that ends its worker on element 2, after 0 and 1
  // finished synchronously in the same batch of calls.
  it('delivers the elements it finished before it exited, and fails only the one running', async () => {
    const exitOn2 = (x: number) => {
      if (x === 2) process.exit(0);
      return x;
    };
    const skipped = await lastValueFrom(fromIterable([0, 1, 2]).pipe(mapParallel(exitOn2, { scheduler, onError: 'skip' }), toArray()));
    expect(skipped.sort()).toEqual([0, 1]);
    // Failing the stage: on one worker, so that 0 and 1 are its own finished calls. (Spread over two
    // workers, the other worker's result for 1 may come after the failure, which ends the output.)
    const { values, error } = await record(fromIterable([0, 1, 2]).pipe(mapParallel(exitOn2, { scheduler, workers: 1 }))).result;
    expect(values.sort()).toEqual([0, 1]);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as WorkerCrashedError).elementIndex).toEqual([2]);
  });

  it('uses a retry only for the element that ended its worker (batchSize 3, two crashes)', async () => {
    const d = freshDir();
    const items = range(6).map((i) => ({ i, crash: i === 1 || i === 4, dir: d }));
    const out = await lastValueFrom(fromIterable(items).pipe(mapParallel(t.crashSync, { scheduler, workers: 1, batchSize: 3, retries: 1, ordered: true }), toArray()));
    expect(out).toEqual(range(6));
  });

  it('property: every element is emitted or reported once; those that always crash are reported, the others emitted', async () => {
    const how = kind === 'process' ? fc.constantFrom<'exit' | 'kill'>('exit', 'kill') : fc.constant<'exit'>('exit');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 12 }),
        fc.oneof(fc.constant<number | 'auto'>('auto'), fc.integer({ min: 1, max: 4 })),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.record({ at: fc.nat(), always: fc.boolean() }), { minLength: 1, maxLength: 3 }),
        how,
        async (n, batchSize, workers, crashes, crashHow) => {
          const d = freshDir();
          const always = new Set<number>();
          const once = new Set<number>();
          for (const c of crashes) (c.always ? always : once).add(c.at % n);
          for (const i of always) once.delete(i);
          const items = range(n).map((i) => ({ i, crash: always.has(i) || once.has(i), always: always.has(i), how: crashHow, dir: d }));
          const reported: number[] = [];
          const out = await lastValueFrom(
            fromIterable(items).pipe(
              mapParallel(t.crashSync, {
                scheduler,
                workers,
                batchSize,
                onError: (error: unknown) => {
                  expect(error).toBeInstanceOf(WorkerCrashedError);
                  reported.push((error as WorkerCrashedError).elementIndex![0]);
                  return -1;
                },
              }),
              toArray(),
            ),
          );
          const emitted = out.filter((x) => x !== -1);
          expect(new Set(emitted).size).toBe(emitted.length); // nothing twice
          expect([...emitted, ...reported].sort((a, b) => a - b)).toEqual(range(n)); // nothing lost
          for (const i of always) expect(reported).toContain(i);
          for (const i of range(n)) if (!always.has(i) && !once.has(i)) expect(emitted).toContain(i);
        },
      ),
      // A run that hangs fails with its counterexample instead of timing the whole test out.
      { numRuns: kind === 'process' ? 8 : 12, timeout: 20_000 },
    );
  }, 180_000);
});

describe.each(kinds)('$kind scheduler: work is spread over the workers', ({ kind, make }) => {
  let bus: Bus;
  beforeAll(async () => {
    bus = await startBus();
  });
  afterAll(() => bus.close());
  beforeEach(() => bus.reset());

  // Each element waits until every element has started: if one worker held both, the second
  // could never start and the test would not finish.
  it('starts few long elements at once on a cold private pool', async () => {
    const items = range(2).map((i) => ({ i, gate: 'go' }));
    const done = lastValueFrom(fromIterable(items).pipe(mapParallel(t.rendezvous, { scheduler: kind, workers: 2 }), toArray()));
    const started = await bus.waitFor('start', 2);
    expect(new Set(started.map((e) => (kind === 'thread' ? e.threadId : e.pid))).size).toBe(2);
    bus.open('go');
    expect((await done).sort()).toEqual([0, 1]);
  });

  it('starts few long elements at once on a warm shared pool of 4', async () => {
    const pool: Scheduler = make({ workers: 4 });
    try {
      await lastValueFrom(fromIterable(range(8).map((i) => ({ i }))).pipe(mapParallel(t.rendezvous, { scheduler: pool }), toArray())); // warm
      bus.reset();
      const items = range(4).map((i) => ({ i, gate: 'go' }));
      const done = lastValueFrom(fromIterable(items).pipe(mapParallel(t.rendezvous, { scheduler: pool }), toArray()));
      await bus.waitFor('start', 4);
      bus.open('go');
      expect((await done).sort()).toEqual(range(4));
    } finally {
      await pool.close();
    }
  });

  // In batches: two elements left must not go to one worker as one batch (the second would wait
  // behind the first) while the other worker is still starting its lease: the first ready one
  // takes its share, and the second element waits here for the other.
  it('with batchSize 3, the first ready worker does not take the share of one still starting', async () => {
    // Each element blocks its worker (no message gets through) until the file exists.
    const file = join(freshDir(), 'go');
    const items = range(2).map((i) => ({ i, file }));
    const done = lastValueFrom(
      fromIterable(items).pipe(mapParallel(t.blockUntilFile, { scheduler: kind, workers: 2, batchSize: 3, onStart: t.openSecondLeaseOnGate }), toArray()),
    );
    try {
      await bus.waitFor('start', 1);
      bus.open('start1');
      const started = await bus.waitFor('start', 2);
      expect(new Set(started.map((e) => (kind === 'thread' ? e.threadId : e.pid))).size).toBe(2);
    } finally {
      writeFileSync(file, '');
    }
    expect((await done).sort()).toEqual([0, 1]);
  });

  // Once upstream is done, the last elements wait in the stage for a worker with nothing to do:
  // none queues behind a busy one, even when the automatic batch has grown large on short elements.
  for (const batchSize of [1, 'auto'] as const) {
    it(`with batchSize ${batchSize} (prefetching, or grown large on short elements), a tail of long elements starts on both workers`, async () => {
      const file = join(freshDir(), 'go');
      const items = [...range(3000).map((i) => ({ i })), ...range(2).map((i) => ({ i: 3000 + i, file }))];
      const done = lastValueFrom(fromIterable(items).pipe(mapParallel(t.quickOrBlock, { scheduler: kind, workers: 2, batchSize }), toArray()));
      try {
        const started = await bus.waitFor('start', 2);
        expect(new Set(started.map((e) => (kind === 'thread' ? e.threadId : e.pid))).size).toBe(2);
      } finally {
        writeFileSync(file, '');
      }
      expect(await done).toHaveLength(3002);
    });
  }

  it('an idle worker takes queued elements back from one stuck behind a long element', async () => {
    const pool: Scheduler = make({ workers: 2 });
    try {
      // Element 0 waits for the others to be done; with 2 workers and prefetch, some of them were
      // queued behind it in its worker.
      const items = range(6).map((i) => ({ i, gate: i === 0 ? 'last' : undefined }));
      const monitor = new Monitor({ timing: 'all' });
      const done = lastValueFrom(fromIterable(items).pipe(mapParallel(t.rendezvous, { scheduler: pool, workers: 2, monitor }), toArray()));
      await bus.waitFor('done', 5);
      bus.open('last');
      expect((await done).sort()).toEqual(range(6));
      // An element given back had not run: the monitor counts one run per element.
      const [stage] = monitor.report().stages;
      expect(stage.runTime.count).toBe(6);
    } finally {
      await pool.close();
    }
  });
});

describe.each(kinds)('$kind scheduler: one pipeline\'s fault on a shared pool', ({ kind, make }) => {
  let bus: Bus;
  beforeAll(async () => {
    bus = await startBus();
  });
  afterAll(() => bus.close());
  beforeEach(() => bus.reset());

  it('does not fail another pipeline whose lease shares the worker: its elements are re-sent, its onEnd runs', async () => {
    const pool: Scheduler = make({ workers: 1 });
    try {
      const d = freshDir();
      // B holds element 0 in work (gated) on the only worker when A's element ends that worker.
      const b = lastValueFrom(from(range(3).map((i) => ({ i, gate: i === 0 ? 'b0' : undefined }))).pipe(mapParallel(t.rendezvous, { scheduler: pool, onStart: t.open, onEnd: t.close }), toArray()));
      await bus.waitFor('start', 1);
      const a = record(from([{ i: 0, crash: true, always: true, dir: d }]).pipe(mapParallel(t.crashSync, { scheduler: pool })));
      const { error } = await a.result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      bus.open('b0');
      expect((await b).sort()).toEqual([0, 1, 2]); // retries: 0, and nothing failed
      expect(bus.of('onStart').length).toBe(2); // started again in the replacement
      expect(bus.of('onEnd')).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it('starts the timeout of a re-sent element again: it measures one attempt', async () => {
    const pool: Scheduler = make({ workers: 1 });
    const timeout = 3000;
    try {
      // The long element's first attempt lasts 1.2 s before the worker is ended for the other
      // stage's sake; its second lasts 2.4 s: 3.6 s in all, within the timeout only if the clock
      // started again.
      const long = lastValueFrom(from([{ i: 0, long: true, firstMs: 1200, secondMs: 2400 }]).pipe(mapParallel(t.attempts, { scheduler: pool, timeout }), toArray()));
      const killer = record(from([{ i: 9, killer: true }]).pipe(mapParallel(t.attempts, { scheduler: pool })));
      await bus.waitFor('kill-now');
      bus.open('kill');
      expect((await killer.result).error).toBeInstanceOf(WorkerCrashedError);
      expect(await long).toEqual([0]);
    } finally {
      await pool.close();
    }
  }, 20_000);
});

// A lease that never started (its worker not online yet) when its stage ends owes nothing: no call
// ran on it and, without onEnd, nothing is to run. Its worker dying then (a SIGKILL, an OOM) must
// not fail a pipeline whose every element is out.
describe('thread scheduler: a worker lost under a lease that never started, as its stage ends', () => {
  it('the pipeline completes: every element out, no error', async () => {
    const entry = new URL('../../dist/esm/worker/node-thread-entry.cjs', import.meta.url);
    let made = 0;
    const silent: Worker[] = [];
    const pool = threadScheduler({
      workers: 2,
      // The second worker never comes online: what it says is not passed on.
      createWorker: (): WorkerLike => {
        const worker = new Worker(entry);
        const mute = made++ === 1;
        if (mute) silent.push(worker);
        return {
          postMessage: (message: unknown, transfer?: any) => worker.postMessage(message, transfer),
          on: (event: string, listener: (...args: any[]) => void) => worker.on(event, mute && event === 'message' ? () => {} : listener),
          terminate: () => worker.terminate(),
        };
      },
    });
    try {
      let emitted = 0;
      const all = deferred();
      const out = lastValueFrom(
        fromIterable(range(20)).pipe(
          mapParallel((x: number) => x + 1, { scheduler: pool, workers: 2 }),
          tap(() => ++emitted === 20 && all.resolve()),
          toArray(),
        ),
      );
      await all.promise;
      await turn(); // the stage, out of elements, ends its leases: the second one still waits for its worker
      expect(silent).toHaveLength(1);
      await silent[0].terminate(); // its worker goes: an exit the pool did not ask for
      expect(await out).toEqual(range(20).map((x) => x + 1));
    } finally {
      await pool.close();
    }
  });
});
