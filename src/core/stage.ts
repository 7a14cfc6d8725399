/**
 * The stage core: every operator of rxjs-parallel is {@link stage} plus documentation. Calling it
 * captures the config; everything else happens per subscription, in a {@link StageRun}, whose
 * concerns live in their own files: the upstream and its credits (intake.ts), the workers and what
 * they are handed (dispatch.ts), outputs and their order (emit.ts). This file wires them and owns
 * the stage's life: settling elements, failures, completion and teardown.
 * @internal
 * @module
 */
import { Subscription, type Observable, type OperatorFunction } from 'rxjs';
import { isParallelError, StageError, WorkerFunctionError, type ElementIndex } from '../errors.js';
import { PullObservable, toElementIndex, type IndexedObserver, type IndexLike, type PullRequest, type CreditLine } from '../backpressure/credit.js';
import { IN_FLIGHT, NOT_NOW, Threw, type Job, type LeaseSink, type Scheduler, type StageMode, type ValueRun } from '../schedulers/scheduler.js';
import type { ResolvedOptions } from './options.js';
import { SKIP } from './options.js';
import type { Work } from '../shared/task.js';
import { thenOf } from '../shared/thenable.js';
import type { StageGauges, StageProbe } from './probe.js';
import { newElement, State, type Element, type Slot } from './element.js';
import { Ring } from '../backpressure/ring.js';
import { Intake } from './intake.js';
import { Dispatcher } from './dispatch.js';
import { Emitter } from './emit.js';
import { RunLane, type LaneRun } from './lane.js';

/** What an operator hands the stage core. @internal */
export interface StageConfig {
  readonly mode: StageMode;
  readonly fn: Work;
  readonly options: ResolvedOptions;
  /** flatMapOrdered: emit in source order (map/filter take it from `options.ordered`). */
  readonly ordered?: boolean;
  /**
   * The scheduler of one subscription: a name makes a private one (owned: closed when the
   * subscription ends); an instance is shared and left open. Resolved by the operator layer, so
   * that the engine depends on no concrete scheduler.
   */
  readonly scheduler: () => { scheduler: Scheduler; owned: boolean };
}

/** @internal */
export function stage<T, R>(config: StageConfig): OperatorFunction<T, R> {
  return (source: Observable<T>) =>
    new PullObservable<R>(
      (observer, request) => new StageRun(config, source, observer as IndexedObserver<unknown>, request).subscription,
      config.options.name,
      source,
    );
}

/** One subscription of one stage. @internal */
export class StageRun {
  readonly subscription: Subscription;
  readonly o: ResolvedOptions;
  readonly mode: StageMode;
  readonly fn: Work;
  /** Emit in source order. */
  readonly orderedOut: boolean;
  /** Who downstream needs source order (the `ordered()` operator), passed upstream. */
  readonly orderedBy: string | undefined;
  /** Downstream takes a one-level index as a number (PullRequest.numberIndex): the run lane makes no array for it. */
  readonly numberIndex: boolean;
  state: State = State.Running;
  readonly workers: number;
  /** Infinity for `maxsize: 0`. */
  readonly maxsize: number;
  /** Elements in the stage: queued, in work, or done and waiting to be emitted. */
  held = 0;
  /** Ordered output: every element in the stage, in seq order (the head is the next to leave). */
  readonly arrival: Ring<Element> | undefined;
  /** Elements in work on a lease that settles by seq (not `byJob`: a custom scheduler's), by seq. */
  readonly bySeq = new Map<number, Element>();
  /** Elements in work with a timer (only with `timeout`), to stop them all at once. */
  readonly timed: Set<Element> | undefined;
  readonly probe: StageProbe | undefined;
  readonly down: CreditLine;
  readonly intake: Intake;
  readonly dispatcher: Dispatcher;
  readonly emitter: Emitter;
  /** Inside {@link settleMany}: dispatch and emission wait until the results are all in. */
  delivering = false;
  /** Elements travel as runs of values while it is open (see lane.ts). */
  lane: RunLane | undefined;
  /** The sync scheduler's fast lane may run here (see {@link runNow}). */
  private readonly fastLane: boolean;
  private readonly scheduler: Scheduler;
  private readonly ownsScheduler: boolean;
  private nextSeq = 0;
  private ending: Promise<unknown> | undefined;
  /**
   * Inside the constructor (the subscribe call): our Subscription is not yet in downstream's hands,
   * so a downstream that stops inside `next` (take) can only be seen by its `closed`.
   */
  subscribing = true;

