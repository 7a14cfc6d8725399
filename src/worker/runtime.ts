/**
 * The worker runtime: what runs inside a worker thread, a Web Worker or a child process, serving
 * the leases a pool sends it. One worker may serve several leases (stages, subscriptions) at once,
 * each with its own resources; within a lease, jobs run one at a time in the order sent (a flatMap
 * job until its inner source has ended).
 * @internal
 * @module
 */
import { JobContext } from '../shared/job-context.js';
import { adoptThenable, thenOf } from '../shared/thenable.js';
import type { StageStatus, WorkerInfo } from '../shared/context.js';
import { takeTransferList, type TransferListItem } from '../shared/transfer.js';
import { openInner, outputsOf, type Inner } from '../shared/inner.js';
import {
  CANCEL,
  CLOSE,
  DYING,
  END,
  ENDED,
  ENDING,
  fromWireError,
  HELLO,
  ON_END,
  ON_START,
  OUTPUT_WINDOW,
  PULL,
  R_CANCELLED,
  R_ERROR,
  R_OK,
  R_PART,
  R_RUNNING,
  R_BEGAN,
  R_UNCLONEABLE,
  RECLAIM,
  RECLAIMED,
  RESULTS,
  MIN_PACKED,
  RESULTS_NUMBERS,
  RESULTS_RANGE,
  RUN,
  RUN_NUMBERS,
  RUN_RANGE,
  rangePayloads,
  START,
  START_FAILED,
  STARTED,
  toWireError,
  type WireError,
  type WireRole,
  type WireWork,
} from './protocol.js';
import { resolveWireFunction } from './rebuild.js';

/** How the runtime talks to its pool: a worker thread's parentPort, a Web Worker's scope, a child's IPC. */
export interface WorkerPort {
  /**
   * Sends a message; throws (DataCloneError) when it cannot be cloned, or (RangeError) when it is over
   * the transport's size (NATS max_payload), sending nothing.
   */
  post(message: unknown[], transfer?: TransferListItem[]): void;
  /** Installs the one message listener. */
  listen(onMessage: (message: unknown) => void): void;
  /** Ends the worker. */
  exit(): void;
}

const kServing = Symbol.for('rxjs-parallel.serving');

/** True once this realm serves a pool (so `expose()` in a task module does not start a second runtime). */
export function isServing(): boolean {
  return (globalThis as Record<symbol, unknown>)[kServing] === true;
}

/**
 * The call running synchronously right now (`[lease, seq]`, or `[lease, ON_START | ON_END]`): if
 * the worker ends itself from inside it, that is the call to blame.
 */
let running: [number, number] | undefined;
/** `running` for a job's call: one array for every call, not one per call. */
const runningCall: [number, number] = [0, 0];

/** Starts the runtime on `port` and says hello; once per realm. */
export function serve(port: WorkerPort): void {
  if (isServing()) return;
  (globalThis as Record<symbol, unknown>)[kServing] = true;
  const leases = new Map<number, LeaseRun>();
  port.listen((message) => {
    if (!Array.isArray(message)) return;
    const lease = message[1] as number;
    switch (message[0]) {
      case RUN:
      case RUN_RANGE:
      case RUN_NUMBERS: {
        const run = leases.get(lease);
        if (run) run.enqueue(message);
        return;
      }
      case START: {
        const run = new LeaseRun(port, lease, message[2] as WireWork, message[3] as WorkerInfo);
        leases.set(lease, run);
        void run.start();
        return;
      }
      case CANCEL: {
        const run = leases.get(lease);
        if (run) run.cancel(message[2] as number, fromWireError(message[3] as WireError));
        else post(port, [RESULTS, lease, message[2], R_CANCELLED, undefined]);
        return;
      }
      case PULL:
        leases.get(lease)?.pull(message[2] as number, message[3] as number);
        return;
      case RECLAIM: {
        const run = leases.get(lease);
        post(port, [RECLAIMED, lease, run ? run.reclaim(message[2] as number) : []]);
        return;
      }
      case END: {
        const run = leases.get(lease);
        leases.delete(lease);
        if (run) void run.end(message[2] as StageStatus);
        else {
          post(port, [ENDING, lease, []]);
          post(port, [ENDED, lease, undefined]);
        }
        return;
      }
      case CLOSE:
        port.exit();
        return;
    }
  });
  // A worker that ends itself (process.exit, an uncaught error) first sends what it finished, and
  // which call it was in: the pool then fails that call alone and re-sends the others.
  const proc = (globalThis as { process?: { on?: (event: string, listener: (error?: unknown) => void) => void; versions?: { node?: string } } }).process;
  if (typeof proc?.versions?.node === 'string' && typeof proc.on === 'function') {
    // The error that ends it, if one does (a child process's exit says nothing of it): only seen, not handled.
    let uncaught: WireError | undefined;
    proc.on('uncaughtExceptionMonitor', (error) => (uncaught = toWireError(error)));
    proc.on('exit', () => {
      const inWork: number[] = [];
      for (const run of leases.values()) run.dying(inWork);
      post(port, [DYING, running ?? null, inWork, uncaught]);
    });
  }
  port.post([HELLO]);
}

