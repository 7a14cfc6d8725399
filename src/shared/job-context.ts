import type { WorkerInfo } from './context.js';

/**
 * The `ctx` of one call, in-process or inside a worker. `signal` is made on first read: most
 * functions never read it, and an AbortController per element is the largest cost of a call.
 * @internal
 */
export class JobContext {
  /** What only a cancelled call or a read `signal` needs: made then, not per call. */
  #rare: { controller?: AbortController; reason?: unknown; stopReported?: boolean; graceTimer?: ReturnType<typeof setTimeout> } | undefined = undefined;
  /** True once `abort` was called (the signal, if ever read, is aborted). */
  aborted = false;
  /** True once the call has answered (its first answer is the one that counts). */
  settled = false;
  // In-process only, kept private so that a `console.log(ctx)` shows what the call may use:
  /** The job it is the call of (the scheduler settles by job). */
  #job: object | undefined = undefined;
  /** Its neighbours in its lease's list of calls in flight. */
  #prev: JobContext | undefined = undefined;
  #next: JobContext | undefined = undefined;
  constructor(
    readonly resources: unknown,
    readonly workerInfo: WorkerInfo,
    readonly elementIndex: readonly number[],
    /** The stage's sequence number of the element. */
    readonly seq: number,
  ) {}
  get signal(): AbortSignal {
    const rare = (this.#rare ??= {});
    if (!rare.controller) {
      rare.controller = new AbortController();
      if (this.aborted) rare.controller.abort(rare.reason);
    }
    return rare.controller.signal;
  }
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    const rare = (this.#rare ??= {});
    rare.reason = reason;
    rare.controller?.abort(reason);
  }

  /** @internal */
  static jobOf(ctx: JobContext): object | undefined {
    return ctx.#job;
  }
  /** @internal */
  static setJob(ctx: JobContext, job: object): void {
    ctx.#job = job;
  }
  /** @internal Marks the stop of a cancelled call reported; false if it already was. */
  static reportStop(ctx: JobContext): boolean {
    const rare = (ctx.#rare ??= {});
    if (rare.stopReported) return false;
    rare.stopReported = true;
    clearTimeout(rare.graceTimer);
    return true;
  }
  /** @internal */
  static setGraceTimer(ctx: JobContext, timer: ReturnType<typeof setTimeout>): void {
    (ctx.#rare ??= {}).graceTimer = timer;
  }
  /** @internal Links `ctx` in front of `head`; returns the new head. */
  static link(ctx: JobContext, head: JobContext | undefined): JobContext {
    ctx.#next = head;
    ctx.#prev = undefined;
    if (head) head.#prev = ctx;
    return ctx;
  }
  /** @internal Unlinks `ctx`; returns the new head of a list whose head was `head`. */
  static unlink(ctx: JobContext, head: JobContext | undefined): JobContext | undefined {
    const prev = ctx.#prev;
    const next = ctx.#next;
    if (prev) prev.#next = next;
    else if (head === ctx) head = next;
    else return head; // not in the list
    if (next) next.#prev = prev;
    ctx.#prev = ctx.#next = undefined;
    return head;
  }
  /** @internal */
  static nextOf(ctx: JobContext): JobContext | undefined {
    return ctx.#next;
  }
}

/**
 * Calls in flight, as a doubly linked list through their JobContext: adding and removing one costs
 * no Map operation per element; finding one by seq (a cancel) walks the few that are in flight.
 * @internal
 */
export class CallList {
  private head: JobContext | undefined;

  add(ctx: JobContext): void {
    this.head = JobContext.link(ctx, this.head);
  }

  remove(ctx: JobContext): void {
    this.head = JobContext.unlink(ctx, this.head);
  }

  find(seq: number): JobContext | undefined {
    for (let c = this.head; c; c = JobContext.nextOf(c)) if (c.seq === seq) return c;
    return undefined;
  }

  all(): JobContext[] {
    const list: JobContext[] = [];
    for (let c = this.head; c; c = JobContext.nextOf(c)) list.push(c);
    return list;
  }

  clear(): void {
    for (const c of this.all()) JobContext.unlink(c, c);
    this.head = undefined;
  }
}
