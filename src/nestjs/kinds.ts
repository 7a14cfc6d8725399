/**
 * The `kind`s a scheduler of `ParallelModule` may be, and how each is made. This table is the one
 * place a new transport is added: a key in {@link SchedulerKinds} (its options) and an entry in
 * `KINDS` (how to make it; a transport in an entry of its own is imported there, only when named).
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { defaultPoolSize } from '../schedulers/endpoints.js';
import { processScheduler, type ProcessSchedulerOptions } from '../schedulers/process.js';
import { isScheduler, type Scheduler } from '../schedulers/scheduler.js';
import { syncScheduler } from '../schedulers/sync.js';
import { taskScheduler } from '../schedulers/task.js';
import { threadScheduler, type ThreadSchedulerOptions } from '../schedulers/thread.js';

/**
 * The options of each scheduler `kind`, by kind. A transport published in an entry of its own adds
 * its kind here (and to `KINDS`), e.g. `nats: NatsSchedulerOptions`.
 */
export interface SchedulerKinds {
  /** {@link taskScheduler}: async calls in this event loop, for I/O-bound work. */
  task: {};
  /** {@link syncScheduler}: inline, one element at a time, for debugging. */
  sync: {};
  /** {@link threadScheduler}: a pool of worker threads, for CPU-bound work. */
  thread: ThreadSchedulerOptions;
  /** {@link processScheduler}: a pool of child processes, for work that needs isolation. */
  process: ProcessSchedulerOptions;
}

/**
 * One named scheduler of `ParallelModule`: `{ kind, ...options of that kind }`, e.g.
 * `{ kind: 'thread', workers: 4 }`.
 */
export type SchedulerConfig = { [K in keyof SchedulerKinds]: { kind: K } & SchedulerKinds[K] }[keyof SchedulerKinds];

/** How one kind is made, checked, and how many of its workers to start at bootstrap. */
interface Kind<O> {
  /** Makes the scheduler; throws {@link InvalidOptionError} for a bad option. Starts no worker. */
  create(options: O): Scheduler | Promise<Scheduler>;
  /** Throws {@link InvalidOptionError} for a bad option; absent: checked when made, at bootstrap. */
  check?(options: O): void;
  /** Workers to start before the app serves anything; absent: nothing to start. */
  warm?(options: O): number | Promise<number>;
}

/** The task and sync schedulers take no options: concurrency is each stage's `workers`. */
function withoutOptions(kind: string, make: () => Scheduler): Kind<{}> {
  const check = (options: Record<string, unknown>) => {
    const [key] = Object.keys(options);
    if (key !== undefined) throw new InvalidOptionError(key, `absent: a ${kind} scheduler takes no options (set \`workers\` on each stage)`, options[key]);
  };
  return { check, create: (options) => (check(options), make()) };
}

const poolSize = (o: { workers?: number }) => o.workers ?? defaultPoolSize();

const KINDS: { [K in keyof SchedulerKinds]: Kind<SchedulerKinds[K]> } = {
  task: withoutOptions('task', taskScheduler),
  sync: withoutOptions('sync', syncScheduler),
  // A pool made only to check its options holds nothing: its workers start when a stage leases one.
  thread: { create: (o) => threadScheduler(o), check: (o) => void threadScheduler(o), warm: poolSize },
  process: { create: (o) => processScheduler(o), check: (o) => void processScheduler(o), warm: poolSize },
  // A transport in an entry of its own is imported only when an app names it, so that this entry
  // does not load its client library otherwise, e.g.:
  // nats: { create: async (o) => (await import('rxjs-parallel/nats')).natsScheduler(o) },
};

/** What `schedulers` maps each name to: a config, or a scheduler made by the app. */
export type SchedulerEntry = SchedulerConfig | Scheduler;

/** A scheduler of the module, made, and how many workers to start at bootstrap. */
export interface MadeScheduler {
  readonly scheduler: Scheduler;
  readonly warm: number;
}

/**
 * Checks `schedulers` and each entry (what can be checked before the app starts), naming the
 * entry's option in the {@link InvalidOptionError}: `schedulers.cpu.workers`.
 * @internal
 */
export function checkSchedulers(schedulers: unknown): asserts schedulers is Record<string, SchedulerEntry> {
  if (typeof schedulers !== 'object' || schedulers === null || Array.isArray(schedulers) || Object.keys(schedulers).length === 0) {
    throw new InvalidOptionError('schedulers', "an object naming at least one scheduler, e.g. { cpu: { kind: 'thread', workers: 4 } }", schedulers);
  }
  for (const [name, entry] of Object.entries(schedulers)) {
    if (isScheduler(entry)) continue;
    const [kind, options] = kindOf(name, entry);
    try {
      kind.check?.(options);
    } catch (error) {
      throw renamed(name, error);
    }
  }
}

/**
 * Makes the scheduler of one entry; an app's own scheduler is taken as it is, and not warmed.
 * @internal
 */
export async function makeScheduler(name: string, entry: SchedulerEntry): Promise<MadeScheduler> {
  if (isScheduler(entry)) return { scheduler: entry, warm: 0 };
  const [kind, options] = kindOf(name, entry);
  try {
    return { scheduler: await kind.create(options), warm: kind.warm ? await kind.warm(options) : 0 };
  } catch (error) {
    throw renamed(name, error);
  }
}

/** The entry's kind, and its options without `kind`. */
function kindOf(name: string, entry: unknown): [Kind<any>, Record<string, unknown>] {
  const kinds = Object.keys(KINDS).map((k) => `'${k}'`).join(', ');
  if (typeof entry !== 'object' || entry === null) {
    throw new InvalidOptionError(`schedulers.${name}`, `{ kind: ${kinds}, ...its options }, or a Scheduler`, entry);
  }
  const { kind, ...options } = entry as { kind?: unknown };
  if (typeof kind !== 'string' || !Object.hasOwn(KINDS, kind)) {
    throw new InvalidOptionError(`schedulers.${name}.kind`, `one of ${kinds}`, kind);
  }
  return [KINDS[kind as keyof SchedulerKinds], options];
}

/** The same error, with the option named from `schedulers` down. */
function renamed(name: string, error: unknown): unknown {
  if (!(error instanceof InvalidOptionError)) return error;
  return new InvalidOptionError(`schedulers.${name}.${error.option}`, error.expected, error.received);
}
