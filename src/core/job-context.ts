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
