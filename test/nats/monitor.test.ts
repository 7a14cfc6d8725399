// The monitor on natsScheduler: the same figures as on the thread scheduler
// (test/monitor/monitor-thread.test.ts), with the stages' functions on a remote worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachParallel, filterParallel, flatMapParallel, fromIterable, mapParallel, Monitor, run, task, type Scheduler } from 'rxjs-parallel';
import { natsScheduler } from 'rxjs-parallel/nats';
import { fixtures, startNatsServer, startWorker, type NatsServer, type WorkerProcess } from '../support/nats.js';

const tasks = new URL('../fixtures/nats-tasks.mjs', import.meta.url);
let server: NatsServer;
let worker: WorkerProcess;
let scheduler: Scheduler;

beforeAll(async () => {
  server = await startNatsServer();
  worker = startWorker(['--servers', server.url, '--stream', 'monitor', '--concurrency', '4', fixtures('nats-tasks.mjs')]);
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
