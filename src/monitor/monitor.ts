import { Observable, type Subscriber } from 'rxjs';
import { InvalidOptionError, type ElementIndex } from '../errors.js';
import type { StageGauges, StageProbe } from '../core/probe.js';
import { importModule } from '../internal/import-module.js';
import { Histogram } from './histogram.js';
import { Timeline, TimelineClock } from './timeline.js';
import { perfNow } from '../shared/timers.js';
import type { ReportOptions } from './report.js';

/** Options of {@link Monitor}. */
export interface MonitorOptions {
  /**
   * Milliseconds between two snapshots on `stats$` while a stage runs.
   * @default 250
   */
  interval?: number;
  /**
   * The clock every duration is measured with, in milliseconds. Inject one to make latencies exact
   * in tests.
   * @default () => performance.now()
   */
  clock?: () => number;
  /**
   * Which elements have their queue wait and run time measured (counters always count every
   * element). `'all'`: every one, at three clock reads each (about the per-element cost of a
   * trivial task-scheduler stage). `'auto'`: every one while a stage passes fewer than 10,000
   * elements a second; past 50,000 a second one in 2, 4, ... up to one in 256, so that a fast stage
   * does not pay for the clock. Then latencies are a sample and utilisation is summed at the timed
   * events only.
   * @default 'auto'
   */
  timing?: 'auto' | 'all';
}

/** Durations of one kind (queue wait or run time) in a stage, in milliseconds. */
export interface LatencyStats {
  /** Samples: elements (or retries) that waited, or calls that ran. */
  readonly count: number;
  /** Median, from the histogram: within max(1 µs, 1/256) of the exact value. 0 without samples. */
  readonly p50: number;
  /** 95th percentile, as accurate as `p50`. */
  readonly p95: number;
  /** 99th percentile, as accurate as `p50`. */
  readonly p99: number;
  /** Longest, exact. */
  readonly max: number;
  /** Mean, exact. */
  readonly mean: number;
}

/** Where a stage is: running (at least one subscription of it runs), or how it last ended. */
export type StageState = 'running' | 'complete' | 'error' | 'unsubscribed';

/**
 * One stage in a {@link MonitorSnapshot}. Counters count elements (not outputs, except `outputs`)
 * and always add up: `in === out + filtered + failed + dropped + cancelled + held`, where `held`
 * (elements queued, in work, or done and waiting to be emitted) is 0 once the stage has ended.
 */
export interface StageStats {
  /** The stage's `name` option (default: operator + '#' + counter). */
  readonly name: string;
  /** The operator, e.g. `'mapParallel'`. */
  readonly operator: string;
  /** The scheduler's kind: `'task'`, `'thread'`, `'process'`, `'sync'`, ... */
  readonly scheduler: string;
  /** Workers of the stage. */
  readonly workers: number;
  /** Elements that entered the stage. */
  readonly in: number;
  /** Elements that left with their outputs emitted (eachParallel: that ran fine). */
  readonly out: number;
  /** Values emitted downstream (flatMap: can differ from `out`). */
  readonly outputs: number;
  /** Elements that left without outputs: a falsy predicate, an empty flatMap result. */
  readonly filtered: number;
  /** Elements whose call failed for good (after retries) and were skipped or recovered by `onError`. */
  readonly failed: number;
  /** Elements dropped by the `overflow` policy. */
  readonly dropped: number;
  /** Elements still in the stage when it failed or was unsubscribed (with the one whose error failed it). */
  readonly cancelled: number;
  /** Re-runs after a failure or a timeout. */
  readonly retried: number;
  /** Calls that timed out (each counts, retried or not). */
  readonly timedOut: number;
  /** Elements in work now. */
  readonly inWork: number;
  /** Elements waiting in the stage's queue now. */
  readonly queued: number;
  /** Credits granted upstream and not used yet; `null` when the upstream pushes (no bound). */
  readonly creditsOutstanding: number | null;
  /**
   * How the stage's upstream delivers: `'pull'` (a `fromIterable` source or our stages, through
   * operators that deliver synchronously: credits pace it) or `'push'` (a plain Observable, or a
   * chain broken by an operator that delays or merges: `overflow` applies instead).
   */
  readonly upstream: 'pull' | 'push';
  /** From entering the stage's queue (or failing, for a retry) to being handed to a worker. */
  readonly queueWait: LatencyStats;
  /** From being handed to a worker to leaving it (a result, an error or a timeout). */
  readonly runTime: LatencyStats;
  /** Share of the stage's worker time spent in work, 0..1: busy worker-ms / (workers × ms running). */
  readonly utilisation: number;
  /** Running, or how the stage last ended. */
  readonly state: StageState;
}

