// The monitor's latency histogram: fixed memory, quantiles within half a bucket of the exact ones.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketOf, EXACT_BELOW, Histogram, middleOf } from '../../src/monitor/histogram.js';

/** Nearest-rank quantile: the ⌈q·n⌉-th smallest. */
const exact = (sorted: number[], q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
/** The stated accuracy: max(1 µs, 1/256 of the value), in ms. */
const tolerance = (ms: number) => Math.max(0.001, ms / 256) * (1 + 1e-9);

// Durations spread over every magnitude, from below a microsecond to 2.7 hours (the range with full accuracy ends at 19 hours).
const duration = fc
  .tuple(fc.double({ min: 1, max: 10, noNaN: true }), fc.integer({ min: -4, max: 6 }))
  .map(([m, e]) => m * 10 ** e);

describe('Histogram', () => {
  it('gives p50, p95 and p99 within max(1 µs, 1/256) of the exact quantiles', () => {
    fc.assert(
      fc.property(fc.array(duration, { minLength: 1, maxLength: 2000 }), (samples) => {
        const h = new Histogram();
        for (const s of samples) h.record(s);
        const sorted = [...samples].sort((a, b) => a - b);
        const qs = [0.5, 0.95, 0.99];
        const got = h.quantiles(qs);
        qs.forEach((q, i) => {
          const want = exact(sorted, q);
          expect(Math.abs(got[i] - want)).toBeLessThanOrEqual(tolerance(want));
        });
        expect(h.count).toBe(samples.length);
        expect(h.max).toBe(sorted[sorted.length - 1]);
        expect(h.min).toBe(sorted[0]);
      }),
      { numRuns: 300 },
    );
  });

  it('puts every value in a bucket whose middle is within the stated accuracy', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2 ** 36 - 1, noNaN: true }), (us) => {
        expect(Math.abs(middleOf(bucketOf(us)) - us)).toBeLessThanOrEqual(Math.max(1, us / 256) * (1 + 1e-9));
      }),
      { numRuns: 5000 },
    );
  });

  it('numbers buckets in value order, without gaps', () => {
    let previous = -1;
    for (let us = 0; us < 2 ** 20; us += us < EXACT_BELOW ? 1 : Math.max(1, us >>> 9)) {
      const b = bucketOf(us);
      expect(b === previous || b === previous + 1).toBe(true);
      previous = b;
    }
    // The exponent taken from log2 above 2^31 µs agrees with clz32 below it.
    expect(bucketOf(2 ** 31)).toBe(bucketOf(2 ** 31 - 1) + 1);
    expect(bucketOf(2 ** 33 + 5)).toBeGreaterThan(bucketOf(2 ** 33 - 5));
  });

  it('keeps exact values exact when they are all equal, and reports zeros when empty', () => {
    const h = new Histogram();
    expect(h.quantiles([0.5, 0.99])).toEqual([0, 0]);
    h.record(5, 3);
    expect(h.quantiles([0.5, 0.95, 0.99])).toEqual([5, 5, 5]);
    expect(h.count).toBe(3);
    expect(h.sum).toBe(15);
  });

  it('counts negative and NaN durations as 0, and clamps durations past the top into the last bucket', () => {
    const h = new Histogram();
    h.record(-1);
    h.record(NaN);
    expect(h.quantiles([1])).toEqual([0]);
    const long = new Histogram();
    long.record(1e9); // 11.6 days
    expect(long.quantiles([0.5])).toEqual([1e9]); // clamped to the exact max
  });

  it('merges histograms', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(1);
    b.record(3);
    a.add(b);
    expect(a.count).toBe(2);
    const [p50, p100] = a.quantiles([0.5, 1]);
    expect(Math.abs(p50 - 1)).toBeLessThanOrEqual(tolerance(1));
    expect(p100).toBe(3); // clamped to the exact max
  });
});

describe('Histogram.bins (the report’s histograms)', () => {
  it('counts every sample once, in the bin of its value, within the histogram’s accuracy', () => {
    fc.assert(
      fc.property(fc.array(duration, { minLength: 1, maxLength: 300 }), (samples) => {
        const h = new Histogram();
        for (const ms of samples) h.record(ms);
        const edges = [0.001, 0.01, 0.1, 1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7];
        const bins = h.bins(edges);
        expect(bins.reduce((a, b) => a + b, 0)).toBe(samples.length);
        // A sample well inside a bin (not within the accuracy of an edge) is counted in it.
        for (let b = 0; b < bins.length; b++) {
          const inside = samples.filter((ms) => (b === 0 || ms >= edges[b] + tolerance(edges[b])) && (b === bins.length - 1 || ms < edges[b + 1] - tolerance(edges[b + 1]))).length;
          expect(bins[b]).toBeGreaterThanOrEqual(inside);
        }
      }),
    );
  });
});
