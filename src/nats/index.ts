/**
 * rxjs-parallel/nats: run any stage on worker processes on other hosts, over NATS JetStream.
 * `natsScheduler` is the producer's side; `rxjs-parallel-worker` (this package's command) is the
 * workers'. Needs the optional peer dependencies `@nats-io/transport-node` and `@nats-io/jetstream`.
 * @module
 */
export { natsScheduler } from './scheduler.js';
export {
  NATS_DEFAULTS,
  type NatsSchedulerOptions,
  type NatsConnectionOptions,
  type NatsTlsOptions,
} from './options.js';
