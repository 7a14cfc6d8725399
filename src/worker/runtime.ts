/**
 * The worker runtime: what runs inside a worker thread, a Web Worker or a child process, serving
 * the leases a pool sends it. One worker may serve several leases (stages, subscriptions) at once,
 * each with its own resources; within a lease, jobs run one at a time in the order sent.
 * @internal
 * @module
 */
import { JobContext } from '../core/job-context.js';
import type { StageStatus, WorkerInfo } from '../core/context.js';
import { takeTransferList, type TransferListItem } from '../core/transfer.js';
import { collectOutputs } from '../core/outputs.js';
import {
  CANCEL,
  CLOSE,
  END,
  ENDED,
  ENDING,
  fromWireError,
  HELLO,
  R_CANCELLED,
  R_ERROR,
  R_OK,
  R_UNCLONEABLE,
  RESULTS,
  RESULTS_RANGE,
  RUN,
  RUN_RANGE,
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
  /** Sends a message; throws (DataCloneError) when it cannot be cloned, sending nothing. */
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
      case RUN_RANGE: {
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

const enum State {
  Starting,
  Running,
  Failed,
  Ended,
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
  /** The call in work; others in `calls` were cancelled and are still running. */
  private current: JobContext | undefined;
  private readonly calls = new Map<number, JobContext>();
  /** Cancelled before they started: skipped when reached. */
  private skip: Set<number> | undefined;
  /** The RESULTS message being filled: `[RESULTS, lease, seq, status, payload, ...]`. */
  private outbox: unknown[];
  private transfers: TransferListItem[] | undefined;
  /** Transfer lists by seq, for the one-by-one resend after a failed batch. */
  private transferBySeq: Map<number, TransferListItem[]> | undefined;
  private readonly filter: boolean;
  private readonly each: boolean;
  private readonly flat: boolean;

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
      if (onStart) this.resources = await onStart({ workerInfo: this.info, stage: this.work.name });
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
    if (message[0] === RUN_RANGE) {
      const seq = message[2] as number;
      const index = message[3] as number;
      for (let i = 4; i < message.length; i++) this.queue.push(seq + i - 4, message[i], index + i - 4);
    } else {
      for (let i = 2; i < message.length; i++) this.queue.push(message[i]);
    }
    if (this.state === State.Running && !this.current) this.pump();
  }

  /** Runs queued jobs one at a time: synchronous results are batched, sent when it has to wait. */
  private pump(): void {
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
      this.calls.set(seq, ctx);
      let result: unknown;
      try {
        result = fn(value, ctx);
        if (this.flat) result = collectOutputs(result);
      } catch (error) {
        this.finish(ctx, false, error);
        continue;
      }
      if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as PromiseLike<unknown>).then === 'function') {
        this.current = ctx;
        this.flush(); // results so far go now, not after this call
        (result as PromiseLike<unknown>).then(
          (v) => this.settled(ctx, true, v),
          (e) => this.settled(ctx, false, e),
        );
        return;
      }
      this.finish(ctx, true, result);
    }
    this.flush();
  }

  private settled(ctx: JobContext, ok: boolean, value: unknown): void {
    if (ok && this.flat && !Array.isArray(value) && !ctx.aborted) {
      // a Promise resolved to something to drain (an iterable, an observable ...)
      let outs: unknown[] | Promise<unknown[]>;
      try {
        outs = collectOutputs(value);
      } catch (error) {
        return this.settled(ctx, false, error);
      }
      if (!Array.isArray(outs)) {
        outs.then(
          (v) => this.settled(ctx, true, v),
          (e) => this.settled(ctx, false, e),
        );
        return;
      }
      value = outs;
    }
    this.finish(ctx, ok, value);
    if (this.current === ctx) {
      this.current = undefined;
      this.pump();
    } else {
      this.flush();
    }
  }

  /** Puts a call's result in the outbox. */
  private finish(ctx: JobContext, ok: boolean, value: unknown): void {
    this.calls.delete(ctx.seq);
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

  private flush(): void {
    const message = this.outbox;
    if (message.length === 2) return;
    const transfers = this.transfers;
    const bySeq = this.transferBySeq;
    this.outbox = [RESULTS, this.id];
    this.transfers = undefined;
    this.transferBySeq = undefined;
    try {
      this.port.post(compact(message), transfers);
      return;
    } catch {
      // Some result cannot be cloned: nothing was sent. Send them one by one, so only that one fails.
    }
    for (let i = 2; i < message.length; i += 3) {
      const seq = message[i] as number;
      try {
        this.port.post([RESULTS, this.id, seq, message[i + 1], message[i + 2]], bySeq?.get(seq));
      } catch (error) {
        post(this.port, [RESULTS, this.id, seq, R_UNCLONEABLE, toWireError(error)]);
      }
    }
  }

  cancel(seq: number, reason: unknown): void {
    const ctx = this.calls.get(seq);
    if (ctx) {
      ctx.abort(reason); // it reports R_CANCELLED when it finally settles
      if (this.current === ctx) {
        this.current = undefined; // the stage has moved on: so does the lease
        this.pump();
      }
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

  async end(status: StageStatus): Promise<void> {
    const was = this.state;
    this.state = State.Ended;
    this.queue = [];
    this.head = 0;
    this.current = undefined;
    const reason = new DOMException('The stage ended', 'AbortError');
    for (const ctx of this.calls.values()) ctx.abort(reason);
    this.flush();
    // At once, so the pool knows this worker listens even while onStart or onEnd takes its time.
    post(this.port, [ENDING, this.id, [...this.calls.keys()]]);
    let error: WireError | undefined;
    const started = was === State.Running || (was === State.Starting && (await this.start()));
    if (started && this.onEnd) {
      try {
        await this.onEnd({ resources: this.resources, workerInfo: this.info, stage: this.work.name, stageStatus: status });
      } catch (e) {
        error = toWireError(e);
      }
    }
    post(this.port, [ENDED, this.id, error]);
  }
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
