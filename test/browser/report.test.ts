// The Monitor's HTML report opened in headless Chromium (as a file: no server): every chart is
// drawn — each chart's canvas holds pixels of each of its series' colours — and the page reports
// no error. Skipped only when RXP_SKIP_BROWSER=1 says so.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachParallel, filterParallel, flatMapParallel, fromIterable, mapParallel, Monitor, run } from 'rxjs-parallel';
import { launchChromium, SETUP_TIMEOUT, skipBrowser } from '../support/chromium.js';

describe.skipIf(skipBrowser)('the HTML report in headless Chromium', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    browser = await launchChromium({ viewport: { width: 1200, height: 900 } });
    dir = await mkdtemp(join(tmpdir(), 'rxjs-parallel-report-'));
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws every chart of a four-stage run, and reports no error', async () => {
    const monitor = new Monitor();
    await run(
      fromIterable(Array.from({ length: 300 }, (_, i) => i)).pipe(
        mapParallel(async (x: number) => x * 2, { workers: 4, monitor, name: 'fetch' }),
        flatMapParallel((x: number) => [x, x + 1], { workers: 2, monitor, name: 'split' }),
        filterParallel((x: number) => x % 3 !== 0, { workers: 2, monitor, name: 'keep' }),
        eachParallel(async () => {}, { workers: 2, monitor, name: 'save' }),
      ),
    );
    const file = join(dir!, 'report.html');
    await monitor.writeReport(file, { title: 'four stages' });

    const page = await browser!.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console.${message.type()}: ${message.text()}`);
    });
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-done="ok"]', { state: 'attached', timeout: 20_000 });

    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]); // the page alone: nothing else was loaded
    expect(await page.textContent('h1')).toBe('four stages');
    expect(await page.getAttribute('body', 'data-charts')).toBe('5');
    const stages = await page.$$eval('#stages tr', (rows) => rows.slice(1).map((r) => r.querySelector('td')!.textContent!.trim().split(' ')[0]));
    expect(stages).toEqual(['fetch', 'split', 'keep', 'save']);
    // The card names the stage the page's data calls the bottleneck (the rule: test/monitor/report.test.ts).
    const named = await page.$eval('#report-data', (script) => JSON.parse(script.textContent!).bottleneck);
    expect(['fetch', 'split', 'keep', 'save']).toContain(named);
    expect(await page.textContent('#bottleneck')).toContain(`${named}:`);

    // Pixels of the series' colours on each chart's canvas: lines were drawn, not only the axes.
    // (Series may cover each other where they coincide, e.g. stages idle at 0 %: one colour suffices.)
    const drawn = await page.evaluate(() => {
      const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
      const data = JSON.parse(document.getElementById('report-data')!.textContent!);
      const colours: string[] = data.stages.map((s: { color: string }) => s.color);
      const out: Record<string, number[]> = {};
      for (const id of ['rate', 'utilisation', 'queue-wait', 'run-time', 'end-to-end']) {
        const canvas = document.querySelector<HTMLCanvasElement>(`#${id} canvas`);
        if (!canvas) {
          out[id] = [];
          continue;
        }
        const { data: px } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        const wanted = (id === 'end-to-end' ? ['#333333'] : colours).map(hex);
        out[id] = wanted.map(([r, g, b]) => {
          let n = 0;
          for (let i = 0; i < px.length; i += 4) {
            if (px[i + 3] > 200 && Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 24) n++;
          }
          return n;
        });
      }
      return out;
    });
    expect(Object.keys(drawn)).toHaveLength(5);
    const legend = await page.$$eval('#rate .u-legend .u-label', (labels) => labels.map((l) => l.textContent));
    expect(legend).toEqual(['fetch', 'split', 'keep', 'save']);
    for (const [id, counts] of Object.entries(drawn)) {
      expect(counts.length, id).toBeGreaterThan(0);
      expect(Math.max(...counts), `${id}: pixels of a series' colour`).toBeGreaterThan(20);
    }
    await page.close();
  });
});
