import { WorkerPool } from '../schedulers/pool.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import { resolveNatsOptions, type NatsSchedulerOptions } from './options.js';
import { NatsProducer } from './producer.js';

/** The scheduler `natsScheduler` makes: the thread/process pool over NATS worker slots, and the connection. */
class NatsScheduler extends WorkerPool {
  constructor(private readonly producer: NatsProducer) {
    const s = producer.settings;
    super({
      kind: 'nats',
      workers: s.workers,
      cancelGrace: s.cancelGrace,
      startTimeout: s.startTimeout,
      endTimeout: s.endTimeout,
      prefetch: s.prefetch,
      spawn: producer.spawn,
      startHint: `is an rxjs-parallel-worker with free slots serving stream "${s.stream}" on ${s.connection.servers.join(', ')}?`,
    });
  }

  /** Ends every lease and slot, purges what this producer left in the stream, and closes the connection. */
  override async close(): Promise<void> {
    await super.close();
    await this.producer.close();
  }
}

/**
 * Runs a stage's `fn` on remote workers over NATS JetStream: `rxjs-parallel-worker` processes,
 * on any hosts, serving the modules the stage's TaskRefs name. The scheduler claims up to `workers`
 * worker slots through a work-queue stream (any worker with a free slot takes a claim: competing
 * consumers), runs each stage subscription's leases on them as a thread pool runs them on its
 * threads (`onStart`/`onEnd` once per worker subscription, inside the worker), and deduplicates
 * results by the element's sequence number, so the output is exactly once over at-least-once
 * delivery. A worker that dies is found by its silence within `ackWait`: the element it was
 * running fails with `WorkerCrashedError` (or is retried, `retries`), the others go to another
 * worker. The same TaskRefs run on `'thread'`: only the scheduler changes.
 *
 * ```ts
 * import { natsScheduler } from 'rxjs-parallel/nats';
 * // on each worker host: rxjs-parallel-worker --servers nats://nats:4222 --stream jobs ./dist/tasks.js
 * const nats = natsScheduler({ servers: 'nats://nats:4222', stream: 'jobs', workers: 8 });
 * const score = task<number, number>(new URL('./tasks.js', import.meta.url), 'score');
 * await run(fromIterable([1, 2, 3]).pipe(
 *   mapParallel(score, { scheduler: nats, ordered: true }),   // 8 workers: the scheduler's size
 *   tap(console.log),
 * ));
 * // 1, 4, 9 (score = x => x * x)
 * await nats.close(); // the connection keeps the process alive until then
 * ```
 * @param options The {@link NatsSchedulerOptions} (`stream` is required); validated here, nothing
 * connects until a stage subscribes.
 * @returns A scheduler of kind `'nats'` (batching: a stage's `batchSize` applies; `size`: `workers`).
 * @throws InvalidOptionError naming the option that is wrong.
 * @see threadScheduler, task, docs/distributed.md
 */
export function natsScheduler(options: NatsSchedulerOptions): Scheduler {
  return new NatsScheduler(new NatsProducer(resolveNatsOptions(options)));
}
