/**
 * What the stage core keeps per element and per worker subscription.
 * @internal
 * @module
 */
import type { ElementIndex } from '../errors.js';
import type { Ring } from '../backpressure/ring.js';
import type { Job, WorkerLease } from '../schedulers/scheduler.js';

/** Where a stage subscription is in its life. */
export const State = {
  Running: 0,
  /** Upstream done and every element left: onEnd running before `complete`. */
  Completing: 1,
  /** Failed: onEnd running before `error`. */
  Failing: 2,
  /** Completed, errored or unsubscribed. */
  Closed: 3,
} as const;
export type State = (typeof State)[keyof typeof State];

/**
 * One element inside a stage, from arrival until it leaves (emitted, filtered, skipped or dropped).
 * It is also the {@link Job} handed to a worker lease (one object per element, not two).
 */
export interface Element extends Job {
  readonly seq: number;
  readonly value: unknown;
  readonly elementIndex: ElementIndex;
  /** Its `partitionBy` key (undefined without partitioning). */
  readonly key: unknown;
  /** Runs so far (1 + retries used). */
  attempts: number;
  /** The worker running it, while in work. */
  slot: Slot | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The one output of map, or of filter when kept: no array per element. */
  one: unknown;
  hasOne: boolean;
  /** flatMap: outputs received and not yet emitted, from `outHead` on. */
  outs: unknown[] | undefined;
  outHead: number;
  /** flatMap: outputs emitted so far (the last level of their elementIndex). */
  emitted: number;
  /**
   * flatMap, in work: outputs its job may still send without being asked (the scheduler's output
   * window plus what was requested, less what came); below zero for a push source, which does not ask.
   */
  allowance: number;
  /** Its job is over (answered, or failed for good): once `outs` is empty it can leave. */
  settled: boolean;
  /** In the emit queue (unordered mode). */
  queued: boolean;
  /** Timed out, and its call has not stopped yet: its `partitionBy` key stays busy until it does. */
  holdsKey: boolean;
  /** Left without outputs because it failed (skipped) or was dropped by overflow; for the monitor. */
  lost: 'failed' | 'dropped' | undefined;
  /**
   * Timed by a monitor only: its stamp when it entered the queue, then when it went to work.
   * Undefined when untimed (a monitor may time one element in n): its started/finished hooks are skipped.
   */
  at: number | undefined;
}

/** A worker subscription of this stage: one lease and what the stage knows of it. */
export interface Slot {
  readonly index: number;
  lease: WorkerLease;
  ready: boolean;
  /** Jobs sent to this slot and not settled. */
  busy: number;
  /** In the open list: ready, with room for more jobs. */
  listed: boolean;
  /** A `reclaim` is on its way: do not ask again until it is answered. */
  reclaiming: boolean;
  /** When it last finished a job (or was last given work while idle): how long its queue has waited. */
  progressAt: number;
  /** Automatic batching only: batches sent and not yet settled, oldest first. */
  batches: Ring<{ sentAt: number; remaining: number }> | undefined;
  /** Automatic batching only: when the slot last finished a batch. */
  lastDone: number;
  ending: Promise<void> | undefined;
  /**
   * Timed-out elements whose calls its worker is still in (a lease with `cancelHoldsWorker`): until
   * the lease says they stopped, the slot takes nothing new.
   */
  stuck: Set<Element> | undefined;
}

/** A new element, as it arrives. */
export function newElement(seq: number, value: unknown, elementIndex: ElementIndex, key: unknown): Element {
  return {
    seq,
    value,
    elementIndex,
    key,
    attempts: 0,
    slot: undefined,
    timer: undefined,
    one: undefined,
    hasOne: false,
    outs: undefined,
    outHead: 0,
    emitted: 0,
    allowance: 0,
    settled: false,
    queued: false,
    holdsKey: false,
    lost: undefined,
    at: undefined,
  };
}

/** flatMap: outputs received and not yet emitted. */
export function buffered(el: Element): number {
  return el.outs ? el.outs.length - el.outHead : 0;
}
