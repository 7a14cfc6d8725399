/**
 * The stage's workers: opening its leases, handing waiting elements to them (batches, prefetch,
 * partitions), taking queued work back from a busy worker for an idle one, timeouts, and freeing a
 * worker when its element is done.
 * @internal
 * @module
 */
import { Ring } from '../backpressure/ring.js';
import { isParallelError, StageError, TaskTimeoutError } from '../errors.js';
import type { Job, LeaseSink, Scheduler } from '../schedulers/scheduler.js';
import { AutoBatch } from './auto-batch.js';
import { perfNow } from '../shared/timers.js';
import type { Element, Slot } from './element.js';
import { FifoQueue, KeyedQueue, type WaitQueue } from './wait-queue.js';
import { State } from './element.js';
import type { StageRun } from './stage.js';

/**
 * How long a worker's queue may stand still (no job finished) while another worker of the stage
 * idles, before the idle one takes some of it back. Long enough that a stream of short elements
 * never pays for the round trip; short next to the elements it is meant for.
 */
const STEAL_AFTER_MS = 1;

export class Dispatcher {
  readonly slots: Slot[] = [];
  /** Ready slots with room for more jobs. */
  private readonly open: Slot[] = [];
  /** Elements waiting; while the stage's run lane is open, its queue of values. */
  queue: WaitQueue;
  inWork = 0;
  /** Elements a slot may hold queued behind its batch in work: the scheduler's prefetch (0 with a timeout). */
  private readonly prefetch: number;
  /** Jobs one slot may hold, a batch in work and those queued behind it: see {@link capacityFor}. */
  slotCap = 1;
  /** Slots not ready yet: until they are, nobody prefetches (the work may be theirs in a moment). */
  private starting = 0;
  /** In-process serial execution (sync scheduler): one element in work at a time. */
  readonly serial: boolean;
  private readonly batch: AutoBatch | number = 1;
  private readonly canReclaim: boolean;
  /**
   * Handing work to a lease now (the dispatch loop, or a shortcut that sends or calls one element):
   * an element that arrives meanwhile (fn, or downstream's next, feeding the source) waits its turn.
   */
  dispatching = false;
  private again = false;
  private stealTimer: ReturnType<typeof setTimeout> | undefined;
  slotsOpen = 0;

  constructor(
    private readonly run: StageRun,
    scheduler: Scheduler,
  ) {
    const o = run.o;
    this.queue = o.partitionBy ? new KeyedQueue() : new FifoQueue();
    this.serial = scheduler.kind === 'sync';
    // A remote worker with batches queued behind the one in work never waits for a round trip.
    // Not with a timeout, which must measure the call alone, not its wait in the worker's queue.
    this.prefetch = o.timeout === undefined ? (scheduler.prefetch ?? 0) : 0;
    // A timeout measures one attempt of one element: with one, elements go one at a time (in a batch,
    // an element would wait behind the others of its batch while its clock ran).
    if (scheduler.batching && o.batchSize !== 1 && o.timeout === undefined) this.batch = o.batchSize === 'auto' ? new AutoBatch() : o.batchSize;
    this.slotCap = this.capacityFor(this.batchLimit());
    this.canReclaim = this.slotCap > 1;
  }

  /** The clock of the results being delivered now (see {@link now}); undefined until read. */
  deliveryClock: number | undefined = undefined;

  /**
   * `performance.now()`, read once for all the results a worker delivers together (they come back
   * at one instant): one read per element was 5 % of the main thread's time under `'auto'`.
   */
  private now(): number {
    if (!this.run.delivering) return perfNow();
    return (this.deliveryClock ??= perfNow());
  }

  // ---- leases -----------------------------------------------------------------------------

  openSlots(scheduler: Scheduler, makeSink: (slot: Slot) => LeaseSink): void {
    const run = this.run;
    const work = { name: run.o.name, mode: run.mode, fn: run.fn, onStart: run.o.onStart, onEnd: run.o.onEnd, timed: run.o.timeout !== undefined };
    for (let index = 0; index < run.workers; index++) {
      const slot: Slot = {
        index,
        lease: undefined!,
        ready: false,
        busy: 0,
        listed: false,
        reclaiming: false,
        progressAt: 0,
        batches: typeof this.batch === 'number' ? undefined : new Ring(),
        lastDone: 0,
        ending: undefined,
        stuck: undefined,
      };
      this.slots.push(slot);
      this.slotsOpen++;
      this.starting++;
      slot.lease = scheduler.lease(work, { index, workers: run.workers }, makeSink(slot));
      if (slot.lease.readyNow) {
        this.becameReady(slot);
        continue;
      }
      slot.lease.ready.then(
        () => {
          this.becameReady(slot);
          this.dispatch();
          run.endIdleSlots();
        },
        (error) => run.fail(isParallelError(error) ? error : new StageError(run.o.name, 'onStart', undefined, error)),
      );
    }
  }

