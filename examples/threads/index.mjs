import { spawn, Worker } from 'threads';
import { tap } from 'rxjs';
import { fromIterable, mapParallel, run, task } from 'rxjs-parallel';
import { threadsScheduler } from 'rxjs-parallel/threads';

// threads.js resolves the path against this file; the Worker is made inside spawn, synchronously.
const scheduler = threadsScheduler({ spawn: () => spawn(new Worker('./square.worker.mjs')), workers: 2 });
await run(
  fromIterable([1, 2, 3]).pipe(
    mapParallel(task('square'), { workers: 2, scheduler, ordered: true }),
    tap((x) => console.log(x)),
  ),
);
await scheduler.close();
// 1 4 9 (one per line)
