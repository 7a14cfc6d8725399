// The conformance suite on natsScheduler, unchanged: a real nats-server on a free loopback port,
// two rxjs-parallel-worker processes serving the suite's fixture module, the bus reached from
// their threads over its Unix socket.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { natsScheduler } from 'rxjs-parallel/nats';
import { fixtures, lateScheduler, startNatsServer, startWorker, type NatsServer, type WorkerProcess } from '../support/nats.js';
import { conformance } from './suite.js';

let server: NatsServer;
let workers: WorkerProcess[] | undefined;
const shared = lateScheduler();
const stream = 'conformance';

beforeAll(async () => {
  server = await startNatsServer();
  shared.set(natsScheduler({ servers: server.url, stream, workers: 4 }));
});

// The workers start once the suite's bus is listening (its beforeAll has run), so that they
// inherit its address; one slot each more than the 4 + 2 the suite's schedulers claim at most.
beforeEach(async () => {
  if (workers) return;
  workers = [0, 1].map(() => startWorker(['--servers', server.url, '--stream', stream, '--concurrency', '4', fixtures('conformance.mjs')]));
  await Promise.all(workers.map((w) => w.ready));
});

afterAll(async () => {
  await shared.scheduler.close();
  await Promise.all((workers ?? []).map((w) => w.stop()));
  await server?.close();
});

conformance('nats', () => natsScheduler({ servers: server.url, stream, workers: 2 }), { scheduler: () => shared.scheduler });
