import type { OperatorFunction } from 'rxjs';
import type { Replacement, StageOptions } from '../core/options.js';
import { stageOperator } from './stage-operator.js';
import type { StageFn } from '../shared/task.js';

/**
 * Applies `fn` to each element on a pool of workers and emits each result — RxJS's `map`, run
 * `workers` at a time with a bounded queue. Results come in completion order, or in source
 * order with `ordered: true`.
 *
 * ```ts
 * fromIterable([1, 2, 3]).pipe(
 *   mapParallel(async (x) => x * 10, { workers: 2, ordered: true }),
 * ).subscribe(console.log);
 * // 10, 20, 30
 * ```
 * @param fn `(value, ctx) => result | Promise<result>`, or a `task()` ref for a thread or process.
 * @param options The {@link StageOptions}; validated here, when the operator is called.
 * @returns An operator emitting `await fn(x, ctx)` per input.
 * @see filterParallel, flatMapParallel, ordered
 */
export function mapParallel<T, R, Res = any, Rep = never>(fn: StageFn<T, R, Res>, options?: StageOptions<T, Res, Rep>): OperatorFunction<T, R | Replacement<Rep>> {
  return stageOperator('mapParallel', 'map', fn, options, { allowOrdered: true });
}
