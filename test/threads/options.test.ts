// threadScheduler and processScheduler validate their options when called, like the operators.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, isScheduler, processScheduler, threadScheduler } from 'rxjs-parallel';

describe('threadScheduler / processScheduler options', () => {
  it('make schedulers of kind thread and process that batch', async () => {
    const thread = threadScheduler();
    const proc = processScheduler({ workers: 1 });
    expect(isScheduler(thread) && isScheduler(proc)).toBe(true);
    expect([thread.kind, thread.batching, proc.kind, proc.batching]).toEqual(['thread', true, 'process', true]);
    await Promise.all([thread.close(), proc.close()]); // never used: nothing was started, nothing to wait for
  });

  it('sizes a pool without `workers` to the CPUs this process may use', async () => {
    const { mapParallel, task } = await import('rxjs-parallel');
    const { from, lastValueFrom, toArray } = await import('rxjs');
    const { availableParallelism } = await import('node:os');
    const { threadId } = await import('node:worker_threads');
    const whoAmI = task<number, { threadId: number }>(new URL('../fixtures/workers.mjs', import.meta.url), 'whoAmI');
    const pool = threadScheduler();
    try {
      // More leases than CPUs: they share the pool's threads, one per CPU.
      const n = availableParallelism() + 2;
      const ids = (
        await lastValueFrom(from(Array.from({ length: 4 * n }, (_, i) => i)).pipe(mapParallel(whoAmI, { workers: n, scheduler: pool }), toArray()))
      ).map((r) => r.threadId);
      expect(ids.every((id) => id !== threadId)).toBe(true);
      expect(new Set(ids).size).toBeLessThanOrEqual(availableParallelism());
    } finally {
      await pool.close();
    }
  });

  it.each([
    [{ workers: 0 }, 'workers'],
    [{ workers: 1.5 }, 'workers'],
    [{ cancelGrace: -1 }, 'cancelGrace'],
    [{ startTimeout: Number.NaN }, 'startTimeout'],
    [{ prefetch: -1 }, 'prefetch'],
    [{ execArgv: '--inspect' }, 'execArgv'],
    [{ env: 'x' }, 'env'],
    [{ createWorker: 'worker.js' }, 'createWorker'],
    [{ resourceLimits: 5 }, 'resourceLimits'],
    [{ worker: 2 }, 'worker'],
    [{ workerEntry: 'dist/node-thread-entry.cjs' }, 'workerEntry'],
    [{ workerEntry: 5 }, 'workerEntry'],
    [{ workerEntry: new URL('https://example.com/node-thread-entry.cjs') }, 'workerEntry'],
    [{ workerEntry: '/srv/node-thread-entry.cjs', createWorker: () => null }, 'workerEntry'],
  ])('threadScheduler(%o) throws InvalidOptionError naming %s', (options, option) => {
    let error: unknown;
    try {
      threadScheduler(options as any);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
  });

  it('processScheduler takes no thread-only option', () => {
    expect(() => processScheduler({ createWorker: () => null } as any)).toThrow(InvalidOptionError);
    expect(() => processScheduler({ resourceLimits: {} } as any)).toThrow(InvalidOptionError);
    expect(() => processScheduler({ workers: 0 })).toThrow(InvalidOptionError);
  });

  it('take workerEntry as an absolute path or a file: URL', async () => {
    const pools = [
      threadScheduler({ workerEntry: '/srv/node-thread-entry.cjs' }),
      threadScheduler({ workerEntry: 'C:\\srv\\node-thread-entry.cjs' }),
      threadScheduler({ workerEntry: new URL('file:///srv/node-thread-entry.cjs') }),
      processScheduler({ workerEntry: 'file:///srv/node-process-entry.cjs' }),
    ];
    expect(pools.every(isScheduler)).toBe(true);
    await Promise.all(pools.map((pool) => pool.close()));
    let error: unknown;
    try {
      processScheduler({ workerEntry: './node-process-entry.cjs' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('workerEntry');
  });
});

describe('outside Node', () => {
  it('threadScheduler() without createWorker fails each stage with InvalidOptionError naming createWorker', async () => {
    const { mapParallel } = await import('rxjs-parallel');
    const { of, lastValueFrom } = await import('rxjs');
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'process')!;
    // As a browser sees it: no `process`. Only while the scheduler is made, which is when it looks.
    Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
    let pool;
    try {
      pool = threadScheduler({ workers: 1 });
    } finally {
      Object.defineProperty(globalThis, 'process', saved);
    }
    const error = await lastValueFrom(of(1).pipe(mapParallel((x: number) => x, { scheduler: pool }))).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.option).toBe('createWorker');
    await pool.close();
  });
});
