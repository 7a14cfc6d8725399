/**
 * `threadsScheduler`: a {@link Scheduler} over threads.js workers the app already has, either
 * spawned by the scheduler with the app's own `spawn()` (a pool it manages: leases pinned to a
 * worker, crashed workers replaced) or taken from an existing threads.js `Pool`.
 * @internal
 * @module
 */
import type { StageStatus, WorkerInfo } from '../shared/context.js';
import { describeWork, isTaskRef, type Work } from '../shared/task.js';
import { InvalidOptionError, UncloneableValueError, WorkerCrashedError, WorkerFunctionError } from '../errors.js';
import { defaultPoolSize } from '../schedulers/endpoints.js';
import { checkPoolOptions, POOL_DEFAULTS } from '../schedulers/pool-options.js';
import { closeLeases, SlotPool } from '../schedulers/slot-pool.js';
import type { Job, LeaseSink, Scheduler, StageWork, WorkerLease } from '../schedulers/scheduler.js';
import { fromWireError, type WireError } from '../worker/protocol.js';
import {
  invoke,
  isThread,
  listen,
  makeWatchingWorker,
  methodsOf,
  rawWorkerOf,
  removeThreadsSignalHandlers,
  terminateThread,
  type CallHandle,
  type RawWorker,
} from './access.js';
import { CALL_METHOD, OP_END, OP_RUN, OP_START, R_MISSING, R_OK, R_THREW, R_UNCLONEABLE, type CallMessage, type Reply } from './wire.js';

/**
 * What threads.js's `spawn()` resolves to: a `ModuleThread` (an object of methods) or a
 * `FunctionThread`. Typed structurally, so that threads.js's own types need not resolve.
 */
export type ThreadsThread = object;

/** A threads.js `Pool`, typed structurally: only `queue()` is used. */
export interface ThreadsPool {
  queue(task: (thread: any) => Promise<unknown>): PromiseLike<unknown> & { cancel?(): void };
}

/** Options of {@link threadsScheduler}: `spawn` (with `workers`), or `pool`. */
export interface ThreadsSchedulerOptions {
  /**
   * Makes one threads.js worker: `() => spawn(new Worker('./score.worker.js'))`, with `spawn` and
   * `Worker` from `threads`. Construct the `Worker` inside this function, synchronously (as here):
   * the scheduler then sees a worker that fails to load before it can crash the process.
   */
  spawn?: () => ThreadsThread | PromiseLike<ThreadsThread>;
  /**
   * With `spawn`: workers in the pool, started lazily as leases need them.
   * @default os.availableParallelism()
   */
  workers?: number;
  /**
   * An existing threads.js `Pool` to run on instead of `spawn`. The app keeps owning it: `close()`
   * does not terminate it. `onStart`/`onEnd` need `spawn` (a Pool picks the worker of each call).
   */
  pool?: ThreadsPool;
  /**
   * With `spawn`: milliseconds `spawn()` may take before the worker counts as failed to start.
   * @default 30000
   */
  startTimeout?: number;
}

const KNOWN = ['spawn', 'workers', 'pool', 'startTimeout'] as const;

/** A lease whose worker dies while it starts is started again in the replacement, this many times in all. */
const MAX_START_ATTEMPTS = 3;

let nextLeaseId = 1;
const noop = () => {};

/** @internal Validates the options and makes the scheduler. */
export function makeThreadsScheduler(options: ThreadsSchedulerOptions | undefined): Scheduler {
  const o = checkPoolOptions('threadsScheduler', options, KNOWN) as ThreadsSchedulerOptions;
  if ((o.spawn === undefined) === (o.pool === undefined)) {
    throw new InvalidOptionError(
      o.spawn === undefined ? 'spawn' : 'pool',
      'exactly one of `spawn` (a function returning a threads.js thread) and `pool` (a threads.js Pool)',
      o.spawn === undefined ? o.spawn : o.pool,
    );
  }
  removeThreadsSignalHandlers();
  if (o.pool !== undefined) {
    if (typeof o.pool !== 'object' || o.pool === null || typeof o.pool.queue !== 'function') {
      throw new InvalidOptionError('pool', 'a threads.js Pool (an object with queue())', o.pool);
    }
    for (const key of ['workers', 'startTimeout'] as const) {
      if (o[key] !== undefined) throw new InvalidOptionError(key, 'no value with `pool` (the Pool has its own workers)', o[key]);
    }
    return new PoolScheduler(o.pool);
  }
  if (typeof o.spawn !== 'function') throw new InvalidOptionError('spawn', 'a function that returns a threads.js thread, e.g. () => spawn(new Worker(path))', o.spawn);
  return new SpawnScheduler(o.spawn, o.workers, o.startTimeout ?? POOL_DEFAULTS.startTimeout);
}

