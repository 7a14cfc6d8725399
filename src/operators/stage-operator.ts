/**
 * What every stage operator does when it is called: validate and capture its options, and name
 * the scheduler factory the stage core will call per subscription. Internal to the operators.
 * @internal
 * @module
 */
import type { OperatorFunction } from 'rxjs';
import { resolveOptions, type StageOptions } from '../core/options.js';
import { stage } from '../core/stage.js';
import type { Work } from '../shared/task.js';
import type { StageMode } from '../schedulers/scheduler.js';
import { resolveScheduler } from '../schedulers/resolve.js';

/** @internal */
export function stageOperator<T, R>(
  operator: string,
  mode: StageMode,
  fn: unknown,
  options: StageOptions<any, any, any> | undefined,
  shape: { allowOrdered: boolean; ordered?: boolean },
): OperatorFunction<T, R> {
  const o = resolveOptions(operator, fn, options, shape.allowOrdered);
  return stage<T, R>({
    mode,
    fn: fn as Work,
    options: o,
    ordered: shape.ordered,
    scheduler: () => resolveScheduler(o.scheduler, o.workers),
  });
}
