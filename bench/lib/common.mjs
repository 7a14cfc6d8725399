// Helpers shared by the benchmark scenarios: arguments, timing, statistics, a seeded PRNG, the
// result protocol with bench/run.mjs, and detection of schedulers that are not available.
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';

/** `--name=value`, `--name value` and `--flag` arguments as an object. */
export function parseArgs(argv = process.argv.slice(2)) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    if (m[2] !== undefined) args[m[1]] = m[2];
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) args[m[1]] = argv[++i];
    else args[m[1]] = true;
  }
  return args;
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url) {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === url;
}

export const cores = availableParallelism();

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function* range(n) {
  for (let i = 0; i < n; i++) yield i;
}

/** Groups an iterable into arrays of `size` (the last may be shorter). */
export function* chunks(iterable, size) {
  let chunk = [];
  for (const x of iterable) {
    chunk.push(x);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Busy-loops for `ms` of wall time: CPU work whose length other processes on the machine cannot stretch. */
export function burn(ms) {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins++;
  return spins;
}

/** Sum of `x + 1` for x in 0..n-1: the checksum of the trivial-function scenarios. */
export const incChecksum = (n) => (n * (n - 1)) / 2 + n;

/** Wall time and CPU time (all threads of this process) of `fn`. */
export async function measure(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuCores: (cpu.user + cpu.system) / 1000 / ms, result };
}

/**
 * Calls `submit(i)` for i in 0..n-1 with at most `inFlight` calls outstanding, and resolves with
 * the sum and count of what they resolved to. How the benchmark feeds pools that have no bounded
 * input of their own (piscina, tinypool, workerpool): a user streaming into them would do the same.
 */
export function windowed(n, inFlight, submit) {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    let sum = 0;
    let failed = false;
    const onValue = (v) => {
      sum += v;
      done++;
      if (next < n) start();
      else if (done === n) resolve({ count: done, sum });
    };
    const onError = (e) => {
      if (!failed) reject(e);
      failed = true;
    };
    const start = () => submit(next++).then(onValue, onError);
    if (n === 0) return resolve({ count: 0, sum: 0 });
    for (let i = 0; i < Math.min(inFlight, n); i++) start();
  });
}

/**
 * Subscribes and resolves with the count and sum of the values: numbers, or arrays of numbers
 * (`unpack` turns a value into one of these first).
 */
export function drain(obs$, unpack) {
  return new Promise((resolve, reject) => {
    let count = 0;
    let sum = 0;
    obs$.subscribe({
      next: (value) => {
        const v = unpack ? unpack(value) : value;
        if (Array.isArray(v)) {
          count += v.length;
          for (const x of v) sum += x;
        } else {
          count++;
          sum += v;
        }
      },
      error: reject,
      complete: () => resolve({ count, sum }),
    });
  });
}

/**
 * Tries to make one of our schedulers. The thread and process schedulers may not be built yet on
 * a branch: then the scenario reports the row as skipped instead of failing.
 * @returns `{ scheduler }` or `{ skipped: 'thread scheduler not available' }`.
 */
export async function tryScheduler(lib, kind, options) {
  const make = kind === 'thread' ? lib.threadScheduler : lib.processScheduler;
  try {
    return { scheduler: make(options) };
  } catch {
    return { skipped: `${kind} scheduler not available` };
  }
}

/** Whether `scheduler: 'thread' | 'process'` can be used (a throwaway instance is made and closed). */
export async function schedulerAvailable(lib, kind) {
  const made = await tryScheduler(lib, kind, { workers: 1 });
  if (made.scheduler) await made.scheduler.close();
  return made.skipped;
}

/** A seeded PRNG (mulberry32) over 32-bit state. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform number in [0, 1) determined by the seed and the keys alone, wherever it is computed. */
export function hashUniform(seed, ...keys) {
  let h = seed >>> 0;
  for (const k of keys) h = Math.imul(h ^ (k >>> 0), 0x9e3779b1) ^ (h >>> 16);
  return mulberry32(h)();
}

/** Prints one run's result for bench/run.mjs (the last stdout line beginning with `@@result `). */
export function emitResult(result) {
  process.stdout.write(`@@result ${JSON.stringify(result)}\n`);
}

/** Progress and notes go to stderr, which the runner passes through. */
export const log = (...args) => console.error(...args);

/** A row's check: `count` elements came back with the expected checksum. */
export function row(id, value, { count, expected, sum, expectedSum, ...extra } = {}) {
  const ok = count === expected && (expectedSum === undefined || sum === expectedSum);
  return { id, value, count, expected, ok, ...extra };
}

export const skippedRow = (id, reason) => ({ id, skipped: reason });

/** `ids` in an order that rotates with the run, so that no library always goes first (or last). */
export function rotated(ids, run) {
  const rot = run % ids.length;
  return [...ids.slice(rot), ...ids.slice(0, rot)];
}

/**
 * How long, in ms, a row's timed runs may take together before it stops repeating them: a row whose
 * one timed run is short (most rows of the dispatch and engine scenarios: 30–200 ms) is timed
 * several times, a row whose run is long (a `batchSize: 1` row, a CPU-bound one) once or twice.
 */
export const REPEAT_BUDGET_MS = 1_500;

