// A timed-out call that never settles holds its partition key until `cancelGrace` has passed (the
// in-process schedulers cannot stop it). The stage then waits on that grace alone: like every
// other bounded wait of a pipeline (onStart, onEnd), it must keep the process alive until it ends.
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/util.js';

describe('an in-process partitioned stage waiting out cancelGrace', () => {
  it.each(['task', 'sync'] as const)('%s: with nothing else pending, the process waits for the grace and the stage finishes', async (kind) => {
    const { code, stdout } = await runNode(new URL('../fixtures/grace-partition.mjs', import.meta.url), [kind]);
    expect(stdout.trim()).toBe(JSON.stringify([0, 2, 3, 4, 5, 'TaskTimeoutError 1'].sort()));
    expect(code).toBe(0);
  }, 20_000);
});
