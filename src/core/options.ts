import { InvalidOptionError, type ElementIndex } from '../errors.js';
import type { Scheduler, SchedulerName } from '../schedulers/scheduler.js';
import { isScheduler } from '../schedulers/scheduler.js';
import { isTaskRef, type EndFn, type StartFn } from '../shared/task.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import type { StageMonitor } from './probe.js';
import type { Monitor } from '../monitor/monitor.js';

/**
 * Returned by an `onError` function to drop the failed element instead of replacing it ("log and
 * skip"), as p-map's `pMapSkip`. The same value in every copy of the library.
 *
 * ```ts
 * mapParallel(fetchUser, { onError: (err, id) => (console.warn(id, err), SKIP) })
 * ```
 */
export const SKIP: unique symbol = Symbol.for('rxjs-parallel.SKIP') as never;

/** What an `onError` function's result `Rep` adds to a stage's output: the replacement, not {@link SKIP}. */
export type Replacement<Rep> = Exclude<Rep, typeof SKIP>;

/**
 * What `onError` may be: `'throw'`, `'skip'`, or a function whose result replaces the element
 * (`Rep`, or a Promise of it), or {@link SKIP} to drop it.
 */
export type OnError<T = any, Rep = unknown> =
  | 'throw'
  | 'skip'
  | ((error: unknown, value: T, ctx: ErrorContext) => Rep | typeof SKIP | PromiseLike<Rep | typeof SKIP>);

/** The `ctx` handed to an `onError` function. */
export interface ErrorContext {
  /** The stage's name. */
  readonly stage: string;
  /** The element that failed. */
  readonly elementIndex: ElementIndex;
  /** How many times it ran (1 + the retries used). */
  readonly attempts: number;
}

/** What a stage does when a push upstream outruns it by more than `maxsize` queued items. */
export type OverflowPolicy = 'buffer' | 'error' | 'dropOldest' | 'dropNewest';

/** Options shared by every operator of rxjs-parallel. Defaults are in {@link STAGE_DEFAULTS}. */
export interface StageOptions<T = any, Res = any, Rep = never> {
  /**
   * Workers of this stage: calls of `fn` in work at once (pypeln's `workers`); on a thread,
   * process or remote scheduler, the leases it takes on the pool.
   * @default 1 on the task and sync schedulers; the scheduler's size on a thread, process or
   * remote one (a private `'thread'` or `'process'` pool: the number of CPUs)
   */
  workers?: number;
  /**
   * Credits: items this stage may hold beyond those in work. `0` means unbounded.
   * @default 2 × workers
   */
  maxsize?: number;
  /**
   * Where `fn` runs: a scheduler instance (shared, kept warm until its `close()`), or a name that
   * makes a private one living exactly as long as the subscription.
   * @default 'task'
   */
  scheduler?: Scheduler | SchedulerName;
  /**
   * map and filter only: emit in source order (streaming; a slow head element stalls intake).
   * @default false
   */
  ordered?: boolean;
  /**
   * Milliseconds one attempt of an element may take (up to 2³¹ − 1; `Infinity`: none), from the
   * moment it is handed to a worker until it is done (for flatMap: until its inner source has
   * ended, waits for downstream included, as in pypeln). A late element fails with
   * `TaskTimeoutError`, its `ctx.signal` is aborted and its inner source torn down. A retry, or a
   * re-send after its worker died for another element's sake, starts the clock again. With
   * `onError: 'skip'` this is pypeln's `timeout`.
   * @default undefined (none)
   */
  timeout?: number;
  /**
   * `'throw'` fails the stream, `'skip'` drops the element, a function `(err, value, ctx) =>
   * replacement` recovers: the replacement (or what its Promise resolves to) is emitted as if `fn`
   * had returned it, and {@link SKIP} drops the element. A function that cannot run at all (it
   * cannot be shipped to a worker, or its `task()` cannot be loaded) is not an element failure: it
   * fails the stream with `WorkerFunctionError` whatever this says.
   * @default 'throw'
   */
  onError?: OnError<T, Rep>;
  /**
   * Re-runs of a failing element (and of one a crashed worker held) before `onError` applies.
   * @default 0
   */
  retries?: number;
  /**
   * `(ctx) => resources`, once per worker subscription, inside that worker; may be async.
   * @default undefined
   */
  onStart?: StartFn<Res>;
  /**
   * `(ctx) => void`, once per worker subscription when it ends for any reason; may be async.
   * Sees `ctx.resources` and `ctx.stageStatus`. Does not run for a worker whose `onStart` failed.
   * @default undefined
   */
  onEnd?: EndFn<Res>;
  /**
   * thread/process: items sent per message (results are still per item). `'auto'` grows the
   * batch while elements are short; ignored by the task and sync schedulers, and with a `timeout`
   * (elements then go one at a time, so that each clock measures its own call).
   * @default 1
   */
  batchSize?: number | 'auto';
  /**
   * Only for a push upstream (a plain Observable): what happens past `maxsize` queued items.
   * `'buffer'` grows and loses nothing; `'error'` fails with `BufferOverflowError`;
   * `'dropOldest'`/`'dropNewest'` drop a queued item.
   * @default 'buffer'
   */
  overflow?: OverflowPolicy;
  /**
   * A {@link Monitor} collecting stats of this stage; share one across a pipeline's stages.
   * Without one the per-element path does no monitoring work at all.
   * @default undefined
   */
  monitor?: Monitor;
  /**
   * `(value) => key`: elements with the same key run one at a time, in arrival order, while
   * different keys run in parallel up to `workers` (per-key order, as Akka Streams'
   * `mapAsyncPartitioned`). Keys are compared with `Map` semantics (`SameValueZero`). Elements
   * waiting behind a busy key count against the stage's credits: a hot key can hold the stage's
   * whole credit and stall the other keys until it drains.
   * @default undefined (no partitioning)
   */
  partitionBy?: (value: T) => unknown;
  /**
   * Used in errors and stats.
   * @default operator name + '#' + a counter, e.g. `mapParallel#3`
   */
  name?: string;
}

