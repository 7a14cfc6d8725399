// The benchmark runner: runs each scenario in fresh child processes, several times, and reports
// every figure as a median with its range, and every comparison as a ratio computed within a run
// (ours and the peer measured minutes apart at most, on the same machine) then summarised.
//   node bench/run.mjs                     full: prints, writes docs/benchmarks.md and bench/results.json
//   node bench/run.mjs --quick             every scenario tiny, once; prints only (the smoke test)
//   node bench/run.mjs --only=dispatch,cpu --runs=5
//   node bench/run.mjs --only=cpu --workers 1,2,4,8      the CPU scenario's worker counts (default: 1, 2, 4, … up to the cores)
//   node bench/run.mjs --baseline=<commit>  the engine-alone A/B against that commit (default: the
//                                           engine the target was set against, ENGINE_TARGET_BASELINE
//                                           in bench/lib/baseline.mjs: the code of the 2026-11-23 run)
// `npm run bench` builds dist/ first; `npm run bench:quick` is the quick form. A run with --only,
// --runs or --workers prints its report but does not overwrite the published one.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, release, platform, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cores, parseArgs } from './lib/common.mjs';
import { ENGINE_TARGET_BASELINE, prepareBaseline } from './lib/baseline.mjs';
import { judgeTarget, ratioStats, stats } from './lib/targets.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const root = here('../');

/**
 * Scenarios in order, with their runs in a full run (each run is one fresh child process) and the
 * runner's options passed on to them.
 */
const SCENARIOS = [
  { id: 'dispatch', runs: 5 },
  { id: 'engine', runs: 5 },
  { id: 'cpu', runs: 5, pass: ['workers'] },
  { id: 'long', runs: 5 },
  { id: 'memory', runs: 3 },
  { id: 'pipeline', runs: 3 },
  { id: 'startup', runs: 9 },
  { id: 'nats', runs: 3 },
];
const PEERS = ['piscina', 'tinypool', 'workerpool', 'p-map', 'effect', 'rxjs'];
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