/** What `stats$` emits and `report()` returns: plain data, JSON-serialisable. */
export interface MonitorSnapshot {
  /** Time during which at least one stage was running, summed over the monitor's life. */
  readonly elapsedMs: number;
  /** `out` of the pipeline's last stage (the first one subscribed) per second of `elapsedMs`. */
  readonly elementsPerSecond: number;
  /**
   * End-to-end latency: from a source element entering the pipeline's first stage (its queue) to
   * it leaving the last one with its output emitted (after a flatMap: the last of its outputs),
   * for the elements timed at the first stage (see `timing`). Elements filtered out, failed or
   * cancelled on the way are not counted.
   */
  readonly endToEnd: LatencyStats;
  /** One row per stage name, upstream first. */
  readonly stages: readonly StageStats[];
}

/**
 * Collects live statistics of the stages it is given to (the `monitor` option): counters, gauges,
 * latencies split into queue wait and run time, worker utilisation, and the pipeline's end-to-end
 * latency per element. One monitor serves a whole pipeline; give it to every stage you want to
 * see. `writeReport()` draws it all as an HTML page.
 *
 * Snapshots come on `stats$` every `interval` ms while a stage runs and someone listens, plus one
 * final snapshot when the last running stage ends; `report()` makes one at any time. A stage
 * subscribed several times (re-subscription, or inside a `mergeMap`) keeps one row, keyed by its
 * name, into which every subscription counts.
 *
 * ```ts
 * const monitor = new Monitor();
 * await run(fromIterable([1, 2, 3, 4]).pipe(
 *   mapParallel(async (x) => x * 2, { workers: 2, monitor, name: 'double' }),
 *   filterParallel(async (x) => x > 4, { monitor, name: 'big' }),
 * ));
 * console.log(monitor.report().stages.map((s) => [s.name, s.in, s.out, s.filtered]));
 * // [['double', 4, 4, 0], ['big', 4, 2, 2]]
 * ```
 * @see progress
 * @see writeReport
 */
export class Monitor {
  /**
   * Snapshots, every `interval` ms while at least one stage runs, and one final snapshot after
   * the last running stage ends (after its completion has reached the pipeline's subscriber).
   * Nothing is emitted, and no timer runs, while the monitor is idle or nobody listens. It never
   * completes: the same monitor can watch the next run of the pipeline.
   *
   * ```ts
   * monitor.stats$.subscribe((s) => console.log(s.elapsedMs, s.stages[0].out));
   * // 250.4 812
   * // 500.9 1630
   * // 612.2 2000   (the final snapshot)
   * ```
   */
  readonly stats$: Observable<MonitorSnapshot>;
  readonly #hub: Hub;