/**
 * The documented defaults, in one place. `workers: undefined` stands for the scheduler's size (1 on
 * the task and sync schedulers), `maxsize: undefined` for 2 × workers.
 */
export const STAGE_DEFAULTS = Object.freeze({
  workers: undefined as number | undefined,
  maxsize: undefined as number | undefined,
  scheduler: 'task' as SchedulerName,
  ordered: false,
  timeout: undefined as number | undefined,
  onError: 'throw' as OnError,
  retries: 0,
  onStart: undefined,
  onEnd: undefined,
  batchSize: 1 as number | 'auto',
  overflow: 'buffer' as OverflowPolicy,
  partitionBy: undefined,
});

/** Options after validation, with every default applied. @internal */
export interface ResolvedOptions {
  readonly operator: string;
  readonly name: string;
  readonly monitor: StageMonitor | undefined;
  /** Undefined: the scheduler's size. */
  readonly workers: number | undefined;
  /** Infinity for `maxsize: 0`; undefined: 2 × workers. */
  readonly maxsize: number | undefined;
  readonly scheduler: Scheduler | SchedulerName;
  readonly ordered: boolean;
  readonly timeout: number | undefined;
  readonly onError: OnError;
  readonly retries: number;
  readonly onStart: StartFn | undefined;
  readonly onEnd: EndFn | undefined;
  readonly batchSize: number | 'auto';
  readonly overflow: OverflowPolicy;
  readonly partitionBy: ((value: unknown) => unknown) | undefined;
}

const KNOWN = new Set([
  'workers', 'maxsize', 'scheduler', 'ordered', 'timeout', 'onError', 'retries', 'onStart', 'onEnd',
  'batchSize', 'overflow', 'name', 'monitor', 'partitionBy',
]);
const SCHEDULER_NAMES = ['task', 'thread', 'process', 'sync'];
const OVERFLOW = ['buffer', 'error', 'dropOldest', 'dropNewest'];
const counters = new Map<string, number>();

/**
 * Validates the options of one operator call and applies the defaults; throws InvalidOptionError
 * naming the option, what was expected and what was received.
 * @internal
 */
