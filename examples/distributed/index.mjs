// Runs a stage on two remote workers over NATS JetStream, all on this machine: a throwaway
// nats-server (installed by scripts/ensure-nats-server.sh when missing), two rxjs-parallel-worker
// processes serving ./tasks.mjs, and a pipeline on natsScheduler; prints the figures.
//   node examples/distributed/index.mjs          (after npm run build)
// In production each worker runs on its own host, against your NATS servers:
//   npx rxjs-parallel-worker --servers nats://nats:4222 --stream lines ./tasks.mjs
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { fromIterable, mapParallel, task } from 'rxjs-parallel';
import { natsScheduler } from 'rxjs-parallel/nats';
import { startNatsServer } from '../../scripts/nats-server.mjs';

const tasks = new URL('./tasks.mjs', import.meta.url);
const command = fileURLToPath(new URL('../../dist/esm/nats/bin.js', import.meta.url)); // the package's `rxjs-parallel-worker`

const server = await startNatsServer(); // a free loopback port, JetStream in a temporary directory
const workers = [1, 2].map(() =>
  spawn(process.execPath, [command, '--servers', server.url, '--stream', 'lines', '--concurrency', '2', fileURLToPath(tasks)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  }),
);
await Promise.all(workers.map((w) => new Promise((ready) => w.stderr.on('data', (d) => String(d).includes('ready:') && ready()))));

const nats = natsScheduler({ servers: server.url, stream: 'lines', workers: 4 }); // 4 slots: 2 on each worker
const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} has ${(i % 7) + 3} words`.padEnd(40, ' x'));

const t0 = performance.now();
const counted = await lastValueFrom(
  fromIterable(lines).pipe(
    mapParallel(task(tasks, 'countWords'), { scheduler: nats, onStart: task(tasks, 'open'), batchSize: 50, ordered: true }),
    toArray(),
  ),
);
const ms = performance.now() - t0;

const words = counted.reduce((sum, r) => sum + r.words, 0);
const byWorker = new Map();
for (const r of counted) byWorker.set(r.worker, (byWorker.get(r.worker) ?? 0) + 1);
console.log(`${workers.length} workers, 4 slots: ${counted.length} lines, ${words} words in ${ms.toFixed(0)} ms (${Math.round((counted.length / ms) * 1000)} lines/s)`);
for (const [worker, n] of byWorker) console.log(`  ${worker}: ${n} lines`);
console.log(`in source order: ${counted.every((r, i) => r.words === lines[i].split(/\s+/).filter(Boolean).length) ? 'yes' : 'no'}`);

await nats.close();
await Promise.all(workers.map((w) => new Promise((exit) => (w.once('exit', exit), w.kill('SIGTERM'))))); // SIGTERM drains, then exits
await server.close();
