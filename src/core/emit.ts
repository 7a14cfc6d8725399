/**
 * The stage's downstream: turning what workers answer into outputs, emitting them against
 * downstream credit in completion order or in source order, streaming a flatMap element's outputs
 * as they come (asking its inner source for more only as downstream has credit), and letting
 * elements leave.
 * @internal
 * @module
 */
import { Ring } from '../backpressure/ring.js';
import type { IndexLike } from '../backpressure/credit.js';
import { BufferOverflowError, StageError } from '../errors.js';
import { buffered, type Element } from './element.js';
import { openInner, outputsOf } from '../shared/inner.js';
import { State } from './element.js';
import type { StageRun } from './stage.js';

export class Emitter {
  /** Unordered mode: elements with outputs to emit or ready to leave, in completion order. */
  private readonly queue = new Ring<Element>();
  private flushing = false;
  private again = false;
  /** Elements that left since the last top-up of upstream credit (one top-up per flush, not per element). */
  private owed = 0;
  /** flatMap: elements in work, whose job may still send outputs. */
  private readonly live = new Set<Element>();

  constructor(
    private readonly run: StageRun,
    /** flatMap: outputs a job may send before it is asked (the scheduler's output window). */
    private readonly window: number,
  ) {}

  get isFlushing(): boolean {
    return this.flushing;
  }

  // ---- what comes back from workers ---------------------------------------------------------

  /** flatMap: the element went to a worker: its job may send `window` outputs unasked. */
  producing(el: Element): void {
    el.allowance = this.window;
    this.live.add(el);
  }

  /** flatMap: the element left its worker. */
  stopped(el: Element): void {
    el.allowance = 0;
    this.live.delete(el);
  }

  /** flatMap: outputs of an element still in work. */
  outputs(el: Element, values: readonly unknown[]): void {
    el.allowance -= values.length;
    const outs = (el.outs ??= []);
    for (let i = 0; i < values.length; i++) outs.push(values[i]);
    // Beyond what was asked: a push source (an Observable), bounded like a push upstream.
    const run = this.run;
    if (-el.allowance > run.maxsize) {
      switch (run.o.overflow) {
        case 'error':
          return run.fail(new BufferOverflowError(run.o.name, run.maxsize));
        case 'dropOldest':
          el.outHead++;
          el.allowance++;
          break;
        case 'dropNewest':
          outs.pop();
          el.allowance++;
          break;
      }
    }
    this.ready(el);
  }

