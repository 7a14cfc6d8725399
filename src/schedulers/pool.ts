/**
 * The pool behind the thread and process schedulers: workers started lazily up to the pool size,
 * shared by every lease (stage subscription) that uses the scheduler, each lease on the least
 * loaded worker; crashed workers replaced; unresponsive ones terminated. The transport is an
 * {@link Endpoint}; the protocol is in src/worker/protocol.ts.
 *
 * When a worker dies, only the call that ended it fails (or is retried): the runtime's `exit` hook
 * names it (DYING), or it is the one call that was in work; when nothing tells (a SIGKILL from
 * outside, a native crash) the jobs it held are re-sent to its replacement one at a time
 * ("isolation"), so that a job that ends a worker again does so alone and is blamed then. Every
 * other job is re-sent without using a retry, and every other lease on the worker goes on in the
 * replacement (started again there, its `onEnd` run there if it was ending).
 * @internal
 * @module
 */
import type { StageStatus, WorkerInfo } from '../shared/context.js';
import { isTaskRef, type Work } from '../shared/task.js';
import { markTransferList, takeTransferList, type TransferListItem } from '../shared/transfer.js';
import { InvalidOptionError, TaskTimeoutError, UncloneableValueError, WorkerCrashedError } from '../errors.js';
import { SlotPool } from './slot-pool.js';
import {
  CANCEL,
  DYING,
  END,
  ENDED,
  ENDING,
  fromWireError,
  HELLO,
  ON_END,
  ON_START,
  OUTPUT_WINDOW,
  PULL,
  R_CANCELLED,
  R_ERROR,
  R_OK,
  R_PART,
  R_RUNNING,
  R_BEGAN,
  RECLAIM,
  RECLAIMED,
  RESULTS,
  MIN_PACKED,
  RESULTS_NUMBERS,
  RESULTS_RANGE,
  RUN,
  RUN_NUMBERS,
  RUN_RANGE,
  rangePayloads,
  START,
  START_FAILED,
  STARTED,
  toWireError,
  type WireError,
  type WireRole,
  type WireWork,
} from '../worker/protocol.js';
import { defaultPoolSize, type Endpoint, type ExitInfo, type Spawn } from './endpoints.js';
import type { Job, LeaseSink, Scheduler, StageWork, ValueRun, WorkerLease } from './scheduler.js';
import { loadError, selfContainedError, toWireWork } from './ship.js';
import { JobTable } from './job-table.js';
import { unrefTimer } from '../shared/timers.js';

/** What a thread, process or remote scheduler hands its pool. */
export interface PoolConfig {
  /** The scheduler's kind: 'thread', 'process', 'nats'. */
  readonly kind: string;
  /** Pool size; undefined: the CPUs this process may use (`defaultPoolSize`). */
  readonly workers: number | undefined;
  readonly cancelGrace: number;
  readonly startTimeout: number;
  readonly endTimeout: number;
  readonly prefetch: number;
  readonly spawn: Spawn;
  /** Added to "did not start" messages (e.g. a reminder to call expose()). */
  readonly startHint?: string;
}

/** A lease whose worker dies while it starts (or ends) is started (or ended) again in the replacement, this many times in all. */
const MAX_ATTEMPTS = 3;

const noop = () => {};

/** Who is to blame for a worker's death, as far as one lease is concerned. */
type Blame =
  | { readonly kind: 'none' }
  | { readonly kind: 'job'; readonly seq: number }
  | { readonly kind: 'start' }
  | { readonly kind: 'end' }
  /** Unknown: its jobs become suspects, re-sent one at a time. */
  | { readonly kind: 'ambiguous' };
const NONE: Blame = { kind: 'none' };
const AMBIGUOUS: Blame = { kind: 'ambiguous' };

/** @internal */
export class WorkerPool extends SlotPool<WorkerHandle, RemoteLease> implements Scheduler {
  readonly batching = true;
  readonly kind: string;
  readonly prefetch: number;
  readonly outputWindow = OUTPUT_WINDOW;
  readonly size: number;
  private nextLeaseId = 1;

  constructor(readonly config: PoolConfig) {
    super();
    this.kind = config.kind;
    this.prefetch = config.prefetch;
    this.size = config.workers ?? defaultPoolSize();
  }

  lease(work: StageWork, info: WorkerInfo, sink: LeaseSink): WorkerLease {
    return this.admit(new RemoteLease(this, this.nextLeaseId++, work, info, sink)); // done at once when its functions cannot be sent
  }

  protected newWorker(slot: number): WorkerHandle {
    return new WorkerHandle(this, slot);
  }

  protected closeWorker(handle: WorkerHandle): Promise<void> {
    return handle.close(this.config.cancelGrace);
  }

  protected override closesWithPool(lease: RemoteLease): boolean {
    return lease.handle !== undefined;
  }

  /** A worker ended: fail what it was running, move its leases to a replacement in the same slot. */
  workerExited(handle: WorkerHandle, info: ExitInfo, terminatedFor: string | undefined): void {
    if (this.slots[handle.id] === handle) this.slots[handle.id] = undefined;
    const leases = [...handle.leases.values()];
    handle.leases.clear();
    if (leases.length === 0) return;
    const crash = new WorkerCrashedError(
      { workerId: handle.id, exitCode: info.exitCode, signal: info.signal, reason: info.reason ?? describeExit(info, terminatedFor, handle.online) },
      info.error === undefined ? undefined : { cause: info.error },
    );
    if (info.fatal) {
      for (const lease of leases) lease.cannotStart(info.error);
      return;
    }
    // A termination by the pool (a call that would not stop, a callback past its bound) is no fault
    // of the calls it ended, nor a loss the transport reports as such (a remote worker that drained,
    // a lost connection); a worker that never came online failed to start, whoever ended it.
    const blameless = (terminatedFor !== undefined || info.blameless === true) && handle.online;
    const culprit = blameless ? undefined : handle.culprit(leases);
    const blameOf = (lease: RemoteLease): Blame => {
      if (blameless || !culprit) return NONE;
      if (culprit === 'ambiguous') return AMBIGUOUS;
      if (culprit.lease !== lease.id) return NONE;
      return culprit.seq >= 0 ? { kind: 'job', seq: culprit.seq } : culprit.seq === ON_START ? { kind: 'start' } : { kind: 'end' };
    };
    const moving = leases.filter((lease) => lease.workerDied(crash, blameOf(lease)));
    const alive = moving.filter((lease) => !lease.done);
    if (alive.length === 0) return;
    const replacement = this.slots[handle.id] ?? this.spawn(handle.id);
    if (culprit === 'ambiguous' || alive.some((lease) => lease.hasSuspects())) replacement.isolating = true;
    for (const lease of alive) replacement.bind(lease);
  }
}

