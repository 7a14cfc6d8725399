// A Node service with a thread stage and a process stage, made to be bundled (docs/bundling.md).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { fromIterable, mapParallel, processScheduler, task, threadScheduler } from 'rxjs-parallel';

// The worker entries copied beside the bundle, if they are there; if not, undefined: the files
// inside the installed rxjs-parallel (unbundled, or bundled with rxjs-parallel external).
const beside = (file: string) => (existsSync(join(__dirname, file)) ? join(__dirname, file) : undefined);
const threads = threadScheduler({ workers: 2, workerEntry: beside('node-thread-entry.cjs') });
const processes = processScheduler({ workers: 2, workerEntry: beside('node-process-entry.cjs') });

// A TaskRef names a file the worker imports at run time: tasks.ts is an entry point of its own.
const square = task<number, number>(pathToFileURL(join(__dirname, 'tasks.js')), 'square');

async function main(): Promise<void> {
  const results = await lastValueFrom(
    fromIterable([1, 2, 3, 4]).pipe(
      mapParallel(square, { workers: 2, scheduler: threads, ordered: true }),
      mapParallel((x: number) => x + 1, { workers: 2, scheduler: processes, ordered: true }), // sent as source
      toArray(),
    ),
  );
  console.log(results.join(' ')); // 2 5 10 17
  await Promise.all([threads.close(), processes.close()]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
