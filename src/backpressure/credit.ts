import { Observable, Subscriber, Subscription, type Operator, type TeardownLogic } from 'rxjs';
import {
  CreditLine,
  isPullSource,
  kPull,
  type IndexedObserver,
  type IndexLike,
  type PullRequest,
  type PullSubscribe,
} from '../shared/pull-protocol.js';

export { CreditLine, toElementIndex, type IndexedObserver, type IndexLike, type PullRequest, type PullSubscribe } from '../shared/pull-protocol.js';

/**
 * An ordinary Observable that also speaks the demand protocol. A plain `subscribe` gets unbounded
 * credit; one of our stages (or `toAsyncIterable`) subscribes through {@link subscribePull} instead.
 *
 * Credits also travel through ordinary RxJS operators applied to it: RxJS builds every pipeable
 * operator with `source.lift(operator)`, and this class answers `lift` with another PullObservable
 * (a {@link Hop}) that passes the consumer's request up and keeps the count right — a value the
 * operator drops gives its credit back, a value it emits beyond the first for one input is charged.
 * An operator that emits on its own, outside the delivery of an upstream value (`delay`,
 * `mergeMap` over async inners, `bufferTime`...), breaks the chain: the consumer is told
 * (`PullRequest.onBreak`) and treats its upstream as push from then on.
 * @internal
 */
export class PullObservable<T> extends Observable<T> {
  readonly [kPull]: PullSubscribe<T>;

  constructor(
    pull: PullSubscribe<T>,
    /** How this link is named in a chain description (`mapParallel#1`, `fromIterable`...). */
    readonly label: string,
    /** What it was applied to, for the chain description. */
    readonly upstream?: Observable<unknown>,
  ) {
    super();
    this[kPull] = pull;
  }

  /** A plain subscribe: from an operator that is passing a pull request on (see {@link Hop}), or unbounded. */
  protected _subscribe(subscriber: Subscriber<T>): TeardownLogic {
    const claim = claimRequest(this);
    if (claim) return this[kPull](claim.observer(subscriber), claim.request);
    return this[kPull](plainObserver(subscriber), { line: new CreditLine(Infinity), ordered: false, numberIndex: true }); // it drops indexes
  }

  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    if (!operator) return super.lift(operator);
    return new PullObservable<R>(
      (observer, request) => subscribeThrough(this, operator, observer, request),
      'an RxJS operator',
      this,
    );
  }
}

function plainObserver<T>(subscriber: Subscriber<T>): IndexedObserver<T> {
  return new PlainObserver(subscriber);
}

/** A class, not an object literal, for a stable map and call targets across subscriptions (see IntakeObserver). */
class PlainObserver<T> implements IndexedObserver<T> {
  constructor(private readonly subscriber: Subscriber<T>) {}
  get closed(): boolean {
    return this.subscriber.closed;
  }
  next(value: T): void {
    this.subscriber.next(value);
  }
  error(error: unknown): void {
    this.subscriber.error(error);
  }
  complete(): void {
    this.subscriber.complete();
  }
}

/** True when `source` speaks the demand protocol. @internal */
export function isPullObservable<T>(source: Observable<T>): source is PullObservable<T> {
  return isPullSource(source);
}

/** Subscribes to a credit-aware upstream. @internal */
export function subscribePull<T>(source: PullObservable<T>, observer: IndexedObserver<T>, request: PullRequest): Subscription {
  const teardown = source[kPull](observer, request);
  return teardown instanceof Subscription ? teardown : new Subscription(() => teardown.unsubscribe());
}

/**
 * `ordered() ← an RxJS operator ← mapParallel#1 ← fromIterable`: the links from `from` up, as far
 * as they can be followed. @internal
 */
export function describeChain(from: Observable<unknown> | undefined, first?: string): string {
  const links: string[] = first ? [first] : [];
  for (let at = from, n = 0; at && n < 32; n++) {
    if (at instanceof PullObservable) {
      links.push(at.label);
      at = at.upstream;
    } else {
      links.push(isPullSource(at) ? 'a pull-aware Observable' : 'an Observable that is not an rxjs-parallel stage or fromIterable');
      break;
    }
  }
  return links.join(' ← ');
}

// ---- carrying a request through an operator -----------------------------------------------

/** A request on its way to `source`: claimed by the source's plain subscribe while the operator subscribes it. */
interface Claim {
  readonly source: PullObservable<unknown>;
  readonly request: PullRequest;
  observer(subscriber: Subscriber<unknown>): IndexedObserver<unknown>;
}

