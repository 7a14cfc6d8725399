// The browser test: builds test/browser/app with Vite 7, serves it on 127.0.0.1, opens it in headless
// Chromium (Debian's, installed on demand by scripts/ensure-chromium.sh) through playwright-core,
// and checks what the page wrote into the DOM. It runs in `npm test` like every other test; it is
// skipped only when RXP_SKIP_BROWSER=1 says so.
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, SETUP_TIMEOUT, skipBrowser } from '../support/chromium.js';
import { build, createServer, preview, type InlineConfig, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from './app/main.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const appRoot = fileURLToPath(new URL('./app/', import.meta.url));
const outDir = fileURLToPath(new URL('./.out/', import.meta.url)); // gitignored; kept for a look after a failure

const PAGE_TIMEOUT = 20_000;

// The app imports `rxjs-parallel` and `rxjs-parallel/worker` by name; Vite resolves them through this
// package's own `exports` map (a package may import itself by name), i.e. to the built dist/esm,
// exactly as an app that installed the package would get them.
// A strict Content Security Policy (no eval, no inline script), which also binds the workers: the
// thread scheduler must run the app's functions by name, without rebuilding any from source text.
const headers = { 'Content-Security-Policy': "default-src 'self'; script-src 'self'; worker-src 'self'; img-src 'self' data:" };

const config: InlineConfig = {
  root: appRoot,
  configFile: join(appRoot, 'vite.config.ts'), // the app's own config: `worker.format: 'es'`
  envFile: false,
  logLevel: 'warn',
  build: { outDir, emptyOutDir: true },
  preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false, headers },
};

/** Serves the app with Vite's dev server on a random port, with `rxjs-parallel` pre-bundled. */
async function serveDev(cacheDir: string): Promise<{ url: string; close(): Promise<void> }> {
  // Our own http.Server, for a random port (the dev server's `port: 0` means its default port).
  const httpServer = createHttpServer((request, response) => vite.middlewares(request, response));
  const vite = await createServer({
    ...config,
    cacheDir,
    // An app that installed the package gets it pre-bundled by the dev server; this package imports
    // itself, which Vite would serve unbundled, so pre-bundling is asked for here.
    optimizeDeps: { include: ['rxjs-parallel', 'rxjs-parallel/worker'] },
    server: { middlewareMode: true, hmr: { server: httpServer }, headers },
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await vite.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

describe.skipIf(skipBrowser)('browser: a Vite 7 app in headless Chromium', () => {
  let context: BrowserContext | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    if (!existsSync(join(repo, 'dist/esm/index.js'))) {
      throw new Error('dist/esm is missing: run `npm run build` first (`npm test` does)');
    }
    browser = await launchChromium();
    context = browser.context;
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await browser?.close();
  });

  /** Opens the page and waits for it to say it is done; fails with every error the page reported. */
  async function openApp(url: string): Promise<Results> {
    const page = await context!.newPage();
    cleanups.push(() => page.close());
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const where = message.worker() ? `worker ${message.worker()!.url()}` : message.location().url;
      problems.push(`console.error (${where}): ${message.text()}`);
    });
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    page.on('crash', () => problems.push('the page crashed'));
    await page.goto(url);
    try {
      await page.waitForSelector('body[data-done]', { state: 'attached', timeout: PAGE_TIMEOUT });
    } catch (error) {
      throw new Error(`the page did not finish within ${PAGE_TIMEOUT} ms\n${problems.join('\n')}`, { cause: error });
    }
    const done = await page.getAttribute('body', 'data-done');
    if (done !== 'ok') {
      throw new Error(`the page failed:\n${await page.textContent('#error')}\n${problems.join('\n')}`);
    }
    const results = JSON.parse((await page.textContent('#out'))!);
    expect(problems).toEqual([]);
    return results;
  }

  function expectResults(results: Results): void {
    const values = [1, 2, 3, 4, 5, 6, 7, 8];
    // On the thread scheduler: computed in Web Workers started from the app's own worker file,
    // with resources from an onStart that ran there too.
    expect(results.threads.map(({ realm, ...rest }) => rest)).toEqual(
      values.map((value) => ({ value, square: value * value, inWorker: true })),
    );
    const workerRealms = new Set(results.threads.map((scored) => scored.realm));
    for (const realm of workerRealms) expect(realm).toMatch(/^worker-/);
    expect(workerRealms.size).toBeGreaterThanOrEqual(1);
    expect(workerRealms.size).toBeLessThanOrEqual(2); // threadScheduler({ workers: 2 })
    // Batched: every element once, in order, the one that threw replaced by onError.
    expect(results.batched).toEqual(Array.from({ length: 300 }, (_, i) => (i + 1 === 3 ? -1 : i + 1)));
    // The same refs on the task scheduler: computed in the page, after expose() there.
    expect(results.tasks.map(({ realm, ...rest }) => rest)).toEqual(
      values.map((value) => ({ value, square: value * value, inWorker: false })),
    );
    for (const scored of results.tasks) expect(scored.realm).toMatch(/^page-/);
    // A RangeError thrown in a worker fails the stream as a StageError that keeps the original.
    expect(results.failure).toEqual({
      isStageError: true,
      causeName: 'RangeError',
      causeMessage: 'no score for 3',
      elementIndex: [2],
    });
    // A plain function cannot be rebuilt from source under the page's CSP: a clear error, no hang.
    expect(results.underCsp).toEqual({ isWorkerFunctionError: true, causeName: 'EvalError' });
  }

  it('production build (vite build, served by vite preview)', async () => {
    await build(config);
    const server: PreviewServer = await preview(config);
    cleanups.push(() => server.close());
    expectResults(await openApp(server.resolvedUrls!.local[0]));
  });

  it('dev server (vite serve)', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'rxjs-parallel-vite-'));
    cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
    const server = await serveDev(cacheDir);
    cleanups.push(() => server.close());
    expectResults(await openApp(server.url));
  });
});

describe('docs/browser.md', () => {
  // Its snippets are excerpts of the test app, marked `<!-- excerpt: path -->`: they must still be there.
  const doc = readFileSync(join(repo, 'docs/browser.md'), 'utf8');
  const excerpts = [...doc.matchAll(/<!-- excerpt: (\S+) -->\n```ts\n([\s\S]*?)```/g)];

  it('quotes the test app', () => {
    expect(excerpts.length).toBeGreaterThan(0);
  });

  for (const [i, [, file, code]] of excerpts.entries()) {
    it(`excerpt ${i + 1} is in ${file}`, () => {
      expect(readFileSync(join(repo, file), 'utf8')).toContain(code);
    });
  }
});
