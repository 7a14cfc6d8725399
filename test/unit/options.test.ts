import { describe, expect, it } from 'vitest';
import {
  eachParallel,
  filterParallel,
  flatMapOrdered,
  flatMapParallel,
  fromIterable,
  InvalidOptionError,
  mapParallel,
  STAGE_DEFAULTS,
  toAsyncIterable,
} from 'rxjs-parallel';
import { from } from 'rxjs';

const fn = (x: any) => x;

const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['workers', { workers: 0 }, 'an integer ≥ 1', /got `0` \(number\)/],
  ['workers', { workers: 1.5 }, 'an integer ≥ 1', /got `1.5` \(number\)/],
  ['workers', { workers: '4' }, 'an integer ≥ 1', /got `"4"` \(string\)/],
  ['maxsize', { maxsize: -1 }, 'an integer ≥ 0', /got `-1`/],
  ['scheduler', { scheduler: 'threads' }, "a Scheduler or one of 'task', 'thread', 'process', 'sync'", /`"threads"`/],
  ['ordered', { ordered: 'yes' }, 'a boolean', /`"yes"`/],
  ['timeout', { timeout: 0 }, 'a number of milliseconds > 0 and ≤ 2147483647 (the most a timer can hold), or Infinity for none', /`0`/],
  ['timeout', { timeout: 2 ** 31 }, 'a number of milliseconds > 0 and ≤ 2147483647 (the most a timer can hold), or Infinity for none', /2147483648/],
  ['onError', { onError: 'ignore' }, "'throw', 'skip' or a function (err, value, ctx) => replacement", /`"ignore"`/],
  ['retries', { retries: -2 }, 'an integer ≥ 0', /`-2`/],
  ['onStart', { onStart: 42 }, 'a function or a task() reference', /`42`/],
  ['onEnd', { onEnd: {} }, 'a function or a task() reference', /`\{\}`/],
  ['batchSize', { batchSize: 0 }, "an integer ≥ 1 or 'auto'", /`0`/],
  ['overflow', { overflow: 'drop' }, "'buffer', 'error', 'dropOldest', 'dropNewest'", /`"drop"`/],
  ['name', { name: '' }, 'a non-empty string', /`""`/],
  ['monitor', { monitor: {} }, 'a Monitor', /`\{\}`/],
];

describe('option validation, when the operator is called', () => {
  it.each(bad)('rejects a bad `%s` naming the option, the expected and the received value', (option, options, expected, received) => {
    let thrown: unknown;
    try {
      mapParallel(fn, options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    const e = thrown as InvalidOptionError;
    expect(e.option).toBe(option);
    expect(e.expected).toBe(expected);
    expect(e.received).toEqual(options[option]);
    expect(e.message).toContain(`Expected \`${option}\` to be ${expected}, got`);
    expect(e.message).toMatch(received);
  });

  it('rejects unknown options and a missing function on every operator', () => {
    for (const op of [mapParallel, filterParallel, flatMapParallel, flatMapOrdered, eachParallel] as Array<(fn: unknown, o?: unknown) => unknown>) {
      expect(() => op(fn, { wokers: 2 } as never)).toThrow(InvalidOptionError);
      expect(() => op(42 as never)).toThrow(/Expected `fn` to be a function or a task\(\) reference, got `42` \(number\)/);
    }
  });

  it('takes `ordered` on map and filter only', () => {
    expect(() => flatMapParallel(fn, { ordered: true } as never)).toThrow(InvalidOptionError);
    expect(() => eachParallel(fn, { ordered: true } as never)).toThrow(InvalidOptionError);
    expect(() => filterParallel(fn, { ordered: true })).not.toThrow();
  });

  it('validates sources and sinks', () => {
    expect(() => fromIterable(42 as never)).toThrow(InvalidOptionError);
    expect(() => toAsyncIterable(from([1]), { maxsize: 0 })).toThrow(InvalidOptionError);
  });

  it('documents its defaults in one frozen object', () => {
    expect(Object.isFrozen(STAGE_DEFAULTS)).toBe(true);
    expect(STAGE_DEFAULTS).toMatchObject({ workers: undefined, scheduler: 'task', ordered: false, onError: 'throw', retries: 0, batchSize: 1, overflow: 'buffer' });
  });

  it('starts nothing when the operator is called, only on subscribe', () => {
    let starts = 0;
    const op = mapParallel(fn, { workers: 3, onStart: () => void starts++ });
    const piped = from([1]).pipe(op);
    expect(starts).toBe(0);
    expect(piped).toBeDefined();
  });
});