  constructor(
    private readonly config: StageConfig,
    source: Observable<unknown>,
    readonly observer: IndexedObserver<unknown>,
    request: PullRequest,
  ) {
    const o = (this.o = config.options);
    this.mode = config.mode;
    this.fn = config.fn;
    this.orderedOut = request.ordered || o.ordered || config.ordered === true;
    if (this.orderedOut) this.arrival = new Ring();
    if (o.timeout !== undefined) this.timed = new Set();
    this.orderedBy = request.orderedBy;
    this.down = request.line;
    this.numberIndex = request.numberIndex === true;
    this.subscription = new Subscription(() => this.teardown());
    this.down.onGrant(() => this.emitter.flush());

    const resolved = config.scheduler();
    this.scheduler = resolved.scheduler;
    this.ownsScheduler = resolved.owned;
    this.workers = o.workers ?? this.scheduler.size ?? 1;
    const maxsize = o.maxsize ?? 2 * this.workers;
    this.maxsize = maxsize;
    this.intake = new Intake(this);
    this.dispatcher = new Dispatcher(this, this.scheduler);
    this.emitter = new Emitter(this, this.mode === 'flat' ? (this.scheduler.outputWindow ?? 0) : 0);
    this.probe = o.monitor?.attach(
      { name: o.name, scheduler: this.scheduler.kind, workers: this.workers, operator: o.operator },
      this.gauges(),
    );
    // Not where an element needs its own state on the way (a timeout, a partition key, a monitor's
    // sample, flatMap's streamed outputs): those go through the queue and dispatch.
    this.fastLane = this.dispatcher.serial && this.mode !== 'flat' && !o.partitionBy && o.timeout === undefined && !this.probe;
    this.dispatcher.openSlots(this.scheduler, (slot) => new SlotSink(this, slot));
    // Nothing element-specific on the way (as for the sync lane, plus batches and leases that take runs).
    if (
      this.mode !== 'flat' &&
      !o.partitionBy &&
      o.timeout === undefined &&
      !this.probe &&
      this.dispatcher.batches &&
      this.dispatcher.slots.every((slot) => slot.lease.runValues !== undefined)
    ) {
      this.lane = new RunLane(this);
      this.dispatcher.queue = this.lane.queue;
    }
    if (this.state === State.Running) this.intake.subscribe(source);
    this.subscribing = false;
  }

  /** The credit bound: elements in work (a batch and its prefetch per worker) plus `maxsize` waiting. */
  capacity(): number {
    return this.workers * this.dispatcher.slotCap + this.maxsize;
  }

  private gauges(): StageGauges {
    const run = this;
    return {
      get queued() {
        return run.dispatcher.queue.length;
      },
      get inWork() {
        return run.dispatcher.inWork;
      },
      get creditsOutstanding() {
        return run.intake.line && !run.intake.push ? run.intake.line.credits : Infinity;
      },
      get held() {
        return run.held;
      },
      get upstream() {
        return run.intake.push ? ('push' as const) : ('pull' as const);
      },
    };
  }

  // ---- upstream ---------------------------------------------------------------------------

  onElement(value: unknown, indexLike: IndexLike | undefined): void {
    if (this.state !== State.Running) return;
    const seq = this.nextSeq++;
    const lane = this.lane;
    if (lane !== undefined && lane.active) {
      lane.push(value, indexLike ?? seq);
      this.held++;
      if (!this.delivering && this.dispatcher.laneDue()) this.dispatcher.dispatch();
      if (this.intake.push && this.dispatcher.queue.length > this.maxsize) this.intake.overflow();
      return;
    }
    const index: ElementIndex = indexLike === undefined ? [seq] : toElementIndex(indexLike);
    let key: unknown;
    if (this.o.partitionBy) {
      try {
        key = this.o.partitionBy(value);
      } catch (error) {
        return this.fail(new StageError(this.o.name, 'partitionBy', index, error));
      }
    }
    const el = newElement(seq, value, index, key);
    if (this.probe) el.at = this.probe.received(el.elementIndex);
    this.held++;
    this.arrival?.push(el);
    if (this.fastLane && this.held === 1 && !this.delivering && !this.emitter.isFlushing && !this.dispatcher.dispatching && this.runNow(el)) return;
    if (!this.delivering && this.dispatcher.sendNow(el)) return;
    this.dispatcher.queue.push(el);
    if (!this.delivering) this.dispatcher.dispatch();
    if (this.intake.push && this.dispatcher.queue.length > this.maxsize) this.intake.overflow();
  }