  /**
   * @param options `interval` between snapshots (ms, default 250) and the `clock` (default
   * `performance.now`).
   */
  constructor(options: MonitorOptions = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'an object', options);
    const interval = options.interval ?? 250;
    if (typeof interval !== 'number' || !(interval > 0) || !Number.isFinite(interval)) {
      throw new InvalidOptionError('interval', 'a finite number of milliseconds > 0', interval);
    }
    const clock = options.clock ?? defaultClock;
    if (typeof clock !== 'function') throw new InvalidOptionError('clock', 'a function returning milliseconds', clock);
    const timing = options.timing ?? 'auto';
    if (timing !== 'auto' && timing !== 'all') throw new InvalidOptionError('timing', "'auto' or 'all'", timing);
    const hub = new Hub(interval, clock, timing);
    this.#hub = hub;
    this.stats$ = new Observable<MonitorSnapshot>((subscriber) => hub.listen(subscriber));
  }

  /**
   * The statistics now, as plain JSON-serialisable data.
   *
   * ```ts
   * const { elapsedMs, stages } = monitor.report();
   * console.log(stages[0].runTime.p95);
   * // 12.03
   * ```
   * @returns A fresh {@link MonitorSnapshot}.
   */
  report(): MonitorSnapshot {
    return this.#hub.snapshot();
  }

  /** Whether at least one stage given this monitor is running now. */
  get running(): boolean {
    return this.#hub.live > 0;
  }

  /**
   * The statistics now as a self-contained HTML page (one file, no server, nothing fetched):
   * elements/s over time and worker utilisation over time per stage, histograms of queue wait,
   * run time and end-to-end latency, and a table that names the bottleneck stage. The charts are
   * drawn by uPlot, whose source is read from `node_modules` now and inlined into the page: Node
   * only, with the optional peer dependency `uplot` installed (`npm install uplot`).
   *
   * ```ts
   * await run(pipeline$);
   * await writeFile('report.html', await monitor.reportHtml({ title: 'nightly import' }));
   * ```
   * @param options `title` of the page.
   * @returns The page's HTML.
   * @throws {MissingDependencyError} When `uplot` cannot be found (not installed, or not on Node).
   * @see writeReport
   */
  async reportHtml(options: ReportOptions = {}): Promise<string> {
    const { renderReport } = await import('./report.js');
    return renderReport(this.#hub.reportData(), options);
  }

  /**
   * Writes {@link reportHtml}'s page to a file (Node only): open it in any browser.
   *
   * ```ts
   * await run(pipeline$);
   * await monitor.writeReport('report.html');
   * ```
   * @param file A path or `file:` URL.
   * @param options `title` of the page.
   * @returns When the file is written.
   * @throws {MissingDependencyError} When `uplot` cannot be found (not installed, or not on Node).
   */
  async writeReport(file: string | URL, options: ReportOptions = {}): Promise<void> {
    const html = await this.reportHtml(options);
    const fs = (await importModule('node:fs/promises')) as typeof import('node:fs/promises');
    await fs.writeFile(file, html);
  }

  /** The data the HTML report draws. @internal */
  reportData(): ReportData {
    return this.#hub.reportData();
  }

  /**
   * Called by a stage when it is subscribed, to get the probe it reports to. (A Monitor is the
   * internal StageMonitor of core/probe.ts by shape; the stage options check the fit.)
   * @internal
   */
  attach(stage: { name: string; scheduler: string; workers: number; operator: string }, gauges: StageGauges): StageProbe {
    return this.#hub.attach(stage, gauges);
  }
}

