// The package as its users get it: `npm pack` of the working tree, installed from the tarball into a
// temporary consumer project, where every public entry is imported from ES modules and CommonJS,
// type-checked under four TypeScript resolutions, checked by arethetypeswrong and publint, and
// bundled into a Node service with esbuild and webpack, as docs/bundling.md says. One install
// serves them all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import ts from 'typescript';
import { entryTable, npm, npmInstall, ok, root, run, tempDir, type EntryTable } from './support.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const attw = join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js');
const temp = tempDir('packed');
const consumer = join(temp.dir, 'consumer');
let table: EntryTable;
let tarball: string;
let packed: string[];

/** The module names of every entry (`rxjs-parallel`, `rxjs-parallel/worker`...). */
const specifiers = () => table.ENTRIES.map((entry) => table.specifier(pkg.name, entry));

beforeAll(async () => {
  table = await entryTable();
  if (!existsSync(join(root, 'dist/.build-stamp'))) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  // The build is `prepare`'s job, tested from a fresh clone in clone.test.ts; here dist/ is built.
  const [info] = JSON.parse((await ok(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', temp.dir], root)).stdout);
  tarball = join(temp.dir, info.filename);
  packed = info.files.map((f: { path: string }) => f.path);
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const peers = table.ENTRIES.flatMap((entry) => entry.peers ?? []).map((name) => `${name}@${pkg.devDependencies[name]}`);
  const dev = ['esbuild', '@types/node'].map((name) => `${name}@${pkg.devDependencies[name]}`);
  await npmInstall(consumer, [tarball, `rxjs@${pkg.devDependencies.rxjs}`, ...dev, ...peers]);
  writeFileSync(join(consumer, 'tasks.mjs'), 'export const square = (x) => x * x;\n'); // for the thread stages
}, 180_000); // an install that finds the cache cold goes to the registry

afterAll(() => temp.remove(), 120_000);

describe('the tarball', () => {
  it('holds both builds, their declarations, the worker entries, the license and the docs, and no build stamp', () => {
    for (const file of ['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json', 'LICENSE', 'README.md']) {
      expect(packed, file).toContain(file);
    }
    for (const file of Object.values(table.FILES)) expect(packed).toContain(`dist/esm/${file}`);
    expect(packed).not.toContain('dist/.build-stamp');
    expect(packed.filter((f) => f.startsWith('test/') || f.startsWith('node_modules/'))).toEqual([]);
  });

  it('holds every file that the README links to, and every page and example the docs link to', () => {
    const pages = ['README.md', ...packed.filter((f) => /^docs\/[^/]+\.md$/.test(f))];
    const dead: string[] = [];
    const leftOut = (pkg.files as string[]).filter((f) => f.startsWith('!examples/')).map((f) => f.slice(1));
    for (const page of pages) {
      const text = readFileSync(join(root, page), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // an absolute URL
        const file = join(page, '..', target).replace(/\\/g, '/');
        // The docs also point readers of the repository at its tests, scripts and benchmark results, and at
        // the example apps that the package's `files` leaves out (each an app of its own, installed
        // from this repository), none of which is shipped; the README points only at what is.
        if (page !== 'README.md' && (/^(test|bench|scripts)\//.test(file) || leftOut.some((dir) => file === dir || file.startsWith(`${dir}/`)))) continue;
        if (!packed.includes(file) && !packed.some((f) => f.startsWith(`${file}/`))) dead.push(`${page} → ${target}`);
      }
    }
    expect(pages.length).toBeGreaterThan(1);
    expect(dead).toEqual([]);
  });
});

describe('installed from the tarball', () => {
  it('imports every entry from an ES module, and runs a thread and a process stage', async () => {
    writeFileSync(
      join(consumer, 'esm.mjs'),
      `for (const name of ${JSON.stringify(specifiers())}) {
         const entry = await import(name);
         console.log(name, Object.keys(entry).length > 0);
       }
       const { fromIterable, mapParallel, task, run } = await import('rxjs-parallel');
       const { tap } = await import('rxjs');
       const square = task(new URL('./tasks.mjs', import.meta.url), 'square');
       const out = [];
       await run(fromIterable([1, 2, 3]).pipe(
         mapParallel(square, { workers: 2, scheduler: 'thread', ordered: true }),
         mapParallel((x) => -x, { workers: 2, scheduler: 'process', ordered: true }),
         tap((x) => out.push(x)),
       ));
       console.log(out.join(' '));`,
    );
    const { stdout, stderr } = await ok(process.execPath, ['esm.mjs'], consumer);
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toEqual([...specifiers().map((name) => `${name} true`), '-1 -4 -9']);
  });

  it('requires every entry from CommonJS, and runs a thread and a process stage', async () => {
    writeFileSync(
      join(consumer, 'cjs.cjs'),
      `for (const name of ${JSON.stringify(specifiers())}) console.log(name, Object.keys(require(name)).length > 0);
       const { fromIterable, mapParallel, task, run } = require('rxjs-parallel');
       const { tap } = require('rxjs');
       const { pathToFileURL } = require('node:url');
       const square = task(pathToFileURL(__dirname + '/tasks.mjs'), 'square');
       const out = [];
       run(fromIterable([1, 2, 3]).pipe(
         mapParallel(square, { workers: 2, scheduler: 'thread', ordered: true }),
         mapParallel((x) => -x, { workers: 2, scheduler: 'process', ordered: true }),
         tap((x) => out.push(x)),
       )).then(() => console.log(out.join(' ')));`,
    );
    const { stdout, stderr } = await ok(process.execPath, ['cjs.cjs'], consumer);
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toEqual([...specifiers().map((name) => `${name} true`), '-1 -4 -9']);
  });

  it('installs every command the package names', () => {
    for (const name of Object.keys(table.BINS)) expect(existsSync(join(consumer, 'node_modules/.bin', name)), name).toBe(true);
  });

  // One project per resolution a TypeScript user may have, each importing every entry, with the
  // declarations themselves checked too (skipLibCheck: false).
  const variants: Record<string, { type: 'module' | 'commonjs'; options: Record<string, unknown>; also?: string[] }> = {
    // A Node project of ES modules (a NestJS 12 one among them).
    'NodeNext, in an ES module package': { type: 'module', options: { module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] } },
    // A Node project without the DOM library, typed by @types/node; it also checks the bundled
    // service of docs/bundling.md.
    'node16, in a CommonJS package': {
      type: 'commonjs',
      options: { module: 'node16', moduleResolution: 'node16', lib: ['es2022'], types: ['node'] },
      also: ['../../src/main.ts', '../../src/tasks.ts'],
    },
    // A classic NestJS project.
    'commonjs with node10 resolution': {
      type: 'commonjs',
      options: { module: 'commonjs', moduleResolution: 'node10', types: ['node'], esModuleInterop: true, experimentalDecorators: true },
    },
    // An app for browsers, built by a bundler: no Node types, and no entry for a server framework.
    'bundler resolution': { type: 'module', options: { module: 'esnext', moduleResolution: 'bundler', types: [] } },
  };

  // One `tsc -b` over the four projects: one compiler process, which parses rxjs's and the
  // library's declarations once for all of them. Its --verbose output names each project before
  // that project's errors.
  let checked: Promise<{ code: number; sections: Map<string, string> }> | undefined;
  const checkAll = () =>
    (checked ??= (async () => {
      copyService();
      const dirs = Object.keys(variants).map((variant) => {
        const { type, options, also = [] } = variants[variant];
        const dir = join(consumer, 'types', variant.replace(/\W+/g, '-'));
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
        writeFileSync(
          join(dir, 'tsconfig.json'),
          JSON.stringify({
            // Every declaration file is checked but TypeScript's own lib files (which cost the most).
            compilerOptions: { target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, skipDefaultLibCheck: true, ...options },
            files: ['index.ts', ...also],
          }),
        );
        writeFileSync(join(dir, 'index.ts'), importEveryEntry((options.types as string[]).includes('node')));
        return dir;
      });
      const { code, stdout } = await run(process.execPath, [tsc, '-b', '--verbose', ...dirs], consumer);
      const sections = new Map<string, string>();
      for (const [, dir, text] of stdout.matchAll(/Building project '(.*)\/tsconfig\.json'\.\.\.\n([\s\S]*?)(?=\n[^\n]*- Project '|$)/g)) {
        sections.set(dir, text.trim());
      }
      return { code, sections };
    })());

  it.for(Object.keys(variants))('type-checks every entry with tsc under %s', { timeout: 120_000 }, async (variant) => {
    const { code, sections } = await checkAll();
    const dir = join(consumer, 'types', variant.replace(/\W+/g, '-'));
    expect(sections.get(dir), `${dir} was not built`).toBe('');
    // tsc's exit code is one for all four: it speaks for this one only when no other has errors.
    if ([...sections.values()].every((text) => text === '')) expect(code).toBe(0);
  });

  it('reaches no optional peer of another entry from the types of an entry', () => {
    // What an entry's declarations import must not reach the optional peers of the others: a
    // project that uses `rxjs-parallel` need not install what `rxjs-parallel/nestjs` needs.
    const leaks: string[] = [];
    for (const entry of table.ENTRIES) {
      const files = typeGraph(table.specifier(pkg.name, entry), consumer);
      expect(files, entry.path).toContain(join(consumer, `node_modules/${pkg.name}/dist/esm/${entry.src}.d.ts`));
      const others = table.ENTRIES.flatMap((e) => e.peers ?? []).filter((peer) => !(entry.peers ?? []).includes(peer));
      for (const file of files) for (const peer of others) if (file.includes(`/node_modules/${peer}/`)) leaks.push(`${entry.path} reaches ${file}`);
    }
    // The walk does follow imports into other packages: the main entry's types reach rxjs's.
    expect(typeGraph(pkg.name, consumer).some((file) => file.includes('/node_modules/rxjs/'))).toBe(true);
    expect(leaks).toEqual([]);
  });
});

describe('package checks on the tarball', () => {
  it('arethetypeswrong finds no problem in any entry under node10, node16 (CJS and ESM) and bundler', { timeout: 120_000 }, async () => {
    const { code, stdout } = await run(process.execPath, [attw, tarball, '--format', 'json', '--profile', 'strict'], temp.dir);
    const report = JSON.parse(stdout);
    expect(Object.keys(report.analysis.entrypoints)).toEqual(expect.arrayContaining([...specifiers().map((s) => s.replace(pkg.name, '.'))]));
    expect(report.problems).toEqual({});
    expect(report.analysis.problems).toEqual([]);
    expect(code).toBe(0);
  });

  it('publint --strict finds nothing, not even a suggestion', async () => {
    const data = readFileSync(tarball);
    const result = await publint({ pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }, strict: true, level: 'suggestion' });
    expect(result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg)}`)).toEqual([]);
  });
});

describe('a Node service bundled with esbuild (docs/bundling.md)', () => {
  const page = readFileSync(join(root, 'docs/bundling.md'), 'utf8');
  const expected = '2 5 10 17';

  /** The example service of the page, in the consumer project, with no dist/ left by another build. */
  function copyServiceOnce(): void {
    if (!existsSync(join(consumer, 'src'))) copyService();
    rmSync(join(consumer, 'dist'), { recursive: true, force: true });
  }

  /** Moves what the build wrote to dist/ to a directory of its own, as a deployment does. */
  function deploy(name: string, withNodeModules: boolean): string {
    const to = join(temp.dir, name);
    renameSync(join(consumer, 'dist'), to);
    if (withNodeModules) symlinkSync(join(consumer, 'node_modules'), join(to, 'node_modules'), 'dir');
    return to;
  }

  it("is the page's code", () => {
    for (const file of ['src/main.ts', 'src/tasks.ts', 'build.mjs', 'webpack.config.cjs']) {
      const block = page.match(new RegExp(`<!-- example: examples/bundled-service/${file.replaceAll('.', '\\.')} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``))?.[1];
      expect(block, file).toBe(readFileSync(join(root, 'examples/bundled-service', file), 'utf8'));
    }
  });

  it('runs with rxjs-parallel inside the bundle and the worker entries copied beside it (build.mjs), in a directory without node_modules', async () => {
    copyServiceOnce();
    await ok(process.execPath, ['build.mjs'], consumer);
    const dir = deploy('deploy-bundled', false);
    const { stdout, stderr } = await ok(process.execPath, ['main.js'], dir);
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe(expected);
  });

  it('runs with rxjs-parallel kept out of the bundle and installed beside it', async () => {
    copyServiceOnce();
    const command = page.match(/<!-- command: external -->\n```sh\n(.*)\n```/)?.[1];
    expect(command).toMatch(/^esbuild /);
    await ok('/bin/sh', ['-c', command!], consumer, { ...process.env, PATH: `${join(consumer, 'node_modules/.bin')}:${process.env.PATH}` });
    const dir = deploy('deploy-external', true);
    expect(readFileSync(join(dir, 'main.js'), 'utf8')).toContain('require("rxjs-parallel")');
    const { stdout, stderr } = await ok(process.execPath, ['main.js'], dir);
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe(expected);
  });

  it('runs bundled by webpack with rxjs-parallel inside and the worker entries copied beside it (webpack.config.cjs)', { timeout: 60_000 }, async () => {
    copyServiceOnce();
    // The service compiled to JavaScript, file by file (what tsc or ts-loader does for webpack).
    const { build } = await import('esbuild');
    await build({ entryPoints: ['src/main.ts', 'src/tasks.ts'], platform: 'node', format: 'cjs', outdir: 'build', absWorkingDir: consumer, logLevel: 'silent' });
    const { default: webpack } = await import('webpack');
    const config = createRequire(join(consumer, 'package.json'))('./webpack.config.cjs');
    const stats = await new Promise<import('webpack').Stats>((resolve, reject) => webpack(config, (error, result) => (error ? reject(error) : resolve(result!))));
    expect(stats.toJson({ all: false, errors: true, warnings: true })).toMatchObject({ errors: [], warnings: [] });
    const dir = deploy('deploy-webpack', false);
    const { stdout, stderr } = await ok(process.execPath, ['main.js'], dir);
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe(expected);
  });

  it('without either, fails once with an InvalidOptionError naming workerEntry and both fixes, before any worker starts', async () => {
    copyServiceOnce();
    const { build } = await import('esbuild');
    await build({ entryPoints: ['src/main.ts', 'src/tasks.ts'], bundle: true, platform: 'node', outdir: 'dist', absWorkingDir: consumer, logLevel: 'silent' });
    const dir = deploy('deploy-forgotten', false);
    const { code, stdout, stderr } = await run(process.execPath, ['main.js'], dir);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).not.toContain('Cannot find module');
    // The app prints the error it got (console.error): one error, then its fields.
    expect(stderr.match(/InvalidOptionError/g)?.length).toBe(1);
    expect(stderr).toContain("code: 'ERR_INVALID_OPTION'");
    expect(stderr).toContain("option: 'workerEntry'");
    // Whichever of the two stages asked for a worker first; the page quotes the thread stage's.
    const message = stderr.split('\n')[0].replaceAll('node-process-entry', 'node-thread-entry').replaceAll('processScheduler', 'threadScheduler');
    const quoted = page.match(/```\n(InvalidOptionError: .*)\n```/)?.[1];
    expect(message).toBe(quoted);
    for (const fix of ['--external:rxjs-parallel', 'rxjs-parallel/worker/node-thread-entry.cjs', 'threadScheduler({ workerEntry })', 'docs/bundling.md']) {
      expect(message).toContain(fix);
    }
  });
});

