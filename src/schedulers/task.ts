import type { StageStatus, WorkerInfo } from '../shared/context.js';
import { CallList, JobContext } from '../shared/job-context.js';
import { adoptThenable, thenOf } from '../shared/thenable.js';
import { openInner, outputsOf, type Inner } from '../shared/inner.js';
import { isTaskRef, loadTask, type Work } from '../shared/task.js';
import { TaskTimeoutError, WorkerCrashedError } from '../errors.js';
import { checkPoolOptions } from './pool-options.js';
import { IN_FLIGHT, NOT_NOW, Threw, type Job, type LeaseSink, type Scheduler, type StageWork, type WorkerLease } from './scheduler.js';
import { loadError } from './ship.js';

/** Options of {@link taskScheduler} and {@link syncScheduler}. */
export interface InProcessSchedulerOptions {
  /**
   * Milliseconds a stage's `onStart` may take (loading a `task()` module included); past it the
   * stage fails with a `TaskTimeoutError` whose `phase` is `'onStart'`.
   * @default 30000
   */
  startTimeout?: number;
  /**
   * Milliseconds the end of a worker subscription may take: an `onStart` still running, then
   * `onEnd`. Past it the stage stops waiting (it completes, or fails, with a `TaskTimeoutError`
   * whose `phase` is `'onEnd'`), so that a hung `onEnd` cannot hang the pipeline.
   * @default 10000
   */
  endTimeout?: number;
  /**
   * Milliseconds a call that timed out (its `ctx.signal` aborted) is waited for before the stage
   * stops waiting: with `partitionBy`, its key stays busy until the call has stopped or this has
   * passed, so that it does not overlap the next element of its key. (Nothing in-process can stop
   * a call that ignores its signal; a thread or process worker is terminated after its own
   * `cancelGrace`.)
   * @default 1000
   */
  cancelGrace?: number;
}

/** Defaults of the in-process schedulers, in one place. */
export const IN_PROCESS_DEFAULTS = Object.freeze({ startTimeout: 30_000, endTimeout: 10_000, cancelGrace: 1000 });

/**
 * Runs `fn` in this event loop, as async tasks: the default scheduler, for I/O-bound work.
 * `workers` is the number of calls in flight at once. The reference implementation of
 * {@link Scheduler}.
 *
 * ```ts
 * src$.pipe(mapParallel(fetchJson, { workers: 8, scheduler: taskScheduler() }))
 * ```
 * @param options {@link InProcessSchedulerOptions}: bounds on `onStart` and on a worker's end.
 * @returns A scheduler that can be shared by any number of stages; `close()` is a no-op.
 */
export function taskScheduler(options?: InProcessSchedulerOptions): Scheduler {
  return new TaskScheduler('task', options);
}

/** @internal Shared by the task and sync schedulers: they differ only in how results are delivered. */
export class TaskScheduler implements Scheduler {
  readonly batching = false;
  private readonly startTimeout: number;
  private readonly endTimeout: number;
  private readonly cancelGrace: number;
  constructor(
    readonly kind: 'task' | 'sync',
    options: InProcessSchedulerOptions = {},
  ) {
    const o = checkPoolOptions(`${kind}Scheduler`, options, ['startTimeout', 'endTimeout', 'cancelGrace']) as InProcessSchedulerOptions;
    this.startTimeout = o.startTimeout ?? IN_PROCESS_DEFAULTS.startTimeout;
    this.endTimeout = o.endTimeout ?? IN_PROCESS_DEFAULTS.endTimeout;
    this.cancelGrace = o.cancelGrace ?? IN_PROCESS_DEFAULTS.cancelGrace;
  }
  /** Leases not ended yet: `close()` ends them, as a pool's does. */
  private readonly leases = new Set<InProcessLease>();

  lease(work: StageWork, info: WorkerInfo, sink: LeaseSink): WorkerLease {
    const lease = new InProcessLease(work, info, sink, this.kind === 'sync', this.startTimeout, this.endTimeout, this.cancelGrace, this.leases);
    this.leases.add(lease);
    return lease;
  }

  /**
   * Ends the leases still open, as a pool's `close()` does: their calls in work fail with
   * `WorkerCrashedError` (the scheduler is going away), then each runs its `onEnd`. The scheduler
   * can be used again afterwards.
   */
  async close(): Promise<void> {
    const open = [...this.leases];
    let left = open.length;
    await Promise.allSettled(open.map((lease) => lease.closeByScheduler({ done: --left === 0, activeWorkers: left })));
  }
}

type Fn = (...args: any[]) => unknown;