/** A monitor's state, out of the public class. */
class Hub {
  private readonly rows = new Map<string, Row>();
  /** Rows upstream first (see `attach`). */
  private readonly order: Row[] = [];
  /** Where rows attached in the current synchronous run go, or -1. */
  private burstAt = -1;
  /** The first stage ever attached: the outermost subscriber, i.e. the pipeline's last stage. */
  private sink: Row | undefined;
  /** Stage subscriptions running now. */
  live = 0;
  private activeSince = 0;
  private activeMs = 0;
  private readonly subscribers = new Set<Subscriber<MonitorSnapshot>>();
  private timer: unknown;
  private finalPending = false;
  /** The time axis of every stage's timeline. */
  readonly timeline = new TimelineClock(TIMELINE_WIDTH_MS);
  /**
   * End-to-end: the source elements on their way through the pipeline, each with its stamp at the
   * first stage and how many elements of it (itself, or its flatMap outputs) the monitored stages
   * hold. Only elements timed at the first stage are here, in the slot of the first number of
   * their index modulo FLIGHT_SLOTS: an array load and a compare per element, where a Map lookup
   * cost a tenth of a trivial stage's time per element. Two in flight in one slot (more than
   * FLIGHT_SLOTS elements apart, all held at once) keep the newer.
   */
  readonly flights = new Array<Flight | undefined>(FLIGHT_SLOTS).fill(undefined);
  /** Flights in `flights`, so that a pipeline's end clears them only when there are any. */
  private flying = 0;
  readonly endToEnd = new Histogram();
  /** The pipeline's first stage: upstream of every other (rows read upstream first). */
  first: Row | undefined;

  constructor(
    private readonly interval: number,
    readonly clock: () => number,
    readonly timing: 'auto' | 'all',
  ) {}

  attach(stage: { name: string; scheduler: string; workers: number; operator: string }, gauges: StageGauges): StageProbe {
    let row = this.rows.get(stage.name);
    if (!row) {
      row = new Row(stage.name, this.timeline);
      this.rows.set(stage.name, row);
      // A pipeline subscribes its last stage first and its first stage last, all in one synchronous
      // run: rows attached in one run are inserted before each other, so they read upstream first.
      if (this.burstAt < 0) {
        this.burstAt = this.order.length;
        queueMicrotask(() => (this.burstAt = -1));
      }
      this.order.splice(this.burstAt, 0, row);
      this.first = this.order[0];
      this.sink ??= row;
    }
    row.operator = stage.operator;
    row.scheduler = stage.scheduler;
    row.workers = stage.workers;
    const now = this.clock();
    if (Number.isNaN(this.timeline.origin)) this.timeline.origin = now;
    if (this.live++ === 0) this.activeSince = now;
    const run = new Run(this, row, gauges, stage.workers, now);
    row.live.add(run);
    this.schedule();
    return run;
  }

  /** A timed source element entered the first stage at `at`. */
  enter(root: number, at: number): void {
    const slot = root & FLIGHT_MASK;
    if (this.flights[slot] === undefined) this.flying++;
    this.flights[slot] = { root, at, held: 1, reached: false };
  }

  /** An element of `flight` left `row`; `out`: with outputs (or eachParallel's success). */
  leave(flight: Flight, row: Row, out: boolean): void {
    if (out && row === this.sink) flight.reached = true;
    if (--flight.held > 0) return; // its other elements (flatMap outputs) are still in a stage
    this.flights[flight.root & FLIGHT_MASK] = undefined;
    this.flying--;
    if (flight.reached) this.endToEnd.record(this.clock() - flight.at);
  }

  /** A stage subscription ended. */
  ended(now: number): void {
    if (--this.live > 0) return;
    // Elements lost on the way (a failure, an unsubscribe, a plain operator that dropped them) never leave.
    if (this.flying > 0) this.flights.fill(undefined);
    this.flying = 0;
    this.activeMs += now - this.activeSince;
    this.schedule();
    if (this.subscribers.size === 0 || this.finalPending) return;
    // The final snapshot waits for a microtask: the stage calls `ended` just before it completes
    // downstream, and the snapshot should come after the pipeline's subscriber has seen that.
    this.finalPending = true;
    queueMicrotask(() => {
      this.finalPending = false;
      if (this.live === 0) this.emit();
    });
  }

  listen(subscriber: Subscriber<MonitorSnapshot>): () => void {
    this.subscribers.add(subscriber);
    this.schedule();
    return () => {
      this.subscribers.delete(subscriber);
      this.schedule();
    };
  }