/** Posts, ignoring a closed channel: the pool is gone and nobody is listening. */
function post(port: WorkerPort, message: unknown[], transfer?: TransferListItem[]): void {
  try {
    port.post(message, transfer);
  } catch {
    // nothing to tell, and no one to tell it to
  }
}

type Fn = (...args: any[]) => unknown;

/**
 * How long a run of synchronous calls goes on before the worker reads its messages (ms). Long
 * enough that a yield (and the message of results it sends) costs under 1 % of CPU-bound work
 * (at 1 ms, 2 ms elements ran 3 % slower: bench cpu), short enough that the pool hears a reclaim or
 * an end while the worker works through short calls.
 */
const YIELD_AFTER_MS = 10;
/** Calls that took less than this (ms) since the last clock read, together, are short: read it half as often. */
const SHORT_CALLS_MS = 0.5;
/** At most this many calls between two clock reads: a long call after short ones delays a yield by at most this many calls less one. */
const MAX_CLOCK_EVERY = 4;

/** After the messages that are waiting: `setImmediate` in Node, a 0 ms timer in a browser worker. */
const macrotask: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => void (globalThis as unknown as { setImmediate: (f: () => void) => unknown }).setImmediate(fn)
    : (fn) => void setTimeout(fn, 0);

const enum State {
  Starting,
  Running,
  Failed,
  Ended,
}

/** A flatMap job whose inner source is producing: the lease is busy with it until it ends. */
interface Stream {
  readonly ctx: JobContext;
  inner: Inner | undefined;
  /** Outputs not sent yet. */
  part: unknown[];
  open: boolean;
}

/** One lease in this worker: its functions, resources, queued jobs and results to send. */
class LeaseRun {
  private state = State.Starting;
  private fn: Fn | undefined;
  private onEnd: Fn | undefined;
  private resources: unknown = undefined;
  private starting: Promise<boolean> | undefined;
  /** Queued jobs as flat triples `seq, value, elementIndex` from `head` on: no object per job. */
  private queue: unknown[] = [];
  private head = 0;
  /** The call in work (awaiting, or streaming); others in `calls` were cancelled and are still running. */
  private current: JobContext | undefined;
  private readonly calls = new Map<number, JobContext>();
  private stream: Stream | undefined;
  /** Cancelled before they started: skipped when reached. */
  private skip: Set<number> | undefined;
  /** The RESULTS message being filled: `[RESULTS, lease, seq, status, payload, ...]`. */
  private outbox: unknown[];
  private transfers: TransferListItem[] | undefined;
  /** Transfer lists by seq, for the one-by-one resend after a failed batch. */
  private transferBySeq: Map<number, TransferListItem[]> | undefined;
  private pumping = false;
  /** Calls between two reads of the clock in `pump` (1 while calls are long), calls left until the next, and when it was last read. */
  private clockEvery = 1;
  private untilClock = 1;
  private clockAt = 0;
  /** It was sent RUN_NUMBERS: its transport carries typed arrays, so results that are all numbers go as RESULTS_NUMBERS. */
  private packs = false;
  /** A pump gave way to the event loop (after a long synchronous call) and will go on. */
  private resumeQueued = false;
  private partQueued = false;
  private readonly filter: boolean;
  private readonly each: boolean;
  private readonly flat: boolean;
  /** The stage has a timeout: each call's beginning is said at once (R_BEGAN). */
  private readonly timed: boolean;

