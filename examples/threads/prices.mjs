import { spawn, Worker } from 'threads';
import { tap } from 'rxjs';
import { fromIterable, mapParallel, run, task } from 'rxjs-parallel';
import { threadsScheduler } from 'rxjs-parallel/threads';

const scheduler = threadsScheduler({ spawn: () => spawn(new Worker('./prices.worker.mjs')), workers: 2 });
await run(
  fromIterable(['apple', 'kiwi', 'pear']).pipe(
    mapParallel(task('price'), { workers: 2, scheduler, ordered: true, onStart: task('open'), onEnd: task('close') }),
    tap((price) => console.log(price)),
  ),
);
await scheduler.close();
// 3 0 2 (one per line)
