// ParallelModule inside a real Nest application context (NestJS 11, the dev dependency), in this
// process: providers, options, the warm-up at bootstrap and the close at shutdown. The example
// apps in examples/nestjs, run over HTTP on Nest 11 (CommonJS) and 12 (ES modules), are
// test/nestjs/example.test.ts. Nest's decorators are applied as calls here (this test compiles
// without experimentalDecorators), which is what `@Injectable()` and friends do.
import { Inject, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, threadId } from 'node:worker_threads';
import { lastValueFrom, map, range, takeUntil, toArray } from 'rxjs';
import { InvalidOptionError, mapParallel, task, threadScheduler, WorkerCrashedError, type Scheduler, type WorkerLike } from 'rxjs-parallel';
import { getSchedulerToken, InjectScheduler, ParallelModule, ParallelService } from 'rxjs-parallel/nestjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBus, type Bus } from '../support/bus.js';
import { deferred, record } from '../support/util.js';

const fixtures = new URL('../fixtures/', import.meta.url);
const workersModule = new URL('workers.mjs', fixtures);
const whoAmI = task<number, { x: number; threadId: number }>(workersModule, 'whoAmI');

/**
 * A `createWorker` that counts the threads it makes and those that have exited: the app-owned
 * worker file of the fixtures (it calls expose(); TaskRefs load there as in the library's own).
 */
function countedWorkers() {
  const threadIds: number[] = [];
  let exited = 0;
  const createWorker = (): WorkerLike => {
    const worker = new Worker(new URL('app.worker.mjs', fixtures));
    threadIds.push(worker.threadId);
    worker.once('exit', () => exited++);
    return worker;
  };
  return {
    createWorker,
    threadIds,
    get started() {
      return threadIds.length;
    },
    get exited() {
      return exited;
    },
  };
}

/** A class with constructor injection, decorated as `@Injectable()` and `@InjectScheduler(...)` would. */
class Consumer {
  constructor(
    readonly cpu: Scheduler,
    readonly io: Scheduler,
    readonly parallel: ParallelService,
  ) {}
}
Injectable()(Consumer);
InjectScheduler('cpu')(Consumer, undefined, 0);
InjectScheduler('io')(Consumer, undefined, 1);
Inject(ParallelService)(Consumer, undefined, 2);

function appModule(imports: unknown[], providers: unknown[] = [Consumer]): new () => object {
  class AppModule {}
  Module({ imports: imports as never[], providers: providers as never[] })(AppModule);
  return AppModule;
}

/** `abortOnError: false`: a failing bootstrap rejects instead of ending the process. */
const start = (module: new () => object) => NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });

