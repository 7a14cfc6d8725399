// Type tests: checked by `tsc -p test/tsconfig.json` (npm test runs it), and run as plain tests.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { of, type Observable, type OperatorFunction } from 'rxjs';
import {
  eachParallel,
  filterParallel,
  finalizeAsync,
  flatMapOrdered,
  flatMapParallel,
  fromIterable,
  inParallel,
  mapParallel,
  ordered,
  run,
  SKIP,
  task,
  toAsyncIterable,
  type Context,
  type StageOptions,
  type TaskRef,
} from 'rxjs-parallel';

describe('types', () => {
  it('infer each operator’s output type', () => {
    expectTypeOf(mapParallel((x: number) => String(x))).toEqualTypeOf<OperatorFunction<number, string>>();
    expectTypeOf(mapParallel(async (x: number) => x > 1)).toEqualTypeOf<OperatorFunction<number, boolean>>();
    expectTypeOf(filterParallel((x: string) => x.length > 0)).toEqualTypeOf<OperatorFunction<string, string>>();
    expectTypeOf(flatMapParallel((x: number) => [String(x)])).toEqualTypeOf<OperatorFunction<number, string>>();
    expectTypeOf(flatMapOrdered(async function* (x: number) { yield x > 0; })).toEqualTypeOf<OperatorFunction<number, boolean>>();
    expectTypeOf(eachParallel((_x: number) => {})).toEqualTypeOf<OperatorFunction<number, never>>();
    expectTypeOf(fromIterable([1, 2]).pipe(ordered())).toEqualTypeOf<Observable<number>>();
    expectTypeOf(toAsyncIterable(of('a'))).toEqualTypeOf<AsyncIterableIterator<string>>();
    expectTypeOf(run(of(1))).toEqualTypeOf<Promise<void>>();
    expect(true).toBe(true);
  });

  it('types ctx.resources from onStart and TaskRefs from their parameters', () => {
    const op = mapParallel((x: number, ctx: Context<{ db: string }>) => ctx.resources.db + x, { onStart: () => ({ db: 'x' }) });
    expectTypeOf(op).toEqualTypeOf<OperatorFunction<number, string>>();
    const ref = task<number, string>('/abs/tasks.js', 'fmt');
    expectTypeOf(ref).toEqualTypeOf<TaskRef<number, string>>();
    expectTypeOf(mapParallel(ref)).toEqualTypeOf<OperatorFunction<number, string>>();
    expect(ref.module).toBe('file:///abs/tasks.js');
  });

  it('widens the output by what onError returns, and SKIP adds nothing', () => {
    const failing = (x: number) => String(x);
    expectTypeOf(mapParallel(failing, { onError: () => ({ failed: 'x' }) })).toEqualTypeOf<OperatorFunction<number, string | { failed: string }>>();
    expectTypeOf(mapParallel(failing, { onError: async () => -1 })).toEqualTypeOf<OperatorFunction<number, string | number>>();
    expectTypeOf(mapParallel(failing, { onError: () => SKIP })).toEqualTypeOf<OperatorFunction<number, string>>();
    expectTypeOf(mapParallel(failing, { onError: (_e, x) => (x > 0 ? SKIP : 0) })).toEqualTypeOf<OperatorFunction<number, string | 0>>();
    expectTypeOf(mapParallel(failing, { onError: 'skip' })).toEqualTypeOf<OperatorFunction<number, string>>();
    // A replacement for a flatMap element is emitted as its outputs.
    expectTypeOf(flatMapParallel((x: number) => [x], { onError: () => ['fallback'] })).toEqualTypeOf<OperatorFunction<number, number | string>>();
    // A function that logs and returns nothing emits undefined: the type says so (return SKIP instead).
    expectTypeOf(mapParallel(failing, { onError: () => {} })).toEqualTypeOf<OperatorFunction<number, string | void>>();
    expectTypeOf(filterParallel((x: number) => x > 1, { onError: () => true })).toEqualTypeOf<OperatorFunction<number, number>>();
    expect(typeof SKIP).toBe('symbol');
  });

  it('types inParallel’s array by input, and finalizeAsync as the identity', () => {
    const group = inParallel([of(1), Promise.resolve('a'), () => of(true), async () => [1, 2]]);
    expectTypeOf(group).toEqualTypeOf<Observable<[number, string, boolean, number[]]>>();
    const list = [of(1), of(2)];
    expectTypeOf(inParallel(list)).toEqualTypeOf<Observable<number[]>>();
    expectTypeOf(inParallel([inParallel([of('x')])])).toEqualTypeOf<Observable<[[string]]>>();
    expectTypeOf(of(1).pipe(finalizeAsync(async () => {}))).toEqualTypeOf<Observable<number>>();
    // @ts-expect-error: not an option
    expect(() => inParallel([], { max_parallelism: 2 })).toThrow();
  });

  it('rejects misspelt options and wrong literals at compile time', () => {
    // @ts-expect-error: not an option
    const a: StageOptions = { wokers: 2 };
    // @ts-expect-error: not a scheduler name
    const b: StageOptions = { scheduler: 'threads' };
    // @ts-expect-error: not an overflow policy
    const c: StageOptions = { overflow: 'drop' };
    expect([a, b, c]).toHaveLength(3);
  });
});
