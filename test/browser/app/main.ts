// A page that runs an rxjs-parallel pipeline and writes what it got into the DOM, for
// test/browser/browser.test.ts (and for a look by hand: `npx vite test/browser/app`).
import { range, lastValueFrom, toArray } from 'rxjs';
import { mapParallel, task } from 'rxjs-parallel';
import { expose } from 'rxjs-parallel/worker';
import { score, type Scored } from './score.js';

interface Results {
  scored: Scored[];
  hello: unknown;
}

async function main(): Promise<Results> {
  // The task scheduler finds `task('score')` among the functions expose()d in this realm.
  expose({ score });
  const scored = await lastValueFrom(
    range(1, 8).pipe(mapParallel(task<number, Scored>('score'), { workers: 2, ordered: true }), toArray()),
  );
  return { scored, hello: await helloFromWorker() };
}

/** Starts the app-owned worker, asks it for a hello, and ends it. */
function helloFromWorker(): Promise<unknown> {
  const worker = new Worker(new URL('./app.worker.ts', import.meta.url), { type: 'module' });
  return new Promise<unknown>((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`app.worker failed: ${event.message || 'error event'}`));
    worker.postMessage('hello');
  }).finally(() => worker.terminate());
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