  constructor(
    private readonly port: WorkerPort,
    private readonly id: number,
    private readonly work: WireWork,
    private readonly info: WorkerInfo,
  ) {
    this.outbox = [RESULTS, id];
    this.filter = work.mode === 'filter';
    this.each = work.mode === 'each';
    this.flat = work.mode === 'flat';
    this.timed = work.timed === true;
  }

  start(): Promise<boolean> {
    this.starting ??= this.load();
    return this.starting;
  }

  private async load(): Promise<boolean> {
    let phase: 'load' | 'onStart' = 'load';
    let role: WireRole = 'fn';
    try {
      this.fn = await resolveWireFunction(this.work.fn);
      role = 'onStart';
      const onStart = this.work.onStart && (await resolveWireFunction(this.work.onStart));
      role = 'onEnd';
      this.onEnd = this.work.onEnd && (await resolveWireFunction(this.work.onEnd));
      phase = role = 'onStart';
      if (onStart) {
        running = [this.id, ON_START];
        let made: unknown;
        try {
          made = onStart({ workerInfo: this.info, stage: this.work.name });
        } finally {
          running = undefined;
        }
        this.resources = await made;
      }
    } catch (error) {
      if (this.state === State.Starting) this.state = State.Failed;
      this.queue = [];
      post(this.port, [START_FAILED, this.id, phase, role, toWireError(error)]);
      return false;
    }
    post(this.port, [STARTED, this.id]);
    if (this.state === State.Starting) {
      this.state = State.Running;
      this.pump();
    }
    return true;
  }

  enqueue(message: unknown[]): void {
    if (this.state > State.Running) return;
    if (message[0] === RUN_RANGE || message[0] === RUN_NUMBERS) {
      const seq = message[2] as number;
      const index = message[3] as number;
      const { values, from, count } = rangePayloads(message);
      if (message[0] === RUN_NUMBERS) this.packs = true;
      for (let i = 0; i < count; i++) this.queue.push(seq + i, values[from + i], index + i);
    } else {
      for (let i = 2; i < message.length; i++) this.queue.push(message[i]);
    }
    if (this.state === State.Running && !this.current) this.pump();
  }

  /** Runs queued jobs one at a time: synchronous results are batched, sent when it has to wait. */
  private pump(): void {
    if (this.pumping || this.resumeQueued) return; // a job that ended inside the loop: the loop goes on by itself
    this.pumping = true;
    const since = performance.now();
    try {
      const fn = this.fn!;
      while (!this.current && this.head < this.queue.length && this.state === State.Running) {
        const seq = this.queue[this.head] as number;
        const value = this.queue[this.head + 1];
        const wired = this.queue[this.head + 2] as number | number[];
        const index = typeof wired === 'number' ? [wired] : wired; // the pool sends a one-level index as a number
        this.queue[this.head + 1] = undefined; // let the value go once it is ours
        this.head += 3;
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        } else if (this.head >= 768 && this.head * 2 >= this.queue.length) {
          // A lease kept fed (prefetch) may never drain: drop the consumed half now and then.
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        if (this.skip?.delete(seq)) continue; // cancelled while queued (and answered then)
        const ctx = new JobContext(this.resources, this.info, index, seq);
        // Kept in `calls` (for a cancel, an end, a worker's last words) only once it outlives this
        // synchronous call: nothing can reach a call while it runs, and `running` names it.
        if (this.timed) {
          // Its clock starts now: said at once (with what finished before it), ahead of the call.
          this.outbox.push(seq, R_BEGAN, undefined);
          this.flush();
        }
        let result: unknown;
        let then: PromiseLike<unknown>['then'] | undefined;
        runningCall[0] = this.id;
        runningCall[1] = seq;
        running = runningCall;
        try {
          result = fn(value, ctx);
          then = thenOf(result);
        } catch (error) {
          running = undefined;
          this.finish(ctx, false, error);
          continue;
        }
        running = undefined;
        if (then || this.flat) this.calls.set(seq, ctx);
        if (then) {
          this.current = ctx;
          this.flush(); // results so far go now, not after this call
          try {
            adoptThenable(result, then, this, ctx); // a thenable it answers with is followed, as `await` does
          } catch (error) {
            this.settleCall(ctx, false, error);
          }
          continue;
        }
        if (this.flat) this.openOutputs(ctx, result);
        else this.finish(ctx, true, result);
        // Long synchronous calls back to back: give way to the event loop between them, so that
        // the pool's messages get in (an idle worker taking queued jobs back, an end, a cancel).
        // The clock is read after every call while calls are long, and after every few while they
        // are short: a clock read costs as much as a trivial call and what goes with it.
        if (this.head < this.queue.length && --this.untilClock <= 0) {
          const now = performance.now();
          this.clockEvery = now - this.clockAt < SHORT_CALLS_MS ? Math.min(this.clockEvery * 2, MAX_CLOCK_EVERY) : 1;
          this.untilClock = this.clockEvery;
          this.clockAt = now;
          if (now - since <= YIELD_AFTER_MS) continue;
          this.resumeQueued = true;
          macrotask(() => {
            this.resumeQueued = false;
            if (!this.current) this.pump();
          });
          break;
        }
      }
    } finally {
      this.pumping = false;
    }
    this.flush();
  }

