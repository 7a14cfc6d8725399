// TaskRefs to TypeScript modules in a plain Node process, which cannot load .ts by itself: the
// library loads them through tsx when tsx is installed beside it, and says how to install it when not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCopy, ownBuild } from '../support/package-copy.js';
import { runNode } from '../support/util.js';

const script = new URL('../fixtures/ts-taskrefs.mjs', import.meta.url);
const schedulers = ['task', 'sync', 'thread', 'process'];
const lines = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));

describe('a TaskRef to a .ts module, in a process without a TypeScript loader', () => {
  it.each([
    ['ES module', ownBuild],
    ['CommonJS', ownBuild.replace(/\/esm\/index\.js$/, '/cjs/index.js')],
  ])('runs on every scheduler from the %s build, named by its source name (tasks.ts) or its compiled name (tasks.js), ES module or CommonJS; the process imports nothing else through tsx, and exits', async (_, build) => {
    // runNode resolves when the process has exited: a handle left open (tsx's loader) shows up as a timeout.
    const { code, stdout, stderr } = await runNode(script, [build]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const expected = ['source', 'compiled', 'commonjs'].flatMap((spelling) => schedulers.map((scheduler) => ({ spelling, scheduler, values: [3, 6, 9] })));
    expect(lines(stdout)).toEqual([...expected, { native: 'ERR_UNKNOWN_FILE_EXTENSION' }]);
  });

  describe('without tsx installed beside the library', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'rxjs-parallel-no-tsx-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('fails with a WorkerFunctionError naming the ref and the one-line fix, on every scheduler', async () => {
      const { code, stdout, stderr } = await runNode(script, [installCopy(dir)]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const results = lines(stdout);
      expect(results.pop()).toEqual({ native: 'ERR_UNKNOWN_FILE_EXTENSION' });
      expect(results).toHaveLength(12);
      const modules: Record<string, string> = { source: 'ts-project/src/tasks.ts', compiled: 'ts-project/src/tasks.js', commonjs: 'ts-commonjs/tasks.ts' };
      for (const { spelling, scheduler, error } of results) {
        const ref = `${new URL(`../fixtures/${modules[spelling]}`, import.meta.url).href}#score`;
        expect(error, `${spelling} on ${scheduler}`).toMatchObject({ name: 'WorkerFunctionError', isWorkerFunctionError: true, functionName: ref });
        expect(error.message).toContain(ref);
        expect(error.message).toContain('npm i -D tsx');
        expect(error.message).not.toContain('onStart');
      }
    });
  });
});