// ---- what the stage's functions are called ------------------------------------------------

interface Names {
  readonly fn: string;
  readonly onStart: string | null;
  readonly onEnd: string | null;
}

/** The names the stage's functions go by in the worker; throws {@link WorkerFunctionError}. */
function namesOf(work: StageWork): Names {
  return { fn: nameOf(work.fn), onStart: work.onStart ? nameOf(work.onStart) : null, onEnd: work.onEnd ? nameOf(work.onEnd) : null };
}

function nameOf(work: Work): string {
  if (!isTaskRef(work)) {
    throw new WorkerFunctionError(
      describeWork(work),
      "threadsScheduler calls functions that a threads.js worker exposes, by name: pass task('name'), not a function",
    );
  }
  if (work.module !== undefined) {
    throw new WorkerFunctionError(
      describeWork(work),
      `threadsScheduler calls functions by the name the threads.js worker exposes them under: pass task('${work.exportName}'), without a module (the worker file is the one spawn() starts)`,
    );
  }
  return work.exportName;
}

/**
 * How a plain threads.js worker (one without `parallelTasks()`) cannot serve the stage, if it cannot:
 * `onStart`/`onEnd` cannot run in it, and `fn` must be one of its methods (`'default'` for a
 * function worker).
 */
function plainWorkerProblem(thread: object, names: Names): WorkerFunctionError | undefined {
  for (const [role, name] of [['onStart', names.onStart], ['onEnd', names.onEnd]] as const) {
    if (name === null) continue;
    return new WorkerFunctionError(
      name,
      `${role} runs inside a threads.js worker only when the worker file exposes its functions through parallelTasks() ` +
        "(expose(parallelTasks({ ... })) with parallelTasks from 'rxjs-parallel/threads'); this worker exposes plain threads.js functions",
    );
  }
  const methods = methodsOf(thread);
  if (methods === undefined) {
    return names.fn === 'default'
      ? undefined
      : new WorkerFunctionError(names.fn, "this threads.js worker exposes a single function (expose(fn)): name it task('default')");
  }
  if (methods.includes(names.fn)) return undefined;
  return new WorkerFunctionError(names.fn, `the threads.js worker exposes no method "${names.fn}" (it exposes: ${methods.join(', ') || 'nothing'})`);
}

/** The argument of a call: the element alone for a plain worker; for `parallelTasks()`, what `ctx` needs. */
function runArgument(helper: boolean, lease: number, names: Names, work: StageWork, info: WorkerInfo, job: Job): unknown {
  return helper ? ([OP_RUN, lease, names.fn, work.mode, job.value, job.elementIndex, info.index, info.workers] satisfies CallMessage) : job.value;
}

/** What threads.js reported for a call, as the stage's outcome of the job. */
function jobOutcome(helper: boolean, work: StageWork, job: Job, ok: boolean, value: unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  if (!ok) {
    // Sending the element failed in this thread (a DOMException), or sending the result failed in the worker (an Error of that name).
    if (isDataCloneError(value)) {
      return { ok: false, error: new UncloneableValueError(work.name, job.elementIndex, value instanceof DOMException ? 'element' : 'result', { cause: value }) };
    }
    return { ok: false, error: value };
  }
  if (!helper) return { ok: true, value };
  const reply = value as Reply;
  if (!Array.isArray(reply)) return { ok: false, error: new TypeError(`Unexpected reply from the threads.js worker: ${String(reply)}`) };
  switch (reply[0]) {
    case R_OK:
      return { ok: true, value: reply[1] };
    case R_THREW:
      return { ok: false, error: fromWireError(reply[1]) };
    case R_UNCLONEABLE:
      return { ok: false, error: new UncloneableValueError(work.name, job.elementIndex, 'result', { cause: fromWireError(reply[1]) }) };
    default:
      return { ok: false, error: missingError(reply) };
  }
}

