import type { ElementIndex } from '../errors.js';
import type { StageStatus, WorkerInfo } from '../shared/context.js';
import type { Work } from '../shared/task.js';

/**
 * What a stage does with `fn`'s return value. The scheduler needs it only where the value must be
 * made transportable: in `'flat'` mode a remote worker collects the outputs into an array.
 */
export type StageMode = 'map' | 'filter' | 'flat' | 'each';

/** What a stage subscription asks a scheduler to run; fixed for the subscription's life. */
export interface StageWork {
  /** The stage's name, for errors. */
  readonly name: string;
  readonly mode: StageMode;
  /** `fn(value, ctx)`. */
  readonly fn: Work;
  /** `onStart(ctx)`, run once per worker subscription, inside the worker. */
  readonly onStart: Work | undefined;
  /** `onEnd(ctx)`, run once per worker subscription when it ends, inside the worker. */
  readonly onEnd: Work | undefined;
  /** The stage has a `timeout`: a lease that can tell when a call begins says so (`LeaseSink.began`). */
  readonly timed?: boolean;
}

/** {@link WorkerLease.callNow}: nothing ran. */
export const NOT_NOW: unique symbol = Symbol('rxjs-parallel.notNow');
/** {@link WorkerLease.callNow}: the call goes on, settled through the sink. */
export const IN_FLIGHT: unique symbol = Symbol('rxjs-parallel.inFlight');
/** {@link WorkerLease.callNow}: `fn` threw `error`. */
export class Threw {
  constructor(readonly error: unknown) {}
}

/** One element handed to a worker. */
export interface Job {
  /** The stage's sequence number of the element; the key of every callback about it. */
  readonly seq: number;
  readonly value: unknown;
  readonly elementIndex: ElementIndex;
}

/**
 * How a worker reports back to the stage. Each job given to `run` is settled exactly once, by
 * `resolve` or `reject`, and never synchronously inside `run` (the sync scheduler excepted).
 */
/**
 * A run of consecutive elements that travel as one record (a stage's run lane, see src/core/lane.ts):
 * `n` values with seqs `seq0 … seq0 + n - 1`, given to a lease whose `runValues` takes it, and
 * answered by `LeaseSink.settleRun`. No per-element state exists for them on either side until
 * something element-specific happens (a failure, a crash, work given back): then the stage leaves
 * its lane, making a {@link Job} for each element of the run still in work (`jobs`), and the lease
 * holds those as if they had come through `run` (`WorkerLease.leftLane`).
 */
export interface ValueRun {
  readonly seq0: number;
  readonly n: number;
  readonly values: readonly unknown[];
  /**
   * Every index is one level and one more than the one before: the run can go as a range, and
   * position `i`'s index is `[index0 + i]`.
   */
  readonly contiguous: boolean;
  /** The first position's one-level index, when `contiguous` (0 otherwise). */
  readonly index0: number;
  /** Each position's index, when not `contiguous` (undefined otherwise: no array per element). */
  readonly indexes: readonly ElementIndex[] | undefined;
  /** Set as the stage leaves its lane: each position's job while in work, undefined once answered. */
  jobs: (Job | undefined)[] | undefined;
}

