// The library as it was at an earlier commit, built beside the current one, so that the dispatch
// scenario can time the stage engine of both in one process, one after the other (an A/B within a
// run, as every other ratio of the suite). The commit's own files come from `git archive` and are
// built by its own scripts/build.mjs into node_modules/.cache/, where Node and TypeScript resolve
// rxjs and the toolchain from this checkout's node_modules (linked in as its own); a commit built
// once is reused.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * The default baseline: the engine the "≥ 2× the engine alone" target was set against, the code of
 * the run published on 2026-11-23. Pinned, not "the last published run": a target to double the
 * engine must keep measuring against the same engine, or each run that publishes moves it.
 */
export const ENGINE_TARGET_BASELINE = 'aa2448e6c10cdf42819318683308c8c92d8db142';

/**
 * Builds the library at `rev` (once per commit) and resolves with `{ rev, sha, url }`, `url` being
 * its ESM entry; rejects with a readable reason when git or the build fails.
 */
export async function prepareBaseline(rev, log = console.log) {
  let sha;
  try {
    sha = git('rev-parse', '--verify', `${rev}^{commit}`);
  } catch {
    throw new Error(`baseline "${rev}" is not a commit of this repository`);
  }
  const dir = `${root}node_modules/.cache/rxjs-parallel-bench/baseline-${sha}`;
  const entry = `${dir}/dist/esm/index.js`;
  const built = `${dir}/.built`; // written last: a build that failed half-way is not reused
  if (!existsSync(built)) {
    log(`baseline: building the library at ${sha.slice(0, 10)} in ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await pipeArchive(sha, dir);
    // Its own `node_modules`, this checkout's: a tsconfig that names a file under ./node_modules
    // (the CommonJS build's `paths` for the NATS client's types) finds it there.
    symlinkSync(`${root}node_modules`, `${dir}/node_modules`, 'dir');
    await exec(process.execPath, ['scripts/build.mjs'], dir);
    if (!existsSync(entry)) throw new Error(`baseline: the build at ${sha} wrote no dist/esm/index.js`);
    writeFileSync(built, `${new Date().toISOString()}\n`);
  }
  return { rev, sha, url: pathToFileURL(entry).href };
}

/** `git archive sha | tar -x -C dir`. */
function pipeArchive(sha, dir) {
  return new Promise((resolve, reject) => {
    const archive = spawn('git', ['archive', '--format=tar', sha], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 2, 2] });
    archive.stdout.pipe(tar.stdin);
    let left = 2;
    const done = (what) => (code) => {
      if (code !== 0) return reject(new Error(`baseline: ${what} exited with ${code}`));
      if (--left === 0) resolve();
    };
    archive.on('error', reject).on('close', done('git archive'));
    tar.on('error', reject).on('close', done('tar'));
  });
}

function exec(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 2, 2] }); // the build's output to stderr: stdout carries results
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`baseline: ${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}
