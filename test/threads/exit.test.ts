// A process that runs thread and process pipelines exits by itself afterwards: no worker thread,
// child process, timer or listener is left behind, whether the pipeline completed, failed or was
// unsubscribed mid-stream, and whether its schedulers were private or shared and never closed.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../fixtures/exit-workers.mjs', import.meta.url));

function runScript(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a process running thread and process pipelines exits by itself', () => {
  const expected: Record<string, string> = { complete: 'complete', error: 'error StageError', unsubscribe: 'unsubscribe 3' };
  for (const pools of ['private', 'shared']) {
    for (const how of ['complete', 'error', 'unsubscribe']) {
      it(`after ${how} (${pools} schedulers)`, async () => {
        // The test's own timeout is the only bound: a handle left behind shows up as a hang.
        const { code, stdout, stderr } = await runScript([how, pools]);
        expect(stderr).toBe('');
        expect(stdout).toContain(`marker: thread ${expected[how]}`);
        expect(stdout).toContain(`marker: process ${expected[how]}`);
        expect(code).toBe(0);
      });
    }
  }
});

describe('a process worker whose parent is gone', () => {
  it('exits quietly: its first message to the dead parent is no crash with a stack trace', async () => {
    const parent = fileURLToPath(new URL('../fixtures/orphan-parent.mjs', import.meta.url));
    // 'close' comes once every holder of the pipes has exited: the parent, then the orphaned child.
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [parent], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});