describe('ParallelModule (NestJS 11, in-process)', () => {
  let bus: Bus;
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    bus = await startBus(); // workers.mjs reports onStart/onEnd and waits on gates through it
  });

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => {});
    await bus.close();
  });

  it('forRoot provides each scheduler by name, starts the pool workers at bootstrap and closes them on app.close()', async () => {
    const workers = countedWorkers();
    const app = await start(
      appModule([
        ParallelModule.forRoot({ schedulers: { cpu: { kind: 'thread', workers: 2, createWorker: workers.createWorker }, io: { kind: 'task' } } }),
      ]),
    );
    apps.push(app);
    expect(workers.started).toBe(2); // warm before anything ran

    const consumer = app.get(Consumer);
    expect(consumer.cpu.kind).toBe('thread');
    expect(consumer.io.kind).toBe('task');
    expect(consumer.cpu).toBe(consumer.parallel.scheduler('cpu'));
    expect(app.get(getSchedulerToken('io'))).toBe(consumer.io);
    expect(consumer.parallel.names).toEqual(['cpu', 'io']);
    expect(() => consumer.parallel.scheduler('gpu')).toThrow(InvalidOptionError);

    const scored = await lastValueFrom(range(0, 8).pipe(mapParallel(whoAmI, { scheduler: consumer.cpu, workers: 2 }), toArray()));
    expect(scored.map((s) => s.x).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const s of scored) {
      expect(s.threadId).not.toBe(threadId); // not this thread: one of the pool's
      expect(workers.threadIds).toContain(s.threadId);
    }
    expect(workers.started).toBe(2); // the warm workers served it: none started since

    await app.close();
    expect(workers.exited).toBe(2);
  });

  it('forRootAsync takes its options from a factory (imports, inject), and isGlobal provides them to every module', async () => {
    const workers = countedWorkers();
    class ConfigModule {}
    Module({ providers: [{ provide: 'CONFIG', useValue: { cpuWorkers: 1 } }], exports: ['CONFIG'] })(ConfigModule);
    class FeatureModule {} // does not import ParallelModule: isGlobal
    Module({ providers: [Consumer] })(FeatureModule);
    const app = await start(
      appModule(
        [
          ParallelModule.forRootAsync({
            imports: [ConfigModule],
            inject: ['CONFIG'],
            useFactory: (config: { cpuWorkers: number }) => ({
              schedulers: { cpu: { kind: 'thread', workers: config.cpuWorkers, createWorker: workers.createWorker }, io: { kind: 'task' } },
            }),
            isGlobal: true,
          }),
          FeatureModule,
        ],
        [],
      ),
    );
    apps.push(app);
    expect(workers.started).toBe(1);
    const consumer = app.get(Consumer);
    expect(consumer.cpu.kind).toBe('thread');
    const [scored] = await lastValueFrom(range(0, 1).pipe(mapParallel(whoAmI, { scheduler: consumer.cpu }), toArray()));
    expect(workers.threadIds).toEqual([scored.threadId]);
    await app.close();
    expect(workers.exited).toBe(1);
  });

  it('takes a scheduler the app made as it is: not warmed, and closed at shutdown', async () => {
    const workers = countedWorkers();
    const mine = threadScheduler({ workers: 1, createWorker: workers.createWorker });
    const app = await start(appModule([ParallelModule.forRoot({ schedulers: { cpu: mine, io: { kind: 'task' } } })]));
    apps.push(app);
    expect(app.get(Consumer).cpu).toBe(mine);
    expect(workers.started).toBe(0); // its workers start as stages lease them
    await lastValueFrom(range(0, 2).pipe(mapParallel(whoAmI, { scheduler: mine }), toArray()));
    expect(workers.started).toBe(1);
    await app.close();
    expect(workers.exited).toBe(1);
  });

  it('forRootAsync takes a useClass whose create() returns the options', async () => {
    class ParallelConfig {
      create() {
        return { schedulers: { cpu: { kind: 'sync' as const }, io: { kind: 'task' as const } } };
      }
    }
    const app = await start(appModule([ParallelModule.forRootAsync({ useClass: ParallelConfig })]));
    apps.push(app);
    expect(app.get(Consumer).cpu.kind).toBe('sync');
    await app.close();
  });

  it('starts the workers of a process pool at bootstrap too, and ends them on app.close()', async () => {
    // This process's children, from Linux's /proc: the pool's worker processes among them.
    const childrenFile = `/proc/${process.pid}/task/${process.pid}/children`;
    const children = () => readFileSync(childrenFile, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const before = children();
    const app = await start(appModule([ParallelModule.forRoot({ schedulers: { cpu: { kind: 'process', workers: 2 }, io: { kind: 'task' } } })]));
    apps.push(app);
    const started = children().filter((pid) => !before.includes(pid));
    expect(started).toHaveLength(2);
    const scored = await lastValueFrom(range(0, 4).pipe(mapParallel(whoAmI, { scheduler: app.get(Consumer).cpu, workers: 2 }), toArray()));
    for (const s of scored as unknown as { pid: number }[]) expect(started).toContain(s.pid);
    await app.close();
    expect(children().filter((pid) => started.includes(pid))).toEqual([]);
  });

  it('fails the bootstrap when a pool cannot start its workers', async () => {
    const module = appModule([
      ParallelModule.forRoot({
        schedulers: {
          cpu: {
            kind: 'thread',
            workers: 1,
            createWorker: () => {
              throw new Error('no Worker here');
            },
          },
          io: { kind: 'task' },
        },
      }),
    ]);
    const error = await start(module).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkerCrashedError);
  });

  describe('options are checked, and a bad one is named', () => {
    const cases: Array<[string, unknown, string]> = [
      ['a pool option', { schedulers: { cpu: { kind: 'thread', workers: 0 } } }, 'schedulers.cpu.workers'],
      ['an unknown pool option', { schedulers: { cpu: { kind: 'process', wrkers: 2 } } }, 'schedulers.cpu.wrkers'],
      ['an option the task scheduler does not take', { schedulers: { io: { kind: 'task', workers: 4 } } }, 'schedulers.io.workers'],
      ['an unknown kind', { schedulers: { cpu: { kind: 'gpu' } } }, 'schedulers.cpu.kind'],
      ['an entry that is not an object', { schedulers: { cpu: 'thread' } }, 'schedulers.cpu'],
      ['no scheduler', { schedulers: {} }, 'schedulers'],
      ['an unknown module option', { scheduler: { cpu: { kind: 'thread' } } }, 'scheduler'],
    ];
    for (const [what, options, option] of cases) {
      it(`forRoot, when called: ${what}`, () => {
        let error: unknown;
        try {
          ParallelModule.forRoot(options as never);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as InvalidOptionError).option).toBe(option);
      });
    }

    const asyncCases: Array<[string, unknown, string, unknown]> = [
      ['a pool option', { schedulers: { cpu: { kind: 'thread', workers: -1 } } }, 'schedulers.cpu.workers', -1],
      ['an option the task scheduler does not take', { schedulers: { io: { kind: 'task', workers: 4 } } }, 'schedulers.io.workers', 4],
    ];
    for (const [what, options, option, received] of asyncCases) {
      it(`forRootAsync, when the app starts: ${what}`, async () => {
        const module = appModule([ParallelModule.forRootAsync({ useFactory: () => options as never })], []);
        const error = await start(module).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as InvalidOptionError).option).toBe(option);
        expect((error as InvalidOptionError).received).toBe(received);
      });
    }
  });

  it('at shutdown, pipelines still running end with their onEnd: those that take shutdown$ complete, the others fail', async () => {
    bus.reset();
    const workers = countedWorkers();
    const app = await start(
      appModule([
        ParallelModule.forRoot({ schedulers: { cpu: { kind: 'thread', workers: 2, createWorker: workers.createWorker }, io: { kind: 'task' } } }),
      ]),
    );
    apps.push(app);
    const { cpu, io, parallel } = app.get(Consumer);
    const waitGate = task(workersModule, 'waitGate');
    const resources = { onStart: task(workersModule, 'open'), onEnd: task(workersModule, 'close') };
    // Elements that wait on a gate the test never opens: in work until the pipeline is ended.
    const held = (stage: string, first: number) =>
      range(first, 4).pipe(
        map((i) => ({ i, gate: 'never' })),
        mapParallel(waitGate, { name: stage, scheduler: cpu, workers: 2, ...resources }),
      );
    const listening = record(held('listening', 0).pipe(takeUntil(parallel.shutdown$)));
    const deaf = record(held('deaf', 100));
    const ioEnded = deferred<number>();
    const onIo = record(
      range(0, 2).pipe(
        mapParallel(() => new Promise<never>(() => {}), { name: 'io', scheduler: io, workers: 2, onEnd: (ctx) => ioEnded.resolve(ctx.workerInfo.index) }),
        takeUntil(parallel.shutdown$),
      ),
    );
    // An element of each thread stage in work.
    await bus.waitFor('start', 1, (e) => (e.i as number) < 100);
    await bus.waitFor('start', 1, (e) => (e.i as number) >= 100);

    await app.close();
    expect(await listening.result).toEqual({ values: [], completed: true });
    const failed = await deaf.result;
    expect(failed.completed).toBe(false);
    expect(failed.error).toBeInstanceOf(WorkerCrashedError); // its pool was closed under it
    expect(await onIo.result).toEqual({ values: [], completed: true });
    await ioEnded.promise;
    // onEnd ran in each worker of both thread stages, with the resources its onStart made (a
    // worker that had no element may have ended before: it ends once all the same).
    expect(bus.of('onStart')).toHaveLength(4);
    const ends = bus.of('onEnd');
    expect(ends).toHaveLength(4);
    for (const end of ends) expect(end.same).toBe(true);
    expect(workers.exited).toBe(2);
  });

  it('is the only entry that loads Nest', () => {
    // Every built file outside dist/*/nestjs, searched for an import of a @nestjs package.
    const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
    const offenders: string[] = [];
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== 'nestjs') visit(path);
        } else if (/\.[cm]?js$/.test(entry.name) && readFileSync(path, 'utf8').includes('@nestjs/')) {
          offenders.push(path);
        }
      }
    };
    visit(dist);
    expect(offenders).toEqual([]);
  });
});
