// examples/distributed/index.mjs, run here as a user would run it: a NATS server, two workers and a
// pipeline, and the figures it prints.
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/util.js';

describe('examples/distributed', () => {
  it('starts a NATS server and two workers, runs the pipeline on both, and prints the figures', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runNode(new URL('../../examples/distributed/index.mjs', import.meta.url));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^2 workers, 4 slots: 20000 lines, 281010 words in \d+ ms \(\d+ lines\/s\)$/);
    const perWorker = lines.slice(1, -1).map((line) => Number(/^ {2}\S+ pid \d+: (\d+) lines$/.exec(line)?.[1]));
    expect(perWorker).toHaveLength(2); // both workers took part
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(20000);
    expect(lines.at(-1)).toBe('in source order: yes');
  });
});
