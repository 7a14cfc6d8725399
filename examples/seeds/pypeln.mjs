// pypeln's Basic Usage and Advanced Usage (cgarciae.github.io/pypeln), ported to rxjs-parallel,
// section by section, printing what each pypeln snippet prints. Sleeps are a tenth of pypeln's
// (random() * 100 ms instead of random() s) so that the whole file runs in a few seconds.
//   node examples/seeds/pypeln.mjs          (docs/coming-from.md has the side-by-side table)
import { filter, lastValueFrom, toArray } from 'rxjs';
import {
  eachParallel,
  filterParallel,
  flatMapParallel,
  fromIterable,
  mapParallel,
  ordered,
  run,
  task,
  toAsyncIterable,
} from 'rxjs-parallel';

/** Python's `range(n)`. */
const range = (n) => Array.from({ length: n }, (_, i) => i);
/** A list printed the way Python prints it: `[5, 6, 9]`. */
const py = (xs) => `[${xs.join(', ')}]`;
const list = (stage) => lastValueFrom(stage.pipe(toArray()));

// ---- Basic Usage: Processes ------------------------------------------------------------------
// A plain function sent to a process or a thread must be self-contained (it is shipped as source):
// time.sleep() is Atomics.wait, which blocks the worker as time.sleep blocks a Python process.
function slowAdd1(x) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * 100); // <= some slow computation
  return x + 1;
}
function slowGt3(x) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * 100); // <= some slow computation
  return x > 3;
}

{
  const data = range(10); // [0, 1, 2, ..., 9]
  let stage = fromIterable(data).pipe(mapParallel(slowAdd1, { scheduler: 'process', workers: 3, maxsize: 4 }));
  stage = stage.pipe(filterParallel(slowGt3, { scheduler: 'process', workers: 2 }));
  console.log(`process: ${py(await list(stage))}`); // e.g. [5, 6, 9, 4, 8, 10, 7]
}

// ---- Basic Usage: Threads --------------------------------------------------------------------
{
  const data = range(10);
  let stage = fromIterable(data).pipe(mapParallel(slowAdd1, { scheduler: 'thread', workers: 3, maxsize: 4 }));
  stage = stage.pipe(filterParallel(slowGt3, { scheduler: 'thread', workers: 2 }));
  console.log(`thread: ${py(await list(stage))}`); // e.g. [5, 6, 9, 4, 8, 10, 7]
}

// ---- Basic Usage: Tasks ----------------------------------------------------------------------
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const slowAdd1Async = async (x) => {
  await sleep(Math.random() * 100); // <= some slow computation
  return x + 1;
};
const slowGt3Async = async (x) => {
  await sleep(Math.random() * 100); // <= some slow computation
  return x > 3;
};

{
  const data = range(10);
  let stage = fromIterable(data).pipe(mapParallel(slowAdd1Async, { workers: 3, maxsize: 4 })); // scheduler: 'task', the default
  stage = stage.pipe(filterParallel(slowGt3Async, { workers: 2 }));
  console.log(`task: ${py(await list(stage))}`); // e.g. [5, 6, 9, 4, 8, 10, 7]
}

// ---- Mixed Pipelines -------------------------------------------------------------------------
// Each stage on the worker kind that suits it, and a plain RxJS `filter` in between, as pypeln
// mixes in Python's `filter`.
{
  const f1 = async (x) => (await sleep(1), x); // I/O: many cheap tasks
  const f2 = (x) => [x, -x]; // on threads
  const f3 = (x) => x >= 0;
  const f4 = (x) => x * x; // CPU: on processes
  let data = fromIterable(range(10));
  data = data.pipe(mapParallel(f1, { workers: 100 }));
  data = data.pipe(flatMapParallel(f2, { scheduler: 'thread', workers: 2 }));
  data = data.pipe(filter(f3));
  data = data.pipe(mapParallel(f4, { scheduler: 'process', workers: 2, maxsize: 200 }));
  console.log(`mixed: ${py((await list(data)).sort((a, b) => a - b))}`); // pypeln's snippet prints nothing; here, sorted
}

// ---- Advanced: Stages ------------------------------------------------------------------------
// A pipeline is lazy, like a pypeln stage: nothing runs until it is iterated (or subscribed).
{
  const data = range(10);
  const stage = fromIterable(data).pipe(mapParallel(slowAdd1, { scheduler: 'process', workers: 3, maxsize: 4 }));
  const seen = [];
  for await (const x of toAsyncIterable(stage)) seen.push(x); // pypeln: for x in stage: print(x)
  console.log(`for x in stage: ${seen.join(', ')}`); // e.g. 2, 1, 5, 6, 3, 4, 7, 8, 9, 10
  // pypeln's pl.process.ordered: source order, restored as elements come (rxjs-parallel: ordered()).
  console.log(`ordered: ${(await list(stage.pipe(ordered()))).join(', ')}`); // 1, 2, ..., 10
}

