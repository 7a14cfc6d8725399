import { Subscription, type Observable, type OperatorFunction } from 'rxjs';
import {
  BufferOverflowError,
  ParallelError,
  StageError,
  TaskTimeoutError,
  type ElementIndex,
} from '../errors.js';
import {
  CreditLine,
  isPullObservable,
  PullObservable,
  subscribePull,
  type IndexedObserver,
  type PullRequest,
} from '../backpressure/credit.js';
import { Ring } from '../backpressure/ring.js';
import { resolveScheduler } from '../schedulers/resolve.js';
import type { Job, LeaseSink, Scheduler, StageMode, WorkerLease } from '../schedulers/scheduler.js';
import type { ResolvedOptions } from './options.js';
import type { Work } from './task.js';
import { collectOutputs } from './outputs.js';
import { AutoBatch } from './auto-batch.js';
import type { StageGauges, StageProbe } from './probe.js';

/** What an operator hands the stage core. @internal */
export interface StageConfig {
  readonly mode: StageMode;
  readonly fn: Work;
  readonly options: ResolvedOptions;
  /** flatMapOrdered: emit in source order (map/filter take it from `options.ordered`). */
  readonly ordered?: boolean;
}

/**
 * The stage core: every operator of rxjs-parallel is this function plus documentation. Calling it
 * captures the config; everything else happens per subscription, in {@link StageRun}.
 * @internal
 */
export function stage<T, R>(config: StageConfig): OperatorFunction<T, R> {
  return (source: Observable<T>) =>
    new PullObservable<R>((observer, request) => new StageRun<T, R>(config, source, observer, request).subscription);
}

/**
 * One element inside a stage, from arrival until it leaves (emitted, filtered, skipped or dropped).
 * It is also the {@link Job} handed to a worker lease (one object per element, not two).
 */
interface Element extends Job {
  readonly seq: number;
  readonly value: unknown;
  readonly elementIndex: ElementIndex;
  /** Runs so far (1 + retries used). */
  attempts: number;
  /** The worker running it, while in work. */
  slot: Slot | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Outputs not yet emitted, from `outPos` on (flatMap). */
  outs: unknown[] | undefined;
  /** The one output of map, or of filter when kept: no array per element. */
  one: unknown;
  hasOne: boolean;
  /** Outputs emitted so far. */
  outPos: number;
  /** Finished: no more outputs will come. */
  settled: boolean;
  /** In `emitQueue` (unordered mode). */
  queued: boolean;
  /** Left without outputs because it failed (skipped) or was dropped by overflow; for the monitor. */
  lost: 'failed' | 'dropped' | undefined;
  /**
   * Timed by a monitor only: its stamp when it entered the queue, then when it went to work.
   * Undefined when untimed (a monitor may time one element in n): its started/finished hooks are skipped.
   */
  at: number | undefined;
}

/** A worker subscription of this stage. */
interface Slot {
  readonly index: number;
  readonly lease: WorkerLease;
  ready: boolean;
  /** Jobs sent to this slot and not settled. */
  busy: number;
  /** In `open`: it has room for more jobs. */
  listed: boolean;
  /** Automatic batching only: batches sent and not yet settled, oldest first. */
  batches: Ring<{ sentAt: number; remaining: number }> | undefined;
  /** Automatic batching only: when the slot last finished a batch. */
  lastDone: number;
  ending: Promise<void> | undefined;
}

const enum State {
  Running,
  /** Upstream done and every element left: onEnd running before `complete`. */
  Completing,
  /** Failed: onEnd running before `error`. */
  Failing,
  /** Completed, errored or unsubscribed. */
  Closed,
}

/** One subscription of one stage. @internal */
class StageRun<T, R> implements LeaseSink {
  readonly subscription: Subscription;
  private readonly o: ResolvedOptions;
  private readonly mode: StageMode;
  private readonly orderedOut: boolean;
  private state = State.Running;

