import type { ObservableInput, OperatorFunction } from 'rxjs';
import { resolveOptions, type StageOptions } from '../core/options.js';
import { stage } from '../core/stage.js';
import type { StageFn } from '../core/task.js';

/**
 * What a flatMap function may return: an Iterable, AsyncIterable, Observable (any ObservableInput)
 * or a Promise of one. A Promise of another value is one output; `undefined`/`null` are none.
 */
export type FlatResult<R> = Iterable<R> | AsyncIterable<R> | ObservableInput<R> | PromiseLike<Iterable<R> | AsyncIterable<R> | R | undefined> | undefined;

/**
 * Runs `fn` on a pool of workers and emits every output of every call, element by element in
 * completion order (all of one element's outputs together). Each output's `elementIndex` is its
 * element's index plus its position among that element's outputs (pypeln's `flat_map`).
 *
 * ```ts
 * fromIterable([1, 2]).pipe(
 *   flatMapParallel(async function* (x) { yield x; yield x * 10; }, { workers: 2 }),
 * ).subscribe(console.log);
 * // 1, 10, 2, 20 — or 2, 20, 1, 10, whichever element finishes first
 * ```
 * @param fn `(value, ctx) => Iterable | AsyncIterable | ObservableInput | Promise`, or a `task()` ref.
 * @param options The {@link StageOptions} (`ordered` is not taken: use {@link flatMapOrdered}).
 * @returns An operator emitting the outputs.
 * @see flatMapOrdered
 */
export function flatMapParallel<T, R, Res = any>(fn: StageFn<T, FlatResult<R>, Res>, options?: StageOptions<T, Res>): OperatorFunction<T, R> {
  return stage({ mode: 'flat', fn, options: resolveOptions('flatMapParallel', fn, options, false) });
}
