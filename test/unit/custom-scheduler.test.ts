// The Scheduler interface is small enough to implement outside the library. This one runs each
// lease's jobs one at a time from a queue, as a remote worker does, and records what the stage
// sent it: batches, prefetch and the bound on jobs outstanding per lease.
import { describe, expect, it } from 'vitest';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { fromIterable, mapParallel, type Job, type LeaseSink, type Scheduler, type StageWork, type WorkerInfo, type WorkerLease } from 'rxjs-parallel';

function queueScheduler(prefetch: number, slowEvery = 0) {
  const stats = { batches: [] as number[], maxOutstanding: 0 };
  let calls = 0;
  const scheduler: Scheduler = {
    kind: 'queue',
    batching: true,
    prefetch,
    lease(work: StageWork, _info: WorkerInfo, stage: LeaseSink): WorkerLease {
      const queue: Job[] = [];
      let running = false;
      let ended = false;
      const fn = work.fn as (v: unknown) => unknown;
      const pump = async () => {
        if (running) return;
        running = true;
        while (queue.length > 0 && !ended) {
          const job = queue.shift()!;
          calls++;
          if (slowEvery && calls % slowEvery === 0) await new Promise((resolve) => setTimeout(resolve, 30)); // a slow batch
          else await Promise.resolve(); // a message round trip
          if (!ended) sink.resolve(job.seq, fn(job.value));
        }
        running = false;
      };
      let outstanding = 0;
      const sink: LeaseSink = {
        resolve: (seq, v) => (outstanding--, stage.resolve(seq, v)),
        reject: (seq, e) => (outstanding--, stage.reject(seq, e)),
        outputs: (seq, values) => stage.outputs(seq, values),
        reclaimed: (seqs) => stage.reclaimed(seqs),
        resent: (seqs) => stage.resent(seqs),
      };
      return {
        ready: Promise.resolve(),
        run(jobs) {
          stats.batches.push(jobs.length);
          outstanding += jobs.length;
          stats.maxOutstanding = Math.max(stats.maxOutstanding, outstanding);
          queue.push(...jobs);
          void pump();
        },
        cancel() {},
        async end() {
          ended = true;
        },
      };
    },
    async close() {},
  };
  return { scheduler, stats };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('a custom scheduler', () => {
  it('gets batches of batchSize, with up to `prefetch` more queued per lease', async () => {
    const { scheduler, stats } = queueScheduler(2);
    const out = await lastValueFrom(fromIterable(range(500)).pipe(mapParallel((x: number) => x * 2, { workers: 2, scheduler, batchSize: 8, ordered: true }), toArray()));
    expect(out).toEqual(range(500).map((x) => x * 2));
    expect(Math.max(...stats.batches)).toBe(8);
    expect(stats.maxOutstanding).toBeGreaterThan(8); // prefetched beyond the batch in work
    expect(stats.maxOutstanding).toBeLessThanOrEqual(8 * 3);
  });

  it('sends one batch at a time when the stage has a timeout', async () => {
    const { scheduler, stats } = queueScheduler(2);
    await lastValueFrom(fromIterable(range(100)).pipe(mapParallel((x: number) => x, { workers: 2, scheduler, batchSize: 4, timeout: 10_000 }), toArray()));
    expect(stats.maxOutstanding).toBeLessThanOrEqual(4);
  });

  it('sends elements one at a time when the stage has a timeout (each clock measures its own call)', async () => {
    for (const batchSize of [4, 'auto'] as const) {
      const { scheduler, stats } = queueScheduler(2);
      const out = await lastValueFrom(fromIterable(range(100)).pipe(mapParallel((x: number) => x, { workers: 2, scheduler, batchSize, timeout: 10_000 }), toArray()));
      expect(out).toHaveLength(100);
      expect(Math.max(...stats.batches)).toBe(1);
    }
  });

  it("grows batches with batchSize: 'auto' while elements are quick", async () => {
    const { scheduler, stats } = queueScheduler(1);
    const out = await lastValueFrom(fromIterable(range(3000)).pipe(mapParallel((x: number) => x + 1, { workers: 2, scheduler, batchSize: 'auto' }), toArray()));
    expect(out.sort((a, b) => a - b)).toEqual(range(3000).map((x) => x + 1));
    expect(stats.batches[0]).toBe(1);
    expect(Math.max(...stats.batches)).toBeGreaterThan(8);
  });

  it("keeps every element when batchSize: 'auto' shrinks below what a lease holds", async () => {
    // Every 200th job takes 30 ms: its batch halves the size while the leases hold more than the new bound.
    const { scheduler, stats } = queueScheduler(1, 200);
    const out = await lastValueFrom(fromIterable(range(3000)).pipe(mapParallel((x: number) => x + 1, { workers: 2, scheduler, batchSize: 'auto' }), toArray()));
    expect(out.sort((a, b) => a - b)).toEqual(range(3000).map((x) => x + 1));
    const largest = stats.batches.indexOf(Math.max(...stats.batches));
    expect(Math.min(...stats.batches.slice(largest))).toBeLessThan(stats.batches[largest]); // it did shrink
  });
});

/** Runs each batch whole, then hands all its results to the stage in one `settleMany` call. */
function batchScheduler(events: string[]) {
  const scheduler: Scheduler = {
    kind: 'batch',
    batching: true,
    lease(work: StageWork, _info: WorkerInfo, sink: LeaseSink): WorkerLease {
      const fn = work.fn as (v: unknown) => unknown;
      let ended = false;
      return {
        ready: Promise.resolve(),
        run(jobs) {
          events.push(`run ${jobs.length}`);
          void Promise.resolve().then(() => {
            if (ended) return;
            sink.settleMany!(() => {
              for (const job of jobs) {
                try {
                  sink.resolve(job.seq, fn(job.value));
                } catch (error) {
                  sink.reject(job.seq, error);
                }
              }
            });
          });
        },
        cancel() {},
        async end() {
          ended = true;
        },
      };
    },
    async close() {},
  };
  return scheduler;
}

describe('LeaseSink.settleMany', () => {
  it('acts on a batch of results together: all are emitted before upstream is read again', async () => {
    const events: string[] = [];
    function* source() {
      for (let i = 0; i < 32; i++) {
        events.push('read');
        yield i;
      }
    }
    const out = await lastValueFrom(
      fromIterable(source()).pipe(
        mapParallel((x: number) => x * 10, { workers: 1, batchSize: 8, ordered: true, scheduler: batchScheduler(events) }),
        tap(() => events.push('emit')),
        toArray(),
      ),
    );
    expect(out).toEqual(Array.from({ length: 32 }, (_, i) => i * 10));
    expect(events.filter((e) => e.startsWith('run'))).toEqual(['run 8', 'run 8', 'run 8', 'run 8']);
    // Results one by one would interleave (emit, read, emit, read ...): a batch's 8 results leave together.
    const emitRuns = events
      .join(' ')
      .split(/ ?(?:read|run 8) ?/)
      .filter(Boolean)
      .map((chunk) => chunk.trim().split(' ').length);
    expect(emitRuns).toEqual([8, 8, 8, 8]);
  });

  it('settles failures inside the batch like any other (onError skip)', async () => {
    const events: string[] = [];
    const out = await lastValueFrom(
      fromIterable(Array.from({ length: 20 }, (_, i) => i)).pipe(
        mapParallel(
          (x: number) => {
            if (x % 5 === 0) throw new Error(`bad ${x}`);
            return x;
          },
          { workers: 2, batchSize: 4, onError: 'skip', scheduler: batchScheduler(events) },
        ),
        toArray(),
      ),
    );
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((x) => x % 5 !== 0));
  });
});
