// A page that runs rxjs-parallel pipelines and writes what they produced into the DOM, for
// test/browser/browser.test.ts (and for a look by hand: `npm run build && npx vite test/browser/app`).
import { lastValueFrom, of, range, toArray } from 'rxjs';
import { mapParallel, StageError, task, taskScheduler, threadScheduler, WorkerFunctionError } from 'rxjs-parallel';
import { expose } from 'rxjs-parallel/worker';
import { connect, score, type Scored } from './score.js';

/** What the page writes into `<pre id="out">`, as JSON. */
export interface Results {
  threads: Scored[];
  /** A batched stage (`batchSize: 'auto'`, runs of values to the Web Workers) with one element that throws. */
  batched: number[];
  tasks: Scored[];
  underCsp: { emitted?: number; isWorkerFunctionError?: boolean; causeName?: string };
  failure: { isStageError: boolean; causeName?: string; causeMessage?: string; elementIndex?: readonly number[] };
}

/**
 * The same stage on the thread scheduler (Web Workers running app.worker.ts) and on the task
 * scheduler (in the page): `task(name)` refs name functions, so the stage's code does not change.
 */
async function main(): Promise<Results> {
  const pool = threadScheduler({
    workers: 2,
    createWorker: () => new Worker(new URL('./app.worker.ts', import.meta.url), { type: 'module' }),
  });
  try {
    const threads = await lastValueFrom(
      range(1, 8).pipe(
        mapParallel(task<number, Scored>('score'), { scheduler: pool, workers: 2, ordered: true, onStart: task('connect') }),
        toArray(),
      ),
    );

    // Batches go to the Web Workers as runs of values; the element that throws leaves them as itself.
    const batched = await lastValueFrom(
      range(1, 300).pipe(
        mapParallel(task<number, number>('scoreOrFail'), { scheduler: pool, workers: 2, ordered: true, batchSize: 'auto', onError: () => -1 }),
        toArray(),
      ),
    );

    // An error thrown in a worker fails the stream with a StageError that keeps the original.
    let failure: Results['failure'] = { isStageError: false };
    try {
      await lastValueFrom(range(1, 4).pipe(mapParallel(task<number, number>('scoreOrFail'), { scheduler: pool, workers: 2 })));
    } catch (error) {
      const cause = (error as { cause?: Error }).cause;
      failure = {
        isStageError: error instanceof StageError,
        causeName: cause?.name,
        causeMessage: cause?.message,
        elementIndex: (error as StageError).elementIndex,
      };
    }

    // A plain function is sent as source text and rebuilt in the worker with `new Function`, which
    // the test's Content Security Policy forbids: the stage must fail, and say why, not hang.
    let underCsp: Results['underCsp'];
    try {
      underCsp = { emitted: await lastValueFrom(of(21).pipe(mapParallel((x: number) => x * 2, { scheduler: pool }))) };
    } catch (error) {
      underCsp = { isWorkerFunctionError: error instanceof WorkerFunctionError, causeName: (error as { cause?: Error }).cause?.name };
    }

    // In the page, expose() only registers: the task scheduler finds `score` and `connect` here.
    expose({ score, connect });
    const tasks = await lastValueFrom(
      range(1, 8).pipe(
        mapParallel(task<number, Scored>('score'), { scheduler: taskScheduler(), workers: 2, ordered: true, onStart: task('connect') }),
        toArray(),
      ),
    );
    return { threads, batched, tasks, failure, underCsp };
  } finally {
    await pool.close();
  }
}

main().then(
  (results) => {
    document.getElementById('out')!.textContent = JSON.stringify(results);
    document.body.dataset.done = 'ok';
  },
  (error: unknown) => {
    document.getElementById('error')!.textContent = describe(error);
    document.body.dataset.done = 'error';
  },
);

/** An error with its stack and its chain of causes, for the test's failure message. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const text = error.stack?.includes(error.message) ? error.stack : `${error.name}: ${error.message}\n${error.stack ?? ''}`;
  return error.cause === undefined ? text : `${text}\ncaused by ${describe(error.cause)}`;
}
