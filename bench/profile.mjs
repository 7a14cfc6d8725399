// Where the main thread's time goes, per function (self time), for one of the dispatch scenario's
// rows of ours: runs it in a child process under V8's CPU profiler, then prints the top functions.
//   npm run build && node bench/profile.mjs [thread-auto|task|engine] [--runs=10] [--n=400000] [--top=25] [--warm=0]
// Each run is a new pipeline of n elements (as the dispatch scenario warms up), so the profile
// shows the steady state, not V8 at work. With --warm=W, W pipelines run first, unprofiled, and the
// profile (node:inspector) covers only the `runs` after them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drain, parseArgs, range } from './lib/common.mjs';

const args = parseArgs();
const row = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'thread-auto';
const runs = Number(args.runs ?? 10);
const n = Number(args.n ?? 400_000);
const warm = Number(args.warm ?? 0);

if (process.env.RXJS_PARALLEL_PROFILE_CHILD) {
  const lib = await import('../dist/esm/index.js');
  const { fromIterable, mapParallel, task, threadScheduler } = lib;
  const inc = task(new URL('./workers/tasks.mjs', import.meta.url), 'inc');
  const scheduler = row === 'thread-auto' ? threadScheduler({ workers: 2 }) : undefined;
  const stage = {
    'thread-auto': () => mapParallel(inc, { scheduler, batchSize: 'auto' }),
    task: () => mapParallel(async (x) => x + 1, { workers: 2 }),
    engine: () => mapParallel((x) => x + 1, { scheduler: 'sync' }),
  }[row];
  if (!stage) throw new Error(`unknown row "${row}": thread-auto, task or engine`);
  for (let r = 0; r < warm; r++) await drain(fromIterable(range(n)).pipe(stage()));
  let session;
  if (warm > 0) {
    const { Session } = await import('node:inspector/promises');
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const rates = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await drain(fromIterable(range(n)).pipe(stage()));
    rates.push(Math.round(n / ((performance.now() - t) / 1000)));
  }
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(process.env.RXJS_PARALLEL_PROFILE_DIR, 'main.cpuprofile'), JSON.stringify(profile));
  }
  await scheduler?.close();
  console.log(`${row}: ${runs} runs of ${n.toLocaleString('en-US')} elements, elements/s: ${rates.map((x) => x.toLocaleString('en-US')).join(', ')}`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'rxp-profile-'));
  try {
    const flags = warm > 0 ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]; // with a warm-up, the child profiles itself
    const child = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, RXJS_PARALLEL_PROFILE_CHILD: '1', RXJS_PARALLEL_PROFILE_DIR: dir },
    });
    if (child.status !== 0) process.exit(child.status ?? 1);
    // The main thread's profile is the largest (a worker thread writes one of its own).
    const files = readdirSync(dir).map((f) => join(dir, f));
    const main = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
    const profile = JSON.parse(readFileSync(main, 'utf8'));
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const self = new Map();
    let total = 0;
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      total += dt;
      const { functionName, url, lineNumber } = byId.get(id).callFrame;
      const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + dt);
    });
    console.log('main thread, self time:');
    for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top ?? 25))) {
      console.log(`${((t / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
