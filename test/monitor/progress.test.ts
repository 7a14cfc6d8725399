// progress(): silent off a terminal, lines redrawn in place on one. Driven by an injected clock and
// fake interval timers, so every frame is known exactly.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { filterParallel, fromIterable, mapParallel, Monitor, progress, run, type ProgressStream } from 'rxjs-parallel';
import { deferred, turn } from '../support/util.js';

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await turn();
  if (!condition()) throw new Error('condition never held');
}

function fakeTerminal(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  const stream: ProgressStream = { isTTY, columns, write: (text: string) => writes.push(text) };
  return { stream, writes };
}

/** A two-stage pipeline whose first stage waits for the test: `release(x)` lets element x through. */
function gatedPipeline(monitor: Monitor) {
  const gates = new Map([1, 2, 3, 4].map((x) => [x, deferred()]));
  const called = new Map([1, 2, 3, 4].map((x) => [x, deferred()]));
  const done = run(
    fromIterable([1, 2, 3, 4]).pipe(
      mapParallel(
        async (x: number) => {
          called.get(x)!.resolve();
          await gates.get(x)!.promise;
          return x;
        },
        { workers: 2, monitor, name: 'fetch' },
      ),
      filterParallel((x: number) => x % 2 === 0, { monitor, name: 'keep' }),
    ),
  );
  return { done, called: (x: number) => called.get(x)!.promise, release: (x: number) => gates.get(x)!.resolve() };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('progress', () => {
  it('writes nothing when the stream is not a TTY', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const monitor = new Monitor({ interval: 10 });
    const { stream, writes } = fakeTerminal(false);
    progress(monitor, { total: 4, stream });
    const p = gatedPipeline(monitor);
    await p.called(1);
    expect(vi.getTimerCount()).toBe(0); // it does not even listen
    for (const x of [1, 2, 3, 4]) p.release(x);
    await p.done;
    await turn();
    expect(writes).toEqual([]);
  });

  it('draws one line per stage with a bar, counts, rate and ETA, redrawn in place, and stops after the last snapshot', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let t = 0;
    const monitor = new Monitor({ interval: 250, clock: () => t });
    const { stream, writes } = fakeTerminal(true, 80);
    progress(monitor, { total: 4, stream });
    const p = gatedPipeline(monitor);
    await Promise.all([p.called(1), p.called(2)]);

    t = 1000;
    p.release(1);
    p.release(2);
    await until(() => monitor.report().stages[1]?.out === 1);
    vi.advanceTimersByTime(250);
    expect(writes).toEqual([
      '\x1b[2Kfetch [███████████████░░░░░░░░░░░░░░░]  50%  2/4  2.0/s  ETA 0:01\n' +
        '\x1b[2Kkeep  [███████████████░░░░░░░░░░░░░░░]  50%  2/4  2.0/s  ETA 0:01\n',
    ]);

    t = 2000;
    p.release(3);
    p.release(4);
    await p.done;
    await turn();
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe(
      '\x1b[2A' + // back up over the previous frame
        '\x1b[2Kfetch [██████████████████████████████] 100%  4/4  2.0/s  done\n' +
        '\x1b[2Kkeep  [██████████████████████████████] 100%  4/4  2.0/s  done\n',
    );
    expect(vi.getTimerCount()).toBe(0);
  });

  it('without a total, draws counts, rate, work in progress and queue', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let t = 0;
    const monitor = new Monitor({ interval: 100, clock: () => t });
    const { stream, writes } = fakeTerminal(true, 80);
    progress(monitor, { stream });
    const p = gatedPipeline(monitor);
    await Promise.all([p.called(1), p.called(2)]);
    t = 500;
    vi.advanceTimersByTime(100);
    expect(writes).toEqual([
      '\x1b[2Kfetch  0 done  0.0/s  2 in work  2 queued\n' + '\x1b[2Kkeep   0 done  0.0/s  0 in work  0 queued\n',
    ]);
    for (const x of [1, 2, 3, 4]) p.release(x);
    await p.done;
    await turn();
    expect(writes[1]).toBe(
      '\x1b[2A\x1b[2Kfetch  4 done  8.0/s  0 in work  0 queued  done\n' + '\x1b[2Kkeep   4 done  8.0/s  0 in work  0 queued  done\n',
    );
  });

  it('cuts lines to the terminal width, and stops when asked', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const monitor = new Monitor({ interval: 100 });
    const { stream, writes } = fakeTerminal(true, 30);
    const handle = progress(monitor, { total: 4, stream });
    const p = gatedPipeline(monitor);
    await p.called(1);
    vi.advanceTimersByTime(100);
    expect(writes).toHaveLength(1);
    for (const line of writes[0].split('\n').filter(Boolean)) expect(line.replace('\x1b[2K', '').length).toBeLessThan(30);
    handle.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    for (const x of [1, 2, 3, 4]) p.release(x);
    await p.done;
    await turn();
    expect(writes).toHaveLength(1);
  });

  it('validates its arguments', () => {
    const monitor = new Monitor();
    expect(() => progress({} as Monitor)).toThrow(/monitor/);
    expect(() => progress(monitor, { total: -1 })).toThrow(/total/);
    expect(() => progress(monitor, { stream: {} as ProgressStream })).toThrow(/stream/);
  });
});
