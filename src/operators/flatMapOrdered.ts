import type { OperatorFunction } from 'rxjs';
import type { Replacement, StageOptions } from '../core/options.js';
import { stageOperator } from './stage-operator.js';
import type { StageFn } from '../shared/task.js';
import type { FlatOutput, FlatResult } from './flatMapParallel.js';

/**
 * As {@link flatMapParallel}, but outputs come in source order: all of element i's outputs before
 * element i+1's. Streaming: the head element's outputs go out as they are produced, while later
 * elements keep running (their calls, and up to the scheduler's output window of their inner
 * sources: nothing in-process, 64 outputs in a thread or process); a slow head stalls intake
 * (bounded by the stage's credits) instead of growing a buffer. Nothing is collected and sorted.
 *
 * ```ts
 * fromIterable([3, 1]).pipe(
 *   flatMapOrdered(async (n) => Array.from({ length: n }, (_, i) => `${n}.${i}`), { workers: 2 }),
 * ).subscribe(console.log);
 * // 3.0, 3.1, 3.2, 1.0
 * ```
 * @param fn `(value, ctx) => Iterable | AsyncIterable | ObservableInput | Promise`, or a `task()` ref.
 * @param options The {@link StageOptions}.
 * @returns An operator emitting the outputs in source order.
 * @see flatMapParallel, ordered
 */
export function flatMapOrdered<T, R, Res = any, Rep = never>(fn: StageFn<T, FlatResult<R>, Res>, options?: StageOptions<T, Res, Rep>): OperatorFunction<T, R | FlatOutput<Replacement<Rep>>> {
  return stageOperator('flatMapOrdered', 'flat', fn, options, { allowOrdered: false, ordered: true });
}
