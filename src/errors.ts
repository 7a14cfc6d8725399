/**
 * Every error rxjs-parallel raises. Each class has a literal `name`, a stable `code`, structured
 * fields and, where it wraps another error, the original as `cause`. Test with `instanceof` or
 * `code`, never with the message text.
 * @module
 */

/** An element's position in the source, one level more for each flatMap it came out of. */
export type ElementIndex = readonly number[];

/** The base of every rxjs-parallel error. */
export abstract class ParallelError extends Error {
  /** Stable, machine-readable identifier of the error class. */
  abstract readonly code: string;
}

/**
 * An element took longer than the stage's `timeout`. Its `ctx.signal` was aborted.
 * With `onError: 'skip'` this is pypeln's per-element timeout.
 */
export class TaskTimeoutError extends ParallelError {
  override readonly name = 'TaskTimeoutError' as const;
  readonly code = 'ERR_TASK_TIMEOUT' as const;
  constructor(
    /** Stage that timed out. */
    readonly stage: string,
    /** The element that timed out. */
    readonly elementIndex: ElementIndex,
    /** The stage's `timeout`, in ms. */
    readonly timeout: number,
  ) {
    super(`Stage "${stage}": element [${elementIndex.join(', ')}] did not finish within ${timeout} ms`);
  }
}

/**
 * A worker thread or process ended while it held an element (it exited, was killed, or failed to
 * load). The element is re-run when `retries` allow, else reported through `onError`.
 */
export class WorkerCrashedError extends ParallelError {
  override readonly name = 'WorkerCrashedError' as const;
  readonly code = 'ERR_WORKER_CRASHED' as const;
  /** Exit code of the worker, when it exited. */
  readonly exitCode: number | null;
  /** Signal that killed the worker, when it was killed. */
  readonly signal: string | null;
  /** Index of the worker in its scheduler's pool. */
  readonly workerId: number;
  /** The element the worker held, when it held one. */
  readonly elementIndex: ElementIndex | undefined;
  /** How the worker ended, in words, when it was more than an exit code or a signal. */
  readonly reason: string | undefined;
  constructor(
    details: {
      workerId: number;
      exitCode?: number | null;
      signal?: string | null;
      elementIndex?: ElementIndex;
      reason?: string;
    },
    options?: { cause?: unknown },
  ) {
    const how =
      details.reason ??
      (details.signal ? `was killed by ${details.signal}` : `exited with code ${details.exitCode ?? 'unknown'}`);
    const held = details.elementIndex ? ` while it held element [${details.elementIndex.join(', ')}]` : '';
    super(`Worker ${details.workerId} ${how}${held}`, options);
    this.workerId = details.workerId;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.elementIndex = details.elementIndex;
    this.reason = details.reason;
  }

  /** The same crash, attributed to one of the elements the worker held. */
  forElement(elementIndex: ElementIndex): WorkerCrashedError {
    return new WorkerCrashedError(
      { workerId: this.workerId, exitCode: this.exitCode, signal: this.signal, reason: this.reason, elementIndex },
      { cause: this.cause },
    );
  }
}

/**
 * A function cannot run in a worker thread or process: a plain function sent there must be
 * self-contained (no closure, no outside name), or the worker could not find a `task()` export.
 */
