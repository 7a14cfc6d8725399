// The CommonJS build runs thread and process pipelines too (its pools launch the ESM worker entry).
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);

describe('the CommonJS build', () => {
  it('runs thread and process pipelines with TaskRefs and shipped functions', async () => {
    const code = `
      const { fromIterable, mapParallel, task, threadScheduler } = require('rxjs-parallel');
      const { lastValueFrom, toArray } = require('rxjs');
      const { pathToFileURL } = require('node:url');
      const square = task(pathToFileURL(${JSON.stringify(`${root}/test/fixtures/workers.mjs`)}), 'square');
      (async () => {
        for (const scheduler of ['thread', 'process']) {
          const a = await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(square, { workers: 2, scheduler, ordered: true }), toArray()));
          const b = await lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel((x) => -x, { workers: 2, scheduler, ordered: true }), toArray()));
          console.log(scheduler, JSON.stringify(a), JSON.stringify(b));
        }
      })();`;
    const { stdout, stderr } = await exec(process.execPath, ['-e', code], { cwd: root });
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toEqual(['thread [1,4,9] [-1,-2,-3]', 'process [1,4,9] [-1,-2,-3]']);
  });
});