  private scheduler!: Scheduler;
  private ownsScheduler = false;
  private readonly slots: Slot[] = [];
  /** Ready slots with room for more jobs. */
  private readonly open: Slot[] = [];
  /** Elements a slot may hold queued behind its batch in work: the scheduler's prefetch (0 with a timeout). */
  private prefetch = 0;
  /** Jobs one slot may hold, a batch in work and those queued behind it: see {@link capacityFor}. */
  private slotCap = 1;
  private slotsOpen = 0;
  /** In-process serial execution (sync scheduler): one element in work at a time. */
  private serial = false;
  private inWork = 0;
  private batch: AutoBatch | number = 1;

  private readonly queue = new Ring<Element>();
  /** Every element in the stage, by seq. */
  private readonly elements = new Map<number, Element>();
  /** Unordered mode: elements with something to emit or ready to leave, in completion order. */
  private readonly emitQueue = new Ring<Element>();
  private nextSeq = 0;
  /** Ordered mode: the seq that must leave next. */
  private headSeq = 0;

  private upstream: Subscription | undefined;
  private upLine: CreditLine | undefined;
  private upstreamDone = false;
  private granted = 0;
  private readonly down: CreditLine;

  private ending: Promise<unknown> | undefined;
  private readonly probe: StageProbe | undefined;
  private dispatching = false;
  private dispatchAgain = false;
  private flushing = false;
  private flushAgain = false;
  /** Inside {@link settleMany}: dispatch and emission wait until the results are all in. */
  private delivering = false;
  /** Elements that left since the last grant upstream (granted once per flush, not once each). */
  private owed = 0;

  constructor(
    private readonly config: StageConfig,
    source: Observable<T>,
    private readonly observer: IndexedObserver<R>,
    request: PullRequest,
  ) {
    this.o = config.options;
    this.mode = config.mode;
    this.orderedOut = request.ordered || this.o.ordered || config.ordered === true;
    this.down = request.line;
    this.subscription = new Subscription(() => this.teardown());
    this.down.onGrant(() => this.flush());

    const resolved = resolveScheduler(this.o.scheduler, this.o.workers);
    this.scheduler = resolved.scheduler;
    this.ownsScheduler = resolved.owned;
    this.serial = this.scheduler.kind === 'sync';
    // A remote worker with batches queued behind the one in work never waits for a round trip.
    // Not with a timeout, which must measure the call alone, not its wait in the worker's queue.
    if (this.o.timeout === undefined) this.prefetch = this.scheduler.prefetch ?? 0;
    if (this.scheduler.batching && this.o.batchSize !== 1) {
      this.batch = this.o.batchSize === 'auto' ? new AutoBatch() : this.o.batchSize;
    }
    this.slotCap = this.capacityFor(this.batchLimit());
    this.probe = this.o.monitor?.attach(
      { name: this.o.name, scheduler: this.scheduler.kind, workers: this.o.workers, operator: this.o.operator },
      this.gauges(),
    );
    this.openSlots();
    if (this.state !== State.Running) return;

    const capacity = this.o.workers * this.slotCap + this.o.maxsize;
    if (isPullObservable(source)) {
      this.upLine = new CreditLine(0);
      this.granted = capacity;
      this.upstream = subscribePull(source, this.upstreamObserver(), { line: this.upLine, ordered: this.orderedOut });
      if (this.state === State.Running) this.upLine.grant(capacity);
    } else {
      this.upstream = source.subscribe({
        next: (value) => this.onUpstream(value, [this.nextSeq]),
        error: (error) => this.fail(error),
        complete: () => this.onUpstreamComplete(),
      });
    }
    // The upstream may have ended, or the stage failed, synchronously inside subscribe: then the
    // subscription just assigned is either closed already or must not stay open.
    if (this.upstreamDone || this.state >= State.Failing) {
      this.upstream?.unsubscribe();
      this.upstream = undefined;
    }
  }

