// The runner's verdict on a target, from synthetic runs: a ratio taken within each run, then its
// median; and a target that allows for its bound (the process CPU speed-up: ≥ 1.85×, or raw fork's).
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmark suite, without types
import { judgeTarget } from '../bench/lib/targets.mjs';

/** One run of a CPU scenario: rows of speed-up figures (the sequential row is 1). */
const run = (ours: number, raw: number) => ({
  rows: [
    { id: 'sequential', value: 1 },
    { id: 'process-2', value: ours },
    { id: 'raw-fork-2', value: raw },
  ],
});
const target = { ratio: ['process-2', 'sequential'], min: 1.85 };
const bounded = { ...target, orBound: { ratio: ['raw-fork-2', 'sequential'], label: 'raw `fork`' } };

describe('judgeTarget', () => {
  it('meets a target by the median of the ratios of its runs, and misses it below', () => {
    expect(judgeTarget(target, [run(1.9, 1.9), run(1.8, 1.9), run(1.86, 1.9)])).toMatchObject({ status: 'met', atBound: false, r: { median: 1.86, n: 3 } });
    expect(judgeTarget(target, [run(1.8, 1.9), run(1.84, 1.9), run(1.9, 1.9)])).toMatchObject({ status: 'missed', r: { median: 1.84 } });
  });

  it('meets a bounded target at its bound when ours reaches the bound in the same runs, and not below it', () => {
    expect(judgeTarget(bounded, [run(1.81, 1.8), run(1.82, 1.81), run(1.8, 1.79)])).toMatchObject({ status: 'met', atBound: true, boundStats: { median: 1.8 } });
    expect(judgeTarget(bounded, [run(1.78, 1.8), run(1.79, 1.81), run(1.8, 1.82)])).toMatchObject({ status: 'missed', atBound: false });
    // Met on its own line: not "at its bound", whatever the bound did.
    expect(judgeTarget(bounded, [run(1.9, 1.95)])).toMatchObject({ status: 'met', atBound: false });
  });

  it('is pending when no run measured both rows', () => {
    expect(judgeTarget(bounded, [{ rows: [{ id: 'sequential', value: 1 }, { id: 'process-2', skipped: 'not built' }] }])).toMatchObject({ status: 'pending' });
  });
});
