/**
 * What `threadsScheduler` and `parallelTasks` say to each other through one method of a threads.js
 * worker. threads.js carries the messages (its `run`, `result` and `cancel`); this is only their
 * payload.
 * @internal
 * @module
 */
import type { StageMode } from '../schedulers/scheduler.js';
import type { WireError } from '../worker/protocol.js';

/**
 * The method `parallelTasks()` adds to the functions a threads.js worker exposes. A worker that has
 * it is called with the stage's context; one without it has its own methods called directly.
 */
export const CALL_METHOD = 'rxjs-parallel:call';

/** Main → worker: `[OP_START, lease, names: string[], onStart: string | null, stage, index, workers]`. */
export const OP_START = 0;
/** Main → worker: `[OP_RUN, lease, fn: string, mode, value, elementIndex, index, workers]`. */
export const OP_RUN = 1;
/** Main → worker: `[OP_END, lease, onEnd: string | null, stage, index, workers, done, activeWorkers]`. */
export const OP_END = 2;

export type StartMessage = [op: typeof OP_START, lease: number, names: string[], onStart: string | null, stage: string, index: number, workers: number];
export type RunMessage = [op: typeof OP_RUN, lease: number, fn: string, mode: StageMode, value: unknown, elementIndex: readonly number[], index: number, workers: number];
export type EndMessage = [op: typeof OP_END, lease: number, onEnd: string | null, stage: string, index: number, workers: number, done: boolean, activeWorkers: number];
export type CallMessage = StartMessage | RunMessage | EndMessage;

/**
 * Worker → main: one reply per call, always a non-empty array. threads.js drops every falsy value
 * a worker observable emits (`if (event.data.payload)` in its invocation proxy), so the value
 * travels inside the array, where 0, false, '', null, undefined and NaN all survive.
 */
export type Reply =
  | [status: typeof R_OK, value: unknown]
  | [status: typeof R_THREW, error: WireError]
  | [status: typeof R_MISSING, name: string, exposed: string[]]
  | [status: typeof R_UNCLONEABLE, error: WireError];

/** The function returned (or, for OP_START and OP_END, ran) without throwing. */
export const R_OK = 0;
/** The function threw: the error as a {@link WireError} (class name, message, stack, cause, fields). */
export const R_THREW = 1;
/** No function of that name was given to `parallelTasks()`: the name, and the names there are. */
export const R_MISSING = 2;
/** The result could not be cloned back. */
export const R_UNCLONEABLE = 3;
