// A process that runs thread and process pipelines exits by itself afterwards: no worker thread,
// child process, timer or listener is left behind, whether the pipeline completed, failed or was
// unsubscribed mid-stream, and whether its schedulers were private or shared and never closed.
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/util.js';

const script = new URL('../fixtures/exit-workers.mjs', import.meta.url);

describe('a process running thread and process pipelines exits by itself', () => {
  const expected: Record<string, string> = { complete: 'complete', error: 'error StageError', unsubscribe: 'unsubscribe 3' };
  for (const pools of ['private', 'shared']) {
    for (const how of ['complete', 'error', 'unsubscribe']) {
      it(`after ${how} (${pools} schedulers)`, async () => {
        // The test's own timeout is the only bound: a handle left behind shows up as a hang.
        const { code, stdout, stderr } = await runNode(script, [how, pools]);
        expect(stderr).toBe('');
        expect(stdout).toContain(`marker: thread ${expected[how]}`);
        expect(stdout).toContain(`marker: process ${expected[how]}`);
        expect(code).toBe(0);
      });
    }
  }
});

describe('a process worker whose parent is gone', () => {
  it('is killed as its parent exits, even while blocked in a synchronous call', async () => {
    // Resolves once every holder of the pipes has exited: a child left running holds them for good.
    const { code, stdout } = await runNode(new URL('../fixtures/blocked-child-parent.mjs', import.meta.url));
    expect(stdout.trim()).toBe('started');
    expect(code).toBe(0);
  });

  it('exits quietly: its first message to the dead parent is no crash with a stack trace', async () => {
    // Resolves once every holder of the pipes has exited: the parent, then the orphaned child.
    const { code, stderr } = await runNode(new URL('../fixtures/orphan-parent.mjs', import.meta.url));
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});
