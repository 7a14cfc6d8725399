/**
 * rxjs-parallel: RxJS operators that run each element's work on a pool of workers, with bounded
 * queues, per-worker resources and ordered output.
 * @module
 */

// ---- Operators ------------------------------------------------------------------------------
export { mapParallel } from './operators/mapParallel.js';
export { filterParallel } from './operators/filterParallel.js';
export { flatMapParallel, type FlatResult, type FlatOutput } from './operators/flatMapParallel.js';
export { flatMapOrdered } from './operators/flatMapOrdered.js';
export { eachParallel } from './operators/eachParallel.js';
export { ordered } from './operators/ordered.js';
export {
  inParallel,
  type InParallelInput,
  type InParallelOptions,
  type InParallelContext,
  type InParallelResult,
} from './operators/inParallel.js';
export { finalizeAsync } from './operators/finalizeAsync.js';

// ---- Sources and sinks ----------------------------------------------------------------------
export { fromIterable } from './backpressure/fromIterable.js';
export { toAsyncIterable, type ToAsyncIterableOptions } from './backpressure/toAsyncIterable.js';
export { run, type RunOptions } from './backpressure/run.js';

// ---- Options and contexts -------------------------------------------------------------------
export {
  STAGE_DEFAULTS,
  SKIP,
  type Replacement,
  type StageOptions,
  type OnError,
  type ErrorContext,
  type OverflowPolicy,
} from './core/options.js';
export type { Context, StartContext, EndContext, WorkerInfo, StageStatus } from './shared/context.js';
export { task, isTaskRef, type TaskRef, type StageFn, type StartFn, type EndFn, type Work } from './shared/task.js';

// ---- Schedulers -----------------------------------------------------------------------------
export { taskScheduler, type InProcessSchedulerOptions } from './schedulers/task.js';
export { syncScheduler } from './schedulers/sync.js';
export { threadScheduler, type ThreadSchedulerOptions, type ThreadResourceLimits } from './schedulers/thread.js';
export type { WorkerLike } from './schedulers/endpoints.js';
export { processScheduler, type ProcessSchedulerOptions } from './schedulers/process.js';
export {
  isScheduler,
  type Scheduler,
  type SchedulerName,
  type StageWork,
  type StageMode,
  type Job,
  type LeaseSink,
  type WorkerLease,
  type ValueRun,
} from './schedulers/scheduler.js';

// ---- Observability --------------------------------------------------------------------------
export {
  Monitor,
  type MonitorOptions,
  type MonitorSnapshot,
  type StageStats,
  type StageState,
  type LatencyStats,
} from './monitor/monitor.js';
export type { ReportOptions } from './monitor/report.js';
export { progress, type ProgressOptions, type ProgressStream, type ProgressHandle } from './monitor/progress.js';

// ---- Transfer -------------------------------------------------------------------------------
export { transfer, type TransferListItem } from './shared/transfer.js';

// ---- Errors ---------------------------------------------------------------------------------
export {
  ParallelError,
  TaskTimeoutError,
  WorkerCrashedError,
  WorkerFunctionError,
  UncloneableValueError,
  BufferOverflowError,
  OrderingError,
  StageError,
  FinalizeError,
  MissingDependencyError,
  InvalidOptionError,
  type StagePhase,
  type ElementIndex,
} from './errors.js';
