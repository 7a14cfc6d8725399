// The monitor's counters on the thread scheduler: the same figures as on the task scheduler.
// Skipped until the thread scheduler lands; it runs by itself from then on.
import { describe, expect, it } from 'vitest';
import { eachParallel, filterParallel, flatMapParallel, fromIterable, mapParallel, Monitor, run, threadScheduler } from 'rxjs-parallel';

const threadsMissing = (() => {
  try {
    void threadScheduler({ workers: 1 }).close();
    return false;
  } catch {
    return true;
  }
})();

describe('Monitor on the thread scheduler', () => {
  it.skipIf(threadsMissing)('counts exactly: in = out + filtered + failed, retries included', async () => {
    const monitor = new Monitor({ timing: 'all' });
    const scheduler = 'thread' as const;
    // Self-contained functions: they are shipped to the threads as source text.
    await run(
      fromIterable(Array.from({ length: 100 }, (_, i) => i)).pipe(
        mapParallel(
          (x: number) => {
            if (x % 10 === 3) throw new Error('no');
            return x * 2;
          },
          { monitor, name: 'double', workers: 2, retries: 1, onError: 'skip', scheduler },
        ),
        filterParallel((x: number) => x % 4 === 0, { monitor, name: 'keep', workers: 2, scheduler }),
        flatMapParallel((x: number) => (x % 8 === 0 ? [] : [x, x + 1]), { monitor, name: 'pairs', workers: 2, scheduler }),
        eachParallel(() => {}, { monitor, name: 'each', workers: 2, scheduler }),
      ),
    );
    const r = monitor.report();
    const counts = r.stages.map(({ name, scheduler, in: n, out, outputs, filtered, failed, retried, cancelled, state }) => ({
      name, scheduler, in: n, out, outputs, filtered, failed, retried, cancelled, state,
    }));
    const base = { scheduler: 'thread', cancelled: 0, state: 'complete' };
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
