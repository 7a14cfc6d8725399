// The raw NATS JetStream peer, written plainly, the way an application would without a library: a
// work-queue stream, one durable pull consumer shared by the worker processes
// (bench/workers/nats-raw-worker.mjs), jobs published with `js.publish`, results on one reply
// subject of the producer, deduplicated by job id (delivery is at least once). At most `inFlight`
// jobs are outstanding, as a streaming application would keep them.
import { fork } from 'node:child_process';
import { connect, createInbox } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';

const workerScript = new URL('../workers/nats-raw-worker.mjs', import.meta.url);

/**
 * Makes the stream and its consumer, starts `workers` worker processes, and returns
 * `{ run(values) → Promise<{ count, sum }>, close() }`.
 */
export async function rawNats({ url, stream, workers, inFlight, ackWait = 30_000 }) {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  await jsm.consumers.add(stream, {
    durable_name: 'raw-workers',
    ack_policy: AckPolicy.Explicit,
    ack_wait: ackWait * 1_000_000,
    filter_subject: `${stream}.jobs`,
  });
  const js = jetstream(nc);
  const children = Array.from({ length: workers }, () => fork(workerScript, [url, stream], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))));
  const reply = createInbox();
  let onResult;
  nc.subscribe(reply, { callback: (_err, m) => onResult(m.json()) });

  /**
   * Runs every value of an iterable through the workers (read as jobs are sent); resolves with the
   * count and sum of the results. `received(id, pid)` hears of each job's first result, and which worker sent it.
   */
  function run(values, received = () => {}) {
    const source = values[Symbol.iterator]();
    return new Promise((resolve, reject) => {
      const pending = new Set();
      let next = 0;
      let done = false;
      let count = 0;
      let sum = 0;
      const send = () => {
        const item = source.next();
        if (item.done) {
          done = true;
          return;
        }
        const id = next++;
        pending.add(id);
        js.publish(`${stream}.jobs`, JSON.stringify({ id, reply, value: item.value })).catch(reject);
      };
      onResult = ({ id, value, pid }) => {
        if (!pending.delete(id)) return; // a duplicate: delivered twice, answered twice
        count += Array.isArray(value) ? value.length : 1;
        sum += Array.isArray(value) ? value.reduce((a, v) => a + v, 0) : value;
        received(id, pid);
        if (!done) send();
        if (done && pending.size === 0) resolve({ count, sum });
      };
      for (let i = 0; i < inFlight && !done; i++) send();
      if (done && pending.size === 0) resolve({ count: 0, sum: 0 });
    });
  }

  async function close() {
    const exited = (c) => c.exitCode !== null || c.signalCode !== null;
    await Promise.all(children.map((c) => new Promise((resolve) => (exited(c) ? resolve() : (c.once('exit', resolve), c.kill('SIGTERM'))))));
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
  }
  return { run, close, children };
}