export function resolveOptions(operator: string, fn: unknown, options: StageOptions<any, any, any> | undefined, allowOrdered = true): ResolvedOptions {
  if (typeof fn !== 'function' && !isTaskRef(fn)) throw new InvalidOptionError('fn', 'a function or a task() reference', fn);
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new InvalidOptionError('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(key, `one of the options ${[...KNOWN].join(', ')} (unknown option)`, (options as Record<string, unknown>)[key]);
  }
  const o = options;
  const workers = o.workers;
  if (workers !== undefined) integer('workers', workers, 1);
  const maxsize = o.maxsize;
  if (maxsize !== undefined) integer('maxsize', maxsize, 0);
  const scheduler = o.scheduler ?? STAGE_DEFAULTS.scheduler;
  if (!(typeof scheduler === 'string' && SCHEDULER_NAMES.includes(scheduler)) && !isScheduler(scheduler)) {
    throw new InvalidOptionError('scheduler', `a Scheduler or one of ${SCHEDULER_NAMES.map((n) => `'${n}'`).join(', ')}`, scheduler);
  }
  const ordered = o.ordered ?? STAGE_DEFAULTS.ordered;
  if (typeof ordered !== 'boolean') throw new InvalidOptionError('ordered', 'a boolean', ordered);
  if (o.ordered !== undefined && !allowOrdered) {
    throw new InvalidOptionError('ordered', `not set on ${operator} (use flatMapOrdered or the ordered() operator)`, ordered);
  }
  let timeout: number | undefined = o.timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0) || (timeout > MAX_TIMER_MS && timeout !== Infinity))) {
    throw new InvalidOptionError('timeout', `a number of milliseconds > 0 and ≤ ${MAX_TIMER_MS} (the most a timer can hold), or Infinity for none`, timeout);
  }
  if (timeout === Infinity) timeout = undefined;
  const onError = o.onError ?? STAGE_DEFAULTS.onError;
  if (onError !== 'throw' && onError !== 'skip' && typeof onError !== 'function') {
    throw new InvalidOptionError('onError', "'throw', 'skip' or a function (err, value, ctx) => replacement", onError);
  }
  const retries = o.retries ?? STAGE_DEFAULTS.retries;
  integer('retries', retries, 0);
  for (const key of ['onStart', 'onEnd'] as const) {
    const v = o[key];
    if (v !== undefined && typeof v !== 'function' && !isTaskRef(v)) throw new InvalidOptionError(key, 'a function or a task() reference', v);
  }
  const batchSize = o.batchSize ?? STAGE_DEFAULTS.batchSize;
  if (batchSize !== 'auto') integer('batchSize', batchSize, 1, "an integer ≥ 1 or 'auto'");
  const overflow = o.overflow ?? STAGE_DEFAULTS.overflow;
  if (!OVERFLOW.includes(overflow)) throw new InvalidOptionError('overflow', OVERFLOW.map((n) => `'${n}'`).join(', '), overflow);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) throw new InvalidOptionError('name', 'a non-empty string', o.name);
  let name = o.name;
  if (name === undefined) {
    const n = (counters.get(operator) ?? 0) + 1;
    counters.set(operator, n);
    name = `${operator}#${n}`;
  }
  if (o.partitionBy !== undefined && typeof o.partitionBy !== 'function') {
    throw new InvalidOptionError('partitionBy', 'a function (value) => key', o.partitionBy);
  }
  const monitor = o.monitor;
  if (monitor !== undefined && (typeof monitor !== 'object' || monitor === null || typeof monitor.attach !== 'function')) {
    throw new InvalidOptionError('monitor', 'a Monitor', monitor);
  }
  return {
    operator,
    name,
    monitor,
    workers,
    maxsize: maxsize === 0 ? Infinity : maxsize,
    scheduler,
    ordered,
    timeout,
    onError,
    retries,
    onStart: o.onStart,
    onEnd: o.onEnd,
    batchSize,
    overflow,
    partitionBy: o.partitionBy as ((value: unknown) => unknown) | undefined,
  };
}

function integer(option: string, value: unknown, min: number, expected = `an integer ≥ ${min}`): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new InvalidOptionError(option, expected, value);
}
