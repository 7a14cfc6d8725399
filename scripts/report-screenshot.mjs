// Produces docs/monitoring-report.png, the screenshot in docs/monitoring.md: the four-technique
// pipeline of bench/pipeline.mjs (four stages A–D of 5 workers on one shared thread scheduler; stage
// A waits 36 ms per call, B–D 9 ms) run over N items with a Monitor, its HTML report written to a
// temporary file and photographed in headless Chromium (installed on demand, as for the tests).
//   npm run build && node scripts/report-screenshot.mjs [--n=600] [--out=docs/monitoring-report.png] [--html=path]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromIterable, Monitor, run, threadScheduler } from '../dist/esm/index.js';
import { pipelineStages } from '../bench/pipeline.mjs';
import { cores, parseArgs, range } from '../bench/lib/common.mjs';
import { launchChromium } from './chromium.mjs';

const args = parseArgs();
const n = Number(args.n ?? 600);
const out = args.out ?? 'docs/monitoring-report.png';

const scheduler = threadScheduler({ workers: cores });
const monitor = new Monitor();
try {
  await run(fromIterable(range(n)).pipe(...pipelineStages({ scheduler, monitor })));
} finally {
  await scheduler.close();
}
const report = monitor.report();
console.log(`${n} items in ${(report.elapsedMs / 1000).toFixed(1)} s, ${report.elementsPerSecond} items/s`);
for (const s of report.stages) {
  console.log(`${s.name}: ${Math.round(s.utilisation * 100)} % busy, queue wait p50 ${s.queueWait.p50} ms, run time p50 ${s.runTime.p50} ms`);
}
console.log(`end to end: p50 ${report.endToEnd.p50} ms, p95 ${report.endToEnd.p95} ms, p99 ${report.endToEnd.p99} ms, max ${report.endToEnd.max} ms`);

const dir = await mkdtemp(join(tmpdir(), 'rxjs-parallel-report-'));
const browser = await launchChromium({ viewport: { width: 1200, height: 900 } });
try {
  const html = args.html ?? join(dir, 'report.html');
  await monitor.writeReport(html, { title: `The four-technique pipeline: stages A–D × 5 workers on ${cores} threads, ${n} items` });
  const page = await browser.context.newPage();
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector('body[data-done="ok"]', { state: 'attached', timeout: 20_000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await rm(dir, { recursive: true, force: true });
}