function describeExit(info: ExitInfo, terminatedFor: string | undefined, online: boolean): string | undefined {
  const how = info.signal ? `was killed by ${info.signal}` : info.exitCode !== null ? `exited with code ${info.exitCode}` : 'ended';
  const error = info.error instanceof Error ? `${info.error.name}: ${info.error.message}` : info.error !== undefined ? String(info.error) : undefined;
  if (terminatedFor) return `was terminated because it ${terminatedFor}`;
  if (!online) return `failed to start (${error ?? how})`;
  if (error) return `${how} after an uncaught ${error}`;
  return undefined; // the default message: exit code or signal
}

/** One worker thread or process of a pool, and the leases it serves. */
class WorkerHandle {
  private endpoint: Endpoint | undefined;
  /** It said hello: its runtime listens. */
  online = false;
  private dead = false;
  private closing = false;
  readonly leases = new Map<number, RemoteLease>();
  /** Cancelled calls not yet settled, `lease:seq` → deadline. */
  private zombies: Map<string, number> | undefined;
  private zombieTimer: ReturnType<typeof setTimeout> | undefined;
  private startTimer: ReturnType<typeof setTimeout> | undefined;
  private terminatedFor: string | undefined;
  /** What the runtime said as it exited (DYING): the call it was in, and the calls in work. */
  private dying: { culprit: [number, number] | null; inWork: number[]; uncaught: WireError | undefined } | undefined;
  /** Jobs go one at a time (after a crash nobody could be blamed for), until no suspect is left. */
  isolating = false;
  /** In isolation: the one job in flight. */
  isolated: { lease: RemoteLease; seq: number } | undefined;
  private resolveExited!: () => void;
  readonly exited = new Promise<void>((resolve) => (this.resolveExited = resolve));

  constructor(
    readonly pool: WorkerPool,
    /** The slot in the pool: `workerId` in errors. */
    readonly id: number,
  ) {
    // Not in the constructor's own turn: a spawn that fails at once reports `exit`, and by then
    // the pool must have put this handle in its slot and bound the lease that asked for it.
    queueMicrotask(() => void this.start());
  }

  private async start(): Promise<void> {
    let endpoint: Endpoint;
    try {
      endpoint = await this.pool.config.spawn({ message: (m) => this.onMessage(m), exit: (info) => this.onExit(info) });
    } catch (error) {
      // An option the worker cannot be made with fails the stage as is; anything else may pass.
      this.onExit({ exitCode: null, signal: null, error, fatal: error instanceof InvalidOptionError });
      return;
    }
    this.endpoint = endpoint;
    if (this.dead) return;
    if (this.closing || this.terminatedFor) return endpoint.terminate();
    this.updateRef();
    const { startTimeout, startHint } = this.pool.config;
    if (startTimeout !== Infinity) {
      this.startTimer = unrefTimer(
        setTimeout(() => this.terminate(`did not start within ${startTimeout} ms${startHint ? ` (${startHint})` : ''}`), startTimeout),
      );
    }
  }

  post(message: unknown[], transfer?: TransferListItem[]): void {
    this.endpoint!.post(message, transfer);
  }

  /** Its transport carries a batch of numbers as one Float64Array (see RUN_NUMBERS). */
  get packsNumbers(): boolean {
    return this.endpoint?.packsNumbers === true;
  }

  private onMessage(message: unknown): void {
    if (!Array.isArray(message)) return;
    switch (message[0]) {
      case RESULTS:
      case RESULTS_RANGE:
      case RESULTS_NUMBERS: {
        const lease = this.leases.get(message[1]);
        if (lease) lease.onResults(message);
        else if (message[0] === RESULTS) for (let i = 2; i < message.length; i += 3) this.clearZombie(message[1], message[i]);
        else for (let i = 0, { count } = rangePayloads(message); i < count; i++) this.clearZombie(message[1], (message[2] as number) + i);
        return;
      }
      case HELLO:
        this.online = true;
        clearTimeout(this.startTimer);
        for (const lease of [...this.leases.values()]) lease.attach();
        return;
      case STARTED:
        this.leases.get(message[1])?.onStarted();
        return;
      case START_FAILED:
        this.leases.get(message[1])?.onStartFailed(message[2], message[3], message[4]);
        return;
      case ENDING:
        for (const seq of message[2] as number[]) this.addZombie(message[1], seq);
        this.leases.get(message[1])?.onEnding();
        return;
      case ENDED:
        this.leases.get(message[1])?.onEnded(message[2]);
        return;
      case RECLAIMED:
        this.leases.get(message[1])?.onReclaimed(message[2] as number[]);
        return;
      case DYING:
        this.dying = { culprit: message[1] as [number, number] | null, inWork: message[2] as number[], uncaught: message[3] as WireError | undefined };
        return;
    }
  }

  /**
   * Whose fault this worker's death is: the job in flight in isolation; the call it named as it
   * exited; the one call in work; else, when more than one thing could have ended it, nobody
   * knows ('ambiguous').
   */
  culprit(leases: RemoteLease[]): { lease: number; seq: number } | 'ambiguous' | undefined {
    if (this.isolated) return { lease: this.isolated.lease.id, seq: this.isolated.seq };
    const dying = this.dying;
    if (dying?.culprit) return { lease: dying.culprit[0], seq: dying.culprit[1] };
    if (dying && dying.inWork.length === 2) return { lease: dying.inWork[0], seq: dying.inWork[1] };
    // It said as it exited that no call was running and none was in work: no job it was sent is to
    // blame (one still on its way or queued there never ran; a call that left a timer behind was
    // answered). Only a start or an end in progress may be.
    const jobsCleared = dying !== undefined && dying.inWork.length === 0;
    let found: { lease: number; seq: number } | undefined;
    let count = 0;
    for (const lease of leases) {
      for (const suspect of lease.candidates()) {
        if (jobsCleared && suspect >= 0) continue;
        found = { lease: lease.id, seq: suspect };
        if (++count > 1) return 'ambiguous';
      }
    }
    return found;
  }

  bind(lease: RemoteLease): void {
    this.leases.set(lease.id, lease);
    lease.handle = this;
    this.updateRef();
    if (this.online) lease.attach();
  }

