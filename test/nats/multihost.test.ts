// Multi-host: the NATS server, two workers and the producer each on a "host" of their own — a
// Linux network namespace made by this test, joined to the server's by a veth pair, with private
// addresses that exist inside the namespaces only (nothing is added to the machine's own network).
// Each worker reports the addresses of the host it ran on. Where namespaces cannot be made (not
// root, no `ip`, a container without the capability), the same test runs with the processes on
// loopback, and its title says so (RXP_NATS_LOOPBACK=1 asks for that form).
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, startNatsServer, startWorker, type NatsServer, type WorkerProcess } from '../support/nats.js';

const tag = `rxp${process.pid % 100_000}`;
/** A private /16 picked from the pid, so that two runs at once do not collide. */
const net = `10.${200 + (process.pid % 50)}`;
const hosts = { w1: 1, w2: 2, p: 3 } as const;
const ns = (host: string) => `${tag}-${host}`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes the hub namespace and one namespace per host, each linked to the hub by a veth pair. */
function makeNamespaces(): boolean {
  if (process.env.RXP_NATS_LOOPBACK === '1') return false;
  try {
    ip('netns', 'add', ns('hub'));
  } catch {
    return false;
  }
  ip('-n', ns('hub'), 'link', 'set', 'lo', 'up');
  for (const [host, n] of Object.entries(hosts)) {
    ip('netns', 'add', ns(host));
    ip('-n', ns(host), 'link', 'set', 'lo', 'up');
    // Both ends are made inside the namespaces: nothing appears in the machine's own network.
    ip('-n', ns('hub'), 'link', 'add', `${tag}h${n}`, 'type', 'veth', 'peer', 'name', `${tag}e${n}`, 'netns', ns(host));
    ip('-n', ns('hub'), 'addr', 'add', `${net}.${n}.1/24`, 'dev', `${tag}h${n}`);
    ip('-n', ns('hub'), 'link', 'set', `${tag}h${n}`, 'up');
    ip('-n', ns(host), 'addr', 'add', `${net}.${n}.2/24`, 'dev', `${tag}e${n}`);
    ip('-n', ns(host), 'link', 'set', `${tag}e${n}`, 'up');
  }
  return true;
}

function removeNamespaces(): void {
  for (const host of ['hub', ...Object.keys(hosts)]) {
    try {
      ip('netns', 'del', ns(host)); // its links go with it
    } catch {
      // not made
    }
  }
}

const namespaces = makeNamespaces();
let server: NatsServer;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  server = await startNatsServer(namespaces ? { host: '0.0.0.0', netns: ns('hub') } : {});
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await server?.close();
  if (namespaces) removeNamespaces();
});

/** The server's address as seen from `host`. */
const url = (host: keyof typeof hosts) => (namespaces ? `nats://${net}.${hosts[host]}.1:${server.port}` : server.url);

describe('natsScheduler across hosts', () => {
  const title = namespaces
    ? 'runs a stage on workers on two hosts (network namespaces), for a producer on a third'
    : 'runs a stage on two worker processes for a producer process, on loopback (network namespaces cannot be made here)';
  it(title, { timeout: 60_000 }, async () => {
    workers = (['w1', 'w2'] as const).map((host) =>
      // One slot each, so that the producer's two slots go one to each host.
      startWorker(['--servers', url(host), '--stream', 'hosts', '--concurrency', '1', fixtures('nats-tasks.mjs')], namespaces ? { netns: ns(host) } : {}),
    );
    await Promise.all(workers.map((w) => w.ready));
    const argv = [fixtures('nats-producer.mjs'), url('p'), 'hosts', 'where', '200'];
    const producer = namespaces ? spawn('ip', ['netns', 'exec', ns('p'), process.execPath, ...argv]) : spawn(process.execPath, argv);
    let stdout = '';
    let stderr = '';
    producer.stdout.on('data', (d) => (stdout += d));
    producer.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => producer.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('done');
    const results = lines.slice(0, -1).map((line) => JSON.parse(line) as { x: number; pid: number; addresses: string[] });
    expect(results.map((r) => r.x)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // Both workers took part, each on its own host.
    // (Under `ip netns exec` the command execs into node: the worker's pid is the child's.)
    expect(new Set(results.map((r) => r.pid))).toEqual(new Set(workers.map((w) => w.child.pid)));
    if (namespaces) {
      const seen = new Set(results.flatMap((r) => r.addresses));
      expect(seen).toEqual(new Set([`${net}.1.2`, `${net}.2.2`]));
    }
  });
});
