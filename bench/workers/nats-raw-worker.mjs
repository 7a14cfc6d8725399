// The raw NATS JetStream peer's worker process, written plainly: one durable pull consumer shared
// by every worker of the stream (competing consumers), `consume()` with a bounded buffer, each job
// JSON `{ id, reply, value }`, its result published to the producer's reply subject, then acked.
// `value` is a number (x + 1) or an array of numbers (each + 1); the result says which process ran it.
//   node bench/workers/nats-raw-worker.mjs <server url> <stream>
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';

const [url, stream] = process.argv.slice(2);
const nc = await connect({ servers: url });
const js = jetstream(nc);
const consumer = await js.consumers.get(stream, 'raw-workers');
const messages = await consumer.consume({ max_messages: 256 });
process.on('SIGTERM', () => void nc.close().then(() => process.exit(0)));
process.send?.('ready');
for await (const m of messages) {
  const job = m.json();
  const out = Array.isArray(job.value) ? job.value.map((x) => x + 1) : job.value + 1;
  nc.publish(job.reply, JSON.stringify({ id: job.id, value: out, pid: process.pid }));
  m.ack();
}
