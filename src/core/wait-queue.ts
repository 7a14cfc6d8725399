/**
 * Elements waiting for a worker. Without `partitionBy` a plain FIFO; with it, one FIFO per key and
 * a FIFO of the keys whose next element may go (no element of that key in work), so that elements
 * of a key run one at a time in arrival order while other keys go on (Akka's `mapAsyncPartitioned`).
 * @internal
 * @module
 */
import { Ring } from '../backpressure/ring.js';
import type { Element } from './element.js';

export interface WaitQueue {
  /** Elements waiting, dispatchable or not. */
  readonly length: number;
  /** Elements that may go to a worker now. */
  readonly dispatchable: number;
  /** A new element, at the back. */
  push(el: Element): void;
  /** An element back from work (a retry, a reclaim), first in line. */
  unshift(el: Element): void;
  /** The next element that may go to a worker; it is in work from now on (its key busy). */
  shift(): Element | undefined;
  /** An element that went to a worker left it: its key may go again. */
  done(el: Element): void;
  /** Overflow: takes the oldest or the newest waiting element out. */
  dropOldest(): Element | undefined;
  dropNewest(): Element | undefined;
  clear(): void;
}

export class FifoQueue implements WaitQueue {
  private readonly ring = new Ring<Element>();
  get length(): number {
    return this.ring.length;
  }
  get dispatchable(): number {
    return this.ring.length;
  }
  push(el: Element): void {
    this.ring.push(el);
  }
  unshift(el: Element): void {
    this.ring.unshift(el);
  }
  shift(): Element | undefined {
    return this.ring.shift();
  }
  done(): void {}
  dropOldest(): Element | undefined {
    return this.ring.shift();
  }
  dropNewest(): Element | undefined {
    return this.ring.pop();
  }
  clear(): void {
    this.ring.clear();
  }
}

export class KeyedQueue implements WaitQueue {
  /** Waiting elements by key, in arrival order. */
  private readonly byKey = new Map<unknown, Ring<Element>>();
  /**
   * Keys whose head may go (a waiting element, none in work), by their head's seq: the next to go
   * is always the oldest element that may go, so dispatch follows arrival order across keys (an
   * ordered stage's head is never passed over for a later element). Entries whose key is no longer
   * ready, or whose head changed, are stale and skipped.
   */
  private readonly heap: Array<{ seq: number; key: unknown }> = [];
  private readonly ready = new Set<unknown>();
  /** Keys with an element in work. */
  private readonly busy = new Set<unknown>();
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** One per ready key: only a key's head may go. */
  get dispatchable(): number {
    return this.ready.size;
  }

  push(el: Element): void {
    this.ringOf(el.key).push(el);
    this.count++;
    this.makeReady(el.key);
  }

  unshift(el: Element): void {
    this.ringOf(el.key).unshift(el);
    this.count++;
    if (this.ready.has(el.key)) this.heapPush(el.seq, el.key); // its head changed: listed again by the new one
    else this.makeReady(el.key);
  }

  shift(): Element | undefined {
    while (this.heap.length > 0) {
      const { seq, key } = this.heapPop();
      const ring = this.byKey.get(key);
      if (!this.ready.has(key) || !ring || ring.peek()!.seq !== seq) continue; // stale
      this.ready.delete(key);
      const el = ring.shift()!;
      if (ring.length === 0) this.byKey.delete(key);
      this.count--;
      this.busy.add(key);
      return el;
    }
    return undefined;
  }

  done(el: Element): void {
    if (this.busy.delete(el.key)) this.makeReady(el.key);
  }

  dropOldest(): Element | undefined {
    return this.take((ring) => ring.peek()!, (a, b) => a.seq < b.seq);
  }

  dropNewest(): Element | undefined {
    return this.take((ring) => ring.peekLast()!, (a, b) => a.seq > b.seq);
  }

  clear(): void {
    this.byKey.clear();
    this.heap.length = 0;
    this.ready.clear();
    this.busy.clear();
    this.count = 0;
  }

  private ringOf(key: unknown): Ring<Element> {
    let ring = this.byKey.get(key);
    if (!ring) {
      ring = new Ring<Element>(4);
      this.byKey.set(key, ring);
    }
    return ring;
  }

  /** The key's head may go now, unless one of its elements is in work or it is listed already. */
  private makeReady(key: unknown): void {
    const ring = this.byKey.get(key);
    if (!ring || this.busy.has(key) || this.ready.has(key)) return;
    this.ready.add(key);
    this.heapPush(ring.peek()!.seq, key);
  }

  /**
   * Overflow (a push upstream past maxsize): takes the oldest or newest waiting element out. Rare,
   * and bounded by the number of keys waiting, so a scan is fine.
   */
  private take(candidate: (ring: Ring<Element>) => Element, better: (a: Element, b: Element) => boolean): Element | undefined {
    let pick: Element | undefined;
    for (const ring of this.byKey.values()) {
      const el = candidate(ring);
      if (!pick || better(el, pick)) pick = el;
    }
    if (!pick) return undefined;
    const ring = this.byKey.get(pick.key)!;
    const head = ring.peek() === pick;
    if (head) ring.shift();
    else ring.pop();
    this.count--;
    if (ring.length === 0) {
      this.byKey.delete(pick.key);
      this.ready.delete(pick.key); // its heap entry goes stale
    } else if (head && this.ready.has(pick.key)) {
      this.heapPush(ring.peek()!.seq, pick.key);
    }
    return pick;
  }

  // A binary min-heap of { seq, key }, by seq.
  private heapPush(seq: number, key: unknown): void {
    const heap = this.heap;
    let i = heap.push({ seq, key }) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].seq <= seq) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = { seq, key };
  }

  private heapPop(): { seq: number; key: unknown } {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && heap[r].seq < heap[l].seq ? r : l;
        if (heap[c].seq >= last.seq) break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}