/** The outcome of OP_START or OP_END: undefined, or the error to report. */
function controlOutcome(ok: boolean, value: unknown): { error: unknown } | undefined {
  if (!ok) return { error: value };
  const reply = value as Reply;
  if (!Array.isArray(reply)) return { error: new TypeError(`Unexpected reply from the threads.js worker: ${String(reply)}`) };
  if (reply[0] === R_OK) return undefined;
  if (reply[0] === R_MISSING) return { error: missingError(reply) };
  return { error: fromWireError(reply[1] as WireError) };
}

function missingError(reply: Reply): WorkerFunctionError {
  const [, name, exposed] = reply as [number, string, string[]];
  return new WorkerFunctionError(name, `the threads.js worker's parallelTasks() has no function "${name}" (it has: ${exposed.join(', ') || 'nothing'})`);
}

/** The method to call for the stage's `fn`: the scheduler's own, a plain method, or the thread itself (a function thread). */
function methodFor(thread: object, helper: boolean, name: string): string | undefined {
  if (helper) return CALL_METHOD;
  return methodsOf(thread) === undefined ? undefined : name;
}

function isDataCloneError(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Error).name === 'DataCloneError';
}

function unrefTimer(timer: ReturnType<typeof setTimeout>): ReturnType<typeof setTimeout> {
  (timer as { unref?: () => void }).unref?.(); // a timer of ours never keeps a process alive by itself
  return timer;
}