/**
 * The declaration files that the types of `specifier`, imported from an ES module in `dir`, reach
 * through imports and type references, each resolved by TypeScript (NodeNext) as tsc would.
 */
function typeGraph(specifier: string, dir: string): string[] {
  const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
  const cache = ts.createModuleResolutionCache(dir, (f) => f, options);
  const seen = new Set<string>();
  const visit = (file: string | undefined) => {
    if (file === undefined || seen.has(file)) return;
    seen.add(file);
    const mode = ts.getImpliedNodeFormatForFile(file as ts.Path, cache.getPackageJsonInfoCache(), ts.sys, options);
    const found = ts.preProcessFile(ts.sys.readFile(file)!, true, true);
    for (const { fileName } of found.importedFiles) visit(ts.resolveModuleName(fileName, file, options, ts.sys, cache, undefined, mode).resolvedModule?.resolvedFileName);
    for (const { fileName } of found.typeReferenceDirectives) {
      visit(ts.resolveTypeReferenceDirective(fileName, file, options, ts.sys).resolvedTypeReferenceDirective?.resolvedFileName);
    }
  };
  visit(ts.resolveModuleName(specifier, join(dir, 'index.mts'), options, ts.sys, cache, undefined, ts.ModuleKind.ESNext).resolvedModule?.resolvedFileName);
  return [...seen];
}

