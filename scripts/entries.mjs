// The public surface of the package, in one place: every entry, command and plain file it exports.
// scripts/build.mjs derives from this table what must agree with it — package.json `exports`,
// `typesVersions`, `main`/`module`/`types`, `bin`, and typedoc.json `entryPoints` — and fails when
// they differ; the packed-package tests (test/package/) import every entry from it.
//
// To add an entry `rxjs-parallel/NAME`:
//   1. write src/NAME/index.ts, naming every export (no `export *`);
//   2. add a row to ENTRIES: `{ path: './NAME', src: 'NAME/index' }`, with `peers` listing the
//      optional peer dependencies that entry imports (each must also be in package.json
//      `peerDependencies`, marked optional in `peerDependenciesMeta`, and in `devDependencies`, so
//      that the tests can install it);
//   3. for a command, add it to BINS: `'command-name': 'NAME/bin'` (src/NAME/bin.ts, starting with
//      `#!/usr/bin/env node`);
//   4. run `npm run entries`: it writes the fields above from this table (commit what it changed);
//   5. `npm test` builds it (ESM, CommonJS and declarations for both), then imports it from a
//      packed tarball under ESM, CommonJS and four TypeScript resolutions and runs
//      arethetypeswrong and publint on it.
// docs/packaging.md says the same for readers of the docs.

/**
 * @typedef {object} Entry
 * @property {string} path   subpath in `exports` (`'.'` is the package itself)
 * @property {string} src    module under src/, without extension
 * @property {string[]} [peers] optional peer dependencies the entry imports
 */

/** @type {Entry[]} */
export const ENTRIES = [
  { path: '.', src: 'index' },
  { path: './worker', src: 'worker/index' },
  { path: './threads', src: 'threads/index', peers: ['threads'] },
  { path: './nestjs', src: 'nestjs/index', peers: ['@nestjs/common', '@nestjs/core'] },
  { path: './nats', src: 'nats/index', peers: ['@nats-io/transport-node', '@nats-io/jetstream'] },
];

/** Commands the package installs: name → module under src/ (built to dist/esm). @type {Record<string, string>} */
export const BINS = { 'rxjs-parallel-worker': 'nats/bin' };

/**
 * Built files exported for build tools rather than for `import`: the worker entries that a thread
 * or process of `threadScheduler()`/`processScheduler()` starts on, which a bundled app copies
 * beside its bundle (docs/bundling.md). Subpath → CommonJS file under dist/esm; scripts/build.mjs
 * gives each a declaration file that exports nothing (which is what it exports), so that type
 * checkers resolving every subpath find one.
 * @type {Record<string, string>}
 */
export const FILES = {
  './worker/node-thread-entry.cjs': 'worker/node-thread-entry.cjs',
  './worker/node-process-entry.cjs': 'worker/node-process-entry.cjs',
};

/** The module name of an entry: `rxjs-parallel`, `rxjs-parallel/worker`... */
export const specifier = (name, entry) => (entry.path === '.' ? name : `${name}/${entry.path.slice(2)}`);

/**
 * The package.json fields and typedoc entry points that follow from the table.
 * @param {Record<string, any>} pkg the current package.json (for its peer dependencies)
 */
export function derived(pkg) {
  const exports = {};
  const typesVersions = {};
  for (const { path, src } of ENTRIES) {
    exports[path] = {
      // The types of each build sit beside it: dist/cjs has a package.json of its own saying
      // "commonjs", so TypeScript reads the declarations there as CommonJS, those in dist/esm as ESM.
      import: { types: `./dist/esm/${src}.d.ts`, default: `./dist/esm/${src}.js` },
      require: { types: `./dist/cjs/${src}.d.ts`, default: `./dist/cjs/${src}.js` },
    };
    // TypeScript's `node10` resolution (`moduleResolution: node`, older CommonJS projects) reads no
    // `exports`: typesVersions is how it finds the types of a subpath.
    if (path !== '.') typesVersions[path.slice(2)] = [`./dist/cjs/${src}.d.ts`];
  }
  for (const [path, file] of Object.entries(FILES)) {
    const types = `./dist/esm/${file.replace(/\.cjs$/, '.d.cts')}`;
    exports[path] = { types, default: `./dist/esm/${file}` };
    typesVersions[path.slice(2)] = [types];
  }
  exports['./package.json'] = './package.json';
  const fields = {
    main: './dist/cjs/index.js',
    module: './dist/esm/index.js',
    types: './dist/cjs/index.d.ts',
    exports,
    typesVersions: { '*': typesVersions },
  };
  if (Object.keys(BINS).length > 0) {
    fields.bin = Object.fromEntries(Object.entries(BINS).map(([name, src]) => [name, `./dist/esm/${src}.js`]));
  }
  const problems = [];
  for (const entry of ENTRIES) {
    for (const peer of entry.peers ?? []) {
      if (!pkg.peerDependencies?.[peer]) problems.push(`${peer} (a peer of ${entry.path}) is not in peerDependencies`);
      if (pkg.peerDependenciesMeta?.[peer]?.optional !== true) problems.push(`${peer} is not marked optional in peerDependenciesMeta`);
      if (!pkg.devDependencies?.[peer]) problems.push(`${peer} is not in devDependencies (the package tests install it from there)`);
    }
  }
  return { fields, typedocEntryPoints: ENTRIES.map((e) => `src/${e.src}.ts`), problems };
}