function forJob(error: unknown, job: Job): unknown {
  return error instanceof WorkerCrashedError ? error.forElement(job.elementIndex) : error;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// ---- spawn: a pool of threads.js workers made by the app's spawn() ---------------------------

class SpawnScheduler extends SlotPool<ThreadHandle, SpawnLease> implements Scheduler {
  readonly kind = 'threads';
  readonly batching = false;
  readonly size: number;

  constructor(
    readonly spawnThread: () => ThreadsThread | PromiseLike<ThreadsThread>,
    workers: number | undefined,
    readonly startTimeout: number,
  ) {
    super();
    this.size = workers ?? defaultPoolSize();
  }

  lease(work: StageWork, info: WorkerInfo, sink: LeaseSink): WorkerLease {
    return this.admit(new SpawnLease(this, work, info, sink)); // done at once when its functions are not named as a threads.js worker names them
  }

  protected newWorker(slot: number): ThreadHandle {
    return new ThreadHandle(this, slot);
  }

  protected closeWorker(handle: ThreadHandle): Promise<void> {
    return handle.close();
  }

  /** A worker died: its calls failed; its leases move to a replacement in the same slot. */
  workerDied(handle: ThreadHandle, crash: WorkerCrashedError, fatal: boolean): void {
    if (this.slots[handle.id] === handle) this.slots[handle.id] = undefined;
    const leases = [...handle.leases.values()];
    handle.leases.clear();
    if (fatal) {
      for (const lease of leases) lease.cannotStart(crash.cause ?? crash);
      return;
    }
    const moving = leases.filter((lease) => lease.workerDied(crash));
    const alive = moving.filter((lease) => !lease.done);
    if (alive.length === 0 || this.closing) return;
    const replacement = this.slots[handle.id] ?? this.spawn(handle.id);
    for (const lease of alive) replacement.bind(lease);
  }
}

/** One threads.js worker of a {@link SpawnScheduler}, and the leases it serves. */
class ThreadHandle {
  thread: object | undefined;
  private raw: RawWorker | undefined;
  /** spawn() resolved: calls can go. */
  online = false;
  /** Its functions go through parallelTasks(). */
  helper = false;
  private dead = false;
  private closing = false;
  /** What the worker failed with (an `error` event), reported with its exit. */
  private error: unknown;
  private startTimer: ReturnType<typeof setTimeout> | undefined;
  readonly leases = new Map<number, SpawnLease>();

  constructor(
    readonly pool: SpawnScheduler,
    /** The slot in the pool: `workerId` in errors. */
    readonly id: number,
  ) {
    // Not in the constructor's own turn: a spawn() that fails at once reports at once, and by then
    // the pool must have put this handle in its slot and bound the lease that asked for it.
    queueMicrotask(() => this.start());
  }

  private start(): void {
    let spawned: PromiseLike<ThreadsThread>;
    try {
      spawned = Promise.resolve(makeWatchingWorker(() => this.pool.spawnThread(), (raw) => this.watch(raw)));
    } catch (error) {
      return this.die({ reason: `failed to start (spawn() threw ${describeError(error)})`, error });
    }
    const timeout = this.pool.startTimeout;
    this.startTimer = unrefTimer(setTimeout(() => this.die({ reason: `did not start within startTimeout (${timeout} ms)` }), timeout));
    spawned.then(
      (thread) => this.started(thread),
      (error) => this.die({ reason: `failed to start (${describeError(this.error ?? error)})`, error: this.error ?? error }),
    );
  }

  /** Listens to the worker's end, from before anything it does can arrive (see makeWatchingWorker). */
  private watch(raw: RawWorker): void {
    if (this.raw === raw) return;
    this.raw = raw;
    this.updateRef();
    const node = typeof raw.on === 'function';
    listen(raw, 'error', (error) => {
      this.error ??= error;
      // A Node Worker exits after an `error` (its `exit` follows); a Web Worker stays: end it here.
      if (!node) this.die({ reason: `failed (${describeError(error)})`, error }, true);
    });
    listen(raw, 'exit', (exitCode: number) => this.die({ exitCode, error: this.error }));
    listen(raw, 'message', (data: any) => {
      // threads.js catches a worker's uncaught errors and keeps it running with its calls pending
      // forever; it only reports them (`uncaughtError`). Such a worker is ended and replaced.
      if (data !== null && typeof data === 'object' && data.type === 'uncaughtError') {
        const error = fromThreadsError(data.error);
        this.die({ reason: `threw an uncaught ${describeError(error)}`, error }, true);
      }
    });
  }

  private started(thread: ThreadsThread): void {
    clearTimeout(this.startTimer);
    if (!isThread(thread)) {
      const error = new InvalidOptionError('spawn', 'a function that returns (a promise of) a threads.js thread, as spawn() from threads resolves to', thread);
      if (!this.dead) this.die({ reason: 'failed to start', error }, false, true);
      return;
    }
    if (this.dead || this.closing) {
      void terminateThread(thread);
      return;
    }
    this.thread = thread;
    const raw = rawWorkerOf(thread);
    if (raw) this.watch(raw);
    // threads.js installs its signal handlers when it is first imported; the app's spawn() may be
    // what imported it.
    removeThreadsSignalHandlers();
    this.helper = typeof (thread as Record<string, unknown>)[CALL_METHOD] === 'function';
    this.online = true;
    for (const lease of [...this.leases.values()]) lease.attach();
  }

  /** Calls the worker; see {@link invoke}. */
  call(method: string | undefined, arg: unknown, done: (ok: boolean, value: unknown) => void): CallHandle {
    return invoke(this.thread!, method, arg, this.raw, done);
  }

  bind(lease: SpawnLease): void {
    this.leases.set(lease.id, lease);
    lease.handle = this;
    this.updateRef();
    if (this.online) lease.attach();
  }

  unbind(lease: SpawnLease): void {
    if (this.leases.get(lease.id) !== lease) return;
    this.leases.delete(lease.id);
    this.updateRef();
  }

  /** An idle worker lets the process exit; one with a lease keeps it alive. */
  private updateRef(): void {
    if (!this.raw || this.dead) return;
    if (this.leases.size > 0) this.raw.ref?.();
    else this.raw.unref?.();
  }

  /**
   * The worker is gone, or must go: every call on it fails with a {@link WorkerCrashedError}, its
   * leases move to a replacement. `end`: it may still run (an uncaught error, a Web Worker's
   * failure, a start that timed out), so it is terminated.
   */
  private die(how: { exitCode?: number; reason?: string; error?: unknown }, end = false, fatal = false): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.startTimer);
    if (end || !this.online) this.terminate();
    if (this.closing) return;
    let reason = how.reason;
    const after = how.error === undefined ? '' : ` after ${describeError(how.error)}`;
    if (reason === undefined && !this.online) reason = `failed to start (exited with code ${how.exitCode}${after})`;
    else if (reason === undefined && after) reason = `exited with code ${how.exitCode}${after}`;
    const crash = new WorkerCrashedError({ workerId: this.id, exitCode: how.exitCode ?? null, reason }, how.error === undefined ? undefined : { cause: how.error });
    this.pool.workerDied(this, crash, fatal);
  }

  private terminate(): void {
    if (this.thread) void terminateThread(this.thread);
    else if (this.raw) void Promise.resolve(this.raw.terminate()).catch(noop);
    // else: still spawning, and nothing to end yet; started() ends it when spawn() resolves.
  }

  /** Ends the worker (the scheduler is closing); resolves once it has. */
  close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.startTimer);
    if (this.dead && !this.thread) return Promise.resolve();
    this.dead = true;
    if (this.thread) return terminateThread(this.thread);
    if (this.raw) return Promise.resolve(this.raw.terminate()).then(noop, noop);
    return Promise.resolve();
  }
}

