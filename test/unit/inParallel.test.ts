import { describe, expect, it } from 'vitest';
import { EmptyError, finalize, firstValueFrom, lastValueFrom, map, NEVER, Observable, of, tap, throwError, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { flatMapParallel, fromIterable, inParallel, InvalidOptionError, type InParallelContext } from 'rxjs-parallel';
import { deferred, random, record, turn, type Deferred } from '../support/util.js';

const marbles = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Function inputs that each wait on their own gate, counting how many run at once. */
function gated(n: number) {
  const gates: Deferred<number>[] = Array.from({ length: n }, () => deferred<number>());
  const started: number[] = [];
  const signals: AbortSignal[] = [];
  const counter = { running: 0, most: 0 };
  const inputs = gates.map((gate, i) => (ctx: InParallelContext) => {
    started.push(i);
    signals[i] = ctx.signal;
    counter.running++;
    counter.most = Math.max(counter.most, counter.running);
    return gate.promise.finally(() => counter.running--);
  });
  return { gates, inputs, started, signals, counter };
}

describe('inParallel: values', () => {
  it('emits one array of the results in input order, whatever order they finish in', async () => {
    const { gates, inputs } = gated(3);
    const { result } = record(inParallel(inputs));
    gates[2].resolve(30);
    await turn();
    gates[0].resolve(10);
    await turn();
    gates[1].resolve(20);
    expect(await result).toEqual({ values: [[10, 20, 30]], completed: true });
  });

  it('hands a function input its index and a signal', async () => {
    const seen: Array<[number, boolean]> = [];
    await firstValueFrom(inParallel([of(0), (ctx) => (seen.push([ctx.index, ctx.signal.aborted]), of(1)), (ctx) => (seen.push([ctx.index, ctx.signal.aborted]), of(2))]));
    expect(seen).toEqual([[1, false], [2, false]]);
  });

  it('takes Observables, Promises, iterables and functions; an input’s result is its last value', async () => {
    const out = await firstValueFrom(inParallel([of(1, 2, 3), Promise.resolve('p'), ['a', 'b'], () => of(true), async () => 7]));
    expect(out).toEqual([3, 'p', 'b', true, 7]);
  });

  it('starts a function input only when its turn comes (marbles: maxParallelism 2)', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = cold('--a|');
      const b = cold('----b|');
      const c = cold('-c|');
      expectObservable(inParallel([a, b, c], { maxParallelism: 2 })).toBe('-----(x|)', { x: ['a', 'b', 'c'] });
      expectSubscriptions(a.subscriptions).toBe('^--!');
      expectSubscriptions(b.subscriptions).toBe('^----!');
      expectSubscriptions(c.subscriptions).toBe('---^-!'); // when a completed
    });
  });

  it('runs all at once by default (marbles)', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = cold('--a|');
      const b = cold('-b|');
      expectObservable(inParallel([a, b])).toBe('---(x|)', { x: ['a', 'b'] });
      expectSubscriptions(a.subscriptions).toBe('^--!');
      expectSubscriptions(b.subscriptions).toBe('^-!');
    });
  });

  it('never runs more than maxParallelism at once, and reaches it', async () => {
    const n = 40;
    const { gates, inputs, counter, started } = gated(n);
    const { result } = record(inParallel(inputs, { maxParallelism: 3 }));
    const rand = random(7);
    // Finish the running inputs in a random order, one at a time, until all are done.
    const resolved = new Set<number>();
    while (resolved.size < n) {
      const running = started.filter((i) => !resolved.has(i));
      expect(running.length).toBe(Math.min(3, n - resolved.size));
      const pick = running[Math.floor(rand() * running.length)];
      resolved.add(pick);
      gates[pick].resolve(pick);
      await turn();
    }
    expect((await result).values).toEqual([Array.from({ length: n }, (_, i) => i)]);
    expect(counter.most).toBe(3);
    expect(started).toEqual(Array.from({ length: n }, (_, i) => i)); // started in input order
  });

  it('nests: each level limits its own inputs, and the outer one waits for the inner array', async () => {
    const outer = gated(2);
    const inner = gated(4);
    const { result } = record(
      inParallel([outer.inputs[0], inParallel(inner.inputs, { maxParallelism: 2 }).pipe(map((xs) => xs.reduce((a, b) => a + b, 0))), outer.inputs[1]], {
        maxParallelism: 2,
      }),
    );
    await turn();
    expect(outer.started).toEqual([0]); // the nested group holds the second place
    expect(inner.started).toEqual([0, 1]);
    inner.gates.forEach((g, i) => g.resolve(i + 1));
    for (let i = 0; i < 5; i++) await turn();
    expect(inner.counter.most).toBe(2);
    expect(outer.started).toEqual([0, 1]); // the group finished: its place went to the next input
    outer.gates[0].resolve(100);
    outer.gates[1].resolve(200);
    expect(await result).toEqual({ values: [[100, 10, 200]], completed: true });
  });

  it('runs per element of a stream inside a stage', async () => {
    const out = await lastValueFrom(
      fromIterable([1, 2, 3]).pipe(
        flatMapParallel((x: number) => inParallel([() => of(x), async () => x * 10]), { workers: 2 }),
        toArray(),
      ),
    );
    expect(out.sort((a, b) => a[0] - b[0])).toEqual([[1, 10], [2, 20], [3, 30]]);
  });

  it('does not grow the stack with many inputs that complete synchronously', async () => {
    const inputs = Array.from({ length: 20_000 }, (_, i) => of(i));
    const out = await firstValueFrom(inParallel(inputs, { maxParallelism: 1 }));
    expect(out).toHaveLength(20_000);
    expect(out[19_999]).toBe(19_999);
  });
});

