// Scenario 4 — memory under a fast producer: a generator of N strings of 1 KiB into a stage of 2
// workers whose work waits 1 ms, for a fixed time budget; peak RSS above the baseline, each library
// in its own child process (so that nothing else pollutes its RSS), sampled every 10 ms.
//   node bench/memory.mjs [--quick] [--run=0]                 (the parent: one child per library)
//   node --expose-gc bench/memory.mjs --child --lib=ours --n=1000000 --budget=8000
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emitResult, isMain, log, parseArgs, rotated, sleep } from './lib/common.mjs';

const WORKERS = 2;
const SIZE = 1024;
const SAMPLE_MS = 10;
const MiB = 1024 * 1024;

export const meta = {
  id: 'memory',
  title: 'Memory under a fast producer',
  about:
    `A generator of N strings of ${SIZE} bytes (each a new flat string) into a stage of ${WORKERS} workers whose work waits ` +
    `1 ms (\`await sleep(1)\`, returning the length), for a fixed time budget, then the pipeline is stopped. Each ` +
    `library runs in its own child process (\`node --expose-gc\`): a warm-up over 500 elements, \`gc()\`, the baseline ` +
    `RSS, then the run with RSS sampled every ${SAMPLE_MS} ms. The figure is the peak RSS above the baseline in MiB ` +
    `(lower is better); the ratios are ours over the peer. Effect's \`Stream.fromIterable\` pulls a generator 4,096 ` +
    `items at a time (its default chunk), so it may hold up to 4 MiB of strings read ahead.`,
  unit: 'MiB',
  better: 'lower',
  rows: {
    'ours': 'ours: `fromIterable(gen)` + `mapParallel(fn, { workers: 2 })`',
    'mergeMap': 'RxJS `from(gen)` + `mergeMap(fn, 2)`',
    'p-map': 'p-map, `concurrency: 2`',
    'readable-map': '`Readable.from(gen).map(fn, { concurrency: 2 })`',
    'effect': '`Stream.fromIterable(gen)` + `Stream.mapEffect(x => Effect.promise(() => fn(x)), { concurrency: 2 })` (Effect)',
  },
  ratios: [
    ['ours', 'p-map'],
    ['ours', 'readable-map'],
    ['ours', 'effect'],
    ['ours', 'mergeMap'],
  ],
  targets: [{ ratio: ['ours', 'p-map'], max: 2.0, label: 'memory, 1M × 1 KiB: peak RSS above baseline vs p-map' }],
};

// ---- the child: one library ------------------------------------------------------------------

/**
 * Fresh, flat 1 KiB strings. (`String(i).padEnd(1024)` would make a cons string sharing its
 * padding, a fraction of the size; Buffer#toString copies into a new sequential string.)
 */
function* strings(n) {
  const buf = Buffer.alloc(SIZE, '.');
  for (let i = 0; i < n; i++) {
    buf.write(String(i), 0, 'latin1');
    yield buf.toString('latin1');
  }
}

const work = async (s) => {
  await sleep(1);
  return s.length;
};