class InProcessLease implements WorkerLease {
  readonly ready: Promise<void>;
  /** The sync scheduler with nothing to await: the stage may run elements at once, inline. */
  readonly readyNow: boolean = false;
  readonly byJob = true;
  readonly reportsStopped = true;
  private fn: Fn | undefined;
  private onEnd: Fn | undefined;
  private resources: unknown = undefined;
  /**
   * Calls in flight (a list through JobContext.prev/next: adding and removing one costs no Map
   * operation per element; finding one by seq, for a cancel, walks the few that are in flight).
   */
  private readonly inFlight = new CallList();
  /** The call of {@link callNow} while its fn runs (not in `inFlight` until it outlives fn). */
  private calling: JobContext | undefined = undefined;
  /** flatMap: inner sources still producing, by seq. */
  private inners: Map<number, Inner> | undefined;
  /** flatMap: outputs the stage asked for before the call's inner source was open. */
  private asked: Map<number, number> | undefined;
  /** Cancelled calls still running, whose grace timer runs (see {@link cancel}). */
  private inGrace: Set<JobContext> | undefined;
  private readonly flat: boolean;
  private ended = false;

  constructor(
    private readonly work: StageWork,
    private readonly info: WorkerInfo,
    private readonly sink: LeaseSink,
    private readonly inline: boolean,
    private readonly startTimeout: number,
    private readonly endTimeout: number,
    private readonly cancelGrace: number,
    private readonly open: Set<InProcessLease>,
  ) {
    this.flat = work.mode === 'flat';
    if (inline && !isTaskRef(work.fn) && !isTaskRef(work.onEnd) && !isTaskRef(work.onStart)) {
      // Nothing to await (no module to import, an onStart that returns at once): run each element
      // as it arrives, within the upstream's `next`, as RxJS's own operators do (so take(n) stops a
      // synchronous source after n).
      let made: unknown;
      let then: PromiseLike<unknown>['then'] | undefined;
      try {
        made = work.onStart ? (work.onStart as Fn)({ workerInfo: info, stage: work.name }) : undefined;
        then = thenOf(made);
      } catch (error) {
        this.ready = Promise.reject(error);
        this.ready.catch(() => {});
        return;
      }
      if (!then) {
        this.fn = work.fn as Fn;
        this.onEnd = work.onEnd as Fn | undefined;
        this.resources = made;
        this.readyNow = true;
        this.ready = Promise.resolve();
        return;
      }
      // onStart returned a promise: wait for it (the elements that arrive meanwhile wait too).
      this.ready = this.boundedStart(
        Promise.resolve(made).then((resources) => {
          this.fn = work.fn as Fn;
          this.onEnd = work.onEnd as Fn | undefined;
          this.resources = resources;
        }),
      );
      this.ready.catch(() => {});
      return;
    }
    this.ready = this.boundedStart(this.start());
    this.ready.catch(() => {}); // observed by the stage; this only keeps it from being "unhandled"
  }

  /** The start, bounded by startTimeout: a wait that keeps the process alive (a pipeline waits on it), until the lease ends. */
  private boundedStart(start: Promise<void>): Promise<void> {
    return bounded(start, this.startTimeout, () => new TaskTimeoutError(this.work.name, [], this.startTimeout, 'onStart'), (timer) => (this.startTimer = timer));
  }

  private startTimer: ReturnType<typeof setTimeout> | undefined;

  private async start(): Promise<void> {
    this.fn = await resolveWork(this.work.fn);
    this.onEnd = this.work.onEnd && (await resolveWork(this.work.onEnd));
    const onStart = this.work.onStart && (await resolveWork(this.work.onStart));
    if (onStart) this.resources = await onStart({ workerInfo: this.info, stage: this.work.name });
  }

  run(jobs: readonly Job[]): void {
    if (this.ended) {
      // Closed by its scheduler (or ended): nothing more runs here.
      const error = new WorkerCrashedError({ workerId: this.info.index, reason: 'was closed: scheduler.close() ended its lease' });
      this.later(() => {
        for (const job of jobs) this.sink.settleJob!(job, false, error.forElement(job.elementIndex));
      });
      return;
    }
    for (const job of jobs) this.runOne(job);
  }

  runOne(job: Job): void {
    if (this.ended) return this.run([job]);
    const ctx = this.track(job);
    let result: unknown;
    try {
      result = this.fn!(job.value, ctx);
      if (this.follow(ctx, result)) return;
    } catch (error) {
      // fn threw, or its result's `then` did (any value may come back: a revoked proxy...)
      this.later(() => this.settleCall(ctx, false, error));
      return;
    }
    this.later(() => this.settleCall(ctx, true, result));
  }

