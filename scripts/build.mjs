// Builds dist/esm (+ dist/types) and dist/cjs with tsc, then writes the few files that differ
// between the two module systems. Run by `npm run build` and, through it, by `npm test`.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.cjs.json'], { stdio: 'inherit' });
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
// import.meta does not exist in CommonJS: the CJS build gets its module URL from __filename.
writeFileSync(
  'dist/cjs/internal/module-url.js',
  '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n' +
    'exports.moduleUrl = require("node:url").pathToFileURL(__filename).href;\n',
);
// tsc turns import() into require() in CommonJS output, which cannot load ES modules; Node's
// CommonJS loader understands a real import(), so the CJS build gets one written out.
writeFileSync(
  'dist/cjs/internal/import-module.js',
  '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n' +
    'exports.importModule = (url) => import(url);\n',
);
// The entries a Node worker thread or child process starts on: the runtime and what it imports,
// bundled into one CommonJS file each. A new thread loads it in about the time a bare thread takes,
// and the dozen ES modules it is made of ~20 ms later (`node bench/entry-load.mjs`), which was most
// of what a cold stage spent beyond Node's own start-up. (The ES module entries tsc wrote stay, for
// bundlers and for reading.)
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
