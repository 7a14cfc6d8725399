import { describe, expect, it } from 'vitest';
import { runNode } from '../support/util.js';

const script = new URL('../fixtures/exit-script.mjs', import.meta.url);

describe('a process running a pipeline exits by itself', () => {
  for (const scheduler of ['task', 'sync']) {
    for (const how of ['complete', 'error', 'unsubscribe']) {
      it(`after ${how} (${scheduler} scheduler)`, async () => {
        // The test's own timeout is the only bound: a handle left behind shows up as a hang.
        const { code, stdout, stderr } = await runNode(script, [how, scheduler]);
        expect(stderr).toBe('');
        expect(stdout).toContain(`marker: ${how}`);
        expect(code).toBe(0);
      });
    }
  }
});
