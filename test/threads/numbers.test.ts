// A batch whose values are all numbers crosses to a worker as one Float64Array, and results that
// are all numbers come back as one (RUN_NUMBERS, RESULTS_NUMBERS). Nothing about it may show: every
// double survives as itself (-0, NaN, the infinities, fractions, the largest and smallest), a batch
// that mixes numbers with other values and results that are not all numbers go the usual way, and
// each call still sees its own element and index. On threads and processes, with fixed and
// automatic batches, from a pull source and a push source. The packed messages are really sent (a
// createWorker that watches the wire), and a worker that dies inside a batch of numbers fails only
// the element it was running.
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { lastValueFrom, toArray } from 'rxjs';
import { eachParallel, filterParallel, fromIterable, mapParallel, processScheduler, run, threadScheduler, type Scheduler, type WorkerLike } from 'rxjs-parallel';
import { RESULTS_NUMBERS, RUN_NUMBERS } from '../../src/worker/protocol.js';
import { batchSizes, expectSame, numbers, sources } from '../support/numbers.js';

const kinds = [
  { kind: 'thread', make: () => threadScheduler({ workers: 2 }) },
  { kind: 'process', make: () => processScheduler({ workers: 2 }) },
] as const;

describe.each(kinds)('$kind scheduler: batches of numbers', ({ make }) => {
  describe.each(sources)('from $source', ({ of }) => {
    it.each(batchSizes)('every double comes back as itself (batchSize %s)', async (batchSize) => {
      const scheduler: Scheduler = make();
      try {
        const out = await lastValueFrom(of(numbers).pipe(mapParallel((x: number) => x, { scheduler, batchSize, ordered: true }), toArray()));
        expectSame(out, numbers);
        // And each call saw a number, with its own element index.
        const seen = await lastValueFrom(
          of(numbers).pipe(mapParallel((x: number, ctx) => [typeof x, ctx.elementIndex[0], x], { scheduler, batchSize, ordered: true }), toArray()),
        );
        expect(seen.map(([type]) => type)).toEqual(numbers.map(() => 'number'));
        expect(seen.map(([, index]) => index)).toEqual(numbers.map((_, i) => i));
        expectSame(
          seen.map(([, , x]) => x),
          numbers,
        );
      } finally {
        await scheduler.close();
      }
    });

    it.each(batchSizes)('numbers mixed with other values, and results that are not all numbers (batchSize %s)', async (batchSize) => {
      const scheduler: Scheduler = make();
      try {
        const mixed: unknown[] = numbers.map((x, i) => (i % 37 === 5 ? `s${i}` : i % 41 === 7 ? { n: i } : i % 43 === 9 ? null : x));
        const back = await lastValueFrom(of(mixed).pipe(mapParallel((x: unknown) => x, { scheduler, batchSize, ordered: true }), toArray()));
        expect(back.filter((x) => typeof x !== 'number')).toEqual(mixed.filter((x) => typeof x !== 'number'));
        expectSame(back, mixed);
        // Numbers in, some results not numbers: a string for every 50th, the double of the rest.
        const twice = await lastValueFrom(
          of(numbers).pipe(mapParallel((x: number, ctx) => (ctx.elementIndex[0] % 50 === 0 ? `#${ctx.elementIndex[0]}` : x * 2), { scheduler, batchSize, ordered: true }), toArray()),
        );
        expectSame(
          twice,
          numbers.map((x, i) => (i % 50 === 0 ? `#${i}` : x * 2)),
        );
        // filter (a verdict per element) and each (no result) over numbers.
        const kept = await lastValueFrom(of(numbers).pipe(filterParallel((x: number) => x > 1, { scheduler, batchSize, ordered: true }), toArray()));
        expectSame(
          kept,
          numbers.filter((x) => x > 1),
        );
        await run(of(numbers).pipe(eachParallel((x: number) => x * 3, { scheduler, batchSize })));
      } finally {
        await scheduler.close();
      }
    });
  });
});

/** The library's own thread entry, behind a `createWorker` that notes the kind of every message each way. */
function watchedThreads(kinds: { sent: unknown[]; received: unknown[] }) {
  const entry = new URL('../../dist/esm/worker/node-thread-entry.cjs', import.meta.url);
  return threadScheduler({
    workers: 2,
    createWorker: (): WorkerLike => {
      const worker = new Worker(entry);
      return {
        postMessage(message: unknown, transfer?: any) {
          kinds.sent.push((message as unknown[])[0]);
          worker.postMessage(message, transfer);
        },
        on(event: string, listener: (...args: any[]) => void) {
          if (event !== 'message') return worker.on(event, listener);
          return worker.on('message', (message: unknown) => {
            kinds.received.push((message as unknown[])[0]);
            listener(message);
          });
        },
        terminate: () => worker.terminate(),
      };
    },
  });
}

describe('thread scheduler: the packed path is taken', () => {
  it('numbers go and come back as Float64Arrays; a batch with another value in it does not', async () => {
    const kinds = { sent: [] as unknown[], received: [] as unknown[] };
    const scheduler = watchedThreads(kinds);
    try {
      const out = await lastValueFrom(fromIterable(numbers).pipe(mapParallel((x: number) => x, { scheduler, batchSize: 64, ordered: true }), toArray()));
      expectSame(out, numbers);
      expect(kinds.sent).toContain(RUN_NUMBERS);
      expect(kinds.received).toContain(RESULTS_NUMBERS);
      kinds.sent.length = kinds.received.length = 0;
      const mixed = numbers.map((x, i) => (i % 8 === 3 ? `s${i}` : x)); // any 16 in a row (the smallest packed batch) hold a string
      const back = await lastValueFrom(fromIterable(mixed).pipe(mapParallel((x: unknown) => x, { scheduler, batchSize: 16, ordered: true }), toArray()));
      expectSame(back, mixed);
      expect(kinds.sent).not.toContain(RUN_NUMBERS);
      expect(kinds.received).not.toContain(RESULTS_NUMBERS);
    } finally {
      await scheduler.close();
    }
  });
});

describe.each(kinds)('$kind scheduler: a worker that dies inside a batch of numbers', ({ make }) => {
  it.each(batchSizes)('fails only the element it was running; the rest of its batch comes once (batchSize %s)', async (batchSize) => {
    const scheduler: Scheduler = make();
    try {
      const out = await lastValueFrom(
        fromIterable(numbers).pipe(
          mapParallel(
            (x: number, ctx) => {
              if (ctx.elementIndex[0] === 100) process.exit(1);
              return x;
            },
            { scheduler, batchSize, ordered: true, onError: 'skip' },
          ),
          toArray(),
        ),
      );
      expectSame(
        out,
        numbers.filter((_, i) => i !== 100),
      );
    } finally {
      await scheduler.close();
    }
  });
});