  /** A call that returned a promise settled (its thenable followed to a value: {@link adoptThenable}). */
  settleCall(ctx: JobContext, ok: boolean, value: unknown): void {
    if (ctx.settled) return; // a thenable may call back twice: only its first answer counts
    if (ok && this.flat && !ctx.aborted) {
      ctx.settled = true;
      this.openOutputs(ctx, value);
    } else {
      this.finish(ctx, ok, value);
    }
    this.next(ctx);
  }

  /** The call `ctx` no longer holds the lease: the next job may start. */
  private next(ctx: JobContext): void {
    if (this.current === ctx && !(this.stream && this.stream.ctx === ctx)) {
      this.current = undefined;
      this.pump();
    } else {
      this.flush();
    }
  }

  /** flatMap: all outputs at once, or an inner source streamed within the window the pool allows. */
  private openOutputs(ctx: JobContext, value: unknown): void {
    let outs: unknown[] | 'inner';
    try {
      outs = outputsOf(value);
    } catch (error) {
      return this.finish(ctx, false, error);
    }
    if (outs !== 'inner') return this.finish(ctx, true, outs);
    const stream: Stream = { ctx, inner: undefined, part: [], open: true };
    this.stream = stream;
    this.current = ctx;
    running = [this.id, ctx.seq];
    try {
      stream.inner = openInner(value, {
        next: (v) => {
          if (!stream.open) return;
          stream.part.push(v);
          this.queuePart();
        },
        complete: () => this.streamEnded(stream, true, undefined),
        error: (e) => this.streamEnded(stream, false, e),
      });
      if (stream.open) stream.inner.pull(OUTPUT_WINDOW);
    } finally {
      running = undefined;
    }
  }

  /** Outputs streamed in one turn go in one message. */
  private queuePart(): void {
    if (this.partQueued) return;
    this.partQueued = true;
    queueMicrotask(() => {
      this.partQueued = false;
      const stream = this.stream;
      if (!stream || !stream.open || stream.part.length === 0) return;
      this.outbox.push(stream.ctx.seq, R_PART, stream.part);
      stream.part = [];
      this.flush();
    });
  }

  private streamEnded(stream: Stream, ok: boolean, value: unknown): void {
    if (!stream.open) return;
    stream.open = false;
    if (this.stream === stream) this.stream = undefined;
    const ctx = stream.ctx;
    if (ok) this.finish(ctx, true, stream.part);
    else {
      // What it produced before failing goes first: the stage may still emit it.
      if (stream.part.length > 0 && !ctx.aborted) this.outbox.push(ctx.seq, R_PART, stream.part);
      this.finish(ctx, false, value);
    }
    if (this.current === ctx) {
      this.current = undefined;
      this.pump();
    }
  }