  /**
   * The sync scheduler's fast lane: see {@link WorkerLease.callNow}. Only an inline lease (the
   * sync scheduler's) takes a job this way.
   */
  callNow(job: Job): unknown {
    if (this.ended || !this.inline) return NOT_NOW;
    // Not in the list of calls in flight while fn runs (linking and unlinking cost as much as the
    // rest of a trivial call): only an end, a close or a flatMap request can reach a call that has
    // not returned, and they look at `calling`. It joins the list if it goes on (a thenable). One
    // at a time: the stage never calls again while a call of its runs (its dispatcher is busy).
    const ctx = new JobContext(this.resources, this.info, job.elementIndex, job.seq);
    JobContext.setJob(ctx, job);
    this.calling = ctx;
    let result: unknown;
    try {
      result = this.fn!(job.value, ctx);
      this.calling = undefined;
      const then = thenOf(result);
      if (then) {
        if (!ctx.aborted) this.inFlight.add(ctx); // an end while fn ran took its leave of it already
        this.follow(ctx, result, then);
        return IN_FLIGHT;
      }
    } catch (error) {
      this.calling = undefined;
      // fn threw, or its result's `then` did (perhaps after answering: then the answer counts)
      if (ctx.aborted || ctx.settled) return IN_FLIGHT; // or the lease ended while fn ran: nobody waits for it
      this.inFlight.remove(ctx);
      ctx.settled = true;
      return new Threw(error);
    }
    if (ctx.aborted) return IN_FLIGHT; // the lease ended while fn ran: nobody waits for it
    ctx.settled = true;
    return result;
  }

  /** The call `seq` in flight, or in fn now (see {@link callNow}). */
  private findCall(seq: number): JobContext | undefined {
    const calling = this.calling;
    return calling !== undefined && calling.seq === seq ? calling : this.inFlight.find(seq);
  }

  /** Every call in flight, and the one in fn now (see {@link callNow}). */
  private allCalls(): JobContext[] {
    const all = this.inFlight.all();
    const calling = this.calling;
    if (calling !== undefined) all.push(calling); // never in the list: it joins only after fn returns
    return all;
  }

  /** A call begins: its ctx, in the list of calls in flight. */
  private track(job: Job): JobContext {
    const ctx = new JobContext(this.resources, this.info, job.elementIndex, job.seq);
    JobContext.setJob(ctx, job);
    this.inFlight.add(ctx);
    return ctx;
  }

  /**
   * When `fn` returned a thenable, settles the call once it answers (a thenable it answers with
   * followed to its value, as `await` does), and returns true; throws what reading its `then`, or
   * `then` before it answers, throws.
   */
  private follow(ctx: JobContext, result: unknown, then = thenOf(result)): boolean {
    if (!then) return false;
    adoptThenable(result, then, this, ctx);
    return true;
  }

  /** Never settle inside run(), except inline (the sync scheduler). */
  private later(fn: () => void): void {
    if (this.inline) fn();
    else queueMicrotask(fn);
  }

  /** The call `ctx` answered (a thenable's answer followed to a value: {@link adoptThenable}). */
  settleCall(ctx: JobContext, ok: boolean, value: unknown): void {
    // A call cancelled (timeout) or outlived by its lease (end) reports nothing: the stage moved on.
    // Both abort its ctx (and take it out of `inFlight`), so the flag spares a map lookup per element.
    if (ctx.aborted || ctx.settled) {
      if (ctx.aborted && !ctx.settled) this.stoppedCall(ctx); // a cancelled call has now ended
      ctx.settled = true;
      return;
    }
    ctx.settled = true; // a thenable may call back twice: only its first answer counts
    if (ok && this.flat) return this.openOutputs(ctx, value);
    this.inFlight.remove(ctx);
    this.asked?.delete(ctx.seq);
    this.sink.settleJob!(this.jobOf(ctx), ok, value);
  }

  /** flatMap: all outputs at once, or an inner source that streams them on request. */
  private openOutputs(ctx: JobContext, value: unknown): void {
    const seq = ctx.seq;
    let outs: unknown[] | 'inner';
    try {
      outs = outputsOf(value);
    } catch (error) {
      this.inFlight.remove(ctx);
      return this.sink.settleJob!(this.jobOf(ctx), false, error);
    }
    if (outs !== 'inner') {
      this.inFlight.remove(ctx);
      this.asked?.delete(seq);
      return this.sink.settleJob!(this.jobOf(ctx), true, outs);
    }
    let open = true;
    const finish = (ok: boolean, payload: unknown) => {
      if (!open || ctx.aborted) return;
      open = false;
      this.inners?.delete(seq);
      this.inFlight.remove(ctx);
      this.sink.settleJob!(this.jobOf(ctx), ok, payload);
    };
    const inner = openInner(value, {
      next: (v) => open && !ctx.aborted && this.sink.outputsJob!(this.jobOf(ctx), [v]),
      complete: () => finish(true, undefined),
      error: (e) => finish(false, e),
    });
    const asked = this.asked?.get(seq);
    if (asked !== undefined) this.asked!.delete(seq);
    if (!open || ctx.aborted) return inner.close();
    (this.inners ??= new Map()).set(seq, inner);
    if (asked) inner.pull(asked);
  }

