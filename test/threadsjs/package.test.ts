// The rxjs-parallel/threads entry as published: ESM and CommonJS builds, types that need nothing of
// threads.js, and no other part of the library loading threads.js.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('rxjs-parallel/threads, as published', () => {
  it('is in the exports map with types first, ESM and CommonJS builds; threads is an optional peer', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['./threads']).toEqual({
      types: './dist/types/threads/index.d.ts',
      import: './dist/esm/threads/index.js',
      require: './dist/cjs/threads/index.js',
    });
    expect(pkg.peerDependencies.threads).toBeDefined();
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

  it.each([
    ['NodeNext', ['--module', 'nodenext', '--moduleResolution', 'nodenext']],
    ['bundler', ['--module', 'esnext', '--moduleResolution', 'bundler']],
  ])("its types compile under moduleResolution %s without threads.js's types (skipLibCheck off)", async (_name, flags) => {
    const consumer = join(root, 'test/fixtures/threads/types-consumer.ts');
    const args = [tsc, '--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', ...flags, consumer];
    const result = await exec(process.execPath, args, { cwd: root }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(result).toEqual({ code: 0, stdout: '' });
  });
});
