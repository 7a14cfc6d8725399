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
  /** Keys whose head may go (a waiting element, none in work), in the order they became so. */
  private ready = new Ring<unknown>();
  private readonly readySet = new Set<unknown>();
  /** Keys with an element in work. */
  private readonly busy = new Set<unknown>();
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** One per ready key: only a key's head may go. */
  get dispatchable(): number {
    return this.ready.length;
  }

  push(el: Element): void {
    this.ringOf(el.key).push(el);
    this.count++;
    this.makeReady(el.key, false);
  }

  unshift(el: Element): void {
    this.ringOf(el.key).unshift(el);
    this.count++;
    this.makeReady(el.key, true);
  }

  shift(): Element | undefined {
    if (this.ready.length === 0) return undefined;
    const key = this.ready.shift();
    this.readySet.delete(key);
    const ring = this.byKey.get(key)!;
    const el = ring.shift()!;
    if (ring.length === 0) this.byKey.delete(key);
    this.count--;
    this.busy.add(key);
    return el;
  }

  done(el: Element): void {
    if (this.busy.delete(el.key)) this.makeReady(el.key, false);
  }

  dropOldest(): Element | undefined {
    return this.take((ring) => ring.peek()!, (a, b) => a.seq < b.seq);
  }

  dropNewest(): Element | undefined {
    return this.take((ring) => ring.peekLast()!, (a, b) => a.seq > b.seq);
  }

  clear(): void {
    this.byKey.clear();
    this.ready.clear();
    this.readySet.clear();
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
  private makeReady(key: unknown, first: boolean): void {
    if (!this.byKey.has(key) || this.busy.has(key) || this.readySet.has(key)) return;
    this.readySet.add(key);
    if (first) this.ready.unshift(key);
    else this.ready.push(key);
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
    if (ring.peek() === pick) ring.shift();
    else ring.pop();
    this.count--;
    if (ring.length === 0) {
      this.byKey.delete(pick.key);
      if (this.readySet.delete(pick.key)) {
        const keys = new Ring<unknown>();
        while (this.ready.length > 0) {
          const k = this.ready.shift();
          if (k !== pick.key) keys.push(k);
        }
        this.ready = keys;
      }
    }
    return pick;
  }
}