  /**
   * The sync scheduler's fast lane: an element that arrives at an idle stage (nothing else held) is
   * called at once and, when `fn` answers synchronously and downstream has credit, emitted and gone
   * before `next` returns, without the wait queue, the dispatch loop or the emit queue, each of which
   * would hold it for no one. Whatever else happens (no open slot, a thenable, a throw, no credit)
   * joins the usual path where it stands. False when nothing ran: the element goes the usual way.
   */
  private runNow(el: Element): boolean {
    const d = this.dispatcher;
    const slot = d.openSlot();
    if (!slot?.lease.callNow) return false;
    d.startNow(el, slot);
    // As inside dispatch(): what arrives while fn runs or its result is emitted (a source that fn,
    // or downstream's next, feeds) waits in the queue for its turn, after this element.
    d.dispatching = true;
    let out: unknown;
    try {
      out = slot.lease.callNow(el);
      if (out === NOT_NOW) {
        d.release(el);
        el.attempts--;
      } else if (out !== IN_FLIGHT && this.state <= State.Completing) {
        d.release(el);
        if (out instanceof Threw) this.failed(el, out.error);
        else if (!this.emitter.acceptNow(el, out)) this.emitter.accept(el, out); // no credit: it waits in the emit queue
      }
    } finally {
      d.dispatching = false;
    }
    if (out === NOT_NOW) return false;
    if (d.queue.length > 0) d.dispatch();
    this.endIdleSlots();
    return true;
  }

  /**
   * Leaves the run lane for good (something element-specific is about to happen): every element it
   * holds becomes an Element where it stands, and each lease takes the jobs of its runs as its own.
   */
  leaveLane(): void {
    const lane = this.lane;
    if (lane === undefined || !lane.active) return;
    this.dispatcher.queue = lane.materialize((el) => this.emitter.adopt(el));
    for (const slot of this.dispatcher.slots) slot.lease.leftLane?.();
  }

  /** Results of a run of the lane, from a lease. */
  settleRun(slot: Slot, run: LaneRun, at: number, values: ArrayLike<unknown>, from: number, count: number): void {
    if (run.slot !== slot || this.state > State.Completing || !this.lane?.active) return; // stale: torn down
    this.lane.settle(run, at, values, from, count);
    this.dispatcher.releasedFrom(slot, count);
    if (this.delivering) return; // settleMany emits and dispatches once the message is read
    this.emitter.flush();
    this.dispatcher.dispatch();
    this.endIdleSlots();
  }

  /** An element dropped by overflow: it leaves, in its turn, with nothing to emit. */
  drop(el: Element | undefined): void {
    if (!el) return;
    el.settled = true;
    el.lost = 'dropped';
    this.emitter.ready(el);
  }

  onUpstreamDone(): void {
    this.endIdleSlots();
    this.checkComplete();
  }

  // ---- results (each lease's LeaseSink is a SlotSink calling these) ----------------------------

  /** The element `seq`, if it is in work on `slot` (else the answer is stale: timed out, torn down). */
  inWork(seq: number, slot: Slot): Element | undefined {
    const el = this.bySeq.get(seq);
    return el && el.slot === slot && this.state <= State.Completing ? el : undefined;
  }

  settle(el: Element, value: unknown): void {
    this.dispatcher.release(el);
    if (!this.emitter.acceptNow(el, value)) this.emitter.accept(el, value);
    if (this.delivering) return;
    this.dispatcher.dispatch();
    this.endIdleSlots();
  }

  reject(el: Element, error: unknown): void {
    this.dispatcher.release(el);
    this.failed(el, error);
    if (this.delivering) return;
    this.dispatcher.dispatch();
    this.endIdleSlots();
  }