/**
 * The in-process timing of the rate scenarios (dispatch, engine, cpu, long, pipeline): each library
 * in turn is made, warmed, timed over its count of elements, checked and closed. `plan(id, made)`
 * gives the run's `{ count, warm, warmRuns, expectedSum, repeat }` (`warmRuns` runs of `warm`
 * elements, each a new pipeline, 1 by default; the sum defaults to that of `x + 1`);
 * `describe(r, count)` the tail of the library's log line.
 *
 * `repeat` (1 by default): the row is timed up to that many times, each a new pipeline, while its
 * timed runs have taken less than {@link REPEAT_BUDGET_MS} together, and to an odd count; its figure
 * is the median run (its rate, time and CPU), and every run must come back
 * right. On a shared machine a row's timed runs differ by tens of percent; one timed run per row
 * makes a ratio of two rows as noisy as two such samples, the median of several far less so. The
 * rates of all of them are kept (`timed`).
 *
 * `interleave`: libraries timed together. `true` for all of them, or groups of ids (`[['task',
 * 'p-map']]`): the libraries of a group are made and warmed first, then timed in rounds, one run of
 * each per round (in an order that rotates by the round), so that their runs share the host's slow
 * and fast seconds alike; the group takes the place of its first member in the run's order, and
 * every other library is timed alone (a group's ids not in `ids` are left out; an id in two groups,
 * or naming no library, throws). Only for libraries that share no code (the engine and its
 * baseline build; one row of ours and peers): where they do, V8 would optimize the shared code for
 * all of them before any is timed.
 */
export async function timeLibraries(libraries, { ids = Object.keys(libraries), run, plan, describe, interleave = false }) {
  const rows = new Map();
  const order = rotated(ids, run);
  /** A library made and warmed, or undefined (skipped: its row is set). */
  const prepare = async (id) => {
    const made = await libraries[id]();
    if (made.skipped) {
      log(`  ${id}: skipped: ${made.skipped}`);
      rows.set(id, skippedRow(id, made.skipped));
      return undefined;
    }
    try {
      const { count, warm, warmRuns = 1, repeat = 1, expectedSum = incChecksum(count) } = plan(id, made);
      for (let i = 0; i < warmRuns && warm > 0; i++) await made.run(warm);
      return { id, made, count, repeat, expectedSum, timed: [], spent: 0 };
    } catch (error) {
      await made.close?.();
      throw error;
    }
  };
  // Past the budget a row still gets a third run rather than stop at two: an odd count has a true
  // middle (of two, the slower would be its figure, which for a slow peer would favour ours).
  const wantsMore = (e) => e.timed.length === 0 || (e.timed.length < e.repeat && (e.spent < REPEAT_BUDGET_MS || e.timed.length % 2 === 0));
  const timeOnce = async (e) => {
    const m = await measure(() => e.made.run(e.count));
    e.timed.push(row(e.id, (e.count / m.ms) * 1000, { ...m.result, expected: e.count, expectedSum: e.expectedSum, ms: m.ms, cpuCores: m.cpuCores }));
    e.spent += m.ms;
  };
  const settle = (e) => {
    const { timed } = e;
    const mid = [...timed].sort((a, b) => a.value - b.value)[(timed.length - 1) >> 1];
    const r = { ...mid, ok: timed.every((t) => t.ok), ...(timed.length > 1 ? { timed: timed.map((t) => Math.round(t.value)) } : {}) };
    log(`  ${e.id}: ${describe(r, e.count)}${timed.length > 1 ? ` (median of ${timed.length})` : ''}${r.ok ? '' : '  WRONG RESULT'}`);
    rows.set(e.id, r);
  };
  // Each unit is timed together: a group of `interleave`, or one library alone.
  const groups = interleave === true ? [ids] : interleave || [];
  // A library in two groups would be made and timed twice (its row the last); a misspelt id, never paired.
  const inGroup = new Set();
  for (const id of groups.flat()) {
    if (!(id in libraries)) throw new Error(`interleave: "${id}" is no library (${Object.keys(libraries).join(', ')})`);
    if (inGroup.has(id)) throw new Error(`interleave: "${id}" is in two groups`);
    inGroup.add(id);
  }
  const units = [];
  const grouped = new Set();
  for (const id of order) {
    if (grouped.has(id)) continue;
    const group = groups.find((g) => g.includes(id));
    const unit = group ? order.filter((other) => group.includes(other)) : [id];
    unit.forEach((member) => grouped.add(member));
    units.push(unit);
  }
  for (const unit of units) {
    const entries = [];
    try {
      for (const id of unit) {
        const e = await prepare(id);
        if (e) entries.push(e);
      }
      for (let round = 0; entries.some(wantsMore); round++) for (const e of rotated(entries, round)) if (wantsMore(e)) await timeOnce(e);
      entries.forEach(settle);
    } finally {
      // Every one is closed, even past one whose close fails (that failure is reported after).
      let closeFailed;
      for (const e of entries) {
        try {
          await e.made.close?.();
        } catch (error) {
          closeFailed ??= { error };
        }
      }
      if (closeFailed) throw closeFailed.error;
    }
  }
  return order.map((id) => rows.get(id));
}