/** threads.js's serialized error (`{ __error_marker, name, message, stack }`) as an Error. */
function fromThreadsError(data: any): unknown {
  if (data === null || typeof data !== 'object' || data.__error_marker !== '$$error') return data;
  const error = new Error(String(data.message));
  Object.defineProperty(error, 'name', { value: String(data.name), configurable: true, writable: true });
  if (typeof data.stack === 'string') Object.defineProperty(error, 'stack', { value: data.stack, configurable: true, writable: true });
  return error;
}

/** One worker subscription of a stage, pinned to one threads.js worker of a {@link SpawnScheduler}. */
class SpawnLease implements WorkerLease {
  readonly id = nextLeaseId++;
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: unknown) => void;
  private readyFailed = false;
  private readonly names: Names | undefined;
  handle: ThreadHandle | undefined;
  /** The handle's worker runs this lease (OP_START answered, or nothing to start). */
  private started = false;
  private everStarted = false;
  private startAttempts = 0;
  private lastWorkerId = 0;
  private broken: { error: unknown } | undefined;
  /** Jobs given while no worker could take them, sent once one can. */
  private readonly waiting = new Map<number, Job>();
  /** Jobs sent, by seq: every one of them is in work (a lease is given one job at a time). */
  private readonly inFlight = new Map<number, { job: Job; call: CallHandle }>();
  /** OP_START or OP_END in flight. */
  private control: CallHandle | undefined;
  private endStatus: StageStatus | undefined;
  private ending: Promise<void> | undefined;
  private resolveEnd!: () => void;
  private rejectEnd!: (error: unknown) => void;
  private endSent = false;
  /** `ending` has settled. */
  private finished = false;
  /** Out of the pool: ended, or never able to run. */
  done = false;

  constructor(
    private readonly pool: SpawnScheduler,
    private readonly work: StageWork,
    private readonly info: WorkerInfo,
    private readonly sink: LeaseSink,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = (error) => {
        this.readyFailed = true;
        reject(error);
      };
    });
    this.ready.catch(noop); // observed by the stage; this only keeps it from being "unhandled"
    try {
      this.names = namesOf(work);
    } catch (error) {
      this.done = true;
      this.rejectReady(error);
    }
  }

  /** The worker is online: start the lease there. */
  attach(): void {
    const handle = this.handle;
    if (this.done || !handle || this.control) return;
    this.lastWorkerId = handle.id;
    const names = this.names!;
    if (!handle.helper) {
      const problem = plainWorkerProblem(handle.thread!, names);
      if (problem) return this.startFailed(problem);
      return this.onStarted();
    }
    const fns = [names.fn, names.onStart, names.onEnd].filter((n): n is string => n !== null);
    const message: CallMessage = [OP_START, this.id, fns, names.onStart, this.work.name, this.info.index, this.info.workers];
    this.control = handle.call(CALL_METHOD, message, (ok, value) => {
      this.control = undefined;
      if (this.handle !== handle) return;
      const failure = controlOutcome(ok, value);
      if (failure) this.startFailed(failure.error);
      else this.onStarted();
    });
  }

  private onStarted(): void {
    this.started = true;
    this.everStarted = true;
    this.startAttempts = 0;
    this.resolveReady();
    if (this.endStatus !== undefined) return this.sendEnd();
    const jobs = [...this.waiting.values()];
    this.waiting.clear();
    for (const job of jobs) this.send(job);
  }

  private startFailed(error: unknown): void {
    if (!this.everStarted) {
      this.rejectReady(error);
    } else {
      // A replacement worker could not start the lease again: what it is given cannot run.
      this.break(new WorkerCrashedError({ workerId: this.lastWorkerId, reason: 'was replaced after a crash, and the lease could not start again in the replacement' }, { cause: error }));
    }
    if (this.endStatus !== undefined) this.finish(undefined);
  }

  run(jobs: readonly Job[]): void {
    if (this.broken || this.endStatus !== undefined) {
      const error = this.broken?.error ?? new WorkerCrashedError({ workerId: this.lastWorkerId, reason: 'was closed: scheduler.close() ended its lease' });
      queueMicrotask(() => {
        for (const job of jobs) this.sink.reject(job.seq, forJob(error, job));
      });
      return;
    }
    for (const job of jobs) {
      if (this.started) this.send(job);
      else this.waiting.set(job.seq, job);
    }
  }

  private send(job: Job): void {
    const handle = this.handle!;
    const helper = handle.helper;
    const arg = runArgument(helper, this.id, this.names!, this.work, this.info, job);
    const call = handle.call(methodFor(handle.thread!, helper, this.names!.fn), arg, (ok, value) => {
      if (this.inFlight.get(job.seq)?.call !== call) return; // cancelled, ended, or its worker died
      this.inFlight.delete(job.seq);
      const outcome = jobOutcome(helper, this.work, job, ok, value);
      if (outcome.ok) this.sink.resolve(job.seq, outcome.value);
      else this.sink.reject(job.seq, outcome.error);
    });
    this.inFlight.set(job.seq, { job, call });
  }

  cancel(seq: number): void {
    if (this.waiting.delete(seq)) return;
    const entry = this.inFlight.get(seq);
    if (!entry) return;
    this.inFlight.delete(seq);
    entry.call.cancel(); // a parallelTasks() worker aborts ctx.signal; a plain one cannot be stopped
  }

  end(status: StageStatus): Promise<void> {
    if (this.ending) return this.ending;
    this.ending = new Promise<void>((resolve, reject) => {
      this.resolveEnd = resolve;
      this.rejectEnd = reject;
    });
    this.endStatus = status;
    this.waiting.clear();
    const calls = [...this.inFlight.values()];
    this.inFlight.clear(); // their results are no longer wanted
    for (const { call } of calls) call.cancel();
    if (this.done || this.readyFailed || this.broken || (!this.handle && this.everStarted)) this.finish(undefined);
    else if (this.started) this.sendEnd();
    // else: starting, or waiting for a worker (onStart and onEnd still run, once each); onStarted(),
    // startFailed() or workerDied() ends it
    return this.ending;
  }

  /** The scheduler is closing under a stage still using this lease: its jobs fail, then it ends. */
  closeByPool(status: StageStatus): Promise<void> {
    const jobs = this.ending ? [] : [...this.waiting.values(), ...[...this.inFlight.values()].map((e) => e.job)];
    const ending = this.end(status); // first, so that a retry the stage makes on hearing this fails too
    const error = new WorkerCrashedError({ workerId: this.lastWorkerId, reason: 'was closed: scheduler.close() ended its lease' });
    for (const job of jobs) this.sink.reject(job.seq, error.forElement(job.elementIndex));
    return ending;
  }

  private sendEnd(): void {
    if (this.endSent) return;
    this.endSent = true;
    const handle = this.handle!;
    if (!handle.helper) return this.finish(undefined);
    const names = this.names!;
    const status = this.endStatus!;
    const message: CallMessage = [OP_END, this.id, names.onEnd, this.work.name, this.info.index, this.info.workers, status.done, status.activeWorkers];
    this.control = handle.call(CALL_METHOD, message, (ok, value) => {
      this.control = undefined;
      this.finish(controlOutcome(ok, value));
    });
  }

  private finish(failure: { error: unknown } | undefined): void {
    this.done = true;
    this.handle?.unbind(this);
    this.pool.leases.delete(this);
    if (!this.ending || this.finished) return;
    this.finished = true;
    if (failure) this.rejectEnd(failure.error);
    else this.resolveEnd();
  }

  /** The lease can run nothing more: fail what it holds and what it is given later. */
  private break(error: unknown): void {
    this.broken = { error };
    const jobs = [...this.waiting.values()];
    this.waiting.clear();
    for (const job of jobs) this.sink.reject(job.seq, forJob(error, job));
  }

  /** No worker can be made for it (`spawn` returned something else than a thread): `ready` rejects. */
  cannotStart(error: unknown): void {
    this.handle = undefined;
    if (this.done) return;
    if (!this.everStarted && !this.readyFailed) this.rejectReady(error);
    else if (this.endStatus === undefined) this.break(error);
    if (this.endStatus !== undefined) this.finish(undefined);
  }

  /**
   * Its worker died. Every call in flight there fails with the crash (each was in work). Returns
   * true when the lease should move to a replacement: it was running, or it was starting (started
   * again, a few times).
   */
  workerDied(crash: WorkerCrashedError): boolean {
    const wasStarted = this.started;
    const wasEnding = this.control !== undefined && this.endSent;
    this.handle = undefined;
    this.started = false;
    this.control?.cancel();
    this.control = undefined;
    if (this.done) return false;
    const calls = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const { job, call } of calls) {
      call.cancel();
      this.sink.reject(job.seq, crash.forElement(job.elementIndex));
    }
    if (this.done) return false; // the stage ended the lease on hearing of the crash
    if (this.endStatus !== undefined) {
      if (!this.everStarted && !this.readyFailed) this.rejectReady(crash);
      // onEnd did not run (or did not finish) with the resources of that worker.
      this.finish((wasStarted || wasEnding) && this.work.onEnd ? { error: crash } : undefined);
      return false;
    }
    if (!wasStarted) {
      if (this.broken || this.readyFailed) return false;
      this.startAttempts++;
      if (this.startAttempts < MAX_START_ATTEMPTS) return true;
      if (this.everStarted) this.break(crash);
      else this.rejectReady(crash);
      return false;
    }
    return true;
  }
}