  /**
   * A batch of results: settle each, then emit what is ready, ask upstream for as many as left,
   * and dispatch, once. The elements upstream sends meanwhile queue up and go out as full batches.
   */
  settleMany(deliver: () => void): void {
    if (this.delivering) return deliver();
    this.delivering = true;
    this.dispatcher.deliveryClock = undefined;
    try {
      deliver();
      this.emitter.flush();
    } finally {
      this.delivering = false;
    }
    this.dispatcher.dispatch();
    this.endIdleSlots();
  }

  /** An element's call failed (or timed out): retry it, or apply `onError`. */
  failed(el: Element, error: unknown): void {
    if (this.state !== State.Running) return;
    // A function that cannot run at all is no element's fault: no retry or onError can help.
    if (isWorkerFunctionError(error)) return this.fail(error);
    // A flatMap element that has emitted outputs is not run again: they would come twice.
    if (el.attempts <= this.o.retries && el.emitted === 0) {
      this.probe?.retried();
      el.outs = undefined;
      el.outHead = 0;
      this.dispatcher.requeue(el); // first in line, so a retried element is not starved
      return;
    }
    el.lost = 'failed';
    const onError = this.o.onError;
    if (onError === 'skip') return this.skipped(el);
    const wrapped = isParallelError(error) ? error : new StageError(this.o.name, 'fn', el.elementIndex, error);
    if (onError === 'throw') {
      // What finished before it (in the same batch of results) and what it streamed before
      // failing goes out first, as far as downstream has credit now: as in-process, element by element.
      if (!this.emitter.isFlushing) this.emitter.flush();
      this.emitter.emitNow(el);
      return this.fail(wrapped);
    }
    let replacement: unknown;
    try {
      replacement = onError(error, el.value, { stage: this.o.name, elementIndex: el.elementIndex, attempts: el.attempts });
      if (thenOf(replacement)) {
        Promise.resolve(replacement).then(
          (value) => this.state === State.Running && this.replaced(el, value),
          (handlerError) => this.fail(new StageError(this.o.name, 'onError', el.elementIndex, handlerError)),
        );
        return;
      }
    } catch (handlerError) {
      return this.fail(new StageError(this.o.name, 'onError', el.elementIndex, handlerError));
    }
    this.replaced(el, replacement);
  }

  private replaced(el: Element, replacement: unknown): void {
    if (replacement === SKIP) this.skipped(el);
    else this.emitter.accept(el, replacement);
  }

  /** Dropped after a failure: what it already streamed stays out; nothing more comes. */
  private skipped(el: Element): void {
    el.settled = true;
    this.emitter.ready(el);
  }

  // ---- endings ----------------------------------------------------------------------------

  /** pypeln's workers end when there is nothing left for them: end idle slots once upstream is done. */
  endIdleSlots(): void {
    if (!this.intake.done || this.dispatcher.queue.length > 0 || this.state !== State.Running) return;
    if (this.dispatcher.mayStealMore()) return; // an idle worker may yet take queued work from a busy one
    for (const slot of this.dispatcher.idleSlots()) {
      this.dispatcher.close(slot);
      this.endSlot(slot);
    }
    this.checkComplete();
  }

  private endSlot(slot: Slot): Promise<void> {
    if (!slot.ending) {
      const d = this.dispatcher;
      d.slotsOpen--;
      slot.ending = slot.lease.end({ done: d.slotsOpen === 0, activeWorkers: d.slotsOpen });
      slot.ending.catch(() => {}); // collected by endAll
    }
    return slot.ending;
  }

  /** Ends every slot once; resolves with the first onEnd error, if any. */
  private endAll(): Promise<unknown> {
    this.ending ??= this.endSlots();
    return this.ending;
  }

