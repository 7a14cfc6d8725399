// `npm run bench:quick` as a smoke test: every scenario of the benchmark suite runs, tiny, in a
// child process, and every library it measured returned the right elements. Timing is never
// asserted here: on a shared machine it means nothing at this size.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const exec = promisify(execFile);

interface QuickRow {
  id: string;
  skipped?: string;
  ok: boolean;
  counts: string[];
}

describe('bench:quick', () => {
  it('runs every scenario, and every library returns every element', { timeout: 240_000 }, async () => {
    // npm test has built dist/, which the benchmarks import.
    const { stdout } = await exec(process.execPath, ['bench/run.mjs', '--quick'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    for (const id of ['dispatch', 'cpu', 'memory', 'pipeline', 'startup']) expect(stdout).toContain(`scenario ${id}: ok`);
    const json = stdout.split('\n').find((line) => line.startsWith('@@bench-json '));
    expect(json).toBeDefined();
    const scenarios: { id: string; rows: QuickRow[] }[] = JSON.parse(json!.slice('@@bench-json '.length));
    expect(scenarios.map((s) => s.id)).toEqual(['dispatch', 'cpu', 'memory', 'pipeline', 'startup']);
    for (const scenario of scenarios) {
      const measured = scenario.rows.filter((row) => !row.skipped);
      expect(measured.length, scenario.id).toBeGreaterThan(0);
      for (const row of measured) {
        expect(row.ok, `${scenario.id}/${row.id}`).toBe(true);
        for (const count of row.counts) {
          // "done/expected", or (memory: as many as fit the time budget) "done"
          const [done, expected] = count.split('/').map(Number);
          expect(done, `${scenario.id}/${row.id}`).toBeGreaterThan(0);
          if (expected !== undefined) expect(done, `${scenario.id}/${row.id}`).toBe(expected);
        }
      }
      // Ours is always measured: the task scheduler always is, the others once they exist.
      for (const row of scenario.rows) if (row.skipped) expect(row.skipped).toMatch(/^(thread|process) scheduler not available$/);
    }
  });

  it('bench/entry-load.mjs starts a thread on each form of the worker entry (each says hello)', { timeout: 60_000 }, async () => {
    const { stdout } = await exec(process.execPath, ['bench/entry-load.mjs', '--samples=1'], { cwd: root });
    const lines = stdout.split('\n');
    for (const form of ['bare thread', 'ES modules (node-thread-entry.js)', 'one CommonJS bundle (node-thread-entry.cjs)']) {
      const line = lines.find((l) => l.startsWith(form));
      expect(line, form).toMatch(/: median \d+\.\d ms/);
    }
  });
});