  private becameReady(slot: Slot): void {
    this.starting--;
    if (this.run.state > State.Completing || slot.ending) return;
    slot.ready = true;
    slot.listed = true;
    this.open.push(slot);
  }

  /** Elements go to workers in batches (fixed or automatic). */
  get batches(): boolean {
    return typeof this.batch !== 'number' || this.batch > 1;
  }

  batchLimit(): number {
    return typeof this.batch === 'number' ? this.batch : this.batch.size;
  }

  /**
   * A batch in work and, behind it, `prefetch` elements rounded up to whole batches: 4 batches of 1
   * by default, or one batch of 1024. One queued batch is all a large batch needs to hide the round
   * trip, and more would only hold more elements in flight (and in the garbage collector's way).
   */
  private capacityFor(batch: number): number {
    return batch * (1 + Math.ceil(this.prefetch / batch));
  }

  /** The open slot with the fewest jobs, so work spreads over workers before it queues in one. */
  private pickSlot(): Slot {
    const open = this.open;
    let best = 0;
    for (let i = 1; i < open.length; i++) if (open[i].busy < open[best].busy) best = i;
    return open[best];
  }

  // ---- dispatch ---------------------------------------------------------------------------

  /** Hands waiting elements to workers with room. Re-entrant calls (sync scheduler) loop instead of nesting. */
  dispatch(): void {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = true;
    const run = this.run;
    try {
      do {
        this.again = false;
        while (this.queue.dispatchable > 0 && this.open.length > 0 && run.state === State.Running) {
          if (this.serial && this.inWork > 0) break;
          const slot = this.open.length === 1 ? this.open[0] : this.pickSlot();
          const batch = this.batchLimit();
          // While some worker of the stage is still starting, none takes more than a batch: the rest
          // may be the starting worker's in a moment (an idle worker never waits behind a busy one).
          const cap = this.starting > 0 ? batch : this.slotCap;
          const room = cap - slot.busy;
          if (room <= 0) {
            if (slot.busy < this.slotCap) break; // the least busy slot is full for now: so are the others
            this.unlist(slot); // the automatic batch shrank below what this slot holds
            continue;
          }
          const left = this.queue.dispatchable;
          let n = Math.min(batch, room, left);
          if (run.intake.done && left <= batch * this.slotsOpen) {
            // The tail: upstream is done, and what is left would not give each worker a batch. None of
            // it queues behind a busy worker (its elements may be long ones, and the other workers
            // would idle while they wait there): it waits here for a worker with nothing to do, which
            // takes its share. The open slot with the fewest jobs is busy: so are the others.
            if (slot.busy > 0) break;
            n = Math.min(n, Math.ceil(left / this.slotsOpen));
          } else if (batch > 1 && slot.busy === 0 && n === left) {
            // Fewer elements than would fill a batch for each worker with nothing to do (or still
            // starting): share them out (two long elements must not run one after the other in one
            // worker's batch while another worker idles).
            let idle = this.starting;
            for (const s of this.open) if (s.busy === 0) idle++;
            if (idle > 1) n = Math.ceil(n / idle);
          }
          // A partial batch goes only to a worker with nothing to do; a busy one waits for a full one.
          if (n < batch && slot.busy > 0) break;
          if (this.canReclaim && slot.busy === 0) slot.progressAt = perfNow();
          const lane = run.lane;
          if (lane !== undefined && lane.active) {
            if (slot.lease.laneOpen === false) {
              run.leaveLane(); // this lease needs its jobs one by one now (say, in isolation after a crash)
              continue;
            }
            const values = lane.take(n, slot);
            this.inWorkNow(slot, n);
            slot.lease.runValues!(values);
            continue;
          }
          // Started (a monitor's clock read) before they count as in work: the time up to now was idle.
          if (n === 1) {
            this.sendOne(this.queue.shift()!, slot);
            continue;
          }
          const jobs: Job[] = new Array(n);
          for (let i = 0; i < n; i++) jobs[i] = this.start(this.queue.shift()!, slot);
          this.inWorkNow(slot, n);
          slot.lease.run(jobs);
        }
      } while (this.again);
    } finally {
      this.dispatching = false;
    }
    // flatMap: an element just sent may stream as soon as its inner source is open.
    if (run.mode === 'flat' && this.inWork > 0 && !run.delivering) run.emitter.flush();
    if (this.canReclaim && this.queue.dispatchable === 0 && run.state === State.Running) this.steal();
  }

