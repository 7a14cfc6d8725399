// The rxjs-parallel-worker command and what a worker guarantees, with real processes on a real
// nats-server: its flags and --help, SIGTERM draining, serving only the modules it was started
// with (source text only with --allow-source), the end of a producer that dies (onEnd runs, its
// jobs are purged and stop), and the remote abort of calls in work when a stage fails.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { fromIterable, mapParallel, StageError, task, WorkerFunctionError, type Scheduler } from 'rxjs-parallel';
import { natsScheduler } from 'rxjs-parallel/nats';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startBus, type Bus } from '../support/bus.js';
import { cli, fixtures, startNatsServer, startWorker, type NatsServer, type WorkerProcess } from '../support/nats.js';
import { record } from '../support/util.js';

const tasks = new URL('../fixtures/nats-tasks.mjs', import.meta.url);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let bus: Bus;
let server: NatsServer;
let stream = 0;
let name = '';
let schedulers: Scheduler[] = [];
let workers: WorkerProcess[] = [];

function worker(args: string[], modules = [fixtures('nats-tasks.mjs')]): WorkerProcess {
  const w = startWorker(['--servers', server.url, '--stream', name, ...args, ...modules]);
  workers.push(w);
  return w;
}
function scheduler(options: Record<string, unknown> = {}): Scheduler {
  const s = natsScheduler({ servers: server.url, stream: name, ...options });
  schedulers.push(s);
  return s;
}
/** Runs the command to its exit (flags that make it exit at once). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  bus = await startBus();
  server = await startNatsServer();
});
afterAll(async () => {
  await bus?.close();
  await server?.close();
});
beforeEach(() => {
  bus.reset();
  name = `worker${++stream}`;
});
afterEach(async () => {
  await Promise.all(schedulers.map((s) => s.close()));
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  schedulers = [];
  workers = [];
});

describe('rxjs-parallel-worker: the command', () => {
  it('--help prints the usage, flags and the trusted-network warning, and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: rxjs-parallel-worker \[options\] <module>/);
    for (const flag of ['--servers', '--stream', '--concurrency', '--allow-source', '--creds', '--nkey', '--tlsca', '--token', '--user']) expect(stdout).toContain(flag);
    expect(stdout).toContain('TRUSTED NETWORKS ONLY');
  });

  it('refuses bad invocations with exit code 2 and says why', async () => {
    const missingStream = await runCli([fixtures('nats-tasks.mjs')]);
    expect(missingStream.code).toBe(2);
    expect(missingStream.stderr).toContain('--stream is required');
    const noModule = await runCli(['--stream', 'x']);
    expect(noModule.code).toBe(2);
    expect(noModule.stderr).toContain('name at least one module');
    const absent = await runCli(['--stream', 'x', '/nonexistent/tasks.mjs']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain('no module at /nonexistent/tasks.mjs');
    const badConcurrency = await runCli(['--stream', 'x', '--concurrency', '0', fixtures('nats-tasks.mjs')]);
    expect(badConcurrency.code).toBe(2);
    expect(badConcurrency.stderr).toContain('--concurrency must be an integer');
    const unknown = await runCli(['--stream', 'x', '--frobnicate', fixtures('nats-tasks.mjs')]);
    expect(unknown.code).toBe(2);
  });

  it('fails at start, loudly, on a module that does not load (exit 2) and on a server it cannot reach (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxp-cli-'));
    try {
      writeFileSync(join(dir, 'broken.mjs'), 'export const f = ;\n');
      const broken = await runCli(['--stream', 'x', join(dir, 'broken.mjs')]);
      expect(broken.code).toBe(2);
      expect(broken.stderr).toContain('cannot load the modules: SyntaxError');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const unreachable = await runCli(['--servers', 'nats://127.0.0.1:1', '--stream', 'x', fixtures('nats-tasks.mjs')]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot start');
  });

  // Batches of 16 numbers travel as one Float64Array (RUN_NUMBERS): the drain gives back what is left of one.
  it.each([
    { n: 10, batchSize: 1 },
    { n: 40, batchSize: 16 },
  ])('SIGTERM drains: the element in work finishes here, the queued ones run elsewhere, onEnd runs, exit 0 (batchSize $batchSize)', { timeout: 60_000 }, async ({ n, batchSize }) => {
    const first = worker(['--concurrency', '1']);
    const second = worker(['--concurrency', '1']);
    await Promise.all([first.ready, second.ready]);
    const nats = scheduler({ workers: 2 });
    const { values, result } = record(
      fromIterable(range(n)).pipe(mapParallel(task(tasks, 'gated'), { scheduler: nats, workers: 2, batchSize, onEnd: task(tasks, 'onEnd') })),
    );
    const started = await bus.waitFor('start', 2);
    const draining = started[0];
    const victim = [first, second].find((w) => w.child.pid === draining.pid)!;
    const stopped = victim.stop('SIGTERM');
    // Its slot is given back once the element in work is done: a third worker takes it over.
    worker(['--concurrency', '1']);
    bus.open(`g${draining.i}`);
    expect(await stopped).toEqual({ code: 0, signal: null });
    expect(bus.of('finish').filter((e) => e.pid === draining.pid).map((e) => e.i)).toEqual([draining.i]); // finished there, alone
    expect(bus.of('onEnd').filter((e) => e.pid === draining.pid)).toHaveLength(1);
    for (const i of range(n)) bus.open(`g${i}`);
    const { completed } = await result;
    expect(completed).toBe(true);
    expect([...(values as number[])].sort((a, b) => a - b)).toEqual(range(n)); // each once
    expect(bus.of('finish').map((e) => e.i).sort((a, b) => (a as number) - (b as number))).toEqual(range(n));
  });
});

describe('rxjs-parallel-worker: what it runs', () => {
  it('runs only the modules it serves: another module fails the stage with WorkerFunctionError', { timeout: 30_000 }, async () => {
    await worker(['--concurrency', '1']).ready;
    const other = task<number, number>(new URL('../fixtures/conformance.mjs', import.meta.url), 'double');
    const { result } = record(fromIterable([1]).pipe(mapParallel(other, { scheduler: scheduler({ workers: 1 }), workers: 1 })));
    const { error } = await result;
    expect(error).toBeInstanceOf(WorkerFunctionError);
    expect((error as WorkerFunctionError).message).toContain('is not a module this worker serves');
  });

  it('finds a served module by its file name when it sits at another path than on the producer', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxp-served-'));
    try {
      copyFileSync(fixtures('nats-plain.mjs'), join(dir, 'nats-plain.mjs'));
      await worker(['--concurrency', '1'], [join(dir, 'nats-plain.mjs')]).ready;
      const triple = task<number, number>(new URL('../fixtures/nats-plain.mjs', import.meta.url), 'triple');
      const out = await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(triple, { scheduler: scheduler({ workers: 1 }), workers: 1, ordered: true }), toArray()));
      expect(out).toEqual([3, 6, 9]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a function sent as source text, unless started with --allow-source', { timeout: 30_000 }, async () => {
    await worker(['--concurrency', '1']).ready;
    const { result } = record(fromIterable([1]).pipe(mapParallel((x: number) => x * 2, { scheduler: scheduler({ workers: 1 }), workers: 1 })));
    const { error } = await result;
    expect(error).toBeInstanceOf(WorkerFunctionError);
    expect((error as WorkerFunctionError).message).toContain('--allow-source');
    await Promise.all(schedulers.map((s) => s.close()));
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));

    name = `${name}-trusting`;
    await worker(['--concurrency', '1', '--allow-source']).ready;
    const out = await lastValueFrom(fromIterable([1, 2]).pipe(mapParallel((x: number) => x * 2, { scheduler: scheduler({ workers: 1 }), workers: 1, ordered: true }), toArray()));
    expect(out).toEqual([2, 4]);
  });
});

describe('rxjs-parallel-worker: the stage ends elsewhere', () => {
  it('a producer that dies: its workers abort its calls, run onEnd within ackWait, purge its jobs, run nothing more', { timeout: 60_000 }, async () => {
    const pair = [worker(['--concurrency', '1']), worker(['--concurrency', '1'])];
    await Promise.all(pair.map((w) => w.ready));
    const producer = spawn(process.execPath, [fixtures('nats-producer.mjs'), server.url, name, 'gated', '50'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => producer.once('exit', resolve));
    const started = await bus.waitFor('start', 2);
    producer.kill('SIGKILL');
    await exited;
    const aborted = await bus.waitFor('abort', 2); // found silent after ackWait (1 s): the calls in work are aborted
    expect(new Set(aborted.map((e) => e.i))).toEqual(new Set(started.map((e) => e.i)));
    const ends = await bus.waitFor('onEnd', 2);
    expect(new Set(ends.map((e) => e.pid))).toEqual(new Set(started.map((e) => e.pid)));
    for (const i of range(50)) bus.open(`g${i}`);
    // Each worker says so once its claim is acknowledged and the producer's jobs are purged.
    await Promise.all(pair.map((w) => w.waitForLog(/ended without its producer; what it left in the stream is gone/)));
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(name)).state.messages).toBe(0); // nothing of the dead producer is left
    } finally {
      await nc.close();
    }
    expect(bus.of('start')).toHaveLength(2); // no worker started another of its elements
  });

  it('a stage that fails aborts ctx.signal of the calls in work on the remote workers, and runs every onEnd', { timeout: 30_000 }, async () => {
    await worker(['--concurrency', '3']).ready;
    const nats = scheduler({ workers: 3 });
    const items = range(3).map((i) => ({ i, fail: i === 0 }));
    const { result } = record(fromIterable(items).pipe(mapParallel(task(tasks, 'gated'), { scheduler: nats, workers: 3, onEnd: task(tasks, 'onEnd') })));
    await bus.waitFor('start', 3);
    bus.open('g0');
    const { error } = await result;
    expect(error).toBeInstanceOf(StageError);
    const aborted = await bus.waitFor('abort', 2);
    expect(aborted.map((e) => e.i).sort()).toEqual([1, 2]);
    expect(bus.of('onEnd')).toHaveLength(3);
    for (const i of range(3)) bus.open(`g${i}`); // the aborted calls wait on nothing more
  });
});

// After a NATS restart, workers often reconnect before the producer does: a bind nobody answers
// then means "not back yet", not "gone". (Taking it for gone dropped the producer's new claims and
// purged its inboxes, and a running pipeline hung.)
describe('rxjs-parallel-worker: a producer that does not answer, or gives a slot up', () => {
  type Nats = Awaited<ReturnType<typeof connect>>;

  /** A worker of one slot, and a connection that plays the producer by hand; both go at the end. */
  async function withHandMadeProducer(run: (w: WorkerProcess, nc: Nats) => Promise<void>): Promise<void> {
    const w = worker(['--concurrency', '1']);
    await w.ready;
    const nc = await connect({ servers: server.url });
    try {
      await run(w, nc);
    } finally {
      await nc.close();
    }
  }

  /** Publishes a slot claim by hand, as a producer would, answering on `reply`. */
  async function publishClaim(nc: Nats, producer: string, silence: number, slot = 1) {
    const claim = { v: 1, producer, slot, reply: `test-reply.${producer}.${slot}`, inbox: `${name}.in.${producer}.${slot}`, consumer: `test-${producer}-${slot}`, heartbeat: 1000, silence };
    await jetstream(nc).publish(`${name}.claim.${producer}.${slot}`, JSON.stringify(claim));
    return claim;
  }

  /**
   * The producer's side of a slot: its inbox consumer, and an answer to every bind (the first one
   * binds). `control` resolves with the worker's control subject once bound; `binds` counts them.
   */
  async function serveSlot(nc: Nats, claim: Awaited<ReturnType<typeof publishClaim>>) {
    await (await jetstreamManager(nc)).consumers.add(name, { durable_name: claim.consumer, filter_subject: claim.inbox, ack_policy: AckPolicy.Explicit });
    let bound!: (control: string) => void;
    const control = new Promise<string>((resolve) => (bound = resolve));
    const binds: unknown[] = [];
    nc.subscribe(claim.reply, {
      callback: (_error, msg) => {
        if (!msg.reply) return; // heartbeats and frames
        const request = msg.json<{ bind: { control: string } }>();
        binds.push(request);
        msg.respond(JSON.stringify(binds.length === 1 ? { ok: true } : { ok: false, reason: 'this slot is held by another worker' }));
        if (binds.length === 1) bound(request.bind.control);
      },
    });
    await nc.flush();
    return { control, binds };
  }

  it('a claim nobody answers goes back to the queue, and is taken once the producer answers', { timeout: 30_000 }, () =>
    withHandMadeProducer(async (w, nc) => {
      const claim = await publishClaim(nc, 'late', 60_000);
      await w.waitForLog(/slot late\.1: its producer did not answer; the claim goes back to the queue/);
      const { binds } = await serveSlot(nc, claim);
      await w.waitForLog(/took slot late\.1/); // offered again, and bound this time
      expect(binds).toHaveLength(1);
      expect(w.stderr()).not.toMatch(/dropped/);
    }));

  it('a slot its producer gives up (an outage on its side) ends there at once, and the producer is not taken for gone', { timeout: 30_000 }, () =>
    withHandMadeProducer(async (w, nc) => {
      const { control } = await serveSlot(nc, await publishClaim(nc, 'given', 60_000, 1));
      await w.waitForLog(/took slot given\.1/);
      nc.publish(await control, JSON.stringify({ release: 'the producer gave the slot up' }));
      await w.waitForLog(/slot given\.1: its producer gave it up; ending it/);
      await serveSlot(nc, await publishClaim(nc, 'given', 60_000, 2));
      await w.waitForLog(/took slot given\.2/); // the next claim of the same producer is served
      expect(w.stderr()).not.toMatch(/went silent|dropped/);
    }));

  it('a silent slot whose producer still answers ends alone: the producer is not taken for gone', { timeout: 30_000 }, () =>
    withHandMadeProducer(async (w, nc) => {
      // The producer binds the slot, then sends it nothing (no heartbeat) for longer than its silence.
      await serveSlot(nc, await publishClaim(nc, 'quiet', 1000, 1));
      await w.waitForLog(/took slot quiet\.1/);
      await w.waitForLog(/slot quiet\.1: its producer no longer uses it; ending it/);
      await serveSlot(nc, await publishClaim(nc, 'quiet', 60_000, 2));
      await w.waitForLog(/took slot quiet\.2/);
      expect(w.stderr()).not.toMatch(/went silent|dropped/);
    }));

  it('a claim whose producer stays silent for its ackWait is dropped', { timeout: 30_000 }, () =>
    withHandMadeProducer(async (w, nc) => {
      await publishClaim(nc, 'gone', 500);
      await w.waitForLog(/slot gone\.1: its producer has not answered for 500 ms \(its ackWait\); dropped, with all it left/);
      expect(w.stderr()).toMatch(/slot gone\.1: its producer did not answer; the claim goes back to the queue/); // first, offered again
      expect(w.stderr()).not.toMatch(/took slot gone/);
    }));
});
