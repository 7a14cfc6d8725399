// Messages and the NATS server's max_payload (1 MiB by default) on natsScheduler. What a stage
// hands a slot in one turn goes as one message (at the default `prefetch`, 257 elements a slot with
// `batchSize: 1`), and what a worker finishes in one turn comes back as one: elements or results of
// a few KB each made that message larger than the server takes. Such a message goes as several (a
// flatMap call's outputs as parts), and only an element or a result (an output) that is over
// max_payload by itself fails, with UncloneableValueError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { flatMapParallel, fromIterable, mapParallel, task, UncloneableValueError, type Scheduler } from 'rxjs-parallel';
import { NATS_DEFAULTS, natsScheduler } from 'rxjs-parallel/nats';
import { fixtures, startNatsServer, startWorker, type NatsServer, type WorkerProcess } from '../support/nats.js';

const tasks = new URL('../fixtures/nats-tasks.mjs', import.meta.url);
const same = task<string, string>(tasks, 'same');
const inc = task<number, number>(tasks, 'inc');
const padded = task<{ i: number; length: number }, string>(tasks, 'padded');
type Many = { n: number; length: number };
const paddedList = task<Many, string[]>(tasks, 'paddedList');
const paddedStream = task<Many, Iterable<string>>(tasks, 'paddedStream');
const MAX_PAYLOAD = 1024 * 1024; // nats-server's default
const stream = 'payload';
let server: NatsServer;
let worker: WorkerProcess;
let scheduler: Scheduler;

beforeAll(async () => {
  server = await startNatsServer();
  // Slots to spare: a slot given up is claimed again.
  worker = startWorker(['--servers', server.url, '--stream', stream, '--concurrency', '4', fixtures('nats-tasks.mjs')]);
  await worker.ready;
  scheduler = natsScheduler({ servers: server.url, stream, workers: 2 });
});
afterAll(async () => {
  await scheduler?.close();
  await worker?.stop();
  await server?.close();
});

describe('natsScheduler and the server\'s max_payload', () => {
  const n = 600;
  const size = 5000;
  // What one slot is handed at once at the defaults is over max_payload: the test is about that message.
  it('is the case at the defaults', () => {
    expect((1 + NATS_DEFAULTS.prefetch) * size).toBeGreaterThan(MAX_PAYLOAD);
  });

  it('elements of 5 KB at the default prefetch and batchSize 1: every one comes back once, in order', { timeout: 60_000 }, async () => {
    const values = Array.from({ length: n }, (_, i) => String(i).padEnd(size, '.'));
    const out = await lastValueFrom(fromIterable(values).pipe(mapParallel(same, { scheduler, ordered: true }), toArray()));
    expect(out).toEqual(values);
    expect(worker.child.exitCode).toBeNull();
  });

  it('results of 5 KB from small elements: every one comes back once, in order, and the worker process lives', { timeout: 60_000 }, async () => {
    const out = await lastValueFrom(
      fromIterable(Array.from({ length: n }, (_, i) => ({ i, length: size }))).pipe(mapParallel(padded, { scheduler, ordered: true }), toArray()),
    );
    expect(out).toEqual(Array.from({ length: n }, (_, i) => String(i).padEnd(size, '.')));
    expect(worker.child.exitCode).toBeNull();
  });

  it('a batch of numbers over max_payload as one Float64Array (batchSize 150,000): every element once', { timeout: 60_000 }, async () => {
    const count = 300_000;
    const batchSize = 150_000;
    expect(batchSize * 8).toBeGreaterThan(MAX_PAYLOAD);
    const out = await lastValueFrom(fromIterable(Array.from({ length: count }, (_, i) => i)).pipe(mapParallel(inc, { scheduler, batchSize, ordered: true }), toArray()));
    expect(out).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(worker.child.exitCode).toBeNull();
  });

  it('an element over max_payload by itself fails with UncloneableValueError (element); the others are not held up', { timeout: 60_000 }, async () => {
    const values = ['a', 'b'.repeat(MAX_PAYLOAD + 1), 'c'];
    const out = await lastValueFrom(fromIterable(values).pipe(mapParallel(same, { scheduler, onError: 'skip' }), toArray()));
    expect(out.sort()).toEqual(['a', 'c']);
    const error = await lastValueFrom(fromIterable(values).pipe(mapParallel(same, { scheduler }), toArray())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UncloneableValueError);
    expect(error).toMatchObject({ direction: 'element', elementIndex: [1] });
    expect((error as Error).message).toMatch(/over the NATS server's max_payload \(\d+ bytes\)\. A NATS message is at most the server's max_payload/);
    expect((error as Error).message).not.toMatch(/structured-cloneable/);
  });

  // flatMap: the outputs of one call go together (an array's all at once, a stream's within a window
  // of 64): over max_payload they go as parts, in order.
  it.each([
    ['an array of 400 outputs of 5 KB', paddedList, 5000, 400],
    ['a stream of 400 outputs of 20 KB', paddedStream, 20_000, 64],
  ] as const)('flatMap, %s: every output once, in order', { timeout: 60_000 }, async (_, fn, length, together) => {
    expect(together * length).toBeGreaterThan(MAX_PAYLOAD);
    const out = await lastValueFrom(fromIterable([{ n: 400, length }, { n: 3, length: 10 }]).pipe(flatMapParallel(fn, { scheduler, workers: 1 }), toArray()));
    const list = (n: number, size: number) => Array.from({ length: n }, (_, i) => String(i).padEnd(size, '.'));
    expect(out).toEqual([...list(400, length), ...list(3, 10)]);
    expect(worker.child.exitCode).toBeNull();
  });

  it('a result over max_payload by itself fails with UncloneableValueError (result), and the worker process lives', { timeout: 60_000 }, async () => {
    const elements = [{ i: 0, length: 10 }, { i: 1, length: MAX_PAYLOAD + 1 }, { i: 2, length: 10 }];
    const error = await lastValueFrom(fromIterable(elements).pipe(mapParallel(padded, { scheduler }), toArray())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UncloneableValueError);
    expect(error).toMatchObject({ direction: 'result', elementIndex: [1] });
    expect((error as Error).message).toMatch(/max_payload: send smaller values/);
    expect(worker.child.exitCode).toBeNull();
  });
});