  private gauges(): StageGauges {
    const run = this;
    return {
      get queued() {
        return run.queue.length;
      },
      get inWork() {
        return run.inWork;
      },
      get creditsOutstanding() {
        return run.upLine ? run.upLine.credits : Infinity;
      },
      get held() {
        return run.elements.size;
      },
    };
  }

  // ---- upstream ---------------------------------------------------------------------------

  private upstreamObserver(): IndexedObserver<T> {
    const run = this;
    return {
      get closed() {
        return run.state !== State.Running;
      },
      next: (value, index) => this.onUpstream(value, index),
      error: (error) => this.fail(error),
      complete: () => this.onUpstreamComplete(),
    };
  }

  private onUpstream(value: unknown, index: ElementIndex): void {
    if (this.state !== State.Running) return;
    const el: Element = {
      seq: this.nextSeq++,
      value,
      elementIndex: index,
      attempts: 0,
      slot: undefined,
      timer: undefined,
      outs: undefined,
      one: undefined,
      hasOne: false,
      outPos: 0,
      settled: false,
      queued: false,
      lost: undefined,
      at: undefined,
    };
    if (this.probe) el.at = this.probe.received(index);
    this.elements.set(el.seq, el);
    this.queue.push(el);
    if (!this.delivering) this.dispatch();
    if (!this.upLine && this.queue.length > this.o.maxsize) this.overflow();
  }

  /** A push upstream put more than `maxsize` items in the queue. */
  private overflow(): void {
    switch (this.o.overflow) {
      case 'buffer':
        return;
      case 'error':
        return this.fail(new BufferOverflowError(this.o.name, this.o.maxsize));
      case 'dropOldest':
        return this.drop(this.queue.shift()!);
      case 'dropNewest':
        return this.drop(this.queue.pop()!);
    }
  }

  private drop(el: Element): void {
    el.settled = true;
    el.lost = 'dropped';
    this.ready(el);
  }

  private onUpstreamComplete(): void {
    if (this.state !== State.Running) return;
    this.upstreamDone = true;
    this.upstream = undefined;
    this.endIdleSlots();
    this.checkComplete();
  }

  // ---- workers ----------------------------------------------------------------------------

  private openSlots(): void {
    const work = {
      name: this.o.name,
      mode: this.mode,
      fn: this.config.fn,
      onStart: this.o.onStart,
      onEnd: this.o.onEnd,
    };
    for (let index = 0; index < this.o.workers; index++) {
      const lease = this.scheduler.lease(work, { index, workers: this.o.workers }, this);
      const slot: Slot = {
        index,
        lease,
        ready: false,
        busy: 0,
        listed: false,
        batches: typeof this.batch === 'number' ? undefined : new Ring(),
        lastDone: 0,
        ending: undefined,
      };
      this.slots.push(slot);
      this.slotsOpen++;
      lease.ready.then(
        () => {
          if (this.state > State.Completing || slot.ending) return;
          slot.ready = true;
          slot.listed = true;
          this.open.push(slot);
          this.dispatch();
          this.endIdleSlots();
        },
        (error) => this.fail(error instanceof ParallelError ? error : new StageError(this.o.name, 'onStart', undefined, error)),
      );
    }
  }

  private batchLimit(): number {
    return typeof this.batch === 'number' ? this.batch : this.batch.size;
  }

  /**
   * A batch in work and, behind it, `prefetch` elements rounded up to whole batches: 4 batches of 1
   * by default, or one batch of 256. One queued batch is all a large batch needs to hide the round
   * trip, and more would only hold more elements in flight (and in the garbage collector's way).
   */
  private capacityFor(batch: number): number {
    return batch * (1 + Math.ceil(this.prefetch / batch));
  }

  /** The open slot with the fewest jobs, so work spreads over workers before it queues in one. */
  private pickSlot(): Slot {
    let best = 0;
    for (let i = 1; i < this.open.length; i++) if (this.open[i].busy < this.open[best].busy) best = i;
    return this.open[best];
  }

