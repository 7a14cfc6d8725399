import { afterEach, describe, expect, it } from 'vitest';
import { config, EMPTY, finalize, NEVER, Observable, of, Subject, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  finalizeAsync,
  FinalizeError,
  fromIterable,
  InvalidOptionError,
  mapParallel,
  ordered,
  toAsyncIterable,
} from 'rxjs-parallel';
import { deferred, record, turn } from '../support/util.js';

/** Subscribes and logs every notification, in order, into `log`. */
function logged<T>(source: Observable<T>, log: string[]) {
  const done = deferred();
  const subscription = source.subscribe({
    next: (v) => log.push(`next ${String(v)}`),
    error: (e) => {
      log.push(`error ${e instanceof Error ? e.message : String(e)}`);
      done.resolve();
    },
    complete: () => {
      log.push('complete');
      done.resolve();
    },
  });
  return { subscription, done: done.promise };
}

afterEach(() => {
  config.onUnhandledError = null;
});

describe('finalizeAsync: values and ordering', () => {
  it('passes values through and delivers complete only after fn has settled', async () => {
    const log: string[] = [];
    const gate = deferred();
    const { done } = logged(
      of(1, 2).pipe(
        finalizeAsync(async () => {
          log.push('fn starts');
          await gate.promise;
          log.push('fn ends');
        }),
      ),
      log,
    );
    for (let i = 0; i < 5; i++) await turn();
    expect(log).toEqual(['next 1', 'next 2', 'fn starts']);
    gate.resolve();
    await done;
    expect(log).toEqual(['next 1', 'next 2', 'fn starts', 'fn ends', 'complete']);
  });

  it('passes values through as they come (marbles: the values are not delayed)', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
      // `fn` settles on a promise, after virtual time: within the run only the values are seen.
      expectObservable(cold('-a-b-|').pipe(finalizeAsync(() => {}))).toBe('-a-b--');
    });
  });

  it('delivers the end asynchronously even when fn is synchronous', async () => {
    const log: string[] = [];
    const { done } = logged(of(1).pipe(finalizeAsync(() => void log.push('fn'))), log);
    expect(log).toEqual(['next 1', 'fn']);
    await done;
    expect(log).toEqual(['next 1', 'fn', 'complete']);
  });

  it('runs fn for an empty source, then completes', async () => {
    const log: string[] = [];
    await logged(EMPTY.pipe(finalizeAsync(() => void log.push('fn'))), log).done;
    expect(log).toEqual(['fn', 'complete']);
  });
});

describe('finalizeAsync: errors', () => {
  it('delivers the source’s error, unchanged, only after fn has settled', async () => {
    const log: string[] = [];
    const gate = deferred();
    const boom = new Error('boom');
    let received: unknown;
    const source = new Subject<number>();
    const done = deferred();
    source
      .pipe(finalizeAsync(async () => { log.push('fn starts'); await gate.promise; log.push('fn ends'); }))
      .subscribe({ next: (v) => log.push(`next ${v}`), error: (e) => { received = e; log.push('error'); done.resolve(); } });
    source.next(1);
    source.error(boom);
    for (let i = 0; i < 5; i++) await turn();
    expect(log).toEqual(['next 1', 'fn starts']);
    gate.resolve();
    await done.promise;
    expect(log).toEqual(['next 1', 'fn starts', 'fn ends', 'error']);
    expect(received).toBe(boom);
  });

  it('fails with FinalizeError when fn throws after the source completed', async () => {
    const thrown = new TypeError('cleanup failed');
    const { values, error } = await record(of(1).pipe(finalizeAsync(() => { throw thrown; }))).result;
    expect(values).toEqual([1]);
    expect(error).toBeInstanceOf(FinalizeError);
    expect((error as FinalizeError).cause).toBe(thrown);
    expect((error as FinalizeError).outcome).toBe('complete');
    expect((error as FinalizeError).sourceError).toBeUndefined();
    expect((error as FinalizeError).code).toBe('ERR_FINALIZE');
  });

  it('fails with FinalizeError keeping the source’s error when fn rejects after the source failed', async () => {
    const original = new Error('source failed');
    const rejection = new Error('cleanup failed');
    const { error } = await record(throwError(() => original).pipe(finalizeAsync(async () => { throw rejection; }))).result;
    expect(error).toBeInstanceOf(FinalizeError);
    expect((error as FinalizeError).cause).toBe(rejection);
    expect((error as FinalizeError).outcome).toBe('error');
    expect((error as FinalizeError).sourceError).toBe(original);
  });

  it('sends a failure of fn after an unsubscribe to RxJS’s onUnhandledError', async () => {
    const unhandled = deferred<unknown>();
    config.onUnhandledError = (e) => unhandled.resolve(e);
    const rejection = new Error('late cleanup failed');
    const { subscription } = record(NEVER.pipe(finalizeAsync(() => Promise.reject(rejection))));
    subscription.unsubscribe();
    expect(await unhandled.promise).toBe(rejection);
  });

  it('rejects a fn that is not a function, when called', () => {
    expect(() => finalizeAsync(42 as never)).toThrow(InvalidOptionError);
  });
});

