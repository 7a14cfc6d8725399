// SIGTERM in a real Node process with threads.js workers: threads.js's own handlers exit with code 0
// (cutting an app's graceful shutdown short, hiding the signal); threadsScheduler removes them.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../fixtures/threads/signal-child.mjs', import.meta.url));

/** Starts the child, sends SIGTERM once it says `ready` (unless `send` is false), resolves with how it ended. */
function terminateWhenReady(args: string[], send = true): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const before = stdout;
      stdout += chunk;
      if (!before.includes('ready\n') && stdout.includes('ready\n') && send) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout }));
  });
}

describe('SIGTERM with threads.js workers', () => {
  it("threads.js alone: its handler ends the process with code 0, whatever the app's handler decides", async () => {
    const plain = await terminateWhenReady(['threads', 'none']);
    expect(plain).toMatchObject({ code: 0, signal: null });
    const withApp = await terminateWhenReady(['threads', 'app']);
    expect(withApp.code).toBe(0); // the app's exit code (42) is lost
  });

  it("with threadsScheduler: the app's own handler runs its shutdown and decides the exit code", async () => {
    const { code, signal, stdout } = await terminateWhenReady(['scheduler', 'app']);
    expect(stdout).toContain('drained');
    expect({ code, signal }).toEqual({ code: 42, signal: null });
  });

  it("with threadsScheduler and no handler of the app's: Node's default, the process ends by the signal", async () => {
    const { code, signal } = await terminateWhenReady(['scheduler', 'none']);
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('an idle threadsScheduler, never closed, lets the process end by itself', async () => {
    const { code, signal, stdout } = await terminateWhenReady(['scheduler', 'idle'], false);
    expect(stdout).toContain('ready');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});
