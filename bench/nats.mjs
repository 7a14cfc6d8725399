// Scenario — NATS JetStream: natsScheduler with two rxjs-parallel-worker processes beside the raw
// harness written plainly (bench/lib/nats-raw.mjs: a work-queue stream, one durable pull consumer
// shared by two worker processes, results on a reply subject), in the same run on the same server:
// elements/s for tiny elements and for batches of 100, and the stall after a worker is SIGKILLed,
// beside ack_wait.
//   node bench/nats.mjs [--quick] [--run=0] [--libs=ours-tiny,raw-tiny]
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import * as lib from '../dist/esm/index.js';
import { NATS_DEFAULTS, natsScheduler } from '../dist/esm/nats/index.js';
import { startNatsServer } from '../scripts/nats-server.mjs';
import { emitResult, isMain, log, parseArgs, rotated, row } from './lib/common.mjs';
import { rawNats } from './lib/nats-raw.mjs';

const { fromIterable, mapParallel, task } = lib;
const tasksUrl = new URL('./workers/tasks.mjs', import.meta.url);
const cli = fileURLToPath(new URL('../dist/esm/nats/bin.js', import.meta.url));
export const WORKERS = 2;
export const BATCH = 100;
/** Jobs the raw producer keeps outstanding (a stream holds any number; a streaming app bounds them). */
export const RAW_IN_FLIGHT = { tiny: 64, b100: 8 };
/** The default `prefetch` of natsScheduler, at which the targets are taken. */
const PREFETCH = NATS_DEFAULTS.prefetch;
/** Elements a slot holds at `prefetch`: its batch in work and `prefetch` queued, rounded up to whole batches of BATCH. */
const slotDepth = (prefetch) => BATCH * (1 + Math.ceil(prefetch / BATCH));
/**
 * `prefetch` of the `ours-b100-deep` row, shown beside the target's. At the default, which the target
 * is taken at, each slot holds its batch in work and 3 queued, 800 elements over the 2 slots, as the raw
 * producer's 8 jobs of 100. At 1000 (10 queued) the rate stops rising on loopback (bench/nats-depth.mjs).
 * (In the tiny rows the depths differ the other way: ours holds 2 × (prefetch + 1), raw 64.)
 */
const B100_PREFETCH = 1000;
/** ackWait of the crash rows: how long a dead worker's claims (ours) or jobs (raw) wait before they go elsewhere. */
const CRASH_ACK_WAIT = 1000;