  unbind(lease: RemoteLease): void {
    if (this.leases.get(lease.id) !== lease) return;
    this.leases.delete(lease.id);
    if (this.isolated?.lease === lease) this.isolatedDone();
    this.updateRef();
  }

  /** An idle worker lets the process exit; one with a lease (or closing) keeps it alive. */
  private updateRef(): void {
    if (!this.endpoint || this.dead) return;
    if (this.leases.size > 0 || this.closing) this.endpoint.ref();
    else this.endpoint.unref();
  }

  // ---- isolation ----------------------------------------------------------------------------

  /** In isolation, sends the next job held back (suspects first), alone; ends isolation when no suspect is left. */
  pumpIsolation(): void {
    if (!this.isolating || this.isolated || !this.online || this.dead) return;
    let pick: RemoteLease | undefined;
    for (const lease of this.leases.values()) {
      if (!lease.canSendHeld()) continue;
      if (lease.hasSuspects()) {
        pick = lease;
        break;
      }
      pick ??= lease;
    }
    const suspects = [...this.leases.values()].some((lease) => lease.hasSuspects());
    if (!suspects) {
      this.isolating = false;
      for (const lease of this.leases.values()) lease.sendHeld();
      return;
    }
    if (!pick) return;
    const seq = pick.sendOneHeld();
    if (seq !== undefined) this.isolated = { lease: pick, seq };
  }

  /** The isolated job settled (or left): the next may go. */
  isolatedDone(): void {
    this.isolated = undefined;
    queueMicrotask(() => this.pumpIsolation());
  }

  // ---- calls that were cancelled but have not stopped -------------------------------------

  addZombie(lease: number, seq: number): void {
    const grace = this.pool.config.cancelGrace;
    if (grace === Infinity) return; // no limit: a cancelled call may run as long as it likes
    (this.zombies ??= new Map()).set(`${lease}:${seq}`, performance.now() + grace);
    this.zombieTimer ??= unrefTimer(setTimeout(this.checkZombies, grace));
  }

  clearZombie(lease: number, seq: number): void {
    if (!this.zombies?.delete(`${lease}:${seq}`) || this.zombies.size > 0) return;
    clearTimeout(this.zombieTimer);
    this.zombieTimer = undefined;
  }

  private readonly checkZombies = (): void => {
    this.zombieTimer = undefined;
    if (!this.zombies || this.dead) return;
    const now = performance.now();
    let next = Infinity;
    for (const deadline of this.zombies.values()) {
      if (deadline <= now) return this.terminate(`did not stop a cancelled call within cancelGrace (${this.pool.config.cancelGrace} ms)`);
      next = Math.min(next, deadline);
    }
    if (next < Infinity) this.zombieTimer = unrefTimer(setTimeout(this.checkZombies, next - now));
  };

  // ---- ends ------------------------------------------------------------------------------

  /** Stops the worker now; its leases move to a replacement with nothing failed. */
  terminate(reason: string): void {
    if (this.dead || this.terminatedFor) return;
    this.terminatedFor = reason;
    this.endpoint?.terminate(); // when still spawning, start() terminates it
  }

  /** Asks the worker to exit, terminates it after `grace` ms, resolves once it has exited. */
  close(grace: number): Promise<void> {
    if (this.dead) return this.exited;
    this.closing = true;
    this.updateRef(); // `await scheduler.close()` must see the exit
    this.endpoint?.close();
    if (grace === Infinity) return this.exited;
    const timer = unrefTimer(setTimeout(() => this.endpoint?.terminate(), grace));
    return this.exited.then(() => clearTimeout(timer));
  }

  private onExit(info: ExitInfo): void {
    if (this.dead) return;
    this.dead = true;
    // A child process's exit carries no error: the uncaught one it named as it died is the cause.
    if (info.error === undefined && this.dying?.uncaught) info = { ...info, error: fromWireError(this.dying.uncaught) };
    clearTimeout(this.startTimer);
    clearTimeout(this.zombieTimer);
    this.zombies = undefined;
    this.resolveExited();
    this.pool.workerExited(this, info, this.terminatedFor);
  }
}

/**
 * One worker subscription of a stage, served by a worker of the pool. Holds the jobs sent and not
 * yet settled, in order, so that a replacement worker can be given them again.
 */
class RemoteLease implements WorkerLease {
  readonly ready: Promise<void>;
  readonly byJob = true;
  readonly reportsStopped = true;
  /**
   * Its worker says when each call of a timed stage begins (R_BEGAN). Not with `cancelGrace:
   * Infinity`: behind a call that never returns, nothing would ever begin, or time out.
   */
  get timesFromBegin(): boolean {
    return this.work.timed === true && this.pool.config.cancelGrace !== Infinity;
  }

  /** Not with `cancelGrace: Infinity`: nothing would ever replace a worker whose call never returns, and the stage would wait for good. */
  get cancelHoldsWorker(): boolean {
    return this.pool.config.cancelGrace !== Infinity;
  }
  /** Jobs cancelled while the worker ran them, until their call answers (or the worker goes). */
  private cancelled: Map<number, Job> | undefined;
  private resolveReady!: () => void;
  private rejectReady!: (error: unknown) => void;
  private readyFailed = false;
  /** What goes to the worker; undefined when the functions cannot go. */
  private readonly wire: WireWork | undefined;
  /** The worker serving it, or undefined while unassigned (or after it failed). */
  handle: WorkerHandle | undefined;
  /** START went to `handle`. */
  private attached = false;
  /** STARTED came from `handle`. */
  private started = false;
  private everStarted = false;
  private attachCount = 0;
  /** Starts (or ends) that a worker death interrupted and that were this lease's fault, or could have been. */
  private startAttempts = 0;
  private endAttempts = 0;
  private lastWorkerId = 0;
  /** Set when the lease can run nothing more; every later job fails with it. */
  private broken: { error: unknown } | undefined;
  /** Jobs given by the stage and not settled, in the order given. */
  private readonly pending = new JobTable<Job>();
  /** Runs from the stage's run lane not all answered, in the order given; `runsLeft[i]`: positions of `runs[i]` not answered. */
  private runs: ValueRun[] = [];
  private runsLeft: number[] = [];
  /** Of `runs`, those not sent yet: they go at the end of the turn, together. */
  private runsOutbox: ValueRun[] | undefined;
  /** Jobs in `pending` not sent to the current worker (isolation holds them back), in order. */
  private held: Job[] = [];
  /** Jobs that were in work when a worker died and nobody could be blamed: re-sent one at a time. */
  private suspects: Set<number> | undefined;
  /** flatMap jobs that have sent outputs: they cannot be run again without sending them twice. */
  private partial: Set<number> | undefined;
  private reclaiming = false;
  /** The call the worker said was in work in its last message (R_RUNNING). */
  private awaiting: number | undefined;
  private startTimer: ReturnType<typeof setTimeout> | undefined;
  private startTimedOut = false;
  private endStatus: StageStatus | undefined;
  private ending: Promise<void> | undefined;
  private resolveEnd!: () => void;
  private rejectEnd!: (error: unknown) => void;
  private endSent = false;
  private endAcked = false;
  private endAckTimer: ReturnType<typeof setTimeout> | undefined;
  private endTimer: ReturnType<typeof setTimeout> | undefined;
  private endTimedOut = false;
  /** Out of the pool: ended, or never able to run. */
  done = false;