export class WorkerFunctionError extends ParallelError {
  override readonly name = 'WorkerFunctionError' as const;
  readonly code = 'ERR_WORKER_FUNCTION' as const;
  constructor(
    /** The function's name, or the task's `module#export`. */
    readonly functionName: string,
    /** Why it cannot run. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot run "${functionName}" in a worker: ${reason}`, options);
  }
}

/**
 * An element could not be sent to a worker thread or process, or its result could not be sent
 * back: it holds something structured clone cannot copy (a function, a Symbol, a DOM node ...).
 * Only that element fails; the worker and the stage go on (`onError` and `retries` apply).
 */
export class UncloneableValueError extends ParallelError {
  override readonly name = 'UncloneableValueError' as const;
  readonly code = 'ERR_UNCLONEABLE_VALUE' as const;
  constructor(
    /** The stage's `name`. */
    readonly stage: string,
    /** The element whose value or result could not be sent. */
    readonly elementIndex: ElementIndex,
    /** `'element'`: the value on its way to the worker; `'result'`: what `fn` returned, on its way back. */
    readonly direction: 'element' | 'result',
    options?: { cause?: unknown },
  ) {
    const what = direction === 'element' ? `element [${elementIndex.join(', ')}] cannot be sent to` : `the result of element [${elementIndex.join(', ')}] cannot be sent back from`;
    super(
      `Stage "${stage}": ${what} a worker: ${describe(options?.cause)}. ` +
        'Only structured-cloneable values cross a thread or process boundary (no functions, symbols or class methods).',
      options,
    );
  }
}

/** A push upstream outran a stage with `overflow: 'error'`: more than `maxsize` items queued. */
export class BufferOverflowError extends ParallelError {
  override readonly name = 'BufferOverflowError' as const;
  readonly code = 'ERR_BUFFER_OVERFLOW' as const;
  constructor(
    /** The stage whose buffer overflowed. */
    readonly stage: string,
    /** Its `maxsize`. */
    readonly maxsize: number,
  ) {
    super(
      `Stage "${stage}": more than ${maxsize} items queued from a push upstream (overflow: 'error'). ` +
        `Use fromIterable() for a pull source, raise maxsize, or choose another overflow policy.`,
    );
  }
}

/** Where a {@link StageError} came from. */
export type StagePhase = 'fn' | 'onStart' | 'onEnd' | 'onError';

/**
 * An error thrown by a stage's `fn`, `onStart`, `onEnd` or `onError`, with the stage and element it
 * came from. The original is `cause`; from a thread or process it keeps its class name, message,
 * stack and own `cause` chain.
 */
export class StageError extends ParallelError {
  override readonly name = 'StageError' as const;
  readonly code = 'ERR_STAGE' as const;
  constructor(
    /** The stage's `name`. */
    readonly stage: string,
    /** Which callback threw. */
    readonly phase: StagePhase,
    /** The element being processed; undefined for `onStart` and `onEnd`. */
    readonly elementIndex: ElementIndex | undefined,
    cause: unknown,
  ) {
    const where = elementIndex ? ` on element [${elementIndex.join(', ')}]` : '';
    super(`Stage "${stage}": ${phase} failed${where}: ${describe(cause)}`, { cause });
  }
}

/**
 * The callback of `finalizeAsync` threw or rejected. It replaces the stream's outcome, as a throw in
 * a `finally` block does: the stream fails with this error, whose `cause` is what the callback
 * threw, and `sourceError` is the error the source had failed with, if it had.
 */
export class FinalizeError extends ParallelError {
  override readonly name = 'FinalizeError' as const;
  readonly code = 'ERR_FINALIZE' as const;
  constructor(
    /** How the source ended before the callback ran: `'complete'` or `'error'`. */
    readonly outcome: 'complete' | 'error',
    /** The source's error when `outcome` is `'error'`, else undefined. */
    readonly sourceError: unknown,
    cause: unknown,
  ) {
    const after = outcome === 'error' ? `after the source failed (${describe(sourceError)})` : 'after the source completed';
    super(`finalizeAsync: the callback failed ${after}: ${describe(cause)}`, { cause });
  }
}

/**
 * An optional peer dependency that a feature needs is not installed (or cannot be loaded here):
 * `Monitor.reportHtml()` and `writeReport()` read `uplot` from `node_modules`, on Node.
 */
export class MissingDependencyError extends ParallelError {
  override readonly name = 'MissingDependencyError' as const;
  readonly code = 'ERR_MISSING_DEPENDENCY' as const;
  constructor(
    /** The npm package that is missing. */
    readonly packageName: string,
    /** The feature that needs it. */
    readonly feature: string,
    options?: { cause?: unknown },
  ) {
    super(`${feature} needs the package "${packageName}" (an optional peer dependency), on Node: npm install ${packageName}`, options);
  }
}

/** An operator was called with an option it cannot take. Thrown when the operator is called. */
export class InvalidOptionError extends ParallelError {
  override readonly name = 'InvalidOptionError' as const;
  readonly code = 'ERR_INVALID_OPTION' as const;
  constructor(
    /** The option's name. */
    readonly option: string,
    /** What was expected, in words. */
    readonly expected: string,
    /** What was received. */
    readonly received: unknown,
  ) {
    super(`Expected \`${option}\` to be ${expected}, got ${show(received)}`);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** `0 (number)`, `"4" (string)`, `[object Object] (object)` — what validation messages show. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `\`${JSON.stringify(value)}\` (string)`;
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (value === null) return '`null`';
  let text: string;
  try {
    text = typeof value === 'object' ? JSON.stringify(value) ?? String(value) : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return `\`${text}\` (${typeof value})`;
}
