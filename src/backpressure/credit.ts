import { Observable, type Subscriber, type Subscription } from 'rxjs';
import type { ElementIndex } from '../errors.js';

/**
 * The demand protocol between rxjs-parallel's stages and pull sources, in the spirit of Reactive
 * Streams' `request(n)`. The consumer owns a CreditLine and grants credits; the producer emits one
 * item per credit and waits (via `onGrant`) when it has none.
 * @internal
 */
export class CreditLine {
  private available: number;
  private waiting: (() => void) | undefined = undefined;

  constructor(initial = 0) {
    this.available = initial;
  }

  /** Items the producer may still emit. */
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

  /** Registers the producer's wake-up, called after every grant. */
  onGrant(wake: () => void): void {
    this.waiting = wake;
  }
}

/** What a credit-aware producer pushes: values with their element index. @internal */
export interface IndexedObserver<T> {
  /** True once the consumer has unsubscribed: a producer looping synchronously must stop. */
  readonly closed: boolean;
  next(value: T, index: ElementIndex): void;
  error(error: unknown): void;
  complete(): void;
}

/** How a downstream stage subscribes to a credit-aware upstream. @internal */
export interface PullRequest {
  /** The consumer's credit line: the producer emits only against it. */
  readonly line: CreditLine;
  /** Ask every stage upstream to emit in source order (the `ordered()` operator). */
  readonly ordered: boolean;
}

const kPull = Symbol.for('rxjs-parallel.pull');

/** The producer side: subscribe with an indexed observer and a credit line. @internal */
export type PullSubscribe<T> = (observer: IndexedObserver<T>, request: PullRequest) => Subscription;

/**
 * An ordinary Observable that also speaks the demand protocol. A plain `subscribe` gets unbounded
 * credit; one of our stages subscribes through {@link subscribePull} instead.
 * @internal
 */
export class PullObservable<T> extends Observable<T> {
  readonly [kPull]: PullSubscribe<T>;

  constructor(pull: PullSubscribe<T>) {
    super((subscriber: Subscriber<T>) =>
      pull(
        {
          get closed() {
            return subscriber.closed;
          },
          next: (value) => subscriber.next(value),
          error: (error) => subscriber.error(error),
          complete: () => subscriber.complete(),
        },
        { line: new CreditLine(Infinity), ordered: false },
      ),
    );
    this[kPull] = pull;
  }
}

/** True when `source` speaks the demand protocol. @internal */
export function isPullObservable<T>(source: Observable<T>): source is PullObservable<T> {
  return typeof (source as Partial<PullObservable<T>>)[kPull] === 'function';
}

/** Subscribes to a credit-aware upstream. @internal */
export function subscribePull<T>(
  source: PullObservable<T>,
  observer: IndexedObserver<T>,
  request: PullRequest,
): Subscription {
  return source[kPull](observer, request);
}
