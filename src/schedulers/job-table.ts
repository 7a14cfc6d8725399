/**
 * A lease's jobs in flight, by seq.
 * @internal
 * @module
 */

/** Past this span of seqs (the oldest job in the ring to the newest), a job goes to the Map. */
const MAX_SPAN = 1 << 16;

/**
 * What a `Map<number, Job>` gave a worker lease (lookup by seq, insertion order), at a fraction of
 * its cost per element: `Map#set` and `#delete` for every element were 13 % of the main thread
 * under `batchSize: 'auto'`. A stage hands a lease its jobs in rising seq order (a batch is a run
 * of them; the other workers' seqs leave holes), so they live in a ring indexed by `seq & mask`
 * over the window `[base, end)`. A job that comes out of that order (a retry, work given back and
 * sent again) goes to a Map, and so does every job after it while the Map holds any: the ring's
 * jobs are then all older than the Map's, so iterating the ring, then the Map, is insertion order.
 * @internal
 */
export class JobTable<J extends { readonly seq: number }> {
  private ring: (J | undefined)[] = emptyRing(64);
  private mask = 63;
  /** No job in the ring has a lower seq; the job at `base`, if any, is the oldest. */
  private base = 0;
  /** One past the highest seq put in the ring: a job may join the ring only at or above it. */
  private end = 0;
  private inRing = 0;
  private overflow: Map<number, J> | undefined;

  get size(): number {
    return this.inRing + (this.overflow === undefined ? 0 : this.overflow.size);
  }

  /** Adds a job (replacing one with its seq, as `Map#set` would). */
  add(job: J): void {
    const seq = job.seq;
    if (seq >= this.base && seq < this.end) {
      const at = seq & this.mask;
      if (this.ring[at]?.seq === seq) {
        this.ring[at] = job;
        return;
      }
    }
    if (this.overflow === undefined || this.overflow.size === 0) {
      if (this.inRing === 0) this.base = this.end = seq;
      if (seq >= this.end && seq - this.base < MAX_SPAN) {
        if (seq - this.base >= this.ring.length) this.grow(seq - this.base + 1);
        this.ring[seq & this.mask] = job;
        this.end = seq + 1;
        this.inRing++;
        return;
      }
    }
    (this.overflow ??= new Map()).set(seq, job);
  }

  get(seq: number): J | undefined {
    if (seq >= this.base && seq < this.end) {
      const job = this.ring[seq & this.mask];
      if (job !== undefined && job.seq === seq) return job;
    }
    return this.overflow?.get(seq);
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined;
  }

  /** Removes the job `seq` and returns it (undefined when it is not here). */
  take(seq: number): J | undefined {
    if (seq >= this.base && seq < this.end) {
      const at = seq & this.mask;
      const job = this.ring[at];
      if (job !== undefined && job.seq === seq) {
        this.ring[at] = undefined;
        if (--this.inRing === 0) this.base = this.end;
        else if (seq === this.base) while (this.ring[this.base & this.mask] === undefined) this.base++; // the holes are other workers' seqs
        return job;
      }
    }
    const job = this.overflow?.get(seq);
    if (job !== undefined) this.overflow!.delete(seq);
    return job;
  }

  /** True when the job `seq` was here. */
  delete(seq: number): boolean {
    return this.take(seq) !== undefined;
  }

  clear(): void {
    this.ring = emptyRing(64);
    this.mask = 63;
    this.base = this.end = this.inRing = 0;
    this.overflow = undefined;
  }

  /** Every job, in the order added. */
  values(): J[] {
    const list: J[] = [];
    for (let seq = this.base; seq < this.end && list.length < this.inRing; seq++) {
      const job = this.ring[seq & this.mask];
      if (job !== undefined) list.push(job);
    }
    if (this.overflow) for (const job of this.overflow.values()) list.push(job);
    return list;
  }

  /** Every job's seq, in the order added. */
  keys(): number[] {
    return this.values().map((job) => job.seq);
  }

  /** Room for `span` seqs from `base`: a power of two, the jobs moved to their new places. */
  private grow(span: number): void {
    let length = this.ring.length * 2;
    while (length < span) length *= 2;
    const ring = emptyRing<J>(length);
    const mask = length - 1;
    for (let seq = this.base; seq < this.end; seq++) {
      const job = this.ring[seq & this.mask];
      if (job !== undefined) ring[seq & mask] = job;
    }
    this.ring = ring;
    this.mask = mask;
  }
}

/** Filled, not holey: V8 keeps a packed array on its fast path. */
function emptyRing<J>(length: number): (J | undefined)[] {
  return new Array<J | undefined>(length).fill(undefined);
}
