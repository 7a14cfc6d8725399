/**
 * Every error rxjs-parallel raises. Each class has a literal `name`, a stable `code`, structured
 * fields and, where it wraps another error, the original as `cause`. Test with `instanceof` or
 * `code`, never with the message text.
 * @module
 */

/** An element's position in the source, one level more for each flatMap it came out of. */
export type ElementIndex = readonly number[];

/** Where a class keeps its brand (an own static property, so that a subclass made elsewhere has none). */
const kBrand = Symbol.for('rxjs-parallel.errorBrand');

/**
 * The base of every rxjs-parallel error.
 *
 * `instanceof` works across copies of the library: its CommonJS and ESM builds loaded in one process
 * (the dual-package hazard), or two installs of it. Each class puts a brand on its prototype, a
 * symbol from the global registry (`Symbol.for('rxjs-parallel.error.StageError')`...) that every
 * copy shares, and `instanceof` checks it when the prototype chain alone says no. A subclass keeps
 * its superclasses' brands, so `instanceof ParallelError` holds for every error of every copy,
 * while `new StageError(...) instanceof TaskTimeoutError` stays false. A class of your own that
 * extends one of these is checked by its prototype chain only.
 */
export abstract class ParallelError extends Error {
  /** Stable, machine-readable identifier of the error class. */
  abstract readonly code: string;

  /** `value instanceof ThisClass`, for an error made by this copy of the library or another one. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(this, kBrand)) return false;
    return (value as Record<symbol, unknown>)[(this as unknown as Record<symbol, symbol>)[kBrand]] === true;
  }
}
brand(ParallelError, 'ParallelError');

/**
 * An element took longer than the stage's `timeout` (its `ctx.signal` was aborted), or a worker's
 * `onStart` or `onEnd` did not finish within its scheduler's `startTimeout` / `endTimeout`.
 * With `onError: 'skip'` an element's timeout is pypeln's per-element timeout.
 */
export class TaskTimeoutError extends ParallelError {
  override readonly name = 'TaskTimeoutError' as const;
  readonly code = 'ERR_TASK_TIMEOUT' as const;
  constructor(
    /** Stage that timed out. */
    readonly stage: string,
    /** The element that timed out; `[]` for `onStart` and `onEnd`. */
    readonly elementIndex: ElementIndex,
    /** The limit that was reached, in ms. */
    readonly timeout: number,
    /** What did not finish in time: an element's `fn` (the default), or a worker's `onStart` or `onEnd`. */
    readonly phase: 'fn' | 'onStart' | 'onEnd' = 'fn',
  ) {
    super(
      phase === 'fn'
        ? `Stage "${stage}": element [${elementIndex.join(', ')}] did not finish within ${timeout} ms`
        : `Stage "${stage}": ${phase} did not finish within ${timeout} ms`,
    );
  }
}
brand(TaskTimeoutError, 'TaskTimeoutError');

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
brand(WorkerCrashedError, 'WorkerCrashedError');

/**
 * A stage's function cannot be shipped or loaded, the same class on every scheduler: a plain
 * function sent to a thread or process is not self-contained (a closure, an outside name), or a
 * `task()` ref cannot be loaded (its module is missing, has no such export, throws while it loads,
 * is TypeScript that no loader can compile), or names nothing registered with `expose()`.
 * It is not an element failure: the stream fails with it whatever `onError` and `retries` say.
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
    super(`Cannot run "${functionName}": ${reason}`, options);
  }
}
brand(WorkerFunctionError, 'WorkerFunctionError');

/**
 * An element could not be sent to a worker thread or process, or its result could not be sent
 * back: it holds something structured clone cannot copy (a function, a Symbol, a DOM node ...), or,
 * on `natsScheduler`, it is larger by itself than the NATS server's `max_payload`.
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
    const why = describe(options?.cause);
    super(
      `Stage "${stage}": ${what} a worker: ${why}. ` +
        (why.includes('max_payload')
          ? "A NATS message is at most the server's max_payload: send smaller values, or raise max_payload in the server's configuration."
          : 'Only structured-cloneable values cross a thread or process boundary (no functions, symbols or class methods).'),
      options,
    );
  }
}
brand(UncloneableValueError, 'UncloneableValueError');

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
brand(BufferOverflowError, 'BufferOverflowError');

/** Where a {@link StageError} came from. */
export type StagePhase = 'fn' | 'onStart' | 'onEnd' | 'onError' | 'partitionBy';

/**
 * An error thrown by a stage's `fn`, `onStart`, `onEnd`, `onError` or `partitionBy`, with the stage and element it
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
brand(StageError, 'StageError');

/**
 * `ordered()` cannot restore source order: nothing before it can be reordered (no rxjs-parallel
 * stage and no `fromIterable` upstream), or an operator between it and the stages before it emits
 * asynchronously (it delays or merges: `delay`, `mergeMap`, `bufferTime`...), so the order it sees
 * is that operator's. Raised at subscribe in the first case, at the first value that operator
 * emits on its own in the second, before any value is passed on out of order.
 */
export class OrderingError extends ParallelError {
  override readonly name = 'OrderingError' as const;
  readonly code = 'ERR_ORDERING' as const;
  constructor(
    /** The chain from `ordered()` up, as far as it could be followed, e.g. `ordered() ← <operator> ← mapParallel#1`. */
    readonly chain: string,
    /** Why the order cannot be restored, in words. */
    readonly reason: string,
  ) {
    super(`Source order cannot be restored over ${chain}: ${reason}`);
  }
}
brand(OrderingError, 'OrderingError');

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
brand(FinalizeError, 'FinalizeError');

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
brand(MissingDependencyError, 'MissingDependencyError');

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
brand(InvalidOptionError, 'InvalidOptionError');

/** Marks `cls` (and, through its prototype, every instance) with the brand of `name`. */
function brand(cls: abstract new (...args: any[]) => ParallelError, name: string): void {
  const symbol = Symbol.for(`rxjs-parallel.error.${name}`);
  Object.defineProperty(cls, kBrand, { value: symbol });
  Object.defineProperty(cls.prototype, symbol, { value: true });
}

/**
 * What was thrown, in words, for a message. Never throws: any value may be thrown (a null-prototype
 * object, one whose `toString` throws, a symbol, a revoked proxy).
 */
export function describe(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return String(error);
  } catch {
    try {
      return Object.prototype.toString.call(error);
    } catch {
      return `a thrown ${typeof error}`;
    }
  }
}

/** `value instanceof ParallelError`, false for a value whose prototype cannot even be read (a revoked proxy). */
export function isParallelError(value: unknown): value is ParallelError {
  try {
    return value instanceof ParallelError;
  } catch {
    return false;
  }
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
    text = describe(value);
  }
  return `\`${text}\` (${typeof value})`;
}
