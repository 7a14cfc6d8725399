// How the runner judges a target from the runs of its scenario: each ratio is taken within a run,
// then summarised (median and range) over the runs.
import { median } from './common.mjs';

export const stats = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : undefined);

/** `num ÷ den` in each run where both were measured (`den ÷ num` with `invert`), summarised. */
export function ratioStats(runs, [num, den], invert = false) {
  const per = runs
    .map((r) => [r.rows.find((x) => x.id === num), r.rows.find((x) => x.id === den)])
    .filter(([a, b]) => a && b && !a.skipped && !b.skipped)
    .map(([a, b]) => (invert ? b.value / a.value : a.value / b.value));
  return { ...stats(per), n: per.length };
}

/**
 * A target's verdict: `status` 'met', 'missed' or 'pending' (nothing measured), with `r` its ratio
 * over the runs. A target that allows for its bound (`orBound: { ratio }`: what the machine lets the
 * plainest peer reach, such as raw `fork` for a process pool) is met at the bound (`atBound`) when
 * it misses its line but reaches the bound's own median in the same runs; `boundStats` is the
 * bound's ratio.
 */
export function judgeTarget(t, runs) {
  const r = ratioStats(runs, t.ratio, t.invert);
  let status = r.n === 0 ? 'pending' : (t.min !== undefined ? r.median >= t.min : r.median <= t.max) ? 'met' : 'missed';
  let atBound = false;
  let boundStats;
  if (t.orBound) {
    boundStats = ratioStats(runs, t.orBound.ratio);
    if (status === 'missed' && boundStats.n && r.median >= boundStats.median) {
      status = 'met';
      atBound = true;
    }
  }
  return { r, status, atBound, boundStats };
}
