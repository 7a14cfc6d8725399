// Batches of numbers on natsScheduler, as on threads and processes (test/threads/numbers.test.ts):
// a batch whose values are all numbers is published to the slot's inbox as one Float64Array, and
// results that are all numbers come back as one (RUN_NUMBERS, RESULTS_NUMBERS). Nothing about it
// may show: every double survives as itself, mixed batches and results go the usual way, each call
// sees its own element and index, and a worker thread that exits inside a batch of numbers fails
// only the element it was running. The packed messages are really on the wire: the test reads the
// subjects the producer and the worker publish to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deserialize } from 'node:v8';
import { lastValueFrom, toArray } from 'rxjs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { eachParallel, filterParallel, fromIterable, mapParallel, run, task, type Scheduler } from 'rxjs-parallel';
import { natsScheduler } from 'rxjs-parallel/nats';
import { RESULTS_NUMBERS, RUN_NUMBERS } from '../../src/worker/protocol.js';
import { fixtures, startNatsServer, startWorker, type NatsServer, type WorkerProcess } from '../support/nats.js';
import { batchSizes, expectSame, numbers, sources } from '../support/numbers.js';

const tasks = new URL('../fixtures/nats-tasks.mjs', import.meta.url);
const stream = 'numbers';
let server: NatsServer;
let worker: WorkerProcess;
let scheduler: Scheduler;
let watcher: NatsConnection;
/** The kind of every protocol message seen on the wire: producer → worker (`sent`) and back (`received`). */
const wire = { sent: [] as unknown[], received: [] as unknown[] };

/** The kind of a protocol message (v8-serialized, first byte 0xFF), or undefined for anything else. */
function kindOf(data: Uint8Array): unknown {
  if (data.length === 0 || data[0] !== 0xff) return undefined;
  try {
    const message = deserialize(data) as unknown;
    return Array.isArray(message) ? message[0] : undefined;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  server = await startNatsServer();
  // Four slots: two for the scheduler, two for the ones that replace a slot whose thread exited.
  worker = startWorker(['--servers', server.url, '--stream', stream, '--concurrency', '4', fixtures('nats-tasks.mjs')]);
  await worker.ready;
  scheduler = natsScheduler({ servers: server.url, stream, workers: 2 });
  watcher = await connect({ servers: server.url });
  watcher.subscribe(`${stream}.in.>`, { callback: (error, msg) => void (error || wire.sent.push(kindOf(msg.data))) });
  watcher.subscribe('_INBOX.>', { callback: (error, msg) => void (error || wire.received.push(kindOf(msg.data))) });
  await watcher.flush();
});
afterAll(async () => {
  await watcher?.close();
  await scheduler?.close();
  await worker?.stop();
  await server?.close();
});

describe.each(sources)('nats scheduler: batches of numbers from $source', ({ of }) => {
  it.each(batchSizes)('every double comes back as itself, each call seeing its own element and index (batchSize %s)', { timeout: 30_000 }, async (batchSize) => {
    const out = await lastValueFrom(of(numbers).pipe(mapParallel(task<number, number>(tasks, 'same'), { scheduler, batchSize, ordered: true }), toArray()));
    expectSame(out, numbers);
    const seen = await lastValueFrom(
      of(numbers).pipe(mapParallel(task<number, [string, number, number]>(tasks, 'seen'), { scheduler, batchSize, ordered: true }), toArray()),
    );
    expect(seen.map(([type]) => type)).toEqual(numbers.map(() => 'number'));
    expect(seen.map(([, index]) => index)).toEqual(numbers.map((_, i) => i));
    expectSame(
      seen.map(([, , x]) => x),
      numbers,
    );
  });

  it.each(batchSizes)('numbers mixed with other values, results that are not all numbers, filter and each (batchSize %s)', { timeout: 30_000 }, async (batchSize) => {
    const mixed: unknown[] = numbers.map((x, i) => (i % 37 === 5 ? `s${i}` : i % 41 === 7 ? { n: i } : i % 43 === 9 ? null : x));
    const back = await lastValueFrom(of(mixed).pipe(mapParallel(task<unknown, unknown>(tasks, 'same'), { scheduler, batchSize, ordered: true }), toArray()));
    expectSame(back, mixed);
    const twice = await lastValueFrom(of(numbers).pipe(mapParallel(task<number, number | string>(tasks, 'twiceOrTag'), { scheduler, batchSize, ordered: true }), toArray()));
    expectSame(
      twice,
      numbers.map((x, i) => (i % 50 === 0 ? `#${i}` : x * 2)),
    );
    const kept = await lastValueFrom(of(numbers).pipe(filterParallel(task<number, boolean>(tasks, 'above1'), { scheduler, batchSize, ordered: true }), toArray()));
    expectSame(
      kept,
      numbers.filter((x) => x > 1),
    );
    await run(of(numbers).pipe(eachParallel(task<number, number>(tasks, 'same'), { scheduler, batchSize })));
  });
});

describe('nats scheduler: the packed path is taken', () => {
  it('numbers are published and answered as Float64Arrays; a batch with another value in it is not', { timeout: 30_000 }, async () => {
    wire.sent.length = wire.received.length = 0;
    const out = await lastValueFrom(fromIterable(numbers).pipe(mapParallel(task<number, number>(tasks, 'same'), { scheduler, batchSize: 64, ordered: true }), toArray()));
    expectSame(out, numbers);
    await watcher.flush();
    expect(wire.sent).toContain(RUN_NUMBERS);
    expect(wire.received).toContain(RESULTS_NUMBERS);
    wire.sent.length = wire.received.length = 0;
    const mixed = numbers.map((x, i) => (i % 8 === 3 ? `s${i}` : x)); // any 16 in a row (the smallest packed batch) hold a string
    const back = await lastValueFrom(fromIterable(mixed).pipe(mapParallel(task<unknown, unknown>(tasks, 'same'), { scheduler, batchSize: 16, ordered: true }), toArray()));
    expectSame(back, mixed);
    await watcher.flush();
    expect(wire.sent.length).toBeGreaterThan(0); // the watch saw the run's messages
    expect(wire.sent).not.toContain(RUN_NUMBERS);
    expect(wire.received).not.toContain(RESULTS_NUMBERS);
  });
});

describe('nats scheduler: a worker thread that exits inside a batch of numbers', () => {
  it.each(batchSizes)('fails only the element it was running; the rest of its batch comes once (batchSize %s)', { timeout: 30_000 }, async (batchSize) => {
    const out = await lastValueFrom(
      fromIterable(numbers).pipe(mapParallel(task<number, number>(tasks, 'exitAt100'), { scheduler, batchSize, ordered: true, onError: 'skip' }), toArray()),
    );
    expectSame(
      out,
      numbers.filter((_, i) => i !== 100),
    );
  });
});
