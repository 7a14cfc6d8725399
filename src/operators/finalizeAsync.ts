import { config, Observable, Subscription, type MonoTypeOperatorFunction } from 'rxjs';
import { isPullObservable, PullObservable, subscribePull, type IndexedObserver } from '../backpressure/credit.js';
import { FinalizeError, InvalidOptionError, type ElementIndex } from '../errors.js';

/**
 * Like RxJS's `finalize`, but `fn` may be async, and the source's completion or error reaches the
 * subscriber only after `fn` has settled — flink-statefun-tasks' `finally_do`, the clean-up step
 * at the end of a pipeline. `fn` runs exactly once: when the source completes, when it errors, or
 * when the subscriber unsubscribes first (then there is nothing left to deliver, and it runs after
 * the source has been unsubscribed, as `finalize`'s callback does).
 *
 * Completion and error are always delivered asynchronously, after `fn` (even a synchronous one)
 * has returned. Values pass through untouched; after one of our stages, the credits and the
 * `ordered()` request pass through too, so `toAsyncIterable` still paces the pipeline.
 *
 * If `fn` throws or rejects, that replaces the outcome, as a throw in a `finally` block does: the
 * stream fails with a {@link FinalizeError} whose `cause` is what `fn` threw and whose
 * `sourceError` is the source's own error, if it had failed. After an unsubscribe nobody is
 * listening: the failure goes to RxJS's `config.onUnhandledError` (by default, thrown
 * asynchronously), like any error RxJS cannot deliver.
 *
 * ```ts
 * fromIterable([1, 2]).pipe(
 *   mapParallel(async (x) => x * 10),
 *   finalizeAsync(async () => { await db.close(); console.log('closed'); }),
 * ).subscribe({ next: console.log, complete: () => console.log('complete') });
 * // 10, 20, closed, complete
 * ```
 * @param fn `() => void | Promise<void>`, called once when the stream ends for any reason.
 * @returns An operator that mirrors the source and delays its end until `fn` has settled.
 * @throws {InvalidOptionError} When `fn` is not a function.
 * @see finalize
 */
export function finalizeAsync<T>(fn: () => unknown): MonoTypeOperatorFunction<T> {
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn);
  return (source: Observable<T>) =>
    isPullObservable(source)
      ? new PullObservable<T>((observer, request) => attach(fn, observer, (inner) => subscribePull(source, inner, request)), 'finalizeAsync()', source)
      : new Observable<T>((subscriber) =>
          attach<T>(
            fn,
            {
              get closed() {
                return subscriber.closed;
              },
              next: (value: T) => subscriber.next(value),
              error: (error) => subscriber.error(error),
              complete: () => subscriber.complete(),
            },
            (inner) => source.subscribe({ next: (value: T) => inner.next(value, NO_INDEX), error: (e) => inner.error(e), complete: () => inner.complete() }),
          ),
        );
}

const NO_INDEX: ElementIndex = [];

/** One subscription: mirrors the source into `downstream`, with `fn` run once before its end. */
function attach<T>(fn: () => unknown, downstream: IndexedObserver<T>, subscribe: (inner: IndexedObserver<T>) => Subscription): Subscription {
  let ran = false;
  /** Downstream has unsubscribed, or the end has been delivered. */
  let over = false;
  let upstream: Subscription | undefined;

  const run = (): Promise<unknown> => {
    ran = true;
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const end = (outcome: 'complete' | 'error', sourceError?: unknown) => {
    if (ran) return;
    upstream = undefined; // the source has ended: nothing to unsubscribe
    run().then(
      () => {
        if (over) return;
        over = true;
        if (outcome === 'complete') downstream.complete();
        else downstream.error(sourceError);
      },
      (error) => {
        if (over) return;
        over = true;
        downstream.error(new FinalizeError(outcome, sourceError, error));
      },
    );
  };

  const inner: IndexedObserver<T> = {
    get closed() {
      return over || ran;
    },
    next: (value, index) => {
      if (!over && !ran) downstream.next(value, index);
    },
    error: (error) => end('error', error),
    complete: () => end('complete'),
  };
  const subscription = subscribe(inner);
  if (!ran) upstream = subscription;

  // Downstream unsubscribed (or the end was delivered, and RxJS tears the subscriber down).
  return new Subscription(() => {
    over = true;
    upstream?.unsubscribe();
    upstream = undefined;
    if (!ran) run().catch(reportUnhandled);
  });
}

/** Where RxJS sends an error it cannot deliver (its internal reportUnhandledError does the same). */
function reportUnhandled(error: unknown): void {
  setTimeout(() => {
    const { onUnhandledError } = config;
    if (onUnhandledError) onUnhandledError(error);
    else throw error;
  });
}