  constructor(
    private readonly pool: WorkerPool,
    readonly id: number,
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
      this.wire = toWireWork(work);
    } catch (error) {
      this.done = true;
      this.rejectReady(error);
    }
  }

  /** The worker is online: start the lease there, and give it what it must run. */
  attach(): void {
    if (this.done || this.attached || !this.handle) return;
    const handle = this.handle;
    this.attached = true;
    this.started = false;
    this.lastWorkerId = handle.id;
    this.outbox = undefined; // all of `pending` goes now
    handle.post([START, this.id, this.wire, this.info]);
    const { startTimeout } = this.pool.config;
    if (startTimeout !== Infinity) {
      this.startTimer = unrefTimer(
        setTimeout(() => {
          this.startTimedOut = true;
          handle.terminate(`did not finish the onStart of stage "${this.work.name}" within startTimeout (${startTimeout} ms)`);
        }, startTimeout),
      );
    }
    const resend = this.attachCount++ > 0;
    if (this.pending.size > 0) {
      const jobs = this.pending.values();
      if (resend) this.sink.resent(jobs, true); // their clocks stop until this worker has started
      if (handle.isolating) {
        this.held = jobs;
        handle.pumpIsolation();
      } else {
        this.held = [];
        this.send(jobs);
      }
    }
    if (this.endStatus !== undefined) this.sendEnd();
  }

  onStarted(): void {
    clearTimeout(this.startTimer);
    const again = this.everStarted;
    this.started = true;
    this.everStarted = true;
    // A replacement worker loaded the functions and ran onStart before the jobs sent with the
    // lease: their `timeout` measures the call, so their clocks start now (those held back for
    // isolation, when they are sent).
    if (again && this.pending.size > 0) {
      const held = new Set(this.held);
      this.sink.resent(this.pending.values().filter((job) => !held.has(job)));
    }
    this.startAttempts = 0;
    this.resolveReady();
    if (this.endSent && !this.endAcked) this.armEndAck();
  }

  onStartFailed(phase: 'load' | 'onStart', role: WireRole, wire: WireError): void {
    clearTimeout(this.startTimer);
    const work = role === 'fn' ? this.work.fn : role === 'onStart' ? this.work.onStart! : this.work.onEnd!;
    const cause = fromWireError(wire);
    const error = phase === 'load' ? loadError(work, cause) : this.explain(work, cause);
    if (!this.everStarted) return this.rejectReady(error);
    // A replacement worker could not start the lease again: what it held cannot run.
    this.break(
      new WorkerCrashedError(
        { workerId: this.handle!.id, reason: `was replaced after a crash, and the lease could not start again in the replacement (${phase} failed)` },
        { cause: error },
      ),
    );
  }

  run(jobs: readonly Job[]): void {
    if (this.broken || this.endStatus !== undefined) {
      const error =
        this.broken?.error ??
        new WorkerCrashedError({ workerId: this.lastWorkerId, reason: 'was closed: scheduler.close() ended its lease' });
      queueMicrotask(() => {
        for (const job of jobs) this.sink.settleJob!(job, false, forJob(error, job));
      });
      return;
    }
    for (const job of jobs) this.pending.add(job);
    // Held here until a worker is online and started, or until isolation is over: their clocks wait.
    if (!this.started || this.handle?.isolating) this.sink.resent(jobs, true);
    if (!this.attached) return; // sent with the others once a worker is online
    if (this.handle!.isolating) {
      for (const job of jobs) this.held.push(job);
      this.handle!.pumpIsolation();
      return;
    }
    // postMessage is most of the cost of a job: what the stage hands over in one turn (a batch per
    // free slot as results come in) goes in one message, at the end of the turn.
    if (this.outbox) {
      for (const job of jobs) this.outbox.push(job);
    } else {
      this.outbox = jobs.slice();
      queueMicrotask(this.flushOutbox);
    }
  }

  // ---- the stage's run lane (see src/core/lane.ts) -------------------------------------------

  get laneOpen(): boolean {
    return this.attached && this.started && !this.done && this.endStatus === undefined && !this.broken && !this.handle!.isolating;
  }

  runValues(run: ValueRun): void {
    this.runs.push(run);
    this.runsLeft.push(run.n);
    if (this.runsOutbox) this.runsOutbox.push(run);
    else {
      this.runsOutbox = [run];
      queueMicrotask(this.flushRuns);
    }
  }

  private readonly flushRuns = (): void => {
    const runs = this.runsOutbox;
    if (!runs) return;
    if (!this.attached) {
      // Its worker went between the hand-off and now (workerDied leaves the lane first, so this is
      // a guard): the runs become jobs, which go to the next worker with the rest of `pending`.
      this.sink.leaveLane!();
      return;
    }
    this.runsOutbox = undefined;
    for (let i = 0; i < runs.length; ) {
      // Runs that follow each other (a batch and its prefetch) go in one message.
      let j = i + 1;
      while (j < runs.length && follows(runs[j - 1], runs[j])) j++;
      if (!this.sendRuns(runs, i, j)) {
        this.runsOutbox = runs.slice(i); // not sent: the stage is leaving the lane, and these become jobs to send
        this.sink.leaveLane!();
        return;
      }
      i = j;
    }
  };

  /** `runs[i … j - 1]` in one RUN message; false, with nothing sent, when a value cannot be cloned. */
  private sendRuns(runs: readonly ValueRun[], i: number, j: number): boolean {
    const first = runs[i];
    let total = 0;
    for (let k = i; k < j; k++) total += runs[k].n;
    if (first.contiguous && total >= MIN_PACKED && this.handle!.packsNumbers) {
      const numbers = new Float64Array(total);
      let at = 0;
      for (let k = i; k < j && at >= 0; k++) {
        const values = runs[k].values;
        for (let p = 0; p < values.length; p++) {
          const value = values[p];
          if (typeof value !== 'number') {
            at = -1;
            break;
          }
          numbers[at++] = value;
        }
      }
      if (at === total) {
        try {
          this.handle!.post([RUN_NUMBERS, this.id, first.seq0, first.index0, numbers]); // copied, as in send()
          return true;
        } catch {
          return false; // too large for the transport (NATS max_payload): as jobs, sent one by one (send())
        }
      }
    }
    const message: unknown[] = first.contiguous ? [RUN_RANGE, this.id, first.seq0, first.index0] : [RUN, this.id];
    let transfers: Array<[unknown, TransferListItem[]]> | undefined;
    for (let k = i; k < j; k++) {
      const { values, indexes, seq0 } = runs[k];
      for (let p = 0; p < values.length; p++) {
        const value = values[p];
        if (first.contiguous) message.push(value);
        else message.push(seq0 + p, value, indexes![p].length === 1 ? indexes![p][0] : indexes![p]);
        const list = takeTransferList(value);
        if (list) (transfers ??= []).push([value, list]);
      }
    }
    try {
      this.handle!.post(message, transfers?.flatMap(([, list]) => list));
      return true;
    } catch {
      // Something cannot be cloned, and nothing was sent: as jobs, each is tried alone (send()).
      if (transfers) for (const [value, list] of transfers) markTransferList(value, list);
      return false;
    }
  }

  /** Results for seqs `first …`: `values[from …]`, to the runs they belong to. */
  private settleRuns(first: number, values: ArrayLike<unknown>, from: number, count: number): void {
    let seq = first;
    let at = from;
    let left = count;
    while (left > 0 && this.runs.length > 0) {
      let k = 0;
      while (k < this.runs.length && (seq < this.runs[k].seq0 || seq >= this.runs[k].seq0 + this.runs[k].n)) k++;
      if (k === this.runs.length) {
        seq++; // not a run of this lease's (nothing else answers here while the lane is open)
        at++;
        left--;
        continue;
      }
      const run = this.runs[k];
      const pos = seq - run.seq0;
      const take = Math.min(left, run.n - pos);
      if ((this.runsLeft[k] -= take) === 0) {
        this.runs.splice(k, 1);
        this.runsLeft.splice(k, 1);
      }
      this.sink.settleRun!(run, pos, values, at, take);
      seq += take;
      at += take;
      left -= take;
    }
  }

  /** Something element-specific is to be done with this lease's runs: the stage leaves its lane. */
  private leaveLane(): void {
    if (this.runs.length > 0) this.sink.leaveLane!();
  }

  leftLane(): void {
    const runs = this.runs;
    const unsent = this.runsOutbox;
    this.runs = [];
    this.runsLeft = [];
    this.runsOutbox = undefined;
    let outbox: Job[] | undefined;
    for (const run of runs) {
      if (!run.jobs) continue;
      const send = unsent?.includes(run) === true;
      for (const job of run.jobs) {
        if (!job) continue;
        this.pending.add(job);
        if (send) (outbox ??= []).push(job);
      }
    }
    if (!outbox) return;
    if (this.outbox) for (const job of outbox) this.outbox.push(job);
    else {
      this.outbox = outbox;
      queueMicrotask(this.flushOutbox);
    }
  }

  private outbox: Job[] | undefined;
  /** A job may have left `pending` (cancelled, ended, reclaimed) while the outbox waited: check each before sending. */
  private outboxStale = false;

  private readonly flushOutbox = (): void => {
    const jobs = this.outbox;
    this.outbox = undefined;
    if (!jobs || !this.attached) return; // the worker was lost: `pending` goes to the next one
    let live = jobs;
    if (this.outboxStale) {
      this.outboxStale = false;
      live = jobs.filter((job) => this.pending.get(job.seq) === job); // cancelled or ended meanwhile
    }
    if (live.length > 0) this.send(live);
  };

  /** One RUN message for the batch; if a value cannot be cloned, one message per job so only it fails. */
  private send(jobs: readonly Job[]): void {
    const n = jobs.length;
    // Built by push, not `new Array(len)`: a holey array takes V8's slow sparse path when it is
    // serialized, ~5x the time per element (postMessage and advanced IPC alike).
    const range = isRange(jobs);
    if (range && n >= MIN_PACKED && this.handle!.packsNumbers) {
      const numbers = packNumbers(jobs);
      if (numbers) {
        try {
          this.handle!.post([RUN_NUMBERS, this.id, jobs[0].seq, jobs[0].elementIndex[0], numbers]); // copied: for a few KB, transferring the buffer costs twice as much
          return;
        } catch {
          // too large for the transport (NATS max_payload): nothing was sent; on as below
        }
      }
    }
    const message: unknown[] = range ? [RUN_RANGE, this.id, jobs[0].seq, jobs[0].elementIndex[0]] : [RUN, this.id];
    let transfers: TransferListItem[] | undefined;
    let lists: (TransferListItem[] | undefined)[] | undefined;
    for (let i = 0; i < n; i++) {
      const job = jobs[i];
      // A one-level index goes as a number: a number clones in a fraction of an array's time.
      if (range) message.push(job.value);
      else message.push(job.seq, job.value, job.elementIndex.length === 1 ? job.elementIndex[0] : job.elementIndex);
      const list = takeTransferList(job.value);
      if (list) {
        (transfers ??= []).push(...list);
        (lists ??= new Array(n))[i] = list;
      }
    }
    try {
      this.handle!.post(message, transfers);
      return;
    } catch {
      // Something cannot be cloned, and nothing was sent: try each job alone.
    }
    let failed: Array<[Job, unknown]> | undefined;
    for (let i = 0; i < n; i++) {
      const job = jobs[i];
      try {
        this.handle!.post([RUN, this.id, job.seq, job.value, job.elementIndex], lists?.[i]);
      } catch (error) {
        this.pending.delete(job.seq);
        (failed ??= []).push([job, error]);
      }
    }
    if (failed) {
      const name = this.work.name;
      queueMicrotask(() => {
        for (const [job, error] of failed) this.sink.settleJob!(job, false, new UncloneableValueError(name, job.elementIndex, 'element', { cause: error }));
      });
    }
  }

  // ---- isolation (see WorkerHandle) ----------------------------------------------------------

  hasSuspects(): boolean {
    return this.suspects !== undefined && this.suspects.size > 0;
  }

  canSendHeld(): boolean {
    return this.attached && this.held.length > 0;
  }

  /** Sends the first held job (a suspect first) alone; returns its seq. */
  sendOneHeld(): number | undefined {
    let at = this.held.findIndex((job) => this.suspects?.has(job.seq));
    if (at < 0) at = 0;
    const [job] = this.held.splice(at, 1);
    if (!job) return undefined;
    this.sink.resent([job]);
    this.send([job]);
    return job.seq;
  }

  /** Isolation is over: what was held goes now. */
  sendHeld(): void {
    const jobs = this.held;
    this.held = [];
    if (jobs.length === 0 || !this.attached) return;
    this.sink.resent(jobs); // they waited while the suspects ran alone: their clocks start now
    this.send(jobs);
  }

  /**
   * What could have ended the worker: a start or an end in progress; the call the worker last said
   * was in work (a lease runs one at a time); else every job sent to it and unsettled.
   */
  candidates(): number[] {
    this.leaveLane();
    const list: number[] = [];
    if (!this.attached) return list;
    if (!this.started) list.push(ON_START);
    if (this.endSent) list.push(ON_END);
    if (this.awaiting !== undefined && this.pending.has(this.awaiting)) {
      list.push(this.awaiting);
      return list;
    }
    const unsent = new Set([...this.held, ...(this.outbox ?? [])].map((job) => job.seq));
    for (const seq of this.pending.keys()) if (!unsent.has(seq)) list.push(seq);
    return list;
  }

  // ---- results ------------------------------------------------------------------------------

  onResults(message: unknown[]): void {
    if (this.sink.settleMany) this.sink.settleMany(() => this.settle(message));
    else this.settle(message);
  }

  private settle(message: unknown[]): void {
    const handle = this.handle;
    this.awaiting = undefined; // each message says which call is in work, if one is
    if (this.runs.length > 0) {
      if (message[0] === RESULTS_RANGE || message[0] === RESULTS_NUMBERS) {
        const { values, from, count } = rangePayloads(message);
        return this.settleRuns(message[2] as number, values, from, count);
      }
      let plain = true;
      for (let i = 3; i < message.length && plain; i += 3) plain = message[i] === R_OK || message[i] === R_RUNNING;
      if (plain) {
        for (let i = 2; i < message.length; i += 3) {
          if (message[i + 1] === R_RUNNING) this.awaiting = message[i] as number;
          else this.settleRuns(message[i] as number, message, i + 2, 1);
        }
        return;
      }
      this.leaveLane(); // a failure: its element needs its own state; the results below settle jobs
    }
    if (message[0] === RESULTS_RANGE || message[0] === RESULTS_NUMBERS) {
      const first = message[2] as number;
      const { values: payloads, from, count } = rangePayloads(message);
      // A batch answered whole, with nothing kept per job here (no flatMap part, no suspect, no
      // isolation, no cancelled call): to the stage in one call.
      if (this.sink.settleAll && !this.partial?.size && !this.suspects && !this.cancelled?.size && handle?.isolated?.lease !== this) {
        const jobs: Job[] = [];
        const values: unknown[] = [];
        for (let i = 0; i < count; i++) {
          const job = this.pending.take(first + i);
          if (job === undefined) this.zombieAnswered(first + i); // a cancelled call: its answer is not wanted
          else {
            jobs.push(job);
            values.push(payloads[from + i]);
          }
        }
        this.sink.settleAll(jobs, values);
        return;
      }
      for (let i = 0; i < count; i++) {
        const seq = first + i;
        const job = this.pending.take(seq);
        if (job === undefined) {
          this.zombieAnswered(seq); // a cancelled call: its answer is not wanted
          continue;
        }
        this.settled(seq);
        this.sink.settleJob!(job, true, payloads[from + i]);
      }
      return;
    }
    for (let i = 2; i < message.length; i += 3) {
      const seq = message[i] as number;
      const job = this.pending.get(seq);
      if (job === undefined) {
        if (message[i + 1] !== R_RUNNING && message[i + 1] !== R_PART && message[i + 1] !== R_BEGAN) this.zombieAnswered(seq); // a cancelled call: its answer is not wanted
        continue;
      }
      const status = message[i + 1];
      const payload = message[i + 2];
      if (status === R_BEGAN) {
        this.awaiting = seq; // in work now (a lease runs one call at a time)
        this.sink.began?.(job);
        continue;
      }
      if (status === R_RUNNING) {
        this.awaiting = seq;
        continue;
      }
      if (status === R_CANCELLED) continue;
      if (status === R_PART) {
        (this.partial ??= new Set()).add(seq);
        this.sink.outputsJob!(job, payload as unknown[]);
        continue;
      }
      this.pending.delete(seq);
      this.settled(seq);
      if (status === R_OK) this.sink.settleJob!(job, true, payload);
      else if (status === R_ERROR) this.sink.settleJob!(job, false, this.explain(this.work.fn, fromWireError(payload as WireError)));
      else this.sink.settleJob!(job, false, new UncloneableValueError(this.work.name, job.elementIndex, 'result', { cause: fromWireError(payload as WireError) }));
    }
  }

  /** A job left the worker (settled, cancelled, reclaimed): forget what was kept about it. */
  private settled(seq: number): void {
    this.partial?.delete(seq);
    if (this.suspects?.delete(seq) && this.suspects.size === 0) this.suspects = undefined;
    const handle = this.handle;
    if (handle?.isolated && handle.isolated.lease === this && handle.isolated.seq === seq) handle.isolatedDone();
  }

  /**
   * A ReferenceError "x is not defined" from a plain function means it was not self-contained (a
   * name of the module it came from); one it threw itself, with another message, is its own.
   */
  private explain(work: Work, error: unknown): unknown {
    return !isTaskRef(work) && error instanceof ReferenceError && / is not defined$/.test(error.message) ? selfContainedError(work, error) : error;
  }

  request(seq: number, count: number): void {
    if (!this.attached || !this.pending.has(seq)) return;
    if (this.outbox) this.flushOutbox(); // the job's RUN must reach the worker before its PULL
    this.handle!.post([PULL, this.id, seq, count]);
  }

  cancel(seq: number, reason: unknown): void {
    this.leaveLane();
    const job = this.pending.get(seq);
    if (!job) return;
    this.pending.delete(seq);
    this.outboxStale = true;
    const heldAt = this.held.findIndex((j) => j.seq === seq);
    const wasHeld = heldAt >= 0;
    if (wasHeld) this.held.splice(heldAt, 1);
    this.settled(seq);
    if (!this.attached || wasHeld) {
      // Never sent: no worker runs it.
      queueMicrotask(() => this.sink.stopped?.(job));
      return;
    }
    (this.cancelled ??= new Map()).set(seq, job);
    this.handle!.addZombie(this.id, seq);
    this.handle!.post([CANCEL, this.id, seq, toWireError(reason)]);
  }

  /** A cancelled call answered (R_CANCELLED, or a result no longer wanted): it has stopped. */
  private zombieAnswered(seq: number): void {
    this.handle?.clearZombie(this.id, seq);
    const job = this.cancelled?.get(seq);
    if (!job) return;
    this.cancelled!.delete(seq);
    this.sink.stopped?.(job);
  }

  /** The worker is gone: every cancelled call it was still running has stopped with it. */
  private zombiesGone(): void {
    const jobs = this.cancelled;
    this.cancelled = undefined;
    if (jobs) for (const job of jobs.values()) this.sink.stopped?.(job);
  }

  reclaim(count: number): void {
    // The stage's runs are asked of the worker (those not sent yet go first), and the stage leaves
    // its lane only if the worker gives some back (onReclaimed): an empty answer is nothing
    // element-specific. (A lease with runs is attached, and not isolating: see laneOpen.)
    if (!this.attached || this.handle!.isolating) this.leaveLane();
    else if (this.runsOutbox) this.flushRuns();
    // Held here (not sent yet, or held back in isolation; never a suspect): given back at once.
    const back: Job[] = [];
    if (this.outbox) {
      while (back.length < count && this.outbox.length > 0) {
        const job = this.outbox.pop()!;
        if (this.pending.delete(job.seq)) back.push(job);
      }
      if (this.outbox.length === 0) this.outbox = undefined;
    }
    for (let i = this.held.length - 1; i >= 0 && back.length < count; i--) {
      const job = this.held[i];
      if (this.suspects?.has(job.seq)) continue;
      this.held.splice(i, 1);
      this.pending.delete(job.seq);
      back.push(job);
    }
    if (!this.attached) {
      // Not on a worker yet: everything is held here.
      for (const job of this.pending.values().reverse()) {
        if (back.length >= count) break;
        if (this.suspects?.has(job.seq)) continue;
        this.pending.delete(job.seq);
        back.push(job);
      }
    }
    for (const job of back) this.settled(job.seq);
    // In isolation the worker holds only the one job in flight, which stays there.
    if (back.length > 0 || !this.attached || this.reclaiming || this.handle!.isolating) {
      queueMicrotask(() => this.sink.reclaimed(back));
      return;
    }
    this.reclaiming = true;
    this.handle!.post([RECLAIM, this.id, count]);
  }

  /** A reclaim the worker will not answer now (it is gone): nothing was given back. */
  private answerReclaim(): void {
    if (!this.reclaiming) return;
    this.reclaiming = false;
    queueMicrotask(() => this.sink.reclaimed([]));
  }

  onReclaimed(seqs: number[]): void {
    this.reclaiming = false;
    if (seqs.length > 0) this.leaveLane(); // the runs' jobs are this lease's now: those given back leave it below
    const back: Job[] = [];
    for (const seq of seqs) {
      const job = this.pending.get(seq);
      if (!job) continue;
      this.pending.delete(seq);
      this.settled(seq); // it left this lease: not in flight, nor a suspect, any more
      back.push(job);
    }
    this.sink.reclaimed(back);
  }

  // ---- endings --------------------------------------------------------------------------------

  end(status: StageStatus): Promise<void> {
    if (this.ending) return this.ending;
    this.ending = new Promise<void>((resolve, reject) => {
      this.resolveEnd = resolve;
      this.rejectEnd = reject;
    });
    this.endStatus = status;
    this.pending.clear(); // their results are no longer wanted
    this.runs = [];
    this.runsLeft = [];
    this.runsOutbox = undefined;
    this.held = [];
    this.suspects = undefined;
    this.partial = undefined;
    this.outboxStale = true;
    const handle = this.handle;
    if (handle?.isolated?.lease === this) handle.isolatedDone();
    if (this.done || (!handle && (this.everStarted || this.readyFailed || this.broken))) {
      // Nothing runs anywhere: never sent, failed to start, or lost with its worker.
      this.finish(undefined);
    } else if (this.attached) {
      this.sendEnd();
    } // else START and END go together once a worker is online
    return this.ending;
  }

  /** The pool is closing under a stage still using this lease: its jobs fail, then it ends. */
  closeByPool(status: StageStatus): Promise<void> {
    this.leaveLane();
    const jobs = this.ending ? [] : this.pending.values();
    const ending = this.end(status); // first, so that a retry the stage makes on hearing this fails too
    const error = new WorkerCrashedError({ workerId: this.lastWorkerId, reason: 'was closed: scheduler.close() ended its lease' });
    for (const job of jobs) this.sink.settleJob!(job, false, error.forElement(job.elementIndex));
    return ending;
  }

  private sendEnd(): void {
    const handle = this.handle!;
    this.endSent = true;
    handle.post([END, this.id, this.endStatus]);
    if (this.started) this.armEndAck();
    // The end (an onStart still running, then onEnd) is bounded: past endTimeout the worker goes.
    const { endTimeout } = this.pool.config;
    if (endTimeout !== Infinity && this.endTimer === undefined) {
      this.endTimer = unrefTimer(
        setTimeout(() => {
          this.endTimedOut = true;
          handle.terminate(`did not finish the end of a subscription of stage "${this.work.name}" (onStart, onEnd) within endTimeout (${endTimeout} ms)`);
        }, endTimeout),
      );
    }
  }

  /** The worker must say it heard END within the grace (it may still be busy in a call that ignores its signal). */
  private armEndAck(): void {
    const grace = this.pool.config.cancelGrace;
    if (grace === Infinity) return;
    const handle = this.handle!;
    this.endAckTimer ??= unrefTimer(setTimeout(() => handle.terminate(`did not answer the end of a lease within cancelGrace (${grace} ms)`), grace));
  }

  onEnding(): void {
    this.endAcked = true;
    clearTimeout(this.endAckTimer);
  }

  onEnded(wire: WireError | undefined): void {
    this.finish(wire === undefined ? undefined : { error: this.explain(this.work.onEnd!, fromWireError(wire)) });
  }

  private finish(failure: { error: unknown } | undefined): void {
    if (this.done && !this.ending) return;
    this.done = true;
    this.clearTimers();
    this.handle?.unbind(this);
    this.pool.leases.delete(this);
    if (!this.ending) return;
    if (failure) this.rejectEnd(failure.error);
    else this.resolveEnd();
  }

  private clearTimers(): void {
    clearTimeout(this.startTimer);
    clearTimeout(this.endAckTimer);
    clearTimeout(this.endTimer);
    this.startTimer = this.endAckTimer = this.endTimer = undefined;
  }

  /** The lease can run nothing more: fail what it holds and what it is given later. */
  private break(error: unknown): void {
    this.leaveLane();
    this.broken = { error };
    this.answerReclaim();
    const jobs = this.pending.values();
    this.pending.clear();
    this.held = [];
    this.suspects = undefined;
    this.outboxStale = true;
    for (const job of jobs) this.sink.settleJob!(job, false, forJob(error, job));
  }

  /** No worker can be made for it (a configuration error): `ready` rejects with that error. */
  cannotStart(error: unknown): void {
    this.handle = undefined;
    this.attached = false;
    this.answerReclaim();
    if (this.done) return;
    if (!this.everStarted && !this.readyFailed) this.rejectReady(error);
    else if (this.endStatus === undefined) this.break(error);
    if (this.endStatus !== undefined) this.finish(undefined);
  }

  /**
   * Its worker ended. Returns true when the lease should move to a replacement: it was running
   * (the job blamed fails, the others are sent again, suspects one at a time), starting (started
   * again, a few times), or ending (ended again there, so that its onEnd runs).
   */
  workerDied(crash: WorkerCrashedError, blame: Blame): boolean {
    this.leaveLane(); // before it forgets what was sent: the runs' jobs are then sent again like any others
    const wasStarted = this.started;
    const wasAttached = this.attached;
    this.handle = undefined;
    this.attached = false;
    this.started = false;
    this.answerReclaim(); // its jobs stay here, to be sent again
    this.zombiesGone();
    this.awaiting = undefined;
    this.outbox = undefined; // all of `pending` goes to the next worker
    this.held = [];
    const { startTimedOut, endTimedOut } = this;
    this.startTimedOut = this.endTimedOut = false;
    clearTimeout(this.startTimer);
    clearTimeout(this.endAckTimer);
    clearTimeout(this.endTimer);
    this.startTimer = this.endAckTimer = this.endTimer = undefined;
    this.endSent = this.endAcked = false;
    if (this.done) return false;
    if (this.endStatus !== undefined) {
      // Past endTimeout: the end waited on an onStart still running (the lease never started), or on onEnd.
      const error = endTimedOut
        ? new TaskTimeoutError(this.work.name, [], this.pool.config.endTimeout, wasStarted ? 'onEnd' : 'onStart')
        : startTimedOut
          ? new TaskTimeoutError(this.work.name, [], this.pool.config.startTimeout, 'onStart')
          : crash;
      // Its onEnd must still run, with a start in the replacement: unless the end itself is what
      // failed (it timed out, or ended the worker), or keeps being interrupted.
      const ownFault = endTimedOut || startTimedOut || blame.kind === 'end' || blame.kind === 'start';
      if (ownFault || ++this.endAttempts >= MAX_ATTEMPTS || !this.work.onEnd) {
        // A lease that never started and has no onEnd owes nothing: a worker lost under it (a crash
        // elsewhere, a SIGKILL) fails no one. Its own onStart or onEnd at fault does.
        if (!this.everStarted && !this.readyFailed && (ownFault || this.work.onEnd)) this.rejectReady(error);
        this.finish(wasStarted && this.work.onEnd ? { error } : undefined);
        return false;
      }
      return true;
    }
    if (startTimedOut) {
      const error = new TaskTimeoutError(this.work.name, [], this.pool.config.startTimeout, 'onStart');
      if (this.everStarted) this.break(error);
      else this.rejectReady(error);
      return false;
    }
    if (!wasStarted) {
      if (this.broken || this.readyFailed) return false;
      // A worker that never came online failed every start on it; otherwise only a start that may
      // have ended the worker counts (another lease's fault uses up none of this one's attempts).
      if (!wasAttached || blame.kind === 'start' || blame.kind === 'ambiguous') this.startAttempts++;
      if (this.startAttempts < MAX_ATTEMPTS) return true;
      if (this.everStarted) this.break(crash);
      else this.rejectReady(crash);
      return false;
    }
    if (blame.kind === 'job') this.blame(blame.seq, crash);
    // A flatMap job that has sent outputs cannot run again without sending them twice.
    if (this.partial) for (const seq of [...this.partial]) this.blame(seq, crash);
    if (blame.kind === 'ambiguous' && this.pending.size > 0) {
      this.suspects ??= new Set();
      for (const seq of this.pending.keys()) this.suspects.add(seq);
    }
    return !this.done; // the stage may have ended the lease on hearing of the crash
  }

  private blame(seq: number, crash: WorkerCrashedError): void {
    const job = this.pending.get(seq);
    if (!job) return;
    this.pending.delete(seq);
    this.partial?.delete(seq);
    this.suspects?.delete(seq);
    this.sink.settleJob!(job, false, crash.forElement(job.elementIndex));
  }
}

