import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../fixtures/exit-script.mjs', import.meta.url));

/** Runs the script in a fresh Node process and resolves with its exit code and output. */
export function runScript(args: string[]): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('a process running a pipeline exits by itself', () => {
  for (const scheduler of ['task', 'sync']) {
    for (const how of ['complete', 'error', 'unsubscribe']) {
      it(`after ${how} (${scheduler} scheduler)`, async () => {
        // The test's own timeout is the only bound: a handle left behind shows up as a hang.
        const { code, stdout, stderr } = await runScript([how, scheduler]);
        expect(stderr).toBe('');
        expect(stdout).toContain(`marker: ${how}`);
        expect(code).toBe(0);
      });
    }
  }
});
