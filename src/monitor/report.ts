// The Monitor's HTML report: one self-contained page (inline data, inline uPlot, no server, nothing
// fetched). Loaded by Monitor.reportHtml() only when a report is made, so that the main entry stays
// small and browser-safe: the node: modules it needs are imported at that moment too.
import { InvalidOptionError, MissingDependencyError } from '../errors.js';
import { importModule } from '../internal/import-module.js';
import { moduleUrl } from '../internal/module-url.js';
import type { Histogram } from './histogram.js';
import type { LatencyStats, ReportData } from './monitor.js';

/** Options of `Monitor.reportHtml()` and `Monitor.writeReport()`. */
export interface ReportOptions {
  /**
   * The page's title and heading.
   * @default 'rxjs-parallel report'
   */
  title?: string;
}

/** The chart library, read from node_modules when a report is made (an optional peer dependency). */
const CHART_PACKAGE = 'uplot';

let chartLibrary: Promise<{ js: string; css: string }> | undefined;

async function loadChartLibrary(): Promise<{ js: string; css: string }> {
  try {
    const { createRequire } = (await importModule('node:module')) as typeof import('node:module');
    const { readFile } = (await importModule('node:fs/promises')) as typeof import('node:fs/promises');
    // Resolved from this package's location, where npm puts a peer dependency the app installed.
    const require = createRequire(moduleUrl);
    const [js, css] = await Promise.all([
      readFile(require.resolve(`${CHART_PACKAGE}/dist/uPlot.iife.min.js`), 'utf8'),
      readFile(require.resolve(`${CHART_PACKAGE}/dist/uPlot.min.css`), 'utf8'),
    ]);
    return { js, css };
  } catch (error) {
    chartLibrary = undefined; // installed later: try again next time
    throw new MissingDependencyError(CHART_PACKAGE, 'The Monitor’s HTML report', { cause: error });
  }
}

/** Stage colours, in pipeline order (repeating past eight stages). */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Points at most on a chart over time. */
const MAX_POINTS = 60;

/** Utilisation within this of the busiest counts as nearly as busy (see the bottleneck). */
const NEARLY = 0.1;

/** Histogram bins per decade of milliseconds. */
const BINS_PER_DECADE = 5;

