// An app-owned worker file calling expose(), run by threadScheduler({ createWorker }): the path
// browsers and bundlers take. In Node, createWorker returns a worker_threads Worker (the `on`
// API) or a stand-in with the browser's `addEventListener` API over one.
import { afterAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { from, lastValueFrom, of, toArray } from 'rxjs';
import {
  InvalidOptionError,
  mapParallel,
  StageError,
  task,
  threadScheduler,
  WorkerCrashedError,
  WorkerFunctionError,
  type WorkerLike,
} from 'rxjs-parallel';
import { record } from '../support/util.js';

const appWorker = new URL('../fixtures/app.worker.mjs', import.meta.url);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A browser-shaped Worker (addEventListener, event.data, no `on`, no exit event) over a Node worker thread. */
class BrowserStyleWorker implements WorkerLike {
  readonly #worker: Worker;
  constructor(url: URL) {
    this.#worker = new Worker(url);
    this.#worker.unref(); // a browser worker has no ref(): this one must not keep the test alive either
  }
  postMessage(message: unknown, transfer?: any[]) {
    this.#worker.postMessage(message, transfer);
  }
  addEventListener(type: string, listener: (event: any) => void) {
    if (type === 'message') this.#worker.on('message', (data) => listener({ data }));
    else if (type === 'error') this.#worker.on('error', (error) => listener({ error, message: error.message, preventDefault() {} }));
  }
  terminate() {
    void this.#worker.terminate();
  }
}

describe('threadScheduler({ createWorker }) with an app-owned worker file', () => {
  const pool = threadScheduler({ workers: 2, createWorker: () => new Worker(appWorker) });
  afterAll(() => pool.close());

  it('runs functions registered with expose(), by name', async () => {
    const out = await lastValueFrom(from(range(20)).pipe(mapParallel(task<number, number>('score'), { workers: 2, scheduler: pool, ordered: true }), toArray()));
    expect(out).toEqual(range(20).map((x) => x * 3));
  });

  it('runs exposed onStart functions; their resources reach fn', async () => {
    const out = await lastValueFrom(
      from(range(6)).pipe(mapParallel(task<number, any>('useConnection'), { workers: 2, scheduler: pool, onStart: task('connect') }), toArray()),
    );
    for (const r of out) {
      expect([0, 1]).toContain(r.resources.connectedBy);
      expect(r.resources.threadId).toBe(r.threadId);
    }
  });

  it('moves transferred results and rebuilds errors', async () => {
    const bytes = await lastValueFrom(of(16).pipe(mapParallel(task<number, Uint8Array>('bytes'), { scheduler: pool })));
    expect(bytes.byteLength).toBe(16);
    const { error } = await record(of(1).pipe(mapParallel(task('fail'), { scheduler: pool }))).result;
    expect(error).toBeInstanceOf(StageError);
    expect((error as StageError).cause).toBeInstanceOf(TypeError);
    expect(((error as StageError).cause as any).code).toBe('E_APP');
  });

  it('fails with WorkerFunctionError for a name the worker file did not expose', async () => {
    const { error } = await record(of(1).pipe(mapParallel(task('notExposed'), { scheduler: pool }))).result;
    expect(error).toBeInstanceOf(WorkerFunctionError);
    expect((error as WorkerFunctionError).functionName).toBe('notExposed');
  });

  it('also takes self-contained plain functions', async () => {
    const out = await lastValueFrom(from([1, 2]).pipe(mapParallel((x: number) => x - 1, { scheduler: pool, ordered: true }), toArray()));
    expect(out).toEqual([0, 1]);
  });

  it('works with a browser-style Worker (addEventListener) on a browser-style worker scope', async () => {
    const browser = threadScheduler({ workers: 2, createWorker: () => new BrowserStyleWorker(new URL('../fixtures/browser-like.worker.mjs', import.meta.url)) });
    try {
      const out = await lastValueFrom(from(range(10)).pipe(mapParallel(task<number, number>('triple'), { workers: 2, scheduler: browser, ordered: true }), toArray()));
      expect(out).toEqual(range(10).map((x) => x * 3));
      expect(await lastValueFrom(of(0).pipe(mapParallel(task('where'), { scheduler: browser })))).toBe('web worker scope');
    } finally {
      await browser.close();
    }
  });

  it('a worker file that never calls expose() fails after startTimeout instead of hanging', async () => {
    const silent = threadScheduler({ workers: 1, startTimeout: 200, createWorker: () => new Worker(new URL('../fixtures/silent.worker.mjs', import.meta.url)) });
    try {
      const { error } = await record(of(1).pipe(mapParallel(task('score'), { scheduler: silent }))).result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).reason).toContain('expose()');
    } finally {
      await silent.close();
    }
  });

  it('a worker file that fails to load fails the stage', async () => {
    const broken = threadScheduler({ workers: 1, createWorker: () => new Worker(new URL('../fixtures/throws-at-load.mjs', import.meta.url)) });
    try {
      const { error } = await record(of(1).pipe(mapParallel(task('score'), { scheduler: broken }))).result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(((error as WorkerCrashedError).cause as Error).message).toBe('this module fails to load');
    } finally {
      await broken.close();
    }
  });

  it('createWorker must return a Worker: the stage fails with InvalidOptionError', async () => {
    const bad = threadScheduler({ workers: 1, createWorker: () => ({}) as any });
    const { error } = await record(of(1).pipe(mapParallel(task('score'), { scheduler: bad }))).result;
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('createWorker');
    await bad.close();
  });
});
