// What crosses back when something fails in a worker: the original error rebuilt (class, message,
// stack, cause chain, own fields), values that cannot be cloned, and functions that cannot be sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import {
  isTaskRef,
  mapParallel,
  SKIP,
  StageError,
  task,
  UncloneableValueError,
  WorkerFunctionError,
} from 'rxjs-parallel';
import { startBus, type Bus } from '../support/bus.js';
import { record } from '../support/util.js';

const fixture = new URL('../fixtures/workers.mjs', import.meta.url);
const throwing = task<{ i: number; kind: string }, number>(fixture, 'throwing');
const uncloneable = task<{ i: number; bad?: string }, number>(fixture, 'uncloneable');

/** The error `fn` threw for one element, as the stage reports it. */
async function causeOf(scheduler: 'thread' | 'process', kind: string): Promise<any> {
  const { error } = await record(from([{ i: 1, kind }]).pipe(mapParallel(throwing, { scheduler }))).result;
  expect(error).toBeInstanceOf(StageError);
  expect((error as StageError).phase).toBe('fn');
  expect((error as StageError).elementIndex).toEqual([0]);
  return (error as StageError).cause;
}

describe.each(['thread', 'process'] as const)('%s scheduler: errors', (scheduler) => {
  let bus: Bus;
  beforeAll(async () => {
    bus = await startBus(); // workers.mjs connects to it on first use only; started for symmetry
  });
  afterAll(() => bus.close());

  describe('an error thrown in the worker arrives as the original', () => {
    it('a custom class: name, message, stack, own fields and the whole cause chain', async () => {
      const e = await causeOf(scheduler, 'custom');
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe('DatabaseError');
      expect(e.message).toBe('query 1 failed');
      expect(e.code).toBe('E_DB');
      expect(e.retryable).toBe(true);
      expect(e.stack).toContain('DatabaseError: query 1 failed');
      expect(e.stack).toContain('workers.mjs'); // the worker's stack, not one made on this side
      expect(e.cause).toBeInstanceOf(TypeError);
      expect(e.cause.message).toBe('socket closed');
      expect(e.cause.cause).toBeInstanceOf(Error);
      expect(e.cause.cause.message).toBe('ECONNRESET');
    });

    it('built-in classes are real instances, with their fields', async () => {
      const type = await causeOf(scheduler, 'type');
      expect(type).toBeInstanceOf(TypeError);
      expect(type.message).toBe('not a number: 1');
      const range = await causeOf(scheduler, 'range');
      expect(range).toBeInstanceOf(RangeError);
      expect(range.code).toBe('E_RANGE');
      expect(range.detail).toEqual({ min: 0, max: 9 });
      const aggregate = await causeOf(scheduler, 'aggregate');
      expect(aggregate).toBeInstanceOf(AggregateError);
      expect(aggregate.errors.map((x: Error) => x.message)).toEqual(['first', 'second']);
      expect(aggregate.errors[1]).toBeInstanceOf(TypeError);
    });

    it('a thrown non-error value arrives as is', async () => {
      expect(await causeOf(scheduler, 'string')).toBe('a thrown string');
    });

    it('a ReferenceError from a TaskRef stays a ReferenceError', async () => {
      expect(await causeOf(scheduler, 'reference')).toBeInstanceOf(ReferenceError);
    });
  });

  it("onError 'throw' lets out what finished before the failure in the same batch, as in-process", async () => {
    // One worker, one batch of four: 0 and 1 finish before 2 throws; they are not lost with the batch.
    const failAt2 = (x: number) => {
      if (x === 2) throw new Error('two');
      return x;
    };
    for (const ordered of [false, true]) {
      const { values, error } = await record(from([0, 1, 2, 3]).pipe(mapParallel(failAt2, { scheduler, workers: 1, batchSize: 4, ordered }))).result;
      expect(values).toEqual([0, 1]);
      expect(error).toBeInstanceOf(StageError);
      expect((error as StageError).elementIndex).toEqual([2]);
    }
  });

  describe('values that cannot be cloned fail their element only', () => {
    it('an element holding a function or a Symbol', async () => {
      const failures: UncloneableValueError[] = [];
      const elements: unknown[] = [{ i: 0 }, { i: 1, f: () => 1 }, { i: 2 }, { i: 3, s: Symbol('s') }, { i: 4 }];
      const out = await lastValueFrom(
        from(elements as { i: number }[]).pipe(
          mapParallel(uncloneable, {
            scheduler,
            batchSize: 8, // all in one batch: the others must still go
            onError: (e) => (failures.push(e as UncloneableValueError), -1),
            ordered: true,
          }),
          toArray(),
        ),
      );
      expect(out).toEqual([0, -1, 2, -1, 4]);
      expect(failures.map((e) => e.elementIndex)).toEqual([[1], [3]]);
      for (const e of failures) {
        expect(e).toBeInstanceOf(UncloneableValueError);
        expect(e.direction).toBe('element');
        expect(e.message).toContain('element [');
      }
    });

    it('a result holding a function, or a Symbol', async () => {
      const items = [{ i: 0 }, { i: 1, bad: 'function' }, { i: 2, bad: 'symbol' }, { i: 3 }];
      const failures: UncloneableValueError[] = [];
      const out = await lastValueFrom(
        from(items).pipe(mapParallel(uncloneable, { scheduler, batchSize: 4, ordered: true, onError: (e) => (failures.push(e as UncloneableValueError), -1) }), toArray()),
      );
      expect(out).toEqual([0, -1, -1, 3]);
      // In the order they failed: elements 1 and 2 may run on two workers, either first.
      expect(failures.map((e) => [e.direction, e.elementIndex]).sort((a, b) => (a[1] as number[])[0] - (b[1] as number[])[0])).toEqual([
        ['result', [1]],
        ['result', [2]],
      ]);
    });

    it('without onError, fails the stream with UncloneableValueError naming the element', async () => {
      const { error } = await record(from([{ i: 0 }, { i: 1, bad: 'symbol' }]).pipe(mapParallel(uncloneable, { scheduler }))).result;
      expect(error).toBeInstanceOf(UncloneableValueError);
      expect((error as UncloneableValueError).elementIndex).toEqual([1]);
    });
  });

  describe('plain functions must be self-contained', () => {
    it('a closure fails with WorkerFunctionError naming the variable and suggesting task()', async () => {
      const factor = 3;
      const times = (x: number) => x * factor;
      const { error } = await record(from([1, 2]).pipe(mapParallel(times, { scheduler }))).result;
      expect(error).toBeInstanceOf(WorkerFunctionError);
      const e = error as WorkerFunctionError;
      expect(e.functionName).toBe('times');
      expect(e.message).toContain('self-contained');
      expect(e.message).toContain('factor');
      expect(e.message).toContain('task(');
      expect(e.cause).toBeInstanceOf(ReferenceError);
    });

    it('a closure in onStart fails the same way, before any element runs', async () => {
      const config = { url: 'db://' };
      const { error, values } = await record(
        from([1]).pipe(mapParallel((x: number) => x, { scheduler, onStart: function connect() { return config.url; } })),
      ).result;
      expect(values).toEqual([]);
      expect(error).toBeInstanceOf(WorkerFunctionError);
      expect((error as WorkerFunctionError).functionName).toBe('connect');
    });

    it('a function that uses an import (rewritten by Vite/Vitest) is refused before it is sent', async () => {
      const usesImport = (x: unknown) => isTaskRef(x);
      const { error } = await record(from([1]).pipe(mapParallel(usesImport, { scheduler }))).result;
      expect(error).toBeInstanceOf(WorkerFunctionError);
      expect((error as Error).message).toContain('__vite_ssr_');
    });

    it('method shorthand, bound and native functions are refused before they are sent', async () => {
      const obj = {
        double(x: number) {
          return x * 2;
        },
      };
      const cases: [(x: any) => unknown, string][] = [
        [obj.double, 'method'],
        [((x: number) => x).bind(null), 'bound'],
        [Math.abs, 'native'],
      ];
      for (const [fn, word] of cases) {
        const { error } = await record(from([1]).pipe(mapParallel(fn, { scheduler }))).result;
        expect(error).toBeInstanceOf(WorkerFunctionError);
        expect((error as Error).message).toContain(word);
      }
    });

    it('a ReferenceError the function throws itself is its own error: onError sees it, the stream goes on', async () => {
      const own = (x: number) => {
        if (x === 2) throw new ReferenceError('order 2 refers to a missing customer');
        return x;
      };
      const seen: unknown[] = [];
      const out = await lastValueFrom(
        from([1, 2, 3]).pipe(mapParallel(own, { scheduler, ordered: true, onError: (error) => (seen.push(error), SKIP) }), toArray()),
      );
      expect(out).toEqual([1, 3]);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(ReferenceError); // the original, not a WorkerFunctionError
      expect((seen[0] as Error).message).toBe('order 2 refers to a missing customer');
    });

    it('names that exist in any worker (globals) are fine', async () => {
      const out = await lastValueFrom(from([4, 9]).pipe(mapParallel((x: number) => Math.sqrt(x) + JSON.parse('1'), { scheduler, ordered: true }), toArray()));
      expect(out).toEqual([3, 4]);
    });
  });
});