  /**
   * The run lane, as an element arrives: whether {@link dispatch} could send anything now. It sends
   * a partial batch only to a slot with nothing to do, and a full one only when one waits: below a
   * batch with every slot busy, it would look and send nothing, once per element.
   */
  laneDue(): boolean {
    if (this.queue.dispatchable >= this.batchLimit()) return true;
    const open = this.open;
    for (let i = 0; i < open.length; i++) if (open[i].busy === 0) return true;
    return false;
  }

  /** An open slot (ready, not ending), for {@link StageRun.runNow}. */
  openSlot(): Slot | undefined {
    return this.open.length > 0 ? this.open[0] : undefined;
  }

  /**
   * A new element, when nothing waits and a worker has room: straight to it, as `dispatch` would
   * send it, without the wait queue and the dispatch loop. Only where each worker takes one element
   * at a time (no batch, no prefetch: the loop's batch, tail and stealing rules are then moot) and
   * elements have no key. False, with nothing done, otherwise.
   */
  sendNow(el: Element): boolean {
    if (this.slotCap !== 1 || this.serial || this.dispatching || this.open.length === 0 || this.queue.length > 0) return false;
    if (this.run.mode === 'flat' || this.run.o.partitionBy || this.run.state !== State.Running) return false;
    const slot = this.open.length === 1 ? this.open[0] : this.pickSlot();
    // As inside dispatch(): what arrives while the lease runs it (fn feeding the source, a result
    // that settles at once) waits in the queue, and goes once this element is sent.
    this.dispatching = true;
    try {
      this.sendOne(el, slot);
    } finally {
      this.dispatching = false;
    }
    if (this.again || this.queue.length > 0) this.dispatch();
    return true;
  }

  /**
   * {@link StageRun.runNow}: `el` is in work on `slot`, counted, but not sent: the stage calls it.
   * What `start` does beyond this is for a monitor, a timeout, flatMap or a lease that answers by
   * seq, none of which the lane serves. A single slot stays listed (a serial stage hands nothing
   * out while one element is in work anyway); of several, the slot goes to the back of the open
   * list on `release`, as a dispatched one does, so the next element goes to the next worker.
   */
  startNow(el: Element, slot: Slot): void {
    el.slot = slot;
    el.attempts++;
    slot.busy++;
    this.inWork++;
    if (this.open.length > 1) this.unlist(slot);
  }

  /** One element to `slot`: started, counted, and sent without an array where the lease allows (most in-process stages). */
  private sendOne(el: Element, slot: Slot): void {
    this.start(el, slot);
    this.inWorkNow(slot, 1);
    if (slot.lease.runOne) slot.lease.runOne(el);
    else slot.lease.run([el]);
  }

  /** `n` jobs went to `slot`. */
  private inWorkNow(slot: Slot, n: number): void {
    slot.busy += n;
    this.inWork += n;
    if (slot.busy >= this.slotCap) this.unlist(slot);
    slot.batches?.push({ sentAt: perfNow(), remaining: n });
  }

  /** An element goes to `slot`. */
  private start(el: Element, slot: Slot): Element {
    const run = this.run;
    el.slot = slot;
    el.attempts++;
    if (!slot.lease.byJob) run.bySeq.set(el.seq, el); // a lease that answers by seq: found by it
    if (el.at !== undefined) el.at = run.probe!.started(1, el.at);
    // A lease that says when the call begins times it from there (`began`).
    if (run.timed && slot.lease.timesFromBegin !== true) {
      el.timer = setTimeout(this.onTimeout, run.o.timeout, el);
      run.timed.add(el);
    }
    if (run.mode === 'flat') run.emitter.producing(el);
    return el;
  }

