// Headless Chromium for the browser tests (test/browser, test/angular): Debian's, installed on
// demand by scripts/ensure-chromium.sh, driven through playwright-core.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** Flags verified with Debian's Chromium (156) on a headless CI box with no network beyond the registries. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** apt-get may have to fetch Chromium and its libraries: minutes on a cold CI box, 0 s after. */
export const CHROMIUM_SETUP_TIMEOUT = 15 * 60_000;

/** Runs scripts/ensure-chromium.sh (installs Debian's chromium if missing) and returns its path. */
export function ensureChromium(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'bash',
      [join(repo, 'scripts/ensure-chromium.sh')],
      { cwd: repo, timeout: CHROMIUM_SETUP_TIMEOUT, maxBuffer: 1 << 20 },
      (error, stdout) => {
        if (error) reject(new Error(`scripts/ensure-chromium.sh failed (${error.message.trim()}); its output is above`));
        else resolve(stdout.trim().split('\n').pop()!);
      },
    );
    child.stdin?.end(); // no stdin, as in CI
    child.stderr?.pipe(process.stderr); // apt-get's progress, so that a slow install is visibly one
  });
}

/** Starts Chromium with a fresh profile; `close()` ends it and removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const executablePath = await ensureChromium();
  const userDataDir = await mkdtemp(join(tmpdir(), 'rxjs-parallel-chromium-')); // a fresh profile per run
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, args: CHROMIUM_ARGS });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
