/**
 * A test bus over a Unix socket, so that functions running in any realm — this one, a worker
 * thread, a child process — can report to the test and wait on it. Fixture side:
 * test/fixtures/bus-client.mjs. Every call is acknowledged before the fixture goes on, so what the
 * bus has recorded is causally ordered with what the functions did: when `fn` has returned, its
 * events are here.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BusEvent {
  type: string;
  [key: string]: unknown;
}

export interface Bus {
  /** Every event so far, in the order received. */
  readonly events: BusEvent[];
  /** Events of one type. */
  of(type: string): BusEvent[];
  /** Resolves once `count` events of `type` (matching `where`) have arrived. */
  waitFor(type: string, count?: number, where?: (e: BusEvent) => boolean): Promise<BusEvent[]>;
  /** Opens a gate: fixture calls waiting on it go on; later waits pass at once. */
  open(gate: string): void;
  /** Calls in work now (enter − exit) and the most seen at once. */
  readonly active: number;
  readonly maxActive: number;
  /** What a failed test was still waiting for, and the last events: for its report. */
  describe(): string;
  /** Forgets events, counters and gates (between tests). */
  reset(): void;
  close(): Promise<void>;
}

export async function startBus(): Promise<Bus> {
  const dir = mkdtempSync(join(tmpdir(), 'rxp-bus-'));
  const path = join(dir, 'bus.sock');
  const sockets = new Set<Socket>();
  const events: BusEvent[] = [];
  const counters = new Map<string, number>();
  const opened = new Set<string>();
  const waitingGates = new Map<string, Array<() => void>>();
  const watchers = new Set<() => void>();
  /** The waits not yet met, by what they wait for. */
  const waits = new Map<() => void, string>();
  let active = 0;
  let maxActive = 0;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        handle(socket, JSON.parse(line));
      }
    });
  });

  function reply(socket: Socket, id: number, value: unknown = null) {
    if (!socket.destroyed) socket.write(JSON.stringify({ id, value }) + '\n');
  }

  function handle(socket: Socket, msg: { id: number; event: BusEvent }) {
    const { id, event } = msg;
    events.push(event);
    switch (event.type) {
      case 'enter':
        active++;
        maxActive = Math.max(maxActive, active);
        break;
      case 'exit':
        active--;
        break;
    }
    for (const w of [...watchers]) w();
    if (event.type === 'count') {
      const key = String(event.key);
      const n = (counters.get(key) ?? 0) + 1;
      counters.set(key, n);
      return reply(socket, id, n);
    }
    if (event.type === 'gate') {
      const gate = String(event.gate);
      if (opened.has(gate)) return reply(socket, id);
      const list = waitingGates.get(gate) ?? [];
      list.push(() => reply(socket, id));
      waitingGates.set(gate, list);
      return;
    }
    reply(socket, id);
  }

  await new Promise<void>((resolve) => server.listen(path, resolve));
  process.env.RXP_TEST_BUS = path;

  const bus: Bus = {
    events,
    of: (type) => events.filter((e) => e.type === type),
    waitFor(type, count = 1, where = () => true) {
      return new Promise((resolve) => {
        const check = () => {
          const found = events.filter((e) => e.type === type && where(e));
          if (found.length >= count) {
            watchers.delete(check);
            waits.delete(check);
            resolve(found);
          }
        };
        watchers.add(check);
        waits.set(check, `${count} × ${type}${where.length > 0 ? ' (filtered)' : ''}`);
        check();
      });
    },
    open(gate) {
      opened.add(gate);
      for (const release of waitingGates.get(gate) ?? []) release();
      waitingGates.delete(gate);
    },
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
    describe() {
      const waiting = [...waits.values()];
      const gates = [...waitingGates.keys()];
      return [
        `bus: waiting for ${waiting.length > 0 ? waiting.join(', ') : 'nothing'}; calls waiting on gates: ${gates.length > 0 ? gates.join(', ') : 'none'}; in work: ${active}`,
        `last events: ${events.slice(-15).map((e) => JSON.stringify(e)).join(' ')}`,
      ].join('\n');
    },
    reset() {
      for (const check of waits.keys()) watchers.delete(check);
      waits.clear();
      events.length = 0;
      counters.clear();
      opened.clear();
      waitingGates.clear();
      active = 0;
      maxActive = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return bus;
}
