// Batches of numbers on natsScheduler (RUN_NUMBERS / RESULTS_NUMBERS) under SIGKILLed worker
// processes: every element once, in order, each call seeing its own index, and the pipeline completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { fromIterable, mapParallel, task, type Scheduler } from 'rxjs-parallel';
import { natsScheduler } from 'rxjs-parallel/nats';
import { fixtures, startNatsServer, workerPool, type NatsServer } from '../support/nats.js';
import { random } from '../support/util.js';

const tasks = new URL('../fixtures/nats-tasks.mjs', import.meta.url);
const seen = task<unknown, [string, number, unknown]>(tasks, 'seen');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
let server: NatsServer;
let stream = 0;

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.close();
});

describe('natsScheduler: packed numbers under SIGKILL', () => {
  // Every element out, then the pipeline must complete: a lease that never started, whose worker a
  // kill took as the stage ended, once failed it with "went silent" (test/threads/crash.test.ts).
  const shapes = ['number', 'string'];
  const sizes = ['auto', 64, 16] as const;
  it.each(sizes.flatMap((b) => shapes.map((shape) => ({ batchSize: b, shape }))))('SIGKILLs during a run of numbers: every element once, in order, its own index (batchSize $batchSize, $shape)', { timeout: 120_000 }, async ({ batchSize, shape }) => {
    const name = `numkills${++stream}`;
    const pool = workerPool(3, () => ['--servers', server.url, '--stream', name, '--concurrency', '4', fixtures('nats-tasks.mjs')]);
    let nats: Scheduler | undefined;
    try {
      await pool.ready();
      nats = natsScheduler({ servers: server.url, stream: name, workers: 4, ackWait: 1000 });
      const rnd = random(7);
      let emitted = 0;
      let kills = 0;
      const input: unknown[] = range(4000).map((i) => (shape === 'number' ? i + 0.25 : `s${i}`));
      const out = await lastValueFrom(
        fromIterable(input).pipe(
          mapParallel(seen, { scheduler: nats, workers: 4, retries: 5, ordered: true, batchSize }),
          tap(() => {
            if (++emitted % 500 === 200 && kills < 6) {
              kills++;
              pool.kill(rnd());
            }
          }),
          toArray(),
        ),
      ).catch((error: unknown) => {
        const e = error as Record<string, unknown>;
        throw new Error(`the pipeline failed after ${emitted} of 4000 elements came out (${kills} kills): ${String(error)} ${JSON.stringify({ ...e, stack: undefined })}`);
      });
      expect(kills).toBe(6);
      expect(out).toEqual(input.map((x, i) => [typeof x, i, x]));
    } finally {
      await nats?.close();
      await pool.stop();
    }
  });
});
