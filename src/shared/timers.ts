import { InvalidOptionError } from '../errors.js';

/**
 * The longest delay a timer can hold: 2³¹ − 1 ms (about 24.8 days). Node and browsers fire a longer
 * one at once, so an option above it would end every wait immediately.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks a millisecond option: undefined (the default applies), `Infinity` (no limit), or a number
 * from `min` to {@link MAX_TIMER_MS}. Throws an InvalidOptionError that names the range.
 * @internal
 */
export function checkMilliseconds(owner: string, option: string, value: unknown, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (value === Infinity) return Infinity;
  if (typeof value !== 'number' || !(value >= min) || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(
      option,
      `a number of milliseconds from ${min} to ${MAX_TIMER_MS} (the most a timer can hold), or Infinity for no limit (${owner})`,
      value,
    );
  }
  return value;
}

/** A timer of ours never keeps a process alive by itself. @internal */
export function unrefTimer<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** Read once: in Node the global `performance` is a lazy getter, a cost at every read. */
const perf = globalThis.performance;
/** `performance.now()` without reading the global each time: for clocks read per element. @internal */
export const perfNow = (): number => perf.now();
