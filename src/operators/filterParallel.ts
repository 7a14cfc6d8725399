import type { OperatorFunction } from 'rxjs';
import type { StageOptions } from '../core/options.js';
import { stageOperator } from './stage-operator.js';
import type { StageFn } from '../shared/task.js';

/**
 * Emits the elements for which `predicate` is truthy, running it on a pool of workers — RxJS's
 * `filter` with `workers` calls at a time. Completion order, or source order with `ordered: true`.
 * A filtered-out element gives its credit back upstream at once.
 *
 * ```ts
 * fromIterable([1, 2, 3, 4]).pipe(
 *   filterParallel(async (x) => x % 2 === 0, { workers: 2, ordered: true }),
 * ).subscribe(console.log);
 * // 2, 4
 * ```
 * @param predicate `(value, ctx) => boolean | Promise<boolean>`, or a `task()` ref.
 * @param options The {@link StageOptions}.
 * @returns An operator emitting each `x` where `await predicate(x, ctx)` is truthy.
 * @see mapParallel
 */
export function filterParallel<T, Res = any>(predicate: StageFn<T, unknown, Res>, options?: StageOptions<T, Res, unknown>): OperatorFunction<T, T> {
  return stageOperator('filterParallel', 'filter', predicate, options, { allowOrdered: true });
}
