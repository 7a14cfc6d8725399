// Builds the package: dist/esm (ES modules and their declarations) and dist/cjs (CommonJS and a copy
// of the declarations, read as CommonJS there) with tsc, then the few files that differ between the
// two module systems, and the worker entries. Run by `npm run build`, by `npm test` through it, and
// by npm's `prepare` (`npm ci`/`npm install` in a clone, `npm pack`, a git or folder dependency).
//
//   node scripts/build.mjs          build, unless dist/ was built from exactly these sources
//   node scripts/build.mjs --force  build in any case
//   node scripts/build.mjs --sync   only write package.json and typedoc.json from scripts/entries.mjs
//                                   (`npm run entries`)
//
// The public entries are listed once, in scripts/entries.mjs; this script fails when package.json or
// typedoc.json disagree with that table. To add an entry `rxjs-parallel/NAME`: write
// src/NAME/index.ts, add `{ path: './NAME', src: 'NAME/index' }` (with `peers` for its optional peer
// dependencies) to ENTRIES in scripts/entries.mjs, run `npm run entries`, commit, `npm test`. The
// comment at the top of scripts/entries.mjs and docs/packaging.md give the details (commands, peers).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { derived, FILES } from './entries.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const args = new Set(process.argv.slice(2));
const require = createRequire(import.meta.url);

// 1. package.json and typedoc.json agree with the table of entries.
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const typedoc = JSON.parse(readFileSync('typedoc.json', 'utf8'));
const { fields, typedocEntryPoints, problems } = derived(pkg);
if (args.has('--sync')) {
  // Keep package.json's order of keys; a field it lacks goes after `exports`.
  const next = {};
  for (const [key, value] of Object.entries(pkg)) {
    if (key === 'bin' && !fields.bin) continue;
    next[key] = key in fields ? fields[key] : value;
    if (key === 'exports') for (const k of Object.keys(fields)) if (!(k in pkg)) next[k] = fields[k];
  }
  writeFileSync('package.json', `${JSON.stringify(next, null, 2)}\n`);
  writeFileSync('typedoc.json', `${JSON.stringify({ ...typedoc, entryPoints: typedocEntryPoints }, null, 2)}\n`);
  console.log('package.json and typedoc.json written from scripts/entries.mjs');
  if (problems.length > 0) console.error(`Still to do by hand:\n- ${problems.join('\n- ')}`);
  process.exit(problems.length > 0 ? 1 : 0);
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
for (const [key, value] of Object.entries(fields)) {
  if (!same(pkg[key], value)) problems.push(`package.json "${key}" should be ${JSON.stringify(value)}`);
}
if (pkg.bin !== undefined && fields.bin === undefined) problems.push('package.json "bin" names commands that scripts/entries.mjs BINS does not');
if (!same(typedoc.entryPoints, typedocEntryPoints)) problems.push(`typedoc.json "entryPoints" should be ${JSON.stringify(typedocEntryPoints)}`);
for (const point of typedocEntryPoints) if (!existsSync(point)) problems.push(`${point} (an entry in scripts/entries.mjs) does not exist`);
if (problems.length > 0) {
  console.error(`scripts/build.mjs: the package does not match scripts/entries.mjs:\n- ${problems.join('\n- ')}`);
  console.error(
    'The table in scripts/entries.mjs is the source: add a new entry, command or peer there first (it says how), ' +
      'then run `npm run entries` to write package.json and typedoc.json from it.',
  );
  process.exit(1);
}

// 2. Nothing to do when dist/ was built from these very inputs. `prepare` builds during `npm ci`,
// and `npm test` builds again right after: the second finds the stamp and returns at once.
const tools = ['typescript', 'esbuild'].map((name) => `${name}@${require(`${name}/package.json`).version}`);
const inputs = ['package.json', 'tsconfig.json', 'tsconfig.cjs.json', 'scripts/build.mjs', 'scripts/entries.mjs', ...files('src')];
const hash = createHash('sha256').update(`${process.version} ${tools.join(' ')}\n`);
for (const file of inputs) hash.update(`${file}\n`).update(readFileSync(file)).update('\n');
const fingerprint = hash.digest('hex');
const stamp = 'dist/.build-stamp';
if (!args.has('--force') && existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint) {
  console.error('dist/ is up to date with src/ (node scripts/build.mjs --force rebuilds it)');
  process.exit(0);
}

// 3. The two builds.
const tsc = require.resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.cjs.json'], { stdio: 'inherit' });
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
// The declarations, once more for the CommonJS build: the same text, read as CommonJS under
// dist/cjs/package.json (that is all `require` users need: TypeScript takes a declaration file's
// module kind from where it sits). Copying costs nothing; a second emit by tsc would cost seconds.
for (const file of files('dist/esm')) {
  if (!/\.d\.ts(\.map)?$/.test(file)) continue;
  const to = `dist/cjs/${file.slice('dist/esm/'.length)}`;
  mkdirSync(dirname(to), { recursive: true });
  cpSync(file, to);
}
// import.meta does not exist in CommonJS: the CJS build gets its module URL from __filename.
writeFileSync(
  'dist/cjs/internal/module-url.js',
  '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n' +
    'exports.moduleUrl = require("node:url").pathToFileURL(__filename).href;\n',
);
// tsc turns import() into require() in CommonJS output, which cannot load ES modules; Node's
// CommonJS loader understands a real import(), so the CJS build gets one written out (with the
// comment that keeps webpack from resolving it at build time, as in src/internal/import-module.ts).
writeFileSync(
  'dist/cjs/internal/import-module.js',
  '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n' +
    'exports.importModule = (url) => import(/* webpackIgnore: true */ url);\n',
);
// The entries a Node worker thread or child process starts on: the runtime and what it imports,
// bundled into one CommonJS file each. A new thread loads it in about the time a bare thread takes,
// and the dozen ES modules it is made of ~20 ms later (`node bench/entry-load.mjs`), which was most
// of what a cold stage spent beyond Node's own start-up. (The ES module entries tsc wrote stay, for
// bundlers and for reading.) Being self-contained, they are also what a bundled app copies beside
// its bundle (docs/bundling.md).
const { build } = await import('esbuild');
const entries = [
  ['src/worker/node-thread-entry.ts', 'dist/esm/worker/node-thread-entry.cjs'],
  ['src/worker/node-process-entry.ts', 'dist/esm/worker/node-process-entry.cjs'],
  // The thread of each slot of an rxjs-parallel-worker (the NATS worker command).
  ['src/nats/worker/thread-entry.ts', 'dist/esm/nats/worker-thread.cjs'],
];
for (const [entry, outfile] of entries) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    sourcemap: true,
    logLevel: 'warning',
  });
}
for (const file of Object.values(FILES)) {
  writeFileSync(
    `dist/esm/${file.replace(/\.cjs$/, '.d.cts')}`,
    `// ${file} is no module to import: a worker thread or child process of rxjs-parallel starts on it,\n` +
      '// and a bundled app copies it beside its bundle (docs/bundling.md). It exports nothing.\nexport {};\n',
  );
}
writeFileSync(stamp, fingerprint);

/** Every file under `dir`, sorted, as paths relative to the root. */
function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name))
    .sort();
}
