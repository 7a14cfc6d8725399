// The Angular example (examples/angular): installed from its own lock file with this build of
// rxjs-parallel packed, built with the real Angular CLI (`ng build`: the application builder, which
// bundles the app's own worker file and prerenders the page on the server), served on loopback and
// opened in headless Chromium (Debian's, installed on demand by scripts/ensure-chromium.sh). The
// browser part is skipped only when RXP_SKIP_BROWSER=1 says so.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { score } from '../../examples/angular/src/app/score.js';
import { CHROMIUM_SETUP_TIMEOUT, launchChromium } from '../support/chromium.js';
import { installExample, node, repo } from '../support/examples.js';

const app = join(repo, 'examples/angular');
const browserDir = join(app, 'dist/browser');
/** A cold CI box downloads the app's ~500 packages once; `ng build` takes a minute on 2 busy cores. */
const SETUP_TIMEOUT = 15 * 60_000;
const PAGE_TIMEOUT = 60_000;
const TOTAL = 24;

/** What the page (or the prerendered file) lists: one `<li>` per result. */
interface Listed {
  n: number;
  score: string;
  realm: string;
}

/** The scores the example computes, computed here. */
const expected = Array.from({ length: TOTAL }, (_, n) => ({ n, score: score(n).score }));

function listedIn(html: string): Listed[] {
  return [...html.matchAll(/<li data-n="(\d+)" data-score="([0-9a-f]+)" data-realm="([^"]+)"/g)].map(([, n, score, realm]) => ({
    n: Number(n),
    score,
    realm,
  }));
}

describe('examples/angular: Angular 21, built with the Angular CLI', () => {
  beforeAll(async () => {
    await installExample('examples/angular', SETUP_TIMEOUT);
    rmSync(join(app, 'dist'), { recursive: true, force: true });
    await node([join(app, 'node_modules/@angular/cli/bin/ng.js'), 'build'], app, SETUP_TIMEOUT); // its `npm run build`
  }, SETUP_TIMEOUT);

  it('on the server (prerendered at build time), with no Worker, the component ran on the task scheduler', () => {
    const html = readFileSync(join(browserDir, 'index.html'), 'utf8');
    expect(html).toContain('ng-server-context="ssg"');
    expect(html).toMatch(/<p id="progress" data-kind="task">24 \/ 24<\/p>/);
    const listed = listedIn(html);
    expect(listed.map(({ n, score }) => ({ n, score }))).toEqual(expected);
    for (const { realm } of listed) expect(realm).toBe('main'); // not in a worker: there is none
  });

  describe.skipIf(process.env.RXP_SKIP_BROWSER === '1')('in headless Chromium', () => {
    let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
    let server: PreviewServer | undefined;

    beforeAll(async () => {
      chromium = await launchChromium();
      // The build's output, as any static file server would serve it.
      server = await preview({
        root: join(app, 'dist'),
        configFile: false,
        envFile: false,
        logLevel: 'warn',
        build: { outDir: 'browser' },
        preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false },
      });
    }, CHROMIUM_SETUP_TIMEOUT);

    afterAll(async () => {
      await server?.close();
      await chromium?.close();
    });

    it('shows the progress and the results, computed in Web Workers from the app’s own worker file', async () => {
      const page = await chromium!.context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
      });
      page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
      page.on('response', (response) => {
        if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
      });
      await page.goto(server!.resolvedUrls!.local[0]);
      try {
        // The page was prerendered on the task scheduler; the app in the browser renders it anew.
        await page.waitForFunction(
          (total) => {
            const progress = document.querySelector('#progress') as HTMLElement | null;
            return progress?.dataset.kind === 'thread' && progress.textContent?.trim() === `${total} / ${total}`;
          },
          TOTAL,
          { timeout: PAGE_TIMEOUT },
        );
      } catch (error) {
        throw new Error(`the page did not show ${TOTAL} results on the thread scheduler\n${problems.join('\n')}`, { cause: error });
      }
      expect(await page.locator('progress').getAttribute('value')).toBe(String(TOTAL));
      const listed = listedIn(await page.locator('#results').evaluate((list) => list.outerHTML));
      expect(listed.map(({ n, score }) => ({ n, score }))).toEqual(expected);
      // Each result names the realm that computed it: a Web Worker (WorkerGlobalScope), never the page.
      const realms = new Set(listed.map(({ realm }) => realm));
      for (const realm of realms) expect(realm).toMatch(/^worker-/);
      expect(realms.size).toBeLessThanOrEqual(4); // threadScheduler({ workers: 4 })
      // The workers the page started run the bundle the Angular CLI made of score.worker.ts.
      const workers = page.workers().map((worker) => worker.url());
      expect(workers.length).toBeGreaterThanOrEqual(realms.size);
      for (const url of workers) expect(url).toMatch(/\/worker-[A-Z0-9]+\.js$/);
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});
