import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { from, lastValueFrom, map, filter, mergeMap, toArray, concatMap } from 'rxjs';
import { filterParallel, flatMapOrdered, fromIterable, mapParallel } from 'rxjs-parallel';

describe('equivalence with RxJS', () => {
  it('mapParallel(f, { workers: 1, ordered: true }) ≡ map(f)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer()), fc.integer({ min: -5, max: 5 }), async (xs, k) => {
        const f = (x: number) => x * k + 1;
        const ours = await lastValueFrom(from(xs).pipe(mapParallel(f, { workers: 1, ordered: true }), toArray()));
        const theirs = await lastValueFrom(from(xs).pipe(map(f), toArray()));
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 200 },
    );
  });

  it('ordered map/filter/flatMap with many workers and random delays ≡ map/filter/concatMap', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 3 })), { maxLength: 60 }),
        fc.integer({ min: 1, max: 6 }),
        async (xs, workers) => {
          const later = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));
          const ours = await lastValueFrom(
            fromIterable(xs).pipe(
              mapParallel(([x, ms]) => later(ms, [x * 2, ms] as const), { workers, ordered: true }),
              filterParallel(([x]) => x % 3 !== 0, { workers, ordered: true }),
              flatMapOrdered(([x, ms]) => later(ms, [x, x + 1]), { workers }),
              toArray(),
            ),
          );
          const theirs = await lastValueFrom(
            from(xs).pipe(
              map(([x, ms]) => [x * 2, ms] as const),
              filter(([x]) => x % 3 !== 0),
              concatMap(([x]) => [x, x + 1]),
              toArray(),
            ),
          );
          expect(ours).toEqual(theirs);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('unordered mapParallel emits the same multiset as mergeMap', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer()), fc.integer({ min: 1, max: 8 }), async (xs, workers) => {
        const ours = await lastValueFrom(from(xs).pipe(mapParallel(async (x) => x - 1, { workers }), toArray()));
        const theirs = await lastValueFrom(from(xs).pipe(mergeMap(async (x) => x - 1, workers), toArray()));
        expect([...ours].sort((a, b) => a - b)).toEqual([...theirs].sort((a, b) => a - b));
      }),
      { numRuns: 100 },
    );
  });
});