/** The batch's values in a Float64Array when every one is a number (RUN_NUMBERS), else undefined. */
function packNumbers(jobs: readonly Job[]): Float64Array | undefined {
  const numbers = new Float64Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const value = jobs[i].value;
    if (typeof value !== 'number') return undefined;
    numbers[i] = value;
  }
  return numbers;
}

/** The jobs' seqs and one-level indexes both count up by one: the batch can go as a RUN_RANGE. */
function isRange(jobs: readonly Job[]): boolean {
  const first = jobs[0];
  if (first.elementIndex.length !== 1) return false;
  const seq = first.seq;
  const index = first.elementIndex[0];
  for (let i = 1; i < jobs.length; i++) {
    const job = jobs[i];
    if (job.seq !== seq + i || job.elementIndex.length !== 1 || job.elementIndex[0] !== index + i) return false;
  }
  return true;
}

/** `b` comes right after `a`, in seqs and one-level indexes: they can go as one range. */
function follows(a: ValueRun, b: ValueRun): boolean {
  return a.contiguous && b.contiguous && b.seq0 === a.seq0 + a.n && b.index0 === a.index0 + a.n;
}

function forJob(error: unknown, job: Job): unknown {
  return error instanceof WorkerCrashedError ? error.forElement(job.elementIndex) : error;
}
