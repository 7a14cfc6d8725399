/**
 * A latency histogram of fixed size (HDR-style log-linear buckets), for the monitor: recording is
 * a few arithmetic operations and no allocation, memory does not grow with the samples, and
 * quantiles are accurate to half a bucket.
 *
 * Values are durations in milliseconds, bucketed in microseconds: below {@link EXACT_BELOW} µs each
 * bucket is 1 µs wide; above, each power of two is split into {@link SUB_BUCKETS} equal buckets, so
 * a bucket is at most 1/128 of the values in it wide. A quantile is the middle (below 256 µs: the
 * start) of the bucket that holds the exact (nearest-rank) quantile, clamped to the exact min and
 * max, so it is within max(1 µs, 1/256 of the exact value) of it. Values up to 2^36 µs (19 hours) keep that accuracy;
 * longer ones land in the top bucket (the max stays exact).
 * @internal
 */
export class Histogram {
  /** Counts per bucket. Float64 so that counts stay exact past 2^32. */
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  /** Records `n` samples of `ms` milliseconds (negative values count as 0). */
  record(ms: number, n = 1): void {
    if (!(ms > 0)) ms = 0; // also NaN: a clock that went backwards must not corrupt the buckets
    this.counts[bucketOf(ms * 1000)] += n;
    this.count += n;
    this.sum += ms * n;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /**
   * Nearest-rank quantiles (the ⌈q·count⌉-th smallest sample) for ascending `qs`, in ms; one pass
   * over the buckets. All 0 when there are no samples.
   */
  quantiles(qs: readonly number[]): number[] {
    const out = new Array<number>(qs.length).fill(0);
    if (this.count === 0) return out;
    let q = 0;
    let rank = Math.max(1, Math.ceil(qs[0] * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKETS && q < qs.length; b++) {
      seen += this.counts[b];
      while (q < qs.length && seen >= rank) {
        out[q] = Math.min(this.max, Math.max(this.min, middleOf(b) / 1000));
        q++;
        if (q < qs.length) rank = Math.max(1, Math.ceil(qs[q] * this.count));
      }
    }
    return out;
  }

  /**
   * Samples per bin `[edges[i], edges[i + 1])`, in ms, for `edges.length - 1` bins: each bucket
   * counts at the value that stands for it (as for quantiles); values below `edges[0]` count in
   * the first bin, values from the last edge on in the last.
   */
  bins(edges: readonly number[]): number[] {
    const out = new Array<number>(Math.max(0, edges.length - 1)).fill(0);
    if (out.length === 0 || this.count === 0) return out;
    let bin = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const n = this.counts[b];
      if (n === 0) continue;
      const ms = Math.min(this.max, Math.max(this.min, middleOf(b) / 1000));
      while (bin < out.length - 1 && ms >= edges[bin + 1]) bin++; // buckets ascend: the bin only moves on
      out[bin] += n;
    }
    return out;
  }

  /** Adds another histogram's samples to this one. */
  add(other: Histogram): void {
    for (let b = 0; b < BUCKETS; b++) this.counts[b] += other.counts[b];
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }
}

/** log2 of the number of buckets per power of two. */
const SUB_BITS = 7;
/** Buckets per power of two, above {@link EXACT_BELOW}. */
export const SUB_BUCKETS = 1 << SUB_BITS; // 128
/** Values (µs) below this have 1 µs buckets. */
export const EXACT_BELOW = SUB_BUCKETS << 1; // 256
/** The highest power of two with its own buckets: 2^36 µs ≈ 19 h. */
const TOP_EXPONENT = 35;
const BUCKETS = EXACT_BELOW + (TOP_EXPONENT - SUB_BITS) * SUB_BUCKETS; // 3840, 30 KiB

/** The bucket of a value in µs. @internal */
export function bucketOf(us: number): number {
  if (us < EXACT_BELOW) return Math.floor(us);
  // Math.clz32 only sees 32 bits: above 2^31 µs (36 min) take the exponent from log2, then
  // correct it by one either way for rounding.
  let e: number;
  if (us < 2 ** 31) e = 31 - Math.clz32(us);
  else {
    e = Math.floor(Math.log2(us));
    if (2 ** e > us) e--;
    else if (2 ** (e + 1) <= us) e++;
    if (e > TOP_EXPONENT) return BUCKETS - 1;
  }
  const width = 2 ** (e - SUB_BITS);
  return EXACT_BELOW + (e - SUB_BITS - 1) * SUB_BUCKETS + (Math.floor(us / width) - SUB_BUCKETS);
}

/** The value (µs) that stands for a bucket: its middle, or its start for the 1 µs buckets. @internal */
export function middleOf(bucket: number): number {
  if (bucket < EXACT_BELOW) return bucket; // whole µs: a duration of 0 reads 0
  const octave = Math.floor((bucket - EXACT_BELOW) / SUB_BUCKETS); // 0 for [256, 512)
  const sub = (bucket - EXACT_BELOW) % SUB_BUCKETS;
  const width = 2 ** (octave + 1);
  return (SUB_BUCKETS + sub) * width + width / 2;
}