// ---- pool: an existing threads.js Pool --------------------------------------------------------

/** What the scheduler knows of one worker the Pool handed it. */
interface PoolThreadState {
  readonly id: number;
  raw: RawWorker | undefined;
  crash: WorkerCrashedError | undefined;
  /** Calls on it, each failed by its death. */
  readonly calls: Set<(crash: WorkerCrashedError) => void>;
}

class PoolScheduler implements Scheduler {
  readonly kind = 'threads';
  readonly batching = false;
  readonly leases = new Set<PoolLease>();
  private readonly threads = new WeakMap<object, PoolThreadState>();
  private nextThreadId = 0;

  constructor(readonly pool: ThreadsPool) {}

  lease(work: StageWork, info: WorkerInfo, sink: LeaseSink): WorkerLease {
    const lease = new PoolLease(this, work, info, sink);
    if (!lease.done) this.leases.add(lease);
    return lease;
  }

  /** The state of a worker the Pool handed over, watching its end from the first time. */
  stateOf(thread: object): PoolThreadState {
    let state = this.threads.get(thread);
    if (state) return state;
    const s: PoolThreadState = { id: this.nextThreadId++, raw: rawWorkerOf(thread), crash: undefined, calls: new Set() };
    this.threads.set(thread, s);
    const die = (how: { exitCode?: number; reason?: string; error?: unknown }) => {
      if (s.crash) return;
      s.crash = new WorkerCrashedError(
        {
          workerId: s.id,
          exitCode: how.exitCode ?? null,
          reason: `${how.reason ?? (how.exitCode === undefined ? 'ended' : `exited with code ${how.exitCode}`)}; a threads.js Pool does not replace it, so every later call the Pool gives it fails too`,
        },
        how.error === undefined ? undefined : { cause: how.error },
      );
      const calls = [...s.calls];
      s.calls.clear();
      for (const fail of calls) fail(s.crash);
    };
    if (s.raw) {
      let error: unknown;
      listen(s.raw, 'error', (e) => (error ??= e));
      listen(s.raw, 'exit', (exitCode: number) => die({ exitCode, error }));
      listen(s.raw, 'message', (data: any) => {
        if (data !== null && typeof data === 'object' && data.type === 'uncaughtError') {
          const e = fromThreadsError(data.error);
          die({ reason: `threw an uncaught ${describeError(e)}`, error: e });
        }
      });
    }
    return s;
  }

