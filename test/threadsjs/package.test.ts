// The rxjs-parallel/threads entry as built: in the package table, run from CommonJS, and no part of
// the library loading threads.js. (test/package/ checks every entry of the table from a packed
// tarball: ESM, CommonJS, four TypeScript resolutions with skipLibCheck off, arethetypeswrong.)
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('rxjs-parallel/threads, as built', () => {
  it('is an entry of the package table with threads as its optional peer, in the exports map for import and require', async () => {
    const { ENTRIES } = await import(pathToFileURL(join(root, 'scripts/entries.mjs')).href);
    expect(ENTRIES).toContainEqual({ path: './threads', src: 'threads/index', peers: ['threads'] });
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['./threads']).toEqual({
      import: { types: './dist/esm/threads/index.d.ts', default: './dist/esm/threads/index.js' },
      require: { types: './dist/cjs/threads/index.d.ts', default: './dist/cjs/threads/index.js' },
    });
    expect(pkg.peerDependenciesMeta.threads).toEqual({ optional: true });
    expect(pkg.dependencies?.threads).toBeUndefined();
  });

  it('runs from CommonJS, and requiring every entry loads nothing of threads.js', async () => {
    const { stdout } = await exec(process.execPath, [join(root, 'test/fixtures/threads/cjs-consumer.cjs')], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({ out: [1, 4, 9], loadedThreadsBefore: false });
  });

  it('no built file imports or requires threads.js', () => {
    const importsThreads = /(?:from\s*|require\(\s*|import\(\s*)['"]threads(?:\/[^'"]*)?['"]/;
    const code = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''); // examples in comments name it
    const offenders = files(join(root, 'dist')).filter((file) => /\.(?:c?js|mjs|d\.ts)$/.test(file) && importsThreads.test(code(file)));
    expect(offenders).toEqual([]);
  });
});