/** Copies examples/bundled-service (its sources and build script) into the consumer project. */
function copyService(): void {
  cpSync(join(root, 'examples/bundled-service'), consumer, { recursive: true, force: true });
}

/** A module that imports every entry, and uses the main one's types with rxjs's. */
function importEveryEntry(withNodeTypes: boolean): string {
  // An entry with peers is for a server framework (NestJS), whose own declarations need Node's
  // types: it is imported where the project has them, as such a project does.
  const entries = table.ENTRIES.filter((entry) => withNodeTypes || !entry.peers?.length);
  const lines = entries.map((entry, i) => `import * as entry${i} from '${table.specifier(pkg.name, entry)}';`);
  return `${lines.join('\n')}
import { of, type OperatorFunction } from 'rxjs';
import { mapParallel, threadScheduler, InvalidOptionError, type StageOptions } from '${pkg.name}';

const options: StageOptions = { workers: 2, ordered: true };
const toText: OperatorFunction<number, string> = mapParallel((x: number) => String(x), options);
export const text$ = of(1, 2).pipe(toText);
export const pool = threadScheduler({ workers: 1, workerEntry: new URL('file:///srv/node-thread-entry.cjs') });
export const isOptionError = (e: unknown): boolean => e instanceof InvalidOptionError && e.option === 'workerEntry';
export const entries = [${entries.map((_, i) => `entry${i}`).join(', ')}];
`;
}
