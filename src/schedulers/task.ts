import type { StageStatus, WorkerInfo } from '../core/context.js';
import { JobContext } from '../core/job-context.js';
import { isTaskRef, loadTask, type Work } from '../core/task.js';
import type { Job, LeaseSink, Scheduler, StageWork, WorkerLease } from './scheduler.js';
import { loadError } from './ship.js';

/**
 * Runs `fn` in this event loop, as async tasks: the default scheduler, for I/O-bound work.
 * `workers` is the number of calls in flight at once. The reference implementation of
 * {@link Scheduler}.
 *
 * ```ts
 * src$.pipe(mapParallel(fetchJson, { workers: 8, scheduler: taskScheduler() }))
 * ```
 * @returns A scheduler that can be shared by any number of stages; `close()` is a no-op.
 */
export function taskScheduler(): Scheduler {
  return new TaskScheduler('task');
}

/** @internal Shared by the task and sync schedulers: they differ only in how results are delivered. */
export class TaskScheduler implements Scheduler {
  readonly batching = false;
  constructor(readonly kind: 'task' | 'sync') {}
  lease(work: StageWork, info: WorkerInfo, sink: LeaseSink): WorkerLease {
    return new InProcessLease(work, info, sink, this.kind === 'sync');
  }
  async close(): Promise<void> {}
}

class InProcessLease implements WorkerLease {
  readonly ready: Promise<void>;
  private fn: ((...args: any[]) => unknown) | undefined;
  private onEnd: ((...args: any[]) => unknown) | undefined;
  private resources: unknown = undefined;
  private readonly inFlight = new Map<number, JobContext>();
  private ended = false;

  constructor(
    private readonly work: StageWork,
    private readonly info: WorkerInfo,
    private readonly sink: LeaseSink,
    private readonly inline: boolean,
  ) {
    this.ready = this.start();
    this.ready.catch(() => {}); // observed by the stage; this only keeps it from being "unhandled"
  }

  private async start(): Promise<void> {
    this.fn = await resolveWork(this.work.fn);
    this.onEnd = this.work.onEnd && (await resolveWork(this.work.onEnd));
    const onStart = this.work.onStart && (await resolveWork(this.work.onStart));
    if (onStart) this.resources = await onStart({ workerInfo: this.info, stage: this.work.name });
  }

  run(jobs: readonly Job[]): void {
    for (const job of jobs) this.runOne(job);
  }

  private runOne(job: Job): void {
    const ctx = new JobContext(this.resources, this.info, job.elementIndex, job.seq);
    this.inFlight.set(job.seq, ctx);
    let result: unknown;
    try {
      result = this.fn!(job.value, ctx);
    } catch (error) {
      if (this.inline) this.settle(job.seq, ctx, false, error);
      else queueMicrotask(() => this.settle(job.seq, ctx, false, error)); // never settle inside run()
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.settle(job.seq, ctx, true, value),
        (error) => this.settle(job.seq, ctx, false, error),
      );
    } else if (this.inline) {
      this.settle(job.seq, ctx, true, result);
    } else {
      queueMicrotask(() => this.settle(job.seq, ctx, true, result));
    }
  }

  private settle(seq: number, ctx: JobContext, ok: boolean, value: unknown): void {
    // A call cancelled (timeout) or outlived by its lease (end) reports nothing: the stage moved on.
    // Both abort its ctx (and take it out of `inFlight`), so the flag spares a map lookup per element.
    if (ctx.aborted) return;
    this.inFlight.delete(seq);
    if (ok) this.sink.resolve(seq, value);
    else this.sink.reject(seq, value);
  }

  cancel(seq: number, reason: unknown): void {
    const ctx = this.inFlight.get(seq);
    if (!ctx) return;
    this.inFlight.delete(seq);
    ctx.abort(reason);
  }

  async end(status: StageStatus): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const reason = new DOMException('The stage ended', 'AbortError');
    for (const ctx of this.inFlight.values()) ctx.abort(reason);
    this.inFlight.clear();
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** A TaskRef that cannot be loaded fails as it does on a thread or process: a `WorkerFunctionError`, not an onStart failure. */
async function resolveWork(work: Work): Promise<(...args: any[]) => unknown> {
  if (!isTaskRef(work)) return work as (...args: any[]) => unknown;
  try {
    return await loadTask(work);
  } catch (error) {
    throw loadError(work, error);
  }
}