  private async endSlots(): Promise<unknown> {
    this.dispatcher.closeAll();
    const slots = this.dispatcher.slots;
    for (const slot of slots) this.endSlot(slot);
    const results = await Promise.allSettled(slots.map((s) => s.ending));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.ownsScheduler) await this.scheduler.close().catch(() => {});
    return failure && (isParallelError(failure.reason) ? failure.reason : new StageError(this.o.name, 'onEnd', undefined, failure.reason));
  }

  checkComplete(): void {
    if (this.state !== State.Running || !this.intake.done || this.held > 0 || this.emitter.isFlushing) return;
    this.state = State.Completing;
    void this.endAll().then((error) => {
      if (this.state !== State.Completing) return;
      this.state = State.Closed;
      this.probe?.ended(error ? 'error' : 'complete');
      if (error) this.observer.error(error);
      else this.observer.complete();
    });
  }

  /** Fails the stage once: stop intake, end every worker (onEnd), then error downstream. */
  fail(error: unknown): void {
    if (this.state >= State.Failing) return;
    this.state = State.Failing;
    this.stopIntake();
    void this.endAll().then(() => {
      if (this.state !== State.Failing) return;
      this.state = State.Closed;
      this.probe?.ended('error');
      this.observer.error(error);
    });
  }

  private stopIntake(): void {
    this.intake.stop();
    this.dispatcher.stopTimers();
    this.dispatcher.queue.clear();
    this.emitter.clear();
  }

  /** Downstream unsubscribed (or the subscription ended): release everything, emit nothing. */
  private teardown(): void {
    const running = this.state !== State.Closed;
    this.state = State.Closed;
    if (!running) return;
    this.probe?.ended('unsubscribe');
    this.stopIntake();
    this.bySeq.clear();
    void this.endAll();
  }
}

/** What one lease reports to: the stage, knowing which slot answers (so a stale answer is told apart). */
class SlotSink implements LeaseSink {
  constructor(
    private readonly run: StageRun,
    private readonly slot: Slot,
  ) {}

  resolve(seq: number, value: unknown): void {
    const el = this.run.inWork(seq, this.slot);
    if (el) this.run.settle(el, value);
  }

  settleJob(job: Job, ok: boolean, value: unknown): void {
    const el = job as Element;
    if (el.slot !== this.slot || this.run.state > State.Completing) return; // stale: timed out, torn down
    if (ok) this.run.settle(el, value);
    else this.run.reject(el, value);
  }

  reject(seq: number, error: unknown): void {
    const el = this.run.inWork(seq, this.slot);
    if (el) this.run.reject(el, error);
  }

  outputs(seq: number, values: readonly unknown[]): void {
    const el = this.run.inWork(seq, this.slot);
    if (el && this.run.mode === 'flat') this.run.emitter.outputs(el, values);
  }

  outputsJob(job: Job, values: readonly unknown[]): void {
    const el = job as Element;
    if (el.slot === this.slot && this.run.state <= State.Completing && this.run.mode === 'flat') this.run.emitter.outputs(el, values);
  }

  stopped(job: Job): void {
    this.run.dispatcher.stopped(job as Element, this.slot);
  }

  reclaimed(jobs: readonly Job[]): void {
    if (this.run.state > State.Completing) return;
    this.run.dispatcher.reclaimed(this.slot, jobs as readonly Element[]);
    this.run.dispatcher.dispatch();
  }

  began(job: Job): void {
    this.run.dispatcher.began(job as Element, this.slot);
  }

  resent(jobs: readonly Job[], paused = false): void {
    if (this.run.state === State.Running) this.run.dispatcher.resent(this.slot, jobs as readonly Element[], paused);
  }

  settleMany(deliver: () => void): void {
    this.run.settleMany(deliver);
  }

  settleRun(run: ValueRun, at: number, values: ArrayLike<unknown>, from: number, count: number): void {
    this.run.settleRun(this.slot, run as LaneRun, at, values, from, count);
  }

  leaveLane(): void {
    this.run.leaveLane();
  }

  settleAll(jobs: readonly Job[], values: readonly unknown[]): void {
    const run = this.run;
    if (!run.delivering || !run.dispatcher.releasesInBulk(this.slot)) {
      for (let i = 0; i < jobs.length; i++) this.settleJob(jobs[i], true, values[i]);
      return;
    }
    let n = 0;
    for (let i = 0; i < jobs.length; i++) {
      const el = jobs[i] as Element;
      if (el.slot !== this.slot || run.state > State.Completing) continue; // stale: timed out, torn down
      el.slot = undefined;
      n++;
      run.emitter.accept(el, values[i]);
    }
    run.dispatcher.releasedFrom(this.slot, n);
  }
}

function isWorkerFunctionError(error: unknown): boolean {
  try {
    return error instanceof WorkerFunctionError;
  } catch {
    return false;
  }
}