export interface LeaseSink {
  /**
   * The job finished. `value` is `fn`'s result: the mapped value (map), the verdict (filter),
   * anything (each). In flat mode, the job's last outputs as an array (after any sent through
   * {@link outputs}); a scheduler that does not stream may give `fn`'s own result (an Iterable,
   * AsyncIterable, Observable or a Promise of one), which the stage then collects whole.
   */
  resolve(seq: number, value: unknown): void;
  /**
   * The job failed: with what `fn` threw (the stage wraps it in a `StageError`), a
   * `WorkerCrashedError` when the worker died holding it, or a `WorkerFunctionError`.
   */
  reject(seq: number, error: unknown): void;
  /**
   * Flat mode: outputs of a job that is still producing them (its inner Iterable, AsyncIterable or
   * Observable); more may follow, and `resolve` or `reject` ends it. A lazy inner produces only
   * what the stage allowed: `Scheduler.outputWindow` outputs, plus what it asks for with
   * `WorkerLease.request`.
   */
  outputs(seq: number, values: readonly unknown[]): void;
  /**
   * Jobs that were sent but never started, given back (after `WorkerLease.reclaim`): the stage
   * runs them elsewhere. They are not settled and used no attempt.
   */
  reclaimed(jobs: readonly Job[]): void;
  /**
   * Jobs that are sent again to a replacement worker (theirs died holding them, for another job's
   * sake), as a new attempt that uses no retry, or that are sent now after a wait in the lease: their
   * `timeout` starts again. With `paused`, it stops instead, until they are named again: they wait in
   * the lease for a worker to start (load the functions, run onStart) or for their turn to be sent.
   */
  resent(jobs: readonly Job[], paused?: boolean): void;
  /**
   * A lease whose `timesFromBegin` is true says when its worker begins the job's call: its
   * `timeout` starts then (and not when it was sent, nor when it is `resent`).
   */
  began?(job: Job): void;
  /**
   * `resolve` (`ok`) or `reject` by the job object itself rather than by its seq. A lease whose
   * `byJob` is true settles (and sends outputs) only this way.
   */
  settleJob?(job: Job, ok: boolean, value: unknown): void;
  /** `outputs` by the job object itself; see `settleJob`. */
  outputsJob?(job: Job, values: readonly unknown[]): void;
  /**
   * A job the stage cancelled (`WorkerLease.cancel`: it timed out) has really stopped: its call
   * settled after the abort, its worker was terminated, or (in-process) the scheduler stopped
   * waiting for it. A lease whose `reportsStopped` is true calls it once per cancelled job; the
   * stage keeps the job's `partitionBy` key busy until then, so that a call that ignores its signal
   * never overlaps the next element of its key.
   */
  stopped?(job: Job): void;
  /**
   * Optional, for a scheduler that receives many results at once (a batch from a remote worker):
   * calls `deliver`, inside which it calls `resolve` and `reject` for each, and the stage acts on
   * them together when it returns (emits, asks upstream for more and dispatches once, not once per
   * result). A scheduler that does not call it settles results one by one, with the same outcome.
   */
  settleMany?(deliver: () => void): void;
  /**
   * Optional, inside {@link settleMany}: `settleJob(jobs[i], true, values[i])` for each, in order,
   * in one call (a batch's results, all answered: the stage frees the worker's room once, not once
   * per element).
   */
  settleAll?(jobs: readonly Job[], values: readonly unknown[]): void;
  /**
   * Results of `count` positions of a run given to `runValues`, from position `at`:
   * `values[from … from + count - 1]`, all `fn`'s results (a failure is never reported this way:
   * the lease calls {@link leaveLane} first and settles the job).
   */
  settleRun?(run: ValueRun, at: number, values: ArrayLike<unknown>, from: number, count: number): void;
  /**
   * The lease must act on one element of a run (a failure, a crash, work given back): the stage
   * leaves its lane for good, on every lease (each hears `WorkerLease.leftLane` before this returns).
   */
  leaveLane?(): void;
}

/**
 * One worker subscription: a worker taken by one subscription of one stage, with the resources its
 * `onStart` made. The stage never has more jobs in a lease than it allows (1, or the batch size,
 * plus the scheduler's prefetch).
 */
export interface WorkerLease {
  /** Resolves once `onStart` has run in the worker; rejects with what it threw. */
  readonly ready: Promise<void>;
  /**
   * True for a lease that settles its jobs, and sends their outputs, by the job object
   * (`LeaseSink.settleJob`, `outputsJob`) rather than by seq: the stage then keeps no index of
   * its jobs by seq (a Map operation per element saved). The library's own leases do.
   */
  readonly byJob?: boolean;
  /** True for a lease that reports each cancelled job's end through `LeaseSink.stopped`. */
  readonly reportsStopped?: boolean;
  /**
   * True when a cancelled call keeps the lease's worker busy until `LeaseSink.stopped` (a worker
   * thread or process runs one call at a time): the stage sends the lease nothing new until then.
   */
  readonly cancelHoldsWorker?: boolean;
  /** True for a lease that calls `LeaseSink.began` as each job's call begins in its worker (for a `timed` stage). */
  readonly timesFromBegin?: boolean;

