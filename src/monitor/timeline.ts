/**
 * What a stage did over time, in fixed-width time buckets, for the HTML report: elements that left
 * the stage and busy worker-ms per bucket. Memory is bounded: past {@link MAX_BUCKETS} buckets,
 * neighbours merge in pairs and the width doubles (every timeline of a monitor together, so they
 * stay aligned). Recording reads no clock: the monitor passes the times it has read anyway.
 * @internal
 */
export class Timeline {
  /** Elements that left the stage, per bucket. */
  readonly left: number[] = [];
  /** Busy worker-ms, per bucket. */
  readonly busy: number[] = [];

  constructor(private readonly clock: TimelineClock) {}

  /** `n` elements left at `t` (ms, the monitor's clock). */
  leave(t: number, n = 1): void {
    const i = this.clock.bucket(t);
    while (this.left.length <= i) this.left.push(0);
    this.left[i] += n;
  }

  /** `ms` worker-ms of work, spread evenly over [from, to]. */
  work(from: number, to: number, ms: number): void {
    if (!(ms > 0) || !(to >= from)) return;
    const last = this.clock.bucket(to); // first: it may widen the buckets
    const first = this.clock.bucket(from);
    while (this.busy.length <= last) this.busy.push(0);
    if (first === last) {
      this.busy[last] += ms;
      return;
    }
    const width = this.clock.width;
    const per = ms / (to - from);
    for (let i = first; i <= last; i++) {
      const start = Math.max(from, this.clock.origin + i * width);
      const end = Math.min(to, this.clock.origin + (i + 1) * width);
      if (end > start) this.busy[i] += per * (end - start);
    }
  }

  /** Merges neighbouring buckets in pairs (the width doubles). */
  halve(): void {
    for (const series of [this.left, this.busy]) {
      const n = Math.ceil(series.length / 2);
      for (let i = 0; i < n; i++) series[i] = series[2 * i] + (series[2 * i + 1] ?? 0);
      series.length = n;
    }
  }
}

/** Buckets per timeline before neighbours merge. */
export const MAX_BUCKETS = 400;

/** The time axis every timeline of one monitor shares. @internal */
export class TimelineClock {
  /** When the monitor first saw a stage (ms, its clock); bucket 0 starts here. */
  origin = NaN;
  /** Bucket width in ms. */
  width: number;
  readonly timelines = new Set<Timeline>();

  constructor(width: number) {
    this.width = width;
  }

  /** The bucket of time `t`, widening every timeline first when it is past the last one. */
  bucket(t: number): number {
    let i = Math.floor((t - this.origin) / this.width);
    if (!(i >= 0)) return 0; // before the origin, or NaN
    while (i >= MAX_BUCKETS) {
      this.width *= 2;
      for (const timeline of this.timelines) timeline.halve();
      i = Math.floor((t - this.origin) / this.width);
    }
    return i;
  }
}
