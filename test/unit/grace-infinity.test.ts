// cancelGrace: Infinity is "no limit", not a timer that overflows (Node runs a timer of more than
// 2^31-1 ms after 1 ms). Fake timers let the test pass that much time without waiting for it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { of } from 'rxjs';
import { mapParallel, taskScheduler } from 'rxjs-parallel';
import { record } from '../support/util.js';

describe('cancelGrace: Infinity (no limit)', () => {
  afterEach(() => vi.useRealTimers());
  it('task + partitionBy: a key stays busy while its cancelled call runs, however long', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let release!: () => void;
    const log: string[] = [];
    const stage = record(
      of(0, 1).pipe(
        mapParallel(
          (x: number) => {
            log.push(`start ${x}`);
            if (x === 1) return 1;
            return new Promise<number>((resolve) => {
              release = () => {
                log.push('end 0');
                resolve(0);
              };
            });
          },
          { scheduler: taskScheduler({ cancelGrace: Infinity }), workers: 2, partitionBy: () => 'key', timeout: 50, onError: () => -1 },
        ),
      ),
    );
    await vi.advanceTimersByTimeAsync(50); // element 0 times out; its call ignores its signal
    expect(stage.values).toEqual([-1]);
    await vi.advanceTimersByTimeAsync(2 ** 31); // any finite grace would have given up by now
    expect(log).toEqual(['start 0']);
    release();
    const { values, error } = await stage.result;
    expect(error).toBeUndefined();
    expect(values).toEqual([-1, 1]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1']);
  });
});
