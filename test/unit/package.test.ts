// The published shape: ESM and CJS entries that work, types first, internals not importable.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);
const node = (args: string[]) => exec(process.execPath, args, { cwd: root });

describe('package', () => {
  it('runs a pipeline from the CommonJS build', async () => {
    const code = `
      const { fromIterable, mapParallel, StageError } = require('rxjs-parallel');
      const { lastValueFrom, toArray } = require('rxjs');
      lastValueFrom(fromIterable([1, 2, 3]).pipe(mapParallel(async (x) => x * 2, { workers: 2, ordered: true }), toArray()))
        .then((v) => console.log(JSON.stringify(v), typeof StageError));`;
    const { stdout } = await node(['-e', code]);
    expect(stdout.trim()).toBe('[2,4,6] function');
  });

  it('runs a pipeline from the ESM build, and the worker entry loads in both', async () => {
    const { stdout } = await node([
      '--input-type=module',
      '-e',
      `import { fromIterable, mapParallel, run } from 'rxjs-parallel'; import { expose } from 'rxjs-parallel/worker';
       await run(fromIterable([1]).pipe(mapParallel((x) => x))); console.log(typeof expose);`,
    ]);
    expect(stdout.trim()).toBe('function');
    const cjs = await node(['-e', `console.log(typeof require('rxjs-parallel/worker').expose)`]);
    expect(cjs.stdout.trim()).toBe('function');
  });

  it('does not let internals be imported', async () => {
    const attempt = node(['--input-type=module', '-e', `await import('rxjs-parallel/core/stage.js')`]);
    await expect(attempt).rejects.toMatchObject({ stderr: expect.stringContaining('ERR_PACKAGE_PATH_NOT_EXPORTED') });
  });

  it('lists types first in every export and has no side effects', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
    expect(pkg.sideEffects).toBe(false);
    for (const [entry, target] of Object.entries<Record<string, string> | string>(pkg.exports)) {
      if (typeof target === 'string') continue;
      expect(Object.keys(target)[0], entry).toBe('types');
    }
  });

  it('names every export in src/index.ts (no export *)', () => {
    const index = readFileSync(`${root}/src/index.ts`, 'utf8');
    expect(index).not.toMatch(/export \*/);
  });
});