export const meta = {
  id: 'nats',
  title: 'NATS JetStream',
  about:
    `Our \`natsScheduler\` and the raw JetStream harness written plainly, on one nats-server (file storage) on loopback, ` +
    `each with ${WORKERS} worker processes, in elements per second (higher is better). Raw: a work-queue stream, one ` +
    'durable pull consumer shared by the worker processes (`consume({ max_messages: 256 })`), jobs as JSON published with ' +
    '`js.publish`, each result published to the producer\'s reply subject and the job acked; the producer dedups by job id ' +
    `and keeps ${RAW_IN_FLIGHT.tiny} jobs outstanding (${RAW_IN_FLIGHT.b100} for batches). Ours: ` +
    `\`natsScheduler({ workers: ${WORKERS} })\`, ${WORKERS} \`rxjs-parallel-worker --concurrency 1\` processes (one slot, ` +
    'one thread each), `fromIterable` into `mapParallel(task(url, \'inc\'), { scheduler })` (its credits bound what is in ' +
    `flight). *Tiny*: one \`x + 1\` per job (ours, at the default \`prefetch\` of ${PREFETCH}, holds up to ${PREFETCH + 1} per slot in flight, ` +
    `${WORKERS * (PREFETCH + 1)} in all, against raw's ${RAW_IN_FLIGHT.tiny}). *Batches of 100*: raw, a job is an array of 100 numbers; ours, ` +
    `\`batchSize: ${BATCH}\` over single elements (results still per element), with the default \`prefetch\` (${PREFETCH} elements, ` +
    `rounded up to ${slotDepth(PREFETCH) / BATCH - 1} batches queued behind the one in work: ${slotDepth(PREFETCH) * WORKERS} elements in flight, against the raw producer's ${RAW_IN_FLIGHT.b100} jobs of ${BATCH}) and, in the \`-deep\` row, with ` +
    `\`prefetch: ${B100_PREFETCH}\` (${B100_PREFETCH / BATCH} batches queued: ${slotDepth(B100_PREFETCH) * WORKERS} elements in flight). Both warm up before the clock. ` +
    `*Crash*: ${WORKERS} workers, ackWait ${CRASH_ACK_WAIT} ms; one worker is SIGKILLed after a quarter of the elements; ` +
    '`stall` is the time from the kill until every element sent before it has come back (raw: redelivered after ' +
    '`ack_wait`; ours: found silent after `ackWait`, re-sent to the other worker), shown beside `ackWait`.',
  unit: 'elements/s',
  better: 'higher',
  extra: { stallMs: { label: 'stall after a SIGKILL, ms', digits: 0 }, ackWaitMs: { label: 'ackWait, ms', digits: 0 } },
  rows: {
    'ours-tiny': 'ours: natsScheduler, tiny elements',
    'raw-tiny': 'raw JetStream harness, tiny jobs',
    'ours-b100': `ours: natsScheduler, \`batchSize: ${BATCH}\``,
    'ours-b100-deep': `ours: natsScheduler, \`batchSize: ${BATCH}\`, \`prefetch: ${B100_PREFETCH}\``,
    'raw-b100': `raw JetStream harness, jobs of ${BATCH} items`,
    'ours-crash': 'ours: natsScheduler, tiny, a worker SIGKILLed',
    'raw-crash': 'raw JetStream harness, tiny, a worker SIGKILLed',
  },
  ratios: [
    ['ours-tiny', 'raw-tiny'],
    ['ours-b100', 'raw-b100'],
    ['ours-b100-deep', 'raw-b100'],
    ['ours-crash', 'raw-crash'],
  ],
  targets: [
    { ratio: ['ours-tiny', 'raw-tiny'], min: 0.8, label: 'NATS, tiny elements: natsScheduler vs the raw JetStream harness' },
    {
      ratio: ['ours-b100', 'raw-b100'],
      min: 0.8,
      label: 'NATS, batches of 100: natsScheduler vs the raw JetStream harness',
      context: [{ ratio: ['ours-b100-deep', 'raw-b100'], label: `ours with \`prefetch: ${B100_PREFETCH}\` (${slotDepth(B100_PREFETCH) * WORKERS} in flight)` }],
    },
  ],
};

/** Starts `rxjs-parallel-worker` processes; resolves once each says it is ready. */
export async function startWorkers(url, stream, count, concurrency) {
  const children = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [cli, '--servers', url, '--stream', stream, '--concurrency', String(concurrency), fileURLToPath(tasksUrl)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    child.log = '';
    await new Promise((resolve, reject) => {
      child.stderr.on('data', (d) => {
        child.log += d;
        if (child.log.includes('ready:')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`rxjs-parallel-worker exited with ${code}: ${child.log}`)));
    });
  }
  return children;
}

/** A worker process that has taken a slot (it logs each one it takes). */
const holdsSlot = (child) => child.log.includes('took slot');

const killAll = (children) =>
  Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGKILL'))))));

/**
 * Feeds 0..n-1 (as elements, or as arrays of BATCH) and resolves with { count, sum, stallMs }:
 * `kill()` is called once a quarter of the results are in, and the stall is measured from then
 * until every job read before it is back.
 */
function tracker(n, kill) {
  let read = 0;
  let received = 0;
  let killedAt;
  let waitingFor;
  let stallMs;
  const outstanding = new Set();
  return {
    *source(items) {
      for (const item of items) {
        outstanding.add(read++);
        yield item;
      }
    },
    got(id) {
      outstanding.delete(id);
      received++;
      if (kill && killedAt === undefined && received >= n / 4) {
        killedAt = performance.now();
        waitingFor = new Set(outstanding);
        kill();
      }
      if (waitingFor && waitingFor.delete(id) && waitingFor.size === 0) stallMs = performance.now() - killedAt;
    },
    stall: () => stallMs,
  };
}

/** Our side: a scheduler and its workers, warmed. `run(n, shape)` resolves with { count, sum, stallMs }. */
export async function ours(url, stream, { batchSize = 1, prefetch, ackWait, crash = false } = {}) {
  // One slot per process for the rates; a spare one each in the crash rows, for the dead worker's slot to move to
  // (a raw worker takes any job, a slot of ours needs a free slot: docs/distributed.md, sizing).
  const workers = await startWorkers(url, stream, WORKERS, crash ? 2 : 1);
  const nats = natsScheduler({ servers: url, stream, workers: WORKERS, ...(ackWait ? { ackWait } : {}), ...(prefetch !== undefined ? { prefetch } : {}) });
  const inc = task(tasksUrl, 'inc');
  const run = (n) =>
    new Promise((resolve, reject) => {
      let count = 0;
      let sum = 0;
      const t = tracker(n, crash ? () => workers.find(holdsSlot)?.kill('SIGKILL') : undefined);
      fromIterable(t.source(Array.from({ length: n }, (_, i) => i)))
        .pipe(mapParallel(inc, { scheduler: nats, batchSize, retries: crash ? 2 : 0 }))
        .subscribe({
          next: (value) => {
            t.got(value - 1);
            count++;
            sum += value;
          },
          error: reject,
          complete: () => resolve({ count, sum, stallMs: t.stall() }),
        });
    });
  return { run, close: async () => (await nats.close(), await killAll(workers)) };
}

