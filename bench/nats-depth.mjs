// NATS, what a slot holds in flight against its rate: the `ours` stage of bench/nats.mjs at several
// `prefetch` values, beside the raw JetStream harness at its fixed depth, in alternating rounds on one
// nats-server, medians over the rounds. It backs natsScheduler's default `prefetch` and the sizing
// advice in docs/distributed.md. Not part of `npm run bench` (about 4 minutes at the defaults).
//   node bench/nats-depth.mjs [--prefetch=128,256,512,1000,2000] [--batch=100] [--rounds=3] [--n=200000]
import { startNatsServer } from '../scripts/nats-server.mjs';
import { log, parseArgs } from './lib/common.mjs';
import { BATCH, ours, raw, RAW_IN_FLIGHT, WORKERS } from './nats.mjs';

const args = parseArgs();
const prefetches = String(args.prefetch ?? '128,256,512,1000,2000').split(',').map(Number);
const batch = Number(args.batch ?? BATCH);
const rounds = Number(args.rounds ?? 3);
const n = Number(args.n ?? (batch === 1 ? 10_000 : 200_000));
if (batch !== 1 && batch !== BATCH) throw new Error(`--batch: expected 1 or ${BATCH} (the raw harness's two job shapes), received ${batch}`);
if (n % batch !== 0) throw new Error(`--n: expected a multiple of --batch (${batch}), received ${n}`);
const shape = batch === 1 ? 'tiny' : 'b100';
const rawDepth = RAW_IN_FLIGHT[shape] * batch;

const server = await startNatsServer();
const rates = new Map([...prefetches.map((p) => [p, []]), ['raw', []]]);
let streams = 0;
try {
  for (let round = 0; round < rounds; round++) {
    // Rotated so that no configuration always runs first in a round.
    const order = [...rates.keys()];
    const configs = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
    for (const config of configs) {
      const stream = `depth-${streams++}`;
      const made = config === 'raw' ? await raw(server.url, stream, { shape }) : await ours(server.url, stream, { batchSize: batch, prefetch: config });
      try {
        await made.run(Math.min(n, 5000)); // warm: V8, the slots, the consumers
        const t0 = performance.now();
        const result = await made.run(n);
        const ms = performance.now() - t0;
        const sum = (n * (n - 1)) / 2 + n; // x + 1 over 0..n-1
        if (result.count !== n || result.sum !== sum) throw new Error(`${config}: ${result.count} results summing to ${result.sum}, expected ${n} summing to ${sum}`);
        rates.get(config).push((n / ms) * 1000);
      } finally {
        await made.close();
      }
    }
    log(`round ${round + 1}/${rounds} done`);
  }
} finally {
  await server.close();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const rawMedian = median(rates.get('raw'));
const inFlight = (prefetch) => WORKERS * batch * (1 + Math.ceil(prefetch / batch));
console.log(`\nbatchSize ${batch}, ${WORKERS} worker processes, ${n} elements, ${rounds} rounds (median, range):\n`);
console.log('| `prefetch` | in flight | elements/s | ÷ raw |');
console.log('|---|---|---|---|');
for (const [config, xs] of rates) {
  const what = config === 'raw' ? `raw harness (${RAW_IN_FLIGHT[shape]} jobs)` : `\`${config}\``;
  const depth = config === 'raw' ? rawDepth : inFlight(config);
  console.log(`| ${what} | ${depth} | ${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}) | ${(median(xs) / rawMedian).toFixed(2)}× |`);
}
process.exit(0);
