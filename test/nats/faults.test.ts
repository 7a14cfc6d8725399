// Faults on natsScheduler, with real processes: workers SIGKILLed mid-run (redelivery, exactly-once
// output, order), long elements beside a short ackWait (the claim kept alive), crashes that use up
// `retries` (WorkerCrashedError), a thread that exits, and a NATS server restarted under a running
// pipeline (file storage) or stopped for good. ackWait is short here so that a death is found fast.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { fromIterable, mapParallel, task, WorkerCrashedError, type Scheduler } from 'rxjs-parallel';
import { natsScheduler } from 'rxjs-parallel/nats';
import { startBus, type Bus } from '../support/bus.js';
import { fixtures, startNatsServer, startWorker, workerPool, type NatsServer } from '../support/nats.js';
import { random, record } from '../support/util.js';

const tasks = new URL('../fixtures/nats-tasks.mjs', import.meta.url);
const t = {
  inc: task<number, number>(tasks, 'inc'),
  slowInc: task<{ i: number; ms: number }, number>(tasks, 'slowInc'),
  burn: task<{ i: number; ms: number }, number>(tasks, 'burn'),
  wait: task<{ i: number; ms: number }, number>(tasks, 'wait'),
  killer: task<{ i: number; kill?: boolean }, number>(tasks, 'killer'),
  exiter: task<{ i: number; exit?: boolean }, number>(tasks, 'exiter'),
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let bus: Bus;
let server: NatsServer;
let stream = 0;
let schedulers: Scheduler[] = [];

function scheduler(options: Partial<Parameters<typeof natsScheduler>[0]> & { stream: string }): Scheduler {
  const s = natsScheduler({ servers: server.url, ...options });
  schedulers.push(s);
  return s;
}

beforeAll(async () => {
  bus = await startBus();
  server = await startNatsServer();
});
afterAll(async () => {
  await bus?.close();
  await server?.close();
});
beforeEach(() => {
  bus.reset();
  stream++;
});
afterEach(async () => {
  await Promise.all(schedulers.map((s) => s.close()));
  schedulers = [];
});

describe('natsScheduler: faults', () => {
  it('20 SIGKILLs of random workers during a 10,000-element run with retries: every element once, in order, no hang', { timeout: 180_000 }, async () => {
    const name = `kills${stream}`;
    const pool = workerPool(3, () => ['--servers', server.url, '--stream', name, '--concurrency', '2', fixtures('nats-tasks.mjs')]);
    try {
      await pool.ready();
      const nats = scheduler({ stream: name, workers: 4, ackWait: 1000 });
      const rnd = random(2024);
      let emitted = 0;
      let kills = 0;
      const out = await lastValueFrom(
        fromIterable(range(10_000)).pipe(
          mapParallel(t.inc, { scheduler: nats, workers: 4, retries: 5, ordered: true }),
          tap(() => {
            // A kill every 480 elements out, from the 300th: 20 in all, wherever the pipeline is.
            if (++emitted % 480 === 300 && kills < 20) {
              kills++;
              pool.kill(rnd());
            }
          }),
          toArray(),
        ),
      );
      expect(kills).toBe(20);
      expect(out).toEqual(range(10_000).map((x) => x + 1)); // none lost, none twice, in source order
    } finally {
      await pool.stop();
    }
  });

  it('an element far longer than ackWait keeps its claim: it runs once, CPU-bound or not', { timeout: 60_000 }, async () => {
    const name = `long${stream}`;
    const w = startWorker(['--servers', server.url, '--stream', name, '--concurrency', '2', fixtures('nats-tasks.mjs')]);
    try {
      await w.ready;
      const nats = scheduler({ stream: name, workers: 2, ackWait: 600 });
      const [burned, waited] = await Promise.all([
        lastValueFrom(fromIterable([{ i: 0, ms: 2000 }]).pipe(mapParallel(t.burn, { scheduler: nats, workers: 1 }), toArray())),
        lastValueFrom(fromIterable([{ i: 1, ms: 2000 }]).pipe(mapParallel(t.wait, { scheduler: nats, workers: 1 }), toArray())),
      ]);
      expect(burned).toEqual([0]);
      expect(waited).toEqual([1]);
      expect(bus.of('count').map((e) => e.key).sort()).toEqual(['burn-0', 'wait-1']); // each ran once
    } finally {
      await w.stop();
    }
  });

  it('a worker killed under the same element again and again: retries, then WorkerCrashedError for that element', { timeout: 60_000 }, async () => {
    const name = `poison${stream}`;
    const pool = workerPool(2, () => ['--servers', server.url, '--stream', name, '--concurrency', '1', fixtures('nats-tasks.mjs')]);
    try {
      await pool.ready();
      // prefetch 0: the worker holds one element at a time, so each kill is that element's. (With
      // elements queued, an answer lost with the killed process can shift the blame to the element
      // before: it runs again, and the killer once more without using a retry. Output is exactly once
      // either way; docs/distributed.md says so.)
      const nats = scheduler({ stream: name, workers: 1, ackWait: 600, prefetch: 0 });
      const items = range(5).map((i) => ({ i, kill: i === 2 }));
      const { result } = record(fromIterable(items).pipe(mapParallel(t.killer, { scheduler: nats, workers: 1, retries: 1 })));
      const { error, values } = await result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).elementIndex).toEqual([2]);
      expect(values).not.toContain(2);
      expect(bus.of('count').filter((e) => e.key === 'killer-2')).toHaveLength(2); // delivered 1 + retries times
    } finally {
      await pool.stop();
    }
  });

  // docs/distributed.md, sizing: a dead worker's slot is claimed again only by a worker with a free slot.
  it('a dead worker whose slot no worker has room to claim: its elements wait, then fail with WorkerCrashedError after startTimeout, tried three times; no hang', { timeout: 60_000 }, async () => {
    const name = `noroom${stream}`;
    const w = startWorker(['--servers', server.url, '--stream', name, '--concurrency', '1', fixtures('nats-tasks.mjs')]);
    try {
      await w.ready;
      const nats = scheduler({ stream: name, workers: 1, ackWait: 600, startTimeout: 400, prefetch: 0 });
      const items = range(5).map((i) => ({ i, kill: i === 2 }));
      const { result } = record(fromIterable(items).pipe(mapParallel(t.killer, { scheduler: nats, workers: 1, ordered: true, retries: 3 })));
      const { error, values } = await result;
      expect(await w.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(values).toEqual([0, 1]);
      // Its retries never ran: the element waited for a slot that no worker took.
      expect(bus.of('count').filter((e) => e.key === 'killer-2')).toHaveLength(1);
    } finally {
      await w.stop('SIGKILL');
    }
  });

  it('a worker thread that exits fails its element with WorkerCrashedError and the exit code, at once', { timeout: 60_000 }, async () => {
    const name = `exit${stream}`;
    const w = startWorker(['--servers', server.url, '--stream', name, '--concurrency', '2', fixtures('nats-tasks.mjs')]);
    try {
      await w.ready;
      // ackWait far beyond the test's timeout: the crash must be reported, not found by silence.
      const nats = scheduler({ stream: name, workers: 1, ackWait: 600_000 });
      const { result } = record(fromIterable(range(3).map((i) => ({ i, exit: i === 1 }))).pipe(mapParallel(t.exiter, { scheduler: nats, workers: 1 })));
      const { error } = await result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).exitCode).toBe(3);
      expect((error as WorkerCrashedError).elementIndex).toEqual([1]);
    } finally {
      await w.stop();
    }
  });
});

