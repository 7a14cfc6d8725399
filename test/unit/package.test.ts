// The published shape: ESM and CJS entries that work, types first, internals not importable.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { entryTable } from '../package/support.js';

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

  it('lists types first (and the code last) under every condition of every export, and has no side effects', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
    expect(pkg.sideEffects).toBe(false);
    const conditions = (entry: string, target: unknown): void => {
      if (typeof target === 'string') return;
      const keys = Object.keys(target as object);
      if (keys.includes('types')) {
        expect(keys[0], entry).toBe('types');
        expect(keys.at(-1), entry).toBe('default');
      }
      for (const [key, value] of Object.entries(target as object)) conditions(`${entry} ${key}`, value);
    };
    for (const [entry, target] of Object.entries(pkg.exports)) {
      expect(target, entry).toBeDefined();
      conditions(entry, target);
    }
  });

  it('names every export in each entry (no export *)', async () => {
    const { ENTRIES } = await entryTable();
    expect(ENTRIES.map((e) => e.path)).toEqual(expect.arrayContaining(['.', './worker']));
    for (const entry of ENTRIES) {
      const index = readFileSync(`${root}/src/${entry.src}.ts`, 'utf8');
      expect(index, entry.src).not.toMatch(/export \*/);
    }
  });
});

describe('scripts/build.mjs', () => {
  it('refuses to build a package.json that disagrees with scripts/entries.mjs, and `--sync` writes it back; checks the peers of entries', async () => {
    const { mkdtempSync, cpSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const copy = mkdtempSync(`${tmpdir()}/rxjs-parallel-entries-`);
    try {
      for (const path of ['scripts', 'src', 'package.json', 'typedoc.json']) cpSync(`${root}/${path}`, `${copy}/${path}`, { recursive: true });
      const original = readFileSync(`${copy}/package.json`, 'utf8');
      const pkg = JSON.parse(original);
      delete pkg.exports['./worker'];
      delete pkg.typesVersions;
      writeFileSync(`${copy}/package.json`, JSON.stringify(pkg));
      const refused = await exec(process.execPath, [`${copy}/scripts/build.mjs`], { cwd: copy }).catch((e) => e);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('package.json "exports" should be');
      expect(refused.stderr).toContain('package.json "typesVersions" should be');
      await exec(process.execPath, [`${copy}/scripts/build.mjs`, '--sync'], { cwd: copy });
      expect(readFileSync(`${copy}/package.json`, 'utf8')).toBe(original);
      expect(readFileSync(`${copy}/typedoc.json`, 'utf8')).toBe(readFileSync(`${root}/typedoc.json`, 'utf8'));
      // An entry's optional peer must be declared as one, and installable by the tests.
      const table = readFileSync(`${copy}/scripts/entries.mjs`, 'utf8');
      writeFileSync(`${copy}/scripts/entries.mjs`, table.replace("src: 'worker/index' }", "src: 'worker/index', peers: ['left-pad'] }"));
      const peerless = await exec(process.execPath, [`${copy}/scripts/build.mjs`], { cwd: copy }).catch((e) => e);
      expect(peerless.code).toBe(1);
      expect(peerless.stderr).toContain('left-pad (a peer of ./worker) is not in peerDependencies');
      expect(peerless.stderr).toContain('left-pad is not marked optional in peerDependenciesMeta');
      expect(peerless.stderr).toContain('left-pad is not in devDependencies');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