  /** flatMap: the pool lets the streaming job produce `count` more outputs. */
  pull(seq: number, count: number): void {
    const stream = this.stream;
    if (!stream || stream.ctx.seq !== seq || !stream.open) return;
    running = [this.id, seq];
    try {
      stream.inner!.pull(count);
    } finally {
      running = undefined;
    }
  }

  /** Puts a call's result in the outbox. */
  private finish(ctx: JobContext, ok: boolean, value: unknown): void {
    ctx.settled = true;
    if (this.calls.size > 0) this.calls.delete(ctx.seq);
    if (ctx.aborted) {
      this.outbox.push(ctx.seq, R_CANCELLED, undefined); // the pool only needs to know it stopped
      return;
    }
    if (!ok) {
      this.outbox.push(ctx.seq, R_ERROR, toWireError(value));
      return;
    }
    // filter only needs the verdict and each nothing: less to clone, nothing that could fail to.
    if (this.filter) value = !!value;
    else if (this.each) value = undefined;
    else {
      const list = takeTransferList(value);
      if (list) {
        (this.transfers ??= []).push(...list);
        (this.transferBySeq ??= new Map()).set(ctx.seq, list);
      }
    }
    this.outbox.push(ctx.seq, R_OK, value);
  }

  /** The call in work as of the last message sent (see R_RUNNING). */
  private said: number | undefined;

  private flush(): void {
    const message = this.outbox;
    const current = this.current && !this.current.aborted ? this.current.seq : undefined;
    if (message.length === 2 && current === this.said) return;
    // Which call is in work goes with what was finished: if the worker is killed from outside, the
    // pool knows which call was running (one message, not one more, in the usual case).
    if (current !== undefined) message.push(current, R_RUNNING, undefined);
    this.said = current;
    const transfers = this.transfers;
    const bySeq = this.transferBySeq;
    this.outbox = [RESULTS, this.id];
    this.transfers = undefined;
    this.transferBySeq = undefined;
    try {
      const packed = transfers === undefined && this.packs ? packResults(message) : undefined;
      if (packed) this.port.post(packed); // copied: for a few KB, transferring the buffer costs twice as much
      else this.port.post(compact(message), transfers);
      return;
    } catch {
      // Some result cannot be cloned: nothing was sent. Send them one by one, so only that one fails.
    }
    for (let i = 2; i < message.length; i += 3) {
      const seq = message[i] as number;
      if (message[i + 1] === R_RUNNING) {
        post(this.port, [RESULTS, this.id, seq, R_RUNNING, undefined]);
        continue;
      }
      const status = message[i + 1];
      const transfer = bySeq?.get(seq);
      try {
        // A flatMap call's outputs (all of them, or a part) too large for one message go as parts.
        if (this.flat && transfer === undefined && (status === R_OK || status === R_PART) && Array.isArray(message[i + 2])) this.postOutputs(seq, status, message[i + 2] as unknown[]);
        else this.port.post([RESULTS, this.id, seq, status, message[i + 2]], transfer);
      } catch (error) {
        post(this.port, [RESULTS, this.id, seq, R_UNCLONEABLE, toWireError(error)]);
      }
    }
  }

  /**
   * flatMap: outputs of call `seq` too large for one message (a RangeError: NATS max_payload) go in
   * halves, the first as a part (R_PART), until each fits; throws what an output that cannot go alone
   * throws (the parts before it are sent: the stage emits them, as a stream's outputs before its
   * error). Outputs that cannot be cloned are not split: the call fails whole, as before.
   */
  private postOutputs(seq: number, status: number, outs: unknown[]): void {
    try {
      this.port.post([RESULTS, this.id, seq, status, outs]);
      return;
    } catch (error) {
      if (outs.length < 2 || !(error instanceof RangeError)) throw error;
    }
    const half = outs.length >> 1;
    this.postOutputs(seq, R_PART, outs.slice(0, half));
    this.postOutputs(seq, status, outs.slice(half));
  }