  /** Turns what `fn` (or `onError`) returned into the element's outputs; the element is over. */
  accept(el: Element, value: unknown): void {
    switch (this.run.mode) {
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
        let outs: unknown[] | 'inner';
        try {
          outs = outputsOf(value);
        } catch (error) {
          return this.run.fail(new StageError(this.run.o.name, 'fn', el.elementIndex, error));
        }
        if (outs === 'inner') {
          // Not streamed by its scheduler (a custom one), or an onError replacement: collected whole.
          drain(value).then(
            (list) => this.run.state === State.Running && this.accept(el, list),
            (error) => this.run.fail(new StageError(this.run.o.name, el.lost ? 'onError' : 'fn', el.elementIndex, error)),
          );
          return;
        }
        if (outs.length > 0) {
          // An array returned by fn is emitted from as it is, never modified.
          if (!el.outs) el.outs = outs;
          else for (let i = 0; i < outs.length; i++) el.outs.push(outs[i]);
        }
        break;
      }
    }
    el.settled = true;
    this.ready(el);
  }

  /**
   * {@link accept} for an element that settles with nothing waiting before it (map, filter, each:
   * one output at most): emitted and gone at once, without the emit queue or a flush loop. False,
   * with nothing done, when something waits before it, a flush is under way, or downstream has no
   * credit: then {@link accept} queues it as usual.
   */
  acceptNow(el: Element, value: unknown): boolean {
    const run = this.run;
    const mode = run.mode;
    if (this.flushing || run.delivering || mode === 'flat' || run.state !== State.Running) return false;
    const arrival = run.arrival;
    if (arrival ? arrival.peek() !== el : this.queue.length > 0) return false;
    const emits = mode === 'map' || (mode === 'filter' && !!value);
    if (emits && !run.down.take()) return false;
    el.settled = true;
    arrival?.shift();
    // Emitted as flush() would emit it: what downstream's next sets off here (a grant, a result that
    // settles at once) waits for the flush below, as it would wait for the flush loop.
    this.flushing = true;
    try {
      if (emits) this.emitOne(el, mode === 'map' ? value : el.value);
      this.leave(el);
    } finally {
      this.flushing = false;
    }
    // What waited behind it, or came meanwhile, then the credit it frees and completion: as after any emission.
    this.flush();
    return true;
  }

  /** The element has outputs to emit, or none and can leave. */
  ready(el: Element): void {
    if (!this.run.orderedOut && !el.queued) {
      el.queued = true;
      this.queue.push(el);
    }
    if (!this.run.delivering) this.flush();
  }

  // ---- emission ---------------------------------------------------------------------------

  /** Emits what downstream has credit for, in completion order or, when ordered, in source order. */
  flush(): void {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    const run = this.run;
    const ordered = run.orderedOut;
    try {
      do {
        this.again = false;
        if (run.lane?.active) run.lane.emitReady();
        while (run.state <= State.Completing) {
          const el = ordered ? run.arrival!.peek() : this.queue.peek();
          if (!el || !this.emit(el)) break;
          if (!el.settled) {
            if (ordered) break; // the head is still producing
            this.queue.shift(); // everything it sent is out; more outputs put it back in the queue
            el.queued = false;
            continue;
          }
          if (ordered) run.arrival!.shift();
          else {
            this.queue.shift();
            el.queued = false;
          }
          this.leave(el);
        }
        if (this.live.size > 0 && run.state === State.Running) this.demand();
        if (this.owed > 0) {
          this.owed = 0;
          run.intake.topUp();
        }
      } while (this.again);
    } finally {
      this.flushing = false;
    }
    run.checkComplete();
  }

  /** The element's one output goes downstream (its credit taken already). */
  private emitOne(el: Element, value: unknown): void {
    const run = this.run;
    el.emitted = 1;
    run.observer.next(value, el.elementIndex);
    if (run.subscribing && run.observer.closed) run.subscription.unsubscribe(); // downstream stopped inside next (take) during subscribe: so do we, at once
  }

  /**
   * One output of the run lane goes downstream (its credit taken already), and its element leaves:
   * {@link emitOne} and {@link leave} without an Element.
   */
  emitValue(value: unknown, index: IndexLike): void {
    const run = this.run;
    run.held--;
    this.owed++;
    run.observer.next(value, index);
    if (run.subscribing && run.observer.closed) run.subscription.unsubscribe();
  }

  /** An element of the run lane leaves with nothing to emit (filtered out, or `each`). */
  passValue(): void {
    this.run.held--;
    this.owed++;
  }

  /** An element the run lane held, answered and not yet emitted, as the stage leaves the lane (unordered). */
  adopt(el: Element): void {
    el.queued = true;
    this.queue.push(el);
  }

  /** Emits the element's outputs against downstream credit; true when all it has are out. */
  private emit(el: Element): boolean {
    const run = this.run;
    if (el.hasOne) {
      if (run.state > State.Completing || !run.down.take()) return false;
      const one = el.one;
      el.hasOne = false;
      el.one = undefined;
      this.emitOne(el, one);
      return true;
    }
    const outs = el.outs;
    if (!outs) return true;
    while (el.outHead < outs.length) {
      if (run.state > State.Completing || !run.down.take()) return false;
      const value = outs[el.outHead++];
      run.observer.next(value, [...el.elementIndex, el.emitted++]);
      if (run.subscribing && run.observer.closed) {
        run.subscription.unsubscribe();
        return false;
      }
    }
    if (el.outs === outs) {
      el.outs = undefined; // all out: the array goes (a long stream does not keep a growing one)
      el.outHead = 0;
    }
    return true;
  }

  /**
   * flatMap: asks inner sources for more outputs. With an output window (a remote worker), each
   * element that may emit keeps up to a window of outputs asked or waiting here. Without one (in
   * process), an inner is read only as downstream has credit: one output at a time, for as many
   * elements as there is credit not yet covered by outputs asked or waiting.
   */
  private demand(): void {
    const run = this.run;
    const window = this.window;
    const head = run.orderedOut ? run.arrival!.peek() : undefined;
    if (run.orderedOut && (!head || !head.slot)) return; // only the head streams; later elements wait within their window
    if (window > 0) {
      if (head) this.topUp(head, window);
      else for (const el of this.live) this.topUp(el, window);
      return;
    }
    let budget = run.down.credits;
    if (head) budget -= Math.max(head.allowance, 0) + buffered(head);
    else for (const el of this.live) budget -= Math.max(el.allowance, 0) + buffered(el);
    if (budget <= 0) return;
    if (head) {
      if (head.allowance <= 0 && buffered(head) === 0) this.ask(head, 1);
      return;
    }
    for (const el of this.live) {
      if (budget <= 0) break;
      if (el.allowance > 0 || buffered(el) > 0 || !el.slot) continue;
      budget--;
      this.ask(el, 1);
    }
  }

  private topUp(el: Element, window: number): void {
    const free = window - Math.max(el.allowance, 0) - buffered(el);
    if (free * 2 >= window) this.ask(el, free);
  }

  private ask(el: Element, n: number): void {
    el.allowance = Math.max(el.allowance, 0) + n;
    el.slot!.lease.request?.(el.seq, n);
  }

  /** The element leaves the stage: its credit goes back upstream at the end of the flush. */
  private leave(el: Element): void {
    const run = this.run;
    run.held--;
    run.probe?.left(el.lost ?? (el.emitted > 0 || run.mode === 'each' ? 'emitted' : 'filtered'), el.emitted, el.elementIndex);
    this.owed++;
  }

  /** The stage failed or was torn down. */
  clear(): void {
    this.queue.clear();
    this.live.clear();
    this.run.lane?.clear();
  }

  /** Elements that a failure of `el` may still show, before the stream fails: its outputs downstream has credit for now. */
  emitNow(el: Element): void {
    if (this.run.orderedOut ? el === this.run.arrival!.peek() : true) this.emit(el);
  }
}

/** Every output of an inner source, collected (a custom scheduler's result, an onError replacement). */
function drain(value: unknown): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const list: unknown[] = [];
    const inner = openInner(value, { next: (v) => list.push(v), complete: () => resolve(list), error: reject });
    inner.pull(Infinity);
  });
}