  /** A timer runs only while a stage runs and someone listens. */
  private schedule(): void {
    const wanted = this.live > 0 && this.subscribers.size > 0;
    if (wanted && this.timer === undefined) {
      const timer: any = setInterval(() => this.emit(), this.interval);
      if (typeof timer === 'object') timer.unref?.(); // never keeps a process alive
      this.timer = timer;
    } else if (!wanted && this.timer !== undefined) {
      clearInterval(this.timer as ReturnType<typeof setInterval>);
      this.timer = undefined;
    }
  }

  private emit(): void {
    if (this.subscribers.size === 0) return;
    const snapshot = this.snapshot();
    for (const subscriber of [...this.subscribers]) subscriber.next(snapshot);
  }

  snapshot(): MonitorSnapshot {
    const now = this.clock();
    const elapsedMs = this.activeMs + (this.live > 0 ? now - this.activeSince : 0);
    return {
      elapsedMs: round(elapsedMs, 1e3),
      elementsPerSecond: this.sink && elapsedMs > 0 ? round((this.sink.out * 1000) / elapsedMs, 1e2) : 0,
      endToEnd: latency(this.endToEnd),
      stages: this.order.map((row) => row.stats(now)),
    };
  }

  reportData(): ReportData {
    const snapshot = this.snapshot();
    const now = this.clock();
    // Bring the busy time of running stages up to now, so that their last buckets are complete.
    for (const row of this.order) for (const run of row.live) run.catchUp(now);
    return {
      snapshot,
      bucketMs: this.timeline.width,
      stages: this.order.map((row) => ({
        name: row.name,
        workers: row.workers,
        left: [...row.timeline.left],
        busy: [...row.timeline.busy],
        queueWait: row.queueWait,
        runTime: row.runTime,
      })),
      endToEnd: this.endToEnd,
    };
  }
}

/** Slots for elements on their way through a pipeline (end-to-end latency); a power of two. */
const FLIGHT_SLOTS = 4096;
const FLIGHT_MASK = FLIGHT_SLOTS - 1;

/** A source element on its way through the pipeline, for end-to-end latency. */
interface Flight {
  /** The first number of its index. */
  readonly root: number;
  /** Its stamp at the first stage. */
  readonly at: number;
  /** Elements of it that monitored stages hold now. */
  held: number;
  /** One of them left the last stage with its output. */
  reached: boolean;
}

/** Initial width of a timeline bucket (doubles as runs grow long: see Timeline). */
const TIMELINE_WIDTH_MS = 25;

/** What the HTML report draws. @internal */
export interface ReportData {
  readonly snapshot: MonitorSnapshot;
  /** Width of a timeline bucket, ms. */
  readonly bucketMs: number;
  readonly stages: ReadonlyArray<{
    readonly name: string;
    readonly workers: number;
    /** Elements that left the stage, per bucket. */
    readonly left: readonly number[];
    /** Busy worker-ms, per bucket. */
    readonly busy: readonly number[];
    readonly queueWait: Histogram;
    readonly runTime: Histogram;
  }>;
  readonly endToEnd: Histogram;
}

/** The statistics of one stage name, over all its subscriptions. */
class Row {
  operator = '';
  scheduler = '';
  workers = 0;
  in = 0;
  out = 0;
  outputs = 0;
  filtered = 0;
  failed = 0;
  dropped = 0;
  cancelled = 0;
  retried = 0;
  timedOut = 0;
  readonly queueWait = new Histogram();
  readonly runTime = new Histogram();
  /** Subscriptions running now. */
  readonly live = new Set<Run>();
  /** Busy and available worker-ms of the subscriptions that ended. */
  busyMs = 0;
  capacityMs = 0;
  last: StageState = 'running';
  /** Push once any subscription of the stage had a push upstream. */
  upstream: 'pull' | 'push' = 'pull';
  readonly timeline: Timeline;