describe('finalizeAsync: unsubscribe and teardown', () => {
  it('runs fn once on an early unsubscribe, after the source was unsubscribed', async () => {
    const log: string[] = [];
    const ran = deferred();
    const { subscription } = logged(
      NEVER.pipe(
        finalize(() => log.push('source unsubscribed')),
        finalizeAsync(() => { log.push('fn'); ran.resolve(); }),
      ),
      log,
    );
    subscription.unsubscribe();
    subscription.unsubscribe();
    await ran.promise;
    for (let i = 0; i < 3; i++) await turn();
    expect(log).toEqual(['source unsubscribed', 'fn']);
  });

  it('runs fn once when the subscriber leaves while fn is settling after completion, and delivers nothing more', async () => {
    const log: string[] = [];
    const gate = deferred();
    let calls = 0;
    const { subscription } = logged(of(1).pipe(finalizeAsync(() => (calls++, gate.promise))), log);
    subscription.unsubscribe();
    gate.resolve();
    for (let i = 0; i < 5; i++) await turn();
    expect(calls).toBe(1);
    expect(log).toEqual(['next 1']);
  });

  it('runs fn once per subscription, and not before one', async () => {
    let calls = 0;
    const pipeline = of(1).pipe(finalizeAsync(() => void calls++));
    expect(calls).toBe(0);
    await record(pipeline).result;
    await record(pipeline).result;
    expect(calls).toBe(2);
  });

  it('runs fn after every stage before it has ended (their onEnd ran)', async () => {
    const log: string[] = [];
    await logged(
      fromIterable([1, 2]).pipe(
        mapParallel(async (x: number) => x, { workers: 2, onEnd: () => void log.push('onEnd') }),
        finalizeAsync(() => void log.push('fn')),
      ),
      log,
    ).done;
    expect(log.filter((l) => !l.startsWith('next'))).toEqual(['onEnd', 'onEnd', 'fn', 'complete']);
  });
});

describe('finalizeAsync: credits', () => {
  it('keeps the credit chain: toAsyncIterable still paces the stages before it', async () => {
    let reads = 0;
    function* source() {
      for (let i = 0; i < 100; i++) {
        reads++;
        yield i;
      }
    }
    let cleaned = false;
    const out$ = fromIterable(source()).pipe(
      mapParallel(async (x: number) => x, { workers: 1, maxsize: 1 }),
      finalizeAsync(async () => { cleaned = true; }),
    );
    const it = toAsyncIterable(out$);
    expect((await it.next()).value).toBe(0);
    for (let i = 0; i < 20; i++) await turn();
    // workers + maxsize for the stage, + the one handed to the loop: not the whole source.
    expect(reads).toBeLessThanOrEqual(3);
    await it.return!();
    for (let i = 0; i < 5; i++) await turn();
    expect(cleaned).toBe(true);
  });

  it('passes the ordered() request upstream', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const { result } = record(
      fromIterable([0, 1, 2]).pipe(
        mapParallel(async (i: number) => (await gates[i].promise, i), { workers: 3 }),
        finalizeAsync(() => {}),
        ordered(),
      ),
    );
    gates[2].resolve();
    gates[1].resolve();
    await turn();
    gates[0].resolve();
    expect((await result).values).toEqual([0, 1, 2]);
  });
});
