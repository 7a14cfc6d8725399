import type { Observable, Subscription } from 'rxjs';
import { eachValueFrom } from 'rxjs-for-await';
import { BufferOverflowError, InvalidOptionError } from '../errors.js';
import { CreditLine, isPullObservable, subscribePull } from './credit.js';
import { Ring } from './ring.js';

/** Options of {@link toAsyncIterable}. */
export interface ToAsyncIterableOptions {
  /**
   * Over a plain (push) Observable only: buffer at most this many values, then apply `overflow`.
   * Without it a plain Observable is read losslessly with an unbounded buffer (rxjs-for-await's
   * `eachValueFrom`). Ignored over an rxjs-parallel pipeline, which is paced by credits instead.
   * @default undefined (unbounded, lossless)
   */
  maxsize?: number;
  /**
   * What happens past `maxsize`: `'error'` throws `BufferOverflowError` from the iterator,
   * `'dropOldest'`/`'dropNewest'` drop a value, `'buffer'` grows.
   * @default 'error'
   */
  overflow?: 'buffer' | 'error' | 'dropOldest' | 'dropNewest';
}

/**
 * `for await` over an Observable. Over an rxjs-parallel pipeline (a {@link fromIterable} source and
 * our stages) each `next()` grants one credit, so the consumer paces every stage: nothing is read
 * faster than the loop body runs, beyond each stage's `workers + maxsize`. Over a plain Observable it
 * is rxjs-for-await's lossless `eachValueFrom`, or a bounded buffer when `maxsize` is set.
 * Leaving the loop early (`break`, `return`, a throw) unsubscribes, which tears the pipeline down.
 *
 * ```ts
 * for await (const row of toAsyncIterable(rows$)) await db.insert(row);
 * ```
 * @param source The Observable to iterate.
 * @param options See {@link ToAsyncIterableOptions}.
 * @returns An AsyncIterableIterator of the Observable's values; it throws the Observable's error.
 * @see fromIterable
 */
export function toAsyncIterable<T>(source: Observable<T>, options: ToAsyncIterableOptions = {}): AsyncIterableIterator<T> {
  const { maxsize, overflow = 'error' } = options;
  if (maxsize !== undefined && (!Number.isInteger(maxsize) || maxsize < 1)) throw new InvalidOptionError('maxsize', 'an integer ≥ 1', maxsize);
  if (!['buffer', 'error', 'dropOldest', 'dropNewest'].includes(overflow)) {
    throw new InvalidOptionError('overflow', "'buffer', 'error', 'dropOldest' or 'dropNewest'", overflow);
  }
  if (isPullObservable(source)) {
    // An operator that breaks the credit chain (delay, mergeMap...) makes the upstream push: then
    // values wait here, as over a plain Observable (bounded by `maxsize` when it is set).
    const onBreak = (it: Iter<T>) => (chain: string) => {
      it.line.grant(Infinity);
      // Not silent: from here on what arrives is buffered without bound, unless `maxsize` bounds it.
      if (maxsize === undefined) warn(`toAsyncIterable: ${chain} breaks the chain of credits, so the loop no longer paces the pipeline and values wait in an unbounded buffer; pass { maxsize, overflow } to bound it, or move that operator before the stages`);
    };
    return new Iter<T>((it) => subscribePull(source, it.observer, { line: it.line, ordered: false, numberIndex: true, onBreak: onBreak(it) }), true, maxsize, overflow);
  }
  if (maxsize === undefined) return eachValueFrom(source);
  return new Iter<T>((it) => source.subscribe(it.observer), false, maxsize, overflow);
}

type Settle<T> = { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };

/** A process warning in Node (code RXJS_PARALLEL_CHAIN_BROKEN), `console.warn` elsewhere. */
function warn(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { code: 'RXJS_PARALLEL_CHAIN_BROKEN' });
  else console.warn(message);
}

/** The iterator behind toAsyncIterable: a queue of values and of waiting `next()` calls. */
class Iter<T> implements AsyncIterableIterator<T> {
  readonly line = new CreditLine(0);
  private readonly values = new Ring<T>();
  private readonly waiting = new Ring<Settle<T>>();
  private subscription: Subscription | undefined;
  private finished = false;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly open: (it: Iter<T>) => Subscription,
    private readonly paced: boolean,
    private readonly maxsize = Infinity,
    private readonly overflow: NonNullable<ToAsyncIterableOptions['overflow']> = 'error',
  ) {}

  /** What the source pushes into. */
  readonly observer = {
    iter: this,
    get closed(): boolean {
      return this.iter.finished;
    },
    next: (value: T) => this.push(value),
    error: (error: unknown) => this.error(error),
    complete: () => this.complete(),
  };

  // ---- observer side ----
  private push(value: T): void {
    if (this.finished) return;
    const waiter = this.waiting.shift();
    if (waiter) return waiter.resolve({ value: value as T, done: false });
    this.values.push(value as T);
    if (this.values.length > this.maxsize) {
      if (this.overflow === 'dropOldest') this.values.shift();
      else if (this.overflow === 'dropNewest') this.values.pop();
      else if (this.overflow === 'error') this.error(new BufferOverflowError('toAsyncIterable', this.maxsize));
    }
  }

  private error(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = { error };
    this.subscription?.unsubscribe();
    this.values.clear(); // an error ends the stream now, like RxJS
    for (let w = this.waiting.shift(); w; w = this.waiting.shift()) w.reject(error);
  }

  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.values.length === 0) for (let w = this.waiting.shift(); w; w = this.waiting.shift()) w.resolve({ value: undefined, done: true });
  }

  // ---- iterator side ----
  next(): Promise<IteratorResult<T>> {
    if (this.values.length > 0) {
      const value = this.values.shift() as T;
      if (this.finished && this.values.length === 0) this.drainWaiting();
      // Each next() grants one credit, also when a value was already here: an operator that emitted
      // more than one value for an upstream value had them charged, and this pays for them.
      else if (this.paced && this.subscription) this.line.grant(1);
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined; // thrown once; later calls see the end
      return Promise.reject(error);
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    const result = new Promise<IteratorResult<T>>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (!this.subscription) this.subscription = this.open(this);
    if (this.paced) this.line.grant(1);
    return result;
  }

  private drainWaiting(): void {
    for (let w = this.waiting.shift(); w; w = this.waiting.shift()) w.resolve({ value: undefined, done: true });
  }

  async return(): Promise<IteratorResult<T>> {
    this.finished = true;
    this.subscription?.unsubscribe();
    this.values.clear();
    this.drainWaiting();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
