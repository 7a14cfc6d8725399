// workerEntry: the file a Node thread or process starts on, for apps bundled with rxjs-parallel
// inside (docs/bundling.md). The bundled apps themselves are tested in test/package/packed.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { lastValueFrom, of, toArray } from 'rxjs';
import { InvalidOptionError, fromIterable, mapParallel, processScheduler, threadScheduler } from 'rxjs-parallel';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rxjs-parallel-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of a worker entry that also says, to the functions it runs, where it was started from. */
function copyEntry(file: string): string {
  const copy = join(dir, file);
  copyFileSync(join(root, 'dist/esm/worker', file), copy);
  appendFileSync(copy, '\nglobalThis.startedFrom = __filename;\n');
  return copy;
}

describe('workerEntry', () => {
  it('starts each thread on the file it names (a path), and each process (a file: URL)', async () => {
    const threads = threadScheduler({ workers: 2, workerEntry: copyEntry('node-thread-entry.cjs') });
    const processes = processScheduler({ workers: 2, workerEntry: pathToFileURL(copyEntry('node-process-entry.cjs')) });
    try {
      const where = (x: number) => [x * 2, (globalThis as any).startedFrom];
      const fromThreads = await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(where, { workers: 2, scheduler: threads, ordered: true }), toArray()));
      const fromProcesses = await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(where, { workers: 2, scheduler: processes, ordered: true }), toArray()));
      expect(fromThreads).toEqual([2, 4, 6].map((x) => [x, join(dir, 'node-thread-entry.cjs')]));
      expect(fromProcesses).toEqual([2, 4, 6].map((x) => [x, join(dir, 'node-process-entry.cjs')]));
    } finally {
      await Promise.all([threads.close(), processes.close()]);
    }
  });

  it('fails a stage with an InvalidOptionError naming workerEntry when the file is missing', async () => {
    const missing = join(dir, 'nowhere', 'node-thread-entry.cjs');
    const pool = threadScheduler({ workers: 1, workerEntry: missing });
    try {
      const error = await lastValueFrom(of(1).pipe(mapParallel((x: number) => x, { scheduler: pool }))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe('workerEntry');
      expect((error as InvalidOptionError).received).toBe(missing);
    } finally {
      await pool.close();
    }
  });

  it('starts no process when the file is missing: the stage fails once, and nothing prints `Cannot find module`', async () => {
    const code = `
      import { fromIterable, mapParallel, processScheduler, run } from 'rxjs-parallel';
      const pool = processScheduler({ workers: 2, workerEntry: ${JSON.stringify(join(dir, 'nowhere', 'node-process-entry.cjs'))} });
      const failures = [];
      await run(fromIterable([1, 2, 3]).pipe(mapParallel((x) => x, { workers: 2, scheduler: pool }))).catch((e) => failures.push(e));
      console.log(failures.map((e) => e.code + ' ' + e.option).join(', '));`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
    expect(stdout.trim()).toBe('ERR_INVALID_OPTION workerEntry');
    expect(stderr).toBe('');
  });
});
