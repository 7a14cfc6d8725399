// `mapParallel` emits `await fn(x, ctx)` (its JSDoc): a thenable that answers with another thenable
// is followed to a value, as `await` and a Promise do, on every path of the in-process schedulers
// (the sync scheduler's inline call, the task scheduler's microtask).
import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { fromIterable, mapParallel, syncScheduler, taskScheduler } from 'rxjs-parallel';

/** A thenable that answers, inside `then`, with a thenable that answers with `value`. */
const nested = (value: number) => ({ then: (ok: (v: unknown) => void) => ok({ then: (ok2: (v: number) => void) => ok2(value) }) });

describe.each([
  ['sync', syncScheduler],
  ['task', taskScheduler],
] as const)('a thenable resolved with a thenable, on the %s scheduler', (_name, scheduler) => {
  it('emits the value the inner thenable answers with, as await does', async () => {
    const fn = (x: number) => nested(x + 0.5) as unknown as number;
    const awaited = await Promise.all([1, 2].map(async (x) => await fn(x)));
    expect(awaited).toEqual([1.5, 2.5]); // what `await fn(x)` gives
    const out = await lastValueFrom(fromIterable([1, 2]).pipe(mapParallel(fn, { scheduler: scheduler() }), toArray()));
    expect(out).toEqual(awaited);
  });
});

describe.each([
  ['sync', syncScheduler],
  ['task', taskScheduler],
] as const)('answers a thenable gives on the %s scheduler, as a Promise reads them', (_name, scheduler) => {
  type Ok = (v: unknown) => void;
  type No = (e: unknown) => void;
  const run = (fn: (x: number) => unknown) =>
    lastValueFrom(
      fromIterable([1]).pipe(
        mapParallel(fn as (x: number) => number, { scheduler: scheduler(), onError: (e) => `failed: ${(e as Error).message}` }),
        toArray(),
      ),
    );
  /** What `await` makes of the same thenable: the reference each case is held to. */
  const awaited = async (fn: (x: number) => unknown) => {
    try {
      return [await fn(1)];
    } catch (e) {
      return [`failed: ${(e as Error).message}`];
    }
  };
  const cases: Record<string, (x: number) => unknown> = {
    'answers with a thenable, then throws: the inner value counts': (x) => ({
      then(ok: Ok) {
        ok({ then: (ok2: Ok) => queueMicrotask(() => ok2(x + 1)) });
        throw new Error('after answering');
      },
    }),
    'answers with a thenable that rejects': () => ({ then: (ok: Ok) => ok({ then: (_ok2: Ok, no2: No) => no2(new Error('inner')) }) }),
    'answers with a thenable whose then throws': () => ({
      then: (ok: Ok) =>
        ok({
          then() {
            throw new Error('inner then');
          },
        }),
    }),
    'answers with a thenable, then with a value: the first answer counts': (x) => ({
      then(ok: Ok) {
        ok({ then: (ok2: Ok) => ok2(x + 2) });
        ok(-1);
      },
    }),
    'three levels deep': (x) => ({ then: (ok: Ok) => ok({ then: (ok2: Ok) => ok2(Promise.resolve(x + 3)) }) }),
  };
  for (const [name, fn] of Object.entries(cases)) {
    it(name, async () => {
      expect(await run(fn)).toEqual(await awaited(fn));
    });
  }
});

describe.each(['thread', 'process'] as const)('a thenable resolved with a thenable, on the %s scheduler', (scheduler) => {
  it('emits the value the inner thenable answers with, as await does', async () => {
    // Shipped to the worker as source: self-contained.
    const fn = (x: number) => ({ then: (ok: (v: unknown) => void) => ok({ then: (ok2: (v: number) => void) => ok2(x + 0.5) }) }) as unknown as number;
    const out = await lastValueFrom(fromIterable([1, 2]).pipe(mapParallel(fn, { scheduler, workers: 1 }), toArray()));
    expect(out).toEqual([1.5, 2.5]);
  });
});
