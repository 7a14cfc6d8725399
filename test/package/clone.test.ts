// The three ways docs/bundling.md gives to install the package before it is published, each from a
// fresh clone of the repository's committed HEAD: a git URL (npm clones, installs the build tools
// and runs `prepare`), a folder (`npm ci` in the clone, then `npm install <clone path>`), and the
// tarball `npm pack` makes in the clone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { entryTable, npm, npmInstall, ok, root, tempDir } from './support.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const temp = tempDir('clone');
const clone = join(temp.dir, 'rxjs-parallel');
let specifiers: string[];

beforeAll(async () => {
  const table = await entryTable();
  specifiers = table.ENTRIES.map((entry) => table.specifier(pkg.name, entry));
  await ok('git', ['clone', '--quiet', root, clone], temp.dir);
}, 60_000);

afterAll(() => temp.remove(), 120_000);

/** A consumer project that installs `specs`, then imports every entry and runs a thread stage. */
async function consume(name: string, specs: string[]): Promise<string> {
  const dir = join(temp.dir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  await npmInstall(dir, [...specs, `rxjs@${pkg.devDependencies.rxjs}`]);
  writeFileSync(
    join(dir, 'main.js'),
    `for (const name of ${JSON.stringify(specifiers)}) await import(name);
     const { createRequire } = await import('node:module');
     for (const name of ${JSON.stringify(specifiers)}) createRequire(import.meta.url)(name);
     const { fromIterable, mapParallel, run } = await import('rxjs-parallel');
     const { tap } = await import('rxjs');
     const out = [];
     await run(fromIterable([1, 2, 3]).pipe(mapParallel((x) => x * 10, { workers: 2, scheduler: 'thread', ordered: true }), tap((x) => out.push(x))));
     console.log(out.join(' '));`,
  );
  const { stdout, stderr } = await ok(process.execPath, ['main.js'], dir);
  expect(stderr).toBe('');
  expect(stdout.trim()).toBe('10 20 30');
  return dir;
}

describe('installed from a clone', () => {
  it('`npm ci` in the clone builds it (prepare), and `npm install <clone path>` links a working package', { timeout: 240_000 }, async () => {
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    await ok(npm, ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], clone);
    expect(existsSync(join(clone, 'dist/cjs/index.d.ts'))).toBe(true);
    // `npm test` builds again right after `npm ci` (as .ci/run does): that build has nothing to do.
    const stamp = readFileSync(join(clone, 'dist/.build-stamp'), 'utf8');
    const again = await ok(npm, ['run', 'build', '--silent'], clone);
    expect(again.stderr).toContain('dist/ is up to date');
    expect(readFileSync(join(clone, 'dist/.build-stamp'), 'utf8')).toBe(stamp);
    const dir = await consume('folder-consumer', [clone]);
    expect(realpathSync(join(dir, 'node_modules/rxjs-parallel'))).toBe(realpathSync(clone));
  });

  it('`npm pack` in the built clone makes a tarball that installs a working package', { timeout: 240_000 }, async () => {
    const [info] = JSON.parse((await ok(npm, ['pack', '--json', '--loglevel=error'], clone)).stdout);
    expect(info.files.map((f: { path: string }) => f.path)).toContain('dist/esm/worker/node-thread-entry.cjs');
    await consume('tarball-consumer', [join(clone, info.filename)]);
  });

  it('`npm install git+<URL>` clones it, builds it with its own tools, and installs a working package', { timeout: 240_000 }, async () => {
    const dir = await consume('git-consumer', [`git+${pathToFileURL(clone).href}`]);
    // A copy, built in npm's own clone: no build tool of the library came with it.
    expect(existsSync(join(dir, 'node_modules/rxjs-parallel/dist/cjs/index.js'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/typescript'))).toBe(false);
  });
});
