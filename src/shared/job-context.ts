import type { WorkerInfo } from './context.js';

/**
 * The `ctx` of one call, in-process or inside a worker. `signal` is made on first read: most
 * functions never read it, and an AbortController per element is the largest cost of a call.
 * @internal
 */
export class JobContext {
  #controller: AbortController | undefined;
  #reason: unknown = undefined;
  /** True once `abort` was called (the signal, if ever read, is aborted). */
  aborted = false;
  /** True once the call has answered (its first answer is the one that counts). */
  settled = false;
  /** In-process, after a cancel: the stage was told the call stopped; the grace timer until it is. */
  stopReported = false;
  graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The job it is the call of, for an in-process scheduler that settles by job. */
  job: import('../schedulers/scheduler.js').Job | undefined = undefined;
  constructor(
    readonly resources: unknown,
    readonly workerInfo: WorkerInfo,
    readonly elementIndex: readonly number[],
    /** The stage's sequence number of the element. */
    readonly seq: number,
  ) {}
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
