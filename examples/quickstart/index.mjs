// The quick-start demo (`npm run demo`): a pipeline over a pull source, run once with one worker
// and once with eight, printing the speed-up and how many items were ever read ahead of the
// consumer — bounded by the stages' credits, however fast the source could go. The eight-worker run
// is watched by a Monitor: a progress bar on stderr when it is a terminal, and a latency summary.
import { from, mergeMap, filter } from 'rxjs';
import { eachValueFrom } from 'rxjs-for-await';
import { fromIterable, mapParallel, filterParallel, toAsyncIterable, Monitor, progress } from '../../dist/esm/index.js';

const N = 400;
const lookup = (id) => new Promise((resolve) => setTimeout(resolve, 5, { id, score: (id * 7919) % 100 })); // an I/O call of ~5 ms

async function main(workers, plainRxjs = false, monitor = undefined) {
  let read = 0;
  let done = 0; // elements the consumer has seen or the filter has dropped
  let maxAhead = 0;
  function* ids() {
    for (let id = 0; id < N; id++) {
      read++;
      maxAhead = Math.max(maxAhead, read - done);
      yield id;
    }
  }
  const maxsize = 2 * workers;
  const started = performance.now();
  const rows$ = plainRxjs
    ? from(ids()).pipe(mergeMap(lookup, workers), filter((row) => row.score >= 50 || void done++))
    : fromIterable(ids()).pipe(
        mapParallel(lookup, { workers, maxsize, monitor, name: 'lookup' }),
        filterParallel((row) => row.score >= 50 || void done++, { workers: 2, monitor, name: 'filter' }),
      );
  let kept = 0;
  for await (const row of plainRxjs ? eachValueFrom(rows$) : toAsyncIterable(rows$)) {
    kept++;
    done++;
  }
  const seconds = (performance.now() - started) / 1000;
  const bound = workers + maxsize + (2 + 2 * 2) + 1; // Σ (workers + maxsize) over the stages, + 1 on its way to the loop
  return { seconds, kept, maxAhead, bound };
}

const one = await main(1);
const monitor = new Monitor();
progress(monitor, { total: N }); // stderr, only when it is a terminal
const eight = await main(8, false, monitor);
const rxjs = await main(8, true);
const fmt = (r, w) =>
  `workers ${String(w).padStart(2)}: ${(N / r.seconds).toFixed(0).padStart(5)} items/s, kept ${r.kept}/${N}, ` +
  `at most ${r.maxAhead} items read ahead of the consumer (credit bound ${r.bound})`;
console.log(fmt(one, 1));
console.log(fmt(eight, 8));
console.log(`speed-up with 8 workers: ${(one.seconds / eight.seconds).toFixed(1)}×`);
console.log(`the same with RxJS from() + mergeMap(lookup, 8): at most ${rxjs.maxAhead} items read ahead (its buffer has no bound)`);
const { stages } = monitor.report();
const lookupStats = stages.find((s) => s.name === 'lookup');
console.log(
  `monitor, 8 workers: lookup busy ${(lookupStats.utilisation * 100).toFixed(0)} % of the time; ` +
    `a lookup waited ${lookupStats.queueWait.p50.toFixed(1)} ms in its queue and ran ${lookupStats.runTime.p50.toFixed(1)} ms (p50)`,
);
