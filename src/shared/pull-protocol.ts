/**
 * The demand protocol between rxjs-parallel's stages, pull sources and sinks, without RxJS, so that
 * the worker runtime can recognise a pull-aware Observable returned by a flatMap function.
 * @internal
 * @module
 */
import type { ElementIndex } from '../errors.js';

/**
 * In the spirit of Reactive Streams' `request(n)`: the consumer owns a CreditLine and grants
 * credits; the producer emits one item per credit and waits (via `onGrant`) when it has none.
 * @internal
 */
export class CreditLine {
  private available: number;
  private waiting: (() => void) | undefined = undefined;

  constructor(initial = 0) {
    this.available = initial;
  }

  /** Items the producer may still emit (below zero after a {@link charge}). */
  get credits(): number {
    return this.available;
  }

  /** Lets the producer emit `n` more items (Infinity: unbounded). */
  grant(n: number): void {
    this.available += n;
    this.waiting?.();
  }

  /** Spends one credit; false when there is none. */
  take(): boolean {
    if (this.available <= 0) return false;
    this.available--;
    return true;
  }

  /**
   * Records `n` items that reached the consumer without a credit of their own (an operator between
   * the two emitted several values for one): the producer waits until they are paid for.
   */
  charge(n: number): void {
    this.available -= n;
  }

  /** Registers the producer's wake-up, called after every grant. */
  onGrant(wake: () => void): void {
    this.waiting = wake;
  }
}

/**
 * An element index as a producer hands it on: an {@link ElementIndex}, or, to a consumer whose
 * request has `numberIndex`, the number `n` for the one-level index `[n]` (a source's own position:
 * no array is made per element where nothing needs one). @internal
 */
export type IndexLike = ElementIndex | number;

/** The {@link ElementIndex} an {@link IndexLike} stands for. @internal */
export function toElementIndex(index: IndexLike): ElementIndex {
  return typeof index === 'number' ? [index] : index;
}

/** What a credit-aware producer pushes: values with their element index. @internal */
export interface IndexedObserver<T> {
  /** True once the consumer has unsubscribed: a producer looping synchronously must stop. */
  readonly closed: boolean;
  /**
   * `index` is undefined for a value an operator emitted on its own (the chain is broken); a number
   * only when the request had `numberIndex`.
   */
  next(value: T, index: IndexLike | undefined): void;
  error(error: unknown): void;
  complete(): void;
}

/** How a consumer subscribes to a credit-aware upstream. @internal */
export interface PullRequest {
  /** The consumer's credit line: the producer emits only against it. */
  readonly line: CreditLine;
  /** Ask every stage upstream to emit in source order. */
  readonly ordered: boolean;
  /**
   * The consumer takes a one-level index as a plain number (see {@link IndexLike}). A producer of
   * another copy of the library that does not know this sends arrays, which every consumer takes.
   */
  readonly numberIndex?: boolean;
  /**
   * Set by `ordered()` (and passed up by the stages that obey it): who needs source order. An
   * upstream that cannot keep it (a broken chain) must fail rather than deliver out of order.
   */
  readonly orderedBy?: string;
  /**
   * An operator between the producer and this consumer emitted a value on its own, outside the
   * delivery of an upstream value (it delays or merges): credits no longer pace what arrives. The
   * consumer treats its upstream as push from now on (or fails, if it needs source order).
   * `chain` describes the operators from the consumer up.
   */
  readonly onBreak?: (chain: string) => void;
}

/** The key under which a pull-aware Observable keeps its pull subscribe. Shared by every copy of the library. */
export const kPull: unique symbol = Symbol.for('rxjs-parallel.pull') as never;

/** The producer side: subscribe with an indexed observer and a credit line. @internal */
export type PullSubscribe<T> = (observer: IndexedObserver<T>, request: PullRequest) => { unsubscribe(): void };

/** Anything that speaks the demand protocol (a stage's Observable, `fromIterable`, `ordered()`). @internal */
export interface PullSource<T> {
  readonly [kPull]: PullSubscribe<T>;
}

/** True when `source` speaks the demand protocol. @internal */
export function isPullSource<T>(source: unknown): source is PullSource<T> {
  return typeof source === 'object' && source !== null && typeof (source as Partial<PullSource<T>>)[kPull] === 'function';
}
