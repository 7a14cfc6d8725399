// A function that cannot be loaded fails the same way on every scheduler: a WorkerFunctionError
// naming the TaskRef and the reason, whatever `onError` and `retries` say, never an "onStart failed".
import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { fromIterable, mapParallel, StageError, task, WorkerFunctionError, type SchedulerName, type TaskRef } from 'rxjs-parallel';

const schedulers: SchedulerName[] = ['task', 'sync', 'thread', 'process'];
const fixtures = new URL('../fixtures/', import.meta.url);

const failures: [kind: string, ref: TaskRef<number, number>, name: string, cause: string][] = [
  ['a module that does not exist', task(new URL('no-such-module.mjs', fixtures), 'square'), `${new URL('no-such-module.mjs', fixtures).href}#square`, 'no-such-module.mjs'],
  ['a module without that export', task(new URL('workers.mjs', fixtures), 'noSuchExport'), `${new URL('workers.mjs', fixtures).href}#noSuchExport`, 'noSuchExport'],
  ['a module that throws while it loads', task(new URL('throws-at-load.mjs', fixtures), 'never'), `${new URL('throws-at-load.mjs', fixtures).href}#never`, 'this module fails to load'],
  ['a name no expose() registered', task('notExposedAnywhere'), 'notExposedAnywhere', 'notExposedAnywhere'],
];

const attempt = (ref: TaskRef<number, number>, options: object) =>
  lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(ref, { workers: 2, ...options }), toArray())).then(
    (values) => ({ values, error: undefined }),
    (error: unknown) => ({ values: undefined, error }),
  );

describe.each(schedulers)('a TaskRef that cannot be loaded, on the %s scheduler', (scheduler) => {
  it.each(failures)('%s: WorkerFunctionError naming the ref and the reason, whatever onError and retries say', async (_, ref, name, cause) => {
    const { values, error } = await attempt(ref, { scheduler, onError: 'skip', retries: 2 });
    expect(values).toBeUndefined();
    expect(error).toBeInstanceOf(WorkerFunctionError);
    const e = error as WorkerFunctionError;
    expect(e.functionName).toBe(name);
    expect(e.message).toContain(name);
    expect(e.message).toContain(cause);
    expect(e.message).not.toContain('onStart');
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('the same ref as onStart fails the same way', async () => {
    const [, ref, name] = failures[1];
    const { error } = await attempt(task(new URL('workers.mjs', fixtures), 'square'), { scheduler, onStart: ref });
    expect(error).toBeInstanceOf(WorkerFunctionError);
    expect((error as WorkerFunctionError).functionName).toBe(name);
  });

  it('an onStart that loads and then throws is a StageError of phase onStart', async () => {
    const { error } = await attempt(task(new URL('workers.mjs', fixtures), 'square'), {
      scheduler,
      onStart: task(new URL('conformance.mjs', fixtures), 'failingOnStart'),
    });
    expect(error).toBeInstanceOf(StageError);
    expect((error as StageError).phase).toBe('onStart');
  });
});