describe('natsScheduler: the NATS server restarts', () => {
  it('a restart (file storage) under a running pipeline: it resumes, every element once, in order', { timeout: 120_000 }, async () => {
    const own = await startNatsServer();
    const name = `restart${stream}`;
    const workers = [0, 1].map(() => startWorker(['--servers', own.url, '--stream', name, '--concurrency', '2', fixtures('nats-tasks.mjs')]));
    let nats: Scheduler | undefined;
    try {
      await Promise.all(workers.map((w) => w.ready));
      nats = natsScheduler({ servers: own.url, stream: name, workers: 4, ackWait: 2000 });
      let emitted = 0;
      let restarted: Promise<void> | undefined;
      const out = await lastValueFrom(
        fromIterable(range(3000).map((i) => ({ i, ms: 1 }))).pipe(
          mapParallel(t.slowInc, { scheduler: nats, workers: 4, ordered: true }),
          tap(() => {
            if (++emitted === 1000) restarted = own.restart();
          }),
          toArray(),
        ),
      );
      await restarted;
      expect(out).toEqual(range(3000).map((x) => x + 1));
    } finally {
      await nats?.close(); // while its server is up: closing one whose server is gone waits out the reconnects
      await Promise.all(workers.map((w) => w.stop('SIGKILL')));
      await own.close();
    }
  });

  it('a server that does not come back: the pipeline fails with WorkerCrashedError, no hang', { timeout: 60_000 }, async () => {
    const own = await startNatsServer();
    const name = `gone${stream}`;
    const w = startWorker(['--servers', own.url, '--stream', name, '--concurrency', '2', fixtures('nats-tasks.mjs')]);
    try {
      await w.ready;
      const nats = natsScheduler({
        servers: own.url,
        stream: name,
        workers: 2,
        ackWait: 2000,
        connectOptions: { maxReconnectAttempts: 3, reconnectTimeWait: 100 },
      });
      schedulers.push(nats);
      let emitted = 0;
      const { result } = record(
        fromIterable(range(100_000).map((i) => ({ i, ms: 1 }))).pipe(
          mapParallel(t.slowInc, { scheduler: nats, workers: 2 }),
          tap(() => {
            if (++emitted === 200) void own.stop();
          }),
        ),
      );
      const { error } = await result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
    } finally {
      await w.stop('SIGKILL');
      await own.close();
    }
  });
});
