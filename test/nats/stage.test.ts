// A stage on natsScheduler, beyond the conformance suite: the monitor's figures, the same as on the
// thread scheduler (test/monitor/monitor-thread.test.ts), and the credits that bound what is
// published and not yet emitted (test/unit/backpressure.test.ts), with the functions on a remote worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachParallel, filterParallel, flatMapParallel, fromIterable, mapParallel, Monitor, run, task, toAsyncIterable, type Scheduler } from 'rxjs-parallel';
import { deferred, turn } from '../support/util.js';
import { natsScheduler } from 'rxjs-parallel/nats';
import { fixtures, startNatsServer, startWorker, type NatsServer, type WorkerProcess } from '../support/nats.js';

const tasks = new URL('../fixtures/nats-tasks.mjs', import.meta.url);
let server: NatsServer;
let worker: WorkerProcess;
let scheduler: Scheduler;

beforeAll(async () => {
  server = await startNatsServer();
  // Six slots: four for the shared scheduler, two for the one the credits test makes.
  worker = startWorker(['--servers', server.url, '--stream', 'monitor', '--concurrency', '6', fixtures('nats-tasks.mjs')]);
  await worker.ready;
  scheduler = natsScheduler({ servers: server.url, stream: 'monitor', workers: 4 });
});
afterAll(async () => {
  await scheduler?.close();
  await worker?.stop();
  await server?.close();
});

describe('Monitor on natsScheduler', () => {
  it('counts exactly: in = out + filtered + failed, retries included; the stages show scheduler nats', { timeout: 30_000 }, async () => {
    const monitor = new Monitor({ timing: 'all' });
    await run(
      fromIterable(Array.from({ length: 100 }, (_, i) => i)).pipe(
        mapParallel(task<number, number>(tasks, 'doubleOrFail'), { monitor, name: 'double', workers: 2, retries: 1, onError: 'skip', scheduler }),
        filterParallel(task<number, boolean>(tasks, 'keepQuarter'), { monitor, name: 'keep', workers: 2, scheduler }),
        flatMapParallel(task<number, number[]>(tasks, 'pairs'), { monitor, name: 'pairs', workers: 2, scheduler }),
        eachParallel(task(tasks, 'nothing'), { monitor, name: 'each', workers: 2, scheduler }),
      ),
    );
    const r = monitor.report();
    const counts = r.stages.map(({ name, scheduler, in: n, out, outputs, filtered, failed, retried, cancelled, state }) => ({
      name, scheduler, in: n, out, outputs, filtered, failed, retried, cancelled, state,
    }));
    const base = { scheduler: 'nats', cancelled: 0, state: 'complete' };
    expect(counts).toEqual([
      { ...base, name: 'double', in: 100, out: 90, outputs: 90, filtered: 0, failed: 10, retried: 10 },
      { ...base, name: 'keep', in: 90, out: 50, outputs: 50, filtered: 40, failed: 0, retried: 0 },
      { ...base, name: 'pairs', in: 50, out: 25, outputs: 50, filtered: 25, failed: 0, retried: 0 },
      { ...base, name: 'each', in: 50, out: 50, outputs: 0, filtered: 0, failed: 0, retried: 0 },
    ]);
    for (const s of r.stages) {
      expect(s.in, s.name).toBe(s.out + s.filtered + s.failed + s.dropped);
      expect(s.runTime.count, s.name).toBe(s.in + s.retried);
      expect(s.inWork + s.queued, s.name).toBe(0);
    }
  });
});

describe('credits on natsScheduler', () => {
  it('a source is read at most the stage\'s credits ahead of a consumer that holds a value: batches in work and queued in each slot, and maxsize', { timeout: 30_000 }, async () => {
    const workers = 2;
    const maxsize = 3;
    const batchSize = 4;
    // prefetch 6 counts elements, rounded up to whole batches: two batches of 4 queued behind the one in work.
    const nats = natsScheduler({ servers: server.url, stream: 'monitor', workers, prefetch: 6 });
    const credits = workers * batchSize * (1 + 2) + maxsize;
    let consumed = 0;
    let reads = 0;
    let worst = -Infinity;
    const reachedLimit = deferred();
    function* source() {
      for (let i = 0; i < 400; i++) {
        reads++;
        worst = Math.max(worst, reads - (consumed + credits + 1)); // + 1: the value on its way to the consumer
        if (reads === consumed + credits) reachedLimit.resolve();
        yield i;
      }
    }
    try {
      const out$ = fromIterable(source()).pipe(mapParallel(task<number, number>(tasks, 'inc'), { workers, maxsize, batchSize, scheduler: nats, ordered: true }));
      const seen: number[] = [];
      for await (const v of toAsyncIterable(out$)) {
        seen.push(v);
        consumed++;
        if (consumed === 20) {
          await reachedLimit.promise; // the stage fills up to its credits while the consumer holds this value...
          for (let i = 0; i < 20; i++) await turn(); // ...and has every chance to read more
          expect(reads).toBe(consumed + credits);
        }
      }
      expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
      expect(worst).toBeLessThanOrEqual(0);
    } finally {
      await nats.close();
    }
  });
});