describe('inParallel: empty', () => {
  it('emits [] for no inputs', async () => {
    expect(await record(inParallel([])).result).toEqual({ values: [[]], completed: true });
  });

  it('fails with RxJS’s EmptyError when an input completes without a value', async () => {
    const { error } = await record(inParallel([of(1), new Observable<number>((s) => s.complete())])).result;
    expect(error).toBeInstanceOf(EmptyError);
  });
});

describe('inParallel: errors', () => {
  it('fails on the first error, unchanged, after cancelling the inputs still running; later inputs never start', async () => {
    const { gates, inputs, started, signals } = gated(4);
    const log: string[] = [];
    const boom = new RangeError('boom');
    const plain = NEVER.pipe(finalize(() => log.push('plain input unsubscribed')));
    const { result } = record(
      inParallel([inputs[0], plain, inputs[1], inputs[2], inputs[3]], { maxParallelism: 3 }).pipe(
        tap({ error: () => log.push('error delivered') }),
      ),
    );
    await turn();
    expect(started).toEqual([0, 1]);
    signals[0].addEventListener('abort', () => log.push('signal 0 aborted'));
    gates[1].reject(boom);
    const { error } = await result;
    expect(error).toBe(boom);
    expect(signals[0].aborted).toBe(true);
    expect(signals[1].aborted).toBe(false); // the failed one is over, not cancelled
    expect(log.slice(0, 2).sort()).toEqual(['plain input unsubscribed', 'signal 0 aborted']);
    expect(log[2]).toBe('error delivered'); // after the cancelling
    for (let i = 0; i < 5; i++) await turn();
    expect(started).toEqual([0, 1]);
    gates[0].resolve(1); // a late result is ignored
  });

  it('fails when a function input throws, with what it threw, cancelling the others', async () => {
    const thrown = new TypeError('cannot start');
    const signals: AbortSignal[] = [];
    const { error } = await record(
      inParallel([(ctx) => (signals.push(ctx.signal), NEVER), (ctx) => { signals.push(ctx.signal); throw thrown; }]),
    ).result;
    expect(error).toBe(thrown);
    expect(signals.map((s) => s.aborted)).toEqual([true, false]); // the other cancelled; the one that threw never started
  });

  it('fails when a function input returns something that is not an ObservableInput', async () => {
    const { error } = await record(inParallel([() => 42 as never])).result;
    expect(error).toBeInstanceOf(TypeError);
  });

  it('cancels the others on an error (marbles)', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = cold('-----a|');
      const b = cold('--#', undefined, new Error('b failed'));
      expectObservable(inParallel([a, b])).toBe('--#', undefined, new Error('b failed'));
      expectSubscriptions(a.subscriptions).toBe('^-!');
    });
  });

  it('an error thrown synchronously by the first input stops the rest from starting', async () => {
    let second = 0;
    const { error } = await record(inParallel([throwError(() => 'first'), () => (second++, of(2))], { maxParallelism: 1 })).result;
    expect(error).toBe('first');
    expect(second).toBe(0);
  });
});

describe('inParallel: unsubscribe and teardown', () => {
  it('cancels every running input on unsubscribe and starts no more', async () => {
    const { gates, inputs, started, signals } = gated(5);
    const { subscription, values } = record(inParallel(inputs, { maxParallelism: 2 }));
    await turn();
    subscription.unsubscribe();
    expect(signals.slice(0, 2).map((s) => s.aborted)).toEqual([true, true]);
    gates.forEach((g, i) => g.resolve(i));
    for (let i = 0; i < 5; i++) await turn();
    expect(started).toEqual([0, 1]);
    expect(values).toEqual([]);
  });

  it('leaves no input subscribed after completing', async () => {
    let live = 0;
    const input = (x: number) => new Observable<number>((s) => {
      live++;
      s.next(x);
      const t = setTimeout(() => s.complete());
      return () => {
        clearTimeout(t);
        live--;
      };
    });
    expect(await firstValueFrom(inParallel([input(1), input(2), input(3)], { maxParallelism: 2 }))).toEqual([1, 2, 3]);
    expect(live).toBe(0);
  });

  it('starts nothing until subscribed, and again for each subscription', async () => {
    let calls = 0;
    const group = inParallel([() => (calls++, of(1))]);
    expect(calls).toBe(0);
    await firstValueFrom(group);
    await firstValueFrom(group);
    expect(calls).toBe(2);
  });
});

describe('inParallel: validation', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['maxParallelism', () => inParallel([], { maxParallelism: 0 }), 'an integer ≥ 1 or Infinity'],
    ['maxParallelism', () => inParallel([], { maxParallelism: 1.5 }), 'an integer ≥ 1 or Infinity'],
    ['maxParallelism', () => inParallel([], { maxParallelism: '2' as never }), 'an integer ≥ 1 or Infinity'],
    ['maxParallelism', () => inParallel([], { maxParallelism: NaN }), 'an integer ≥ 1 or Infinity'],
    ['max_parallelism', () => inParallel([], { max_parallelism: 2 } as never), 'maxParallelism (unknown option)'],
    ['inputs[1]', () => inParallel([of(1), 42 as never]), 'an ObservableInput or a function returning one'],
    ['inputs', () => inParallel(of(1) as never), 'an array of ObservableInputs or functions returning one'],
    ['options', () => inParallel([], 3 as never), 'an object'],
  ];
  it.each(cases)('rejects a bad `%s` when called', (option, call, expected) => {
    let thrown: unknown;
    try {
      call();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).option).toBe(option);
    expect((thrown as InvalidOptionError).expected).toBe(expected);
  });

  it('takes maxParallelism: Infinity', async () => {
    expect(await firstValueFrom(inParallel([of(1)], { maxParallelism: Infinity }))).toEqual([1]);
  });
});