  /**
   * The element left its worker (settled, failed, timed out or reclaimed): free the worker when its
   * batch is done. `holdKey`: its call may still run (it timed out), so its `partitionBy` key stays
   * busy until the lease says it stopped.
   */
  release(el: Element, holdKey = false): void {
    const slot = el.slot!;
    el.slot = undefined;
    const run = this.run;
    if (!slot.lease.byJob) run.bySeq.delete(el.seq);
    if (el.timer !== undefined) {
      clearTimeout(el.timer);
      el.timer = undefined;
      run.timed!.delete(el);
    }
    if (el.at !== undefined) el.at = run.probe!.finished(el.at); // a retried element's queue wait starts here
    if (run.mode === 'flat') run.emitter.stopped(el);
    if (holdKey) el.holdsKey = true;
    else this.queue.done(el);
    this.inWork--;
    slot.busy--;
    if (this.canReclaim) slot.progressAt = this.now();
    if (slot.batches) this.adaptBatch(slot);
    this.relist(slot);
  }

  /**
   * {@link release} may be done for many elements of `slot` at once ({@link releasedFrom}): only
   * where releasing one does nothing of its own beyond `el.slot = undefined` (no index by seq, no
   * timer, no monitor stamp, no flatMap stream, no partition key).
   */
  releasesInBulk(slot: Slot): boolean {
    const run = this.run;
    return slot.lease.byJob === true && !run.timed && !run.probe && run.mode !== 'flat' && !run.o.partitionBy;
  }

  /** `n` elements of `slot` left it (their `slot` cleared by the caller): {@link release}'s counts, once. */
  releasedFrom(slot: Slot, n: number): void {
    if (n === 0) return;
    this.inWork -= n;
    slot.busy -= n;
    if (this.canReclaim) slot.progressAt = this.now();
    if (slot.batches) this.adaptBatch(slot, n);
    this.relist(slot);
  }

  /** The slot has room again: back in the open list, unless it is full, ending, not ready, or held by a cancelled call. */
  private relist(slot: Slot): void {
    if (slot.listed || slot.ending || this.run.state > State.Completing || slot.busy >= this.slotCap || !slot.ready || slot.stuck) return;
    slot.listed = true;
    this.open.push(slot);
  }

  private unlist(slot: Slot): void {
    slot.listed = false;
    // Swap-remove: splice() allocates an array per call, and this runs once per dispatch.
    const i = this.open.indexOf(slot);
    if (i < 0) return;
    const last = this.open.pop()!;
    if (i < this.open.length) this.open[i] = last;
  }

  /** Closes a slot to new work (it is ending). */
  close(slot: Slot): void {
    if (slot.listed) this.unlist(slot);
  }

  /** Every open slot, for the end of the stage. */
  closeAll(): void {
    for (const slot of this.open) slot.listed = false;
    this.open.length = 0;
    clearTimeout(this.stealTimer);
    this.stealTimer = undefined;
  }

  /** Open slots with nothing to do (to end once upstream is done). */
  idleSlots(): Slot[] {
    return this.open.filter((slot) => slot.busy === 0);
  }

  /** Automatic batching: a batch's own run time is from when it was sent or the previous one finished. */
  private adaptBatch(slot: Slot, settled = 1): void {
    while (settled > 0) {
      const head = slot.batches!.peek();
      if (!head) return;
      const used = Math.min(settled, head.remaining);
      head.remaining -= used;
      settled -= used;
      if (head.remaining > 0) return;
      slot.batches!.shift();
      const now = this.now();
      const auto = this.batch as AutoBatch;
      auto.record(now - Math.max(head.sentAt, slot.lastDone));
      slot.lastDone = now;
      const cap = this.capacityFor(auto.size);
      if (cap === this.slotCap) continue;
      this.slotCap = cap;
      this.run.intake.topUp(); // the credit bound moved: a larger batch needs more items to fill it
    }
  }

  // ---- retries and work given back ----------------------------------------------------------

  /** An element goes back to the front of the queue (a retry, or work given back). */
  requeue(el: Element): void {
    this.queue.unshift(el);
  }

