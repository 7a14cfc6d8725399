/**
 * The message protocol between a thread or process pool (src/schedulers/pool.ts) and the worker
 * runtime (src/worker/runtime.ts). Every message is an array whose first item is an opcode, so one
 * listener per worker dispatches on `msg[0]` and a batch of jobs or results is one flat array.
 * @internal
 * @module
 */
import { describe } from '../errors.js';

/** Worker → main: the runtime listens (sent once, first). */
export const HELLO = 0;
/** Main → worker: `[START, lease, work: WireWork, info: WorkerInfo]`: load the functions, run onStart. */
export const START = 1;
/** Worker → main: `[STARTED, lease]`. */
export const STARTED = 2;
/** Worker → main: `[START_FAILED, lease, phase: 'load' | 'onStart', role: WireRole, error: WireError]`. */
export const START_FAILED = 3;
/** Main → worker: `[RUN, lease, seq, value, elementIndex, seq, value, elementIndex, ...]`; a one-level elementIndex `[i]` is sent as the number `i`. */
export const RUN = 4;
/** Worker → main: `[RESULTS, lease, seq, status, payload, seq, status, payload, ...]` (see `R_*`). */
export const RESULTS = 5;
/** Main → worker: `[CANCEL, lease, seq, reason: WireError]`: abort the job's signal. */
export const CANCEL = 6;
/** Main → worker: `[END, lease, status: StageStatus]`: abort every job, run onEnd. */
export const END = 7;
/** Worker → main: `[ENDED, lease, error: WireError | undefined]`: onEnd ran (or could not: onStart failed). */
export const ENDED = 8;
/** Main → worker: `[CLOSE]`: exit. */
export const CLOSE = 9;
/**
 * Main → worker: `[RUN_RANGE, lease, firstSeq, firstIndex, value, value, ...]`, a batch of jobs whose
 * seqs count up from `firstSeq` and whose one-level elementIndexes count up from `firstIndex` (the
 * usual batch of a stage fed by a source): one number per element to clone instead of three.
 */
export const RUN_RANGE = 11;
/**
 * Worker → main: `[RESULTS_RANGE, lease, firstSeq, payload, payload, ...]`, results that are all
 * `R_OK`, of seqs counting up from `firstSeq`.
 */
export const RESULTS_RANGE = 12;
/**
 * Worker → main: `[ENDING, lease, stillRunning: number[]]`, at once on END: the jobs were aborted and
 * these calls have not settled yet (each will report `R_CANCELLED`); onEnd runs next.
 */
export const ENDING = 10;

/**
 * Main → worker: `[RECLAIM, lease, count]`: give back up to `count` queued jobs that have not
 * started, the last sent first (an idle worker of the stage will run them).
 */
export const RECLAIM = 13;
/** Worker → main: `[RECLAIMED, lease, seqs: number[]]`: these jobs were taken out of the queue, never started. */
export const RECLAIMED = 14;
/** Main → worker: `[PULL, lease, seq, count]`: the job's inner source may produce `count` more outputs (flatMap). */
export const PULL = 15;
/**
 * Worker → main, from the worker's `exit` hook (after every result it held was sent):
 * `[DYING, culprit, inWork, uncaught?: WireError]`. `culprit` is `[lease, seq]` for the call that was running when the
 * worker ended itself (`process.exit`, an uncaught error thrown from it), `[lease, ON_START]` or
 * `[lease, ON_END]` for those callbacks, or null; `inWork` lists `lease, seq` pairs of the calls
 * still in work (awaiting), so that when none was running synchronously and one alone was
 * awaiting, it is the one blamed.
 */
export const DYING = 16;
/**
 * Main → worker: `[RUN_NUMBERS, lease, firstSeq, firstIndex, Float64Array]`, a RUN_RANGE whose
 * values are all numbers, in one typed array:
 * cloned as bytes, not number by number (the cost of a batch's message was most of it). Sent only
 * over a transport that clones typed arrays (an endpoint whose `packsNumbers` is true).
 */
export const RUN_NUMBERS = 17;
/**
 * Worker → main: `[RESULTS_NUMBERS, lease, firstSeq, Float64Array]`, a RESULTS_RANGE whose results
 * are all numbers; only on a lease that was sent RUN_NUMBERS (so the transport is known to carry it).
 */
export const RESULTS_NUMBERS = 18;
/** The smallest batch worth a typed array of its own. */
export const MIN_PACKED = 16;

/**
 * Where the payloads of a range message are (RUN_RANGE and RESULTS_RANGE: after the header;
 * RUN_NUMBERS and RESULTS_NUMBERS: the whole typed array): `values[from + i]` is the payload of seq
 * `message[2] + i`, for `i` below `count`.
 */
export function rangePayloads(message: unknown[]): { values: ArrayLike<unknown>; from: number; count: number } {
  switch (message[0]) {
    case RUN_NUMBERS:
      return { values: message[4] as Float64Array, from: 0, count: (message[4] as Float64Array).length };
    case RESULTS_NUMBERS:
      return { values: message[3] as Float64Array, from: 0, count: (message[3] as Float64Array).length };
    case RUN_RANGE:
      return { values: message, from: 4, count: message.length - 4 };
    default:
      return { values: message, from: 3, count: message.length - 3 };
  }
}
/** In a DYING culprit: the lease's onStart was running. */
export const ON_START = -1;
/** In a DYING culprit: the lease's onEnd was running. */
export const ON_END = -2;

/**
 * flatMap: outputs a job's lazy inner source may produce before the main side asks for more with
 * PULL: enough to hide the round trip, small enough to bound what waits for a slow consumer.
 */
export const OUTPUT_WINDOW = 64;

