import type { OperatorFunction } from 'rxjs';
import type { StageOptions } from '../core/options.js';
import { stageOperator } from './stage-operator.js';
import type { StageFn } from '../shared/task.js';

/**
 * Runs `fn` on each element for its effect, on a pool of workers; emits nothing and completes when
 * every call is done (pypeln's `each`). Pair it with {@link run} to await a whole pipeline.
 *
 * ```ts
 * await run(fromIterable(urls).pipe(eachParallel((url) => download(url), { workers: 4 })));
 * ```
 * @param fn `(value, ctx) => unknown`, or a `task()` ref.
 * @param options The {@link StageOptions}.
 * @returns An operator that emits nothing.
 * @see run
 */
export function eachParallel<T, Res = any>(fn: StageFn<T, unknown, Res>, options?: StageOptions<T, Res, unknown>): OperatorFunction<T, never> {
  return stageOperator('eachParallel', 'each', fn, options, { allowOrdered: false });
}