  /**
   * Fairness: an element never waits in one worker's queue while another worker of the stage is
   * idle. When nothing is left to hand out and a ready worker is idle, ask a worker whose queue has
   * not moved for {@link STEAL_AFTER_MS} for some of its queued jobs back.
   */
  private steal(): void {
    let idle = 0;
    for (const slot of this.open) if (slot.busy === 0) idle++;
    if (idle === 0) return;
    const now = perfNow();
    let wake = Infinity;
    for (const victim of this.slots) {
      if (idle === 0) break;
      if (victim.busy < 2 || victim.reclaiming || victim.ending || !victim.lease.reclaim) continue;
      const still = now - victim.progressAt;
      if (still < STEAL_AFTER_MS) {
        wake = Math.min(wake, STEAL_AFTER_MS - still);
        continue;
      }
      victim.reclaiming = true;
      idle--;
      victim.lease.reclaim(Math.ceil((victim.busy - 1) / 2));
    }
    if (wake < Infinity && this.stealTimer === undefined) {
      this.stealTimer = setTimeout(() => {
        this.stealTimer = undefined;
        if (this.queue.dispatchable === 0 && this.run.state === State.Running) this.steal();
      }, wake + 0.5);
      (this.stealTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Some worker holds queued work an idle one may take back (or is giving some back now). */
  mayStealMore(): boolean {
    if (!this.canReclaim) return false;
    for (const slot of this.slots) {
      if (slot.reclaiming || (slot.busy >= 2 && !slot.ending && slot.lease.reclaim)) return true;
    }
    return false;
  }

  /** A lease gave back jobs it had not started: they go to the front of the queue, in order. */
  reclaimed(slot: Slot, jobs: readonly Element[]): void {
    slot.reclaiming = false;
    // Not asked again before another STEAL_AFTER_MS: an empty answer (the worker is being replaced,
    // or started them all) asked again at once would be a loop that never yields.
    if (this.canReclaim) slot.progressAt = perfNow();
    const back: Element[] = [];
    for (const el of jobs) {
      if (el.slot !== slot) continue;
      // It never ran: no run time for the monitor (`release` records one for a stamped element);
      // its next hand-off records the rest of its queue wait, from when it was sent.
      const at = el.at;
      el.at = undefined;
      this.release(el);
      el.at = at;
      el.attempts--;
      back.push(el);
    }
    back.sort((a, b) => b.seq - a.seq);
    for (const el of back) this.requeue(el);
  }

  /** Jobs sent again to a replacement worker, or sent now after a wait in the lease: timed from now (or not while `paused`). */
  resent(slot: Slot, jobs: readonly Element[], paused: boolean): void {
    const timed = this.run.timed;
    if (!timed) return;
    if (slot.lease.timesFromBegin === true) paused = true; // timed again when the call begins
    for (const el of jobs) {
      if (el.slot !== slot) continue;
      clearTimeout(el.timer);
      el.timer = paused ? undefined : setTimeout(this.onTimeout, this.run.o.timeout, el);
      if (paused) timed.delete(el);
      else timed.add(el);
    }
  }

  /** The worker begins the element's call: its clock starts now. */
  began(el: Element, slot: Slot): void {
    const timed = this.run.timed;
    if (!timed || el.slot !== slot || this.run.state !== State.Running) return;
    clearTimeout(el.timer);
    el.timer = setTimeout(this.onTimeout, this.run.o.timeout, el);
    timed.add(el);
  }

  // ---- timeouts ---------------------------------------------------------------------------

  private readonly onTimeout = (el: Element): void => {
    el.timer = undefined;
    const run = this.run;
    if (!el.slot || run.state !== State.Running) return;
    const error = new TaskTimeoutError(run.o.name, el.elementIndex, run.o.timeout!);
    run.probe?.timedOut();
    const slot = el.slot;
    const lease = slot.lease;
    lease.cancel(el.seq, error);
    // A worker that runs one call at a time and is still in this one takes nothing new until the
    // call stops or the worker is replaced (after cancelGrace): the next element sent there would
    // only wait, its clock running, and time out without having run.
    if (lease.cancelHoldsWorker === true) {
      (slot.stuck ??= new Set()).add(el);
      if (slot.listed) this.unlist(slot);
    }
    this.release(el, run.o.partitionBy !== undefined && lease.reportsStopped === true);
    run.failed(el, error);
    this.dispatch();
    run.endIdleSlots();
  };

  /** A timed-out element's call has really stopped: its key may go again. */
  stopped(el: Element, slot: Slot): void {
    let freed = false;
    if (slot.stuck?.delete(el) && slot.stuck.size === 0) {
      slot.stuck = undefined;
      this.relist(slot);
      freed = true;
    }
    if (el.holdsKey) {
      el.holdsKey = false;
      this.queue.done(el);
      freed = true;
    }
    if (freed && this.run.state === State.Running) this.dispatch();
  }

  /** Stops every element's timer (the stage is ending). */
  stopTimers(): void {
    const timed = this.run.timed;
    if (timed) {
      for (const el of timed) {
        clearTimeout(el.timer);
        el.timer = undefined;
      }
      timed.clear();
    }
    clearTimeout(this.stealTimer);
    this.stealTimer = undefined;
  }
}
