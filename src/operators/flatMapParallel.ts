import type { ObservableInput, OperatorFunction } from 'rxjs';
import type { Replacement, StageOptions } from '../core/options.js';
import { stageOperator } from './stage-operator.js';
import type { StageFn } from '../shared/task.js';

/**
 * What a flatMap function may return: an Iterable, AsyncIterable, Observable (any ObservableInput)
 * or a Promise of one. A Promise of another value is one output; `undefined`/`null` are none.
 */
export type FlatResult<R> = Iterable<R> | AsyncIterable<R> | ObservableInput<R> | PromiseLike<Iterable<R> | AsyncIterable<R> | R | undefined> | undefined;

/** The outputs a flatMap `onError` replacement stands for: the items of an iterable or observable one, or itself. */
export type FlatOutput<Rep> = [Rep] extends [never]
  ? never
  : Rep extends string
    ? Rep
    : Rep extends Iterable<infer U> | AsyncIterable<infer U> | ObservableInput<infer U>
      ? U
      : Exclude<Rep, undefined | null>;

/**
 * Runs `fn` on a pool of workers and emits every output of every call as it is produced, in
 * completion order, interleaved across elements as they come (pypeln's `flat_map`, RxJS's
 * `mergeMap` with `workers` at a time). An inner Iterable or AsyncIterable is read only as
 * downstream asks for values (in a thread or process, a window of outputs ahead), an inner
 * Observable is subscribed and buffered like a push upstream (`overflow`), and a worker stays busy
 * with an element until its inner source has ended. Unsubscribing, `take`, an error or a `timeout`
 * tears every inner down (`return()`, unsubscribe), in-process and inside workers. Each output's
 * `elementIndex` is its element's index plus its position among that element's outputs.
 *
 * ```ts
 * fromIterable([1, 2]).pipe(
 *   flatMapParallel(async function* (x) { yield x; yield x * 10; }, { workers: 2 }),
 * ).subscribe(console.log);
 * // 1, 2, 10, 20 — outputs as each generator yields them
 * ```
 * @param fn `(value, ctx) => Iterable | AsyncIterable | ObservableInput | Promise`, or a `task()` ref.
 * @param options The {@link StageOptions} (`ordered` is not taken: use {@link flatMapOrdered}).
 * @returns An operator emitting the outputs.
 * @see flatMapOrdered
 */
export function flatMapParallel<T, R, Res = any, Rep = never>(fn: StageFn<T, FlatResult<R>, Res>, options?: StageOptions<T, Res, Rep>): OperatorFunction<T, R | FlatOutput<Replacement<Rep>>> {
  return stageOperator('flatMapParallel', 'flat', fn, options, { allowOrdered: false });
}
