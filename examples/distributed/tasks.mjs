// The functions the workers serve: `rxjs-parallel-worker ... ./tasks.mjs`. The pipeline names them
// with task(url, name), as it would for threadScheduler: only the scheduler differs.
import { hostname } from 'node:os';

/** onStart, once per worker subscription, on the worker: its resources (here, who it is). */
export function open() {
  return { worker: `${hostname()} pid ${process.pid}` };
}

/** The element's work: count the words of a line, and say which worker did it. */
export function countWords(line, ctx) {
  return { words: line.split(/\s+/).filter(Boolean).length, worker: ctx.resources.worker };
}
