// bench/lib/common.mjs `timeLibraries`, with synthetic libraries (no timing is asserted): the
// median of a row's timed runs, and that every library it made is closed whatever fails.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmark suite, without types
import { median, timeLibraries } from '../bench/lib/common.mjs';

type Made = { run: (n: number) => Promise<{ count: number; sum: number }>; close: () => Promise<void> };

/** A library that counts its runs and closes; `failAt` makes its n-th run reject, `closeFails` its close. */
function fake(log: string[], id: string, { failAt, closeFails = false }: { failAt?: number; closeFails?: boolean } = {}) {
  return async (): Promise<Made> => {
    let runs = 0;
    return {
      run: async (n) => {
        runs++;
        if (runs === failAt) throw new Error(`${id} run ${runs}`);
        return { count: n, sum: (n * (n - 1)) / 2 + n };
      },
      close: async () => {
        log.push(`close ${id}`);
        if (closeFails) throw new Error(`${id} close`);
      },
    };
  };
}
const plan = () => ({ count: 10, warm: 1, repeat: 3 });
const describeRow = () => '';

describe('median', () => {
  it('is the middle of an odd count and the mean of the two middles of an even one', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe.each([false, true])('timeLibraries (interleave: %s) closes every library it made', (interleave) => {
  it('when a timed run of one fails', async () => {
    const log: string[] = [];
    const libraries = { a: fake(log, 'a'), b: fake(log, 'b', { failAt: 3 }), c: fake(log, 'c') };
    await expect(timeLibraries(libraries, { run: 0, plan, describe: describeRow, interleave })).rejects.toThrow('b run 3');
    // Not interleaved, the libraries after the failing one are never made; every one made is closed.
    expect(log.sort()).toEqual(interleave ? ['close a', 'close b', 'close c'] : ['close a', 'close b']);
  });

  it('when the plan of one throws', async () => {
    const log: string[] = [];
    const libraries = { a: fake(log, 'a'), b: fake(log, 'b'), c: fake(log, 'c') };
    const planOrThrow = (id: string) => {
      if (id === 'b') throw new Error('b plan');
      return plan();
    };
    await expect(timeLibraries(libraries, { run: 0, plan: planOrThrow, describe: describeRow, interleave })).rejects.toThrow('b plan');
    // b was made before its plan threw: it is closed, as a is; c is never made.
    expect(log.sort()).toEqual(['close a', 'close b']);
  });

  it('when the close of one fails: the others made are closed still, and the failure is reported', async () => {
    const log: string[] = [];
    const libraries = { a: fake(log, 'a', { closeFails: true }), b: fake(log, 'b'), c: fake(log, 'c') };
    await expect(timeLibraries(libraries, { run: 0, plan, describe: describeRow, interleave })).rejects.toThrow('a close');
    // Not interleaved, the run stops at a's close, before b and c are made; interleaved, all three are open then.
    expect(log.sort()).toEqual(interleave ? ['close a', 'close b', 'close c'] : ['close a']);
  });
});

describe('timeLibraries with groups to interleave', () => {
  it('times a group in alternating rounds at its first member\'s place, and every other library alone', async () => {
    const log: string[] = [];
    const library = (id: string) => async (): Promise<Made> => {
      log.push(`make ${id}`);
      return {
        run: async (n) => (log.push(`run ${id}`), { count: n, sum: (n * (n - 1)) / 2 + n }),
        close: async () => void log.push(`close ${id}`),
      };
    };
    const libraries = { a: library('a'), b: library('b'), c: library('c'), d: library('d') };
    const rows = await timeLibraries(libraries, { run: 0, plan: () => ({ count: 10, warm: 0, repeat: 3 }), describe: describeRow, interleave: [['d', 'b']] });
    expect(rows.map((r: { id: string }) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(log).toEqual([
      ...['make a', 'run a', 'run a', 'run a', 'close a'],
      // b comes first in the run's order, so the group is timed there; the round's order rotates.
      ...['make b', 'make d', 'run b', 'run d', 'run d', 'run b', 'run b', 'run d', 'close b', 'close d'],
      ...['make c', 'run c', 'run c', 'run c', 'close c'],
    ]);
  });
});

describe('timeLibraries with groups that cannot be timed as given', () => {
  const library = (log: string[], id: string) => async (): Promise<Made> => {
    log.push(`make ${id}`);
    return { run: async (n) => (log.push(`run ${id}`), { count: n, sum: (n * (n - 1)) / 2 + n }), close: async () => void log.push(`close ${id}`) };
  };

  it('times a group\'s members that are in `ids` (the others filtered out, as by --libs), and names a skipped member\'s row', async () => {
    const log: string[] = [];
    const libraries = { a: library(log, 'a'), b: library(log, 'b'), c: async () => ({ skipped: 'not installed' }), d: library(log, 'd') };
    const rows = await timeLibraries(libraries, { ids: ['b', 'c', 'd'], run: 0, plan: () => ({ count: 10, warm: 0, repeat: 1 }), describe: describeRow, interleave: [['a', 'c', 'd']] });
    expect(rows.map((r: { id: string; skipped?: string }) => [r.id, r.skipped])).toEqual([['b', undefined], ['c', 'not installed'], ['d', undefined]]);
    expect(log).toEqual(['make b', 'run b', 'close b', 'make d', 'run d', 'close d']);
  });

  it('refuses a library in two groups, or a group naming no library, before making any', async () => {
    const log: string[] = [];
    const libraries = { a: library(log, 'a'), b: library(log, 'b'), c: library(log, 'c') };
    const options = { run: 0, plan: () => ({ count: 10, warm: 0, repeat: 3 }), describe: describeRow };
    await expect(timeLibraries(libraries, { ...options, interleave: [['a', 'b'], ['b', 'c']] })).rejects.toThrow(/"b" is in two groups/);
    await expect(timeLibraries(libraries, { ...options, interleave: [['a', 'raw-thraed']] })).rejects.toThrow(/"raw-thraed" is no library/);
    expect(log).toEqual([]);
  });
});