  close(): Promise<void> {
    return closeLeases([...this.leases]);
  }
}

interface PoolEntry {
  readonly job: Job;
  queued?: PromiseLike<unknown> & { cancel?(): void };
  call?: CallHandle;
  /** Lets the Pool's task end (the call was cancelled, or its worker died). */
  release?: () => void;
  /** Fails the job when its worker dies; registered in the worker's state while the call runs. */
  fail?: (crash: WorkerCrashedError) => void;
  state?: PoolThreadState;
}

/** One worker subscription of a stage on a threads.js Pool: each job is one Pool task. */
class PoolLease implements WorkerLease {
  readonly ready: Promise<void>;
  private readonly names: Names | undefined;
  private readonly inFlight = new Map<number, PoolEntry>();
  private ended = false;
  done = false;

  constructor(
    private readonly scheduler: PoolScheduler,
    private readonly work: StageWork,
    private readonly info: WorkerInfo,
    private readonly sink: LeaseSink,
  ) {
    let failure: unknown;
    try {
      this.names = namesOf(work);
      const extra = this.names.onStart ?? this.names.onEnd;
      if (extra !== null) {
        failure = new WorkerFunctionError(
          extra,
          'onStart and onEnd need threadsScheduler({ spawn }): on a threads.js Pool, the Pool picks the worker of each call, so no worker can keep resources for a stage',
        );
      }
    } catch (error) {
      failure = error;
    }
    if (failure !== undefined) {
      this.done = true;
      this.ready = Promise.reject(failure);
      this.ready.catch(noop);
    } else {
      this.ready = Promise.resolve();
    }
  }

