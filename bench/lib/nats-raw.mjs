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

  /** Runs every value through the workers; resolves with the count and sum of the results. */
  function run(values) {
    return new Promise((resolve, reject) => {
      const pending = new Map();
      let next = 0;
      let count = 0;
      let sum = 0;
      const send = () => {
        const id = next++;
        pending.set(id, true);
        js.publish(`${stream}.jobs`, JSON.stringify({ id, reply, value: values[id] })).catch(reject);
      };
      onResult = ({ id, value }) => {
        if (!pending.delete(id)) return; // a duplicate: delivered twice, answered twice
        count += Array.isArray(value) ? value.length : 1;
        sum += Array.isArray(value) ? value.reduce((a, v) => a + v, 0) : value;
        if (next < values.length) send();
        else if (pending.size === 0) resolve({ count, sum });
      };
      if (values.length === 0) return resolve({ count: 0, sum: 0 });
      for (let i = 0; i < Math.min(inFlight, values.length); i++) send();
    });
  }

  async function close() {
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : (c.once('exit', resolve), c.kill('SIGTERM'))))));
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
  }
  return { run, close, children };
}
