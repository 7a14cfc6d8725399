// The Monitor's HTML report, in Node: one self-contained page whose data says what the monitor
// measured, safe against odd stage names, and a typed error when the chart library is missing.
// (test/browser/report.test.ts opens such a page in Chromium and checks the charts were drawn.)
import { describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fromIterable, InvalidOptionError, mapParallel, Monitor, run } from 'rxjs-parallel';
import { runNode } from '../support/util.js';
import { Histogram } from '../../src/monitor/histogram.js';
import { pageData } from '../../src/monitor/report.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** The data the page draws, read back from the page. */
function dataOf(html: string) {
  const json = html.match(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/)![1];
  return JSON.parse(json);
}

/** A two-stage run on an injected clock: `slow` keeps its worker busy 10 ms per element, `fast` takes no time. */
async function measured(names = { fast: 'fast', slow: 'slow' }) {
  const clock = { t: 0 };
  const monitor = new Monitor({ clock: () => clock.t, timing: 'all' });
  await run(
    fromIterable([1, 2, 3, 4]).pipe(
      mapParallel((x: number) => x, { monitor, name: names.fast }),
      mapParallel(async (x: number) => ((clock.t += 10), x), { monitor, name: names.slow }),
    ),
  );
  return monitor;
}

describe('Monitor.reportHtml', () => {
  it('is one page with everything inline: the data, uPlot and its styles, and nothing to fetch', async () => {
    const html = await (await measured()).reportHtml({ title: 'two stages' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>two stages</title>');
    const uplot = await readFile(join(repo, 'node_modules/uplot/dist/uPlot.iife.min.js'), 'utf8');
    expect(html).toContain(uplot.slice(0, 200));
    expect(/<script[^>]+src=|<link[\s>]|<img[\s>]|@import|url\(/i.test(html)).toBe(false); // nothing external to load
  });

  it('carries what the monitor measured, and names the stage whose workers were busiest', async () => {
    const monitor = await measured();
    const data = dataOf(await monitor.reportHtml());
    const report = monitor.report();
    expect(data.stages.map((s: { name: string }) => s.name)).toEqual(['fast', 'slow']);
    expect(data.stages.map((s: { utilisation: number }) => s.utilisation)).toEqual(report.stages.map((s) => s.utilisation));
    expect(report.stages[1].utilisation).toBeGreaterThan(report.stages[0].utilisation);
    expect(data.bottleneck).toBe('slow');
    expect(data.endToEnd).toEqual(report.endToEnd);
    expect(data.endToEnd.count).toBe(4);
    // Over time: elements that left per second, one value per bucket and stage, adding up to the elements.
    const { x, rate, utilisation } = data.time;
    for (const series of [...rate, ...utilisation]) expect(series).toHaveLength(x.length);
    const bucketSeconds = x[1] - x[0];
    expect(rate.map((r: number[]) => Math.round(r.reduce((a, b) => a + b, 0) * bucketSeconds))).toEqual([4, 4]);
    // Distributions: each stage's run times, in % of its calls, adding up to 100.
    const { runTime } = data.histograms;
    expect(runTime.series).toHaveLength(2);
    for (const series of runTime.series) expect(series.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(100, 0);
  });

  it('keeps stage names and the title inert: nothing in them can close the script or add markup', async () => {
    const evil = '</script><img src=x onerror="alert(1)">';
    const monitor = await measured({ fast: evil, slow: 'slow' });
    const html = await monitor.reportHtml({ title: '<b>t</b>' });
    expect(html).not.toContain('<img');
    expect(html).toContain('<title>&#60;b&#62;t&#60;/b&#62;</title>');
    expect(dataOf(html).stages[0].name).toBe(evil);
  });

  it('draws an empty monitor too', async () => {
    const data = dataOf(await new Monitor().reportHtml());
    expect(data).toMatchObject({ stages: [], bottleneck: null, time: { x: [] } });
  });

  it('rejects a title that is not a string', async () => {
    await expect(new Monitor().reportHtml({ title: 3 as never })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('is made by the CommonJS build too', async () => {
    const script = join(await mkdtemp(join(tmpdir(), 'rxjs-parallel-cjs-')), 'main.cjs');
    try {
      await writeFile(
        script,
        `const { Monitor, fromIterable, mapParallel, run } = require(${JSON.stringify(join(repo, 'dist/cjs/index.js'))});
(async () => {
  const monitor = new Monitor();
  await run(fromIterable([1, 2]).pipe(mapParallel(async (x) => x, { monitor, name: 'cjs' })));
  const html = await monitor.reportHtml();
  console.log(JSON.parse(html.match(/id="report-data">([\\s\\S]*?)<\\/script>/)[1]).stages[0].name);
})();
`,
      );
      const { stdout, stderr } = await runNode(pathToFileURL(script));
      expect(stderr).toBe('');
      expect(stdout.trim()).toBe('cjs');
    } finally {
      await rm(join(script, '..'), { recursive: true, force: true });
    }
  });

  it('writeReport writes the page to a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rxjs-parallel-report-'));
    try {
      const monitor = await measured();
      const file = join(dir, 'report.html');
      await monitor.writeReport(pathToFileURL(file));
      const html = await readFile(file, 'utf8');
      expect(dataOf(html).stages).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the report’s bottleneck', () => {
  const stats = (name: string, utilisation: number, queueWaitP50: number) => ({
    name, operator: 'mapParallel', scheduler: 'thread', workers: 2, in: 1, out: 1, outputs: 1, filtered: 0, failed: 0,
    dropped: 0, cancelled: 0, retried: 0, timedOut: 0, inWork: 0, queued: 0, creditsOutstanding: 0, upstream: 'pull' as const,
    queueWait: { count: 1, p50: queueWaitP50, p95: queueWaitP50, p99: queueWaitP50, max: queueWaitP50, mean: queueWaitP50 },
    runTime: { count: 1, p50: 1, p95: 1, p99: 1, max: 1, mean: 1 },
    utilisation, state: 'complete' as const,
  });
  const data = (stages: ReturnType<typeof stats>[]) => ({
    snapshot: { elapsedMs: 1, elementsPerSecond: 1, endToEnd: stages[0].runTime, stages },
    bucketMs: 25,
    stages: stages.map((s) => ({ name: s.name, workers: 2, left: [], busy: [], queueWait: new Histogram(), runTime: new Histogram() })),
    endToEnd: new Histogram(),
  });

  it('is the stage whose workers were busiest', () => {
    expect(pageData(data([stats('a', 0.3, 50), stats('b', 0.95, 1), stats('c', 0.5, 9)]), 't').bottleneck).toBe('b');
  });

  it('is, among stages nearly as busy (within 10 points), the one whose elements wait longest in its queue', () => {
    expect(pageData(data([stats('a', 0.97, 176), stats('b', 0.88, 0.004), stats('c', 0.5, 900)]), 't').bottleneck).toBe('a');
    expect(pageData(data([stats('a', 0.97, 1), stats('b', 0.9, 5), stats('c', 0.85, 900)]), 't').bottleneck).toBe('b');
  });
});

describe('Monitor.reportHtml without the chart library', () => {
  it('fails with MissingDependencyError naming the package to install', async () => {
    // A copy of the built package in an app whose node_modules has rxjs but no uplot.
    const app = await mkdtemp(join(tmpdir(), 'rxjs-parallel-no-uplot-'));
    try {
      const pkg = join(app, 'node_modules/rxjs-parallel');
      await mkdir(pkg, { recursive: true });
      await cp(join(repo, 'dist'), join(pkg, 'dist'), { recursive: true });
      await cp(join(repo, 'package.json'), join(pkg, 'package.json'));
      for (const dep of ['rxjs', 'rxjs-for-await', 'tslib']) await symlink(join(repo, 'node_modules', dep), join(app, 'node_modules', dep), 'dir');
      const script = join(app, 'main.mjs');
      await writeFile(
        script,
        `import { Monitor, MissingDependencyError } from 'rxjs-parallel';
try {
  await new Monitor().reportHtml();
  console.log('no error');
} catch (error) {
  console.log(JSON.stringify({ typed: error instanceof MissingDependencyError, code: error.code, packageName: error.packageName, message: error.message }));
}
`,
      );
      const { stdout, code } = await runNode(pathToFileURL(script));
      expect(code).toBe(0);
      const result = JSON.parse(stdout);
      expect(result).toMatchObject({ typed: true, code: 'ERR_MISSING_DEPENDENCY', packageName: 'uplot' });
      expect(result.message).toContain('npm install uplot');
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  });
});