  run(jobs: readonly Job[]): void {
    for (const job of jobs) this.queue(job);
  }

  private queue(job: Job): void {
    const entry: PoolEntry = { job };
    this.inFlight.set(job.seq, entry);
    if (this.ended) return this.fail(entry, new WorkerCrashedError({ workerId: 0, reason: 'was closed: scheduler.close() ended its lease' }));
    try {
      entry.queued = this.scheduler.pool.queue((thread) => this.runOn(thread, entry));
    } catch (error) {
      // A Pool whose worker failed to start throws that error from every queue() after it.
      return this.fail(entry, new WorkerCrashedError({ workerId: 0, reason: `of the threads.js Pool could not take the call (${describeError(error)})` }, { cause: error }));
    }
    entry.queued.then(undefined, (error) => {
      this.fail(entry, new WorkerCrashedError({ workerId: 0, reason: `of the threads.js Pool could not run the call (${describeError(error)})` }, { cause: error }));
    });
  }

  /** The Pool's task: one call on the worker it picked; settles once the call has (never rejects). */
  private runOn(thread: object, entry: PoolEntry): Promise<void> {
    return new Promise<void>((release) => {
      if (this.inFlight.get(entry.job.seq) !== entry) return release(); // cancelled while queued
      const state = this.scheduler.stateOf(thread);
      if (state.crash) {
        release();
        return this.fail(entry, state.crash.forElement(entry.job.elementIndex));
      }
      entry.release = release;
      const helper = typeof (thread as Record<string, unknown>)[CALL_METHOD] === 'function';
      const names = this.names!;
      if (!helper) {
        const problem = plainWorkerProblem(thread, names);
        if (problem) {
          release();
          return this.fail(entry, problem);
        }
      }
      const method = methodFor(thread, helper, names.fn);
      entry.fail = (crash) => {
        entry.call?.cancel();
        release();
        this.fail(entry, crash.forElement(entry.job.elementIndex));
      };
      entry.state = state;
      state.calls.add(entry.fail);
      entry.call = invoke(thread, method, runArgument(helper, 0, names, this.work, this.info, entry.job), state.raw, (ok, value) => {
        state.calls.delete(entry.fail!);
        release();
        if (this.inFlight.get(entry.job.seq) !== entry) return;
        this.inFlight.delete(entry.job.seq);
        const outcome = jobOutcome(helper, this.work, entry.job, ok, value);
        if (outcome.ok) this.sink.resolve(entry.job.seq, outcome.value);
        else this.sink.reject(entry.job.seq, outcome.error);
      });
    });
  }

  /** Fails a job once, never inside the caller's turn. */
  private fail(entry: PoolEntry, error: unknown): void {
    if (this.inFlight.get(entry.job.seq) !== entry) return;
    this.inFlight.delete(entry.job.seq);
    queueMicrotask(() => this.sink.reject(entry.job.seq, error));
  }

  cancel(seq: number): void {
    const entry = this.inFlight.get(seq);
    if (!entry) return;
    this.inFlight.delete(seq);
    this.drop(entry);
  }

  /** Takes a job out of the Pool: out of its queue, or its call cancelled and the Pool's task ended. */
  private drop(entry: PoolEntry): void {
    entry.queued?.cancel?.();
    entry.call?.cancel();
    entry.release?.();
    if (entry.fail) entry.state?.calls.delete(entry.fail);
  }

  async end(_status: StageStatus): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.done = true;
    const entries = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const entry of entries) this.drop(entry);
    this.scheduler.leases.delete(this);
  }

  /** The scheduler is closing under a stage still using this lease: its jobs fail, then it ends. */
  closeByPool(status: StageStatus): Promise<void> {
    const jobs = this.ended ? [] : [...this.inFlight.values()].map((e) => e.job);
    const ending = this.end(status);
    const error = new WorkerCrashedError({ workerId: 0, reason: 'was closed: scheduler.close() ended its lease' });
    for (const job of jobs) this.sink.reject(job.seq, error.forElement(job.elementIndex));
    return ending;
  }
}