  /**
   * True when `ready` has resolved already, so that the stage may run elements at once (the sync
   * scheduler with nothing to await: elements then run within the upstream's `next`).
   */
  readonly readyNow?: boolean;
  /**
   * Optional, for a lease that runs calls inline (the sync scheduler): runs one job now and, when
   * `fn` returns synchronously, returns its result instead of settling it through the sink, so
   * that an element that goes in and comes out within one upstream `next` costs the stage no queue,
   * dispatch or emission bookkeeping. Otherwise it returns {@link NOT_NOW} (nothing ran: the stage
   * dispatches the job as usual), {@link IN_FLIGHT} (the call goes on, or its result is not wanted:
   * the sink hears of it as of a job given to `run`), or a {@link Threw} (`fn` threw).
   */
  callNow?(job: Job): unknown;
  /** Runs jobs (one, or a batch); each is settled once through the sink. */
  run(jobs: readonly Job[]): void;
  /** Optional: runs one job, as `run([job])` would, without an array for it. */
  runOne?(job: Job): void;
  /**
   * Aborts `ctx.signal` of a job in work (it timed out), and tears its inner source down (flat);
   * the stage has already settled it.
   */
  cancel(seq: number, reason: unknown): void;
  /**
   * Flat mode: lets a job whose inner source is lazy produce `count` more outputs. Without it, a
   * lease streams nothing beyond `Scheduler.outputWindow` (or collects the inner whole).
   */
  request?(seq: number, count: number): void;
  /**
   * Asks for up to `count` jobs sent to this lease but not started yet back (the last sent first),
   * so that an idle worker can run them: answered by `LeaseSink.reclaimed` (possibly with none).
   */
  reclaim?(count: number): void;
  /**
   * False while the lease cannot take runs (`runValues`) now: its worker is not started, or
   * something of its own needs per-job state (isolation after a crash, ending, broken). The stage
   * then leaves its lane and gives it jobs. Absent: always open.
   */
  readonly laneOpen?: boolean;
  /** Optional: runs a {@link ValueRun}, answered through `LeaseSink.settleRun`. */
  runValues?(run: ValueRun): void;
  /** The stage left its lane: the jobs of every run given (`run.jobs`) are the lease's own now, as if given to `run`. */
  leftLane?(): void;
  /**
   * Ends the worker subscription: aborts `ctx.signal` of every job still in work (their results
   * are no longer wanted and must not reach the sink), runs `onEnd` with `status`, and gives the
   * worker back. Rejects with what `onEnd` threw. Never hangs: a worker that does not answer
   * within the scheduler's bounds is terminated (or, in-process, no longer waited for).
   */
  end(status: StageStatus): Promise<void>;
}

/**
 * Where a stage's work runs. One instance may serve many stages and subscriptions; it starts
 * workers lazily and keeps them until `close()`. Implementations: task, sync, thread, process.
 */
export interface Scheduler {
  /** `'task'`, `'sync'`, `'thread'`, `'process'`, or another transport's name. */
  readonly kind: string;
  /** Whether the stage's `batchSize` applies (work crosses a message boundary). */
  readonly batching: boolean;
  /**
   * How many workers it runs: a stage without `workers` takes this many leases. Default 1.
   */
  readonly size?: number;
  /**
   * Elements a lease may be sent beyond the batch in work, rounded up to whole batches (so at
   * least one batch when not 0), so that a remote worker finds its next batch already queued
   * instead of waiting a round trip. The lease must run a lease's jobs one at a time, in the order
   * sent. The stage sends none beyond the batch in work when the stage has a `timeout` (which
   * measures the call itself). Default 0.
   */
  readonly prefetch?: number;
  /**
   * Flat mode: outputs a job's lazy inner source may produce before the stage asks for more with
   * `WorkerLease.request` (a window that hides a round trip). Default 0: only what is asked.
   */
  readonly outputWindow?: number;
  /** Takes a worker for one worker subscription of a stage. Must not throw: failures reject `ready`. */
  lease(work: StageWork, info: WorkerInfo, sink: LeaseSink): WorkerLease;
  /** Ends every worker. Leases still open are ended first. Idempotent. */
  close(): Promise<void>;
}

/** The string forms of the `scheduler` option. */
export type SchedulerName = 'task' | 'thread' | 'process' | 'sync';

/** True for an object that implements {@link Scheduler}. */
export function isScheduler(value: unknown): value is Scheduler {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Scheduler).lease === 'function' &&
    typeof (value as Scheduler).close === 'function' &&
    typeof (value as Scheduler).kind === 'string'
  );
}
