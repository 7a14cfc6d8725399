/**
 * The stage's upstream: subscribing it (pull, with credits; or push), the credit bound, and the
 * overflow policy of a push upstream.
 * @internal
 * @module
 */
import { Subscriber, type Observable, type Subscription } from 'rxjs';
import { BufferOverflowError, OrderingError } from '../errors.js';
import { CreditLine, isPullObservable, subscribePull, type IndexedObserver, type IndexLike } from '../backpressure/credit.js';
import { State } from './element.js';
import type { StageRun } from './stage.js';

export class Intake {
  /** Credits granted to a pull upstream (undefined: it pushes). */
  line: CreditLine | undefined;
  /** The upstream pushes: a plain Observable, or a pull chain an operator broke. */
  push = false;
  /** The upstream completed. */
  done = false;
  private subscription: Subscription | undefined;

  constructor(readonly run: StageRun) {}

  subscribe(source: Observable<unknown>): void {
    const run = this.run;
    if (isPullObservable(source)) {
      // The credits go with the subscription, not after it: an upstream that emits as it is
      // subscribed (a stage of the sync scheduler over a synchronous source) finds them there.
      this.line = new CreditLine(this.run.capacity());
      this.subscription = subscribePull(source, new IntakeObserver(this), {
        line: this.line,
        ordered: run.orderedOut,
        orderedBy: run.orderedBy,
        numberIndex: true,
        onBreak: (chain) => this.broken(chain),
      });
      this.topUp();
    } else {
      this.push = true;
      // A Subscriber of our own, made before subscribing: a synchronous source checks its `closed`,
      // so an unsubscribe from downstream during `subscribe` (take(n) on the sync scheduler) stops it.
      const subscriber = new Subscriber<unknown>({
        next: (value: unknown) => run.onElement(value, undefined),
        error: (error: unknown) => run.fail(error),
        complete: () => this.completed(),
      });
      this.subscription = subscriber;
      source.subscribe(subscriber);
    }
    // The upstream may have ended, or the stage failed, synchronously inside subscribe.
    if (this.done || run.state >= State.Failing) this.stop();
  }

  /**
   * Keeps what the stage holds plus the credits outstanding at the bound: `workers × slot capacity
   * + maxsize`. Granting up to the bound (not one per element that leaves) keeps it exact when the
   * bound shrinks (an automatic batch that halves) and when an operator between two stages drops
   * values or emits several for one.
   */
  topUp(): void {
    const line = this.line;
    if (!line || this.push || this.done || this.run.state !== State.Running) return;
    const want = this.run.capacity() - this.run.held - line.credits;
    if (want > 0) line.grant(want);
  }

  /** An operator between the upstream stage and this one emits on its own: credits no longer pace it. */
  private broken(chain: string): void {
    const run = this.run;
    if (run.orderedBy) {
      run.fail(new OrderingError(`${run.orderedBy} ← ${run.o.name} ← ${chain}`, 'an operator before this stage emits on its own, in its own order'));
      return;
    }
    this.push = true;
    this.line?.grant(Infinity); // from now on it pushes; `overflow` applies to what waits here
  }

  /** A push upstream put more than `maxsize` items in the queue. */
  overflow(): void {
    const run = this.run;
    switch (run.o.overflow) {
      case 'buffer':
        return;
      case 'error':
        return run.fail(new BufferOverflowError(run.o.name, run.maxsize));
      case 'dropOldest':
        run.leaveLane(); // a dropped element leaves as an Element, in its turn
        return run.drop(run.dispatcher.queue.dropOldest());
      case 'dropNewest':
        run.leaveLane();
        return run.drop(run.dispatcher.queue.dropNewest());
    }
  }

  /** @internal The upstream completed (see {@link IntakeObserver}). */
  completed(): void {
    if (this.run.state !== State.Running) return;
    this.done = true;
    this.subscription = undefined;
    this.run.onUpstreamDone();
  }

  stop(): void {
    const subscription = this.subscription;
    this.subscription = undefined;
    subscription?.unsubscribe();
  }
}

/**
 * What a pull upstream delivers to. A class, not an object literal: a literal with a getter gets a
 * map of its own per subscription, and a closure per subscription is a new call target, so the
 * upstream's optimized loop was thrown away at each new subscription (a pipeline per request).
 */
class IntakeObserver implements IndexedObserver<unknown> {
  constructor(private readonly intake: Intake) {}
  get closed(): boolean {
    return this.intake.run.state !== State.Running;
  }
  next(value: unknown, index: IndexLike | undefined): void {
    this.intake.run.onElement(value, index);
  }
  error(error: unknown): void {
    this.intake.run.fail(error);
  }
  complete(): void {
    this.intake.completed();
  }
}
