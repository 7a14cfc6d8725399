// Scenario 6 — startup: time from nothing to the first result of a cold stage (a 2-worker pool
// made, its workers started, one trivial task run), each sample in a fresh Node process, for our
// thread and process stages beside piscina and raw workers.
//   node bench/startup.mjs [--quick] [--run=0]           (the parent: one child per library)
//   node bench/startup.mjs --child --lib=ours-thread
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emitResult, isMain, log, parseArgs, rotated } from './lib/common.mjs';

const WORKERS = 2;
const tasksUrl = new URL('./workers/tasks.mjs', import.meta.url);

export const meta = {
  id: 'startup',
  title: 'Startup',
  about:
    `Time to the first result of a cold ${WORKERS}-worker stage, in ms (lower is better): each sample is a fresh Node ` +
    'process that imports everything first, then starts the clock, makes the pool (ours: `fromIterable([1])` + ' +
    `\`mapParallel(task(url, 'inc'), { scheduler: 'thread' | 'process', workers: ${WORKERS} })\`, a private scheduler ` +
    'made on subscribe; piscina: `new Piscina` + `run`; raw: `new Worker` / `fork` and one message, without waiting for ' +
    'the workers to come online first) and stops it at the first result. Ours loads Node\'s `worker_threads` module ' +
    'only when its first pool starts a thread (the library also runs in browsers), piscina when it is imported: the ' +
    '`ours-thread-preloaded` row shows ours with that module loaded before the clock, as for piscina.',
  unit: 'ms',
  better: 'lower',
  rows: {
    'ours-thread': 'ours: cold thread stage',
    'ours-thread-preloaded': "ours: cold thread stage, Node's `worker_threads` module loaded before the clock (as importing piscina does)",
    'ours-process': 'ours: cold process stage',
    'piscina': 'piscina: `new Piscina` + first `run`',
    'raw-thread': 'raw `worker_threads`',
    'raw-fork': 'raw `fork` (advanced serialization)',
  },
  ratios: [
    ['ours-thread', 'piscina'],
    ['ours-thread', 'raw-thread'],
    ['ours-thread-preloaded', 'piscina'],
    ['ours-process', 'raw-fork'],
  ],
  targets: [{ ratio: ['ours-thread', 'piscina'], max: 1.2, label: 'cold start: thread stage first result vs piscina' }],
};

// ---- the child: one sample ------------------------------------------------------------------

const libraries = {
  'ours-thread': () => ours('thread'),
  async 'ours-thread-preloaded'() {
    await import('node:worker_threads'); // piscina loads it on import; ours when its first pool starts a thread
    return ours('thread');
  },
  'ours-process': () => ours('process'),
  async piscina() {
    const { default: Piscina } = await import('piscina');
    return async () => {
      const pool = new Piscina({ filename: tasksUrl.href, name: 'inc', minThreads: WORKERS, maxThreads: WORKERS });
      return pool.run(1);
    };
  },
  async 'raw-thread'() {
    const { rawThreads } = await import('./lib/raw.mjs');
    return async () => (await rawThreads(WORKERS, { wait: false })).call('inc', 1);
  },
  async 'raw-fork'() {
    const { rawFork } = await import('./lib/raw.mjs');
    return async () => (await rawFork(WORKERS, 'advanced', { wait: false })).call('inc', 1);
  },
};

async function ours(kind) {
  const lib = await import('../dist/esm/index.js');
  const { firstValueFrom } = await import('rxjs');
  const { schedulerAvailable } = await import('./lib/common.mjs');
  const skipped = await schedulerAvailable(lib, kind);
  if (skipped) return { skipped };
  const inc = lib.task(tasksUrl, 'inc');
  return () => firstValueFrom(lib.fromIterable([1]).pipe(lib.mapParallel(inc, { scheduler: kind, workers: WORKERS })));
}

async function child(id) {
  const start = await libraries[id]();
  if (start.skipped) {
    emitResult({ id, skipped: start.skipped });
    process.exit(0);
  }
  const t0 = performance.now();
  const value = await start();
  const ms = performance.now() - t0;
  emitResult({ id, value: ms, count: 1, expected: 1, ok: value === 2 });
  process.exit(0); // the sample is taken; shutting the pool down is not part of it
}

// ---- the parent: one fresh process per sample ------------------------------------------------

function runChild(id) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', `--lib=${id}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('@@result '));
      if (code !== 0 || !line) return reject(new Error(`startup child ${id} exited with ${code}: ${out}`));
      resolve(JSON.parse(line.slice(9)));
    });
  });
}

export async function runOnce({ run = 0 } = {}) {
  const rows = [];
  for (const id of rotated(Object.keys(libraries), run)) {
    const r = await runChild(id);
    log(r.skipped ? `  ${id}: skipped: ${r.skipped}` : `  ${id}: ${r.value.toFixed(1)} ms${r.ok ? '' : '  WRONG RESULT'}`);
    rows.push(r);
  }
  return { scenario: meta.id, params: { workers: WORKERS }, rows };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  if (args.child) await child(args.lib);
  else emitResult(await runOnce({ run: Number(args.run ?? 0) }));
}
