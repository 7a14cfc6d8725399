// A/B of one row between the library as built now (dist/) and as built at an earlier commit, in one
// process, alternating pipeline by pipeline, so that both see the same seconds of a shared host:
// prints each build's median rate and the median of the paired ratios (now ÷ then).
//   npm run build && node bench/ab.mjs <commit> [task|engine] [--pairs=25] [--n=200000]
// `task`: `mapParallel(async (x) => x + 1, { workers: 2 })`, the dispatch scenario's `task` row;
// `engine`: `mapParallel((x) => x + 1, { scheduler: 'sync' })`, its `engine` row. The two builds share
// no code (each is its own module graph), so timing them in turn costs neither its optimized code.
import { prepareBaseline } from './lib/baseline.mjs';
import { drain, median, parseArgs, range } from './lib/common.mjs';

const args = parseArgs();
const [rev, row = 'task'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!rev || !['task', 'engine'].includes(row)) {
  console.error('usage: node bench/ab.mjs <commit> [task|engine] [--pairs=25] [--n=200000]');
  process.exit(2);
}
const pairs = Number(args.pairs ?? 25);
const n = Number(args.n ?? 200_000);
const then = await import((await prepareBaseline(rev, (m) => console.error(m))).url);
const now = await import(new URL('../dist/esm/index.js', import.meta.url).href);

const once = async (lib) => {
  const fn = row === 'task' ? async (x) => x + 1 : (x) => x + 1;
  const options = row === 'task' ? { workers: 2 } : { scheduler: 'sync' };
  const t0 = performance.now();
  await drain(lib.fromIterable(range(n)).pipe(lib.mapParallel(fn, options)));
  return n / ((performance.now() - t0) / 1000);
};

for (let i = 0; i < 6; i++) {
  await once(then);
  await once(now);
}
const rates = { then: [], now: [] };
const ratios = [];
for (let i = 0; i < pairs; i++) {
  // Alternate which goes first, so that neither always follows the other.
  const [a, b] = i % 2 ? [await once(then), await once(now)] : [null, await once(now)];
  const thenRate = a ?? (await once(then));
  rates.then.push(thenRate);
  rates.now.push(b);
  ratios.push(b / thenRate);
}
const fmt = (x) => Math.round(x).toLocaleString('en-US');
console.log(`${row}, ${n.toLocaleString('en-US')} elements, ${pairs} pairs`);
console.log(`then (${rev}): ${fmt(median(rates.then))} elements/s (median)`);
console.log(`now (dist/):  ${fmt(median(rates.now))} elements/s (median)`);
console.log(`median paired ratio, now ÷ then: ${median(ratios).toFixed(3)}`);