  request(seq: number, count: number): void {
    const inner = this.inners?.get(seq);
    if (inner) inner.pull(count);
    else if (this.findCall(seq)) (this.asked ??= new Map()).set(seq, (this.asked.get(seq) ?? 0) + count); // not open yet
  }

  cancel(seq: number, reason: unknown): void {
    const ctx = this.findCall(seq);
    if (!ctx) return;
    this.inFlight.remove(ctx);
    this.asked?.delete(seq);
    ctx.abort(reason);
    const inner = this.inners?.get(seq);
    if (inner) {
      this.inners!.delete(seq);
      inner.close();
      this.stoppedCall(ctx); // torn down: nothing of it runs any more
      return;
    }
    if (ctx.settled) return this.stoppedCall(ctx);
    // Nothing in-process can stop a call that ignores its signal: past the grace, stop waiting.
    if (this.cancelGrace === Infinity) return; // no limit: wait for the call to settle
    // Not unref'd: a partitioned stage may be waiting on it alone (a bounded wait, as onStart's);
    // the lease's end clears it.
    (this.inGrace ??= new Set()).add(ctx);
    JobContext.setGraceTimer(ctx, setTimeout(() => this.stoppedCall(ctx), this.cancelGrace));
  }

  private jobOf(ctx: JobContext): Job {
    return JobContext.jobOf(ctx) as Job;
  }

  /** A cancelled call ended (or is no longer waited for): tell the stage, once. */
  private stoppedCall(ctx: JobContext): void {
    this.inGrace?.delete(ctx);
    if (JobContext.reportStop(ctx)) this.sink.stopped?.(this.jobOf(ctx));
  }

  /** The scheduler is closing under a stage still using this lease: its calls in work fail, then it ends. */
  closeByScheduler(status: StageStatus): Promise<void> {
    if (this.ended) return Promise.resolve();
    const calls = this.allCalls();
    const ending = this.end(status); // first, so that a retry the stage makes on hearing this is refused
    const error = new WorkerCrashedError({ workerId: this.info.index, reason: 'was closed: scheduler.close() ended its lease' });
    for (const ctx of calls) this.sink.settleJob!(this.jobOf(ctx), false, error.forElement(ctx.elementIndex));
    return ending;
  }

  end(status: StageStatus): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    this.open.delete(this);
    const reason = new DOMException('The stage ended', 'AbortError');
    for (const ctx of this.allCalls()) ctx.abort(reason);
    this.inFlight.clear();
    const inGrace = this.inGrace;
    this.inGrace = undefined;
    if (inGrace) for (const ctx of inGrace) JobContext.reportStop(ctx); // nobody waits for them now: their timers go
    this.asked = undefined;
    const inners = this.inners;
    this.inners = undefined;
    if (inners) for (const inner of inners.values()) inner.close();
    clearTimeout(this.startTimer); // nobody waits for the start any more: only for the end, bounded
    return bounded(this.finish(status), this.endTimeout, () => new TaskTimeoutError(this.work.name, [], this.endTimeout, 'onEnd'));
  }

  private async finish(status: StageStatus): Promise<void> {
    try {
      await this.ready;
    } catch {
      return; // onStart failed: there are no resources to release, so onEnd does not run
    }
    if (this.onEnd) {
      await this.onEnd({ resources: this.resources, workerInfo: this.info, stage: this.work.name, stageStatus: status });
    }
  }
}

/**
 * `promise`, or a rejection with `timeoutError()` after `ms`. The timer keeps the process alive
 * while it runs: a wait that is bounded ends, with its error, even when nothing else is pending.
 */
function bounded<T>(promise: Promise<T>, ms: number, timeoutError: () => unknown, onTimer?: (timer: ReturnType<typeof setTimeout>) => void): Promise<T> {
  if (ms === Infinity) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), ms);
    onTimer?.(timer);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** A TaskRef that cannot be loaded fails as it does on a thread or process: a `WorkerFunctionError`, not an onStart failure. */
async function resolveWork(work: Work): Promise<Fn> {
  if (!isTaskRef(work)) return work as Fn;
  try {
    return await loadTask(work);
  } catch (error) {
    throw loadError(work, error);
  }
}
