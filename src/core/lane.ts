/**
 * The run lane: a stage's elements as runs of consecutive values, one record each from intake to
 * emission, where nothing element-specific can happen to them on the way (map, filter or each: one
 * output at most; no timeout, no partition key, no monitor; automatic or fixed batches; leases that
 * take runs). Per element it
 * costs a push at intake and an emission; the wait queue, the dispatch loop, the lease's job table
 * and settling deal in runs. The first element-specific event (a failure, a crash, work given back,
 * an overflow that drops) makes the stage leave the lane for good: every element the lane holds
 * becomes an {@link Element} where it stands (waiting, in work, answered and not yet emitted), and
 * the usual path takes over. What the issue asked for: "handled as one record … with per-element
 * state made only when one of those needs it".
 * @internal
 * @module
 */
import { Ring } from '../backpressure/ring.js';
import { toElementIndex, type IndexLike } from '../backpressure/credit.js';
import type { ElementIndex } from '../errors.js';
import type { ValueRun } from '../schedulers/scheduler.js';
import { newElement, State, type Element, type Slot } from './element.js';
import { FifoQueue, type WaitQueue } from './wait-queue.js';
import type { StageRun } from './stage.js';

/** A position not answered yet (in a run answered piece by piece). */
const HOLE: unique symbol = Symbol('rxjs-parallel.hole');
/** Unordered: a position of a run answered piece by piece, emitted. */
const EMITTED: unique symbol = Symbol('rxjs-parallel.emitted');

/** A run the lane gave a worker: its values, and what came back. */
export interface LaneRun extends ValueRun {
  /** The worker running it, until every position is answered. */
  slot: Slot | undefined;
  /** Positions answered. */
  got: number;
  /** Answered whole by one message: the results are `whole[wholeFrom + i]` (no copy). */
  whole: ArrayLike<unknown> | undefined;
  wholeFrom: number;
  /** Answered piece by piece: each position's result, {@link HOLE} until it comes. */
  results: unknown[] | undefined;
  /** Positions emitted: a prefix when ordered; any of them when not. */
  emitted: number;
}

/** Unordered: positions `at … at + count - 1` of `run` are answered and wait for downstream credit. */
interface Segment {
  readonly run: LaneRun;
  at: number;
  count: number;
}

/**
 * Values waiting for a worker, in seq order from `seq`. It stands in for the stage's wait queue
 * while the lane is open (the dispatch loop reads its counts); elements never pass through it.
 */
class ValueQueue implements WaitQueue {
  readonly values = new Ring<unknown>(64);
  /** As upstream gave them: a number for a one-level index (see IndexLike), so a source's run makes no arrays. */
  readonly indexes = new Ring<IndexLike>(64);
  /** The seq of the first value waiting. */
  seq = 0;
  get length(): number {
    return this.values.length;
  }
  get dispatchable(): number {
    return this.values.length;
  }
  push(): void {
    throw new Error('internal: an element in the run lane');
  }
  unshift(): void {
    throw new Error('internal: an element in the run lane');
  }
  shift(): Element | undefined {
    throw new Error('internal: an element in the run lane');
  }
  done(): void {}
  dropOldest(): Element | undefined {
    throw new Error('internal: an element in the run lane');
  }
  dropNewest(): Element | undefined {
    throw new Error('internal: an element in the run lane');
  }
  clear(): void {
    this.values.clear();
    this.indexes.clear();
  }
}

export class RunLane {
  /** Open: every element of the stage goes through it. Once closed, never again. */
  active = true;
  readonly queue = new ValueQueue();
  /** Runs given to workers and not all emitted, in seq order. */
  private readonly live = new Ring<LaneRun>();
  /** Unordered: answered positions not yet emitted, in the order answered. */
  private readonly ready = new Ring<Segment>();

  constructor(private readonly stage: StageRun) {}

  /** A new element (its seq is the next one). */
  push(value: unknown, index: IndexLike): void {
    this.queue.values.push(value);
    this.queue.indexes.push(index);
  }

  /** The next `n` waiting values, as a run in work on `slot`. */
  take(n: number, slot: Slot): LaneRun {
    const q = this.queue;
    const values = new Array<unknown>(n);
    const given = new Array<IndexLike>(n);
    let contiguous = true;
    let index0 = 0;
    for (let i = 0; i < n; i++) {
      values[i] = q.values.shift();
      const index = (given[i] = q.indexes.shift()!);
      const top = typeof index === 'number' ? index : index.length === 1 ? index[0] : NaN;
      if (i === 0) index0 = top;
      if (top !== index0 + i) contiguous = false; // NaN (a deeper index) never equals
    }
    const run: LaneRun = {
      seq0: q.seq,
      n,
      values,
      contiguous,
      index0: contiguous ? index0 : 0,
      indexes: contiguous ? undefined : given.map(toElementIndex),
      jobs: undefined,
      slot,
      got: 0,
      whole: undefined,
      wholeFrom: 0,
      results: undefined,
      emitted: 0,
    };
    q.seq += n;
    this.live.push(run);
    return run;
  }

  /** Results for positions `at …` of `run`: `values[from …]`, `count` of them. */
  settle(run: LaneRun, at: number, values: ArrayLike<unknown>, from: number, count: number): void {
    if (run.got === 0 && at === 0 && count === run.n) {
      run.whole = values;
      run.wholeFrom = from;
    } else {
      let results = run.results;
      if (results === undefined) results = run.results = new Array<unknown>(run.n).fill(HOLE);
      for (let i = 0; i < count; i++) results[at + i] = values[from + i];
    }
    run.got += count;
    if (run.got === run.n) run.slot = undefined;
    if (!this.stage.orderedOut) this.ready.push({ run, at, count });
  }

