import { fromIterable, filterParallel, mapParallel, task, threadScheduler } from 'rxjs-parallel';
import { count, lastValueFrom, toArray } from 'rxjs';

const tasks = new URL('./tasks.mjs', import.meta.url);
const threads = threadScheduler({ workers: 2 }); // shared: threads start lazily, stay warm until close()

const numbers = fromIterable(Array.from({ length: 100_000 }, (_, i) => i));
const primes = numbers.pipe(filterParallel(task(tasks, 'isPrime'), { workers: 2, scheduler: threads, batchSize: 'auto' }));
console.log(await lastValueFrom(primes.pipe(count())));

const names = fromIterable([3, 1, 2]).pipe(
  mapParallel(task(tasks, 'name'), { workers: 2, scheduler: threads, onStart: task(tasks, 'openTable'), ordered: true }),
  mapParallel((s) => s.toUpperCase(), { workers: 2, scheduler: 'process', ordered: true }), // shipped as source
);
console.log((await lastValueFrom(names.pipe(toArray()))).join(' '));
await threads.close();
// 9592 THREE ONE TWO (one per line)