  /** Hands queued elements to workers with room. Re-entrant calls (sync scheduler) loop instead of nesting. */
  private dispatch(): void {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.dispatchAgain = false;
        while (this.queue.length > 0 && this.open.length > 0 && this.state === State.Running) {
          if (this.serial && this.inWork > 0) break;
          const slot = this.open.length === 1 ? this.open[0] : this.pickSlot();
          const room = this.slotCap - slot.busy;
          if (room <= 0) {
            this.unlist(slot); // the automatic batch shrank below what this slot holds
            continue;
          }
          const n = Math.min(this.batchLimit(), room, this.queue.length);
          // A partial batch goes only to a worker with nothing to do; a busy one waits for a full one,
          // or, once upstream is done, for room for all that is left (not one job per freed place).
          if (n < this.batchLimit() && slot.busy > 0 && (!this.upstreamDone || n < this.queue.length)) break;
          const jobs: Job[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const el = this.queue.shift()!;
            el.slot = slot;
            el.attempts++;
            if (el.at !== undefined) el.at = this.probe!.started(1, el.at);
            if (this.o.timeout !== undefined) el.timer = setTimeout(this.onTimeout, this.o.timeout, el);
            jobs[i] = el;
          }
          slot.busy += n;
          this.inWork += n;
          if (slot.busy >= this.slotCap) this.unlist(slot);
          slot.batches?.push({ sentAt: performance.now(), remaining: n });
          slot.lease.run(jobs);
        }
      } while (this.dispatchAgain);
    } finally {
      this.dispatching = false;
    }
  }

  /** The element left its worker (settled, failed or timed out): free the worker when its batch is done. */
  private release(el: Element): void {
    const slot = el.slot!;
    el.slot = undefined;
    if (el.timer !== undefined) {
      clearTimeout(el.timer);
      el.timer = undefined;
    }
    if (el.at !== undefined) el.at = this.probe!.finished(el.at); // a retried element's queue wait starts here
    this.inWork--;
    slot.busy--;
    if (slot.batches) this.adaptBatch(slot);
    if (slot.listed || slot.ending || this.state > State.Completing || slot.busy >= this.slotCap) return;
    slot.listed = true;
    this.open.push(slot);
  }

  private unlist(slot: Slot): void {
    slot.listed = false;
    // Swap-remove: splice() allocates an array per call, and this runs once per dispatch.
    const i = this.open.indexOf(slot);
    const last = this.open.pop()!;
    if (i < this.open.length) this.open[i] = last;
  }

  /** Automatic batching: a batch's own run time is from when it was sent or the previous one finished. */
  private adaptBatch(slot: Slot): void {
    const head = slot.batches!.peek();
    if (!head || --head.remaining > 0) return;
    slot.batches!.shift();
    const now = performance.now();
    const auto = this.batch as AutoBatch;
    const before = this.slotCap;
    auto.record(now - Math.max(head.sentAt, slot.lastDone));
    slot.lastDone = now;
    this.slotCap = this.capacityFor(auto.size);
    // A larger batch needs more items in the stage to fill it: grant the difference upstream.
    if (this.slotCap > before && this.upLine) this.grantUp(this.o.workers * (this.slotCap - before));
  }

  private readonly onTimeout = (el: Element): void => {
    el.timer = undefined;
    if (!el.slot || this.state !== State.Running) return;
    const error = new TaskTimeoutError(this.o.name, el.elementIndex, this.o.timeout!);
    this.probe?.timedOut();
    el.slot.lease.cancel(el.seq, error);
    this.release(el);
    this.failed(el, error);
    this.dispatch();
    this.endIdleSlots();
  };

  // ---- results (LeaseSink) ----------------------------------------------------------------

  resolve(seq: number, value: unknown): void {
    const el = this.elements.get(seq);
    if (!el || !el.slot || this.state > State.Completing) return; // stale: timed out or torn down
    if (this.mode === 'flat') {
      const outs = collectOutputs(value);
      if (!Array.isArray(outs)) {
        // An async iterable or observable runs in this worker: it stays busy until it is drained.
        // If the element times out meanwhile (and maybe runs again), this drain's result is stale.
        const attempt = el.attempts;
        const current = () => el.slot !== undefined && el.attempts === attempt && this.state <= State.Completing;
        outs.then(
          (list) => current() && this.settled(el, list),
          (error) => current() && this.reject(seq, error),
        );
        return;
      }
      value = outs;
    }
    this.settled(el, value);
  }

  private settled(el: Element, value: unknown): void {
    this.release(el);
    this.accept(el, value);
    if (this.delivering) return;
    this.dispatch();
    this.endIdleSlots();
  }

  reject(seq: number, error: unknown): void {
    const el = this.elements.get(seq);
    if (!el || !el.slot || this.state > State.Completing) return;
    this.release(el);
    this.failed(el, error);
    if (this.delivering) return;
    this.dispatch();
    this.endIdleSlots();
  }

  /**
   * A batch of results: settle each, then emit what is ready, ask upstream for as many as left,
   * and dispatch, once. The elements upstream sends meanwhile queue up and go out as full batches.
   */
  settleMany(deliver: () => void): void {
    if (this.delivering) return deliver();
    this.delivering = true;
    try {
      deliver();
      this.flush();
    } finally {
      this.delivering = false;
    }
    this.dispatch();
    this.endIdleSlots();
  }

  /** Turns what `fn` (or `onError`) returned into the element's outputs. */
  private accept(el: Element, value: unknown): void {
    switch (this.mode) {
      case 'map':
        el.one = value;
        el.hasOne = true;
        break;
      case 'filter':
        if (value) {
          el.one = el.value;
          el.hasOne = true;
        }
        break;
      case 'each':
        break;
      case 'flat': {
        const outs = collectOutputs(value);
        if (Array.isArray(outs)) {
          el.outs = outs;
          break;
        }
        // Only an onError replacement gets here with something asynchronous to drain.
        outs.then(
          (list) => this.state === State.Running && this.accept(el, list),
          (error) => this.fail(new StageError(this.o.name, 'onError', el.elementIndex, error)),
        );
        return;
      }
    }
    el.settled = true;
    this.ready(el);
  }

  private failed(el: Element, error: unknown): void {
    if (this.state !== State.Running) return;
    if (el.attempts <= this.o.retries) {
      this.probe?.retried();
      this.queue.unshift(el); // first in line, so a retried element is not starved
      return;
    }
    el.lost = 'failed';
    const onError = this.o.onError;
    if (onError === 'skip') {
      el.settled = true;
      this.ready(el);
      return;
    }
    const wrapped = error instanceof ParallelError ? error : new StageError(this.o.name, 'fn', el.elementIndex, error);
    if (onError === 'throw') return this.fail(wrapped);
    let replacement: unknown;
    try {
      replacement = onError(error, el.value, { stage: this.o.name, elementIndex: el.elementIndex, attempts: el.attempts });
    } catch (handlerError) {
      return this.fail(new StageError(this.o.name, 'onError', el.elementIndex, handlerError));
    }
    if (isPromiseLike(replacement)) {
      replacement.then(
        (value) => this.state === State.Running && this.accept(el, value),
        (handlerError) => this.fail(new StageError(this.o.name, 'onError', el.elementIndex, handlerError)),
      );
    } else {
      this.accept(el, replacement);
    }
  }

  // ---- downstream -------------------------------------------------------------------------

  /** The element has outputs to emit, or none and can leave. */
  private ready(el: Element): void {
    if (!this.orderedOut && !el.queued) {
      el.queued = true;
      this.emitQueue.push(el);
    }
    if (!this.delivering) this.flush();
  }

  /** Emits what downstream has credit for, in completion order or, when ordered, in source order. */
  private flush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.flushAgain = false;
        while (this.state <= State.Completing) {
          const el = this.orderedOut ? this.elements.get(this.headSeq) : this.emitQueue.peek();
          if (!el || !el.settled || !this.emit(el)) break;
          if (this.orderedOut) this.headSeq++;
          else {
            this.emitQueue.shift();
            el.queued = false;
          }
          this.leave(el);
        }
        if (this.owed > 0) this.grantOwed();
      } while (this.flushAgain);
    } finally {
      this.flushing = false;
    }
    this.checkComplete();
  }

  /** Emits the element's outputs against downstream credit; true when all are out. */
  private emit(el: Element): boolean {
    if (el.hasOne) {
      if (this.state > State.Completing || !this.down.take()) return false;
      const one = el.one;
      el.hasOne = false;
      el.one = undefined;
      el.outPos = 1;
      this.observer.next(one as R, el.elementIndex);
      return true;
    }
    const outs = el.outs;
    if (!outs) return true;
    const flat = this.mode === 'flat';
    while (el.outPos < outs.length) {
      if (this.state > State.Completing || !this.down.take()) return false;
      const i = el.outPos++;
      this.observer.next(outs[i] as R, flat ? [...el.elementIndex, i] : el.elementIndex);
    }
    return true;
  }

  private leave(el: Element): void {
    this.elements.delete(el.seq);
    this.probe?.left(el.lost ?? (el.outPos > 0 || this.mode === 'each' ? 'emitted' : 'filtered'), el.outPos, el.elementIndex);
    el.outs = undefined;
    this.owed++;
  }

  /** One grant upstream for the elements that left in this flush. */
  private grantOwed(): void {
    const n = this.owed;
    this.owed = 0;
    if (this.upLine && this.state === State.Running && !this.upstreamDone) this.grantUp(n);
  }

  private grantUp(n: number): void {
    this.granted += n;
    this.upLine!.grant(n);
  }

  // ---- endings ----------------------------------------------------------------------------

  /** pypeln's workers end when there is nothing left for them: end idle slots once upstream is done. */
  private endIdleSlots(): void {
    if (!this.upstreamDone || this.queue.length > 0 || this.state !== State.Running) return;
    for (let i = this.open.length - 1; i >= 0; i--) {
      const slot = this.open[i];
      if (slot.busy > 0) continue;
      this.unlist(slot);
      this.endSlot(slot);
    }
    this.checkComplete();
  }

  private endSlot(slot: Slot): Promise<void> {
    if (!slot.ending) {
      this.slotsOpen--;
      slot.ending = slot.lease.end({ done: this.slotsOpen === 0, activeWorkers: this.slotsOpen });
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
    this.open.length = 0;
    for (const slot of this.slots) this.endSlot(slot);
    const results = await Promise.allSettled(this.slots.map((s) => s.ending));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.ownsScheduler) await this.scheduler.close().catch(() => {});
    return failure && (failure.reason instanceof ParallelError ? failure.reason : new StageError(this.o.name, 'onEnd', undefined, failure.reason));
  }

  private checkComplete(): void {
    if (this.state !== State.Running || !this.upstreamDone || this.elements.size > 0 || this.flushing) return;
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
  private fail(error: unknown): void {
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
    this.upstream?.unsubscribe();
    this.upstream = undefined;
    for (const el of this.elements.values()) if (el.timer !== undefined) clearTimeout(el.timer);
    this.queue.clear();
    this.emitQueue.clear();
  }

  /** Downstream unsubscribed (or the subscription ended): release everything, emit nothing. */
  private teardown(): void {
    const running = this.state !== State.Closed;
    this.state = State.Closed;
    if (!running) return;
    this.probe?.ended('unsubscribe');
    this.stopIntake();
    this.elements.clear();
    void this.endAll();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
