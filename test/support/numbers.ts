/**
 * Batches of numbers (RUN_NUMBERS, RESULTS_NUMBERS), shared by test/threads/numbers.test.ts and
 * test/nats/numbers.test.ts: the doubles that must survive as themselves, the sources and batch
 * sizes each case runs with, and the comparison that tells -0 from 0 and NaN from nothing.
 */
import { expect } from 'vitest';
import { from, type Observable } from 'rxjs';
import { fromIterable } from 'rxjs-parallel';

export const specials = [-0, 0, NaN, Infinity, -Infinity, 0.1, -2.5, 2 ** 53 + 2, -(2 ** 31), 2 ** 31, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 1e-300];
/** 300 numbers: the special ones again and again, with plain integers and fractions between. */
export const numbers = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? specials[(i / 3) % specials.length] : i % 3 === 1 ? i : i / 7));
export const sources = [
  { source: 'fromIterable', of: <T>(xs: T[]): Observable<T> => fromIterable(xs) },
  { source: 'from', of: <T>(xs: T[]): Observable<T> => from(xs) },
] as const;
export const batchSizes = [64, 'auto'] as const;

/** Same values, in order: primitives by Object.is (so -0 is not 0, and NaN is NaN), objects (cloned) by their JSON. */
export function expectSame(actual: unknown[], expected: unknown[]): void {
  expect(actual.length).toBe(expected.length);
  const same = (v: unknown, a: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) === JSON.stringify(a) : Object.is(v, a));
  const differ = expected.map((v, i) => [i, v, actual[i]] as const).filter(([, v, a]) => !same(v, a));
  expect(differ).toEqual([]);
}
