/**
 * `batchSize: 'auto'`: the batch doubles while a whole batch comes back within {@link GROW_BELOW_MS}
 * (per-element work is short, so the message round trip dominates) and halves when one takes longer
 * than {@link SHRINK_ABOVE_MS} (long elements want spreading over workers, not batching).
 * Bounded by {@link MAX_BATCH}.
 * @internal
 */
export class AutoBatch {
  size = 1;
  record(batchMs: number): void {
    if (batchMs < GROW_BELOW_MS) this.size = Math.min(this.size * 2, MAX_BATCH);
    else if (batchMs > SHRINK_ABOVE_MS) this.size = Math.max(1, this.size >> 1);
  }
}

/** A batch that returns faster than this doubles. */
export const GROW_BELOW_MS = 2;
/** A batch slower than this halves. */
export const SHRINK_ABOVE_MS = 20;
/** The largest automatic batch. */
export const MAX_BATCH = 1024;