  /**
   * Emits what downstream has credit for (called by the emitter's flush): map emits each result,
   * filter each value whose verdict is true, each nothing; an element with nothing to emit leaves
   * without taking credit.
   */
  emitReady(): void {
    const stage = this.stage;
    const emitter = stage.emitter;
    const mode = stage.mode;
    if (stage.orderedOut) {
      for (let run = this.live.peek(); run !== undefined; run = this.live.peek()) {
        while (run.emitted < run.n) {
          const i = run.emitted;
          if (run.whole === undefined && (run.results === undefined || run.results[i] === HOLE)) return; // the head is in work
          if (stage.state > State.Completing) return;
          const result = valueOf(run, i);
          if (mode === 'map' || (mode === 'filter' && result)) {
            if (!stage.down.take()) return;
            run.emitted++;
            emitter.emitValue(mode === 'map' ? result : run.values[i], this.indexOf(run, i));
            if (!this.active) return; // downstream's next made the stage leave the lane: the usual path has the rest
          } else {
            run.emitted++;
            emitter.passValue();
          }
        }
        this.live.shift();
      }
      return;
    }
    for (let segment = this.ready.peek(); segment !== undefined; segment = this.ready.peek()) {
      const run = segment.run;
      while (segment.count > 0) {
        if (stage.state > State.Completing) return;
        const i = segment.at;
        const result = valueOf(run, i);
        const emits = mode === 'map' || (mode === 'filter' && result);
        if (emits && !stage.down.take()) return;
        segment.at++;
        segment.count--;
        run.emitted++;
        if (run.results !== undefined) run.results[i] = EMITTED;
        if (!emits) {
          emitter.passValue();
          continue;
        }
        emitter.emitValue(mode === 'map' ? result : run.values[i], this.indexOf(run, i));
        if (!this.active) return;
      }
      this.ready.shift();
    }
    for (let run = this.live.peek(); run !== undefined && run.emitted === run.n; run = this.live.peek()) this.live.shift();
  }

  /**
   * Leaves the lane: an {@link Element} for each element held, where it stands. Those answered and
   * not emitted are settled (in the emit queue, or the arrival order); those in work carry their
   * slot, and each run's `jobs` names them for its lease; those waiting go to the returned queue.
   */
  materialize(adopt: (el: Element) => void): WaitQueue {
    this.active = false;
    const stage = this.stage;
    const arrival = stage.arrival;
    const mode = stage.mode;
    const answered = (run: LaneRun, i: number): Element => {
      const el = newElement(run.seq0 + i, run.values[i], elementIndexOf(run, i), undefined);
      const result = valueOf(run, i);
      el.attempts = 1;
      // As Emitter.accept turns a result into outputs.
      if (mode === 'map') {
        el.one = result;
        el.hasOne = true;
      } else if (mode === 'filter' && result) {
        el.one = el.value;
        el.hasOne = true;
      }
      el.settled = true;
      return el;
    };
    const inWork = (run: LaneRun, i: number): Element => {
      const el = newElement(run.seq0 + i, run.values[i], elementIndexOf(run, i), undefined);
      el.attempts = 1;
      el.slot = run.slot;
      (run.jobs ??= new Array<Element | undefined>(run.n).fill(undefined))[i] = el;
      return el;
    };
    if (stage.orderedOut) {
      for (let run = this.live.shift(); run !== undefined; run = this.live.shift()) {
        for (let i = run.emitted; i < run.n; i++) {
          const done = run.whole !== undefined || (run.results !== undefined && run.results[i] !== HOLE);
          arrival!.push(done ? answered(run, i) : inWork(run, i));
        }
      }
    } else {
      for (let segment = this.ready.shift(); segment !== undefined; segment = this.ready.shift()) {
        for (let i = segment.at; i < segment.at + segment.count; i++) adopt(answered(segment.run, i));
      }
      for (let run = this.live.shift(); run !== undefined; run = this.live.shift()) {
        if (run.whole !== undefined) continue;
        for (let i = 0; i < run.n; i++) if (run.results === undefined || run.results[i] === HOLE) inWork(run, i);
      }
    }
    const queue = new FifoQueue();
    const q = this.queue;
    for (let seq = q.seq; q.values.length > 0; seq++) {
      const el = newElement(seq, q.values.shift(), toElementIndex(q.indexes.shift()!), undefined);
      queue.push(el);
      arrival?.push(el);
    }
    return queue;
  }

  /** Position `i`'s index as downstream takes it: a number where it may (see IndexLike), made only now. */
  private indexOf(run: LaneRun, i: number): IndexLike {
    return run.indexes === undefined && this.stage.numberIndex ? run.index0 + i : elementIndexOf(run, i);
  }

  /** The stage failed or was torn down. */
  clear(): void {
    this.queue.clear();
    this.live.clear();
    this.ready.clear();
  }
}

function elementIndexOf(run: LaneRun, i: number): ElementIndex {
  return run.indexes !== undefined ? run.indexes[i] : [run.index0 + i];
}

function valueOf(run: LaneRun, i: number): unknown {
  return run.whole !== undefined ? run.whole[run.wholeFrom + i] : run.results![i];
}