  constructor(
    readonly name: string,
    clock: TimelineClock,
  ) {
    this.timeline = new Timeline(clock);
    clock.timelines.add(this.timeline);
  }

  stats(now: number): StageStats {
    let inWork = 0;
    let queued = 0;
    let credits = 0;
    let busy = this.busyMs;
    let upstream = this.upstream;
    let capacity = this.capacityMs;
    for (const run of this.live) {
      inWork += run.gauges.inWork;
      queued += run.gauges.queued;
      credits += run.gauges.creditsOutstanding;
      if (run.gauges.upstream === 'push') upstream = this.upstream = 'push';
      busy += run.busyUntil(now);
      capacity += run.workers * (now - run.startedAt);
    }
    return {
      name: this.name,
      operator: this.operator,
      scheduler: this.scheduler,
      workers: this.workers,
      in: this.in,
      out: this.out,
      outputs: this.outputs,
      filtered: this.filtered,
      failed: this.failed,
      dropped: this.dropped,
      cancelled: this.cancelled,
      retried: this.retried,
      timedOut: this.timedOut,
      inWork,
      queued,
      creditsOutstanding: Number.isFinite(credits) ? credits : null,
      upstream,
      queueWait: latency(this.queueWait),
      runTime: latency(this.runTime),
      utilisation: capacity > 0 ? round(Math.min(1, busy / capacity), 1e4) : 0,
      state: this.live.size > 0 ? 'running' : this.last,
    };
  }
}

const QUANTILES = [0.5, 0.95, 0.99];

/** Durations are reported to the microsecond, below which the clock is noise anyway. */
function latency(h: Histogram): LatencyStats {
  const [p50, p95, p99] = h.quantiles(QUANTILES);
  const ms = (x: number) => round(x, 1e3);
  return { count: h.count, p50: ms(p50), p95: ms(p95), p99: ms(p99), max: ms(h.max), mean: h.count > 0 ? ms(h.sum / h.count) : 0 };
}

function round(x: number, scale: number): number {
  return Math.round(x * scale) / scale;
}

/** `timing: 'auto'`: time fewer elements when elements leave a stage faster than this (ms apart)... */
const FAST_MS = 0.02;
/** ...and more again when they leave slower than this. */
const SLOW_MS = 0.1;
/** Time at least one element in this many. */
const MAX_EVERY = 256;
/**
 * The clock of a Monitor without one: one function for every Monitor, so that the engine code that
 * calls it stays optimized from one monitored pipeline to the next (a closure per Monitor was a new
 * call target each time, and V8 threw that code away).
 */
const defaultClock = perfNow;
/** Elements over which the pace is measured. */
const WINDOW = 64;

/**
 * One subscription of one stage: the probe its engine reports to. Counters count every element;
 * the clock (about 90 ns a read here, three per element) is read for the timed elements only: all
 * of them with `timing: 'all'`, else one in `every`, where `every` doubles while elements leave
 * the stage less than FAST_MS apart on average over a WINDOW of elements, and halves while they
 * leave more than SLOW_MS apart. The stage
 * calls `started` and `finished` only for timed elements (`received` returned a stamp).
 */
class Run implements StageProbe {
  private readonly clock: () => number;
  private readonly auto: boolean;
  /** Time one element in `every`... */
  private every = 1;
  /** ...when this reaches 0. */
  private countdown = 1;
  /** Busy worker-ms up to `last`: ∫ min(inWork, workers) dt, summed at each clock read. */
  private busy = 0;
  private last: number;
  /** Elements that left; their number and the time when the current window began. */
  private leaves = 0;
  private leavesThen = 0;
  private windowAt: number;
  private done = false;
  /** Elements that left since the last clock read, for the timeline. */
  private leftSinceRead = 0;

  constructor(
    private readonly hub: Hub,
    private readonly row: Row,
    readonly gauges: StageGauges,
    readonly workers: number,
    readonly startedAt: number,
  ) {
    this.clock = hub.clock;
    this.auto = hub.timing === 'auto';
    this.last = startedAt;
    this.windowAt = startedAt;
  }