const args = parseArgs();
const quick = !!args.quick;
const only = args.only ? String(args.only).split(',') : undefined;
if (only) for (const id of only) if (!SCENARIOS.some((s) => s.id === id)) fail(`unknown scenario "${id}"; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));
if (!existsSync(here('../dist/esm/index.js'))) fail('dist/ is missing: run `npm run build` first (npm run bench does)');

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

/** Runs one scenario run in a fresh Node process; resolves with its `@@result`. */
function runScenario({ id, pass = [] }, run, env) {
  return new Promise((resolve, reject) => {
    const passed = pass.filter((k) => args[k] !== undefined).map((k) => `--${k}=${args[k]}`);
    const argv = [here(`./${id}.mjs`), `--run=${run}`, ...(quick ? ['--quick'] : []), ...passed];
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = out.split('\n').reverse().find((l) => l.startsWith('@@result '));
      if (code !== 0 || !line) return reject(new Error(`${id} run ${run + 1} failed (exit ${code ?? signal})\n${out}`));
      resolve(JSON.parse(line.slice('@@result '.length)));
    });
  });
}

/** A scenario module's description; a function of the runner's options where its rows depend on them. */
const describeScenario = (mod) => (typeof mod.meta === 'function' ? mod.meta(args) : mod.meta);
const extraLabel = (e) => (typeof e === 'string' ? { label: e, digits: 2 } : { digits: 2, ...e });

/** Medians and ranges of each row over the runs, and of each ratio within a run. */
function summarise(meta, runs) {
  const rows = Object.keys(meta.rows).map((id) => {
    const results = runs.map((r) => r.rows.find((x) => x.id === id)).filter(Boolean);
    const measured = results.filter((x) => !x.skipped);
    const extra = Object.fromEntries(Object.keys(meta.extra ?? {}).map((k) => [k, stats(measured.map((x) => x[k]).filter((v) => v !== undefined))]));
    return {
      id,
      label: meta.rows[id],
      skipped: measured.length === 0 ? results[0]?.skipped ?? 'not run' : undefined,
      value: stats(measured.map((x) => x.value)),
      ok: measured.every((x) => x.ok),
      counts: measured.map((x) => `${x.count}${x.expected !== undefined ? `/${x.expected}` : ''}`),
      extra,
    };
  });
  const ratios = meta.ratios.map(([num, den]) => ({ num, den, ...ratioStats(runs, [num, den]) }));
  const targets = meta.targets.map((t) => {
    const { r, status, atBound, boundStats } = judgeTarget(t, runs);
    const bound = boundStats?.n ? fmtStats(boundStats, fmtRatio) : undefined;
    // What the same runs measured beside it: the bound, or the peer that shows where the limit is.
    const context = (t.context ?? []).map((c) => {
      if (c.ratio) {
        const cr = ratioStats(runs, c.ratio, c.invert);
        return { label: c.label, text: cr.n ? fmtStats(cr, fmtRatio) : 'not measured' };
      }
      const row = rows.find((x) => x.id === c.row);
      const v = row?.extra[c.extra];
      return { label: c.label, text: v ? fmtStats(v, (x) => x.toFixed(c.digits ?? 0)) : 'not measured' };
    });
    return { ...t, measured: r.n ? { median: r.median, min: r.min, max: r.max } : undefined, status, atBound, bound, context };
  });
  const extraLabels = Object.fromEntries(Object.entries(meta.extra ?? {}).map(([k, e]) => [k, extraLabel(e)]));
  return { id: meta.id, title: meta.title, about: meta.about, unit: meta.unit, better: meta.better, speedUp: !!meta.speedUp, extraLabels, params: runs[0]?.params, runs: runs.length, rows, ratios, targets };
}

/**
 * The status of each target in the report now in docs/benchmarks.md (the last published run), by
 * its label: 'met', 'missed' or 'pending'. Read from the Targets table this runner wrote.
 */
function lastReportTargets() {
  const path = here('../docs/benchmarks.md');
  if (!existsSync(path)) return new Map();
  const doc = readFileSync(path, 'utf8');
  const at = doc.indexOf('### Targets', doc.indexOf(START));
  if (at < 0) return new Map();
  const lines = doc.slice(at).split('\n').slice(1);
  const table = [];
  for (const line of lines.slice(lines.findIndex((l) => l.startsWith('|')))) {
    if (!line.startsWith('|')) break;
    table.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  const [header, , ...body] = table;
  if (!header) return new Map();
  const col = header.indexOf('status') >= 0 ? header.indexOf('status') : 3;
  const date = /^- Date: (.*)$/m.exec(doc)?.[1];
  const statusOf = (cell = '') => (cell.startsWith('met') ? 'met' : cell.includes('missed') ? 'missed' : 'pending');
  const map = new Map(body.map((cells) => [cells[0], statusOf(cells[col])]));
  map.date = date;
  return map;
}

// ---- formatting -------------------------------------------------------------------------------

function fmtValue(v, unit) {
  if (v === undefined || Number.isNaN(v)) return '–';
  if (unit === 'MiB' || unit === 'ms') return v.toFixed(1);
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(1);
}
const fmtRatio = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toPrecision(2)) + '×';
const fmtStats = (s, f) => (s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : '–');

function markdown(summaries, env, previous) {
  const out = [];
  const allTargets = summaries.flatMap((s) => s.targets.map((t) => ({ ...t, scenario: s })));
  out.push(START);
  out.push('## Against the peers');
  out.push('');
  out.push(
    'Generated by `npm run bench` (which builds `dist/`, then runs `node bench/run.mjs`); do not edit between the ' +
      '`bench:start` and `bench:end` markers: the next run rewrites it. Each scenario run is a fresh Node process ' +
      '(the memory and startup scenarios start one more per library and per sample); libraries take turns in an order ' +
      'that rotates from run to run. Figures are medians over the runs with the range (min–max); every ratio is taken ' +
      'within one run, between two libraries measured in the same process minutes apart at most, and then summarised ' +
      'the same way, because on a shared machine absolute figures move by tens of percent from minute to minute.',
  );
  out.push('');
  out.push(`- Date: ${env.date}`);
  out.push(`- Machine: ${env.cores} cores (\`nproc\`), ${env.cpu}, ${env.memGiB} GiB RAM, ${env.os}; shared with other jobs (load average ${env.load} at the start, ${env.loadEnd} at the end)`);
  out.push(`- Node ${env.node}`);
  out.push(`- Peers: ${Object.entries(env.peers).map(([k, v]) => `${k} ${v}`).join(', ')}; Node's own \`Readable.prototype.map\`, \`worker_threads\`, \`child_process.fork\``);
  out.push(`- Command: \`${env.command}\`; runs: ${summaries.map((s) => `${s.id} ${s.runs}`).join(', ')}; ${env.minutes} min in all`);
  if (env.baseline) {
    const b = env.baseline;
    out.push(`- Engine baseline (the \`engine-baseline\` row): ${b.sha ? `commit ${b.sha.slice(0, 10)}${b.default ? ', the engine the ≥ 2× target was set against (the code of the 2026-11-23 run)' : ` (\`--baseline=${b.rev}\`)`}` : b.rev}`);
  }
  out.push(`- Raw results of every run: [bench/results.json](../bench/results.json)`);
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push(
    'Each target is a median of ratios taken within a run. *Last report*: its status in the report this one replaced' +
      `${previous.date ? ` (${previous.date})` : ''}, – when it had no such target; a target met there and missed here is marked **regressed**. ` +
      '*Same runs*: what the same runs measured beside it, the bound or the peer that shows where the limit is.',
  );
  out.push('');
  out.push('| target | wanted | measured: median (range) | status | last report | same runs |');
  out.push('|---|---|---|---|---|---|');
  for (const t of allTargets) {
    const wanted = (t.min !== undefined ? `≥ ${t.min}×` : `≤ ${t.max}×`) + (t.orBound ? `, or ${t.orBound.label}'s in the same runs` : '');
    const measured = t.measured ? fmtStats(t.measured, fmtRatio) : 'not measured';
    const before = previous.get(t.label);
    const mark =
      t.status === 'met'
        ? t.atBound
          ? `met at its bound (${t.orBound.label}: ${t.bound})`
          : 'met'
        : t.status === 'missed'
            ? `**missed**${before === 'met' ? ' (**regressed**)' : ''} (see below)`
            : `pending: ${t.scenario.rows.find((r) => r.id === t.ratio[0])?.skipped ?? t.scenario.rows.find((r) => r.id === t.ratio[1])?.skipped ?? 'not measured'}`;
    const context = t.context.map((c) => `${c.label}: ${c.text}`).join('; ');
    out.push(`| ${t.label} | ${wanted} | ${measured} | ${mark} | ${before ?? '–'} | ${context} |`);
  }
  const wereMet = allTargets.filter((t) => previous.get(t.label) === 'met');
  const regressed = wereMet.filter((t) => t.status !== 'met');
  out.push('');
  out.push(
    `Of the targets above, met in the last report: ${wereMet.length}; still met: ${wereMet.length - regressed.length}` +
      (regressed.length ? `; not met now: ${regressed.map((t) => t.label).join('; ')}.` : '.'),
  );
  summaries.forEach((s, i) => {
    out.push('');
    out.push(`### ${i + 1}. ${s.title}`);
    out.push('');
    out.push(s.about);
    out.push('');
    const p = s.params ?? {};
    const shown = Object.entries(p).filter(([k]) => k !== 'bounds').map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('/') : v}`);
    out.push(`Parameters: ${shown.join(', ')}; ${s.runs} runs.`);
    out.push('');
    const extras = Object.entries(s.extraLabels);
    out.push(`| row | library | ${s.unit}: median (range) |${extras.map(([, e]) => ` ${e.label} |`).join('')}`);
    out.push(`|---|---|---|${extras.map(() => '---|').join('')}`);
    for (const r of s.rows) {
      const value = r.skipped ? `skipped: ${r.skipped}` : fmtStats(r.value, (v) => fmtValue(v, s.unit));
      out.push(`| \`${r.id}\` | ${r.label} | ${value} |${extras.map(([k, e]) => ` ${r.extra[k] ? fmtStats(r.extra[k], (v) => v.toFixed(e.digits)) : '–'} |`).join('')}`);
    }
    out.push('');
    const lower = s.better === 'lower' ? ', lower is better' : '';
    out.push(s.speedUp ? '| speed-up (same run) | median (range) | bound |' : `| ratio (same run${lower}) | median (range) |`);
    out.push(s.speedUp ? '|---|---|---|' : '|---|---|');
    for (const r of s.ratios) {
      const text = r.n ? fmtStats(r, fmtRatio) : 'not measured';
      if (s.speedUp) {
        out.push(`| \`${r.num}\` | ${text} | ${p.bounds?.[r.num] !== undefined ? fmtRatio(p.bounds[r.num]) : ''} |`);
      } else {
        out.push(`| \`${r.num}\` ÷ \`${r.den}\` | ${text} |`);
      }
    }
  });
  out.push(END);
  return out.join('\n');
}

