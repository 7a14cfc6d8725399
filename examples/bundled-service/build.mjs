// Bundles the service into dist/ with rxjs-parallel inside, and copies beside it the two files its
// threads and processes start on (docs/bundling.md).
import { build } from 'esbuild';
import { copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
await build({ entryPoints: ['src/main.ts', 'src/tasks.ts'], bundle: true, platform: 'node', outdir: 'dist' });
for (const file of ['node-thread-entry.cjs', 'node-process-entry.cjs']) {
  copyFileSync(require.resolve(`rxjs-parallel/worker/${file}`), `dist/${file}`);
}