/** Builds the page. @internal */
export async function renderReport(data: ReportData, options: ReportOptions = {}): Promise<string> {
  const title = options.title ?? 'rxjs-parallel report';
  if (typeof title !== 'string') throw new InvalidOptionError('title', 'a string', title);
  chartLibrary ??= loadChartLibrary();
  const { js, css } = await chartLibrary;
  const page = pageData(data, title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rxjs-parallel Monitor">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
<style>${STYLE}</style>
</head>
<body>
<main id="report"></main>
<script type="application/json" id="report-data">${jsonForScript(page)}</script>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script>(${draw.toString()})(JSON.parse(document.getElementById('report-data').textContent), uPlot);</script>
</body>
</html>
`;
}

/** What the page's script draws: every number computed here, in Node. @internal */
export interface PageData {
  readonly title: string;
  readonly generatedAt: string;
  readonly elapsedMs: number;
  readonly elementsPerSecond: number;
  readonly endToEnd: LatencyStats;
  /** The bottleneck: the busiest stage, or of those nearly as busy the one with the longest queue wait (p50); null without stages. */
  readonly bottleneck: string | null;
  readonly stages: ReadonlyArray<{
    name: string;
    operator: string;
    scheduler: string;
    workers: number;
    in: number;
    out: number;
    filtered: number;
    failed: number;
    utilisation: number;
    queueWait: LatencyStats;
    runTime: LatencyStats;
    state: string;
    color: string;
  }>;
  /** Seconds since the monitor first saw a stage, one per timeline bucket; per stage, elements/s and utilisation (%). */
  readonly time: { readonly x: number[]; readonly rate: number[][]; readonly utilisation: number[][] };
  /** Per kind: bin edges (ms), and per series the share of its samples in each bin (%), then 0 at the last edge. */
  readonly histograms: Record<'queueWait' | 'runTime' | 'endToEnd', { readonly x: number[]; readonly series: number[][] }>;
}

/** @internal */
export function pageData(data: ReportData, title: string): PageData {
  const { snapshot } = data;
  // Points on the time axis: the monitor's buckets, merged in groups so that there are at most
  // MAX_POINTS (a rate over a few elements per bucket would only draw noise).
  const buckets = Math.max(0, ...data.stages.map((s) => Math.max(s.left.length, s.busy.length)));
  const group = Math.max(1, Math.ceil(buckets / MAX_POINTS));
  const bucketMs = data.bucketMs * group;
  const points = Math.ceil(buckets / group);
  const merged = (series: readonly number[]) =>
    Array.from({ length: points }, (_, p) => {
      let sum = 0;
      for (let i = p * group; i < (p + 1) * group; i++) sum += series[i] ?? 0;
      return sum;
    });
  const x = Array.from({ length: points }, (_, i) => round((i * bucketMs) / 1000, 1e4));
  const stages = snapshot.stages.map((s, i) => {
    const stage = {
      name: s.name,
      operator: s.operator,
      scheduler: s.scheduler,
      workers: s.workers,
      in: s.in,
      out: s.out,
      filtered: s.filtered,
      failed: s.failed,
      utilisation: s.utilisation,
      queueWait: s.queueWait,
      runTime: s.runTime,
      state: s.state,
      color: PALETTE[i % PALETTE.length],
    };
    return stage;
  });
  // The busiest stage; among those nearly as busy (workers on a thread or process scheduler hold
  // prefetched elements, and look busy whenever they have any), the one whose queue holds its
  // elements longest.
  const busiest = Math.max(0, ...stages.map((s) => s.utilisation));
  const bottleneck = stages
    .filter((s) => s.utilisation >= busiest - NEARLY)
    .reduce<(typeof stages)[number] | undefined>((best, s) => (!best || s.queueWait.p50 > best.queueWait.p50 ? s : best), undefined);
  const rate = data.stages.map((s) => merged(s.left).map((n) => round((n * 1000) / bucketMs, 100)));
  const utilisation = data.stages.map((s) =>
    merged(s.busy).map((ms) => round(Math.min(100, (100 * ms) / (Math.max(1, s.workers) * bucketMs)), 100)),
  );
  return {
    title,
    generatedAt: new Date().toISOString(),
    elapsedMs: snapshot.elapsedMs,
    elementsPerSecond: snapshot.elementsPerSecond,
    endToEnd: snapshot.endToEnd,
    bottleneck: bottleneck?.name ?? null,
    stages,
    time: { x, rate, utilisation },
    histograms: {
      queueWait: histograms(data.stages.map((s) => s.queueWait)),
      runTime: histograms(data.stages.map((s) => s.runTime)),
      endToEnd: histograms([data.endToEnd]),
    },
  };
}

/** Log-spaced bins shared by the histograms of one chart; each series in % of its own samples. */
function histograms(hs: readonly Histogram[]): { x: number[]; series: number[][] } {
  const live = hs.filter((h) => h.count > 0);
  if (live.length === 0) return { x: [], series: hs.map(() => []) };
  // From the smallest sizeable value (the 1st percentile, or the first above 0; 1 µs at least, as a
  // log axis has no 0: smaller values count in the first bin) to past the largest.
  const low = Math.min(...live.map((h) => [...h.quantiles([0.01, 0.25, 0.5]), h.max].find((q) => q > 0) ?? 0.001));
  const high = Math.max(...live.map((h) => h.max));
  const from = Math.floor(Math.log10(Math.max(0.001, low)) * BINS_PER_DECADE);
  const to = Math.max(from + 1, Math.ceil(Math.log10(Math.max(high, 0.001) * 1.0001) * BINS_PER_DECADE));
  const edges = Array.from({ length: to - from + 1 }, (_, i) => 10 ** ((from + i) / BINS_PER_DECADE));
  // Each bin is drawn as a step from its lower edge; the last edge closes the last bin (back to 0).
  const x = edges.map((e) => round(e, 1e6));
  const series = hs.map((h) => [...(h.count > 0 ? h.bins(edges).map((n) => round((100 * n) / h.count, 100)) : edges.slice(1).map(() => 0)), 0]);
  return { x, series };
}

function round(x: number, scale: number): number {
  return Math.round(x * scale) / scale;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON inside a <script> element: `<` escaped, so no string in it can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: #666; margin: 0 0 14px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
.card.bottleneck { border-color: #d62728; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #e3e3e3; }
th, td { padding: 6px 8px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
tr.bottleneck td { background: #fdecea; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
.bar { display: inline-block; height: 10px; background: #d9d9d9; width: 120px; vertical-align: middle; margin-left: 6px; position: relative; }
.bar i { position: absolute; left: 0; top: 0; bottom: 0; background: #1f77b4; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.chart { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px; min-width: 0; }
.chart .u-title { font-size: 14px; font-weight: 600; }
details { margin-top: 24px; }
pre { background: #fff; border: 1px solid #e3e3e3; padding: 10px; overflow: auto; font-size: 12px; }
`;

/**
 * Draws the page from its data. Runs in the browser, as its source text (`draw.toString()`): it
 * must use nothing but its parameters and the browser's globals.
 */
function draw(data: PageData, uPlot: any): void {
  const root = document.getElementById('report')!;
  const el = (tag: string, props: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  };
  const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(0)} ms` : v >= 1 ? `${v.toFixed(1)} ms` : `${(v * 1000).toFixed(0)} µs`);
  const pct = (v: number) => `${Math.round(v * 100)} %`;

  root.append(el('h1', {}, data.title));
  root.append(el('p', { class: 'meta' }, `${data.stages.length} stages · ${(data.elapsedMs / 1000).toFixed(2)} s running · generated ${data.generatedAt}`));

  const bottleneck = data.stages.find((s) => s.name === data.bottleneck);
  const cards = el('div', { class: 'cards' });
  cards.append(el('div', { class: 'card' }, 'throughput', el('b', {}, `${data.elementsPerSecond.toFixed(1)} /s`)));
  cards.append(
    el('div', { class: 'card' }, 'end-to-end latency p50 / p95 / p99', el('b', {}, data.endToEnd.count > 0 ? `${ms(data.endToEnd.p50)} / ${ms(data.endToEnd.p95)} / ${ms(data.endToEnd.p99)}` : '–')),
  );
  if (bottleneck) {
    cards.append(
      el(
        'div',
        { class: 'card bottleneck', id: 'bottleneck' },
        'bottleneck',
        el('b', {}, `${bottleneck.name}: ${pct(bottleneck.utilisation)} busy`),
        `its queue: p50 ${ms(bottleneck.queueWait.p50)}`,
      ),
    );
  }
  root.append(cards);

  const table = el('table', { id: 'stages' });
  const head = ['stage', 'workers', 'in', 'out', 'filtered', 'failed', 'utilisation', 'queue wait p50 / p95', 'run time p50 / p95', 'state'];
  table.append(el('tr', {}, ...head.map((h) => el('th', {}, h))));
  for (const s of data.stages) {
    const bar = el('span', { class: 'bar' }, el('i', { style: `width:${Math.round(s.utilisation * 100)}%;background:${s.color}` }));
    table.append(
      el(
        'tr',
        s === bottleneck ? { class: 'bottleneck' } : {},
        el('td', {}, el('span', { class: 'swatch', style: `background:${s.color}` }), `${s.name} `, el('small', {}, `${s.operator}, ${s.scheduler}`)),
        el('td', {}, String(s.workers)),
        el('td', {}, String(s.in)),
        el('td', {}, String(s.out)),
        el('td', {}, String(s.filtered)),
        el('td', {}, String(s.failed)),
        el('td', {}, pct(s.utilisation), bar),
        el('td', {}, `${ms(s.queueWait.p50)} / ${ms(s.queueWait.p95)}`),
        el('td', {}, `${ms(s.runTime.p50)} / ${ms(s.runTime.p95)}`),
        el('td', {}, s.state),
      ),
    );
  }
  root.append(el('h2', {}, 'Stages'), table);

  const charts: unknown[] = [];
  const grid = el('div', { class: 'grid' });
  root.append(el('h2', {}, 'Over time and distributions'), grid);
  const chart = (id: string, title: string, xLabel: string, yLabel: string, x: number[], ys: number[][], opts: { log?: boolean; max?: number; colors?: string[]; names?: string[] }) => {
    const box = el('div', { class: 'chart', id });
    grid.append(box);
    const width = Math.max(320, box.clientWidth - 16); // inside the padding
    const colors = opts.colors ?? data.stages.map((s) => s.color);
    const names = opts.names ?? data.stages.map((s) => s.name);
    const series: object[] = [{ label: xLabel }];
    ys.forEach((_, i) =>
      series.push({
        label: names[i],
        stroke: colors[i],
        width: 2,
        fill: opts.log ? `${colors[i]}22` : undefined,
        paths: opts.log ? uPlot.paths.stepped({ align: 1 }) : undefined,
        points: { show: false },
      }),
    );
    const u = new uPlot(
      {
        title,
        width,
        height: 260,
        scales: { x: opts.log ? { time: false, distr: 3, log: 10 } : { time: false }, y: opts.max ? { range: [0, opts.max] } : {} },
        axes: [{ label: xLabel }, { label: yLabel, size: 56 }],
        series,
        legend: { show: true, live: false },
      },
      [x, ...ys],
      box,
    );
    charts.push(u);
  };
  if (data.stages.length > 0 && data.time.x.length > 0) {
    chart('rate', 'Elements/s leaving each stage', 'seconds', 'elements/s', data.time.x, data.time.rate, {});
    chart('utilisation', 'Worker utilisation', 'seconds', '% busy', data.time.x, data.time.utilisation, { max: 100 });
  }
  const h = data.histograms;
  if (h.queueWait.x.length > 0) chart('queue-wait', 'Queue wait (share of elements)', 'ms', '%', h.queueWait.x, h.queueWait.series, { log: true });
  if (h.runTime.x.length > 0) chart('run-time', 'Run time (share of calls)', 'ms', '%', h.runTime.x, h.runTime.series, { log: true });
  if (h.endToEnd.x.length > 0) {
    chart('end-to-end', 'End-to-end latency (share of elements)', 'ms', '%', h.endToEnd.x, h.endToEnd.series, { log: true, colors: ['#333333'], names: ['end to end'] });
  }
  if (charts.length === 0) grid.append(el('p', {}, 'No data yet: no monitored stage has run.'));

  root.append(el('details', {}, el('summary', {}, 'The figures as JSON'), el('pre', {}, JSON.stringify({ ...data, time: undefined, histograms: undefined }, null, 2))));
  document.body.setAttribute('data-charts', String(charts.length));
  document.body.setAttribute('data-done', 'ok');
}