/** Result status: `payload` is fn's result. */
export const R_OK = 0;
/** Result status: `payload` is what fn threw, as a {@link WireError}. */
export const R_ERROR = 1;
/** Result status: fn's result could not be sent back; `payload` is the clone error. */
export const R_UNCLONEABLE = 2;
/** Result status: a cancelled job (timed out, or its lease ended) has finally settled. */
export const R_CANCELLED = 3;
/** Result status (flatMap): `payload` is an array of outputs of a job whose inner source is still producing. */
export const R_PART = 4;
/**
 * Not a result: the last entry of a RESULTS message when a call of the lease is in work (awaiting a
 * promise, or streaming) as the message is sent, `[seq, R_RUNNING, undefined]`. A message without
 * it says the lease has no call in work. If the worker then dies from outside (SIGKILL, a native
 * crash), that call is the one that was running.
 */
export const R_RUNNING = 5;
/**
 * Not a result: `[seq, R_BEGAN, undefined]` says the worker is calling `fn` for `seq` now. Sent only
 * for a stage with a `timeout` (`WireWork.timed`), whose clock starts there, not when the job was
 * sent (it may wait in the worker behind another lease's call).
 */
export const R_BEGAN = 6;

/** Which of a stage's callbacks a message is about. */
export type WireRole = 'fn' | 'onStart' | 'onEnd';

/** A function as sent to a worker: a TaskRef's module and export, or a plain function's source. */
export type WireFunction =
  | { readonly module: string | undefined; readonly exportName: string; readonly source?: undefined }
  | { readonly source: string; readonly name: string };

/** A stage's work as sent to a worker. */
export interface WireWork {
  readonly name: string;
  readonly mode: 'map' | 'filter' | 'flat' | 'each';
  readonly fn: WireFunction;
  readonly onStart: WireFunction | undefined;
  readonly onEnd: WireFunction | undefined;
  /** The stage has a `timeout`: the worker says when each call begins (R_BEGAN). */
  readonly timed?: boolean;
}

/** An error (or any thrown value) made cloneable, keeping what structured clone would lose. */
export interface WireError {
  /** Marks an error made by {@link toWireError}. */
  readonly $wire: 'error' | 'value' | 'dom';
  /** A thrown non-error value ($wire 'value'). */
  readonly value?: unknown;
  readonly name?: string;
  readonly message?: string;
  readonly stack?: string;
  readonly cause?: WireError;
  readonly hasCause?: boolean;
  /** AggregateError's `errors`. */
  readonly errors?: WireError[];
  /** Own enumerable fields such as `code` (advanced serialization drops them). */
  readonly fields?: Record<string, unknown>;
}

const SKIP = new Set(['name', 'message', 'stack', 'cause', 'errors']);

/**
 * Makes what was thrown cloneable: class name, message, stack, the `cause` chain and own fields.
 * Never throws, whatever was thrown (a revoked proxy, an object whose getters throw).
 */
export function toWireError(thrown: unknown, depth = 0): WireError {
  try {
    return wireError(thrown, depth);
  } catch {
    return { $wire: 'value', value: describe(thrown) };
  }
}

function wireError(thrown: unknown, depth: number): WireError {
  if (!(thrown instanceof Error) && !isDomException(thrown)) {
    return { $wire: 'value', value: cloneable(thrown) ? thrown : String(thrown) };
  }
  const error = thrown as Error & { errors?: unknown };
  let fields: Record<string, unknown> | undefined;
  for (const key of Object.keys(error)) {
    if (SKIP.has(key)) continue;
    const v = (error as unknown as Record<string, unknown>)[key];
    (fields ??= {})[key] = cloneable(v) ? v : String(v);
  }
  const hasCause = depth < 16 && Object.prototype.hasOwnProperty.call(error, 'cause');
  return {
    $wire: isDomException(thrown) ? 'dom' : 'error',
    name: String(error.name),
    message: String(error.message),
    stack: typeof error.stack === 'string' ? error.stack : undefined,
    hasCause,
    cause: hasCause && error.cause !== thrown ? toWireError(error.cause, depth + 1) : undefined,
    errors: Array.isArray(error.errors) && depth < 16 ? error.errors.map((e) => toWireError(e, depth + 1)) : undefined,
    fields,
  };
}

const BUILTIN: Record<string, new (message?: string, options?: { cause?: unknown }) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** The error a {@link WireError} describes, rebuilt: a built-in class where the name is one. */
export function fromWireError(wire: WireError): unknown {
  if (wire.$wire === 'value') return wire.value;
  const message = wire.message ?? '';
  const options = wire.hasCause ? { cause: wire.cause ? fromWireError(wire.cause) : undefined } : undefined;
  let error: Error;
  if (wire.$wire === 'dom' && typeof DOMException === 'function') {
    error = new DOMException(message, wire.name) as unknown as Error;
    if (options) Object.defineProperty(error, 'cause', { value: options.cause, writable: true, configurable: true });
  } else if (wire.name === 'AggregateError' && typeof AggregateError === 'function') {
    error = new AggregateError((wire.errors ?? []).map(fromWireError), message, options);
  } else {
    const Ctor = Object.prototype.hasOwnProperty.call(BUILTIN, wire.name!) ? BUILTIN[wire.name!] : Error;
    error = new Ctor(message, options);
  }
  if (wire.fields) Object.assign(error, wire.fields);
  if (wire.name !== undefined && error.name !== wire.name) {
    Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true });
  }
  if (wire.stack !== undefined) Object.defineProperty(error, 'stack', { value: wire.stack, writable: true, configurable: true });
  return error;
}

function isDomException(value: unknown): boolean {
  return typeof DOMException === 'function' && value instanceof DOMException;
}

function cloneable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) return true;
  if (typeof value !== 'object') return false;
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
