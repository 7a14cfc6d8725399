/**
 * The outputs of one flatMap call, as a source the caller pulls from: an Iterable or AsyncIterable
 * read one item per request, a pull-aware Observable (ours) granted one credit per request, any
 * other Observable (RxJS, or anything with `subscribe` / `Symbol.observable`) subscribed and pushing
 * at its own pace. `close()` tears it down: `return()` for an iterator, unsubscribe for an
 * Observable. Every call into user code is guarded: what it throws becomes `error`.
 * Used by the in-process schedulers and by the worker runtime (so it imports no RxJS).
 * @internal
 * @module
 */
import { isPullSource, kPull, CreditLine, type PullSource } from './pull-protocol.js';

/** Where an inner source delivers. Each is called only while the inner is open. */
export interface InnerHost {
  next(value: unknown): void;
  complete(): void;
  error(error: unknown): void;
}

/** An open inner source. */
export interface Inner {
  /** True when it produces only on request; false for a push source, which ignores `pull`. */
  readonly lazy: boolean;
  /** Asks for `n` more outputs. */
  pull(n: number): void;
  /** Tears it down (no host call follows). Idempotent. */
  close(): void;
}

/**
 * What a flatMap function's (awaited) result is: all of its outputs at once (an array: the result
 * itself when it is one, never modified; `[]` for undefined/null; `[value]` for a string or any
 * other single value), or an {@link Inner} to pull them from. Throws what user code throws while
 * the result is inspected (a getter, a revoked proxy).
 */
export function outputsOf(value: unknown): unknown[] | 'inner' {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' && typeof value !== 'function') return [value];
  if (Array.isArray(value)) return value;
  const v = value as Record<PropertyKey, unknown>;
  if (isPullSource(value)) return 'inner';
  if (typeof v[Symbol.iterator] === 'function') return 'inner';
  if (typeof v[Symbol.asyncIterator] === 'function') return 'inner';
  if (typeof v[observableKey()] === 'function' || typeof v.subscribe === 'function') return 'inner';
  return [value];
}

const EMPTY: unknown[] = [];
Object.freeze(EMPTY);

function observableKey(): PropertyKey {
  return (Symbol as { observable?: symbol }).observable ?? '@@observable';
}

/**
 * Opens `value` (for which {@link outputsOf} said `'inner'`) as an inner source. A push source
 * subscribes at once and may call `host` before this returns; so may a failure to open.
 */
export function openInner(value: unknown, host: InnerHost): Inner {
  const v = value as Record<PropertyKey, any>;
  try {
    if (isPullSource(value)) return new PullInner(value, host);
    if (typeof v[Symbol.iterator] === 'function') return new IterInner(v[Symbol.iterator](), host);
    if (typeof v[Symbol.asyncIterator] === 'function') return new AsyncIterInner(v[Symbol.asyncIterator](), host);
    const interop = v[observableKey()];
    return new PushInner(typeof interop === 'function' ? interop.call(value) : value, host);
  } catch (error) {
    host.error(error);
    return CLOSED;
  }
}

const CLOSED: Inner = { lazy: false, pull() {}, close() {} };

/** A synchronous iterator, read on request. */
class IterInner implements Inner {
  readonly lazy = true;
  private wanted = 0;
  private reading = false;
  private done = false;

  constructor(
    private readonly iterator: Iterator<unknown>,
    private readonly host: InnerHost,
  ) {}

  pull(n: number): void {
    this.wanted += n;
    if (this.reading) return; // a request from inside host.next: the loop below takes it
    this.reading = true;
    try {
      while (this.wanted > 0 && !this.done) {
        let step: IteratorResult<unknown>;
        try {
          step = this.iterator.next();
        } catch (error) {
          this.done = true;
          this.host.error(error);
          return;
        }
        if (step.done) {
          this.done = true;
          this.host.complete();
          return;
        }
        this.wanted--;
        this.host.next(step.value);
      }
    } finally {
      this.reading = false;
    }
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    try {
      this.iterator.return?.();
    } catch {
      // torn down: what its clean-up throws has no one to go to
    }
  }
}

/** An async iterator, read one item at a time on request. */
class AsyncIterInner implements Inner {
  readonly lazy = true;
  private wanted = 0;
  private reading = false;
  private done = false;