function writeDocs(block) {
  const path = here('../docs/benchmarks.md');
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\n';
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a >= 0 && b > a) {
    doc = doc.slice(0, a) + block + doc.slice(b + END.length);
  } else {
    // First run: before the first section another tool owns (it stays, untouched), or at the end.
    const at = doc.search(/^## /m);
    doc = at >= 0 ? doc.slice(0, at) + block + '\n\n' + doc.slice(at) : doc.trimEnd() + '\n\n' + block + '\n';
  }
  writeFileSync(path, doc);
}

function environment() {
  const version = (name) => JSON.parse(readFileSync(here(`../node_modules/${name}/package.json`), 'utf8')).version;
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cores,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    memGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    load: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
    peers: Object.fromEntries(PEERS.map((p) => [p, version(p)])),
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
  };
}

// ---- main -------------------------------------------------------------------------------------

const env = environment();
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`rxjs-parallel benchmarks${quick ? ' (quick: tiny sizes, one run, targets not judged, nothing written)' : ''}: Node ${env.node}, ${env.cores} cores, ${env.cpu}`);

/**
 * The dispatch scenario's engine-alone A/B: the library built at the baseline commit, handed to
 * the scenario's children through the environment. A quick run uses the current build instead (it
 * checks the row, not the figure).
 */
