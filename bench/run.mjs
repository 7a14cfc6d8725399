// The benchmark runner: runs each scenario in fresh child processes, several times, and reports
// every figure as a median with its range, and every comparison as a ratio computed within a run
// (ours and the peer measured minutes apart at most, on the same machine) then summarised.
//   node bench/run.mjs                     full: prints, writes docs/benchmarks.md and bench/results.json
//   node bench/run.mjs --quick             every scenario tiny, once; prints only (the smoke test)
//   node bench/run.mjs --only=dispatch,cpu --runs=5
// `npm run bench` builds dist/ first; `npm run bench:quick` is the quick form.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, release, platform, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cores, median, parseArgs } from './lib/common.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const root = here('../');

/** Scenarios in order, with their runs in a full run (each run is one fresh child process). */
const SCENARIOS = [
  { id: 'dispatch', runs: 3 },
  { id: 'cpu', runs: 5 },
  { id: 'memory', runs: 3 },
  { id: 'pipeline', runs: 3 },
  { id: 'startup', runs: 9 },
];
const PEERS = ['piscina', 'tinypool', 'workerpool', 'p-map', 'rxjs'];
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
function runScenario(id, run) {
  return new Promise((resolve, reject) => {
    const argv = [here(`./${id}.mjs`), `--run=${run}`, ...(quick ? ['--quick'] : [])];
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
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

const stats = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : undefined);

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
  const ratios = meta.ratios.map(([num, den]) => {
    const per = runs
      .map((r) => [r.rows.find((x) => x.id === num), r.rows.find((x) => x.id === den)])
      .filter(([a, b]) => a && b && !a.skipped && !b.skipped)
      .map(([a, b]) => a.value / b.value);
    return { num, den, ...stats(per), n: per.length };
  });
  const targets = meta.targets.map((t) => {
    const r = ratios.find((x) => x.num === t.ratio[0] && x.den === t.ratio[1]);
    const status = !r || r.n === 0 ? 'pending' : (t.min !== undefined ? r.median >= t.min : r.median <= t.max) ? 'met' : 'missed';
    return { ...t, measured: r && r.n ? { median: r.median, min: r.min, max: r.max } : undefined, status };
  });
  return { id: meta.id, title: meta.title, about: meta.about, unit: meta.unit, better: meta.better, extraLabels: meta.extra ?? {}, params: runs[0]?.params, runs: runs.length, rows, ratios, targets };
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

function markdown(summaries, env) {
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
  out.push(`- Command: \`${env.command}\`; runs: ${summaries.map((s) => `${s.id} ${s.runs}`).join(', ')}`);
  out.push(`- Raw results of every run: [bench/results.json](../bench/results.json)`);
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push('| target | wanted | measured: median (range) | |');
  out.push('|---|---|---|---|');
  for (const t of allTargets) {
    const wanted = t.min !== undefined ? `≥ ${t.min}×` : `≤ ${t.max}×`;
    const measured = t.measured ? fmtStats(t.measured, fmtRatio) : 'not measured';
    const mark = t.status === 'met' ? 'met' : t.status === 'missed' ? '**missed** (see below)' : `pending: ${t.scenario.rows.find((r) => r.id === t.ratio[0])?.skipped ?? 'not measured'}`;
    out.push(`| ${t.label} | ${wanted} | ${measured} | ${mark} |`);
  }
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
    out.push(`| row | library | ${s.unit}: median (range) |${extras.map(([, l]) => ` ${l} |`).join('')}`);
    out.push(`|---|---|---|${extras.map(() => '---|').join('')}`);
    for (const r of s.rows) {
      const value = r.skipped ? `skipped: ${r.skipped}` : fmtStats(r.value, (v) => fmtValue(v, s.unit));
      out.push(`| \`${r.id}\` | ${r.label} | ${value} |${extras.map(([k]) => ` ${r.extra[k] ? fmtStats(r.extra[k], (v) => v.toFixed(2)) : '–'} |`).join('')}`);
    }
    out.push('');
    const speedUp = s.id === 'cpu' || s.id === 'pipeline';
    out.push(speedUp ? '| speed-up (same run) | median (range) | bound |' : '| ratio (same run) | median (range) |');
    out.push(speedUp ? '|---|---|---|' : '|---|---|');
    for (const r of s.ratios) {
      const text = r.n ? fmtStats(r, fmtRatio) : 'not measured';
      if (speedUp) {
        const bound = s.id === 'cpu' ? `${cores}.00×` : p.bounds?.[r.num] !== undefined ? fmtRatio(p.bounds[r.num]) : '';
        out.push(`| \`${r.num}\` | ${text} | ${bound} |`);
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
const summaries = [];
const raw = {};
let failures = 0;
for (const { id, runs: defaultRuns } of selected) {
  const runs = quick ? 1 : Number(args.runs ?? defaultRuns);
  const { meta } = await import(`./${id}.mjs`);
  const results = [];
  const t0 = performance.now();
  try {
    for (let run = 0; run < runs; run++) {
      console.log(`${id}: run ${run + 1}/${runs}`);
      results.push(await runScenario(id, run));
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
if (quick) {
  console.log(`@@bench-json ${JSON.stringify(summaries.map((s) => ({ id: s.id, rows: s.rows.map(({ id, skipped, ok, counts }) => ({ id, skipped, ok, counts })) })))}`);
} else if (failures === 0 && !only && !args.runs) {
  writeFileSync(here('./results.json'), JSON.stringify({ env, runs: raw }, null, 1) + '\n');
  writeDocs(markdown(summaries, env));
  console.log('wrote docs/benchmarks.md and bench/results.json');
} else if (failures === 0) {
  // A partial or re-sized run prints but does not overwrite the published figures.
  console.log(markdown(summaries, env));
}
process.exit(failures ? 1 : 0);