/** The raw side, warmed. */
export async function raw(url, stream, { shape = 'tiny', ackWait, crash = false } = {}) {
  const harness = await rawNats({ url, stream, workers: WORKERS, inFlight: RAW_IN_FLIGHT[shape], ...(ackWait ? { ackWait } : {}) });
  const run = async (n) => {
    let last; // the worker that sent the latest result: it holds jobs (the other may hold none)
    const t = tracker(n, crash ? () => harness.children.find((c) => c.pid === last)?.kill('SIGKILL') : undefined);
    const items = shape === 'b100' ? Array.from({ length: n / BATCH }, (_, b) => Array.from({ length: BATCH }, (_, i) => b * BATCH + i)) : Array.from({ length: n }, (_, i) => i);
    const r = await harness.run(t.source(items), (id, pid) => {
      last = pid;
      t.got(id);
    });
    return { ...r, stallMs: t.stall() };
  };
  return { run, close: () => harness.close() };
}

export async function runOnce({ quick = false, run = 0, only } = {}) {
  const server = await startNatsServer();
  const n = { tiny: quick ? 1000 : 10_000, b100: quick ? 10_000 : 200_000, crash: quick ? 1000 : 8000 };
  const plans = {
    'ours-tiny': { make: (s) => ours(server.url, s), count: n.tiny },
    'raw-tiny': { make: (s) => raw(server.url, s), count: n.tiny },
    'ours-b100': { make: (s) => ours(server.url, s, { batchSize: BATCH }), count: n.b100 },
    'ours-b100-deep': { make: (s) => ours(server.url, s, { batchSize: BATCH, prefetch: B100_PREFETCH }), count: n.b100 },
    'raw-b100': { make: (s) => raw(server.url, s, { shape: 'b100' }), count: n.b100 },
    'ours-crash': { make: (s) => ours(server.url, s, { ackWait: CRASH_ACK_WAIT, crash: true }), count: n.crash, crash: true },
    'raw-crash': { make: (s) => raw(server.url, s, { ackWait: CRASH_ACK_WAIT, crash: true }), count: n.crash, crash: true },
  };
  const rows = [];
  try {
    for (const id of rotated(Object.keys(plans), run).filter((id) => !only || only.includes(id))) {
      const plan = plans[id];
      const made = await plan.make(`bench-${id}-${run}`);
      try {
        if (!plan.crash) await made.run(Math.min(plan.count, quick ? 500 : 5000)); // warm: V8, the slots, the consumers
        const t0 = performance.now();
        const result = await made.run(plan.count);
        const ms = performance.now() - t0;
        const expectedSum = (plan.count * (plan.count - 1)) / 2 + plan.count;
        const r = row(id, (plan.count / ms) * 1000, { ...result, expected: plan.count, expectedSum, ms });
        if (plan.crash) {
          r.ackWaitMs = CRASH_ACK_WAIT;
          if (r.stallMs === undefined) r.ok = false;
        }
        log(`  ${id}: ${Math.round(r.value).toLocaleString('en-US')} elements/s${plan.crash ? `, stall ${r.stallMs?.toFixed(0)} ms (ackWait ${CRASH_ACK_WAIT} ms)` : ''}${r.ok ? '' : '  WRONG RESULT'}`);
        rows.push(r);
      } finally {
        await made.close();
      }
    }
  } finally {
    await server.close();
  }
  return { scenario: meta.id, params: { workers: WORKERS, batch: BATCH, rawInFlight: `${RAW_IN_FLIGHT.tiny}/${RAW_IN_FLIGHT.b100}`, ackWaitCrash: CRASH_ACK_WAIT, n: `${n.tiny}/${n.b100}/${n.crash}` }, rows };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  emitResult(await runOnce({ quick: !!args.quick, run: Number(args.run ?? 0), only: args.libs?.split(',') }));
  process.exit(0);
}