async function baselineEnv() {
  if (!selected.some((s) => s.id === 'engine')) return {}; // the engine-baseline row is the engine scenario's
  if (quick) {
    env.baseline = { rev: 'the current build (quick run)' };
    return { RXJS_PARALLEL_BENCH_BASELINE: pathToFileURL(here('../dist/esm/index.js')).href, RXJS_PARALLEL_BENCH_BASELINE_REV: 'current build' };
  }
  try {
    const rev = args.baseline ?? ENGINE_TARGET_BASELINE;
    const b = await prepareBaseline(rev);
    env.baseline = { rev: b.rev, sha: b.sha, default: args.baseline === undefined };
    return { RXJS_PARALLEL_BENCH_BASELINE: b.url, RXJS_PARALLEL_BENCH_BASELINE_REV: b.sha.slice(0, 10) };
  } catch (error) {
    console.log(`baseline: ${error.message}; the engine-baseline row is skipped`);
    return { RXJS_PARALLEL_BENCH_BASELINE_ERROR: `baseline not built: ${error.message}` };
  }
}

const summaries = [];
const raw = {};
let failures = 0;
const started = performance.now();
const childEnv = await baselineEnv();
for (const scenario of selected) {
  const { id, runs: defaultRuns } = scenario;
  const runs = quick ? 1 : Number(args.runs ?? defaultRuns);
  const meta = describeScenario(await import(`./${id}.mjs`));
  const results = [];
  const t0 = performance.now();
  try {
    for (let run = 0; run < runs; run++) {
      console.log(`${id}: run ${run + 1}/${runs}`);
      results.push(await runScenario(scenario, run, childEnv));
    }
  } catch (error) {
    failures++;
    console.log(`scenario ${id}: FAILED\n${error.message}`);
    continue;
  }
  raw[id] = results;
  const s = summarise(meta, results);
  summaries.push(s);
  for (const r of s.rows) {
    if (r.skipped) console.log(`result ${id}/${r.id}: skipped: ${r.skipped}`);
    else console.log(`result ${id}/${r.id}: ${r.ok ? 'ok' : 'WRONG'} ${r.counts.join(', ')} elements; ${fmtStats(r.value, (v) => fmtValue(v, s.unit))} ${s.unit}`);
    if (!r.skipped && !r.ok) failures++;
  }
  for (const r of s.ratios) if (r.n) console.log(`  ${r.num} ÷ ${r.den}: ${fmtStats(r, fmtRatio)}`);
  if (!quick) for (const t of s.targets) console.log(`  target ${t.status}: ${t.label} ${t.min !== undefined ? '≥ ' + t.min : '≤ ' + t.max}×${t.measured ? ', measured ' + fmtStats(t.measured, fmtRatio) : ''}`);
  console.log(`scenario ${id}: ${s.rows.some((r) => !r.skipped && !r.ok) ? 'WRONG RESULTS' : 'ok'} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

env.loadEnd = loadAverage();
env.minutes = Math.round((performance.now() - started) / 6000) / 10;
console.log(`all scenarios: ${env.minutes} min`);
if (quick) {
  // The report is rendered too (and printed, never written), so that the smoke test covers its generation.
  console.log(markdown(summaries, env, lastReportTargets()));
  const targets = summaries.flatMap((s) => s.targets.map(({ label, status }) => ({ label, status })));
  console.log(`@@bench-json ${JSON.stringify(summaries.map((s) => ({ id: s.id, rows: s.rows.map(({ id, skipped, ok, counts }) => ({ id, skipped, ok, counts })) })))}`);
  console.log(`@@bench-targets ${JSON.stringify(targets)}`);
} else if (failures === 0 && !only && !args.runs && !args.workers) {
  const block = markdown(summaries, env, lastReportTargets()); // read before the report is replaced
  writeFileSync(here('./results.json'), JSON.stringify({ env, runs: raw }, null, 1) + '\n');
  writeDocs(block);
  console.log('wrote docs/benchmarks.md and bench/results.json');
} else if (failures === 0) {
  // A partial or re-sized run prints but does not overwrite the published figures.
  console.log(markdown(summaries, env, lastReportTargets()));
}
process.exit(failures ? 1 : 0);