/** Requests being passed through operators right now (operators subscribe their source synchronously). */
const claims: Claim[] = [];

function claimRequest(source: PullObservable<unknown>): Claim | undefined {
  for (let i = claims.length - 1; i >= 0; i--) {
    if (claims[i].source === source) return claims.splice(i, 1)[0];
  }
  return undefined;
}

/** Subscribes `operator` over `source` for a pull consumer: the operator's own subscribe of `source` carries the request. */
function subscribeThrough<T, R>(
  source: PullObservable<T>,
  operator: Operator<T, R>,
  observer: IndexedObserver<R>,
  request: PullRequest,
): Subscription {
  const hop = new Hop<T, R>(source, observer, request);
  const subscriber = new Subscriber<R>({
    next: (value: R) => hop.emit(value),
    error: (error: unknown) => observer.error(error),
    complete: () => observer.complete(),
  });
  const claim: Claim = { source: source as PullObservable<unknown>, request, observer: (s) => hop.upstreamObserver(s as Subscriber<T>) };
  claims.push(claim);
  hop.delivering++; // what the operator emits as it is subscribed (startWith) is no sign of a broken chain
  try {
    subscriber.add(operator.call(subscriber, source));
  } finally {
    hop.delivering--;
    const i = claims.indexOf(claim);
    if (i >= 0) claims.splice(i, 1); // the operator did not subscribe its source now (subscribeOn...)
  }
  return subscriber;
}

/**
 * One operator between a producer and a consumer of the demand protocol. Counts what the operator
 * emits while it handles each upstream value: none (dropped: the credit goes back), one (as
 * granted), more (charged). A value emitted at any other time means the operator delays or merges.
 */
class Hop<T, R> {
  delivering = 0;
  private emitted = 0;
  private index: IndexLike | undefined = undefined;
  private broken = false;

  constructor(
    private readonly source: PullObservable<T>,
    private readonly down: IndexedObserver<R>,
    private readonly request: PullRequest,
  ) {}

  /** What the upstream producer delivers to: the operator's own subscriber, counted. */
  upstreamObserver(subscriber: Subscriber<T>): IndexedObserver<T> {
    return new HopObserver(this, subscriber);
  }

  /** A value from upstream, handed to the operator: what it emits meanwhile is this value's. */
  deliver(subscriber: Subscriber<T>, value: T, index: IndexLike | undefined): void {
    const outerIndex = this.index; // a value delivered while another is (re-entrant producers)
    const outerEmitted = this.emitted;
    this.index = index;
    this.emitted = 0;
    this.delivering++;
    try {
      subscriber.next(value);
    } finally {
      this.delivering--;
      const emitted = this.emitted;
      this.index = outerIndex;
      this.emitted = outerEmitted;
      if (!this.broken) {
        if (emitted === 0) this.request.line.grant(1);
        else if (emitted > 1) this.request.line.charge(emitted - 1);
      }
    }
  }

  /** The consumer, for {@link HopObserver}. */
  get consumer(): IndexedObserver<R> {
    return this.down;
  }

  /** @internal */
  during(fn: () => void): void {
    this.delivering++;
    try {
      fn();
    } finally {
      this.delivering--;
    }
  }

  emit(value: R): void {
    if (this.delivering > 0) this.emitted++;
    else if (!this.broken) {
      this.broken = true;
      this.request.onBreak?.(describeChain(this.source, 'an RxJS operator that emits on its own (it delays or merges)'));
      if (this.down.closed) return; // the consumer failed rather than take values out of order
    }
    this.down.next(value, this.delivering > 0 ? this.index : undefined);
  }
}

/** The operator's own subscriber, as the upstream producer sees it; a class for a stable map (see PlainObserver). */
class HopObserver<T, R> implements IndexedObserver<T> {
  constructor(
    private readonly hop: Hop<T, R>,
    private readonly subscriber: Subscriber<T>,
  ) {}
  // Closed too once the consumer is: one that stopped while it was still being subscribed
  // (take(n) over the sync scheduler) has not yet unsubscribed anything.
  get closed(): boolean {
    return this.subscriber.closed || this.hop.consumer.closed;
  }
  next(value: T, index: IndexLike | undefined): void {
    this.hop.deliver(this.subscriber, value, index);
  }
  // What an operator emits while it handles the upstream's error is not the upstream's: a
  // fallback it switched to (catchError) breaks the chain. On complete, it is what it held back.
  error(error: unknown): void {
    this.subscriber.error(error);
  }
  complete(): void {
    this.hop.during(() => this.subscriber.complete());
  }
}
