// What a Monitor costs on the dispatch path: a trivial async function through one stage of two
// workers, 200k elements, with and without a monitor (and a stats$ listener, as progress() has),
// alternating, 5 runs each after a warm-up; medians, and the median of the paired ratios
// (each monitored run over the geometric mean of the plain runs either side of it), which is
// steadier on a noisy machine.
//   npm run build && node bench/monitor-overhead.mjs
//   RUNS=25 TIMING=all node bench/monitor-overhead.mjs      (more runs; time every element)
import { fromIterable, mapParallel, Monitor, run } from '../dist/esm/index.js';

const N = Number(process.env.N ?? 200_000);
const RUNS = Number(process.env.RUNS ?? 5);
const TIMING = process.env.TIMING ?? 'auto';
const fn = async (x) => x + 1;

function* range(n) {
  for (let i = 0; i < n; i++) yield i;
}

async function once(monitored) {
  const monitor = monitored ? new Monitor({ timing: TIMING }) : undefined;
  const stats = monitor?.stats$.subscribe();
  const started = performance.now();
  await run(fromIterable(range(N)).pipe(mapParallel(fn, { workers: 2, monitor })));
  const seconds = (performance.now() - started) / 1000;
  stats?.unsubscribe();
  if (monitor && monitor.report().stages[0].out !== N) throw new Error('the monitor lost count');
  return N / seconds;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

for (let i = 0; i < 3; i++) await once(i % 2 === 1); // warm-up, both paths
const plain = [await once(false)];
const monitored = [];
const ratios = [];
for (let i = 0; i < RUNS; i++) {
  monitored.push(await once(true));
  plain.push(await once(false));
  ratios.push(monitored[i] / Math.sqrt(plain[i] * plain[i + 1]));
}
plain.shift(); // the leading plain run only served as the left neighbour of the first ratio
const a = median(plain);
const b = median(monitored);
const fmt = (x) => `${Math.round(x).toLocaleString('en-US')} elements/s`;
const pct = (r) => `${((1 - r) * 100).toFixed(1)} %`;
console.log(`node ${process.version}, ${N.toLocaleString('en-US')} elements, workers: 2, timing: '${TIMING}', ${RUNS} runs each`);
console.log(`without monitor: ${fmt(a)} (median)`);
console.log(`with monitor:    ${fmt(b)} (median)`);
console.log(`ratio of medians: ${(b / a).toFixed(3)} (overhead ${pct(b / a)})`);
console.log(`median paired ratio: ${median(ratios).toFixed(3)} (overhead ${pct(median(ratios))})`);