/** Each library: start(n, onValue) begins the pipeline and returns stop(), which ends it. */
const libraries = {
  async ours() {
    const { fromIterable, mapParallel } = await import('../dist/esm/index.js');
    return (n, onValue, onEnd) => {
      const sub = fromIterable(strings(n)).pipe(mapParallel(work, { workers: WORKERS })).subscribe({ next: onValue, complete: onEnd, error: onEnd });
      return () => sub.unsubscribe();
    };
  },
  async mergeMap() {
    const { from, mergeMap } = await import('rxjs');
    return (n, onValue, onEnd) => {
      let stopped = false;
      let sub;
      // from(generator) reads the whole generator synchronously inside subscribe: start it on the
      // next tick so that the budget timer is already running.
      setImmediate(() => {
        if (!stopped) sub = from(strings(n)).pipe(mergeMap(work, WORKERS)).subscribe({ next: onValue, complete: onEnd, error: onEnd });
      });
      return () => {
        stopped = true;
        sub?.unsubscribe();
      };
    };
  },
  async 'p-map'() {
    const { default: pMap } = await import('p-map');
    return (n, onValue, onEnd) => {
      const ac = new AbortController();
      // p-map hands back its results only at the end: count each one as its call returns.
      pMap(strings(n), async (s) => {
        const v = await work(s);
        if (!ac.signal.aborted) onValue(v);
        return v;
      }, { concurrency: WORKERS, signal: ac.signal }).then(onEnd, onEnd);
      return () => ac.abort();
    };
  },
  async 'readable-map'() {
    const { Readable } = await import('node:stream');
    return (n, onValue, onEnd) => {
      const stream = Readable.from(strings(n)).map(work, { concurrency: WORKERS });
      let stopped = false;
      (async () => {
        for await (const v of stream) {
          if (stopped) break;
          onValue(v);
        }
      })().then(onEnd, onEnd);
      return () => {
        stopped = true;
        stream.destroy();
      };
    };
  },
  async effect() {
    const { Effect, Stream } = await import('effect');
    return (n, onValue, onEnd) => {
      const ac = new AbortController();
      const program = Stream.fromIterable(strings(n)).pipe(
        Stream.mapEffect((s) => Effect.promise(() => work(s)), { concurrency: WORKERS }),
        Stream.runForEach((v) => Effect.sync(() => onValue(v))),
      );
      Effect.runPromise(program, { signal: ac.signal }).then(onEnd, onEnd);
      return () => ac.abort();
    };
  },
};

async function child({ lib, n, budget }) {
  const start = await libraries[lib]();
  // Warm-up: the library's code is loaded and compiled before the baseline.
  await new Promise((resolve) => start(500, () => {}, resolve));
  globalThis.gc?.();
  await sleep(50);
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  let count = 0;
  let sum = 0;
  let ended = false;
  const t0 = performance.now();
  const stop = start(n, (v) => {
    count++;
    sum += v;
  }, () => (ended = true));
  await sleep(budget);
  sample();
  stop();
  clearInterval(sampler);
  const ms = performance.now() - t0;
  emitResult({
    id: lib,
    value: (peak - baseline) / MiB,
    count,
    ok: count > 0 && sum === count * SIZE,
    baselineMiB: baseline / MiB,
    peakMiB: peak / MiB,
    ms,
    endedEarly: ended,
  });
  process.exit(0); // mergeMap still holds its buffer and timers: nothing of it is worth waiting for
}

// ---- the parent: one child per library -------------------------------------------------------

function runChild(lib, n, budget) {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(import.meta.url);
    const c = spawn(process.execPath, ['--expose-gc', script, '--child', `--lib=${lib}`, `--n=${n}`, `--budget=${budget}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('@@result '));
      if (code !== 0 || !line) return reject(new Error(`memory child ${lib} exited with ${code}: ${out}`));
      resolve(JSON.parse(line.slice(9)));
    });
  });
}

export async function runOnce({ quick = false, n = quick ? 20_000 : 1_000_000, budget = quick ? 1_000 : 8_000, run = 0 } = {}) {
  const rows = [];
  for (const id of rotated(Object.keys(libraries), run)) {
    const r = await runChild(id, n, budget);
    log(`  ${id}: +${r.value.toFixed(1)} MiB peak RSS (baseline ${r.baselineMiB.toFixed(0)} MiB), ${r.count} elements done${r.ok ? '' : '  WRONG RESULT'}`);
    rows.push(r);
  }
  return { scenario: meta.id, params: { n, budgetMs: budget, workers: WORKERS, size: SIZE, sampleMs: SAMPLE_MS }, rows };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  if (args.child) await child({ lib: args.lib, n: Number(args.n), budget: Number(args.budget) });
  else emitResult(await runOnce({ quick: !!args.quick, run: Number(args.run ?? 0) }));
}
