import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ReplaySubject, type Observable } from 'rxjs';
import { InvalidOptionError } from '../errors.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import { checkSchedulers, makeScheduler, type MadeScheduler, type SchedulerEntry } from './kinds.js';
import { warmUp } from './warm.js';

/** The options of `ParallelModule.forRoot()`, and what the `useFactory` of `forRootAsync()` returns. */
export interface ParallelModuleOptions {
  /**
   * The app's schedulers by name: `{ kind, ...options }` (`'task'`, `'sync'`, `'thread'` with the
   * options of `threadScheduler()`, `'process'` with those of `processScheduler()`), or a
   * `Scheduler` the app made (taken as it is, not warmed, closed at shutdown). Each is injected
   * with `@InjectScheduler(name)`.
   *
   * ```ts
   * { cpu: { kind: 'thread', workers: 4 }, io: { kind: 'task' } }
   * ```
   */
  schedulers: Record<string, SchedulerEntry>;
}

/**
 * The schedulers of a `ParallelModule`, by name, and their lifecycle in the app: the workers of
 * each thread or process pool start in `onApplicationBootstrap` (so the first request does not wait
 * for them), and every scheduler is closed in `beforeApplicationShutdown` (with
 * `app.enableShutdownHooks()`, on SIGTERM too), after `shutdown$` has ended the pipelines that
 * listen to it. Injected like any provider once `ParallelModule` is imported.
 *
 * ```ts
 * constructor(private readonly parallel: ParallelService) {}
 * stream() {
 *   return source$.pipe(
 *     mapParallel(score, { scheduler: this.parallel.scheduler('cpu') }),
 *     takeUntil(this.parallel.shutdown$), // completes, and runs every onEnd, when the app shuts down
 *   );
 * }
 * ```
 * @see ParallelModule, InjectScheduler
 */
export class ParallelService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ParallelModule');
  private readonly shuttingDown = new ReplaySubject<void>(1);

  /**
   * Emits once, then completes, when the app begins to shut down (`beforeApplicationShutdown`),
   * before the schedulers are closed; replays to a later subscriber. `takeUntil(shutdown$)` ends a
   * pipeline cleanly: it completes, its calls in work see `ctx.signal` abort, and every `onEnd`
   * runs. A pipeline that does not listen is ended by the close of its pool instead: its elements
   * in work fail with `WorkerCrashedError`, and its `onEnd` runs all the same.
   */
  readonly shutdown$: Observable<void> = this.shuttingDown.asObservable();

  /** @internal Made by the module, from its options; see {@link createParallelService}. */
  constructor(private readonly made: ReadonlyMap<string, MadeScheduler>) {}

  /** The names of the module's schedulers, in the order of the options. */
  get names(): string[] {
    return [...this.made.keys()];
  }

  /**
   * The scheduler named `name` in the module's options.
   * @throws {InvalidOptionError} when the module has no scheduler of that name.
   */
  scheduler(name: string): Scheduler {
    const made = this.made.get(name);
    if (!made) throw new InvalidOptionError('name', `the name of one of the ParallelModule schedulers (${this.names.join(', ')})`, name);
    return made.scheduler;
  }

  /** Starts the workers of every pool, and waits until each has loaded. Called by Nest. */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(
      [...this.made].map(async ([name, { scheduler, warm }]) => {
        if (warm === 0) return;
        await warmUp(scheduler, warm);
        this.logger.log(`Scheduler "${name}": ${warm} ${scheduler.kind} worker${warm === 1 ? '' : 's'} started`);
      }),
    );
  }

  /** Ends the pipelines that listen to `shutdown$`, then closes every scheduler. Called by Nest. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown.next();
    this.shuttingDown.complete();
    const closed = await Promise.allSettled(
      [...this.made].map(async ([name, { scheduler }]) => {
        await scheduler.close();
        this.logger.log(`Scheduler "${name}" closed`);
      }),
    );
    const failed = closed.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}

/**
 * Checks the options and makes every scheduler (no worker starts yet); if one cannot be made, those
 * made before it are closed.
 * @internal
 */
export async function createParallelService(options: unknown): Promise<ParallelService> {
  checkOptions(options);
  const made = new Map<string, MadeScheduler>();
  try {
    for (const [name, entry] of Object.entries(options.schedulers)) made.set(name, await makeScheduler(name, entry));
  } catch (error) {
    await Promise.allSettled([...made.values()].map(({ scheduler }) => scheduler.close()));
    throw error;
  }
  return new ParallelService(made);
}

/**
 * Checks the module's options; the `isGlobal` of `forRoot()` is allowed beside them.
 * @throws {InvalidOptionError} naming the option, e.g. `schedulers.cpu.workers`.
 * @internal
 */
export function checkOptions(options: unknown): asserts options is ParallelModuleOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', "the ParallelModule options, e.g. { schedulers: { cpu: { kind: 'thread' } } }", options);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'schedulers' && key !== 'isGlobal') {
      throw new InvalidOptionError(key, 'one of the ParallelModule options schedulers, isGlobal (unknown option)', (options as Record<string, unknown>)[key]);
    }
  }
  checkSchedulers((options as { schedulers?: unknown }).schedulers);
}
