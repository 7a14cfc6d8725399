// async-task-pipeline (PyPI async-task-pipeline; ChenghaoMou/async_task_pipeline): its Quick Start
// and its example.py, ported to rxjs-parallel. Each stage runs in a thread of its own, between an
// async input stream and an async output stream, and the Monitor gives the latency summary
// (end-to-end, per element, from entering the first stage to leaving the last). Delays are a tenth
// of the originals so that the file runs in about a second.
//   node examples/seeds/async-task-pipeline.mjs          (docs/coming-from.md has the table)
import { of } from 'rxjs';
import { filterParallel, fromIterable, mapParallel, Monitor, run, threadScheduler, toAsyncIterable } from 'rxjs-parallel';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `pipeline.add_stage(name, fn)`: one stage on a thread of its own, fed from a queue. prefetch: 0,
 * so that the thread takes the next item only when it is free (as a stage thread takes from its
 * queue.Queue) and run time is computation time alone.
 */
function addStage(stages, operator, name, fn) {
  const thread = threadScheduler({ workers: 1, prefetch: 0 });
  stages.push({ operator, name, fn, thread });
}
/** `await pipeline.start()`: starts every stage's thread before the input comes (they start lazily). */
const startAll = (stages) => Promise.all(stages.map((s) => run(of(0).pipe(mapParallel((x) => x, { scheduler: s.thread })))));
/** `await pipeline.stop()`. */
const closeAll = (stages) => Promise.all(stages.map((s) => s.thread.close()));

// ---- Quick Start -----------------------------------------------------------------------------
{
  const monitor = new Monitor({ timing: 'all' }); // AsyncTaskPipeline(max_queue_size=100, enable_timing=True)
  const stages = [];
  addStage(stages, mapParallel, 'process', (x) => x * 2); // pipeline.add_stage("process", lambda x: x * 2)
  addStage(stages, filterParallel, 'filter', (x) => x > 10); // pipeline.add_stage("filter", lambda x: x if x > 10 else None)
  await startAll(stages);

  async function* dataGenerator() {
    for (let i = 0; i < 20; i++) {
      yield i;
      await sleep(10);
    }
  }

  const pipeline = fromIterable(dataGenerator()).pipe(
    ...stages.map((s) => s.operator(s.fn, { scheduler: s.thread, maxsize: 100, monitor, name: s.name })),
  );
  const results = [];
  for await (const result of toAsyncIterable(pipeline)) results.push(result); // pipeline.generate_output_stream()

  const stats = monitor.report(); // pipeline.get_latency_summary()
  console.log(`Processed ${stats.endToEnd.count} items`);
  console.log(`Average latency: ${(stats.endToEnd.mean / 1000).toFixed(3)}s`);
  console.log(`results: ${results.join(', ')}`); // (the Quick Start collects them without printing)
  await closeAll(stages);
}

// ---- example.py: four CPU-intensive stages, 50 items, and the performance analysis -----------
{
  /** The example's simulate_cpu_intensive_task: a busy loop for `ms` (self-contained: shipped to its thread). */
  const simulate = (label, ms) =>
    new Function(
      'data',
      `const end = performance.now() + ${ms}; let result = 0;
       while (performance.now() < end) for (let i = 0; i < 500; i++) result += i * i;
       return data + ' -> ${label}[' + (result % 1000) + ']';`,
    );
  const monitor = new Monitor({ timing: 'all' });
  const stages = [];
  addStage(stages, mapParallel, 'DataValidation', simulate('Validate', 1));
  addStage(stages, mapParallel, 'Transform1', simulate('Transform1', 5));
  addStage(stages, mapParallel, 'Transform2', simulate('Transform2', 1));
  addStage(stages, mapParallel, 'Serialize', simulate('Serialize', 0.5));
  await startAll(stages);

  let startTime;
  async function* exampleInputStream(count, delay) {
    for (let i = 0; i < count; i++) {
      await sleep(delay);
      if (i === 0) startTime = performance.now();
      yield `chunk_${i}`;
    }
  }

  const pipeline = fromIterable(exampleInputStream(50, 1)).pipe(
    ...stages.map((s) => s.operator(s.fn, { scheduler: s.thread, maxsize: 500, monitor, name: s.name })),
  );
  let first = true;
  let last;
  for await (const result of toAsyncIterable(pipeline)) {
    last = result;
    if (first) {
      first = false;
      console.log(`Time to first result: ${(performance.now() - startTime).toFixed(2)}ms`);
    }
  }
  console.log(`End-to-end latency: ${((performance.now() - startTime) / 1000).toFixed(3)}s`);
  console.log(`Last result: ${last}`);

  // log_pipeline_performance_analysis(pipeline)
  const summary = monitor.report();
  console.log('Enhanced Pipeline Performance Analysis:');
  console.log(`Total items processed: ${summary.endToEnd.count}`);
  console.log(`Average end-to-end latency: ${(summary.endToEnd.mean / 1000).toFixed(3)}s`);
  console.log(`End-to-end latency p50 / p95 / p99 / max: ${[summary.endToEnd.p50, summary.endToEnd.p95, summary.endToEnd.p99, summary.endToEnd.max].map((ms) => `${ms.toFixed(2)}ms`).join(' / ')}`);
  const computation = summary.stages.reduce((sum, s) => sum + s.runTime.mean, 0);
  console.log('Overall Efficiency Metrics:');
  console.log(`  Computation efficiency: ${((100 * computation) / summary.endToEnd.mean).toFixed(1)}%`);
  console.log(`  Overhead ratio: ${(100 - (100 * computation) / summary.endToEnd.mean).toFixed(1)}%`);
  console.log('Per-Stage Performance Breakdown:');
  for (const s of summary.stages) {
    console.log(`  ${s.name}:`);
    console.log(`    Processed: ${s.out} items`);
    console.log(`    Avg computation time: ${s.runTime.mean.toFixed(2)}ms`);
    console.log(`    Avg queue wait time: ${s.queueWait.mean.toFixed(2)}ms`);
    console.log(`    Computation ratio: ${((100 * s.runTime.mean) / (s.runTime.mean + s.queueWait.mean)).toFixed(1)}%`);
    console.log(`    Utilisation: ${(100 * s.utilisation).toFixed(1)}%`);
  }
  await closeAll(stages);
}
