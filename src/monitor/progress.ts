import { InvalidOptionError } from '../errors.js';
import type { Monitor, MonitorSnapshot, StageStats } from './monitor.js';

/** Where {@link progress} draws: a terminal stream such as `process.stderr`. */
export interface ProgressStream {
  /** Drawn on only when true. */
  readonly isTTY?: boolean;
  /** Width of the terminal; lines are cut to fit. 80 when absent or 0. */
  readonly columns?: number;
  write(text: string): unknown;
}

/** Options of {@link progress}. */
export interface ProgressOptions {
  /**
   * Elements the source will produce. With it each line has a bar, a percentage and an ETA; the
   * totals of later stages are estimated from what the stages before them emit per element.
   * @default undefined (counts and rates only)
   */
  total?: number;
  /**
   * Where to draw. Nothing is written unless `stream.isTTY` is true.
   * @default process.stderr (when there is a `process`)
   */
  stream?: ProgressStream;
}

/** What {@link progress} returns. */
export interface ProgressHandle {
  /** Stops drawing (it stops by itself after the monitor's final snapshot). */
  stop(): void;
}

/**
 * Draws a progress bar per stage of a monitored pipeline on a terminal (stderr by default),
 * redrawn in place at each snapshot of `monitor.stats$`, with counts, rate and, when `total` is
 * known, a bar and an ETA. Writes nothing when the stream is not a TTY (a log file, CI).
 *
 * ```ts
 * const monitor = new Monitor();
 * progress(monitor, { total: 10_000 });
 * await run(fromIterable(ids).pipe(mapParallel(fetchRow, { workers: 8, monitor, name: 'fetch' })));
 * // fetch [██████████████░░░░░░░░░░]  58%  5840/10000  1.2k/s  ETA 0:03
 * ```
 * @param monitor The monitor given to the pipeline's stages.
 * @param options `total` elements of the source, and the `stream` to draw on.
 * @returns A handle to `stop()` drawing early.
 * @see Monitor
 */
export function progress(monitor: Monitor, options: ProgressOptions = {}): ProgressHandle {
  if (!monitor || typeof monitor !== 'object' || !('stats$' in monitor)) throw new InvalidOptionError('monitor', 'a Monitor', monitor);
  const { total } = options;
  if (total !== undefined && (typeof total !== 'number' || !Number.isInteger(total) || total < 0)) {
    throw new InvalidOptionError('total', 'an integer ≥ 0', total);
  }
  const stream = options.stream ?? (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
  if (stream !== undefined && (stream === null || typeof stream.write !== 'function')) {
    throw new InvalidOptionError('stream', 'a stream with write()', stream);
  }
  if (!stream?.isTTY) return { stop() {} };
  let drawn = 0;
  const subscription = monitor.stats$.subscribe((snapshot) => {
    const lines = render(snapshot, total, stream.columns || 80); // a pty without a size says 0
    // Back to the first line of the previous frame, then each line cleared and redrawn.
    let text = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const line of lines) text += `\x1b[2K${line}\n`;
    drawn = lines.length;
    stream.write(text);
    if (snapshot.stages.every((s) => s.state !== 'running')) subscription.unsubscribe(); // the final snapshot
  });
  return { stop: () => subscription.unsubscribe() };
}

/** The lines of one frame, each at most `columns - 1` characters. @internal */
export function render(snapshot: MonitorSnapshot, total: number | undefined, columns: number): string[] {
  const nameWidth = Math.max(0, ...snapshot.stages.map((s) => s.name.length));
  const seconds = snapshot.elapsedMs / 1000;
  let expected = total;
  return snapshot.stages.map((s) => {
    const done = s.out + s.filtered + s.failed + s.dropped + s.cancelled;
    const rate = seconds > 0 ? done / seconds : 0;
    const name = s.name.padEnd(nameWidth);
    const tail = `${rateText(rate)}/s${s.failed > 0 ? `  ${s.failed} failed` : ''}`;
    if (expected === undefined) {
      return cut(`${name}  ${done} done  ${tail}  ${s.inWork} in work  ${s.queued} queued${endText(s)}`, columns);
    }
    const goal = s.state === 'complete' ? s.in : Math.max(expected, s.in);
    const eta = s.state !== 'running' ? endText(s).trim() : rate > 0 ? `ETA ${duration((goal - done) / rate)}` : 'ETA --';
    const text = `${percent(done, goal)}  ${done}/${goal}  ${tail}  ${eta}`;
    const width = Math.max(10, Math.min(30, columns - 1 - nameWidth - text.length - 5));
    const full = goal > 0 ? Math.round((width * done) / goal) : width;
    // The next stage gets what this one emits per element (exact once this one is complete).
    expected = s.state === 'complete' ? s.outputs : done > 0 ? Math.round((goal * s.outputs) / done) : goal;
    return cut(`${name} [${'█'.repeat(full)}${'░'.repeat(width - full)}] ${text}`, columns);
  });
}

function endText(s: StageStats): string {
  return s.state === 'running' ? '' : s.state === 'complete' ? '  done' : s.state === 'error' ? '  failed' : '  stopped';
}

function percent(done: number, goal: number): string {
  return `${goal > 0 ? Math.floor((100 * done) / goal) : 100}%`.padStart(4);
}

function rateText(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n < 10 ? 1 : 0);
}

/** `m:ss`, or `h:mm:ss` from an hour. */
function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

function cut(line: string, columns: number): string {
  return line.length < columns ? line : line.slice(0, Math.max(1, columns - 1));
}
