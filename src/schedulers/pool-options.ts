import { InvalidOptionError } from '../errors.js';
import { checkMilliseconds } from '../shared/timers.js';

/** Defaults shared by the thread and process schedulers. */
export const POOL_DEFAULTS = Object.freeze({
  cancelGrace: 1000,
  startTimeout: 30_000,
  endTimeout: 10_000,
  prefetch: 4,
});

/** What both pools take from their options, with the defaults applied (`workers` stays optional). @internal */
export function poolSettings(o: { workers?: number; cancelGrace?: number; startTimeout?: number; endTimeout?: number; prefetch?: number }): {
  workers: number | undefined;
  cancelGrace: number;
  startTimeout: number;
  endTimeout: number;
  prefetch: number;
} {
  return {
    workers: o.workers,
    cancelGrace: o.cancelGrace ?? POOL_DEFAULTS.cancelGrace,
    startTimeout: o.startTimeout ?? POOL_DEFAULTS.startTimeout,
    endTimeout: o.endTimeout ?? POOL_DEFAULTS.endTimeout,
    prefetch: o.prefetch ?? POOL_DEFAULTS.prefetch,
  };
}

/** Checks a scheduler's options object: known keys only, each of the right kind. @internal */
export function checkPoolOptions(scheduler: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new InvalidOptionError('options', `an object of ${scheduler} options`, options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw new InvalidOptionError(key, `one of the ${scheduler} options ${known.join(', ')} (unknown option)`, o[key]);
  }
  if (o.workers !== undefined) integer('workers', o.workers, 1);
  if (o.prefetch !== undefined) integer('prefetch', o.prefetch, 0);
  for (const key of ['cancelGrace', 'startTimeout', 'endTimeout'] as const) checkMilliseconds(scheduler, key, o[key]);
  if (o.execArgv !== undefined && (!Array.isArray(o.execArgv) || o.execArgv.some((a) => typeof a !== 'string'))) {
    throw new InvalidOptionError('execArgv', 'an array of strings', o.execArgv);
  }
  for (const key of ['env', 'resourceLimits'] as const) {
    if (o[key] !== undefined && (typeof o[key] !== 'object' || o[key] === null)) throw new InvalidOptionError(key, 'an object', o[key]);
  }
  if (o.createWorker !== undefined && typeof o.createWorker !== 'function') {
    throw new InvalidOptionError('createWorker', 'a function that returns a Worker', o.createWorker);
  }
  if (o.workerEntry !== undefined) {
    if (!isFileLocation(o.workerEntry)) {
      throw new InvalidOptionError(
        'workerEntry',
        'a file: URL or an absolute path (a relative path would depend on the working directory; use path.join(__dirname, …) or new URL(…, import.meta.url))',
        o.workerEntry,
      );
    }
    if (o.createWorker !== undefined) {
      throw new InvalidOptionError('workerEntry', 'left out when `createWorker` is given (the worker it makes runs its own file)', o.workerEntry);
    }
  }
  return o;
}

/** A `file:` URL (object or string) or an absolute POSIX or Windows path. */
function isFileLocation(value: unknown): value is string | URL {
  if (value instanceof URL) return value.protocol === 'file:';
  if (typeof value !== 'string') return false;
  return value.startsWith('file:') || value.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(value) || value.startsWith('\\\\');
}

function integer(option: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new InvalidOptionError(option, `an integer ≥ ${min}`, value);
}
