// The "async_flow" pipeline of the post "Async Pipes" (Ray): a generator (the upper class), a
// `work` layer scaled to 8 workers (the middle class), and a callback collecting the results (the
// lower class), stitched together by queues with backpressure, with progress. Ported to
// rxjs-parallel; `work` sleeps 20 ms where the post's sleeps 1 s, so that the file runs in a second.
//   node examples/seeds/async-flow.mjs      (a progress bar on stderr when it is a terminal)
import { from, mergeMap } from 'rxjs';
import { eachParallel, fromIterable, mapParallel, Monitor, progress, run, threadScheduler } from 'rxjs-parallel';

const N = 100;

/** The post's `work`: blocking, so it runs on worker threads (self-contained: shipped as source). */
function work(data) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // time.sleep(1)
  return 'done';
}

// ---- The post's first attempt: fan-out and fan-in over an executor ---------------------------
// `for data in data_generator: executor.submit(work, data).add_done_callback(callback)`: the
// generator fills the executor as fast as it can (RxJS's mergeMap buffers what it cannot start).
{
  let generated = 0;
  let finished = 0;
  let most = 0;
  function* dataGenerator() {
    for (let i = 0; i < N; i++) {
      generated++;
      most = Math.max(most, generated - finished);
      yield i;
    }
  }
  const lines = [];
  const callback = (result) => {
    finished++;
    lines.push(result);
  };
  await new Promise((resolve, reject) =>
    from(dataGenerator())
      .pipe(mergeMap(async (data) => work(data), 8))
      .subscribe({ next: callback, error: reject, complete: resolve }),
  );
  console.log(`executor: ${lines.length} × ${lines[0]}; the generator ran up to ${most} items ahead of the callback (no backpressure)`);
}

// ---- async_flow.pipeline(Layer(data_generator), Layer(work, 8), Layer(callback)) --------------
// Layers joined by bounded queues: the generator is read only when the work layer has room, so
// it runs at most workers + maxsize items ahead; the callback prints each result, as the post's does.
{
  let generated = 0;
  let finished = 0;
  let most = 0;
  function* dataGenerator() {
    for (let i = 0; i < N; i++) {
      generated++;
      most = Math.max(most, generated - finished);
      yield i;
    }
  }
  const callback = (result) => {
    finished++;
    console.log(result);
  };
  const monitor = new Monitor({ interval: 50 });
  // The progress bar: redrawn in place on stderr when it is a terminal; otherwise drawn into a
  // captured terminal, whose last frame is printed at the end.
  const frames = [];
  const captured = { isTTY: true, columns: 100, write: (text) => frames.push(text) };
  progress(monitor, { total: N, stream: process.stderr.isTTY ? process.stderr : captured });
  // 8 threads that take one item at a time from the layer's queue, as the post's workers take from
  // an asyncio.Queue (prefetch: 0; by default a thread also holds a few items queued in it).
  const threads = threadScheduler({ workers: 8, prefetch: 0 });
  await run(
    fromIterable(dataGenerator()).pipe(
      mapParallel(work, { workers: 8, maxsize: 8, scheduler: threads, monitor, name: 'work' }), // Layer(work, 8)
      eachParallel(callback, { monitor, name: 'callback' }), // Layer(callback)
    ),
  );
  await threads.close();
  const { stages } = monitor.report();
  const w = stages.find((s) => s.name === 'work');
  await new Promise((resolve) => setImmediate(resolve)); // the final snapshot comes a microtask after completion
  if (frames.length > 0) console.log(`progress, last frame:\n${frames.at(-1).replace(/\x1b\[\d*[A-Z]/g, '').trimEnd()}`);
  // At most: work's 8 workers + maxsize 8, callback's 1 worker + maxsize 2, and the one on its way.
  console.log(`async_flow: ${finished} results; the generator ran at most ${most} items ahead of the callback (bound 20); work: ${w.out} done by ${w.workers} workers`);
}