// ---- Advanced: Queues (maxsize) --------------------------------------------------------------
// maxsize bounds what a stage holds, so a slow consumer holds the whole pipeline back: a fast
// source is read only as items leave. pypeln's default maxsize is 0 (unbounded); here it is
// 2 × workers, and 0 means unbounded as in pypeln.
{
  let read = 0;
  let consumed = 0;
  let most = 0;
  function* data() {
    for (let i = 0; i < 50; i++) {
      read++;
      most = Math.max(most, read - consumed);
      yield i;
    }
  }
  const stage = fromIterable(data()).pipe(mapParallel(slowAdd1Async, { workers: 3, maxsize: 4 }));
  for await (const _ of toAsyncIterable(stage)) {
    await sleep(5); // a slow consumer
    consumed++;
  }
  console.log(`queues: 50 consumed, at most ${most} read ahead of the consumer (workers 3 + maxsize 4, + 1 on its way)`);
}

// ---- Advanced: Resource Management (on_start / on_done) --------------------------------------
// on_start runs once per worker, inside it (here in a child process); what it returns is the
// worker's ctx.resources, which f and on_end see (pypeln passes them as keyword arguments).
{
  const tasks = new URL('./pypeln-tasks.mjs', import.meta.url);
  const stage = fromIterable(range(6)).pipe(
    mapParallel(task(tasks, 'f'), { scheduler: 'process', workers: 3, onStart: task(tasks, 'onStart'), onEnd: task(tasks, 'onEnd') }),
  );
  console.log(`resources: ${py((await list(stage)).sort((a, b) => a - b))}`);
}

// ---- Advanced: Dependency Injection (worker_info, stage_status, element_index) ---------------
// pypeln injects them by argument name; here they are fields of ctx, the second argument of fn
// (worker_info, element_index) and the argument of onEnd (stage_status, worker_info).
{
  const lines = [];
  const stage = fromIterable(['a', 'b']).pipe(
    flatMapParallel((x) => [`${x}0`, `${x}1`]), // flat_map adds a level to element_index
    mapParallel((x, ctx) => `${x}: element_index (${ctx.elementIndex.join(', ')}), worker_info.index ${ctx.workerInfo.index} of ${ctx.workerInfo.workers}`, {
      workers: 2,
      ordered: true,
      onEnd: (ctx) => void lines.push(`on_end of worker ${ctx.workerInfo.index}: stage_status.done ${ctx.stageStatus.done}, active_workers ${ctx.stageStatus.activeWorkers}`),
    }),
  );
  for (const line of await list(stage)) console.log(line);
  for (const line of lines.sort()) console.log(line);
}

// ---- Advanced: Asyncio Integration (await / async for) ---------------------------------------
{
  const data = range(10);
  let stage = fromIterable(data).pipe(mapParallel(slowAdd1Async, { workers: 3, maxsize: 4 }));
  stage = stage.pipe(filterParallel(slowGt3Async, { workers: 2 }));
  const awaited = await lastValueFrom(stage.pipe(toArray())); // data = await stage
  console.log(`await: ${py(awaited)}`); // e.g. [5, 6, 9, 4, 8, 10, 7]
  const elements = [];
  for await (const element of toAsyncIterable(stage)) elements.push(element); // async for element in stage
  console.log(`async for: ${elements.join(' ')}`); // 5 6 9 4 8 10 7
}

// ---- Advanced: Pipe Operator -----------------------------------------------------------------
// pypeln: range(10) | pl.process.map(...) | pl.process.filter(...) | list
{
  const data = await lastValueFrom(
    fromIterable(range(10)).pipe(
      mapParallel(slowAdd1, { scheduler: 'process', workers: 3, maxsize: 4 }),
      filterParallel(slowGt3, { scheduler: 'process', workers: 2 }),
      toArray(),
    ),
  );
  console.log(`pipe: ${py(data)}`); // e.g. [5, 6, 9, 4, 8, 10, 7]
}

// ---- pl.<module>.each and pl.<module>.run ----------------------------------------------------
{
  const printed = [];
  await run(fromIterable(range(3)).pipe(eachParallel((x) => void printed.push(x), { workers: 2 })));
  console.log(`each + run: ${py(printed.sort())}`);
}
