// Prepares an example app that has its own package.json and lock file (examples/nestjs,
// examples/nestjs/esm, examples/angular), the way a user's app gets rxjs-parallel: from the
// package as published, here packed from this checkout's build.
//
//   node scripts/examples.mjs install <example dir>    (after `npm run build`)
//   node scripts/examples.mjs lock <example dir>       (after changing its package.json)
//
// 1. `npm pack` of this checkout (its dist/ as built) into .cache/pack/rxjs-parallel.tgz, which each
//    example's package.json names as `file:` dependency. Written under a temporary name and renamed,
//    so that tests preparing two examples at once never read a half-written tarball.
// 2. `npm ci --prefer-offline` in the example, from the npm cache where it can, once: it is skipped
//    while the example's installed tree (node_modules/.package-lock.json) matches its lock file.
// 3. rxjs-parallel itself, unpacked afresh from the tarball into the example's node_modules on every
//    run: the build changes, the example's lock does not. (The lock file carries no integrity for
//    the tarball, on purpose: npm would otherwise install a stale copy from its cache, or refuse.)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packDir = join(repo, '.cache/pack');
export const tarball = join(packDir, 'rxjs-parallel.tgz');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The environment for a child npm: this one without the `npm_*` variables that `npm test` sets for
 * its own package (a child npm would read them as its own configuration); the cache stays.
 */
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || /^npm_config_cache$/i.test(key)));

/** Packs this checkout's build into `tarball`. */
export function pack() {
  if (!existsSync(join(repo, 'dist/esm/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  mkdirSync(packDir, { recursive: true });
  const tmp = mkdtempSync(join(packDir, 'tmp-'));
  try {
    // --ignore-scripts: the build is already there, and a prepack script must not rebuild it under a running test.
    const out = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: repo, encoding: 'utf8', env: npmEnv });
    const [{ filename }] = JSON.parse(out);
    renameSync(join(tmp, filename), tarball);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Installs the example's dependencies (once per lock file) and the freshly packed rxjs-parallel. */
export function install(exampleDir, log = (line) => process.stderr.write(`${line}\n`)) {
  const dir = resolve(repo, exampleDir);
  pack();
  const lock = readFileSync(join(dir, 'package-lock.json'));
  const stamp = join(dir, 'node_modules/.rxjs-parallel-example');
  const want = createHash('sha256').update(lock).update(process.version).digest('hex');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    log(`examples: npm ci in ${exampleDir}`);
    execFileSync(npm, ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: npmEnv });
    writeFileSync(stamp, want);
  }
  const target = join(dir, 'node_modules/rxjs-parallel');
  const fresh = mkdtempSync(join(dir, 'node_modules/.rxjs-parallel-'));
  try {
    execFileSync('tar', ['-xzf', tarball, '-C', fresh]);
    rmSync(target, { recursive: true, force: true });
    renameSync(join(fresh, 'package'), target);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

/** Writes the example's lock file from its package.json, without the tarball's integrity (see above). */
export function lock(exampleDir) {
  const dir = resolve(repo, exampleDir);
  pack();
  execFileSync(npm, ['install', '--package-lock-only', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit', env: npmEnv });
  const file = join(dir, 'package-lock.json');
  const data = JSON.parse(readFileSync(file, 'utf8'));
  delete data.packages['node_modules/rxjs-parallel'].integrity;
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, exampleDir] = process.argv.slice(2);
  if (command === 'install' && exampleDir) install(exampleDir);
  else if (command === 'lock' && exampleDir) lock(exampleDir);
  else if (command === 'pack') pack();
  else {
    console.error('usage: node scripts/examples.mjs install|lock <example dir>, or pack');
    process.exit(2);
  }
}