  busyUntil(now: number): number {
    return this.busy + Math.min(this.gauges.inWork, this.workers) * (now - this.last);
  }

  received(index: ElementIndex): number | undefined {
    const row = this.row;
    const hub = this.hub;
    row.in++;
    let stamp: number | undefined;
    if (--this.countdown <= 0) {
      this.countdown = this.every;
      stamp = this.clock();
    }
    // End-to-end: the first stage stamps the elements it times; later stages count what they hold of them.
    const root = index[0];
    if (row === hub.first) {
      if (stamp !== undefined) hub.enter(root, stamp);
    } else {
      const flight = hub.flights[root & FLIGHT_MASK];
      if (flight !== undefined && flight.root === root) flight.held++;
    }
    return stamp;
  }

  started(count: number, enqueuedAt: number): number {
    const now = this.clock();
    this.row.queueWait.record(now - enqueuedAt, count);
    this.catchUp(now);
    return now;
  }

  /**
   * Adds the busy time up to `now` (a clock read made anyway) to the total and the timeline, and
   * the elements that left since the last read to the timeline, at that read's time.
   */
  catchUp(now: number): void {
    if (this.leftSinceRead > 0) {
      this.row.timeline.leave(this.last, this.leftSinceRead);
      this.leftSinceRead = 0;
    }
    const busy = this.busyUntil(now);
    this.row.timeline.work(this.last, now, busy - this.busy);
    this.busy = busy;
    this.last = now;
  }

  finished(startedAt: number): number {
    const now = this.clock();
    this.row.runTime.record(now - startedAt);
    this.catchUp(now);
    if (this.auto && this.leaves - this.leavesThen >= WINDOW) {
      // Over a window of elements, so that workers finishing in bunches (timers firing together)
      // do not look fast.
      const apart = (now - this.windowAt) / (this.leaves - this.leavesThen);
      this.windowAt = now;
      this.leavesThen = this.leaves;
      if (apart < FAST_MS) this.every = Math.min(MAX_EVERY, this.every * 2);
      else if (apart > SLOW_MS) this.every = Math.max(1, this.every / 2);
    }
    return now;
  }

  retried(): void {
    this.row.retried++;
  }

  timedOut(): void {
    this.row.timedOut++;
  }

  left(how: 'emitted' | 'filtered' | 'failed' | 'dropped', outputs: number, index: ElementIndex): void {
    const row = this.row;
    // Into the timeline at the next clock read (catchUp), with no clock read or bucket per element.
    this.leftSinceRead++;
    const root = index[0];
    const flight = this.hub.flights[root & FLIGHT_MASK];
    if (flight !== undefined && flight.root === root) this.hub.leave(flight, row, how === 'emitted' || outputs > 0);
    // An unsubscribe from inside the emission of an element's value (take(n)) ends the stage before
    // that element leaves it: it was counted as cancelled, but it did get out.
    if (this.done) row.cancelled--;
    this.leaves++;
    row.outputs += outputs;
    if (how === 'emitted') row.out++;
    else if (how === 'filtered') row.filtered++;
    else if (how === 'failed') row.failed++;
    else row.dropped++;
  }

  ended(how: 'complete' | 'error' | 'unsubscribe'): void {
    if (this.done) return;
    this.done = true;
    const now = this.clock();
    const row = this.row;
    row.cancelled += this.gauges.held; // still in the stage: they will never leave it
    if (this.gauges.upstream === 'push') row.upstream = 'push';
    this.catchUp(now);
    row.busyMs += this.busy;
    row.capacityMs += this.workers * (now - this.startedAt);
    row.live.delete(this);
    row.last = how === 'unsubscribe' ? 'unsubscribed' : how;
    this.hub.ended(now);
  }
}
