// The Scheduler interface is small enough to implement outside the library. This one runs each
// lease's jobs one at a time from a queue, as a remote worker does, and records what the stage
// sent it: batches, prefetch and the bound on jobs outstanding per lease.
import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { fromIterable, mapParallel, type Job, type LeaseSink, type Scheduler, type StageWork, type WorkerInfo, type WorkerLease } from 'rxjs-parallel';

function queueScheduler(prefetch: number) {
  const stats = { batches: [] as number[], maxOutstanding: 0 };
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
          await Promise.resolve(); // a message round trip
          if (!ended) sink.resolve(job.seq, fn(job.value));
        }
        running = false;
      };
      let outstanding = 0;
      const sink: LeaseSink = {
        resolve: (seq, v) => (outstanding--, stage.resolve(seq, v)),
        reject: (seq, e) => (outstanding--, stage.reject(seq, e)),
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

  it("grows batches with batchSize: 'auto' while elements are quick", async () => {
    const { scheduler, stats } = queueScheduler(1);
    const out = await lastValueFrom(fromIterable(range(3000)).pipe(mapParallel((x: number) => x + 1, { workers: 2, scheduler, batchSize: 'auto' }), toArray()));
    expect(out.sort((a, b) => a - b)).toEqual(range(3000).map((x) => x + 1));
    expect(stats.batches[0]).toBe(1);
    expect(Math.max(...stats.batches)).toBeGreaterThan(8);
  });
});