  cancel(seq: number, reason: unknown): void {
    const ctx = this.calls.get(seq);
    if (ctx) {
      ctx.abort(reason); // an awaited call reports R_CANCELLED when it finally settles
      const stream = this.stream;
      if (stream && stream.ctx === ctx) {
        // A streaming inner stops now: there is no later settle to wait for.
        stream.open = false;
        this.stream = undefined;
        stream.inner?.close();
        this.finish(ctx, true, undefined);
      }
      if (this.current === ctx) {
        this.current = undefined; // the stage has moved on: so does the lease
        this.pump();
      } else this.flush();
      return;
    }
    for (let i = this.head; i < this.queue.length; i += 3) {
      if (this.queue[i] === seq) {
        (this.skip ??= new Set()).add(seq); // it will never run: say so now
        break;
      }
    }
    // Queued, or already answered (the answer is on its way): either way it is not running.
    this.outbox.push(seq, R_CANCELLED, undefined);
    this.flush();
  }

  /** Takes up to `count` queued jobs that have not started out of the queue, the last first. */
  reclaim(count: number): number[] {
    const seqs: number[] = [];
    let end = this.queue.length;
    while (seqs.length < count && end - 3 >= this.head) {
      const seq = this.queue[end - 3] as number;
      end -= 3;
      if (this.skip?.delete(seq)) continue; // cancelled already, and answered
      seqs.push(seq);
    }
    this.queue.length = end;
    return seqs;
  }

  /** The worker is exiting: what it finished goes now, and the calls still in work are listed. */
  dying(inWork: number[]): void {
    const stream = this.stream;
    if (stream && stream.open && stream.part.length > 0) {
      this.outbox.push(stream.ctx.seq, R_PART, stream.part);
      stream.part = [];
    }
    this.flush();
    for (const [seq, ctx] of this.calls) if (!ctx.aborted) inWork.push(this.id, seq);
  }

  async end(status: StageStatus): Promise<void> {
    const was = this.state;
    this.state = State.Ended;
    this.queue = [];
    this.head = 0;
    this.current = undefined;
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      stream.open = false;
      stream.inner?.close();
      this.calls.delete(stream.ctx.seq);
      stream.ctx.abort(new DOMException('The stage ended', 'AbortError'));
      this.outbox.push(stream.ctx.seq, R_CANCELLED, undefined);
    }
    const reason = new DOMException('The stage ended', 'AbortError');
    for (const ctx of this.calls.values()) ctx.abort(reason);
    this.flush();
    // At once, so the pool knows this worker listens even while onStart or onEnd takes its time.
    post(this.port, [ENDING, this.id, [...this.calls.keys()]]);
    let error: WireError | undefined;
    const started = was === State.Running || (was === State.Starting && (await this.start()));
    if (started && this.onEnd) {
      try {
        running = [this.id, ON_END];
        let ending: unknown;
        try {
          ending = this.onEnd({ resources: this.resources, workerInfo: this.info, stage: this.work.name, stageStatus: status });
        } finally {
          running = undefined;
        }
        await ending;
      } catch (e) {
        error = toWireError(e);
      }
    }
    post(this.port, [ENDED, this.id, error]);
  }
}

/**
 * A RESULTS message as a RESULTS_NUMBERS when it could be a RESULTS_RANGE (see {@link compact}) of
 * at least MIN_PACKED results that are all numbers; else undefined.
 */
function packResults(message: unknown[]): unknown[] | undefined {
  const n = (message.length - 2) / 3;
  if (n < MIN_PACKED) return undefined;
  const first = message[2] as number;
  const numbers = new Float64Array(n);
  for (let i = 2, seq = first, k = 0; i < message.length; i += 3, seq++, k++) {
    const payload = message[i + 2];
    if (message[i] !== seq || message[i + 1] !== R_OK || typeof payload !== 'number') return undefined;
    numbers[k] = payload;
  }
  return [RESULTS_NUMBERS, message[1], first, numbers];
}

/**
 * A RESULTS message as a RESULTS_RANGE when every result is `R_OK` and the seqs count up by one
 * (the usual case: a lease's jobs run in the order sent): one number per result instead of three.
 */
function compact(message: unknown[]): unknown[] {
  const first = message[2] as number;
  for (let i = 2, seq = first; i < message.length; i += 3, seq++) {
    if (message[i] !== seq || message[i + 1] !== R_OK) return message;
  }
  const out: unknown[] = [RESULTS_RANGE, message[1], first];
  for (let i = 4; i < message.length; i += 3) out.push(message[i]);
  return out;
}
