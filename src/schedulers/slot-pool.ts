/**
 * Workers in numbered slots, each hosting the leases of any number of stages: what the
 * thread/process pool (pool.ts) and the threads.js pool (src/threads/scheduler.ts) share.
 * @internal
 * @module
 */
import type { StageStatus } from '../shared/context.js';

/** What a {@link SlotPool} needs of a lease. @internal */
export interface SlotLease {
  readonly done: boolean;
  /** The pool is closing under the lease: its calls in work fail, then it ends (`onEnd` sees `status`). */
  closeByPool(status: StageStatus): Promise<void>;
}

/** What a {@link SlotPool} needs of a worker. @internal */
export interface SlotWorker<L> {
  readonly leases: { readonly size: number };
  bind(lease: L): void;
}

/**
 * Ends `leases` because their pool is closing, the last one told it is (`stageStatus.done`), and
 * resolves once all have. @internal
 */
export async function closeLeases(leases: readonly SlotLease[]): Promise<void> {
  let left = leases.length;
  await Promise.allSettled(leases.map((lease) => lease.closeByPool({ done: --left === 0, activeWorkers: left })));
}

/**
 * A new lease goes to the least loaded worker, a new worker starting in a free slot while the pool
 * is not full; a lease that comes while the pool closes waits for the close. `close()` ends the
 * leases, then the workers, and leaves the pool usable again. @internal
 */
export abstract class SlotPool<W extends SlotWorker<L>, L extends SlotLease> {
  abstract readonly size: number;
  protected slots: (W | undefined)[] = [];
  /** Leases not ended yet. */
  readonly leases = new Set<L>();
  protected closing: Promise<void> | undefined;

  /** A worker for slot `slot`; it starts itself. */
  protected abstract newWorker(slot: number): W;
  /** Asks a worker to exit; resolves once it has. */
  protected abstract closeWorker(worker: W): Promise<void>;
  /** Whether close() ends this lease first (one that has no worker yet has nothing to end there). */
  protected closesWithPool(_lease: L): boolean {
    return true;
  }

  /** Takes a lease made for this pool (one that is `done` already, as it could not start, is only returned). */
  protected admit(lease: L): L {
    if (lease.done) return lease;
    this.leases.add(lease);
    if (!this.closing) this.assign(lease);
    else void this.afterClose().then(() => this.assign(lease));
    return lease;
  }

  private async afterClose(): Promise<void> {
    while (this.closing) await this.closing;
  }

  private assign(lease: L): void {
    if (lease.done) return;
    let best: W | undefined;
    let free = -1;
    for (let i = 0; i < this.size; i++) {
      const worker = this.slots[i];
      if (!worker) {
        if (free < 0) free = i;
      } else if (!best || worker.leases.size < best.leases.size) {
        best = worker;
      }
    }
    const worker = free >= 0 && (!best || best.leases.size > 0) ? this.spawn(free) : best!;
    worker.bind(lease);
  }

  /** Starts a worker in slot `slot`. */
  protected spawn(slot: number): W {
    const worker = this.newWorker(slot);
    this.slots[slot] = worker;
    return worker;
  }

  /**
   * Ends every lease that has a worker (their jobs in work fail: the pool is going away), then
   * every worker, and waits until they have exited. The pool can be used again afterwards: a new
   * lease starts new workers.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await closeLeases([...this.leases].filter((lease) => this.closesWithPool(lease)));
    const workers = this.slots.filter((w): w is W => w !== undefined);
    this.slots = [];
    await Promise.all(workers.map((worker) => this.closeWorker(worker)));
  }
}
