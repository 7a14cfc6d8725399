import { EmptyError, from, Observable, type ObservableInput, type ObservedValueOf, type Subscription } from 'rxjs';
import { InvalidOptionError } from '../errors.js';

/** What a function input of {@link inParallel} is handed when it starts. */
export interface InParallelContext {
  /** The input's position in `inputs`. */
  readonly index: number;
  /** Aborted when the input is cancelled: another input failed, or the subscriber unsubscribed. */
  readonly signal: AbortSignal;
}

/** One input of {@link inParallel}: an ObservableInput, or a function that starts one when its turn comes. */
export type InParallelInput<R> = ObservableInput<R> | ((ctx: InParallelContext) => ObservableInput<R>);

/** The value an input contributes to the array: the last value it emits. */
export type InParallelResult<I> = I extends (ctx: InParallelContext) => infer O
  ? ObservedValueOf<O>
  : I extends ObservableInput<unknown>
    ? ObservedValueOf<I>
    : never;

/** Options of {@link inParallel}. */
export interface InParallelOptions {
  /**
   * Inputs running at once (statefun's `max_parallelism`). Each level of a nested `inParallel`
   * counts its own inputs.
   * @default Infinity (all at once)
   */
  maxParallelism?: number;
}

const KNOWN = new Set(['maxParallelism']);

/**
 * Fans out to every input, at most `maxParallelism` running at once, and fans in to one array of
 * their results in input order — flink-statefun-tasks' `in_parallel`. An input is an
 * ObservableInput (an Observable, a Promise, an iterable...) or a function returning one, started
 * only when its turn comes; its result is its last value. The array is emitted once all are done,
 * then the Observable completes.
 *
 * It is a creation function, like RxJS's `forkJoin` (which it extends with `maxParallelism`,
 * functions started on demand and cancellation on the first error): the inputs are the work. An
 * `inParallel` is itself an input, so groups nest; per element of a stream, return one from a stage
 * (`flatMapParallel((x) => inParallel(...))`) or from `mergeMap`.
 *
 * The first input to fail cancels the others (unsubscribes them and aborts `ctx.signal` of the
 * functions that started; those not started never start), then the error is delivered unchanged.
 * An input that completes without a value fails with RxJS's `EmptyError`, as `lastValueFrom` does.
 * No inputs: emits `[]`. Unsubscribing cancels every input the same way.
 *
 * ```ts
 * inParallel([
 *   () => multiply(3, 2),
 *   inParallel([() => multiply(4, 5), () => multiply(3, 4)]).pipe(map(average)),
 * ], { maxParallelism: 2 }).pipe(map(average)).subscribe(console.log);
 * // 11
 * ```
 * @param inputs ObservableInputs, or functions `(ctx: { index, signal }) => ObservableInput`.
 * @param options `maxParallelism`: an integer ≥ 1 or Infinity (default Infinity).
 * @returns An Observable of one array: each input's last value, in input order.
 * @throws {InvalidOptionError} When an input is neither an ObservableInput nor a function, or
 * `maxParallelism` is not an integer ≥ 1.
 * @see forkJoin, flatMapParallel
 */
export function inParallel<const I extends readonly InParallelInput<unknown>[]>(
  inputs: I,
  options?: InParallelOptions,
): Observable<{ -readonly [K in keyof I]: InParallelResult<I[K]> }>;
export function inParallel(inputs: readonly InParallelInput<unknown>[], options: InParallelOptions = {}): Observable<unknown[]> {
  if (!Array.isArray(inputs)) throw new InvalidOptionError('inputs', 'an array of ObservableInputs or functions returning one', inputs);
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(key, 'maxParallelism (unknown option)', (options as Record<string, unknown>)[key]);
  }
  const max = options.maxParallelism ?? Infinity;
  if (typeof max !== 'number' || !(max >= 1) || (max !== Infinity && !Number.isInteger(max))) {
    throw new InvalidOptionError('maxParallelism', 'an integer ≥ 1 or Infinity', max);
  }
  // Validated and converted now, when called: a bad input fails here, not at some later subscribe.
  const sources = inputs.map((input, i): Observable<unknown> | ((ctx: InParallelContext) => ObservableInput<unknown>) => {
    if (typeof input === 'function') return input;
    try {
      return from(input);
    } catch {
      throw new InvalidOptionError(`inputs[${i}]`, 'an ObservableInput or a function returning one', input);
    }
  });
  return new Observable<unknown[]>((subscriber) => {
    const n = sources.length;
    const results = new Array<unknown>(n);
    const running = new Map<number, { subscription: Subscription | undefined; abort: AbortController | undefined }>();
    let next = 0;
    let done = 0;
    let closed = false;
    let starting = false;

    const cancel = () => {
      closed = true;
      for (const input of running.values()) {
        input.subscription?.unsubscribe();
        input.abort?.abort();
      }
      running.clear();
    };
    const fail = (error: unknown) => {
      if (closed) return;
      cancel();
      subscriber.error(error);
    };

    /** Starts inputs while there is room. An input that completes inside subscribe loops here instead of nesting. */
    const fill = () => {
      if (starting) return;
      starting = true;
      try {
        while (!closed && running.size < max && next < n) start(next++);
      } finally {
        starting = false;
      }
      if (!closed && done === n) {
        closed = true;
        subscriber.next(results);
        subscriber.complete();
      }
    };

    const start = (i: number) => {
      const slot: { subscription: Subscription | undefined; abort: AbortController | undefined } = { subscription: undefined, abort: undefined };
      running.set(i, slot);
      const input = sources[i];
      let source: Observable<unknown>;
      if (typeof input === 'function') {
        // Only a function can use a signal; a plain input is cancelled by unsubscribing alone.
        slot.abort = new AbortController();
        try {
          source = from(input({ index: i, signal: slot.abort.signal }));
        } catch (error) {
          running.delete(i); // it never started: nothing of it to cancel
          return fail(error);
        }
      } else {
        source = input;
      }
      let has = false;
      let finished = false;
      const subscription = source.subscribe({
        next: (value) => {
          has = true;
          results[i] = value;
        },
        error: (error) => {
          finished = true;
          running.delete(i); // over: nothing of it to cancel
          fail(error);
        },
        complete: () => {
          finished = true;
          if (closed) return;
          running.delete(i);
          if (!has) return fail(new EmptyError());
          done++;
          fill();
        },
      });
      // Still running (it did not end inside subscribe): keep it to cancel.
      if (!finished && !closed) slot.subscription = subscription;
    };

    fill();
    return cancel;
  });
}
