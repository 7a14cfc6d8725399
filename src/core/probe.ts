import type { ElementIndex } from '../errors.js';

/**
 * What the stage core reports to an attached monitor. The core calls these only when a monitor is
 * attached (`if (probe)`), so a stage without one does no extra work per element.
 * @internal
 */
export interface StageProbe {
  /**
   * An element entered the stage's queue. Returns the time (monitor's clock, ms) to stamp it with,
   * or `undefined` to leave it untimed: then `started` and `finished` are not called for it, so
   * that a monitor timing one element in n costs the others nothing. The monitor owns the clock,
   * so that a test can inject one and each hook reads it once. `index` is the element's index
   * (its first number identifies the source element across stages: end-to-end latency).
   */
  received(index: ElementIndex): number | undefined;
  /**
   * A timed element was handed to a worker; `enqueuedAt` is its stamp (from `received`, or from
   * `finished` for a retry). Returns the time it went to work. The gauges do not count it in work yet.
   */
  started(count: number, enqueuedAt: number): number;
  /**
   * A timed element's call finished (well or not); `startedAt` is the stamp `started` returned.
   * Returns the time it left the worker (where a retried element's queue wait starts). The gauges
   * still count it in work.
   */
  finished(startedAt: number): number;
  /** A failed or timed-out element went back to the queue for another run. */
  retried(): void;
  /** An element timed out. */
  timedOut(): void;
  /**
   * An element left the stage: `'emitted'` (with `outputs` values; eachParallel: 0), `'filtered'`
   * (no outputs: a falsy predicate, an empty flatMap result), `'failed'` (its call failed for good:
   * skipped, or recovered by an onError function — then with the replacement's outputs), or
   * `'dropped'` by overflow. `index` is the element's index, as given to `received`.
   */
  left(how: 'emitted' | 'filtered' | 'failed' | 'dropped', outputs: number, index: ElementIndex): void;
  /** The stage subscription ended: `'complete'`, `'error'` or `'unsubscribe'`. */
  ended(how: 'complete' | 'error' | 'unsubscribe'): void;
}

/** Gauges a monitor can read from a live stage at any time. @internal */
export interface StageGauges {
  /** Elements queued, waiting for a worker. */
  readonly queued: number;
  /** Elements in work. */
  readonly inWork: number;
  /** Credits granted upstream and not yet used (Infinity for a push upstream). */
  readonly creditsOutstanding: number;
  /** Elements in the stage: queued, in work, or finished and waiting to be emitted. */
  readonly held: number;
  /** Whether credits pace the upstream (`'pull'`) or it pushes (`'push'`: a plain Observable, or a broken chain). */
  readonly upstream: 'pull' | 'push';
}

/** What a monitor implements to be attached to stages (the `monitor` option). @internal */
export interface StageMonitor {
  attach(stage: { name: string; scheduler: string; workers: number; operator: string }, gauges: StageGauges): StageProbe;
}