  constructor(
    private readonly iterator: AsyncIterator<unknown>,
    private readonly host: InnerHost,
  ) {}

  pull(n: number): void {
    this.wanted += n;
    this.read();
  }

  private read(): void {
    if (this.reading || this.done || this.wanted <= 0) return;
    this.reading = true;
    let step: PromiseLike<IteratorResult<unknown>> | IteratorResult<unknown>;
    try {
      step = this.iterator.next();
    } catch (error) {
      this.fail(error);
      return;
    }
    Promise.resolve(step).then(
      (result) => {
        this.reading = false;
        if (this.done) return;
        if (result.done) {
          this.done = true;
          this.host.complete();
          return;
        }
        this.wanted--;
        this.host.next(result.value);
        this.read();
      },
      (error) => {
        this.reading = false;
        this.fail(error);
      },
    );
  }

  private fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.host.error(error);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    try {
      // A read in progress finishes first (an async generator queues return() behind it).
      Promise.resolve(this.iterator.return?.()).catch(() => {});
    } catch {
      // torn down: nobody to tell
    }
  }
}

/** An Observable of ours (a pipeline, `fromIterable`): one credit per request, so it is read only as asked. */
class PullInner implements Inner {
  readonly lazy = true;
  private readonly line = new CreditLine(0);
  private subscription: { unsubscribe(): void } | undefined;
  private done = false;

  constructor(source: PullSource<unknown>, host: InnerHost) {
    const inner = this;
    const subscription = source[kPull](
      {
        get closed() {
          return inner.done;
        },
        next: (value) => {
          if (!this.done) host.next(value);
        },
        error: (error) => {
          if (this.done) return;
          this.done = true;
          host.error(error);
        },
        complete: () => {
          if (this.done) return;
          this.done = true;
          host.complete();
        },
      },
      { line: this.line, ordered: false, numberIndex: true }, // indexes are dropped here
    );
    if (this.done) subscription.unsubscribe();
    else this.subscription = subscription;
  }

  pull(n: number): void {
    if (!this.done) this.line.grant(n);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.subscription?.unsubscribe();
  }
}

/**
 * Any other Observable: subscribed at once, pushing at its own pace. The observer it gets is also a
 * subscription-like object (`closed`, `add`, `unsubscribe`), so that RxJS uses it as its subscriber
 * as it is: a synchronous source checks `closed` and stops as soon as it is torn down, even during
 * `subscribe`.
 */
class PushInner implements Inner {
  readonly lazy = false;
  private done = false;
  private teardowns: Array<(() => void) | { unsubscribe(): void }> = [];

  constructor(observable: { subscribe(observer: object): unknown }, host: InnerHost) {
    const inner = this;
    const observer = {
      get closed() {
        return inner.done;
      },
      next: (value: unknown) => {
        if (!this.done) host.next(value);
      },
      error: (error: unknown) => {
        if (this.done) return;
        this.finish();
        host.error(error);
      },
      complete: () => {
        if (this.done) return;
        this.finish();
        host.complete();
      },
      add: (teardown: unknown) => this.add(teardown),
      remove: () => {},
      unsubscribe: () => this.close(),
    };
    if (typeof observable?.subscribe !== 'function') throw new TypeError('the flatMap result has Symbol.observable but what it returned cannot be subscribed');
    this.add(observable.subscribe(observer));
  }

  private add(teardown: unknown): void {
    if (!teardown || teardown === this) return;
    const t = teardown as (() => void) | { unsubscribe?: () => void };
    if (typeof t !== 'function' && typeof t.unsubscribe !== 'function') return;
    if (this.done) this.run(t as () => void);
    else this.teardowns.push(t as () => void);
  }

  private run(teardown: (() => void) | { unsubscribe(): void }): void {
    try {
      if (typeof teardown === 'function') teardown();
      else teardown.unsubscribe();
    } catch {
      // torn down: nobody to tell
    }
  }

  /** Ended by the source: release what it registered. */
  private finish(): void {
    this.done = true;
    const list = this.teardowns;
    this.teardowns = [];
    for (const t of list) this.run(t);
  }

  pull(): void {}

  close(): void {
    if (this.done) return;
    this.finish();
  }
}
